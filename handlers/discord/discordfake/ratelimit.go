package discordfake

import (
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// limitRule allows n requests per window; n < 0 means no limit.
type limitRule struct {
	n   int
	per time.Duration
}

// window is a fixed rate-limit window.
type window struct {
	count int
	reset time.Time
}

// Discord's limits, as its documentation states them or, where it gives no figure, as its
// headers show them (sources in doc.go and testdata/SOURCES.md).
const (
	// GlobalLimit requests per second per bot, over every route but interaction callbacks
	// and webhooks executed by token.
	GlobalLimit = 50
	// InvalidRequestLimit answers of 401, 403 or 429 (but 429s of scope "shared") within
	// InvalidRequestWindow get the client blocked for InvalidRequestBlock.
	InvalidRequestLimit  = 10000
	InvalidRequestWindow = 10 * time.Minute
	InvalidRequestBlock  = time.Hour
)

// routeDefaults are the per-route limits that differ from Options.DefaultRouteLimit, counted
// per top-level resource: a channel (a thread is a channel) takes 5 bot messages per 5
// seconds, a webhook 5 executions per 2 seconds whatever the thread they go to.
var routeDefaults = map[string]limitRule{
	normRoute("POST /channels/{channel.id}/messages"):        {5, 5 * time.Second},
	normRoute("POST /webhooks/{webhook.id}/{webhook.token}"): {5, 2 * time.Second},
}

type limiter struct {
	def     limitRule
	routes  map[string]limitRule // normalised route key → rule set by SetRouteLimit
	global  *limitRule
	gwin    window
	buckets map[string]*window // route key + top-level resource → window
}

func newLimiter(n int, per time.Duration) *limiter {
	return &limiter{def: limitRule{n, per}, routes: map[string]limitRule{}, buckets: map[string]*window{}}
}

// rule is the limit of a route: the one SetRouteLimit set, else Discord's, else the default.
func (l *limiter) rule(route string) limitRule {
	if r, ok := l.routes[route]; ok {
		return r
	}
	if r, ok := routeDefaults[route]; ok {
		return r
	}
	return l.def
}

var placeholder = regexp.MustCompile(`\{[^}]*\}`)

// normRoute makes route keys comparable whatever their placeholder names or API prefix:
// "POST /api/v9/webhooks/{id}/{token}" and "POST /webhooks/{webhook.id}/{webhook.token}" are one.
func normRoute(key string) string {
	method, path, ok := strings.Cut(strings.TrimSpace(key), " ")
	if !ok {
		return strings.ToUpper(key)
	}
	path = strings.TrimSpace(path)
	for _, p := range []string{"/api/v9", "/api/v10"} {
		path = strings.TrimPrefix(path, p)
	}
	path = strings.TrimSuffix(path, "/")
	return strings.ToUpper(method) + " " + placeholder.ReplaceAllString(path, "{}")
}

// rlHeaders are the rate-limit headers of one response.
type rlHeaders struct {
	limit      int
	remaining  int
	reset      time.Time
	bucket     string
	retryAfter time.Duration // > 0: the request is refused
	global     bool
}

func bucketID(routeKey string) string {
	h := fnv.New64a()
	h.Write([]byte(normRoute(routeKey)))
	return fmt.Sprintf("%016x", h.Sum64())
}

// take counts one request against the route's bucket (and the global limit unless exempt) and
// returns the headers to send. now is the real clock.
func (l *limiter) take(routeKey, resource string, exemptGlobal bool, now time.Time) rlHeaders {
	if l.global != nil && !exemptGlobal {
		if !now.Before(l.gwin.reset) {
			l.gwin = window{reset: now.Add(l.global.per)}
		}
		if l.gwin.count >= l.global.n {
			return rlHeaders{retryAfter: l.gwin.reset.Sub(now), global: true}
		}
		l.gwin.count++
	}
	rule := l.rule(normRoute(routeKey))
	if rule.n < 0 {
		return rlHeaders{}
	}
	key := normRoute(routeKey) + "|" + resource
	w := l.buckets[key]
	if w == nil {
		w = &window{}
		l.buckets[key] = w
	}
	if !now.Before(w.reset) {
		*w = window{reset: now.Add(rule.per)}
	}
	h := rlHeaders{limit: rule.n, reset: w.reset, bucket: bucketID(routeKey)}
	if w.count >= rule.n {
		h.retryAfter = w.reset.Sub(now)
		return h
	}
	w.count++
	h.remaining = rule.n - w.count
	return h
}

// set writes the headers Discord sends on every response, and on a 429 the ones that go with it.
func (h rlHeaders) set(hdr http.Header, now time.Time) {
	if h.global {
		hdr.Set("Retry-After", strconv.Itoa(int(math.Ceil(h.retryAfter.Seconds()))))
		hdr.Set("X-RateLimit-Global", "true")
		hdr.Set("X-RateLimit-Scope", "global")
		return
	}
	if h.bucket == "" {
		return
	}
	resetAfter := h.reset.Sub(now)
	if resetAfter < 0 {
		resetAfter = 0
	}
	hdr.Set("X-RateLimit-Limit", strconv.Itoa(h.limit))
	hdr.Set("X-RateLimit-Remaining", strconv.Itoa(h.remaining))
	hdr.Set("X-RateLimit-Reset", strconv.FormatFloat(float64(h.reset.UnixMilli())/1000, 'f', 3, 64))
	hdr.Set("X-RateLimit-Reset-After", strconv.FormatFloat(resetAfter.Seconds(), 'f', 3, 64))
	hdr.Set("X-RateLimit-Bucket", h.bucket)
	if h.retryAfter > 0 {
		hdr.Set("Retry-After", strconv.Itoa(int(math.Ceil(h.retryAfter.Seconds()))))
		hdr.Set("X-RateLimit-Scope", "user")
	}
}

// rateLimitedBody is Discord's 429 body; retry_after is in seconds.
func rateLimitedBody(retry time.Duration, global bool) obj {
	return obj{
		"message":     "You are being rate limited.",
		"retry_after": math.Round(retry.Seconds()*1000) / 1000,
		"global":      global,
	}
}

// SetRouteLimit limits a route to n requests per window, per top-level resource (channel, guild
// or webhook), as Discord's per-route buckets. The key is "METHOD /path" with placeholders, e.g.
// "POST /webhooks/{id}/{token}" or "POST /channels/{channel.id}/messages"; placeholder names
// and an /api/v9 prefix do not matter. RouteKeys lists the keys. n == 0 takes the route's own
// limit away (Discord's, or an earlier SetRouteLimit's): Options.DefaultRouteLimit applies to
// it. n < 0 lifts every limit of the route: its answers then carry no rate-limit headers.
func (f *Fake) SetRouteLimit(routeKey string, n int, per time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case n == 0:
		f.limits.routes[normRoute(routeKey)] = f.limits.def
	case n < 0:
		f.limits.routes[normRoute(routeKey)] = limitRule{n: -1}
	case per > 0:
		f.limits.routes[normRoute(routeKey)] = limitRule{n, per}
	}
}

// SetGlobalLimit sets Discord's global limit (GlobalLimit per second by default) over every
// request except interaction callbacks and webhooks executed by token; n <= 0 lifts it.
func (f *Fake) SetGlobalLimit(n int, per time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n <= 0 || per <= 0 {
		f.limits.global = nil
		return
	}
	f.limits.global = &limitRule{n, per}
	f.limits.gwin = window{}
}

// Fault is an error the fake returns instead of serving matching requests.
type Fault struct {
	Method     string // "" matches any method
	PathPrefix string // API path prefix, e.g. "/channels/123/messages" (an /api/v9 prefix is accepted)
	Status     int
	Code       int    // JSON error code; its Discord message is used when Message is ""
	Message    string // optional
	// RetryAfter and Global shape a 429: Discord's rate-limit body and headers. Default 100 ms.
	RetryAfter time.Duration
	Global     bool
	Times      int // how many requests fail; default 1
	// Drop, if set, answers nothing instead of Status: DropHang holds the
	// request until the client gives up (a timeout), DropReset resets the
	// connection. The call is recorded with Dropped set.
	Drop Drop
	// Applied, with Drop, carries the request out before its answer is
	// dropped: the message is posted, edited or deleted, and the client
	// cannot know it.
	Applied bool
}

// Drop is how a faulty request goes unanswered.
type Drop int

const (
	// DropHang never answers: the request waits until the client gives
	// up (its timeout or context) or the fake closes.
	DropHang Drop = iota + 1
	// DropReset closes the connection with a TCP reset once the request is
	// read: the client sees "connection reset by peer".
	DropReset
)

// Inject makes the next matching requests fail. Faults are checked in order, after auth.
func (f *Fake) Inject(ft Fault) {
	if ft.Times <= 0 {
		ft.Times = 1
	}
	for _, p := range []string{"/api/v9", "/api/v10"} {
		ft.PathPrefix = strings.TrimPrefix(ft.PathPrefix, p)
	}
	ft.Method = strings.ToUpper(ft.Method)
	if ft.Status == http.StatusTooManyRequests && ft.RetryAfter <= 0 {
		ft.RetryAfter = 100 * time.Millisecond
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, &ft)
}

// FailNext makes the next request matching method and path prefix fail with status and JSON
// error code. A 429 gets Discord's rate-limit body with retry_after 0.1.
func (f *Fake) FailNext(method, pathPrefix string, status, code int) {
	f.Inject(Fault{Method: method, PathPrefix: pathPrefix, Status: status, Code: code})
}

// takeFault returns and consumes the first fault matching the request. Callers hold f.mu.
func (f *Fake) takeFault(method, apiPath string) *Fault {
	for i, ft := range f.faults {
		if ft.Method != "" && ft.Method != method {
			continue
		}
		if !strings.HasPrefix(apiPath, ft.PathPrefix) {
			continue
		}
		out := *ft
		ft.Times--
		if ft.Times <= 0 {
			f.faults = append(f.faults[:i], f.faults[i+1:]...)
		}
		return &out
	}
	return nil
}

// countInvalidLocked counts an answer Discord counts toward its invalid-request limit, and
// blocks the client once the limit is reached within the window.
func (f *Fake) countInvalidLocked(now time.Time) {
	f.invalid++
	if f.opts.InvalidRequestLimit < 0 {
		return
	}
	cut := now.Add(-f.opts.InvalidRequestWindow)
	i := 0
	for i < len(f.invalidAt) && !f.invalidAt[i].After(cut) {
		i++
	}
	f.invalidAt = append(f.invalidAt[i:], now)
	if len(f.invalidAt) >= f.opts.InvalidRequestLimit {
		f.blockedUntil = now.Add(f.opts.InvalidRequestBlock)
		f.invalidAt = nil
		f.log.Debug("discordfake: too many invalid requests: blocked", "until", f.blockedUntil)
	}
}

// blockedBody is the answer to every request of a blocked client. Discord's block is
// Cloudflare's and is documented only by its cause; this is the JSON clients report meeting,
// with Discord's rate-limit fields so that discordgo can read the wait.
func blockedBody(retry time.Duration) obj {
	return obj{
		"message": "You are being blocked from accessing our API temporarily due to exceeding our rate limits frequently. " +
			"Please read our docs at https://discord.com/developers/docs/topics/rate-limits to prevent this moving forward.",
		"code":        0,
		"retry_after": math.Round(retry.Seconds()*1000) / 1000,
		"global":      true,
	}
}
