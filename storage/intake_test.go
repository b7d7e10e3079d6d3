package storage_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/storage"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// openRequest is an item with its first message and card job, as intake
// opens them.
func openRequest(key string) (*bot.Item, *bot.Message, *bot.OutboxJob) {
	it := &bot.Item{Conn: "community", Channel: "C1", ThreadID: key, RootMsgID: key, AuthorID: "U1", AuthorName: "Mia",
		Route: "support", Tags: []string{"t"}, Status: bot.ItemNew, CardConn: "internal", CardChannel: "C9", CreatedAt: t0, UpdatedAt: t0}
	m := &bot.Message{Key: bot.MessageKey{Conn: "community", Channel: "C1", ID: key}, AuthorID: "U1", AuthorName: "Mia",
		Text: "text of " + key, CreatedAt: t0}
	j := &bot.OutboxJob{Kind: bot.OpPostCard, Conn: "internal", Channel: "C9", State: bot.JobPending, RunAt: t0, CreatedAt: t0}
	return it, m, j
}

var errDuplicate = errors.New("duplicate")

// TestConcurrentIntake: transactions opening items at once, as messages
// arriving together do (batched into one statement on Postgres), keep
// their own outcome. A message delivered twice is stored once; one that
// fails or panics after its OpenItem leaves nothing; one that writes more
// after its OpenItem keeps all of it, or none of it when it then fails.
func TestConcurrentIntake(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		type outcome struct {
			key      string
			err      error
			panicked any
			it       *bot.Item
			m        *bot.Message
			j        *bot.OutboxJob
		}
		var (
			keys []string // one transaction each
			wg   sync.WaitGroup
			mu   sync.Mutex
			outs []outcome
		)
		for i := range 30 {
			keys = append(keys, fmt.Sprintf("N%d", i), fmt.Sprintf("N%d", i)) // delivered twice
		}
		for i := range 10 {
			keys = append(keys, fmt.Sprintf("F%d", i), fmt.Sprintf("X%d", i))
		}
		for i := range 5 {
			keys = append(keys, fmt.Sprintf("P%d", i), fmt.Sprintf("Y%d", i))
		}
		start := make(chan struct{})
		for _, key := range keys {
			wg.Go(func() {
				<-start
				o := outcome{key: key}
				o.it, o.m, o.j = openRequest(key)
				func() {
					defer func() { o.panicked = recover() }()
					o.err = db.InTx(ctx, func(tx bot.Tx) error {
						ok, err := tx.OpenItem(ctx, o.it, o.m, o.j)
						if err != nil {
							return err
						}
						if !ok {
							return errDuplicate
						}
						switch key[0] {
						case 'F':
							return errors.New("fails after opening")
						case 'P':
							panic("panics after opening")
						case 'X', 'Y':
							// A second job for the item, in the same transaction.
							if _, err := tx.Enqueue(ctx, &bot.OutboxJob{Kind: bot.OpPostNote, ItemID: o.it.ID, Conn: "internal", Channel: "C9",
								OrderKey: bot.ItemOrderKey(o.it.ID), RunAt: t0, CreatedAt: t0}); err != nil {
								return err
							}
							if key[0] == 'Y' {
								return errors.New("fails after writing more")
							}
						}
						return nil
					})
				}()
				mu.Lock()
				outs = append(outs, o)
				mu.Unlock()
			})
		}
		close(start)
		wg.Wait()

		stored := map[string]outcome{}
		for _, o := range outs {
			switch key := o.key; {
			case key[0] == 'P':
				if o.panicked != "panics after opening" {
					t.Errorf("%s: panic %v, want it raised again in the caller", key, o.panicked)
				}
			case key[0] == 'N' && errors.Is(o.err, errDuplicate):
			case key[0] == 'N' || key[0] == 'X':
				if o.err != nil {
					t.Errorf("%s: %v", key, o.err)
					continue
				}
				if _, twice := stored[key]; twice {
					t.Errorf("%s was stored twice", key)
				}
				stored[key] = o
			case o.err == nil:
				t.Errorf("%s: no error, want the transaction's own", key)
			}
		}
		if len(stored) != 40 {
			t.Fatalf("%d messages stored, want 40 (30 delivered twice, 10 with a second job)", len(stored))
		}
		for _, table := range []struct {
			name string
			want int64
		}{{"items", 40}, {"messages", 40}, {"outbox", 50}} {
			if n, err := db.RowCount(ctx, table.name); err != nil || n != table.want {
				t.Errorf("%d rows in %s, %v; want %d: a failed transaction left rows, or a kept one lost some", n, table.name, err, table.want)
			}
		}
		inTx(t, db, func(tx bot.Tx) error {
			for key, o := range stored {
				m, err := tx.MessageByKey(ctx, o.m.Key)
				if err != nil {
					return fmt.Errorf("%s: %w", key, err)
				}
				if m.ID != o.m.ID || m.ItemID != o.it.ID || m.Text != "text of "+key {
					t.Errorf("%s: stored message %+v, want id %d of item %d", key, m, o.m.ID, o.it.ID)
				}
				it, err := tx.Item(ctx, o.it.ID)
				if err != nil {
					return fmt.Errorf("%s: %w", key, err)
				}
				if it.RootMsgID != key || it.Route != "support" || len(it.Tags) != 1 || !it.CreatedAt.Equal(t0) {
					t.Errorf("%s: stored item %+v", key, it)
				}
				j, err := tx.Job(ctx, o.j.ID)
				if err != nil {
					return fmt.Errorf("%s: %w", key, err)
				}
				if j.ItemID != o.it.ID || j.OrderKey != bot.ItemOrderKey(o.it.ID) || j.Kind != bot.OpPostCard || j.State != bot.JobPending {
					t.Errorf("%s: stored job %+v", key, j)
				}
			}
			return nil
		})
	})
}

// TestOpenBatch: a batch of OpenItems (Postgres) stores each row, a row the
// database refuses fails alone, a message already stored or already in the
// batch is not stored again, and a transaction that fails after its
// OpenItem leaves nothing while the others commit.
func TestOpenBatch(t *testing.T) {
	for _, engine := range storagetest.Engines(t) {
		if engine != "postgres" {
			continue // batches are Postgres's
		}
		t.Run(engine, func(t *testing.T) {
			db := storagetest.Open(t, engine)
			ctx := context.Background()
			req := func(key string, fail bool) *storage.OpenRequest {
				it, m, j := openRequest(key)
				return &storage.OpenRequest{Item: it, Message: m, Job: j, Fail: fail}
			}
			stored := func(key string) bool {
				var found bool
				if err := db.View(ctx, func(tx bot.Tx) error {
					_, err := tx.MessageByKey(ctx, bot.MessageKey{Conn: "community", Channel: "C1", ID: key})
					found = err == nil
					if errors.Is(err, bot.ErrNotFound) {
						err = nil
					}
					return err
				}); err != nil {
					t.Fatal(err)
				}
				return found
			}

			t.Run("OK", func(t *testing.T) {
				reqs := []*storage.OpenRequest{req("A1", false), req("A2", false), req("A3", false)}
				if later := db.RunOpenBatch(ctx, reqs); later != 0 {
					t.Fatalf("%d requests put off, want none", later)
				}
				ids := map[int64]bool{}
				for _, r := range reqs {
					if !r.OK || r.Err != nil || r.Item.ID == 0 || r.Message.ItemID != r.Item.ID || r.Job.ItemID != r.Item.ID || ids[r.Item.ID] {
						t.Errorf("%s: ok %v, %v, item %d, message %+v, job %+v", r.Message.Key.ID, r.OK, r.Err, r.Item.ID, r.Message, r.Job)
					}
					ids[r.Item.ID] = true
					if !stored(r.Message.Key.ID) {
						t.Errorf("%s not stored", r.Message.Key.ID)
					}
				}
			})

			t.Run("RowRefused", func(t *testing.T) {
				bad := req("B2", false)
				bad.Message.Text = "a NUL \x00 Postgres cannot store"
				reqs := []*storage.OpenRequest{req("B1", false), bad, req("B3", false)}
				db.RunOpenBatch(ctx, reqs)
				if bad.OK || bad.Err == nil || stored("B2") {
					t.Errorf("refused row: ok %v, err %v, stored %v; want an error and nothing stored", bad.OK, bad.Err, stored("B2"))
				}
				for _, r := range []*storage.OpenRequest{reqs[0], reqs[2]} {
					if !r.OK || r.Err != nil || !stored(r.Message.Key.ID) {
						t.Errorf("%s, batched with a refused row: ok %v, %v; want stored", r.Message.Key.ID, r.OK, r.Err)
					}
				}
			})

			t.Run("Duplicates", func(t *testing.T) {
				reqs := []*storage.OpenRequest{req("A1", false), req("C1", false), req("C1", false)}
				if later := db.RunOpenBatch(ctx, reqs); later != 1 {
					t.Fatalf("%d requests put off, want the second C1", later)
				}
				if reqs[0].OK || reqs[0].Err != nil || reqs[0].Item.ID != 0 {
					t.Errorf("redelivered A1: ok %v, %v, item %d; want not stored, no error", reqs[0].OK, reqs[0].Err, reqs[0].Item.ID)
				}
				if !reqs[1].OK || reqs[1].Err != nil {
					t.Errorf("C1: ok %v, %v", reqs[1].OK, reqs[1].Err)
				}
				again := []*storage.OpenRequest{reqs[2]}
				db.RunOpenBatch(ctx, again)
				if again[0].OK || again[0].Err != nil {
					t.Errorf("C1 in the next batch: ok %v, %v; want a duplicate", again[0].OK, again[0].Err)
				}
				if n, err := db.RowCount(ctx, "items"); err != nil || n != 6 {
					t.Errorf("%d items, %v; want 6: a duplicate stored an item", n, err)
				}
			})

			t.Run("MemberFails", func(t *testing.T) {
				reqs := []*storage.OpenRequest{req("D1", false), req("D2", true), req("D3", false)}
				db.RunOpenBatch(ctx, reqs)
				if reqs[1].Err == nil || stored("D2") {
					t.Errorf("failed transaction: %v, stored %v; want its error and nothing stored", reqs[1].Err, stored("D2"))
				}
				if n, err := db.QueryInt(ctx, `SELECT COUNT(*) FROM outbox WHERE item_id = ?`, reqs[1].Item.ID); err != nil || n != 0 {
					t.Errorf("failed transaction left %d jobs, %v", n, err)
				}
				if n, err := db.QueryInt(ctx, `SELECT COUNT(*) FROM items WHERE id = ?`, reqs[1].Item.ID); err != nil || n != 0 {
					t.Errorf("failed transaction left %d items, %v", n, err)
				}
				for _, r := range []*storage.OpenRequest{reqs[0], reqs[2]} {
					if !r.OK || r.Err != nil || !stored(r.Message.Key.ID) {
						t.Errorf("%s, batched with a failed one: ok %v, %v; want stored", r.Message.Key.ID, r.OK, r.Err)
					}
				}
				// Its key is free again.
				retry := []*storage.OpenRequest{req("D2", false)}
				db.RunOpenBatch(ctx, retry)
				if !retry[0].OK || retry[0].Err != nil {
					t.Errorf("D2 again: ok %v, %v; want stored", retry[0].OK, retry[0].Err)
				}
			})
		})
	}
}

// TestTransactionWithoutStatements: a transaction that runs no statement
// reports what its function returned.
func TestTransactionWithoutStatements(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		if err := db.InTx(ctx, func(bot.Tx) error { return nil }); err != nil {
			t.Errorf("InTx = %v, want nil", err)
		}
		boom := errors.New("boom")
		if err := db.InTx(ctx, func(bot.Tx) error { return boom }); !errors.Is(err, boom) {
			t.Errorf("InTx = %v, want boom", err)
		}
		if err := db.View(ctx, func(bot.Tx) error { return boom }); !errors.Is(err, boom) {
			t.Errorf("View = %v, want boom", err)
		}
	})
}
