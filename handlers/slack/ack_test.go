package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
)

// These tests run the adapter against the Slack fake with a stand-in
// domain, to watch what is acknowledged and when.

const (
	tUser = "U0MEMBER"
	tChan = "C0HELP"
	tWait = 20 * time.Second
)

// stubDomain stands in for the domain: it stores message events once per
// key, in order, and can be made to fail like a database that is down.
type stubDomain struct {
	mu       sync.Mutex
	down     bool          // Receive, Edit and Delete fail
	slow     time.Duration // how long a failing call takes
	calls    int           // Receive, Edit and Delete calls
	seen     map[string]bool
	stored   []string // what was stored, in order: "text" or "edit:text"
	dupes    int      // redeliveries dropped
	interact func(ctx context.Context, req bot.Request) bot.Reply
}

var _ Domain = (*stubDomain)(nil)

func newStubDomain() *stubDomain { return &stubDomain{seen: map[string]bool{}} }

func (d *stubDomain) setDown(down bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.down = down
}

// fail is what a call does while the database is down.
func (d *stubDomain) fail(ctx context.Context) error {
	d.mu.Lock()
	d.calls++
	down, slow := d.down, d.slow
	d.mu.Unlock()
	if !down {
		return nil
	}
	select {
	case <-time.After(slow):
	case <-ctx.Done():
	}
	return errors.New("database is down")
}

func (d *stubDomain) record(key, what string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.seen[key] {
		d.dupes++
		return
	}
	d.seen[key] = true
	d.stored = append(d.stored, what)
}

func (d *stubDomain) Receive(ctx context.Context, in bot.Incoming) (bot.Intake, error) {
	if err := d.fail(ctx); err != nil {
		return "", err
	}
	d.record(in.Channel+"/"+in.ID, in.Text)
	return bot.IntakeNew, nil
}

func (d *stubDomain) Edit(ctx context.Context, key bot.MessageKey, text string, at time.Time) error {
	if err := d.fail(ctx); err != nil {
		return err
	}
	d.record("edit "+key.Channel+"/"+key.ID+"@"+at.String(), "edit:"+text)
	return nil
}

func (d *stubDomain) Delete(ctx context.Context, key bot.MessageKey, at time.Time) error {
	if err := d.fail(ctx); err != nil {
		return err
	}
	d.record("delete "+key.Channel+"/"+key.ID, "delete")
	return nil
}

func (d *stubDomain) HomeOpened(ctx context.Context, actor bot.Actor) error { return d.fail(ctx) }

func (d *stubDomain) Interact(ctx context.Context, req bot.Request) bot.Reply {
	if d.interact != nil {
		return d.interact(ctx, req)
	}
	return bot.Reply{Text: "done"}
}

func (d *stubDomain) Watches(string, string) bool { return true }
func (d *stubDomain) StaffGroups(string) []string { return nil }

func (d *stubDomain) snapshot() (stored []string, dupes, calls int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.stored), d.dupes, d.calls
}

// startFake starts a workspace with one watched channel.
func startFake(t *testing.T, edit func(*slackfake.Options)) *slackfake.Fake {
	t.Helper()
	opts := slackfake.Options{
		Users:        []slackfake.User{{ID: tUser, Name: "mia", RealName: "Mia Lopez"}},
		Channels:     []slackfake.Channel{{ID: tChan, Name: "help", Members: []string{"U0BOT", tUser}}},
		PingInterval: time.Second,
	}
	if edit != nil {
		edit(&opts)
	}
	f, err := slackfake.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f
}

// testLog sends the adapter's logs to the test's.
type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// runConn runs a connection to f named name, in Socket Mode or, with
// httpMode, in HTTP mode behind a test server, until the test ends.
func runConn(t *testing.T, f *slackfake.Fake, d Domain, httpMode bool, edit ...func(*Options)) *Conn {
	t.Helper()
	opts := Options{
		Name: "community", BotToken: f.BotToken(), AppToken: f.AppToken(), SigningSecret: f.SigningSecret(),
		HTTPMode: httpMode, APIURL: f.URL(),
		Log: slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	for _, e := range edit {
		e(&opts)
	}
	c, err := New(opts, d)
	if err != nil {
		t.Fatal(err)
	}
	if httpMode {
		srv := httptest.NewServer(c.Handler())
		t.Cleanup(srv.Close)
		f.SetHTTPEndpoints(srv.URL+"/events", srv.URL+"/interactivity", srv.URL+"/commands")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	waitUntil(t, "the connection healthy", func() bool { return c.Health() == nil })
	return c
}

// waitUntil polls cond until it holds, failing the test after tWait.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(tWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: gave up after %s", what, tWait)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitFake waits until cond holds, checking after every change of f.
func waitFake(t *testing.T, f *slackfake.Fake, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), tWait)
	defer cancel()
	if err := f.WaitFor(ctx, cond); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// eventsDelivered counts the fake's Events API deliveries.
func eventsDelivered(f *slackfake.Fake) []slackfake.Delivery {
	var out []slackfake.Delivery
	for _, d := range f.Deliveries() {
		if d.Type == "events_api" {
			out = append(out, d)
		}
	}
	return out
}

// acked reports whether the fake got an ack (late or not) for envelope id.
func acked(f *slackfake.Fake, id string) bool {
	return slices.ContainsFunc(f.Acks(), func(a slackfake.Ack) bool { return a.EnvelopeID == id })
}

// TestEventsAcknowledgedOnceStored: while the database is down, no message
// event is acknowledged, and none is lost: once it is back, each is stored
// once, in the order Slack sent them, and only then acknowledged — even those
// whose retries Slack had spent meanwhile.
func TestEventsAcknowledgedOnceStored(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"socket", "http"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			httpMode := mode == "http"
			f := startFake(t, func(o *slackfake.Options) {
				o.AckTimeout = 300 * time.Millisecond
				if httpMode {
					o.AckTimeout = 3 * time.Second // the adapter answers within 2.5 s
				}
				o.RetryDelays = []time.Duration{0, 200 * time.Millisecond}
			})
			d := newStubDomain()
			d.down, d.slow = true, 2200*time.Millisecond // slower than a delivery's timeout
			runConn(t, f, d, httpMode)

			one, err := f.Post(tUser, tChan, "one")
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Edit(tChan, one, "one, edited"); err != nil {
				t.Fatal(err)
			}
			if _, err := f.Post(tUser, tChan, "two"); err != nil {
				t.Fatal(err)
			}
			// The database stays down past the point where Slack gives up on
			// the first delivery (socket), or answers it with an error (HTTP).
			waitFake(t, f, "the first delivery failed", func() bool {
				ds := eventsDelivered(f)
				if httpMode {
					return len(ds) > 0 && ds[0].Attempts >= 2
				}
				return len(ds) == 3 && ds[0].Failed
			})
			waitUntil(t, "several tries to store", func() bool { _, _, calls := d.snapshot(); return calls >= 3 })
			if acks := f.Acks(); len(acks) != 0 {
				t.Fatalf("acknowledged while the database is down: %+v", acks)
			}
			if stored, _, _ := d.snapshot(); len(stored) != 0 {
				t.Fatalf("stored while down: %q", stored)
			}

			d.setDown(false)
			want := []string{"one", "edit:one, edited", "two"}
			waitUntil(t, "every event stored", func() bool { stored, _, _ := d.snapshot(); return len(stored) == len(want) })
			if stored, _, _ := d.snapshot(); !slices.Equal(stored, want) {
				t.Errorf("stored %q, want %q in that order", stored, want)
			}
			if !httpMode {
				// Every envelope is acknowledged once stored, even those Slack
				// gave up on (their acks come late and change nothing).
				waitFake(t, f, "every envelope acknowledged", func() bool {
					for _, e := range eventsDelivered(f) {
						if !acked(f, e.EnvelopeID) {
							return false
						}
					}
					return true
				})
			}
			// Nothing is stored twice, whatever Slack sends again.
			time.Sleep(300 * time.Millisecond)
			if stored, _, _ := d.snapshot(); !slices.Equal(stored, want) {
				t.Errorf("stored %q, want %q", stored, want)
			}
		})
	}
}

// TestEventsOfOtherChannelsDoNotWait: a channel whose event cannot be
// stored (the domain keeps failing on it) does not hold back the others.
func TestEventsOfOtherChannelsDoNotWait(t *testing.T) {
	t.Parallel()
	const other = "C0OTHER"
	f := startFake(t, func(o *slackfake.Options) {
		o.Channels = append(o.Channels, slackfake.Channel{ID: other, Name: "other", Members: []string{"U0BOT", tUser}})
		o.AckTimeout = 300 * time.Millisecond
		o.RetryDelays = []time.Duration{0, 200 * time.Millisecond}
	})
	d := &channelDown{stubDomain: newStubDomain(), channel: tChan}
	runConn(t, f, d, false)
	if _, err := f.Post(tUser, tChan, "stuck"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Post(tUser, other, "flows"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the other channel's message", func() bool { stored, _, _ := d.snapshot(); return slices.Contains(stored, "flows") })
	if stored, _, _ := d.snapshot(); slices.Contains(stored, "stuck") {
		t.Errorf("stored %q while its channel fails", stored)
	}
}

// channelDown fails Receive for one channel.
type channelDown struct {
	*stubDomain
	channel string
}

func (d *channelDown) Receive(ctx context.Context, in bot.Incoming) (bot.Intake, error) {
	if in.Channel == d.channel {
		return "", errors.New("cannot store this one")
	}
	return d.stubDomain.Receive(ctx, in)
}

// TestInteractionAcknowledgedAfterCommit: a click or a command is
// acknowledged only once the domain has committed its effect (Interact
// returned); one the domain does not finish within Slack's 3 seconds is
// never acknowledged, and the domain's context is cancelled before then so
// that its transaction rolls back. What follows (the answer to the person)
// comes after the ack.
func TestInteractionAcknowledgedAfterCommit(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"socket", "http"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			httpMode := mode == "http"
			f := startFake(t, nil)
			d := newStubDomain()
			type call struct {
				action      bot.ActionID
				acksAtEnd   int // acks the fake had when Interact returned
				deadlineIn  time.Duration
				interrupted bool
			}
			var (
				mu    sync.Mutex
				calls []call
				slow  = map[bot.ActionID]bool{bot.ActClaim: false}
			)
			d.interact = func(ctx context.Context, req bot.Request) bot.Reply {
				dl, _ := ctx.Deadline()
				c := call{action: req.Action, deadlineIn: time.Until(dl)}
				mu.Lock()
				hang := slow[req.Action]
				mu.Unlock()
				if hang {
					// A transaction that cannot commit in time: it ends
					// when its context does, rolled back.
					<-ctx.Done()
					c.interrupted = true
					c.acksAtEnd = len(f.Acks())
					mu.Lock()
					calls = append(calls, c)
					mu.Unlock()
					return bot.Reply{Refused: true, Text: "Internal error.", Err: ctx.Err()}
				}
				// The commit takes a while: an ack sent before it would
				// have reached the fake by now.
				time.Sleep(300 * time.Millisecond)
				c.acksAtEnd = len(f.Acks())
				mu.Lock()
				calls = append(calls, c)
				mu.Unlock()
				return bot.Reply{Text: "Item #1 is yours."}
			}
			runConn(t, f, d, httpMode)
			// last waits for the nth call of Interact to end and returns it.
			last := func(n int) call {
				t.Helper()
				waitUntil(t, fmt.Sprintf("Interact call %d", n), func() bool {
					mu.Lock()
					defer mu.Unlock()
					return len(calls) >= n
				})
				mu.Lock()
				defer mu.Unlock()
				return calls[n-1]
			}

			button := slackapi.NewButtonBlockElement(actionPrefix+string(bot.ActClaim), "1", slackapi.NewTextBlockObject(slackapi.PlainTextType, "Claim", false, false))
			api := slackapi.New(f.BotToken(), slackapi.OptionAPIURL(f.APIURL()))
			_, card, err := api.PostMessage(tChan, slackapi.MsgOptionText("card", false), slackapi.MsgOptionBlocks(slackapi.NewActionBlock("actions", button)))
			if err != nil {
				t.Fatal(err)
			}
			// The card's own message event is acknowledged once stored.
			waitFake(t, f, "the card's event acknowledged", func() bool { return len(f.Acks()) == 1 })
			base := len(f.Deliveries())

			t.Run("ClickCommitted", func(t *testing.T) {
				if err := f.Click(tUser, tChan, card, actionPrefix+string(bot.ActClaim)); err != nil {
					t.Fatal(err)
				}
				waitFake(t, f, "the click acknowledged", func() bool { return len(f.Acks()) == 2 })
				c := last(1)
				if c.acksAtEnd != 1 {
					t.Errorf("%d acks when Interact returned, want the click's ack to come after", c.acksAtEnd)
				}
				if c.deadlineIn <= 0 || c.deadlineIn > 3*time.Second {
					t.Errorf("Interact's context ends in %s, want within Slack's 3 s", c.deadlineIn)
				}
				waitFake(t, f, "the answer", func() bool { return len(f.Ephemerals(tUser)) == 1 })
			})
			t.Run("CommandCommitted", func(t *testing.T) {
				if err := f.SlashCommand(tUser, tChan, "/liaison", "stats"); err != nil {
					t.Fatal(err)
				}
				waitFake(t, f, "the command acknowledged", func() bool { return len(f.Acks()) == 3 })
				c := last(2)
				if c.action != bot.ActionID("stats") || c.acksAtEnd != 2 {
					t.Errorf("call %+v: want the command's ack after Interact returned", c)
				}
				waitFake(t, f, "the answer", func() bool { return len(f.Ephemerals(tUser)) == 2 })
			})
			t.Run("ClickNotCommittedInTime", func(t *testing.T) {
				mu.Lock()
				slow[bot.ActClaim] = true
				mu.Unlock()
				if err := f.Click(tUser, tChan, card, actionPrefix+string(bot.ActClaim)); err != nil {
					t.Fatal(err)
				}
				waitFake(t, f, "Slack to give up on the click", func() bool {
					ds := f.Deliveries()
					return len(ds) > base+2 && ds[base+2].Failed
				})
				click := f.Deliveries()[base+2]
				c := last(3)
				if !c.interrupted {
					t.Errorf("Interact's context was not cancelled before Slack gave up")
				}
				time.Sleep(200 * time.Millisecond) // an ack on its way
				if acked(f, click.EnvelopeID) {
					t.Errorf("a click whose effect was not committed was acknowledged: %+v", f.Acks())
				}
				if n := len(f.Ephemerals(tUser)); n != 2 {
					t.Errorf("%d ephemeral messages, want none for the failed click", n-2)
				}
			})
		})
	}
}

// TestModalAnsweredAfterCommit: a modal submission is answered (its errors,
// or an empty ack that closes it) once Interact returned, not before.
func TestModalAnsweredAfterCommit(t *testing.T) {
	t.Parallel()
	f := startFake(t, nil)
	d := newStubDomain()
	answered := -1 // interactive acks the fake had when the submission's Interact returned
	var mu sync.Mutex
	d.interact = func(ctx context.Context, req bot.Request) bot.Reply {
		if req.Kind == bot.Command {
			return bot.Reply{Form: &bot.Form{Action: bot.ActProfile, Title: "Profile", Submit: "Save",
				Fields: []bot.Field{{ID: bot.FieldNameID, Label: "Name", Required: true}}}}
		}
		time.Sleep(300 * time.Millisecond) // an early answer would have arrived by now
		n := 0
		for _, a := range f.Acks() {
			if a.Type == "interactive" {
				n++
			}
		}
		mu.Lock()
		answered = n
		mu.Unlock()
		return bot.Reply{Text: "Saved."}
	}
	runConn(t, f, d, false)
	if err := f.SlashCommand(tUser, tChan, "/liaison", "profile"); err != nil {
		t.Fatal(err)
	}
	waitFake(t, f, "the form", func() bool { return len(f.Views(tUser)) == 1 })
	v := f.Views(tUser)[0]
	if err := f.SubmitView(tUser, v.ID, map[string]map[string]string{bot.FieldNameID: {inputAction: "Mia"}}); err != nil {
		t.Fatal(err)
	}
	waitFake(t, f, "the modal closed", func() bool { return len(f.Views(tUser)) == 0 })
	mu.Lock()
	defer mu.Unlock()
	if answered != 0 {
		t.Errorf("%d answers to the submission when Interact returned, want it answered after", answered)
	}
}

// TestFindLongThread: a post lost at the end of a thread longer than any
// page count that used to bound the search is found; the look-up asks for
// everything since the operation's first attempt, metadata included. When
// it cannot read it all, Find says so with an error, never "not found".
func TestFindLongThread(t *testing.T) {
	t.Parallel()
	f := startFake(t, func(o *slackfake.Options) {
		o.RatePerChannel, o.DisableBotEcho = -1, true
		o.Channels = append(o.Channels, slackfake.Channel{ID: "C0SECRET", Name: "secret", Members: []string{tUser}})
	})
	c := findConn(t, f)
	root, err := f.Post(tUser, tChan, "a long discussion")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2100 {
		if _, err := f.Reply(tUser, tChan, root, fmt.Sprintf("reply %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	after := time.Now().Add(-time.Minute)
	op := &bot.Op{Kind: bot.OpPostNote, Key: "liaison-job-7", Conn: "community", Channel: tChan, ThreadID: root, After: after, Note: &bot.Note{Text: "the lost note"}}
	res, err := c.Send(ctx, op)
	if err != nil {
		t.Fatal(err)
	}
	got, found, err := c.Find(ctx, op)
	if err != nil || !found || got.MessageID != res.MessageID {
		t.Fatalf("Find = %+v, %v, %v; want the post %s", got, found, err, res.MessageID)
	}
	var reads []slackfake.Call
	for _, call := range f.Calls() {
		if call.Method == "conversations.replies" {
			reads = append(reads, call)
		}
	}
	if len(reads) < 11 {
		t.Errorf("%d pages read, want the whole thread", len(reads))
	}
	oldest := timeTS(after.Add(-findMargin))
	for _, r := range reads {
		if r.Params.Get("oldest") != oldest || r.Params.Get("inclusive") != "1" || r.Params.Get("include_all_metadata") != "1" {
			t.Errorf("read %v: want oldest %s, inclusive, include_all_metadata", r.Params, oldest)
			break
		}
	}

	t.Run("NotThere", func(t *testing.T) {
		missing := *op
		missing.Key = "liaison-job-8"
		if _, found, err := c.Find(ctx, &missing); err != nil || found {
			t.Errorf("Find = %v, %v; want not found, having read it all", found, err)
		}
	})
	t.Run("ErrPagesExhausted", func(t *testing.T) {
		c.findPages = 3
		defer func() { c.findPages = findPages }()
		if _, found, err := c.Find(ctx, op); err == nil || found {
			t.Errorf("Find = %v, %v; want an error: it cannot tell", found, err)
		}
	})
	t.Run("ErrCallFails", func(t *testing.T) {
		f.FailNext("conversations.replies", "internal_error")
		missing := *op
		missing.Key = "liaison-job-9"
		if _, found, err := c.Find(ctx, &missing); err == nil || found {
			t.Errorf("Find = %v, %v; want an error", found, err)
		}
	})
	t.Run("ErrUnreadableChannel", func(t *testing.T) {
		other := *op
		other.Channel, other.ThreadID = "C0SECRET", ""
		if _, found, err := c.Find(ctx, &other); err == nil || found {
			t.Errorf("Find = %v, %v; want an error", found, err)
		}
	})
}

// TestFindLongHistory: a card posted before 2,000 newer messages of a busy
// channel is found in the channel's history.
func TestFindLongHistory(t *testing.T) {
	t.Parallel()
	f := startFake(t, func(o *slackfake.Options) { o.RatePerChannel, o.DisableBotEcho = -1, true })
	c := findConn(t, f)
	ctx := context.Background()
	op := &bot.Op{Kind: bot.OpPostNote, Key: "liaison-job-3", Conn: "community", Channel: tChan, After: time.Now(), Note: &bot.Note{Text: "lost"}}
	res, err := c.Send(ctx, op)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2100 {
		if _, err := f.Post(tUser, tChan, fmt.Sprintf("message %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	got, found, err := c.Find(ctx, op)
	if err != nil || !found || got.MessageID != res.MessageID {
		t.Fatalf("Find = %+v, %v, %v; want the post %s", got, found, err, res.MessageID)
	}
}

// findConn is a connection that is not running: Send and Find need no
// socket.
func findConn(t *testing.T, f *slackfake.Fake) *Conn {
	t.Helper()
	c, err := New(Options{Name: "community", BotToken: f.BotToken(), AppToken: f.AppToken(), APIURL: f.URL()}, newStubDomain())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// metricsLog records what the adapter reports.
type metricsLog struct {
	mu  sync.Mutex
	log []string
}

func (m *metricsLog) add(s string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.log = append(m.log, s)
}

func (m *metricsLog) lines() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.log)
}

func (m *metricsLog) Intake(string, bot.Intake)              {}
func (m *metricsLog) Job(bot.OpKind, string)                 {}
func (m *metricsLog) Latency(string, time.Duration)          {}
func (m *metricsLog) Reconnect(conn string)                  { m.add("reconnect " + conn) }
func (m *metricsLog) ConnState(conn string, up bool)         { m.add(fmt.Sprintf("state %s %v", conn, up)) }
func (m *metricsLog) RateWait(string, string, time.Duration) {}
func (m *metricsLog) RateLimited(string, string)             {}

// TestSocketMetrics: each socket after the first counts as a reconnection,
// and the socket's state is reported as it changes.
func TestSocketMetrics(t *testing.T) {
	t.Parallel()
	f := startFake(t, nil)
	m := &metricsLog{}
	c := runConn(t, f, newStubDomain(), false, func(o *Options) { o.Metrics = m })
	f.DropSocket()
	waitUntil(t, "a new socket", func() bool { return f.Connects() == 2 && c.Health() == nil })
	want := []string{"state community true", "state community false", "reconnect community", "state community true"}
	waitUntil(t, "the metrics", func() bool { return len(m.lines()) >= len(want) })
	if got := m.lines(); !slices.Equal(got, want) {
		t.Errorf("metrics %q, want %q", got, want)
	}
}
