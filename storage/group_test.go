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

func TestOpenItem(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		at := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
		open := func(msgID string) (*bot.Item, *bot.Message, *bot.OutboxJob, bool, error) {
			it := &bot.Item{Conn: "c", Channel: "C1", ThreadID: msgID, RootMsgID: msgID, Status: bot.ItemNew, Tags: []string{"x"},
				CardConn: "i", CardChannel: "C9", CreatedAt: at, UpdatedAt: at}
			m := &bot.Message{Key: bot.MessageKey{Conn: "c", Channel: "C1", ID: msgID}, Text: "hello", Attachments: []bot.Attachment{{Name: "a.png", URL: "https://x.test/a.png"}}, CreatedAt: at}
			j := &bot.OutboxJob{Kind: bot.OpPostCard, Conn: "i", Channel: "C9", State: bot.JobPending, RunAt: at, CreatedAt: at}
			var ok bool
			err := db.InTx(ctx, func(tx bot.Tx) (err error) {
				ok, err = tx.OpenItem(ctx, it, m, j)
				if err == nil && !ok {
					return errors.New("duplicate")
				}
				return err
			})
			return it, m, j, ok, err
		}
		it, m, j, ok, err := open("M1")
		if err != nil || !ok {
			t.Fatalf("open: %v %v", ok, err)
		}
		if it.ID == 0 || m.ItemID != it.ID || j.ItemID != it.ID || j.OrderKey != bot.ItemOrderKey(it.ID) || j.ID == 0 {
			t.Fatalf("ids not set: item %+v message %+v job %+v", it, m, j)
		}
		if err := db.InTx(ctx, func(tx bot.Tx) error {
			got, err := tx.MessageByKey(ctx, m.Key)
			if err != nil || got.ItemID != it.ID || len(got.Attachments) != 1 || !got.CreatedAt.Equal(at) {
				t.Errorf("message = %+v, %v", got, err)
			}
			job, err := tx.Job(ctx, j.ID)
			if err != nil || job.OrderKey != j.OrderKey || job.State != bot.JobPending || !job.RunAt.Equal(at) {
				t.Errorf("job = %+v, %v", job, err)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if _, _, _, ok, err := open("M1"); ok || err == nil {
			t.Fatalf("a redelivered message opened an item: %v %v", ok, err)
		}
	})
}
