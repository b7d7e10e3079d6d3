package bench

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var out []time.Duration
		for _, n := range ns {
			out = append(out, time.Duration(n)*time.Millisecond)
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // 100 … 1, unsorted on purpose
	}
	tests := []struct {
		name string
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{"Empty", nil, 50, 0},
		{"One", ms(7), 99, 7 * time.Millisecond},
		{"MedianOdd", ms(5, 1, 3), 50, 3 * time.Millisecond},
		{"MedianEvenIsLowerMiddle", ms(4, 1, 3, 2), 50, 2 * time.Millisecond},
		{"P99Of100IsSecondLargest", ms(hundred...), 99, 99 * time.Millisecond},
		{"P50Of100", ms(hundred...), 50, 50 * time.Millisecond},
		{"Max", ms(hundred...), 100, 100 * time.Millisecond},
		{"P99Of10IsLargest", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.in, tt.p); got != tt.want {
				t.Errorf("percentile(%v, %v) = %v, want %v", tt.in, tt.p, got, tt.want)
			}
		})
	}
	t.Run("LeavesItsInputAlone", func(t *testing.T) {
		in := ms(3, 1, 2)
		percentile(in, 50)
		if in[0] != 3*time.Millisecond || in[1] != time.Millisecond {
			t.Errorf("percentile sorted its input: %v", in)
		}
	})
}

func TestBurstBounds(t *testing.T) {
	limit := slackLimit{perSecond: 1}
	t.Run("OneChannel", func(t *testing.T) {
		// The burst: 200 items, each with follow-ups.
		b := burstBounds([]channelLoad{{cards: 200, threads: 200}}, limit)
		if b.cards != 200*time.Second || b.all != 400*time.Second || b.posts != 400 {
			t.Errorf("bounds = %+v, want cards 200s, all 400s, 400 posts", b)
		}
	})
	t.Run("SlowestChannelDecides", func(t *testing.T) {
		b := burstBounds([]channelLoad{{cards: 20, threads: 20}, {cards: 25, threads: 10}, {cards: 10, threads: 10}}, limit)
		if b.cards != 25*time.Second || b.all != 40*time.Second || b.posts != 40 {
			t.Errorf("bounds = %+v, want cards 25s (channel 2), all 40s and 40 posts (channel 1)", b)
		}
	})
	t.Run("FasterLimit", func(t *testing.T) {
		b := burstBounds([]channelLoad{{cards: 10, threads: 5}}, slackLimit{perSecond: 5})
		if b.cards != 2*time.Second || b.all != 3*time.Second {
			t.Errorf("bounds = %+v, want cards 2s, all 3s", b)
		}
	})
}

func TestPlanLoads(t *testing.T) {
	t.Run("IssueBurstOneChannel", func(t *testing.T) {
		p := newPlan(1, 200, 800)
		loads := p.loads()
		if len(loads) != 1 || loads[0] != (channelLoad{cards: 200, threads: 200}) {
			t.Errorf("loads = %+v, want one channel of 200 cards and 200 thread posts", loads)
		}
		if p.messages() != 1000 || p.busiest() != 1000 {
			t.Errorf("messages %d, busiest %d, want 1000 and 1000", p.messages(), p.busiest())
		}
	})
	t.Run("SpreadOverTen", func(t *testing.T) {
		p := newPlan(10, 200, 800)
		for i, l := range p.loads() {
			if l != (channelLoad{cards: 20, threads: 20}) {
				t.Errorf("channel %d: load %+v, want 20 cards and 20 thread posts", i, l)
			}
		}
		if p.busiest() != 100 {
			t.Errorf("busiest channel gets %d messages, want 100", p.busiest())
		}
	})
	t.Run("ItemsWithoutFollowUpsNeedNoThreadPost", func(t *testing.T) {
		p := newPlan(1, 10, 4)
		if l := p.loads()[0]; l != (channelLoad{cards: 10, threads: 4}) {
			t.Errorf("load = %+v, want 10 cards and 4 thread posts", l)
		}
	})
	t.Run("FollowUpsStayInTheirItemsChannel", func(t *testing.T) {
		p := newPlan(3, 9, 30)
		per := map[*planItem]int{}
		for _, f := range p.followUps {
			per[f.item]++
		}
		for _, it := range p.items {
			if per[it] < 3 || per[it] > 4 {
				t.Errorf("item %s has %d follow-ups, want 3 or 4 (30 spread over 9)", it.marker, per[it])
			}
		}
	})
}

func TestGoals(t *testing.T) {
	tests := []struct {
		name        string
		took, bound time.Duration
		want        bool
	}{
		{"WellWithin", 100 * time.Second, 200 * time.Second, true},
		{"AtBoundPlusMargin", 205 * time.Second, 200 * time.Second, true},
		{"JustOver", 205*time.Second + time.Millisecond, 200 * time.Second, false},
		{"Never", -1, 200 * time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := within(tt.took, tt.bound); got != tt.want {
				t.Errorf("within(%v, %v) = %v, want %v", tt.took, tt.bound, got, tt.want)
			}
		})
	}
	t.Run("Share429", func(t *testing.T) {
		// The measure: 191 of 391 calls answered 429.
		if s := share(191, 391); s < 0.488 || s > 0.489 || s < goal429Share {
			t.Errorf("share(191, 391) = %v, want about 0.49, far over the goal", s)
		}
		if s := share(9, 1000); s >= goal429Share {
			t.Errorf("share(9, 1000) = %v, want under the goal of %v", s, goal429Share)
		}
		if s := share(10, 1000); s < goal429Share {
			t.Errorf("share(10, 1000) = %v, want not under the goal of %v", s, goal429Share)
		}
		if share(0, 0) != 0 {
			t.Error("share of no calls is not 0")
		}
	})
}

func TestParseStatCPU(t *testing.T) {
	// A real line, of a process whose name holds a space and a parenthesis.
	const stat = "4242 (liaison (x) run) S 1 4242 4242 0 -1 4194560 2534 0 0 0 157 43 0 0 20 0 9 0 123456 1234567890 6000 18446744073709551615 1 1 0 0 0 0 0 0 2143420159 0 0 0 17 1 0 0 0 0 0"
	got, err := parseStatCPU(stat)
	if err != nil {
		t.Fatal(err)
	}
	if want := 2 * time.Second; got != want {
		t.Errorf("parseStatCPU = %v, want %v (157 + 43 ticks of 10ms)", got, want)
	}
	if _, err := parseStatCPU("4242 (liaison) S 1"); err == nil {
		t.Error("a short line parsed without error")
	}
}

func TestTSTime(t *testing.T) {
	got := tsTime("1732525200.000123")
	want := time.Unix(1732525200, 123000)
	if !got.Equal(want) {
		t.Errorf("tsTime = %v, want %v", got, want)
	}
}
