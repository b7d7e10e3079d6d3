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

// limitRule allows n requests per window.
type limitRule struct {
	n   int
	per time.Duration
}

// window is a fixed rate-limit window.
type window struct {
	count int
	reset time.Time
}

type limiter struct {
	def     limitRule
	routes  map[string]limitRule // normalised route key → rule
	global  *limitRule
	gwin    window
	buckets map[string]*window // route key + top-level resource → window
}

func newLimiter(n int, per time.Duration) *limiter {
	return &limiter{def: limitRule{n, per}, routes: map[string]limitRule{}, buckets: map[string]*window{}}
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
	rule, ok := l.routes[normRoute(routeKey)]
	if !ok {
		rule = l.def
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
// and an /api/v9 prefix do not matter. RouteKeys lists the keys.
func (f *Fake) SetRouteLimit(routeKey string, n int, per time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n <= 0 || per <= 0 {
		delete(f.limits.routes, normRoute(routeKey))
		return
	}
	f.limits.routes[normRoute(routeKey)] = limitRule{n, per}
}

// SetGlobalLimit enables Discord's global limit (50 per second for a real bot) over every
// request except interaction callbacks and webhooks executed by token; n <= 0 disables it.
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
