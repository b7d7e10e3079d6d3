package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/storage"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// TestProbe: the readiness probe commits a write and leaves nothing
// behind; on a closed database it fails.
func TestProbe(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for range 3 {
			if err := db.Probe(ctx); err != nil {
				t.Fatalf("probe: %v", err)
			}
		}
		if n, err := db.RowCount(ctx, "notices"); err != nil || n != 0 {
			t.Fatalf("notices after probing = %d, %v; want none", n, err)
		}
		db.Close()
		if err := db.Probe(ctx); err == nil {
			t.Fatal("probe of a closed database succeeded")
		}
	})
}
