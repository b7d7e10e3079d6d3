package storage_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/storage"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// statsView runs fn in a View that must succeed.
func statsView(t *testing.T, db *storage.DB, fn func(tx bot.Tx) error) {
	t.Helper()
	if err := db.View(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// TestStatsRows: the rows statistics read, on the hand-written history of
// storagetest.SeedStats (see it for each row).
func TestStatsRows(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s := storagetest.SeedStats(t, db)
		from, to := storagetest.StatsFrom, storagetest.StatsTo
		prevFrom := from.Add(-7 * 24 * time.Hour)
		ids := func(names ...string) []int64 {
			var out []int64
			for _, n := range names {
				out = append(out, s.Items[n])
			}
			return out
		}
		itemIDs := func(items []bot.StatsItem) []int64 {
			var out []int64
			for _, it := range items {
				out = append(out, it.ID)
			}
			return out
		}

		t.Run("Items", func(t *testing.T) {
			var all, product, prev []bot.StatsItem
			statsView(t, db, func(tx bot.Tx) (err error) {
				if all, err = tx.StatsItems(ctx, from, to, ""); err != nil {
					return err
				}
				if product, err = tx.StatsItems(ctx, from, to, "product"); err != nil {
					return err
				}
				prev, err = tx.StatsItems(ctx, prevFrom, from, "")
				return err
			})
			// Opened in [from, to), oldest first: I1 at from exactly is in,
			// E at to exactly is not; P4 answered in this period was opened
			// in the previous one.
			wantEqual(t, itemIDs(all), ids("I1", "I8", "I2", "I3", "I4", "I5", "I7", "I6"))
			wantEqual(t, itemIDs(product), ids("I1", "I2", "I4", "I5", "I7", "I6"))
			wantEqual(t, itemIDs(prev), ids("P1", "P2", "P3", "P4"))
			i2 := all[2]
			want := bot.StatsItem{ID: s.Items["I2"], Route: "product", Status: bot.ItemAnswered, Tags: []string{"billing", "login"},
				CreatedAt: time.Date(2026, 10, 23, 9, 0, 0, 0, time.UTC), FirstAnsweredAt: ptr(time.Date(2026, 10, 23, 15, 0, 0, 0, time.UTC))}
			wantEqual(t, i2, want)
			if i5 := all[5]; i5.FirstAnsweredAt != nil || i5.Tags[0] != "billing" || i5.Status != bot.ItemAwaitingApproval {
				t.Errorf("I5 = %+v", i5)
			}
		})

		t.Run("Waiting", func(t *testing.T) {
			var all, product []bot.StatsItem
			statsView(t, db, func(tx bot.Tx) (err error) {
				if all, err = tx.StatsWaiting(ctx, ""); err != nil {
					return err
				}
				product, err = tx.StatsWaiting(ctx, "product")
				return err
			})
			// New, claimed, drafting or awaiting approval, whenever opened;
			// I6 (ignored) and the answered items are not waiting.
			wantEqual(t, itemIDs(all), ids("W0", "I5", "I7", "E"))
			wantEqual(t, itemIDs(product), ids("I5", "I7", "E"))
		})

		t.Run("Approvals", func(t *testing.T) {
			var all, product, prev []bot.StatsApproval
			statsView(t, db, func(tx bot.Tx) (err error) {
				if all, err = tx.StatsApprovals(ctx, from, to, ""); err != nil {
					return err
				}
				if product, err = tx.StatsApprovals(ctx, from, to, "product"); err != nil {
					return err
				}
				prev, err = tx.StatsApprovals(ctx, prevFrom, from, "")
				return err
			})
			names := func(as []bot.StatsApproval) []int64 {
				var out []int64
				for _, a := range as {
					out = append(out, a.DraftID)
				}
				return out
			}
			d := func(ns ...string) []int64 {
				var out []int64
				for _, n := range ns {
					out = append(out, s.Drafts[n])
				}
				return out
			}
			// By decision time. D3 went out without review (no approver),
			// D5 was rejected, D6 is undecided: none counts. D8 (awaiting
			// its signer) and D9 (a correction) were approved.
			wantEqual(t, names(all), d("D1", "D4", "D2", "D9", "D8", "D7"))
			wantEqual(t, names(product), d("D1", "D2", "D9", "D8", "D7"))
			wantEqual(t, names(prev), d("D10"))
			want := bot.StatsApproval{DraftID: s.Drafts["D7"], Route: "product",
				SubmittedAt: time.Date(2026, 10, 28, 20, 0, 0, 0, time.UTC), DecidedAt: time.Date(2026, 10, 28, 23, 0, 0, 0, time.UTC)}
			wantEqual(t, all[5], want)
		})

		t.Run("AwaitingApproval", func(t *testing.T) {
			var all, product, support int
			statsView(t, db, func(tx bot.Tx) (err error) {
				if all, err = tx.StatsAwaitingApproval(ctx, ""); err != nil {
					return err
				}
				if product, err = tx.StatsAwaitingApproval(ctx, "product"); err != nil {
					return err
				}
				support, err = tx.StatsAwaitingApproval(ctx, "support")
				return err
			})
			// D6 pending, D8 awaiting its signer, both on product.
			if all != 2 || product != 2 || support != 0 {
				t.Errorf("awaiting approval: %d all, %d product, %d support; want 2, 2, 0", all, product, support)
			}
		})

		t.Run("Responders", func(t *testing.T) {
			var all, support, prev []bot.Count
			statsView(t, db, func(tx bot.Tx) (err error) {
				if all, err = tx.StatsResponders(ctx, from, to, ""); err != nil {
					return err
				}
				if support, err = tx.StatsResponders(ctx, from, to, "support"); err != nil {
					return err
				}
				prev, err = tx.StatsResponders(ctx, prevFrom, from, "")
				return err
			})
			sortByName := func(cs []bot.Count) []bot.Count {
				slices.SortFunc(cs, func(a, b bot.Count) int { return strings.Compare(a.Name, b.Name) })
				return cs
			}
			// Replies published in the period: D1, D2 (Alice), D3 (Carol),
			// D4 (Bob). D7 went out after the period, D9 is a correction.
			wantEqual(t, sortByName(all), []bot.Count{{Name: "Alice Martin", N: 2}, {Name: "Bob Stone", N: 1}, {Name: "Carol", N: 1}})
			wantEqual(t, sortByName(support), []bot.Count{{Name: "Bob Stone", N: 1}, {Name: "Carol", N: 1}})
			wantEqual(t, prev, []bot.Count{{Name: "Bob Stone", N: 1}})
		})

		t.Run("Members", func(t *testing.T) {
			type counts struct{ members, returning int }
			var all, product, prev counts
			statsView(t, db, func(tx bot.Tx) (err error) {
				if all.members, all.returning, err = tx.StatsMembers(ctx, from, to, ""); err != nil {
					return err
				}
				if product.members, product.returning, err = tx.StatsMembers(ctx, from, to, "product"); err != nil {
					return err
				}
				prev.members, prev.returning, err = tx.StatsMembers(ctx, prevFrom, from, "")
				return err
			})
			// In the period: M1, M2, M3, M4, M5, M7 (a follow-up), M8 (no
			// route) on community, and M1 on other: 8 (M9 wrote at to
			// exactly). Returning: M1 and M2 (the previous week) and M4 (1
			// October, unrouted) on community; M1 never wrote on other.
			if all != (counts{8, 3}) {
				t.Errorf("members = %+v, want {8 3}", all)
			}
			// On product: M1, M7 (I1), M2 (I2, I7), M3 (I4), M4 (I5), M5
			// (I6); returning M1, M2, M4, whatever they wrote before.
			if product != (counts{6, 3}) {
				t.Errorf("members on product = %+v, want {6 3}", product)
			}
			// The week before: M1, M2, M10, M11; M10 opened W0 on 10 October.
			if prev != (counts{4, 1}) {
				t.Errorf("members the week before = %+v, want {4 1}", prev)
			}
		})
	})
}
