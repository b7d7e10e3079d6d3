package storagetest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/storage"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// TestDump: every table is listed, and a value written through the store
// is found in the dump, on each engine, while the store is open.
func TestDump(t *testing.T) {
	for _, engine := range storagetest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			dsn := storagetest.DSN(t, engine)
			db, err := storage.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			const marker = "marker-4f1c9e"
			err = db.InTx(ctx, func(tx bot.Tx) error {
				return tx.AppendAudit(ctx, &bot.AuditEvent{At: time.Now(), Actor: "system", Action: "test", Subject: "test:1", After: `{"reason":"` + marker + `"}`})
			})
			if err != nil {
				t.Fatal(err)
			}
			dump := storagetest.Dump(t, dsn)
			for _, table := range []string{"items", "messages", "drafts", "profiles", "audit_events", "outbox", "notices", "goose_db_version"} {
				if !strings.Contains(dump, "== "+table+"\n") {
					t.Errorf("table %s missing from the dump", table)
				}
			}
			if !strings.Contains(dump, marker) {
				t.Errorf("the audit event's text is not in the dump:\n%s", dump)
			}
		})
	}
}
