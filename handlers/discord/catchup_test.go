package discord_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/handlers/discord"
	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
)

// flaky is the domain as an adapter sees it while the database fails:
// every call that needs the database fails, until it works again. It can
// also keep a holder from releasing its lease, as a crash would.
type flaky struct {
	discord.Domain
	down      atomic.Bool
	noRelease atomic.Bool
	refused   atomic.Int64 // calls refused while down
}

var errDatabaseDown = errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")

func (f *flaky) fail() error {
	if f.down.Load() {
		f.refused.Add(1)
		return errDatabaseDown
	}
	return nil
}

func (f *flaky) Receive(ctx context.Context, in bot.Incoming) (bot.Intake, error) {
	if err := f.fail(); err != nil {
		return "", err
	}
	return f.Domain.Receive(ctx, in)
}

func (f *flaky) Edit(ctx context.Context, key bot.MessageKey, text string, at time.Time) error {
	if err := f.fail(); err != nil {
		return err
	}
	return f.Domain.Edit(ctx, key, text, at)
}

func (f *flaky) Delete(ctx context.Context, key bot.MessageKey, at time.Time) error {
	if err := f.fail(); err != nil {
		return err
	}
	return f.Domain.Delete(ctx, key, at)
}

func (f *flaky) LastMessage(ctx context.Context, conn, channel string) (*bot.Message, error) {
	if err := f.fail(); err != nil {
		return nil, err
	}
	return f.Domain.LastMessage(ctx, conn, channel)
}

func (f *flaky) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	if err := f.fail(); err != nil {
		return false, err
	}
	return f.Domain.AcquireLease(ctx, name, owner, ttl)
}

func (f *flaky) ReleaseLease(ctx context.Context, name, owner string) error {
	if f.noRelease.Load() {
		return nil
	}
	if err := f.fail(); err != nil {
		return err
	}
	return f.Domain.ReleaseLease(ctx, name, owner)
}

// metrics records what an adapter reports.
type metrics struct {
	bot.Metrics
	mu         sync.Mutex
	reconnects int
	states     []bool
}

func (m *metrics) Reconnect(string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reconnects++
}

func (m *metrics) ConnState(_ string, up bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.states = append(m.states, up)
}

func (m *metrics) get() (int, []bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reconnects, slices.Clone(m.states)
}

// eventually polls cond until it holds, failing the test after waitLimit.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: timed out", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// relayedOnce checks the store holds each of n public messages once, in
// items items.
func (w *world) relayedOnce(messages, items int64) {
	w.t.Helper()
	for table, want := range map[string]int64{"messages": messages, "items": items} {
		if n, err := w.liaison.DB.RowCount(w.ctx, table); err != nil || n != want {
			w.t.Errorf("%d %s stored (%v), want %d", n, table, err, want)
		}
	}
	if n := int64(len(w.cards())); n != items {
		w.t.Errorf("%d cards, want %d", n, items)
	}
}

// notesSaying counts the messages of a card's thread that contain substr.
func (w *world) notesSaying(cardID, substr string) int {
	n := 0
	for _, m := range w.threadMessages(cardID) {
		if !m.Deleted && strings.Contains(m.Content, substr) {
			n++
		}
	}
	return n
}

// TestBackfillAtStart: members post while Liaison is down — in a watched
// channel, a new forum post with a follow-up, a post that was archived
// before Liaison came back — and before the first start; when Liaison
// starts, every message is relayed once, a forum post before its
// follow-ups, and nothing already relayed comes again.
func TestBackfillAtStart(t *testing.T) {
	w := newWorld(t, worldOpts{stopped: true})
	w.post(maria, general, "Posted before Liaison ever ran")
	w.startAndWait("first")
	w.card(1, nil)
	w.post(sam, general, "Relayed live")
	w.card(2, nil)
	w.stop(w.liaison)

	w.post(sam, general, "Anyone here?")
	post, _ := w.openPost(maria, "Export broken", "The CSV export fails")
	w.postInThread(w.pub, sam, post.ID, "Same here since Monday")
	old, _ := w.openPost(sam, "Dark mode", "Any plans for dark mode?")
	if err := w.pub.ArchiveThread(old.ID); err != nil {
		t.Fatal(err)
	}

	w.startAndWait("second")
	if c := w.card(3, nil); !strings.Contains(c.Embeds[0].Description, "Anyone here?") {
		t.Errorf("card #3 = %q, want the channel's message first", c.Embeds[0].Description)
	}
	exportCard := w.card(4, func(m discordfake.Message) bool { return strings.Contains(m.Embeds[0].Description, "Export broken") })
	w.card(5, func(m discordfake.Message) bool { return strings.Contains(m.Embeds[0].Description, "Dark mode") })
	w.note(exportCard.ID, "Same here since Monday")

	w.post(maria, general, "Sentinel")
	w.card(6, nil)
	w.relayedOnce(7, 6)
	if n := w.notesSaying(exportCard.ID, "Same here since Monday"); n != 1 {
		t.Errorf("the follow-up is noted %d times, want once", n)
	}
}

// TestBackfillAfterInvalidSession: the gateway drops and Discord will not
// resume the session: what was said meanwhile is read back once the new
// session is ready, and relayed once; the metrics count the reconnect.
func TestBackfillAfterInvalidSession(t *testing.T) {
	m := &metrics{Metrics: bot.NoMetrics}
	w := newWorld(t, worldOpts{adapter: func(name string, o *discord.Options, _ discord.Domain) discord.Domain {
		if name == "community" {
			o.Metrics = m
		}
		return nil
	}})
	w.post(maria, general, "Before")
	w.card(1, nil)
	ids := w.pub.Gateway().Identifies

	// No session left to replay to: the message reaches nobody live.
	w.pub.DropGateway()
	w.pub.InvalidateSession()
	w.post(sam, general, "While the gateway was down")
	w.waitFor(w.pub, "a new session", func() bool { gi := w.pub.Gateway(); return gi.Connected && gi.Identifies > ids })

	if c := w.card(2, nil); !strings.Contains(c.Embeds[0].Description, "While the gateway was down") {
		t.Errorf("card #2 = %q", c.Embeds[0].Description)
	}
	w.post(maria, general, "Sentinel")
	w.card(3, nil)
	w.relayedOnce(3, 3)
	reconnects, states := m.get()
	if reconnects < 1 {
		t.Errorf("%d reconnects counted, want at least 1", reconnects)
	}
	if len(states) < 3 || !states[0] || !slices.Contains(states[1:], false) || !states[len(states)-1] {
		t.Errorf("gateway states reported %v, want up, down, …, up", states)
	}
}

// TestDatabaseOutage: the database fails for longer than a few retries
// take; messages posted meanwhile, in a channel and in a new forum post,
// are relayed once it works again, each once.
func TestDatabaseOutage(t *testing.T) {
	db := &flaky{}
	w := newWorld(t, worldOpts{adapter: func(name string, _ *discord.Options, d discord.Domain) discord.Domain {
		if name != "community" {
			return nil
		}
		db.Domain = d
		return db
	}})
	w.post(maria, general, "Before the outage")
	w.card(1, nil)

	db.down.Store(true)
	w.post(sam, general, "During the outage")
	post, _ := w.openPost(maria, "Login broken", "Cannot log in")
	w.postInThread(w.pub, sam, post.ID, "Me neither")
	eventually(t, "the database refusing the messages", func() bool { return db.refused.Load() >= 2 })
	time.Sleep(3 * time.Second) // longer than the few retries an event used to get
	db.down.Store(false)

	w.card(2, func(m discordfake.Message) bool {
		return strings.Contains(m.Embeds[0].Description, "During the outage")
	})
	c := w.card(3, func(m discordfake.Message) bool { return strings.Contains(m.Embeds[0].Description, "Login broken") })
	w.note(c.ID, "Me neither")
	w.post(maria, general, "Sentinel")
	w.card(4, nil)
	w.relayedOnce(5, 4)
	if n := w.notesSaying(c.ID, "Me neither"); n != 1 {
		t.Errorf("the follow-up is noted %d times, want once", n)
	}
}

// losesStarter is a domain that never sees the first delivery of a
// message whose text holds marker: the event was missed (no replica held
// the gateway, or it held it while dying).
type losesStarter struct {
	discord.Domain
	marker string
	lost   atomic.Bool
}

func (d *losesStarter) Receive(ctx context.Context, in bot.Incoming) (bot.Intake, error) {
	// Only a live delivery is missed (a live thread message asks for its
	// root first); reading the thread back finds the message.
	if in.RootFirst && strings.Contains(in.Text, d.marker) && d.lost.CompareAndSwap(false, true) {
		return bot.IntakeIgnored, nil
	}
	return d.Domain.Receive(ctx, in)
}

// TestThreadReplyBeforeItsPost: a forum post was missed; a reply in its
// thread comes live. The reply does not open an item of its own: the
// thread is read from its start, the post gets its card and the reply is a
// note in that card's thread.
func TestThreadReplyBeforeItsPost(t *testing.T) {
	ls := &losesStarter{marker: "missed post"}
	w := newWorld(t, worldOpts{adapter: func(name string, o *discord.Options, d discord.Domain) discord.Domain {
		if name != "community" {
			return nil
		}
		ls.Domain = d
		return ls
	}})
	// Live messages wait for the catch-up that follows a new session: once
	// this one has its card, the next ones come live.
	w.post(maria, general, "Before")
	w.card(1, nil)
	post, _ := w.openPost(maria, "Sync stuck", "A missed post about sync")
	w.postInThread(w.pub, sam, post.ID, "Same for me")
	card := w.card(2, func(m discordfake.Message) bool { return strings.Contains(m.Embeds[0].Description, "missed post") })
	w.note(card.ID, "Same for me")
	w.post(maria, general, "Sentinel")
	w.card(3, nil)
	w.relayedOnce(4, 3)
	if !ls.lost.Load() {
		t.Error("the post's live delivery was never missed: the test did not make the case it is about")
	}
}

// TestLiveMessageWaitsForThePendingCatchUp: Liaison starts after members
// posted, and its first catch-up fails (Discord answers 500 to the channel
// listing), so it is put off. A message posted live meanwhile must not be
// taken in first: the catch-up reads each channel after the last message
// stored there, and would never read back what was said before it.
func TestLiveMessageWaitsForThePendingCatchUp(t *testing.T) {
	w := newWorld(t, worldOpts{stopped: true})
	w.post(maria, general, "Posted while Liaison was down")
	w.pub.Inject(discordfake.Fault{Method: "GET", PathPrefix: "/guilds/", Status: 500, Times: 3})
	w.liaison = w.start("only")
	w.waitFor(w.pub, "the catch-up refused", func() bool {
		return slices.ContainsFunc(w.pub.Calls(), func(c discordfake.Call) bool {
			return c.Method == "GET" && strings.HasSuffix(c.Path, "/channels") && c.Status == 500
		})
	})
	w.post(sam, general, "Posted live while the catch-up waits")

	w.card(1, func(m discordfake.Message) bool {
		return strings.Contains(m.Embeds[0].Description, "while Liaison was down")
	})
	w.card(2, func(m discordfake.Message) bool { return strings.Contains(m.Embeds[0].Description, "live while") })
	w.relayedOnce(2, 2)
}
