package storage_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/storage"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// job reads one job back, outside any callback that could fail the test.
func job(t *testing.T, db *storage.DB, id int64) *bot.OutboxJob {
	t.Helper()
	var j *bot.OutboxJob
	err := db.View(context.Background(), func(tx bot.Tx) (err error) {
		j, err = tx.Job(context.Background(), id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestExtendJobLease(t *testing.T) {
	ctx := context.Background()
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		t.Run("OK", func(t *testing.T) {
			j := enqueue(t, db, &bot.OutboxJob{OrderKey: "extend"})
			wantEqual(t, jobIDs(claim(t, db, "w1", t0, 10)), []int64{j.ID})
			// The claim's lease ends at t0+1m; the renewal moves it to t0+3m.
			if err := db.ExtendJobLease(ctx, j.ID, "w1", t0.Add(3*time.Minute)); err != nil {
				t.Fatal(err)
			}
			if got := claim(t, db, "w2", t0.Add(2*time.Minute), 10); len(got) != 0 {
				t.Fatalf("w2 claimed %v while w1's renewed lease ran", jobIDs(got))
			}
			got := claim(t, db, "w2", t0.Add(3*time.Minute), 10)
			wantEqual(t, jobIDs(got), []int64{j.ID})
			if !got[0].Uncertain {
				t.Fatal("a job whose renewed lease expired came back certain")
			}
			inTx(t, db, func(tx bot.Tx) error { return tx.CompleteJob(ctx, j.ID, "w2", "{}", t0) })
		})

		t.Run("LapsedButNotTaken", func(t *testing.T) {
			j := enqueue(t, db, &bot.OutboxJob{OrderKey: "lapsed"})
			claim(t, db, "w1", t0, 10)
			// Nobody claimed it after its lease ended: it is still w1's.
			if err := db.ExtendJobLease(ctx, j.ID, "w1", t0.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if got := claim(t, db, "w2", t0.Add(30*time.Minute), 10); len(got) != 0 {
				t.Fatalf("w2 claimed %v", jobIDs(got))
			}
			inTx(t, db, func(tx bot.Tx) error { return tx.CompleteJob(ctx, j.ID, "w1", "{}", t0) })
		})

		t.Run("ErrReclaimed", func(t *testing.T) {
			j := enqueue(t, db, &bot.OutboxJob{OrderKey: "reclaimed"})
			claim(t, db, "w1", t0, 10)
			wantEqual(t, jobIDs(claim(t, db, "w2", t0.Add(time.Minute), 10)), []int64{j.ID})
			wantCode(t, db.ExtendJobLease(ctx, j.ID, "w1", t0.Add(time.Hour)), bot.ECONFLICT)
			// The new holder's lease is untouched: it ends at t0+2m.
			if got := claim(t, db, "w3", t0.Add(2*time.Minute-time.Second), 10); len(got) != 0 {
				t.Fatalf("w3 claimed %v", jobIDs(got))
			}
			wantEqual(t, jobIDs(claim(t, db, "w3", t0.Add(2*time.Minute), 10)), []int64{j.ID})
			inTx(t, db, func(tx bot.Tx) error { return tx.CompleteJob(ctx, j.ID, "w3", "{}", t0) })
		})

		t.Run("ErrFinished", func(t *testing.T) {
			j := enqueue(t, db, &bot.OutboxJob{OrderKey: "finished"})
			claim(t, db, "w1", t0, 10)
			inTx(t, db, func(tx bot.Tx) error { return tx.CompleteJob(ctx, j.ID, "w1", "{}", t0) })
			wantCode(t, db.ExtendJobLease(ctx, j.ID, "w1", t0.Add(time.Hour)), bot.ECONFLICT)
			if got := job(t, db, j.ID); got.State != bot.JobDone {
				t.Fatalf("job after a refused renewal: %+v", got)
			}
		})

		t.Run("ErrNotFound", func(t *testing.T) {
			wantNotFound(t, db.ExtendJobLease(ctx, 9999, "w1", t0))
		})
	})
}

func TestReleaseJobs(t *testing.T) {
	ctx := context.Background()
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		// w1 holds two jobs, one of them reclaimed from a dead worker (so
		// uncertain); w2 holds a third.
		a := enqueue(t, db, &bot.OutboxJob{OrderKey: "a", RunAt: t0.Add(-time.Minute)})
		wantEqual(t, jobIDs(claim(t, db, "dead", t0, 1)), []int64{a.ID})
		b := enqueue(t, db, &bot.OutboxJob{OrderKey: "b", CoalesceKey: "card:b"})
		c := enqueue(t, db, &bot.OutboxJob{OrderKey: "c"})
		wantEqual(t, jobIDs(claim(t, db, "w1", t0.Add(time.Minute), 2)), []int64{a.ID, b.ID})
		wantEqual(t, jobIDs(claim(t, db, "w2", t0.Add(time.Minute), 1)), []int64{c.ID})
		// An update of b, enqueued while b runs, holds b's coalesce key.
		b2 := enqueue(t, db, &bot.OutboxJob{OrderKey: "b", CoalesceKey: "card:b"})

		n, err := db.ReleaseJobs(ctx, "w1")
		if err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Fatalf("released %d jobs, want 2", n)
		}
		gotA, gotB, gotC := job(t, db, a.ID), job(t, db, b.ID), job(t, db, c.ID)
		if gotA.State != bot.JobPending || gotA.LockedBy != "" || gotA.LockedAt != nil || !gotA.Uncertain || !gotA.RunAt.Equal(a.RunAt) || gotA.Attempts != 0 {
			t.Errorf("released uncertain job: %+v; want pending, unlocked, still uncertain, due as before", gotA)
		}
		if gotB.State != bot.JobPending || gotB.LockedBy != "" || gotB.Uncertain || !gotB.RunAt.Equal(t0) || gotB.CoalesceKey != "" {
			t.Errorf("released job: %+v; want pending, unlocked, certain, due as before, its coalesce key given up", gotB)
		}
		if gotC.State != bot.JobRunning || gotC.LockedBy != "w2" {
			t.Errorf("w2's job after w1 released its own: %+v", gotC)
		}
		// Released, they are claimable at once, in order.
		wantEqual(t, jobIDs(claim(t, db, "w3", t0.Add(time.Minute), 10)), []int64{a.ID, b.ID})
		if b2.ID == 0 || job(t, db, b2.ID).State != bot.JobPending {
			t.Errorf("the later update of b: %+v", job(t, db, b2.ID))
		}
		// Nothing held: nothing released.
		if n, err := db.ReleaseJobs(ctx, "w1"); err != nil || n != 0 {
			t.Errorf("second release = %d, %v; want 0", n, err)
		}
	})
}

func TestOutboxStats(t *testing.T) {
	ctx := context.Background()
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		if due, oldest, err := db.OutboxStats(ctx, t0); err != nil || due != 0 || oldest != 0 {
			t.Fatalf("empty outbox: %d, %v, %v", due, oldest, err)
		}
		running := enqueue(t, db, &bot.OutboxJob{OrderKey: "run", RunAt: t0.Add(-3 * time.Minute)})
		wantEqual(t, jobIDs(claim(t, db, "w", t0.Add(-3*time.Minute), 1)), []int64{running.ID})
		enqueue(t, db, &bot.OutboxJob{OrderKey: "p1", RunAt: t0.Add(-2 * time.Minute)})
		enqueue(t, db, &bot.OutboxJob{OrderKey: "p2", RunAt: t0})
		enqueue(t, db, &bot.OutboxJob{OrderKey: "later", RunAt: t0.Add(time.Hour)})
		done := enqueue(t, db, &bot.OutboxJob{OrderKey: "done", RunAt: t0.Add(-time.Hour)})
		wantEqual(t, jobIDs(claim(t, db, "w", t0.Add(-time.Hour), 1)), []int64{done.ID})
		inTx(t, db, func(tx bot.Tx) error { return tx.CompleteJob(ctx, done.ID, "w", "{}", t0) })

		due, oldest, err := db.OutboxStats(ctx, t0)
		if err != nil {
			t.Fatal(err)
		}
		if due != 3 || oldest != 3*time.Minute {
			t.Fatalf("OutboxStats = %d due, oldest %v; want 3 (running, two pending), 3m", due, oldest)
		}
	})
}

func TestPublishJobs(t *testing.T) {
	ctx := context.Background()
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		first := enqueue(t, db, &bot.OutboxJob{Kind: bot.OpPublish, DraftID: 7, IdemKey: "publish:draft:7:v1", CreatedAt: t0})
		enqueue(t, db, &bot.OutboxJob{Kind: bot.OpPostDraftCard, DraftID: 7})
		enqueue(t, db, &bot.OutboxJob{Kind: bot.OpPublish, DraftID: 8, IdemKey: "publish:draft:8:v1"})
		// Publications are claimed before the draft card (most urgent first).
		wantEqual(t, jobIDs(claim(t, db, "w", t0, 10)), []int64{first.ID, first.ID + 2, first.ID + 1})
		inTx(t, db, func(tx bot.Tx) error { return tx.KillJob(ctx, first.ID, "w", "gone", t0) })
		second := enqueue(t, db, &bot.OutboxJob{Kind: bot.OpPublish, DraftID: 7, IdemKey: "publish:draft:7:v1:retry", CreatedAt: t0.Add(time.Hour)})

		var got []*bot.OutboxJob
		err := db.View(ctx, func(tx bot.Tx) (err error) {
			got, err = tx.PublishJobs(ctx, 7)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, jobIDs(got), []int64{first.ID, second.ID})
		if got[0].State != bot.JobDead || !got[0].CreatedAt.Equal(t0) || got[1].State != bot.JobPending {
			t.Fatalf("publish jobs of draft 7: %+v, %+v", got[0], got[1])
		}
	})
}

// TestUnansweredItemsPages: however many items wait, paging by id visits
// each waiting item once, and no other.
func TestUnansweredItemsPages(t *testing.T) {
	ctx := context.Background()
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		var want []int64
		inTx(t, db, func(tx bot.Tx) error {
			for i := range 260 {
				it := newItem("U1", fmt.Sprintf("T%d", i))
				switch {
				case i%13 == 0:
					it.Status = bot.ItemAnswered
				case i%17 == 0:
					it.Status = bot.ItemIgnored
				case i%11 == 0:
					it.CreatedAt = t0.Add(time.Hour) // too recent
				case i%3 == 0:
					it.Status = bot.ItemAwaitingApproval
				case i%5 == 0:
					it.Status = bot.ItemClaimed
				}
				if err := tx.CreateItem(ctx, it); err != nil {
					return err
				}
				if it.Status != bot.ItemAnswered && it.Status != bot.ItemIgnored && it.CreatedAt.Equal(t0) {
					want = append(want, it.ID)
				}
			}
			return nil
		})
		if len(want) <= 200 {
			t.Fatalf("only %d waiting items: the test needs more than 200", len(want))
		}
		var got []int64
		var after int64
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("paging never ended")
			}
			var page []*bot.Item
			err := db.View(ctx, func(tx bot.Tx) (err error) {
				page, err = tx.UnansweredItems(ctx, t0.Add(time.Minute), after, 50)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range page {
				got = append(got, it.ID)
				after = it.ID
			}
			if len(page) < 50 {
				break
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("paged through %d items, want the %d waiting ones, once each, in id order", len(got), len(want))
		}
	})
}
