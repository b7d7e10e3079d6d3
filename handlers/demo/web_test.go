package demo

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
)

// fakesOnly is the demo's world without Liaison: enough for the page and
// the visitor's actions, which only ever talk to the fakes.
func fakesOnly(t *testing.T) *world {
	t.Helper()
	w := &world{base: "http://127.0.0.1:8080"}
	var err error
	if w.slack, err = slackfake.New(slackOptions()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.slack.Close)
	if w.discord, err = discordfake.New(discordOptions()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.discord.Close)
	return w
}

func TestPerform(t *testing.T) {
	w := fakesOnly(t)
	mia := func(a action) action { a.As = miaID; return a }
	q, err := w.discord.Post(miaID, helpChannel, "my question")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("OK", func(t *testing.T) {
		if _, err := w.perform(mia(action{Do: "post", Channel: helpChannel, Message: q.ID, Text: "a reply"})); err != nil {
			t.Fatal(err)
		}
		ms := w.discord.Messages(helpChannel)
		if got := ms[len(ms)-1]; got.MessageReference == nil || got.MessageReference.MessageID != q.ID {
			t.Errorf("the reply does not reference the question: %+v", got)
		}
		id, err := w.perform(mia(action{Do: "open_post", Title: "Idea", Text: "dark mode"}))
		if err != nil || id == "" {
			t.Fatalf("open_post = %q, %v", id, err)
		}
		if _, err := w.perform(mia(action{Do: "reply_post", Thread: id, Text: "please"})); err != nil {
			t.Fatal(err)
		}
		if n := len(w.discord.Messages(id)); n != 2 {
			t.Errorf("%d messages in the post, want 2", n)
		}
		if _, err := w.perform(mia(action{Do: "edit", Channel: helpChannel, Message: q.ID, Text: "my better question"})); err != nil {
			t.Fatal(err)
		}
		if m, _ := w.discord.MessageByID(q.ID); !m.Edited || m.Content != "my better question" {
			t.Errorf("after the edit: %+v", m)
		}
		if _, err := w.perform(action{As: bobID, Do: "post", Channel: supportChannel, Text: "/liaison promote @alice"}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.perform(action{As: aliceID, Do: "post", Channel: supportChannel, Text: "hi @bob <3"}); err != nil {
			t.Fatal(err)
		}
		ms2 := w.slack.Messages(supportChannel)
		if got := ms2[len(ms2)-1].Text; got != "hi <@U0BOB|bob> &lt;3" {
			t.Errorf("Alice's message reached Slack as %q", got)
		}
	})

	gone, err := w.discord.Send(miaID, helpChannel, discordfake.PostParams{Content: "mine"})
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		a    action
		want string
	}{
		"ErrNobody":         {action{Do: "post", Channel: helpChannel, Text: "x"}, "pick who you are"},
		"ErrEmpty":          {mia(action{Do: "post", Channel: helpChannel, Text: "  "}), "write something"},
		"ErrForumPost":      {mia(action{Do: "post", Channel: forumChannel, Text: "x"}), "open a post"},
		"ErrNoTitle":        {mia(action{Do: "open_post", Text: "x"}), "title"},
		"ErrStaffOnDiscord": {action{As: aliceID, Do: "open_post", Title: "t", Text: "x"}, "cannot"},
		"ErrMiaOnSlack":     {mia(action{Do: "click", Channel: productChannel}), "cannot"},
		"ErrOtherCommand":   {action{As: bobID, Do: "post", Channel: supportChannel, Text: "/giphy cat"}, "only command"},
		"ErrUnknownMessage": {mia(action{Do: "delete", Channel: helpChannel, Message: "1"}), "her own"},
		"ErrDeleted": {func() action {
			_ = w.discord.Delete(helpChannel, gone.ID)
			return mia(action{Do: "edit", Channel: helpChannel, Message: gone.ID, Text: "x"})
		}(), "her own"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := w.perform(c.a)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("perform(%+v) = %v, want an error about %q", c.a, err, c.want)
			}
		})
	}
}

func TestPage(t *testing.T) {
	w := fakesOnly(t)
	w.dashboard = "demo-dashboard-token-0123456789"
	dashboard := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Security-Policy", "default-src 'self'")
		fmt.Fprintf(rw, "dashboard %s %s", r.Method, r.URL.RequestURI())
	})
	p := newPage(w, dashboard)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.hub.run(ctx, w); close(done) }()
	srv := httptest.NewUnstartedServer(p)
	srv.Config.BaseContext = func(net.Listener) context.Context { return ctx }
	srv.Start()
	t.Cleanup(func() {
		cancel()
		<-done
		srv.Close()
	})

	get := func(path string) (*http.Response, string) {
		t.Helper()
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	if res, body := get("/"); res.StatusCode != 200 || !strings.Contains(body, "<title>Liaison demo</title>") {
		t.Errorf("GET / = %d %.80q", res.StatusCode, body)
	}
	for _, f := range []string{"/app.js", "/style.css"} {
		if res, _ := get(f); res.StatusCode != 200 {
			t.Errorf("GET %s = %d", f, res.StatusCode)
		}
	}
	if res, body := get("/avatars/alice.svg"); res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(body, ">A<") {
		t.Errorf("GET /avatars/alice.svg = %d %s %.80q", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	if res, _ := get("/avatars/mallory.svg"); res.StatusCode != 404 {
		t.Errorf("GET /avatars/mallory.svg = %d, want 404", res.StatusCode)
	}
	// The page shows Liaison's dashboard, with its own headers, and a link
	// that signs in to it.
	for _, path := range []string{"/dashboard", "/dashboard?days=7", "/dashboard/data.json"} {
		if res, body := get(path); body != "dashboard GET "+path || res.Header.Get("Content-Security-Policy") != "default-src 'self'" {
			t.Errorf("GET %s = %q, CSP %q; want the dashboard's answer", path, body, res.Header.Get("Content-Security-Policy"))
		}
	}
	pres, err := http.Post(srv.URL+"/dashboard/sign-in", "application/x-www-form-urlencoded", strings.NewReader("token=x"))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(pres.Body); string(b) != "dashboard POST /dashboard/sign-in" {
		t.Errorf("POST /dashboard/sign-in = %q, want the dashboard's answer", b)
	}
	pres.Body.Close()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	rres, err := noRedirect.Get(srv.URL + "/open-dashboard")
	if err != nil {
		t.Fatal(err)
	}
	rres.Body.Close()
	if loc := rres.Header.Get("Location"); rres.StatusCode != http.StatusSeeOther || loc != "/dashboard?token=demo-dashboard-token-0123456789" {
		t.Errorf("GET /open-dashboard = %d to %q, want 303 to the dashboard with the demo's token", rres.StatusCode, loc)
	}

	// The event stream sends the state at once, then again after a change.
	res, err := http.Get(srv.URL + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	events := bufio.NewScanner(res.Body)
	events.Buffer(nil, 1<<20)
	next := func() State {
		t.Helper()
		for events.Scan() {
			if data, ok := strings.CutPrefix(events.Text(), "data: "); ok {
				var st State
				if err := json.Unmarshal([]byte(data), &st); err != nil {
					t.Fatal(err)
				}
				return st
			}
		}
		t.Fatalf("the event stream ended: %v", events.Err())
		return State{}
	}
	if st := next(); len(st.People) != 4 || len(st.Discord.Channels) != 2 || len(st.Slack.Channels) != 2 {
		t.Fatalf("first state: %+v", st)
	}
	body := `{"as":"` + miaID + `","do":"open_post","title":"Dark mode?","text":"Please **please** add it"}`
	ares, err := http.Post(srv.URL+"/api/act", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ ID, Error string }
	_ = json.NewDecoder(ares.Body).Decode(&out)
	ares.Body.Close()
	if ares.StatusCode != 200 || out.ID == "" {
		t.Fatalf("POST /api/act = %d %+v", ares.StatusCode, out)
	}
	deadline := time.After(10 * time.Second)
	for {
		st := next()
		if posts := st.Discord.Channels[1].Posts; len(posts) == 1 {
			if posts[0].ID != out.ID || posts[0].Title != "Dark mode?" || !strings.Contains(posts[0].Messages[0].HTML, "<b>please</b>") {
				t.Errorf("the new post: %+v", posts[0])
			}
			break
		}
		select {
		case <-deadline:
			t.Fatal("the new post never reached the event stream")
		default:
		}
	}

	ares, err = http.Post(srv.URL+"/api/act", "application/json", strings.NewReader(`{"as":"nobody","do":"post"}`))
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(ares.Body).Decode(&out)
	ares.Body.Close()
	if ares.StatusCode != 400 || !strings.Contains(out.Error, "pick who you are") {
		t.Errorf("a bad action answered %d %+v", ares.StatusCode, out)
	}
}

func TestRunAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = Run(context.Background(), Options{Addr: ln.Addr().String()})
	if err == nil || !strings.Contains(err.Error(), "--addr") {
		t.Errorf("Run on a busy address = %v, want an error that suggests --addr", err)
	}
}
