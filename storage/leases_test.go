package storage_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/storage"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// acquire runs AcquireLease in a transaction of its own.
func acquire(t *testing.T, db *storage.DB, name, owner string, now time.Time, ttl time.Duration) bool {
	t.Helper()
	var ok bool
	err := db.InTx(context.Background(), func(tx bot.Tx) (err error) {
		ok, err = tx.AcquireLease(context.Background(), name, owner, now, ttl)
		return err
	})
	if err != nil {
		t.Fatalf("AcquireLease(%s, %s): %v", name, owner, err)
	}
	return ok
}

func release(t *testing.T, db *storage.DB, name, owner string) {
	t.Helper()
	if err := db.InTx(context.Background(), func(tx bot.Tx) error { return tx.ReleaseLease(context.Background(), name, owner) }); err != nil {
		t.Fatalf("ReleaseLease(%s, %s): %v", name, owner, err)
	}
}

func TestLeases(t *testing.T) {
	const ttl = 10 * time.Second
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		t.Run("OneHolder", func(t *testing.T) {
			if !acquire(t, db, "gw", "a", t0, ttl) {
				t.Fatal("a free lease was refused")
			}
			if acquire(t, db, "gw", "b", t0.Add(ttl-time.Microsecond), ttl) {
				t.Fatal("b took a lease a holds until it expires")
			}
			// a renews: b must wait for the new expiry.
			if !acquire(t, db, "gw", "a", t0.Add(5*time.Second), ttl) {
				t.Fatal("a could not renew its lease")
			}
			if acquire(t, db, "gw", "b", t0.Add(ttl+time.Second), ttl) {
				t.Fatal("b took a lease a renewed")
			}
			// Another name is another lease.
			if !acquire(t, db, "other", "b", t0, ttl) {
				t.Fatal("b was refused a lease nobody holds")
			}
		})

		t.Run("TakeOverExpired", func(t *testing.T) {
			if !acquire(t, db, "gw2", "a", t0, ttl) {
				t.Fatal("a free lease was refused")
			}
			if !acquire(t, db, "gw2", "b", t0.Add(ttl), ttl) {
				t.Fatal("b could not take over an expired lease")
			}
			// a, back from a pause, no longer holds it.
			if acquire(t, db, "gw2", "a", t0.Add(ttl+time.Second), ttl) {
				t.Fatal("a renewed a lease b took over")
			}
		})

		t.Run("Release", func(t *testing.T) {
			if !acquire(t, db, "gw3", "a", t0, ttl) {
				t.Fatal("a free lease was refused")
			}
			release(t, db, "gw3", "b") // not b's: nothing changes
			if acquire(t, db, "gw3", "b", t0.Add(time.Second), ttl) {
				t.Fatal("b's release freed a's lease")
			}
			release(t, db, "gw3", "a")
			if !acquire(t, db, "gw3", "b", t0.Add(time.Second), ttl) {
				t.Fatal("b could not take a released lease")
			}
		})

		t.Run("Invalid", func(t *testing.T) {
			for _, c := range []struct {
				name, owner string
				ttl         time.Duration
			}{{"", "a", ttl}, {"x", "", ttl}, {"x", "a", 0}} {
				err := db.InTx(context.Background(), func(tx bot.Tx) error {
					_, err := tx.AcquireLease(context.Background(), c.name, c.owner, t0, c.ttl)
					return err
				})
				if err == nil {
					t.Errorf("AcquireLease(%q, %q, %v) succeeded", c.name, c.owner, c.ttl)
				}
			}
		})

		// Owners racing for a free lease: exactly one gets it.
		t.Run("Race", func(t *testing.T) {
			const n = 8
			var wg sync.WaitGroup
			won := make([]bool, n)
			errs := make([]error, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = db.InTx(context.Background(), func(tx bot.Tx) (err error) {
						won[i], err = tx.AcquireLease(context.Background(), "race", string(rune('a'+i)), t0, ttl)
						return err
					})
				}()
			}
			wg.Wait()
			winners := 0
			for i := range n {
				if errs[i] != nil {
					t.Errorf("owner %d: %v", i, errs[i])
				}
				if won[i] {
					winners++
				}
			}
			if winners != 1 {
				t.Errorf("%d owners hold the lease, want 1", winners)
			}
		})
	})
}
