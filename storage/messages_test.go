package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/storage"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// TestLastMessage: the newest stored message of a channel is the one with
// the greatest snowflake, whatever the order messages were stored in, and
// each channel of each connection has its own.
func TestLastMessage(t *testing.T) {
	ctx := context.Background()
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		last := func(conn, channel string) (string, error) {
			var id string
			err := db.View(ctx, func(tx bot.Tx) error {
				m, err := tx.LastMessage(ctx, conn, channel)
				if err == nil {
					id = m.Key.ID
				}
				return err
			})
			return id, err
		}
		_, err := last("community", "C1")
		wantNotFound(t, err)

		// Stored out of order (a backfill after live events); a shorter
		// snowflake is older even though it sorts after as text.
		ids := []string{"1300000000000000002", "999999999999999999", "1300000000000000010", "1300000000000000009"}
		inTx(t, db, func(tx bot.Tx) error {
			for i, id := range ids {
				m := &bot.Message{Key: bot.MessageKey{Conn: "community", Channel: "C1", ID: id}, AuthorID: "U1", CreatedAt: t0.Add(time.Duration(i) * time.Second)}
				if _, err := tx.InsertMessage(ctx, m); err != nil {
					return err
				}
			}
			for _, k := range []bot.MessageKey{{Conn: "community", Channel: "C2", ID: "1400000000000000000"}, {Conn: "other", Channel: "C1", ID: "1500000000000000000"}} {
				if _, err := tx.InsertMessage(ctx, &bot.Message{Key: k, AuthorID: "U1", CreatedAt: t0}); err != nil {
					return err
				}
			}
			return nil
		})
		if got, err := last("community", "C1"); err != nil || got != "1300000000000000010" {
			t.Errorf("LastMessage(community, C1) = %q, %v; want 1300000000000000010", got, err)
		}
		if got, err := last("community", "C2"); err != nil || got != "1400000000000000000" {
			t.Errorf("LastMessage(community, C2) = %q, %v", got, err)
		}
		if got, err := last("other", "C1"); err != nil || got != "1500000000000000000" {
			t.Errorf("LastMessage(other, C1) = %q, %v", got, err)
		}
	})
}

// TestMessagesByMirror: the messages of an item copied into one internal
// post, in id order; not those of another post or of another item with
// the same post id, nor those without a copy.
func TestMessagesByMirror(t *testing.T) {
	ctx := context.Background()
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		it := createItem(t, db, newItem("M1", "1"))
		other := createItem(t, db, newItem("M1", "2"))
		msg := func(id string, itemID int64, mirror string) *bot.Message {
			m := &bot.Message{Key: bot.MessageKey{Conn: "community", Channel: "C1", ID: id}, ItemID: itemID, AuthorID: "M1", MirrorID: mirror, CreatedAt: t0}
			return insertMessage(t, db, m)
		}
		a := msg("a", it.ID, "P1")
		msg("b", it.ID, "P2")
		c := msg("c", it.ID, "P1")
		msg("d", it.ID, "")
		msg("e", other.ID, "P1")
		var got []int64
		inTx(t, db, func(tx bot.Tx) error {
			ms, err := tx.MessagesByMirror(ctx, it.ID, "P1")
			for _, m := range ms {
				got = append(got, m.ID)
			}
			return err
		})
		wantEqual(t, got, []int64{a.ID, c.ID})
	})
}
