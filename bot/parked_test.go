package bot_test

import (
	"errors"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/bot/mock"
	"github.com/liaison-bot/liaison/storage"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// TestReplyBeforeTheCardIsRecorded: the card went out but its answer was
// lost, so Liaison does not know its thread yet; a staff member answers in
// that thread at once with the reply prefix. The draft is not lost: it is
// made once the card is recorded, and only once.
func TestReplyBeforeTheCardIsRecorded(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.staff.FailNext(mock.Failure{Kind: bot.OpPostCard, Err: errors.New("connection reset"), Applied: true})
		e.receive(e.post(helpChan, "pricing for teams"), bot.IntakeNew)
		e.drain()
		posts := e.staff.Posts(productCh)
		if len(posts) != 1 || posts[0].Card == nil {
			t.Fatalf("posts = %+v, want the card", posts)
		}
		thread := posts[0].ID
		if it := e.item(posts[0].Card.ItemID); it.CardThread != "" {
			t.Fatalf("the card is recorded already (thread %q): the answer was meant to be lost", it.CardThread)
		}

		if out := e.threadMessage(carol, thread, "r1", "!reply It ships on Monday."); out != bot.IntakeParked {
			t.Fatalf("!reply in the unrecorded card's thread: %s, want parked", out)
		}
		if out := e.threadMessage(carol, thread, "r1", "!reply It ships on Monday."); out != bot.IntakeParked {
			t.Fatalf("the same message redelivered: %s, want parked", out)
		}
		if out := e.threadMessage(carol, "1700000000.000001", "r2", "!reply elsewhere"); out != bot.IntakeParked {
			t.Fatalf("an unknown thread of a card channel: %s, want parked", out)
		}

		e.clock.Advance(5 * time.Minute) // the retry is due; it finds the card
		e.drain()
		_, it := e.card(productCh)
		if it.CardThread != thread {
			t.Fatalf("card thread = %q, want %q", it.CardThread, thread)
		}
		ds := e.drafts(it.ID)
		if len(ds) != 1 || ds[0].Text() != "It ships on Monday." {
			t.Fatalf("drafts = %+v, want the parked reply, once", ds)
		}
		// Replaying again changes nothing; the unknown thread stays parked.
		if err := e.svc.ReplayParked(e.ctx); err != nil {
			t.Fatal(err)
		}
		if ds := e.drafts(it.ID); len(ds) != 1 {
			t.Fatalf("%d drafts after a second replay, want 1", len(ds))
		}
		if n, err := e.db.RowCount(e.ctx, "parked"); err != nil || n != 1 {
			t.Fatalf("%d parked messages left (%v), want 1 (the unknown thread's)", n, err)
		}
		// A day later it is dropped, when another message is parked: it
		// was no card's.
		e.clock.Advance(25 * time.Hour)
		if out := e.threadMessage(carol, "1700000000.000002", "r3", "!reply later"); out != bot.IntakeParked {
			t.Fatalf("another unknown thread: %s, want parked", out)
		}
		if n, err := e.db.RowCount(e.ctx, "parked"); err != nil || n != 1 {
			t.Fatalf("%d parked messages a day later (%v), want 1 (the newest)", n, err)
		}
	})
}
