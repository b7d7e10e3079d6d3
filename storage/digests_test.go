package storage_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/storage"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// TestDigestRuns: a digest's period is recorded once, by name and end;
// another digest, or another period, is recorded beside it; runs list
// latest first with what was written.
func TestDigestRuns(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		week := 7 * 24 * time.Hour
		end := t0.Truncate(time.Second)
		run := func(name string, end time.Time) *bot.DigestRun {
			return &bot.DigestRun{Name: name, PeriodStart: end.Add(-week), PeriodEnd: end, CreatedAt: t0}
		}
		insert := func(d *bot.DigestRun) bool {
			t.Helper()
			var ok bool
			inTx(t, db, func(tx bot.Tx) (err error) {
				ok, err = tx.InsertDigest(ctx, d)
				return err
			})
			return ok
		}
		first := run("weekly", end)
		if !insert(first) || first.ID == 0 {
			t.Fatalf("first insert: id %d, want a new row", first.ID)
		}
		again := run("weekly", end)
		again.PeriodStart = end.Add(-time.Hour) // a different schedule, same end: still that period
		if insert(again) {
			t.Fatal("the same digest's period was recorded twice")
		}
		if again.ID != 0 {
			t.Errorf("a skipped insert set id %d", again.ID)
		}
		if !insert(run("monthly", end)) {
			t.Error("another digest ending at the same time was not recorded")
		}
		if !insert(run("weekly", end.Add(week))) {
			t.Error("the next period was not recorded")
		}
		inTx(t, db, func(tx bot.Tx) error { return tx.SetDigestJob(ctx, first.ID, 42) })
		err := db.InTx(ctx, func(tx bot.Tx) error { return tx.SetDigestJob(ctx, 9999, 1) })
		wantNotFound(t, err)

		var runs []*bot.DigestRun
		inTx(t, db, func(tx bot.Tx) (err error) {
			runs, err = tx.DigestRuns(ctx, "weekly", 10)
			return err
		})
		if len(runs) != 2 {
			t.Fatalf("%d weekly runs, want 2", len(runs))
		}
		if !runs[0].PeriodEnd.Equal(end.Add(week)) || runs[0].JobID != 0 {
			t.Errorf("latest run = %+v, want the next period, no job yet", runs[0])
		}
		want := bot.DigestRun{ID: first.ID, Name: "weekly", PeriodStart: end.Add(-week), PeriodEnd: end, JobID: 42, CreatedAt: t0}
		wantEqual(t, *runs[1], want)
		inTx(t, db, func(tx bot.Tx) (err error) {
			runs, err = tx.DigestRuns(ctx, "weekly", 1)
			return err
		})
		if len(runs) != 1 || !runs[0].PeriodEnd.Equal(end.Add(week)) {
			t.Errorf("runs with limit 1 = %+v", runs)
		}
	})
}

// TestDigestRunConcurrent: replicas recording the same period at once
// record it once, and none of them fails.
func TestDigestRunConcurrent(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		end := t0.Truncate(time.Second)
		const replicas = 8
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			won  int
			errs []error
		)
		start := make(chan struct{})
		for range replicas {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				err := db.InTx(ctx, func(tx bot.Tx) error {
					ok, err := tx.InsertDigest(ctx, &bot.DigestRun{Name: "weekly", PeriodStart: end.Add(-time.Hour), PeriodEnd: end, CreatedAt: t0})
					if ok {
						mu.Lock()
						won++
						mu.Unlock()
					}
					return err
				})
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}()
		}
		close(start)
		wg.Wait()
		if len(errs) > 0 {
			t.Fatalf("concurrent inserts failed: %v", errs)
		}
		if won != 1 {
			t.Errorf("%d replicas recorded the period, want 1", won)
		}
		if n, err := db.QueryInt(ctx, `SELECT COUNT(*) FROM digests`); err != nil || n != 1 {
			t.Errorf("%d digest rows (%v), want 1", n, err)
		}
	})
}
