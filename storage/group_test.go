package storage_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/storage"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// Transactions running together (group commit on SQLite) keep their own
// outcome: a failing or panicking one leaves nothing, the others commit.
func TestConcurrentTransactionsKeepTheirOwnOutcome(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		at := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
		errFail := errors.New("fail on purpose")
		const n = 60
		var wg sync.WaitGroup
		errs := make([]error, n)
		panics := make([]any, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { panics[i] = recover() }()
				errs[i] = db.InTx(ctx, func(tx bot.Tx) error {
					m := &bot.Message{Key: bot.MessageKey{Conn: "c", Channel: "C1", ID: fmt.Sprint(i)}, Text: "x", CreatedAt: at}
					if _, err := tx.InsertMessage(ctx, m); err != nil {
						return err
					}
					switch i % 3 {
					case 1:
						return errFail
					case 2:
						if i%2 == 0 {
							panic("boom")
						}
					}
					return nil
				})
			}()
		}
		wg.Wait()
		for i := range n {
			var err error
			if e := db.InTx(ctx, func(tx bot.Tx) error {
				_, err = tx.MessageByKey(ctx, bot.MessageKey{Conn: "c", Channel: "C1", ID: fmt.Sprint(i)})
				return nil
			}); e != nil {
				t.Fatal(e)
			}
			switch {
			case i%3 == 1:
				if !errors.Is(errs[i], errFail) || !errors.Is(err, bot.ErrNotFound) {
					t.Errorf("tx %d failed (%v) but its row exists (%v)", i, errs[i], err)
				}
			case i%3 == 2 && i%2 == 0:
				if panics[i] != "boom" || !errors.Is(err, bot.ErrNotFound) {
					t.Errorf("tx %d panicked (%v) but its row exists (%v)", i, panics[i], err)
				}
			default:
				if errs[i] != nil || panics[i] != nil || err != nil {
					t.Errorf("tx %d: %v %v, row: %v", i, errs[i], panics[i], err)
				}
			}
		}
	})
}
