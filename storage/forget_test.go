package storage_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/storage"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// insertMessage stores a message that must be new.
func insertMessage(t *testing.T, db *storage.DB, m *bot.Message) *bot.Message {
	t.Helper()
	inTx(t, db, func(tx bot.Tx) error {
		ok, err := tx.InsertMessage(context.Background(), m)
		if err == nil && !ok {
			err = fmt.Errorf("message %s not inserted", m.Key.ID)
		}
		return err
	})
	return m
}

// sameAs is wantEqual for use inside a transaction, where failing at once
// would leave the transaction open.
func sameAs[T any](t *testing.T, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func memberMessage(id, author string, itemID int64, text string, at time.Time) *bot.Message {
	return &bot.Message{
		Key: bot.MessageKey{Conn: "community", Channel: "C1", ID: id}, ItemID: itemID, AuthorID: author,
		AuthorName: "Member " + author, AuthorHandle: "handle" + author, Text: text,
		Attachments: []bot.Attachment{{Name: "shot.png", URL: "https://cdn.example.com/" + id}},
		Link:        "https://example.com/" + id, MirrorID: "MIRROR-" + id, CreatedAt: at,
	}
}

func TestForgetMember(t *testing.T) {
	ctx := context.Background()
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		mine := createItem(t, db, newItem("U7", "M1"))
		mine.AuthorHandle = "handleU7"
		inTx(t, db, func(tx bot.Tx) error { return tx.UpdateItem(ctx, mine) })
		theirs := createItem(t, db, newItem("U8", "M4"))
		root := insertMessage(t, db, memberMessage("M1", "U7", mine.ID, "my email is u7@example.com", t0))
		followUp := insertMessage(t, db, memberMessage("M2", "U7", theirs.ID, "me too, call 555-0107", t0.Add(time.Minute)))
		unrouted := insertMessage(t, db, memberMessage("M3", "U7", 0, "unrouted words", t0.Add(2*time.Minute)))
		other := insertMessage(t, db, memberMessage("M4", "U8", theirs.ID, "the other member's words", t0))

		t1 := t0.Add(time.Hour)
		var erased []*bot.Message
		inTx(t, db, func(tx bot.Tx) (err error) {
			if before, err := tx.MemberForgotten(ctx, "community", "U7"); err != nil || before != nil {
				t.Errorf("MemberForgotten before = %v, %v; want nil", before, err)
			}
			erased, err = tx.ForgetMember(ctx, "community", "U7", "internal:U0BOB", t1)
			return err
		})
		if len(erased) != 3 || erased[0].ID != root.ID || erased[1].ID != followUp.ID || erased[2].ID != unrouted.ID {
			t.Fatalf("ForgetMember returned %+v; want M1, M2, M3 in id order", erased)
		}
		for _, m := range erased {
			if m.Text != "" || m.Attachments != nil || m.AuthorName != "" || m.AuthorHandle != "" || m.ForgottenAt == nil || !m.ForgottenAt.Equal(t1) {
				t.Errorf("erased message %s = %+v", m.Key.ID, m)
			}
			// What identifies it stays: the thread it is copied to, its link, its time.
			if m.AuthorID != "U7" || m.MirrorID != "MIRROR-"+m.Key.ID || m.Link != "https://example.com/"+m.Key.ID || m.CreatedAt.IsZero() {
				t.Errorf("erased message %s lost its row data: %+v", m.Key.ID, m)
			}
		}
		inTx(t, db, func(tx bot.Tx) error {
			got, err := tx.MessageByKey(ctx, root.Key)
			if err != nil {
				return err
			}
			sameAs(t, got, erased[0])
			got, err = tx.MessageByKey(ctx, other.Key)
			if err != nil {
				return err
			}
			sameAs(t, got, other)
			it, err := tx.Item(ctx, mine.ID)
			if err != nil {
				return err
			}
			if it.AuthorName != "" || it.AuthorHandle != "" || it.AuthorID != "U7" || it.Status != bot.ItemNew || it.Route != "default" {
				t.Errorf("forgotten member's item = %+v", it)
			}
			it, err = tx.Item(ctx, theirs.ID)
			if err != nil {
				return err
			}
			if it.AuthorName != "Member U8" {
				t.Errorf("another member's item lost its name: %+v", it)
			}
			items, err := tx.MemberItems(ctx, "community", "U7")
			if err != nil {
				return err
			}
			if len(items) != 1 || items[0].ID != mine.ID {
				t.Errorf("MemberItems after forgetting = %+v; want the item, kept", items)
			}
			when, err := tx.MemberForgotten(ctx, "community", "U7")
			if err != nil || when == nil || !when.Equal(t1) {
				t.Errorf("MemberForgotten = %v, %v; want %v", when, err, t1)
			}
			return nil
		})

		// Forgetting again erases nothing more; a message written since is
		// erased, and the record moves to the latest time.
		t2 := t1.Add(time.Hour)
		inTx(t, db, func(tx bot.Tx) error {
			again, err := tx.ForgetMember(ctx, "community", "U7", "internal:U0BOB", t2)
			if err != nil || len(again) != 0 {
				t.Errorf("second ForgetMember = %d messages, %v; want none", len(again), err)
			}
			return err
		})
		later := insertMessage(t, db, memberMessage("M5", "U7", 0, "back again", t2.Add(time.Minute)))
		t3 := t2.Add(time.Hour)
		inTx(t, db, func(tx bot.Tx) error {
			third, err := tx.ForgetMember(ctx, "community", "U7", "internal:U0LEAD", t3)
			if err != nil {
				return err
			}
			if len(third) != 1 || third[0].ID != later.ID || third[0].Text != "" {
				t.Errorf("third ForgetMember = %+v; want the later message erased", third)
			}
			when, err := tx.MemberForgotten(ctx, "community", "U7")
			if err != nil || when == nil || !when.Equal(t3) {
				t.Errorf("MemberForgotten = %v, %v; want %v", when, err, t3)
			}
			return err
		})

		// Another connection's member with the same id is someone else.
		inTx(t, db, func(tx bot.Tx) error {
			none, err := tx.ForgetMember(ctx, "elsewhere", "U8", "internal:U0BOB", t3)
			if err != nil || len(none) != 0 {
				t.Errorf("ForgetMember on another connection = %d, %v", len(none), err)
			}
			got, err := tx.MessageByKey(ctx, other.Key)
			if err != nil {
				return err
			}
			sameAs(t, got, other)
			return nil
		})
	})
}

func TestPurgeMessageText(t *testing.T) {
	ctx := context.Background()
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		it := createItem(t, db, newItem("U1", "P1"))
		var old []*bot.Message
		for i := 1; i <= 5; i++ {
			old = append(old, insertMessage(t, db, memberMessage(fmt.Sprintf("P%d", i), "U1", it.ID, fmt.Sprintf("old words %d", i), t0.Add(time.Duration(i)*time.Second))))
		}
		onlyFile := memberMessage("P6", "U1", it.ID, "", t0)
		insertMessage(t, db, onlyFile)
		empty := memberMessage("P7", "U1", it.ID, "", t0)
		empty.Attachments = nil
		insertMessage(t, db, empty)
		forgotten := insertMessage(t, db, memberMessage("P8", "U9", 0, "forgotten words", t0))
		recent := insertMessage(t, db, memberMessage("P9", "U1", it.ID, "recent words", t0.Add(48*time.Hour)))
		inTx(t, db, func(tx bot.Tx) error {
			_, err := tx.ForgetMember(ctx, "community", "U9", "internal:U0BOB", t0.Add(time.Hour))
			return err
		})

		before, now := t0.Add(24*time.Hour), t0.Add(49*time.Hour)
		var pages [][]*bot.Message
		after := int64(0)
		for range 10 {
			var page []*bot.Message
			inTx(t, db, func(tx bot.Tx) (err error) {
				page, err = tx.PurgeMessageText(ctx, before, after, 2, now)
				return err
			})
			pages = append(pages, page)
			if len(page) < 2 {
				break
			}
			after = page[len(page)-1].ID
		}
		// Five old messages with text and one with a file only: pages of
		// two, in id order, then an empty page.
		var got []string
		for i, page := range pages {
			for j, m := range page {
				got = append(got, m.Key.ID)
				if j > 0 && page[j-1].ID >= m.ID {
					t.Errorf("page %d not in id order", i)
				}
				if m.Text != "" || m.Attachments != nil || m.PurgedAt == nil || !m.PurgedAt.Equal(now) || m.ForgottenAt != nil {
					t.Errorf("purged %s = %+v", m.Key.ID, m)
				}
				if m.AuthorName != "Member U1" {
					t.Errorf("purge erased %s's author: %+v", m.Key.ID, m)
				}
			}
		}
		wantEqual(t, got, []string{"P1", "P2", "P3", "P4", "P5", "P6"})
		if n := len(pages); n != 4 || len(pages[3]) != 0 {
			t.Errorf("%d pages (last %d), want 3 of two and an empty one", n, len(pages[len(pages)-1]))
		}
		inTx(t, db, func(tx bot.Tx) error {
			for _, m := range []*bot.Message{recent, empty} {
				got, err := tx.MessageByKey(ctx, m.Key)
				if err != nil {
					return err
				}
				if got.PurgedAt != nil || got.Text != m.Text {
					t.Errorf("%s purged: %+v", m.Key.ID, got)
				}
			}
			got, err := tx.MessageByKey(ctx, forgotten.Key)
			if err != nil {
				return err
			}
			if got.PurgedAt != nil || got.ForgottenAt == nil {
				t.Errorf("a forgotten message was purged: %+v", got)
			}
			// Purged once: a later purge finds nothing.
			again, err := tx.PurgeMessageText(ctx, before, 0, 100, now.Add(time.Hour))
			if err != nil || len(again) != 0 {
				t.Errorf("second purge = %d messages, %v; want none", len(again), err)
			}
			m, err := tx.MessageByKey(ctx, old[0].Key)
			if err != nil || m.PurgedAt == nil || !m.PurgedAt.Equal(now) {
				t.Errorf("purged message reads back as %+v, %v", m, err)
			}
			return err
		})
	})
}

func TestAuditExportQueries(t *testing.T) {
	ctx := context.Background()
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		early := createItem(t, db, newItem("U1", "A1"))
		touched := newItem("U2", "A2")
		createItem(t, db, touched)
		late := newItem("U3", "A3")
		late.CreatedAt, late.UpdatedAt = t0.Add(48*time.Hour), t0.Add(48*time.Hour)
		createItem(t, db, late)
		touched.UpdatedAt = t0.Add(30 * time.Hour)
		inTx(t, db, func(tx bot.Tx) error { return tx.UpdateItem(ctx, touched) })

		var ids, paged []int64
		inTx(t, db, func(tx bot.Tx) (err error) {
			if ids, err = tx.AuditItemIDs(ctx, t0.Add(24*time.Hour), 0, 10); err != nil {
				return err
			}
			paged, err = tx.AuditItemIDs(ctx, t0, touched.ID, 1)
			return err
		})
		wantEqual(t, ids, []int64{touched.ID, late.ID})
		wantEqual(t, paged, []int64{late.ID})

		second := insertMessage(t, db, memberMessage("A1b", "U9", early.ID, "second", t0.Add(time.Minute)))
		first := insertMessage(t, db, memberMessage("A1", "U1", early.ID, "first", t0))
		insertMessage(t, db, memberMessage("A2", "U2", touched.ID, "elsewhere", t0))
		var msgs []*bot.Message
		inTx(t, db, func(tx bot.Tx) (err error) {
			msgs, err = tx.ItemMessages(ctx, early.ID, early.ID)
			return err
		})
		wantEqual(t, msgs, []*bot.Message{first, second})
		var both []*bot.Message
		inTx(t, db, func(tx bot.Tx) (err error) {
			both, err = tx.ItemMessages(ctx, min(early.ID, touched.ID), max(early.ID, touched.ID))
			return err
		})
		if len(both) != 3 {
			t.Errorf("messages of items %d to %d: %d, want 3", min(early.ID, touched.ID), max(early.ID, touched.ID), len(both))
		}
		for i := 1; i < len(both); i++ {
			if both[i-1].ItemID > both[i].ItemID {
				t.Errorf("messages not by item: %d before %d", both[i-1].ItemID, both[i].ItemID)
			}
		}
	})
}
