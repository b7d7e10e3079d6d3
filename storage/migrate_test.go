package storage_test

import (
	"context"
	"testing"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/storage"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// initSchema is the version of the first, frozen schema. Every later change
// is a migration of its own, tested from a database that version created.
const initSchema = 1

// TestMigrateFromInit migrates a database created and filled by the first
// schema to the newest one: what was there survives and reads back, and
// the new columns take their defaults.
func TestMigrateFromInit(t *testing.T) {
	ctx := context.Background()
	for _, engine := range storagetest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			db := storagetest.OpenUnmigrated(t, engine)
			if err := db.MigrateTo(ctx, initSchema); err != nil {
				t.Fatal(err)
			}
			if cur, latest, err := db.SchemaVersion(ctx); err != nil || cur != initSchema || latest <= initSchema {
				t.Fatalf("SchemaVersion = %d, %d, %v; want %d and a newer one to migrate to", cur, latest, err, initSchema)
			}
			// Rows as the first schema had them, written with its columns.
			mustExec(t, db, `INSERT INTO items (conn, channel, thread_id, root_channel, root_msg_id, link, author_id, author_name,
				route, tags, status, card_conn, card_channel, created_at, updated_at)
				VALUES ('community', 'C1', 'M1', 'C1', 'M1', 'https://x.test/M1', 'U1', 'Mia', 'product', '["pricing"]', 'new', 'internal', 'C9', ?, ?)`,
				t0.Format("2006-01-02T15:04:05.000000Z07:00"), t0.Format("2006-01-02T15:04:05.000000Z07:00"))
			itemID, err := db.QueryInt(ctx, `SELECT id FROM items WHERE root_msg_id = 'M1'`)
			if err != nil {
				t.Fatal(err)
			}
			mustExec(t, db, `INSERT INTO messages (conn, channel, msg_id, item_id, author_id, author_name, text, created_at)
				VALUES ('community', 'C1', 'M1', ?, 'U1', 'Mia', 'what is the pricing', ?)`, itemID, t0.Format("2006-01-02T15:04:05.000000Z07:00"))

			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if err := db.CheckSchema(ctx); err != nil {
				t.Fatal(err)
			}
			inTx(t, db, func(tx bot.Tx) error {
				it, err := tx.Item(ctx, itemID)
				if err != nil {
					return err
				}
				if it.AuthorName != "Mia" || it.AuthorHandle != "" || it.Route != "product" || len(it.Tags) != 1 || !it.CreatedAt.Equal(t0) {
					t.Errorf("item after migration = %+v", it)
				}
				m, err := tx.MessageByKey(ctx, bot.MessageKey{Conn: "community", Channel: "C1", ID: "M1"})
				if err != nil {
					return err
				}
				if m.Text != "what is the pricing" || m.ItemID != itemID || m.AuthorHandle != "" {
					t.Errorf("message after migration = %+v", m)
				}
				// The new columns hold what they are given.
				m.ID, m.Key.ID, m.AuthorHandle = 0, "M2", "mia"
				if ok, err := tx.InsertMessage(ctx, m); err != nil || !ok {
					t.Errorf("insert after migration: %v, %v", ok, err)
				}
				got, err := tx.MessageByKey(ctx, m.Key)
				if err != nil || got.AuthorHandle != "mia" {
					t.Errorf("message with a handle = %+v, %v", got, err)
				}
				return nil
			})
		})
	}
}

func mustExec(t *testing.T, db *storage.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.Exec(context.Background(), query, args...); err != nil {
		t.Fatal(err)
	}
}
