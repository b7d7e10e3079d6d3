package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/liaison-bot/liaison/bot"
)

// Probe checks that the database takes a write now, for readiness probes.
// It runs a transaction the way every flow does (on SQLite through the
// group committer, taking the write lock) that stores a row and removes it
// again: nothing is left behind, but the commit reaches the disk, so a
// full disk, a write lock another process holds or a read-only database
// fail it, as they would fail the next message taken in. The row's key is
// the probe's own, so replicas probing at once do not wait on each other.
func (db *DB) Probe(ctx context.Context) error {
	b := make([]byte, 8)
	rand.Read(b)
	key := "probe:" + hex.EncodeToString(b)
	err := db.InTx(ctx, func(t bot.Tx) error {
		tx := t.(*tx)
		if _, err := tx.exec(ctx, `INSERT INTO notices (key, at) VALUES (?, ?)`, key, at(time.Now())); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `DELETE FROM notices WHERE key = ?`, key)
		return err
	})
	if err != nil {
		return fmt.Errorf("probe %s database %s: %w", db.d.engine, db.name, err)
	}
	return nil
}
