// Package redact keeps credentials out of what Liaison writes down: error
// texts, and through them outbox rows, audit events and the notes posted
// when a publication fails; and log lines (see Handler).
//
// Two ways, each a safety net for the other. By shape: Text recognises a
// token in a Discord webhook or interaction URL, a Slack token, a
// "Bot <token>" or "Bearer <token>", the password of a URL. By value: a
// Secrets set hides the configured credentials and the webhook tokens the
// adapters learn, wherever they appear.
package redact

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Mask replaces a secret value in text, as config.Secret prints itself.
const Mask = "[redacted]"

// hidden replaces the secret part of a URL or path, which keeps its shape:
// /webhooks/<id>/***/messages/<id>.
const hidden = "***"

// MinLen is the shortest value a Secrets set hides: a shorter one could not
// be told from ordinary text, and is no secret anyway.
const MinLen = 4

// shapes are credentials recognised by their form, with what replaces them.
var shapes = []struct {
	re   *regexp.Regexp
	with string
}{
	// Discord webhook and interaction URLs carry their token in the path:
	// /webhooks/{id}/{token}[/messages/…], /interactions/{id}/{token}/callback.
	{regexp.MustCompile(`(/(?:webhooks|interactions)/[^/\s"'?#]+/)[^/\s"'?#\\]+`), "${1}" + hidden},
	// Slack incoming webhooks: hooks.slack.com/services/T…/B…/{secret}.
	{regexp.MustCompile(`(hooks\.slack\.com/services/[^/\s"'?#]+/[^/\s"'?#]+/)[^/\s"'?#\\]+`), "${1}" + hidden},
	// Slack tokens: bot, user, app-level, refresh, configuration.
	{regexp.MustCompile(`\b(xox[abeoprs]|xapp|xoxe\.xox[bp])-[A-Za-z0-9-]+`), "${1}-" + hidden},
	// Authorization values.
	{regexp.MustCompile(`\b(Bot|Bearer) [A-Za-z0-9._~+/=-]{16,}`), "${1} " + Mask},
	// A Discord bot token on its own: base64 user id, timestamp, HMAC.
	{regexp.MustCompile(`\b[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,}\b`), Mask},
	// The password of a URL's user part: scheme://user:password@host.
	{regexp.MustCompile(`(\b[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@"']*:)[^@/\s"']*@`), "${1}" + hidden + "@"},
	// Query parameters and DSN keywords that hold a secret.
	{regexp.MustCompile(`(?i)([?&](?:token|access_token|password|passwd|secret|client_secret|ticket)=)[^&\s"'#]*`), "${1}" + hidden},
	{regexp.MustCompile(`(?i)(\bpassword=)('[^']*'|[^\s&"']*)`), "${1}" + hidden},
}

// Text hides every credential in s it recognises by its shape.
func Text(s string) string {
	for _, sh := range shapes {
		s = sh.re.ReplaceAllString(s, sh.with)
	}
	return s
}

// URL hides the credentials a URL carries: the token in a Discord webhook
// or interaction path, the password of its user part, secret query
// parameters. Anything that is not a URL is treated as text (see Text).
func URL(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), hidden)
			raw = u.String()
		}
	}
	return Text(raw)
}

// URLs rewrites, in place, the URL of every *url.Error in err's chain (net/http
// reports a failed call with the URL it called, token included), so that
// the error and whatever wraps it from now on say no secret. It returns err.
// Wrappers made earlier with fmt.Errorf keep the text they were made with:
// call URLs where the error is made, before wrapping it.
func URLs(err error) error {
	walk(err, func(e error) {
		if ue, ok := e.(*url.Error); ok {
			ue.URL = URL(ue.URL)
		}
	})
	return err
}

// walk calls fn on err and on every error it wraps.
func walk(err error, fn func(error)) {
	for err != nil {
		fn(err)
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e, fn)
			}
			return
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		default:
			return
		}
	}
}

// Error returns err with no credential in its text: the URLs in its chain
// rewritten (see URLs), then what Text recognises and the given secret
// values hidden. The result wraps err, so errors.Is and errors.As see
// through it; err itself is returned when its text was clean.
func Error(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	URLs(err)
	msg := err.Error()
	clean := Text(replaceAll(msg, secrets))
	if clean == msg {
		return err
	}
	return &redacted{msg: clean, err: err}
}

// redacted is an error whose text was cleaned of credentials.
type redacted struct {
	msg string
	err error
}

func (e *redacted) Error() string { return e.msg }
func (e *redacted) Unwrap() error { return e.err }

// replaceAll replaces each of secrets in s by Mask, the longest first (so a
// secret that holds another is hidden whole). Values shorter than MinLen are
// left alone.
func replaceAll(s string, secrets []string) string {
	vals := slices.Clone(secrets)
	slices.SortFunc(vals, func(a, b string) int { return len(b) - len(a) })
	for _, v := range vals {
		if len(v) >= MinLen {
			s = strings.ReplaceAll(s, v, Mask)
		}
	}
	return s
}

// Secrets is a set of secret values to hide wherever they appear. It is safe
// for concurrent use; the zero value is an empty set.
type Secrets struct {
	mu   sync.RWMutex
	vals []string // longest first
}

// NewSecrets returns a set holding vals.
func NewSecrets(vals ...string) *Secrets {
	s := &Secrets{}
	s.Add(vals...)
	return s
}

// Add adds vals to the set; empty values and those shorter than MinLen are
// ignored.
func (s *Secrets) Add(vals ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range vals {
		if len(v) >= MinLen && !slices.Contains(s.vals, v) {
			s.vals = append(s.vals, v)
		}
	}
	slices.SortFunc(s.vals, func(a, b string) int { return len(b) - len(a) })
}

// Hide returns text with every value of the set, and every credential Text
// recognises, hidden.
func (s *Secrets) Hide(text string) string {
	s.mu.RLock()
	for _, v := range s.vals {
		text = strings.ReplaceAll(text, v, Mask)
	}
	s.mu.RUnlock()
	return Text(text)
}
