package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/storage"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// TestHomeViewers: one row a person and connection, replaced at each
// opening with the groups they held then; the lately opened are listed by
// connection.
func TestHomeViewers(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		save := func(v *bot.HomeViewer) {
			t.Helper()
			inTx(t, db, func(tx bot.Tx) error { return tx.SaveHomeViewer(ctx, v) })
		}
		get := func(conn, user string) (v *bot.HomeViewer, err error) {
			err = db.View(ctx, func(tx bot.Tx) (err error) {
				v, err = tx.HomeViewer(ctx, conn, user)
				return err
			})
			return v, err
		}
		list := func(conn string, since time.Time) (vs []*bot.HomeViewer) {
			t.Helper()
			inTx(t, db, func(tx bot.Tx) (err error) {
				vs, err = tx.HomeViewers(ctx, conn, since)
				return err
			})
			return vs
		}
		save(&bot.HomeViewer{Conn: "internal", UserID: "U1", Groups: []string{"S1", "S2"}, OpenedAt: t0})
		save(&bot.HomeViewer{Conn: "internal", UserID: "U2", OpenedAt: t0.Add(-40 * 24 * time.Hour)})
		save(&bot.HomeViewer{Conn: "other", UserID: "U1", OpenedAt: t0})

		v, err := get("internal", "U1")
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, v, &bot.HomeViewer{Conn: "internal", UserID: "U1", Groups: []string{"S1", "S2"}, OpenedAt: t0})
		_, err = get("internal", "U9")
		wantNotFound(t, err)

		// Opened again, without a group now.
		save(&bot.HomeViewer{Conn: "internal", UserID: "U1", OpenedAt: t0.Add(time.Hour)})
		v, err = get("internal", "U1")
		if err != nil {
			t.Fatal(err)
		}
		wantEqual(t, v, &bot.HomeViewer{Conn: "internal", UserID: "U1", OpenedAt: t0.Add(time.Hour)})
		if n, err := db.RowCount(ctx, "home_viewers"); err != nil || n != 3 {
			t.Fatalf("%d rows, %v; want 3: one a person and connection", n, err)
		}

		vs := list("internal", t0.Add(-30*24*time.Hour))
		if len(vs) != 1 || vs[0].UserID != "U1" {
			t.Errorf("viewers of internal within 30 days = %+v, want U1 only", vs)
		}
		if vs := list("internal", t0.Add(time.Hour)); len(vs) != 1 {
			t.Errorf("since is inclusive: got %+v", vs)
		}
		if vs := list("nowhere", t0.Add(-time.Hour)); len(vs) != 0 {
			t.Errorf("viewers of an unknown connection = %+v", vs)
		}
	})
}

// TestHomeLists: the items assigned to a person that wait for an answer,
// the drafts an approver of some routes may review, and the drafts a
// person signs or proposed, each bounded and counted.
func TestHomeLists(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		item := func(thread, route string, status bot.ItemStatus, assignee int64) *bot.Item {
			it := newItem("M1", thread)
			it.Route, it.Status, it.Assignee = route, status, assignee
			return createItem(t, db, it)
		}
		draft := func(it *bot.Item, state bot.DraftState, signer int64, editors ...int64) *bot.Draft {
			d := &bot.Draft{ItemID: it.ID, Kind: bot.DraftReply, AuthorID: signer, State: state, CreatedAt: t0, UpdatedAt: t0}
			for i, ed := range editors {
				d.Versions = append(d.Versions, bot.DraftVersion{N: i + 1, Text: "v", EditorID: ed, At: t0})
			}
			inTx(t, db, func(tx bot.Tx) error { return tx.CreateDraft(ctx, d) })
			return d
		}
		ids := func(ds []*bot.Draft) []int64 {
			var out []int64
			for _, d := range ds {
				out = append(out, d.ID)
			}
			return out
		}

		a1 := item("1", "a", bot.ItemClaimed, 7)
		a2 := item("2", "a", bot.ItemAwaitingApproval, 7)
		item("3", "a", bot.ItemAnswered, 7)
		item("4", "b", bot.ItemIgnored, 7)
		b5 := item("5", "b", bot.ItemNew, 8)
		c6 := item("6", "c", bot.ItemDrafting, 0)

		var items []*bot.Item
		var total int
		inTx(t, db, func(tx bot.Tx) (err error) {
			items, total, err = tx.AssignedItems(ctx, 7, 1)
			return err
		})
		if len(items) != 1 || items[0].ID != a1.ID || total != 2 {
			t.Errorf("AssignedItems(7, 1) = %d items (first %+v), total %d; want item %d of 2 waiting", len(items), items, total, a1.ID)
		}
		inTx(t, db, func(tx bot.Tx) (err error) {
			items, total, err = tx.AssignedItems(ctx, 7, 10)
			return err
		})
		if len(items) != 2 || items[1].ID != a2.ID || total != 2 {
			t.Errorf("AssignedItems(7, 10) = %+v, total %d", items, total)
		}
		inTx(t, db, func(tx bot.Tx) (err error) {
			items, total, err = tx.AssignedItems(ctx, 0, 10)
			return err
		})
		if len(items) != 0 || total != 0 {
			t.Errorf("the unassigned items are nobody's: %+v, %d", items, total)
		}

		pendingA := draft(a1, bot.DraftPending, 7, 7)
		failedB := draft(b5, bot.DraftFailed, 8, 8)
		draft(a2, bot.DraftPublished, 8, 8)
		draft(c6, bot.DraftPending, 8, 8)
		pendingA2 := draft(a2, bot.DraftPending, 9, 7, 9) // a correction 7 proposed, signed by 9
		draft(a2, bot.DraftAwaitingSigner, 9, 9, 7)       // words 7 edited: not 7's

		var ds []*bot.Draft
		inTx(t, db, func(tx bot.Tx) (err error) {
			ds, err = tx.DraftsToReview(ctx, []string{"a", "b"}, 10)
			return err
		})
		wantEqual(t, ids(ds), []int64{pendingA.ID, failedB.ID, pendingA2.ID})
		if len(ds[2].Versions) != 2 || ds[2].Versions[1].EditorID != 9 {
			t.Errorf("versions not loaded: %+v", ds[2].Versions)
		}
		inTx(t, db, func(tx bot.Tx) (err error) {
			ds, err = tx.DraftsToReview(ctx, []string{"b"}, 10)
			return err
		})
		wantEqual(t, ids(ds), []int64{failedB.ID})
		inTx(t, db, func(tx bot.Tx) (err error) {
			ds, err = tx.DraftsToReview(ctx, []string{"a", "b"}, 1)
			return err
		})
		wantEqual(t, ids(ds), []int64{pendingA.ID})
		inTx(t, db, func(tx bot.Tx) (err error) {
			ds, err = tx.DraftsToReview(ctx, nil, 10)
			return err
		})
		if len(ds) != 0 {
			t.Errorf("no route, yet drafts to review: %v", ids(ds))
		}

		inTx(t, db, func(tx bot.Tx) (err error) {
			ds, total, err = tx.DraftsOf(ctx, 7, 10)
			return err
		})
		wantEqual(t, ids(ds), []int64{pendingA2.ID, pendingA.ID})
		if total != 2 || len(ds[1].Versions) != 1 {
			t.Errorf("DraftsOf(7) total %d, versions %+v", total, ds[1].Versions)
		}
		inTx(t, db, func(tx bot.Tx) (err error) {
			ds, total, err = tx.DraftsOf(ctx, 8, 2)
			return err
		})
		if len(ds) != 2 || total != 3 {
			t.Errorf("DraftsOf(8, 2) = %v, total %d; want 2 of 3", ids(ds), total)
		}
	})
}
