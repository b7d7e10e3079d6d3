package discord

import (
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/liaison-bot/liaison/bot"
)

// Discord's documented limits (https://discord.com/developers/docs/topics/rate-limits).
const (
	// postEvery: creating messages is limited per channel, 5 per 5 s in
	// fixed windows; one a second stays within any window.
	postEvery = time.Second
	// globalEvery: a bot makes at most 50 requests a second.
	globalEvery = 20 * time.Millisecond
	// invalidWindow: Discord blocks the IP for an hour after 10,000
	// invalid requests (401, 403, 429) within it.
	invalidWindow = 10 * time.Minute
	// invalidWarn is the count within invalidWindow past which Liaison
	// warns: half the ban's, which it should never get near.
	invalidWarn = 5000
)

// paceOf is the pace the worker schedules a bot's calls at: posts one a
// second per channel, every call within the global 50 a second.
func paceOf() bot.Limits {
	return bot.Limits{
		Post:   bot.Limit{Every: postEvery, Burst: 1},
		Global: bot.Limit{Every: globalEvery, Burst: 1},
	}
}

// Limits are the pace the worker schedules this bot's calls at.
func (c *Conn) Limits() bot.Limits { return paceOf() }

// rateWatch is the HTTP transport of the session's REST calls. It reads
// Discord's rate-limit headers on every answer and tells the Pacer what they
// mean for the worker's buckets, so that the next call waits for its slot
// instead of meeting a 429:
//
//   - an answer of a message-creating route (POST /channels/{id}/messages,
//     a webhook execution) with X-RateLimit-Remaining 0 holds the channel's
//     bucket until X-RateLimit-Reset-After; a 429 holds it at least for its
//     Retry-After. A webhook's posts count for the channel it belongs to,
//     and for the thread it posted in (?thread_id=); a bot message in a
//     thread counts for the thread and for its parent, the channel the
//     worker paces a card's discussion by.
//   - a global 429 (X-RateLimit-Global, X-RateLimit-Scope: global) holds
//     the whole connection for Retry-After.
//
// Discord names each limit with X-RateLimit-Bucket, one hash for every route
// that shares it, counted per top-level resource (channel, guild, webhook).
// rateWatch keeps each route's hash: a route answering with the hash of a
// message-creating route, on a channel or a webhook, speaks for that
// channel's posts and holds them alike.
//
// It also counts the requests Discord counts toward its IP ban (401, 403,
// and 429 but those of X-RateLimit-Scope: shared) over a sliding ten
// minutes, and warns once the count passes invalidWarn.
//
// discordgo's RateLimiter still runs below the worker: it waits when a
// route's Remaining reaches 0, which the holds make rare.
type rateWatch struct {
	conn   string
	base   http.RoundTripper
	pacer  *bot.Pacer // nil: nothing to hold
	limits bot.Limits
	log    *slog.Logger
	now    func() time.Time

	mu      sync.Mutex
	routes  map[string]string // route ("POST /channels/{id}/messages") → its X-RateLimit-Bucket
	posting map[string]bool   // the X-RateLimit-Bucket of message-creating routes
	hooks   map[string]string // webhook id → the channel it posts in
	parents map[string]string // thread id → its parent channel
	invalid invalidCount
	warnAt  int  // invalidWarn; tests lower it
	warned  bool // the count passed warnAt and has not fallen back since
}

func newRateWatch(conn string, pacer *bot.Pacer, limits bot.Limits, log *slog.Logger) *rateWatch {
	return &rateWatch{
		conn: conn, pacer: pacer, limits: limits, log: log, now: time.Now,
		routes: map[string]string{}, posting: map[string]bool{},
		hooks: map[string]string{}, parents: map[string]string{},
		warnAt: invalidWarn,
	}
}

// wrap returns a copy of cl whose requests go through w.
func (w *rateWatch) wrap(cl *http.Client) *http.Client {
	if cl == nil {
		cl = &http.Client{Timeout: 20 * time.Second} // discordgo's default
	}
	out := *cl
	w.base = out.Transport
	if w.base == nil {
		w.base = http.DefaultTransport
	}
	out.Transport = w
	return &out
}

// webhook records the channel a webhook posts in.
func (w *rateWatch) webhook(id, channel string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.hooks[id] = channel
}

// thread records a thread's parent channel.
func (w *rateWatch) thread(id, parent string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.parents[id] = parent
}

func (w *rateWatch) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := w.base.RoundTrip(r)
	if err != nil {
		return resp, err
	}
	w.observe(r.Method, r.URL, resp.StatusCode, resp.Header)
	return resp, nil
}

// observe reads one answer's headers.
func (w *rateWatch) observe(method string, u *url.URL, status int, h http.Header) {
	now := w.now()
	scope := strings.ToLower(h.Get("X-RateLimit-Scope"))
	rt := routeOf(method, u.Path)
	if status == http.StatusUnauthorized || status == http.StatusForbidden ||
		(status == http.StatusTooManyRequests && scope != "shared") {
		w.countInvalid(now, rt.key, status)
	}
	if w.pacer != nil {
		now = w.pacer.Now() // holds are in the pacer's time, the domain's
	}
	if status == http.StatusTooManyRequests && (scope == "global" || strings.EqualFold(h.Get("X-RateLimit-Global"), "true")) {
		d, ok := seconds(h.Get("Retry-After"))
		if !ok {
			d = time.Second
		}
		if w.pacer != nil {
			w.pacer.Hold(bot.GlobalBucket(w.conn), now.Add(d), w.limits.Global)
		}
		return
	}
	until, spent := exhausted(status, h, now)
	w.mu.Lock()
	posting := w.learn(rt, h.Get("X-RateLimit-Bucket"))
	var channels []string
	if spent && posting {
		channels = w.channelsOf(rt, u.Query())
	}
	w.mu.Unlock()
	if w.pacer == nil {
		return
	}
	for _, ch := range channels {
		w.pacer.Hold(bot.ChannelBucket(w.conn, ch), until, w.limits.Post)
	}
}

// learn records the bucket Discord named for rt's route, and reports
// whether rt's limit is one of message creation: the route creates
// messages, or Discord says it shares a bucket with one that does. Callers
// hold w.mu.
func (w *rateWatch) learn(rt route, bucket string) bool {
	if bucket != "" {
		w.routes[rt.key] = bucket
	} else {
		bucket = w.routes[rt.key]
	}
	if createsMessage(rt.key) {
		if bucket != "" {
			w.posting[bucket] = true
		}
		return true
	}
	return bucket != "" && w.posting[bucket]
}

// channelsOf lists the channels whose posts rt's resource limits. Callers
// hold w.mu.
func (w *rateWatch) channelsOf(rt route, q url.Values) []string {
	var out []string
	switch rt.kind {
	case "channels":
		out = append(out, rt.id)
		if p := w.parents[rt.id]; p != "" {
			out = append(out, p)
		}
	case "webhooks":
		if ch := w.hooks[rt.id]; ch != "" {
			out = append(out, ch)
		}
		if th := q.Get("thread_id"); th != "" {
			out = append(out, th)
		}
	}
	return out
}

// countInvalid counts one invalid request and warns when the count within
// invalidWindow passes w.warnAt, once until it falls back.
func (w *rateWatch) countInvalid(now time.Time, route string, status int) {
	w.mu.Lock()
	n := w.invalid.add(now)
	warn := n > w.warnAt && !w.warned
	w.warned = n > w.warnAt
	w.mu.Unlock()
	if warn {
		w.log.Warn("Discord refused many requests (401, 403, 429): at 10,000 in 10 minutes it blocks this IP for an hour",
			"invalid_requests", n, "window", invalidWindow, "last_route", route, "last_status", status)
	}
}

// invalidCount counts events over a sliding invalidWindow, in one-second
// slots.
type invalidCount struct {
	slots [int(invalidWindow / time.Second)]struct {
		sec int64
		n   int
	}
}

// add counts one event at now and returns the count within the window.
func (c *invalidCount) add(now time.Time) int {
	sec, size := now.Unix(), int64(len(c.slots))
	s := &c.slots[(sec%size+size)%size]
	if s.sec != sec {
		s.sec, s.n = sec, 0
	}
	s.n++
	total := 0
	for _, s := range c.slots {
		if sec-s.sec < size {
			total += s.n
		}
	}
	return total
}

// route is a request's route, as Discord limits it.
type route struct {
	key      string // "POST /channels/{id}/messages": ids as {id}, a webhook's token as {token}
	kind, id string // its top-level resource: "channels", "guilds" or "webhooks", and its id
}

// routeOf names the route of a request to path, with or without the
// /api/vN prefix.
func routeOf(method, path string) route {
	if i := strings.Index(path, "/api/v"); i >= 0 {
		path = path[i+len("/api/v"):]
		if j := strings.IndexByte(path, '/'); j >= 0 {
			path = path[j:]
		} else {
			path = ""
		}
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var rt route
	if len(segs) >= 2 {
		switch segs[0] {
		case "channels", "guilds", "webhooks":
			rt.kind, rt.id = segs[0], segs[1]
		}
	}
	for i, s := range segs {
		switch {
		case i == 2 && segs[0] == "webhooks":
			segs[i] = "{token}"
		case isSnowflake(s):
			segs[i] = "{id}"
		}
	}
	rt.key = strings.ToUpper(method) + " /" + strings.Join(segs, "/")
	return rt
}

// createsMessage reports whether a route posts a message: as the bot, or
// through a webhook.
func createsMessage(key string) bool {
	return key == "POST /channels/{id}/messages" || key == "POST /webhooks/{id}/{token}"
}

func isSnowflake(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// exhausted reports until when an answer says its limit is spent: at
// Remaining 0, its Reset-After; at a 429, its Retry-After if later.
func exhausted(status int, h http.Header, now time.Time) (time.Time, bool) {
	var until time.Time
	if n, err := strconv.Atoi(h.Get("X-RateLimit-Remaining")); err == nil && n <= 0 {
		if d, ok := seconds(h.Get("X-RateLimit-Reset-After")); ok {
			until = now.Add(d)
		}
	}
	if status == http.StatusTooManyRequests {
		if d, ok := seconds(h.Get("Retry-After")); ok && now.Add(d).After(until) {
			until = now.Add(d)
		}
	}
	return until, until.After(now)
}

// seconds reads a header's seconds ("1", "0.250").
func seconds(v string) (time.Duration, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f < 0 || f > 24*3600 {
		return 0, false
	}
	return time.Duration(f * float64(time.Second)), true
}
