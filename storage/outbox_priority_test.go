package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/storage"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// TestClaimMostUrgentFirst: whatever the order they were written in, a
// public reply is claimed before a new card, a card before a note, a note
// before a refresh; among equals, the earliest due first.
func TestClaimMostUrgentFirst(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		refresh := enqueue(t, db, &bot.OutboxJob{Kind: bot.OpUpdateCard, Conn: "s", Channel: "C1", OrderKey: "a"})
		note := enqueue(t, db, &bot.OutboxJob{Kind: bot.OpPostNote, Conn: "s", Channel: "C1", OrderKey: "b"})
		card2 := enqueue(t, db, &bot.OutboxJob{Kind: bot.OpPostCard, Conn: "s", Channel: "C1", OrderKey: "c", RunAt: t0.Add(-time.Second)})
		card := enqueue(t, db, &bot.OutboxJob{Kind: bot.OpPostCard, Conn: "s", Channel: "C1", OrderKey: "d", RunAt: t0.Add(-2 * time.Second)})
		public := enqueue(t, db, &bot.OutboxJob{Kind: bot.OpPublish, Conn: "d", Channel: "P1", OrderKey: "e"})
		var got []int64
		for range 5 {
			jobs := claim(t, db, "w", t0, 1)
			if len(jobs) != 1 {
				t.Fatalf("claimed %d jobs, want 1", len(jobs))
			}
			got = append(got, jobs[0].ID)
		}
		wantEqual(t, got, []int64{public.ID, card.ID, card2.ID, note.ID, refresh.ID})
	})
}

// TestClaimSkipsBusyBuckets: a busy channel's posts wait, not its
// updates; a busy connection's jobs all wait; others go.
func TestClaimSkipsBusyBuckets(t *testing.T) {
	ctx := context.Background()
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		post := enqueue(t, db, &bot.OutboxJob{Kind: bot.OpPostCard, Conn: "s", Channel: "C1", OrderKey: "a"})
		update := enqueue(t, db, &bot.OutboxJob{Kind: bot.OpUpdateCard, Conn: "s", Channel: "C1", OrderKey: "b"})
		other := enqueue(t, db, &bot.OutboxJob{Kind: bot.OpPostNote, Conn: "s", Channel: "C2", OrderKey: "c"})
		discord := enqueue(t, db, &bot.OutboxJob{Kind: bot.OpPostCard, Conn: "d", Channel: "C1", OrderKey: "d"})
		skip := bot.Skip{Channels: []string{bot.ChannelBucket("s", "C1")}, Conns: []string{"d"}}
		jobs, err := db.ClaimJobs(ctx, "w", t0, time.Minute, 10, skip)
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, jobIDs(jobs), []int64{other.ID, update.ID})
		jobs, err = db.ClaimJobs(ctx, "w", t0, time.Minute, 10, bot.Skip{})
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, jobIDs(jobs), []int64{post.ID, discord.ID})
	})
}

// TestMergeJobs: the pending jobs right behind one, in its order key, are
// listed up to a running one, and merged into it only while pending.
func TestMergeJobs(t *testing.T) {
	ctx := context.Background()
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		first := enqueue(t, db, &bot.OutboxJob{Kind: bot.OpPostNote, OrderKey: "item:1"})
		second := enqueue(t, db, &bot.OutboxJob{Kind: bot.OpPostNote, OrderKey: "item:1"})
		third := enqueue(t, db, &bot.OutboxJob{Kind: bot.OpPostNote, OrderKey: "item:1"})
		enqueue(t, db, &bot.OutboxJob{Kind: bot.OpPostNote, OrderKey: "item:2"})
		wantEqual(t, jobIDs(claim(t, db, "w", t0, 1)), []int64{first.ID})
		var next []*bot.OutboxJob
		inTx(t, db, func(tx bot.Tx) (err error) {
			next, err = tx.FollowingJobs(ctx, "item:1", first.ID, 10)
			return err
		})
		wantEqual(t, jobIDs(next), []int64{second.ID, third.ID})
		inTx(t, db, func(tx bot.Tx) error {
			return tx.MergeJobs(ctx, first.ID, "w", `{"merged":[2,3]}`, []int64{second.ID, third.ID}, t0)
		})
		if j := job(t, db, second.ID); j.State != bot.JobDone {
			t.Fatalf("merged job is %s, want done", j.State)
		}
		if j := job(t, db, first.ID); j.Payload != `{"merged":[2,3]}` || j.State != bot.JobRunning {
			t.Fatalf("job merged into: %+v", j)
		}
		// Merging a job that is no longer pending is a conflict, and
		// changes nothing.
		err := db.InTx(ctx, func(tx bot.Tx) error {
			return tx.MergeJobs(ctx, first.ID, "w", `{}`, []int64{third.ID}, t0)
		})
		if err == nil {
			t.Fatal("merged a job already done")
		}
		if j := job(t, db, first.ID); j.Payload != `{"merged":[2,3]}` {
			t.Fatalf("a refused merge changed the payload: %q", j.Payload)
		}
	})
}
