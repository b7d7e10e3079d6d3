package bot_test

import (
	"slices"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/bot/mock"
)

var t0 = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

// wide is d a hundredth wider: the pacer's margin against jitter.
func wide(d time.Duration) time.Duration { return d + d/100 }

// TestPacerBurstThenPace: a bucket takes its burst at once, then one call
// every Every (and its margin); idle, it has its burst again.
func TestPacerBurstThenPace(t *testing.T) {
	clock := mock.NewClock(t0)
	p := bot.NewPacer(clock.Now)
	slack := map[string]bot.Limit{"internal/C1": {Every: time.Second, Burst: 3}}
	var got []time.Duration
	for range 6 {
		at, _ := p.Reserve(slack)
		got = append(got, at.Sub(t0))
	}
	want := []time.Duration{0, 0, 0, wide(time.Second), 2 * wide(time.Second), 3 * wide(time.Second)}
	if !slices.Equal(got, want) {
		t.Fatalf("slots %v, want %v", got, want)
	}
	clock.Advance(time.Minute)
	for range 3 {
		if at, by := p.Reserve(slack); !at.Equal(clock.Now()) || by != "" {
			t.Fatalf("after a quiet minute: slot %v by %q, want now", at.Sub(clock.Now()), by)
		}
	}
}

// TestPacerBuckets: a call waits for the latest of its buckets' slots, and
// says which held it back; a bucket without a limit holds nothing back.
func TestPacerBuckets(t *testing.T) {
	clock := mock.NewClock(t0)
	p := bot.NewPacer(clock.Now)
	channel := bot.Limit{Every: time.Second, Burst: 1}
	global := bot.Limit{Every: 20 * time.Millisecond, Burst: 1}
	call := func(ch string) map[string]bot.Limit {
		return map[string]bot.Limit{bot.ChannelBucket("d", ch): channel, bot.GlobalBucket("d"): global}
	}
	if at, _ := p.Reserve(call("A")); !at.Equal(t0) {
		t.Fatalf("first call at %v", at.Sub(t0))
	}
	// Another channel: only the global pace holds it.
	at, by := p.Reserve(call("B"))
	if at.Sub(t0) != wide(20*time.Millisecond) || by != bot.GlobalBucket("d") {
		t.Fatalf("second channel at %v by %q, want 20ms by the global bucket", at.Sub(t0), by)
	}
	// The same channel again: its own pace.
	at, by = p.Reserve(call("A"))
	if at.Sub(t0) != wide(time.Second) || by != bot.ChannelBucket("d", "A") {
		t.Fatalf("same channel at %v by %q, want 1s by its bucket", at.Sub(t0), by)
	}
	if at, _ := p.Reserve(map[string]bot.Limit{bot.GlobalBucket("s"): {}}); !at.Equal(t0) {
		t.Fatalf("unlimited bucket held a call until %v", at.Sub(t0))
	}
}

// TestPacerHold: what the platform says (a 429's Retry-After) holds the
// bucket; after it, calls go one at a time at its pace, whatever its burst.
func TestPacerHold(t *testing.T) {
	clock := mock.NewClock(t0)
	p := bot.NewPacer(clock.Now)
	l := bot.Limit{Every: time.Second, Burst: 3}
	key := bot.ChannelBucket("internal", "C1")
	p.Hold(key, t0.Add(5*time.Second), l)
	if _, _, free := p.Busy("internal", l, bot.Limit{}); free.Sub(t0) != 5*time.Second {
		t.Fatalf("the held bucket frees at %v, want 5s", free.Sub(t0))
	}
	var got []time.Duration
	for range 3 {
		at, _ := p.Reserve(map[string]bot.Limit{key: l})
		got = append(got, at.Sub(t0))
	}
	if want := []time.Duration{5 * time.Second, 5*time.Second + wide(time.Second), 5*time.Second + 2*wide(time.Second)}; !slices.Equal(got, want) {
		t.Fatalf("slots after the hold %v, want %v", got, want)
	}
	// A hold on a bucket with no known limit still holds it.
	other := bot.ChannelBucket("internal", "C2")
	p.Hold(other, t0.Add(2*time.Second), bot.Limit{})
	if at, _ := p.Reserve(map[string]bot.Limit{other: {}}); at.Sub(t0) != 2*time.Second {
		t.Fatalf("unpaced bucket after a hold: %v, want 2s", at.Sub(t0))
	}
}

// TestPacerBusy lists the channels with no slot free, says when the first
// frees, and whether the connection as a whole is held.
func TestPacerBusy(t *testing.T) {
	clock := mock.NewClock(t0)
	p := bot.NewPacer(clock.Now)
	post := bot.Limit{Every: time.Second, Burst: 2}
	global := bot.Limit{Every: 20 * time.Millisecond, Burst: 1}
	reserve := func(ch string) {
		p.Reserve(map[string]bot.Limit{bot.ChannelBucket("d", ch): post})
	}
	reserve("A")
	if ch, all, _ := p.Busy("d", post, global); len(ch) != 0 || all {
		t.Fatalf("busy %v %v after one call of a burst of two", ch, all)
	}
	reserve("A")
	reserve("B")
	ch, all, free := p.Busy("d", post, global)
	if !slices.Equal(ch, []string{"A"}) || all || free.Sub(t0) != wide(time.Second) {
		t.Fatalf("busy %v all=%v free at %v; want [A], false, 1s", ch, all, free.Sub(t0))
	}
	p.Hold(bot.GlobalBucket("d"), t0.Add(300*time.Millisecond), global)
	ch, all, free = p.Busy("d", post, global)
	if !all || free.Sub(t0) != 300*time.Millisecond || !slices.Equal(ch, []string{"A"}) {
		t.Fatalf("busy %v all=%v free at %v; want [A], true, 300ms", ch, all, free.Sub(t0))
	}
	if ch, all, _ := p.Busy("other", post, global); len(ch) != 0 || all {
		t.Fatalf("another connection is busy: %v %v", ch, all)
	}
	clock.Advance(wide(time.Second))
	if ch, all, _ := p.Busy("d", post, global); len(ch) != 0 || all {
		t.Fatalf("still busy once a slot freed: %v %v", ch, all)
	}
	clock.Advance(2 * time.Second)
	p.Forget() // idle buckets go, and a call finds its whole burst again
	for range 2 {
		if at, _ := p.Reserve(map[string]bot.Limit{bot.ChannelBucket("d", "A"): post}); !at.Equal(clock.Now()) {
			t.Fatalf("forgotten bucket's slot %v from now", at.Sub(clock.Now()))
		}
	}
}
