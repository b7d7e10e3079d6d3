package app

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/bot/mock"
	"github.com/liaison-bot/liaison/config"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

func TestPreviousFiring(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	utc := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, time.UTC) }
	for _, tc := range []struct {
		spec string
		loc  *time.Location
		t    time.Time
		want time.Time
	}{
		// Monday 9:00 in Paris is 8:00 UTC in winter.
		{"0 9 * * MON", paris, utc(2025, 1, 13, 8, 0), utc(2025, 1, 6, 8, 0)},
		{"0 9 * * MON", paris, utc(2025, 1, 13, 8, 0).Add(time.Nanosecond), utc(2025, 1, 13, 8, 0)},
		{"0 9 * * MON", paris, utc(2025, 1, 15, 12, 0), utc(2025, 1, 13, 8, 0)},
		// Across the change to summer time (30 March 2025): 7:00 UTC after.
		{"0 9 * * MON", paris, utc(2025, 4, 1, 0, 0), utc(2025, 3, 31, 7, 0)},
		{"0 9 * * MON", time.UTC, utc(2025, 1, 13, 9, 30), utc(2025, 1, 13, 9, 0)},
		{"0 * * * *", time.UTC, utc(2025, 1, 13, 9, 30), utc(2025, 1, 13, 9, 0)},
		{"0 8 1 * *", time.UTC, utc(2025, 3, 1, 8, 0), utc(2025, 2, 1, 8, 0)},
		{"@yearly", time.UTC, utc(2025, 6, 1, 0, 0), utc(2025, 1, 1, 0, 0)},
		// Every 29 February: four years back.
		{"0 0 29 2 *", time.UTC, utc(2028, 2, 1, 0, 0), utc(2024, 2, 29, 0, 0)},
	} {
		d := config.Digest{Schedule: tc.spec}
		s, _, err := d.Plan()
		if err != nil {
			t.Fatal(err)
		}
		if got := previousFiring(s, tc.t, tc.loc); !got.Equal(tc.want) {
			t.Errorf("%q in %v before %s: got %s, want %s", tc.spec, tc.loc, tc.t, got, tc.want)
		}
	}
}

// scheduler is the digests of one replica, on a store, at a clock.
type scheduler struct {
	*Digests
	log *strings.Builder
}

func newScheduler(t *testing.T, store bot.Store, clock *mock.Clock, digests ...config.Digest) scheduler {
	t.Helper()
	var buf strings.Builder
	log := slog.New(slog.NewTextHandler(&lockedWriter{w: &buf}, nil))
	svc := bot.NewService(store, nil, bot.NewRouter(nil, nil), bot.Settings{Company: "Acme"})
	svc.Clock, svc.Log = clock.Now, slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := newDigests(&config.Config{Digests: digests}, svc, log)
	if err != nil {
		t.Fatal(err)
	}
	if d.svc.Charts == nil {
		t.Error("the digests' charts are not drawn")
	}
	return scheduler{d, &buf}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func runs(t *testing.T, s scheduler, name string) []*bot.DigestRun {
	t.Helper()
	rs, err := s.svc.DigestRuns(context.Background(), name, 100)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

var weeklyDigest = config.Digest{Name: "weekly", Schedule: "0 9 * * MON", TimeZone: "Europe/Paris",
	Destination: config.Destination{Connection: "internal", Channel: "C0LEADS"}}

// TestDigestsFire: a digest is scheduled when its firing time passes, for
// the period since the one before, once; a replica that starts at the
// firing time catches up on it without scheduling it twice; one that
// starts long after it does not post a stale digest.
func TestDigestsFire(t *testing.T) {
	ctx := context.Background()
	store := storagetest.Open(t, "sqlite")
	// Monday 13 January 2025, 9:00 in Paris.
	firing := time.Date(2025, 1, 13, 8, 0, 0, 0, time.UTC)
	week := 7 * 24 * time.Hour
	clock := mock.NewClock(firing.Add(-time.Hour))
	s := newScheduler(t, store, clock, weeklyDigest)

	s.fire(ctx)
	if rs := runs(t, s, "weekly"); len(rs) != 0 {
		t.Fatalf("a week-old firing was caught up on: %+v", rs[0])
	}
	if !strings.Contains(s.log.String(), "digest not caught up") {
		t.Errorf("the skipped catch-up is not logged:\n%s", s.log)
	}
	clock.Advance(59 * time.Minute)
	s.fire(ctx)
	if rs := runs(t, s, "weekly"); len(rs) != 0 {
		t.Fatal("scheduled before its time")
	}
	clock.Advance(time.Minute)
	s.fire(ctx)
	rs := runs(t, s, "weekly")
	if len(rs) != 1 || !rs[0].PeriodEnd.Equal(firing) || !rs[0].PeriodStart.Equal(firing.Add(-week)) || rs[0].JobID == 0 {
		t.Fatalf("runs = %+v, want the week to Monday 9:00 Paris with its job", rs)
	}
	clock.Advance(time.Hour)
	s.fire(ctx)
	if rs := runs(t, s, "weekly"); len(rs) != 1 {
		t.Fatalf("%d runs an hour later, want still 1", len(rs))
	}

	// A restart at the firing time: the new replica catches up, the
	// store says it is done.
	restarted := newScheduler(t, store, clock, weeklyDigest)
	restarted.fire(ctx)
	if rs := runs(t, s, "weekly"); len(rs) != 1 {
		t.Fatalf("%d runs after a restart, want still 1", len(rs))
	}
	if !strings.Contains(restarted.log.String(), "digest period already scheduled") {
		t.Errorf("the restarted replica did not look at the firing it missed:\n%s", restarted.log)
	}

	// The next Monday.
	clock.Advance(week)
	s.fire(ctx)
	restarted.fire(ctx)
	rs = runs(t, s, "weekly")
	if len(rs) != 2 || !rs[0].PeriodEnd.Equal(firing.Add(week)) || !rs[0].PeriodStart.Equal(firing) {
		t.Fatalf("runs = %+v, want the next week too", rs)
	}
}

// TestDigestsCatchUp: a replica that starts after a firing no replica saw
// posts it if it is still the same day (or period, when shorter).
func TestDigestsCatchUp(t *testing.T) {
	ctx := context.Background()
	firing := time.Date(2025, 1, 13, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		digest  config.Digest
		late    time.Duration
		caught  bool
		periodh int
	}{
		{"WeeklyThatMorning", weeklyDigest, 3 * time.Hour, true, 7 * 24},
		{"WeeklyNextDay", weeklyDigest, 25 * time.Hour, false, 0},
		{"HourlyWithinTheHour", config.Digest{Name: "hourly", Schedule: "0 * * * *", Destination: weeklyDigest.Destination}, 59 * time.Minute, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := storagetest.Open(t, "sqlite")
			clock := mock.NewClock(firing.Add(tc.late))
			s := newScheduler(t, store, clock, tc.digest)
			s.fire(ctx)
			rs := runs(t, s, tc.digest.Name)
			if !tc.caught {
				if len(rs) != 0 {
					t.Fatalf("caught up %s late: %+v", tc.late, rs[0])
				}
				return
			}
			if len(rs) != 1 || !rs[0].PeriodEnd.Equal(firing) || rs[0].PeriodEnd.Sub(rs[0].PeriodStart) != time.Duration(tc.periodh)*time.Hour {
				t.Fatalf("runs = %+v, want the period ending at the missed firing", rs)
			}
		})
	}
}

// TestDigestsRun: Run fires on its ticks until its context ends.
func TestDigestsRun(t *testing.T) {
	store := storagetest.Open(t, "sqlite")
	firing := time.Date(2025, 1, 13, 8, 0, 0, 0, time.UTC)
	clock := mock.NewClock(firing.Add(-time.Minute))
	s := newScheduler(t, store, clock, weeklyDigest)
	s.Tick = time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	clock.Advance(2 * time.Minute)
	deadline := time.Now().Add(10 * time.Second)
	for len(runs(t, s, "weekly")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the firing was never scheduled")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}
