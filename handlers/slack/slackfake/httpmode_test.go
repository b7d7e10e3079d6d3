package slackfake_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// received is a request the app under test got, after verification.
type received struct {
	path    string
	header  http.Header
	body    []byte
	problem string // why verification failed, "" if it passed
	at      time.Time
}

// app is an HTTP-mode Slack app that verifies signatures like a real one.
type app struct {
	t      *testing.T
	secret string
	srv    *httptest.Server
	mu     sync.Mutex
	got    []received
	answer func(path string, body []byte, n int) (int, string) // status and JSON body
}

func startApp(t *testing.T, secret string) *app {
	a := &app{t: t, secret: secret}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *app) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec := received{path: r.URL.Path, header: r.Header.Clone(), body: body, at: time.Now()}
	sv, err := slack.NewSecretsVerifier(r.Header, a.secret)
	if err == nil {
		_, _ = sv.Write(body)
		err = sv.Ensure()
	}
	if err != nil {
		rec.problem = err.Error()
	}
	a.mu.Lock()
	a.got = append(a.got, rec)
	n := len(a.got)
	answer := a.answer
	a.mu.Unlock()
	if err != nil {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var ev struct{ Type, Challenge string }
	if json.Unmarshal(body, &ev) == nil && ev.Type == slackevents.URLVerification {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, ev.Challenge)
		return
	}
	if answer != nil {
		status, out := answer(r.URL.Path, body, n)
		if out != "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, out)
	}
}

func (a *app) requests() []received {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]received(nil), a.got...)
}

func TestHTTPModeSignedDeliveries(t *testing.T) {
	f := mustStart(t)
	a := startApp(t, f.SigningSecret())
	f.SetHTTPEndpoints(a.srv.URL+"/events", a.srv.URL+"/interactive", a.srv.URL+"/commands")

	if err := f.VerifyURL(); err != nil {
		t.Fatalf("VerifyURL: %v", err)
	}

	ts, err := f.Post(alice, general, "hello over HTTP")
	if err != nil {
		t.Fatal(err)
	}
	wait(t, f, "the event's ack", func() bool { return len(f.Acks()) == 1 })
	rec := a.requests()[1]
	if rec.problem != "" || rec.path != "/events" || rec.header.Get("Content-Type") != "application/json" {
		t.Fatalf("event request = %+v", rec)
	}
	ev, err := slackevents.ParseEvent(rec.body, slackevents.OptionNoVerifyToken())
	if err != nil {
		t.Fatal(err)
	}
	if msg, ok := ev.InnerEvent.Data.(*slackevents.MessageEvent); !ok || msg.TimeStamp != ts || msg.User != alice {
		t.Errorf("event = %+v", ev.InnerEvent.Data)
	}
	if ack := f.Acks()[0]; ack.Transport != "http" || ack.Type != "events_api" {
		t.Errorf("ack = %+v", ack)
	}

	t.Run("Interactivity", func(t *testing.T) {
		_, postTS, err := api(f).PostMessage(general, slack.MsgOptionText("card", false),
			slack.MsgOptionBlocks(slack.NewActionBlock("", slack.NewButtonBlockElement("claim", "7", slack.NewTextBlockObject(slack.PlainTextType, "Claim", false, false)))))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Click(bob, general, postTS, "claim"); err != nil {
			t.Fatal(err)
		}
		wait(t, f, "the click", func() bool {
			for _, r := range a.requests() {
				if r.path == "/interactive" {
					return true
				}
			}
			return false
		})
		for _, r := range a.requests() {
			if r.path != "/interactive" {
				continue
			}
			req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(r.body))
			req.Header.Set("Content-Type", r.header.Get("Content-Type"))
			cb, err := slack.InteractionCallbackParse(req)
			if err != nil || r.problem != "" || cb.User.ID != bob || cb.ActionCallback.BlockActions[0].Value != "7" {
				t.Errorf("callback = %+v, %v, %s", cb, err, r.problem)
			}
		}
	})

	t.Run("SlashCommandAnswer", func(t *testing.T) {
		a.mu.Lock()
		a.answer = func(path string, _ []byte, _ int) (int, string) {
			if path == "/commands" {
				return http.StatusOK, `{"text":"Here are your stats"}`
			}
			return http.StatusOK, ""
		}
		a.mu.Unlock()
		if err := f.SlashCommand(alice, general, "/liaison", "stats"); err != nil {
			t.Fatal(err)
		}
		wait(t, f, "the answer", func() bool { e := f.Ephemerals(alice); return len(e) == 1 && e[0].Text == "Here are your stats" })
		for _, r := range a.requests() {
			if r.path != "/commands" {
				continue
			}
			req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(r.body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			cmd, err := slack.SlashCommandParse(req)
			if err != nil || cmd.Command != "/liaison" || cmd.UserID != alice || cmd.TriggerID == "" {
				t.Errorf("command = %+v, %v", cmd, err)
			}
		}
	})

	t.Run("VerifierRefusesForgery", func(t *testing.T) {
		body := []byte(`{"type":"event_callback"}`)
		res, err := f.ForgedRequest(a.srv.URL+"/events", body, "application/json", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("forged request: status %d, want 401", res.StatusCode)
		}
		res, err = f.SignedRequest(a.srv.URL+"/events", body, "application/json", time.Now().Add(-10*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("stale request: status %d, want 401", res.StatusCode)
		}
		res, err = f.SignedRequest(a.srv.URL+"/events", body, "application/json", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("signed request: status %d, want 200", res.StatusCode)
		}
	})
}

func TestHTTPModeRetries(t *testing.T) {
	f := mustStart(t)
	a := startApp(t, f.SigningSecret())
	a.answer = func(path string, _ []byte, n int) (int, string) {
		switch n {
		case 1:
			return http.StatusInternalServerError, ""
		case 2:
			time.Sleep(500 * time.Millisecond) // past the 300 ms AckTimeout of the tests
		}
		return http.StatusOK, ""
	}
	f.SetHTTPEndpoints(a.srv.URL+"/events", "", "")
	if _, err := f.Post(alice, general, "retry me"); err != nil {
		t.Fatal(err)
	}
	wait(t, f, "the ack", func() bool { return len(f.Acks()) == 1 })
	got := a.requests()
	if len(got) != 3 {
		t.Fatalf("%d requests, want 3", len(got))
	}
	want := []struct{ num, reason string }{{"", ""}, {"1", "http_error"}, {"2", "http_timeout"}}
	var ids []string
	for i, r := range got {
		if r.header.Get("X-Slack-Retry-Num") != want[i].num || r.header.Get("X-Slack-Retry-Reason") != want[i].reason {
			t.Errorf("request %d: retry headers %q %q, want %+v", i, r.header.Get("X-Slack-Retry-Num"), r.header.Get("X-Slack-Retry-Reason"), want[i])
		}
		var ev struct {
			EventID string `json:"event_id"`
		}
		_ = json.Unmarshal(r.body, &ev)
		ids = append(ids, ev.EventID)
	}
	if ids[0] == "" || ids[0] != ids[1] || ids[1] != ids[2] {
		t.Errorf("event ids %v: a retry carries the same event_id", ids)
	}
	if d := f.Deliveries()[0]; d.Attempts != 3 || !d.Acked {
		t.Errorf("delivery = %+v", d)
	}
}
