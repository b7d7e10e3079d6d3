package slack_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/handlers/slack"
	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// A world is Liaison put together by hand around the real domain and a real
// store on one engine, so that a test can break the store, or run several
// replicas of the community connection (each its own Socket Mode socket,
// with the same app token) against one service: what a deployment looks
// like when the database goes down, or when it scales out.

// breakable is a store that can be made to fail like a database that is
// down, or to hold a transaction until its context ends, like a commit that
// does not come in time.
type breakable struct {
	bot.Store
	down atomic.Bool
	hang atomic.Bool
}

var errDown = errors.New("database is down")

func (s *breakable) InTx(ctx context.Context, fn func(bot.Tx) error) error {
	if s.down.Load() {
		return errDown
	}
	return s.Store.InTx(ctx, func(tx bot.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if s.hang.Load() {
			<-ctx.Done() // the transaction then commits on a cancelled context
		}
		return nil
	})
}

func (s *breakable) View(ctx context.Context, fn func(bot.Tx) error) error {
	if s.down.Load() {
		return errDown
	}
	return s.Store.View(ctx, fn)
}

func (s *breakable) ClaimJobs(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int, skip bot.Skip) ([]*bot.OutboxJob, error) {
	if s.down.Load() {
		return nil, errDown
	}
	return s.Store.ClaimJobs(ctx, owner, now, lease, limit, skip)
}

type world struct {
	t        *testing.T
	pub      *slackfake.Fake
	staff    *slackfake.Fake
	store    *breakable
	svc      *bot.Service
	replicas []*slack.Conn
}

// newWorld runs replicas community connections and one internal connection
// against the fakes, sharing one service and one store on engine, with its
// outbox worker, until the test ends.
func newWorld(t *testing.T, engine string, replicas int, pubOpts func(*slackfake.Options)) *world {
	t.Helper()
	return newWorldWrapped(t, engine, replicas, pubOpts, nil)
}

// newWorldWrapped is newWorld whose community replicas see the service
// through wrap.
func newWorldWrapped(t *testing.T, engine string, replicas int, pubOpts func(*slackfake.Options), wrap func(slack.Domain) slack.Domain) *world {
	t.Helper()
	po := slackfake.Options{
		TeamID: "T0COMMUNITY", TeamDomain: "acme-community",
		Users:        []slackfake.User{{ID: member, Name: "mia", RealName: "Mia Lopez"}, {ID: other, Name: "otto", RealName: "Otto Berg"}},
		Channels:     []slackfake.Channel{{ID: helpChan, Name: "help", Members: []string{botUser, member, other}}},
		PingInterval: time.Second,
	}
	if pubOpts != nil {
		pubOpts(&po)
	}
	so := slackfake.Options{
		TeamID: "T0ACME", TeamDomain: "acme",
		Users:        []slackfake.User{{ID: bob, Name: "bob", RealName: "Bob Stone", Title: "Head of Product"}},
		Channels:     []slackfake.Channel{{ID: productCh, Name: "product", Members: []string{botUser, bob}}},
		PingInterval: time.Second, RatePerChannel: -1,
	}
	w := &world{t: t, store: &breakable{Store: storagetest.Open(t, engine)}}
	var err error
	if w.pub, err = slackfake.New(po); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.pub.Close)
	if w.staff, err = slackfake.New(so); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.staff.Close)

	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	router := bot.NewRouter(
		[]bot.Source{{Name: "community #help", Conn: "community", Channels: []string{helpChan}}},
		[]bot.Route{{Name: "product", Default: true, DestConn: "internal", DestChannel: productCh,
			Policy: bot.Policy{Mode: bot.ApprovalRequired, Approvers: []string{bob}}}},
	)
	w.svc = bot.NewService(w.store, nil, router, bot.Settings{Company: "Acme"})
	// The worker's complaints while the database is down are expected.
	w.svc.Log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelError + 1}))
	conn := func(name string, f *slackfake.Fake) *slack.Conn {
		c, err := slack.New(slack.Options{Name: name, BotToken: f.BotToken(), AppToken: f.AppToken(), APIURL: f.URL(), Log: log}, w.svc)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for range replicas {
		c := conn("community", w.pub)
		if wrap != nil {
			var err error
			if c, err = slack.New(slack.Options{Name: "community", BotToken: w.pub.BotToken(), AppToken: w.pub.AppToken(), APIURL: w.pub.URL(), Log: log}, wrap(w.svc)); err != nil {
				t.Fatal(err)
			}
		}
		w.replicas = append(w.replicas, c)
	}
	internal := conn("internal", w.staff)
	w.svc.Platforms["community"], w.svc.Platforms["internal"] = w.replicas[0], internal
	worker := w.svc.NewWorker("world")
	worker.Poll, worker.BaseBackoff = 20*time.Millisecond, 50*time.Millisecond

	ctx, cancel := context.WithCancel(context.Background())
	runs := []func(context.Context) error{internal.Run, worker.Run}
	for _, r := range w.replicas {
		runs = append(runs, r.Run)
	}
	done := make(chan error, len(runs))
	for _, run := range runs {
		go func() { done <- run(ctx) }()
	}
	t.Cleanup(func() {
		cancel()
		for range runs {
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		}
	})
	w.waitFake(w.pub, "every community socket", func() bool { return w.pub.Connections() == replicas })
	w.waitFake(w.staff, "the internal socket", func() bool { return w.staff.Connections() == 1 })
	return w
}

func (w *world) waitFake(f *slackfake.Fake, what string, cond func() bool) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := f.WaitFor(ctx, cond); err != nil {
		w.t.Fatalf("waiting for %s: %v", what, err)
	}
}

// cards returns the item cards in the product channel, oldest first.
func (w *world) cards() []slackfake.Message {
	var out []slackfake.Message
	for _, m := range w.staff.Messages(productCh) {
		if m.BotID != botID || (m.ThreadTS != "" && m.ThreadTS != m.TS) || m.Deleted {
			continue
		}
		if _, ok := buttons(m)[actTag]; ok {
			out = append(out, m)
		}
	}
	return out
}

// questions counts the cards of each question asked, by the question its
// summary quotes (the card's blocks also recall the member's earlier ones).
func (w *world) questions(asked []string) map[string]int {
	seen := map[string]int{}
	for _, c := range w.cards() {
		for _, q := range asked {
			if strings.HasSuffix(c.Text, ": "+q) {
				seen[q]++
			}
		}
	}
	return seen
}

// TestDatabaseOutage: while the database is down, no message event is
// acknowledged and Slack sends each one again; none is lost and none is
// doubled once it is back: every question gets exactly one card.
func TestDatabaseOutage(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, engine string) {
		w := newWorld(t, engine, 1, func(o *slackfake.Options) {
			o.AckTimeout = 300 * time.Millisecond
			o.RetryDelays = []time.Duration{0, 300 * time.Millisecond, 300 * time.Millisecond}
		})
		w.store.down.Store(true)
		var asked []string
		for i := range 4 {
			q := fmt.Sprintf("Question %d asked while the database is down", i)
			if _, err := w.pub.Post(member, helpChan, q); err != nil {
				t.Fatal(err)
			}
			asked = append(asked, q)
		}
		// Slack sends every event again, and gives up on the first ones,
		// while the database is still down.
		w.waitFake(w.pub, "redeliveries", func() bool {
			ds := w.pub.Deliveries()
			return len(ds) == len(asked) && ds[0].Failed && ds[len(ds)-1].Attempts >= 2
		})
		if acks := w.pub.Acks(); len(acks) != 0 {
			t.Fatalf("acknowledged while the database is down: %+v", acks)
		}
		w.store.down.Store(false)
		w.waitFake(w.staff, "a card per question", func() bool { return len(w.cards()) >= len(asked) })
		// One more message, after everything: once its card is there, any
		// copy of the earlier events has been handled.
		last := "And one after the outage"
		if _, err := w.pub.Post(other, helpChan, last); err != nil {
			t.Fatal(err)
		}
		asked = append(asked, last)
		w.waitFake(w.staff, "its card", func() bool { return w.questions(asked)[last] == 1 })
		time.Sleep(300 * time.Millisecond) // a redelivery still on its way
		seen := w.questions(asked)
		for _, q := range asked {
			if n := seen[q]; n != 1 {
				t.Errorf("%d cards for %q, want 1", n, q)
			}
		}
		if n := len(w.cards()); n != len(asked) {
			t.Errorf("%d cards, want %d", n, len(asked))
		}
	})
}

// TestReplicas: three replicas of the community connection share one
// service and store, each with its own socket; every message reaches one of
// them, and gets one card.
func TestReplicas(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, engine string) {
		w := newWorld(t, engine, 3, nil)
		var asked []string
		for i := range 9 {
			q := fmt.Sprintf("Question %d for the replicas", i)
			if _, err := w.pub.Post(member, helpChan, q); err != nil {
				t.Fatal(err)
			}
			asked = append(asked, q)
		}
		w.waitFake(w.staff, "a card per question", func() bool { return len(w.cards()) >= len(asked) })
		time.Sleep(300 * time.Millisecond) // a duplicate on its way
		seen := w.questions(asked)
		for _, q := range asked {
			if n := seen[q]; n != 1 {
				t.Errorf("%d cards for %q, want 1", n, q)
			}
		}
		if n := len(w.cards()); n != len(asked) {
			t.Errorf("%d cards, want %d", n, len(asked))
		}
		sockets := map[int]bool{}
		for _, d := range w.pub.Deliveries() {
			if len(d.Sockets) != 1 || !d.Acked {
				t.Errorf("delivery %+v: want one attempt, acknowledged", d)
			}
			for _, s := range d.Sockets {
				sockets[s] = true
			}
		}
		if len(sockets) != 3 {
			t.Errorf("envelopes went to sockets %v, want all three replicas to take some", sockets)
		}
	})
}

// TestClickNotCommittedNotAcknowledged: a claim whose transaction cannot
// commit within Slack's 3 seconds is not acknowledged — Slack tells the
// person it failed — and was rolled back: the item is not claimed. The same
// click once the database answers is acknowledged after its commit.
func TestClickNotCommittedNotAcknowledged(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, engine string) {
		w := newWorld(t, engine, 1, nil)
		if _, err := w.pub.Post(member, helpChan, "Who takes this one?"); err != nil {
			t.Fatal(err)
		}
		w.waitFake(w.staff, "the card", func() bool { return len(w.cards()) == 1 })
		card := w.cards()[0]
		ctx := context.Background()
		waitItem := func(what string, cond func(*bot.Item) bool) *bot.Item {
			t.Helper()
			deadline := time.Now().Add(30 * time.Second)
			for {
				it, err := w.svc.Item(ctx, 1)
				if err == nil && cond(it) {
					return it
				}
				if time.Now().After(deadline) {
					t.Fatalf("waiting for %s: item %+v, %v", what, it, err)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		waitItem("the card recorded", func(it *bot.Item) bool { return it.CardID == card.TS })
		// Let the outbox settle: nothing else commits while the claim hangs.
		time.Sleep(200 * time.Millisecond)
		clicks := func() []slackfake.Delivery {
			var out []slackfake.Delivery
			for _, d := range w.staff.Deliveries() {
				if d.Type == "interactive" {
					out = append(out, d)
				}
			}
			return out
		}

		w.store.hang.Store(true)
		if err := w.staff.Click(bob, productCh, card.TS, actClaim); err != nil {
			t.Fatal(err)
		}
		w.waitFake(w.staff, "Slack to give up on the click", func() bool { c := clicks(); return len(c) == 1 && c[0].Failed })
		w.store.hang.Store(false)
		time.Sleep(200 * time.Millisecond) // an ack on its way
		for _, a := range w.staff.Acks() {
			if a.EnvelopeID == clicks()[0].EnvelopeID {
				t.Errorf("the click was acknowledged though its claim did not commit: %+v", a)
			}
		}
		if it, err := w.svc.Item(ctx, 1); err != nil || it.Status != bot.ItemNew || it.Assignee != 0 {
			t.Errorf("item after the failed click: %+v, %v; want it unclaimed", it, err)
		}

		if err := w.staff.Click(bob, productCh, card.TS, actClaim); err != nil {
			t.Fatal(err)
		}
		w.waitFake(w.staff, "the click acknowledged", func() bool { c := clicks(); return len(c) == 2 && c[1].Acked })
		// Acknowledged only once committed: the claim is there already.
		if it, err := w.svc.Item(ctx, 1); err != nil || it.Status != bot.ItemClaimed {
			t.Errorf("item when the click was acknowledged: %+v, %v; want it claimed", it, err)
		}
	})
}

// losesFirst is a domain that loses the first delivery of a message whose
// text holds marker, as a process killed before storing it would; Slack
// then redelivers it late, after the replies in its thread.
type losesFirst struct {
	slack.Domain
	marker string
	lost   atomic.Bool
}

func (d *losesFirst) Receive(ctx context.Context, in bot.Incoming) (bot.Intake, error) {
	if strings.Contains(in.Text, d.marker) && d.lost.CompareAndSwap(false, true) {
		return bot.IntakeIgnored, nil
	}
	return d.Domain.Receive(ctx, in)
}

// TestReplyBeforeItsQuestion: a question's delivery is lost and comes
// late; a reply in its thread arrives first. The question still gets its
// card, the reply is a note in that card's thread, not an item of its own.
func TestReplyBeforeItsQuestion(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, engine string) {
		w := newWorldWrapped(t, engine, 1, nil, func(d slack.Domain) slack.Domain {
			return &losesFirst{Domain: d, marker: "lost question"}
		})
		q := "A lost question about pricing"
		ts, err := w.pub.Post(member, helpChan, q)
		if err != nil {
			t.Fatal(err)
		}
		w.waitFake(w.pub, "the question's delivery", func() bool { return len(w.pub.Acks()) >= 1 })
		reply := "Any news on this?"
		if _, err := w.pub.Reply(other, helpChan, ts, reply); err != nil {
			t.Fatal(err)
		}
		w.waitFake(w.staff, "the question's card and the reply's note", func() bool {
			cards := w.cards()
			return len(cards) >= 1 && len(w.staff.Thread(productCh, cards[0].TS)) >= 2
		})
		time.Sleep(300 * time.Millisecond) // anything else on its way
		cards := w.cards()
		if len(cards) != 1 || !strings.Contains(cards[0].Text+string(cards[0].Blocks), "lost question") {
			t.Fatalf("cards = %+v, want one, the question's", cards)
		}
		notes := w.staff.Thread(productCh, cards[0].TS)
		found := false
		for _, n := range notes[1:] {
			found = found || strings.Contains(n.Text+string(n.Blocks), reply)
		}
		if !found {
			t.Fatalf("the reply is not a note in the question's thread: %+v", notes)
		}
	})
}
