package discord

import (
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
)

func TestRouteOf(t *testing.T) {
	for _, tc := range []struct {
		method, path string
		want         route
	}{
		{"POST", "/api/v9/channels/123/messages", route{"POST /channels/{id}/messages", "channels", "123"}},
		{"post", "/channels/123/messages", route{"POST /channels/{id}/messages", "channels", "123"}},
		{"POST", "/discord/api/v10/webhooks/55/tok-EN_1", route{"POST /webhooks/{id}/{token}", "webhooks", "55"}},
		{"PATCH", "/api/v9/webhooks/55/tok/messages/77", route{"PATCH /webhooks/{id}/{token}/messages/{id}", "webhooks", "55"}},
		{"POST", "/api/v9/channels/1/messages/2/threads", route{"POST /channels/{id}/messages/{id}/threads", "channels", "1"}},
		{"GET", "/api/v9/guilds/9/members", route{"GET /guilds/{id}/members", "guilds", "9"}},
		{"GET", "/api/v9/users/@me", route{"GET /users/@me", "", ""}},
		{"GET", "/api/v9/gateway", route{"GET /gateway", "", ""}},
	} {
		if got := routeOf(tc.method, tc.path); got != tc.want {
			t.Errorf("routeOf(%s %s) = %+v, want %+v", tc.method, tc.path, got, tc.want)
		}
	}
}

// watchAt is a rateWatch whose clock stands at now, with a pacer on it.
func watchAt(now time.Time) (*rateWatch, *bot.Pacer) {
	p := bot.NewPacer(func() time.Time { return now })
	w := newRateWatch("c", p, paceOf(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	w.now = func() time.Time { return now }
	return w, p
}

func answer(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func heldChannels(p *bot.Pacer) []string {
	l := paceOf()
	ch, _, _ := p.Busy("c", l.Post, l.Global)
	slices.Sort(ch)
	return ch
}

// TestWatchHolds: which answers hold which of the worker's buckets.
func TestWatchHolds(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	spent := []string{"X-RateLimit-Remaining", "0", "X-RateLimit-Reset-After", "1.250", "X-RateLimit-Bucket", "posts"}
	for _, tc := range []struct {
		name   string
		setup  func(w *rateWatch)
		method string
		url    string
		status int
		header []string
		want   []string
	}{
		{name: "PostsLeft", method: "POST", url: "/api/v9/channels/1/messages", status: 200,
			header: []string{"X-RateLimit-Remaining", "3", "X-RateLimit-Reset-After", "1", "X-RateLimit-Bucket", "posts"}},
		{name: "PostsSpent", method: "POST", url: "/api/v9/channels/1/messages", status: 200, header: spent, want: []string{"1"}},
		{name: "OtherRouteSpent", method: "PATCH", url: "/api/v9/channels/1/messages/5", status: 200,
			header: []string{"X-RateLimit-Remaining", "0", "X-RateLimit-Reset-After", "1", "X-RateLimit-Bucket", "edits"}},
		{name: "SharedBucketSpent", // Discord says the route shares the posts' limit
			setup: func(w *rateWatch) {
				w.observe("POST", mustURL("/api/v9/channels/1/messages"), 200, answer("X-RateLimit-Remaining", "4", "X-RateLimit-Reset-After", "1", "X-RateLimit-Bucket", "posts"))
			},
			method: "POST", url: "/api/v9/channels/2/messages/5/crosspost", status: 200, header: spent, want: []string{"2"}},
		{name: "ThreadSpent", setup: func(w *rateWatch) { w.thread("7", "1") },
			method: "POST", url: "/api/v9/channels/7/messages", status: 200, header: spent, want: []string{"1", "7"}},
		{name: "WebhookSpent", setup: func(w *rateWatch) { w.webhook("55", "1") },
			method: "POST", url: "/api/v9/webhooks/55/tok?wait=true&thread_id=7", status: 200, header: spent, want: []string{"1", "7"}},
		{name: "Route429", method: "POST", url: "/api/v9/channels/1/messages", status: 429,
			header: []string{"Retry-After", "2", "X-RateLimit-Scope", "user"}, want: []string{"1"}},
		{name: "Shared429", method: "POST", url: "/api/v9/channels/1/messages", status: 429,
			header: []string{"Retry-After", "3", "X-RateLimit-Scope", "shared"}, want: []string{"1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, p := watchAt(now)
			if tc.setup != nil {
				tc.setup(w)
			}
			w.observe(tc.method, mustURL(tc.url), tc.status, answer(tc.header...))
			if got := heldChannels(p); !slices.Equal(got, tc.want) {
				t.Errorf("held %v, want %v", got, tc.want)
			}
		})
	}

	t.Run("Until", func(t *testing.T) {
		w, p := watchAt(now)
		w.observe("POST", mustURL("/channels/1/messages"), 200, answer(spent...))
		if got, want := p.Next(bot.ChannelBucket("c", "1"), paceOf().Post), now.Add(1250*time.Millisecond); !got.Equal(want) {
			t.Errorf("held until %v, want %v", got, want)
		}
		w.observe("POST", mustURL("/channels/2/messages"), 429, answer("Retry-After", "2", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset-After", "0.5"))
		if got, want := p.Next(bot.ChannelBucket("c", "2"), paceOf().Post), now.Add(2*time.Second); !got.Equal(want) {
			t.Errorf("429 held until %v, want its Retry-After, %v", got, want)
		}
	})
	t.Run("Global", func(t *testing.T) {
		w, p := watchAt(now)
		w.observe("POST", mustURL("/channels/1/messages"), 429, answer("Retry-After", "3", "X-RateLimit-Global", "true", "X-RateLimit-Scope", "global"))
		l := paceOf()
		ch, all, free := p.Busy("c", l.Post, l.Global)
		if !all || len(ch) != 0 || !free.Equal(now.Add(3*time.Second)) {
			t.Errorf("Busy = %v, %v, %v; want the connection held for 3s, no channel", ch, all, free)
		}
	})
	t.Run("NoPacer", func(t *testing.T) {
		w := newRateWatch("c", nil, paceOf(), slog.New(slog.NewTextHandler(io.Discard, nil)))
		w.observe("POST", mustURL("/channels/1/messages"), 429, answer("Retry-After", "3", "X-RateLimit-Global", "true"))
		w.observe("POST", mustURL("/channels/1/messages"), 200, answer(spent...))
	})
}

// TestInvalidCount: Discord's ban counts 401, 403 and 429 answers in ten
// minutes, but not 429s of a shared resource limit.
func TestInvalidCount(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	w, _ := watchAt(now)
	count := func() int {
		w.mu.Lock()
		defer w.mu.Unlock()
		total := 0
		for _, s := range w.invalid.slots {
			if now.Unix()-s.sec < int64(len(w.invalid.slots)) {
				total += s.n
			}
		}
		return total
	}
	u := mustURL("/channels/1/messages")
	w.observe("POST", u, 401, nil)
	w.observe("POST", u, 403, nil)
	w.observe("POST", u, 429, answer("X-RateLimit-Scope", "user", "Retry-After", "1"))
	w.observe("POST", u, 429, answer("X-RateLimit-Scope", "global", "X-RateLimit-Global", "true", "Retry-After", "1"))
	w.observe("POST", u, 429, answer("X-RateLimit-Scope", "shared", "Retry-After", "1"))
	w.observe("POST", u, 404, nil)
	w.observe("POST", u, 200, nil)
	if got := count(); got != 4 {
		t.Errorf("counted %d invalid requests, want 4", got)
	}

	// The window slides: what is ten minutes old no longer counts.
	var c invalidCount
	at := now
	for range 3 {
		c.add(at)
	}
	if n := c.add(at.Add(5 * time.Minute)); n != 4 {
		t.Errorf("5 minutes later: %d, want 4", n)
	}
	if n := c.add(at.Add(10 * time.Minute)); n != 2 {
		t.Errorf("10 minutes later: %d, want 2 (the first 3 have left the window)", n)
	}
	if n := c.add(at.Add(20 * time.Minute)); n != 1 {
		t.Errorf("20 minutes later: %d, want 1", n)
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// TestWatchHoldsInThePacersTime: a hold lasts Reset-After on the pacer's
// clock, which is the domain's, whatever the wall clock says (the demo
// replays its history in the past).
func TestWatchHoldsInThePacersTime(t *testing.T) {
	past := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	w, p := watchAt(past)
	w.now = time.Now // the wall, years later
	w.observe("POST", mustURL("/api/v9/channels/1/messages"), 200,
		answer("X-RateLimit-Remaining", "0", "X-RateLimit-Reset-After", "1.250", "X-RateLimit-Bucket", "posts"))
	l := paceOf()
	ch, _, free := p.Busy("c", l.Post, l.Global)
	if !slices.Equal(ch, []string{"1"}) || free.Sub(past) != 1250*time.Millisecond {
		t.Fatalf("held %v until %v after the pacer's now, want [1] for 1.25s", ch, free.Sub(past))
	}
}
