package discord_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/handlers/discord"
)

// clock wraps the domain and notes when each interaction's effect was
// done (committed, or refused); stall makes it miss its deadline.
type clocked struct {
	discord.Domain
	stall atomic.Bool
	mu    sync.Mutex
	done  []time.Time
}

func (d *clocked) Interact(ctx context.Context, req bot.Request) bot.Reply {
	if d.stall.Load() {
		<-ctx.Done() // too slow: its time runs out first
	}
	r := d.Domain.Interact(ctx, req)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.done = append(d.done, time.Now())
	return r
}

func (d *clocked) last() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.done) == 0 {
		return time.Time{}
	}
	return d.done[len(d.done)-1]
}

func clockedWorld(t *testing.T) (*world, *clocked) {
	d := &clocked{}
	w := newWorld(t, worldOpts{adapter: func(name string, _ *discord.Options, real discord.Domain) discord.Domain {
		if name != "internal" {
			return nil
		}
		d.Domain = real
		return d
	}})
	return w, d
}

// TestInteractionAnsweredAfterCommit: a click is acknowledged only once
// its effect is committed, with one answer that says what was done: a
// crash in between leaves Discord's "interaction failed", never a
// confirmation of something that did not happen.
func TestInteractionAnsweredAfterCommit(t *testing.T) {
	w, d := clockedWorld(t)
	w.post(maria, general, "Where are the docs?")
	card := w.card(1, nil)
	id, err := w.inner.Click(nick, feedback, card.ID, "liaison:claim:1")
	if err != nil {
		t.Fatal(err)
	}
	if got := w.answer(w.inner, id); got != "Item #1 is yours." {
		t.Errorf("Claim answered %q", got)
	}
	rs := w.inner.InteractionResponses(id)
	if len(rs) != 1 || rs[0].Type != 4 {
		t.Fatalf("answers %+v, want one message (type 4)", rs)
	}
	if done := d.last(); done.IsZero() || rs[0].At.Before(done) {
		t.Errorf("answered at %v, before the claim was committed at %v", rs[0].At, done)
	}
	if it := w.item(1); it.Status != bot.ItemClaimed {
		t.Errorf("item #1 is %s, want claimed", it.Status)
	}
}

// TestSlowInteractionNotAnswered: a click the domain cannot finish in time
// is not answered (Discord tells the person it failed) and changes
// nothing: its transaction ended with its context.
func TestSlowInteractionNotAnswered(t *testing.T) {
	w, d := clockedWorld(t)
	discord.SetInteractionBudget(w.liaison.Conns["internal"].(*discord.Conn), 300*time.Millisecond)
	w.post(maria, general, "Where are the docs?")
	card := w.card(1, nil)
	d.stall.Store(true)
	id, err := w.inner.Click(nick, feedback, card.ID, "liaison:claim:1")
	if err != nil {
		t.Fatal(err)
	}
	w.waitFor(w.inner, "the interaction to fail", func() bool { return w.inner.InteractionFailed(id) })
	if rs := w.inner.InteractionResponses(id); len(rs) != 0 {
		t.Errorf("a click the domain did not finish was answered: %+v", rs)
	}
	if it := w.item(1); it.Status != bot.ItemNew || it.Assignee != 0 {
		t.Errorf("item #1 is %s, assignee %d, after a click that timed out; want unchanged", it.Status, it.Assignee)
	}

	// In time again: the same click works.
	d.stall.Store(false)
	if got := w.click(w.inner, nick, feedback, card.ID, "liaison:claim:1"); got != "Item #1 is yours." {
		t.Errorf("Claim answered %q", got)
	}
}
