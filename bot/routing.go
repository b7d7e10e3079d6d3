package bot

import (
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
)

// ApprovalMode decides who must review a draft before it is published.
type ApprovalMode string

const (
	ApprovalRequired    ApprovalMode = "required"     // an approver approves every draft
	ApprovalTrustedAuto ApprovalMode = "trusted-auto" // trusted responders publish directly
	ApprovalNone        ApprovalMode = "none"         // drafts publish at once
)

// Policy is a route's approval policy.
type Policy struct {
	Mode ApprovalMode
	// Approvers are platform user ids or group/role ids on the destination
	// connection.
	Approvers []string
	// Responders, when set, are the only people (user ids or group/role
	// ids on the destination connection) who, with the approvers, may act
	// on the route's items. Empty: anyone who sees the route's cards.
	Responders        []string
	AllowSelfApproval bool
	SLA               time.Duration
	// Hours, when set, make the SLA count business time only.
	Hours *BusinessHours
}

// Waited is how long an item opened at from has waited at to, as the SLA
// counts: business time if the route has business hours, else wall time.
func (p Policy) Waited(from, to time.Time) time.Duration {
	return p.Hours.Elapsed(from, to)
}

// Source is a watched public place.
type Source struct {
	Name     string
	Conn     string
	Channels []string
}

// Route sends matching items to an internal channel under a policy.
type Route struct {
	Name        string
	Sources     []string // source names; empty matches any source
	Keywords    []string // case-insensitive whole words
	Regexps     []*regexp.Regexp
	Tags        []string
	DestConn    string
	DestChannel string
	Policy      Policy
	Default     bool
}

func (r *Route) matches(src *Source, text string) bool {
	if r.Default {
		return false
	}
	if len(r.Sources) > 0 && !slices.Contains(r.Sources, src.Name) {
		return false
	}
	if len(r.Keywords) == 0 && len(r.Regexps) == 0 {
		return true
	}
	words := wordSet(text)
	for _, k := range r.Keywords {
		if containsPhrase(words, text, k) {
			return true
		}
	}
	for _, re := range r.Regexps {
		if re.MatchString(text) {
			return true
		}
	}
	return false
}

// Router matches public messages to routes: the first matching route wins,
// then the default route, if any.
type Router struct {
	sources []Source
	routes  []Route
}

// NewRouter returns a router over sources and routes, in order.
func NewRouter(sources []Source, routes []Route) *Router {
	return &Router{sources: sources, routes: routes}
}

// Source returns the source watching channel on conn (or the thread's
// parent channel).
func (r *Router) Source(conn, channel string) (*Source, bool) {
	for i := range r.sources {
		s := &r.sources[i]
		if s.Conn == conn && slices.Contains(s.Channels, channel) {
			return s, true
		}
	}
	return nil, false
}

// Match returns the route for a message from src, or nil.
func (r *Router) Match(src *Source, text string) *Route {
	var def *Route
	for i := range r.routes {
		rt := &r.routes[i]
		if rt.Default {
			if def == nil && (len(rt.Sources) == 0 || slices.Contains(rt.Sources, src.Name)) {
				def = rt
			}
			continue
		}
		if rt.matches(src, text) {
			return rt
		}
	}
	return def
}

// Route returns the route named name, or nil.
func (r *Router) Route(name string) *Route {
	for i := range r.routes {
		if r.routes[i].Name == name {
			return &r.routes[i]
		}
	}
	return nil
}

// Routes returns every route, in order.
func (r *Router) Routes() []Route { return r.routes }

func wordSet(text string) map[string]bool {
	set := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(text), notWordRune) {
		set[w] = true
	}
	return set
}

func notWordRune(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' }

// containsPhrase matches a keyword as a whole word, or a multi-word keyword
// as a case-insensitive phrase.
func containsPhrase(words map[string]bool, text, keyword string) bool {
	k := strings.ToLower(strings.TrimSpace(keyword))
	if k == "" {
		return false
	}
	if strings.IndexFunc(k, notWordRune) < 0 {
		return words[k]
	}
	return strings.Contains(strings.ToLower(text), k)
}
