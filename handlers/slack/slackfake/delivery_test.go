package slackfake_test

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack/socketmode"

	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
)

// TestSocketModeSpreadsEnvelopesOverSockets: an app's replicas each open a
// socket with the same app token; each envelope goes to one of them, and
// every socket gets its share.
func TestSocketModeSpreadsEnvelopesOverSockets(t *testing.T) {
	f := mustStart(t)
	sockets := []*socket{mustConnect(t, f), mustConnect(t, f), mustConnect(t, f)}
	var (
		mu  sync.Mutex
		got = map[int][]string{} // socket index → texts received
	)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i, s := range sockets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case ev := <-s.Events:
					if ev.Type != socketmode.EventTypeEventsAPI {
						continue
					}
					s.Ack(*ev.Request)
					mu.Lock()
					got[i] = append(got[i], messageEvent(t, ev).Text)
					mu.Unlock()
				case <-stop:
					return
				}
			}
		}()
	}
	const n = 9
	for i := range n {
		if _, err := f.Post(alice, general, fmt.Sprintf("message %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	wait(t, f, "every ack", func() bool { return len(f.Acks()) == n })
	close(stop)
	wg.Wait()

	var all []string
	for i := range sockets {
		if len(got[i]) == 0 {
			t.Errorf("socket %d got no envelope: %v", i, got)
		}
		all = append(all, got[i]...)
	}
	slices.Sort(all)
	if len(all) != n || len(slices.Compact(slices.Clone(all))) != n {
		t.Errorf("messages received %v, want each of %d once", all, n)
	}
	for _, d := range f.Deliveries() {
		if d.Attempts != 1 || len(d.Sockets) != 1 || !d.Acked {
			t.Errorf("delivery = %+v, want one attempt on one socket, acked", d)
		}
	}
}

// TestSocketModeRetriesAfterSlacksDelays: an envelope nobody acknowledges
// is sent again at once, then after the configured waits; by default the
// waits are Slack's minutes, so a third attempt does not come soon.
func TestSocketModeRetriesAfterSlacksDelays(t *testing.T) {
	t.Run("Configured", func(t *testing.T) {
		const pause = 400 * time.Millisecond
		f := mustStart(t, func(o *slackfake.Options) {
			o.AckTimeout = 100 * time.Millisecond
			o.RetryDelays = []time.Duration{0, pause, pause}
		})
		s := mustConnect(t, f)
		if _, err := f.Post(alice, general, "anyone?"); err != nil {
			t.Fatal(err)
		}
		var at []time.Time
		for attempt := range 4 {
			ev := s.next(socketmode.EventTypeEventsAPI)
			at = append(at, time.Now())
			if ev.Request.RetryAttempt != attempt || (attempt > 0 && ev.Request.RetryReason != "timeout") {
				t.Fatalf("attempt %d: retry_attempt %d, retry_reason %q", attempt, ev.Request.RetryAttempt, ev.Request.RetryReason)
			}
		}
		for i := 2; i < 4; i++ {
			if gap := at[i].Sub(at[i-1]); gap < pause {
				t.Errorf("retry %d came %s after the attempt before, want at least %s", i, gap, pause)
			}
		}
		wait(t, f, "Slack to give up", func() bool { return f.Deliveries()[0].Failed })
	})
	t.Run("Default", func(t *testing.T) {
		f := mustStart(t, func(o *slackfake.Options) {
			o.AckTimeout = 100 * time.Millisecond
			o.RetryDelays = nil
		})
		s := mustConnect(t, f)
		if _, err := f.Post(alice, general, "anyone?"); err != nil {
			t.Fatal(err)
		}
		s.next(socketmode.EventTypeEventsAPI)
		if ev := s.next(socketmode.EventTypeEventsAPI); ev.Request.RetryAttempt != 1 {
			t.Fatalf("retry_attempt %d, want the first retry at once", ev.Request.RetryAttempt)
		}
		select {
		case ev := <-s.Events:
			if ev.Type == socketmode.EventTypeEventsAPI {
				t.Fatalf("retry %d within a second, want the second after a minute", ev.Request.RetryAttempt)
			}
		case <-time.After(time.Second):
		}
		if d := f.Deliveries()[0]; d.Attempts != 2 || d.Failed {
			t.Errorf("delivery = %+v", d)
		}
	})
}

// TestSocketModeInteractionNotRetried: a click not acknowledged in time is
// not sent again; Slack showed the person an error, and an ack after that
// changes nothing.
func TestSocketModeInteractionNotRetried(t *testing.T) {
	f := mustStart(t)
	s := mustConnect(t, f)
	if err := f.SlashCommand(alice, general, "/liaison", "stats"); err != nil {
		t.Fatal(err)
	}
	ev := s.next(socketmode.EventTypeSlashCommand)
	wait(t, f, "Slack to give up", func() bool { return f.Deliveries()[0].Failed })
	if d := f.Deliveries()[0]; d.Attempts != 1 || d.Acked {
		t.Errorf("delivery = %+v, want one attempt, never acked", d)
	}
	s.Ack(*ev.Request, map[string]any{"text": "too late"})
	wait(t, f, "the late ack", func() bool { return len(f.Acks()) == 1 })
	if a := f.Acks()[0]; !a.Late {
		t.Errorf("ack = %+v, want it marked late", a)
	}
	if e := f.Ephemerals(alice); len(e) != 0 {
		t.Errorf("a late ack was shown: %+v", e)
	}
}

// TestSocketModeQueuesWhileNoSocket: what happens while no socket is open is
// delivered once one opens.
func TestSocketModeQueuesWhileNoSocket(t *testing.T) {
	f := mustStart(t)
	if _, err := f.Post(alice, general, "before anyone listened"); err != nil {
		t.Fatal(err)
	}
	s := mustConnect(t, f)
	ev := s.next(socketmode.EventTypeEventsAPI)
	if msg := messageEvent(t, ev); msg.Text != "before anyone listened" || ev.Request.RetryAttempt != 0 {
		t.Errorf("first envelope = %+v (retry %d)", msg, ev.Request.RetryAttempt)
	}
}

// TestHTTPModeRetryDelays: an event answered with an error is retried after
// the configured waits, three times, with Slack's headers; then Slack gives
// up.
func TestHTTPModeRetryDelays(t *testing.T) {
	const pause = 300 * time.Millisecond
	f := mustStart(t, func(o *slackfake.Options) { o.RetryDelays = []time.Duration{0, pause} })
	a := startApp(t, f.SigningSecret())
	a.answer = func(string, []byte, int) (int, string) { return http.StatusServiceUnavailable, "" }
	f.SetHTTPEndpoints(a.srv.URL+"/events", "", "")
	if _, err := f.Post(alice, general, "retry me later"); err != nil {
		t.Fatal(err)
	}
	wait(t, f, "Slack to give up", func() bool { return len(f.Deliveries()) == 1 && f.Deliveries()[0].Failed })
	got := a.requests()
	if len(got) != 4 {
		t.Fatalf("%d requests, want 4 (the first and 3 retries)", len(got))
	}
	for i, r := range got {
		num, reason := "", ""
		if i > 0 {
			num, reason = fmt.Sprint(i), "http_error"
		}
		if r.header.Get("X-Slack-Retry-Num") != num || r.header.Get("X-Slack-Retry-Reason") != reason {
			t.Errorf("request %d: retry headers %q %q, want %q %q", i, r.header.Get("X-Slack-Retry-Num"), r.header.Get("X-Slack-Retry-Reason"), num, reason)
		}
		if i >= 2 && r.at.Sub(got[i-1].at) < pause {
			t.Errorf("retry %d came %s after the attempt before, want at least %s", i, r.at.Sub(got[i-1].at), pause)
		}
	}
	if d := f.Deliveries()[0]; d.Acked || d.Attempts != 4 {
		t.Errorf("delivery = %+v", d)
	}
}
