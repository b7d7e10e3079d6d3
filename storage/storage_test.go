package storage_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/storage"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// One suite, run against every engine storagetest.Engines lists, so that
// SQLite and Postgres cannot drift apart.

// t0 has microseconds, as the domain's clock gives them.
var t0 = time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC)

func ptr[T any](v T) *T { return &v }

// inTx runs fn in a transaction that must succeed.
func inTx(t *testing.T, db *storage.DB, fn func(tx bot.Tx) error) {
	t.Helper()
	if err := db.InTx(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	if got := bot.ErrorCode(err); got != code {
		t.Fatalf("error %q has code %s, want %s", err, got, code)
	}
}

func wantNotFound(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, bot.ErrNotFound) {
		t.Fatalf("got %v, want an error matching bot.ErrNotFound", err)
	}
}

func wantEqual[T any](t *testing.T, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}

func newItem(author, thread string) *bot.Item {
	return &bot.Item{
		Conn: "community", Channel: "C1", ThreadID: thread, RootMsgID: thread,
		Link: "https://example.com/" + thread, AuthorID: author, AuthorName: "Member " + author,
		Route: "default", Status: bot.ItemNew, CreatedAt: t0, UpdatedAt: t0,
	}
}

func createItem(t *testing.T, db *storage.DB, it *bot.Item) *bot.Item {
	t.Helper()
	inTx(t, db, func(tx bot.Tx) error { return tx.CreateItem(context.Background(), it) })
	return it
}

func TestOpen(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		engine := strings.Split(t.Name(), "/")[1]
		if db.Engine() != engine {
			t.Errorf("Engine() = %q, want %q", db.Engine(), engine)
		}
		if err := db.Ping(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := db.CheckSchema(context.Background()); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("UnreachablePostgres", func(t *testing.T) {
		_, err := storage.Open(context.Background(), "postgres://liaison:s3cret@127.0.0.1:1/x?sslmode=disable")
		if err == nil {
			t.Fatal("Open succeeded on a closed port")
		}
		msg := err.Error()
		for _, want := range []string{"postgres", "127.0.0.1:1", "connection refused"} {
			if !strings.Contains(msg, want) {
				t.Errorf("error %q does not say %q", msg, want)
			}
		}
		if strings.Contains(msg, "s3cret") {
			t.Errorf("error %q shows the password", msg)
		}
	})

	t.Run("PasswordParameterRedacted", func(t *testing.T) {
		_, err := storage.Open(context.Background(), "postgresql://liaison@127.0.0.1:1/x?sslmode=disable&password=s3cret")
		if err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Fatalf("got %v, want an error without the password", err)
		}
	})

	t.Run("BadSQLitePath", func(t *testing.T) {
		path := t.TempDir() + "/missing/dir/liaison.db"
		_, err := storage.Open(context.Background(), path)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "sqlite") {
			t.Fatalf("got %v, want an error naming the sqlite file %s", err, path)
		}
	})

	t.Run("SQLiteFileURI", func(t *testing.T) {
		db, err := storage.Open(context.Background(), "file:"+t.TempDir()+"/liaison.db?cache=private")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		createItem(t, db, newItem("U1", "T1"))
	})
}

func TestSchema(t *testing.T) {
	ctx := context.Background()
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		t.Run("MigrateTwice", func(t *testing.T) {
			before, latest, err := db.SchemaVersion(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if before != latest || latest < 1 {
				t.Fatalf("SchemaVersion = %d, %d; want migrated", before, latest)
			}
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			after, _, err := db.SchemaVersion(ctx)
			if err != nil || after != before {
				t.Fatalf("after a second Migrate: version %d, %v; want %d", after, err, before)
			}
		})

		t.Run("NewerSchema", func(t *testing.T) {
			_, latest, err := db.SchemaVersion(ctx)
			if err != nil {
				t.Fatal(err)
			}
			newer := latest + 2
			if _, err := db.Exec(ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, ?)`, newer, true); err != nil {
				t.Fatal(err)
			}
			rows := func() int64 {
				n, err := db.QueryInt(ctx, `SELECT COUNT(*) FROM goose_db_version`)
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			n := rows()
			want := fmt.Sprintf("database schema version %d is newer than this liaison knows (%d): upgrade liaison", newer, latest)
			for name, f := range map[string]func(context.Context) error{"CheckSchema": db.CheckSchema, "Migrate": db.Migrate} {
				err := f(ctx)
				var se *storage.SchemaError
				if err == nil || !strings.Contains(err.Error(), want) || !errors.As(err, &se) {
					t.Errorf("%s: got %v, want %q", name, err, want)
				}
			}
			if got := rows(); got != n {
				t.Errorf("goose_db_version has %d rows after a refused Migrate, want %d", got, n)
			}
		})
	})

	for _, engine := range storagetest.Engines(t) {
		t.Run(engine+"/Unmigrated", func(t *testing.T) {
			db := storagetest.OpenUnmigrated(t, engine)
			current, latest, err := db.SchemaVersion(ctx)
			if err != nil || current != 0 || latest < 1 {
				t.Fatalf("SchemaVersion = %d, %d, %v; want 0, ≥1", current, latest, err)
			}
			err = db.CheckSchema(ctx)
			if err == nil || !strings.Contains(err.Error(), "not migrated") || !strings.Contains(err.Error(), "liaison migrate") {
				t.Fatalf("CheckSchema: got %v, want a not-migrated error", err)
			}
			// Checking changed nothing: no version table was created.
			if _, err := db.QueryInt(ctx, `SELECT COUNT(*) FROM goose_db_version`); err == nil {
				t.Error("SchemaVersion created goose_db_version")
			}
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if err := db.CheckSchema(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestMessages(t *testing.T) {
	ctx := context.Background()
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		key := bot.MessageKey{Conn: "community", Channel: "C1", ID: "M1"}
		m := &bot.Message{
			Key: key, AuthorID: "U1", AuthorName: "Ann", Text: "how do I reset?",
			Attachments: []bot.Attachment{{Name: "log.txt", URL: "https://cdn.example.com/log.txt"}},
			Link:        "https://example.com/M1", CreatedAt: t0,
		}
		inTx(t, db, func(tx bot.Tx) error {
			ok, err := tx.InsertMessage(ctx, m)
			if err != nil || !ok || m.ID == 0 {
				t.Fatalf("InsertMessage = %v, %v (id %d); want inserted", ok, err, m.ID)
			}
			return nil
		})

		t.Run("Redelivery", func(t *testing.T) {
			again := &bot.Message{Key: key, AuthorID: "U1", Text: "changed", CreatedAt: t0.Add(time.Hour)}
			inTx(t, db, func(tx bot.Tx) error {
				ok, err := tx.InsertMessage(ctx, again)
				if err != nil || ok || again.ID != 0 {
					t.Fatalf("second InsertMessage = %v, %v (id %d); want false, nothing set", ok, err, again.ID)
				}
				got, err := tx.MessageByKey(ctx, key)
				if err != nil {
					return err
				}
				wantEqual(t, got, m)
				return nil
			})
		})

		t.Run("ByID", func(t *testing.T) {
			inTx(t, db, func(tx bot.Tx) error {
				got, err := tx.MessageByID(ctx, m.ID)
				if err != nil {
					return err
				}
				wantEqual(t, got, m)
				_, err = tx.MessageByID(ctx, m.ID+100)
				wantNotFound(t, err)
				_, err = tx.MessageByKey(ctx, bot.MessageKey{Conn: "community", Channel: "C1", ID: "nope"})
				wantNotFound(t, err)
				return nil
			})
		})

		t.Run("EditDeleteAndItem", func(t *testing.T) {
			it := createItem(t, db, newItem("U1", "M1"))
			inTx(t, db, func(tx bot.Tx) error {
				m.ItemID, m.Text, m.MirrorID, m.EditedAt = it.ID, "how do I reset my password?", "MIRROR1", ptr(t0.Add(time.Minute))
				m.Attachments = nil
				if err := tx.UpdateMessage(ctx, m); err != nil {
					return err
				}
				got, err := tx.MessageByKey(ctx, key)
				if err != nil {
					return err
				}
				wantEqual(t, got, m)

				m.DeletedAt = ptr(t0.Add(2 * time.Minute))
				if err := tx.UpdateMessage(ctx, m); err != nil {
					return err
				}
				follow := &bot.Message{Key: bot.MessageKey{Conn: "community", Channel: "C1", ID: "M2"}, ItemID: it.ID, Text: "also", CreatedAt: t0.Add(time.Second)}
				if _, err := tx.InsertMessage(ctx, follow); err != nil {
					return err
				}
				got, err = tx.MessageByID(ctx, follow.ID)
				if err != nil {
					return err
				}
				wantEqual(t, got, follow)

				wantNotFound(t, tx.UpdateMessage(ctx, &bot.Message{ID: 9999}))
				return nil
			})
		})
	})
}

func TestItems(t *testing.T) {
	ctx := context.Background()
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		a := newItem("U1", "T1")
		a.Tags = []string{"billing", "bug"}
		createItem(t, db, a)
		b := createItem(t, db, newItem("U1", "T2"))
		c := createItem(t, db, newItem("U2", "T3"))
		other := newItem("U1", "T4")
		other.Conn = "elsewhere"
		createItem(t, db, other)

		inTx(t, db, func(tx bot.Tx) error {
			got, err := tx.Item(ctx, a.ID)
			if err != nil {
				return err
			}
			wantEqual(t, got, a)
			_, err = tx.Item(ctx, 9999)
			wantNotFound(t, err)

			// Every mutable field is written.
			b.Status, b.Assignee, b.Tags = bot.ItemAnswered, 7, []string{"docs"}
			b.ThreadChannel = "TC2"
			b.CardConn, b.CardChannel, b.CardID, b.CardThread, b.CardLink = "internal", "S1", "card1", "card1", "https://slack/card1"
			b.UpdatedAt, b.FirstAnsweredAt = t0.Add(2*time.Hour), ptr(t0.Add(2*time.Hour))
			if err := tx.UpdateItem(ctx, b); err != nil {
				return err
			}
			got, err = tx.Item(ctx, b.ID)
			if err != nil {
				return err
			}
			wantEqual(t, got, b)
			wantNotFound(t, tx.UpdateItem(ctx, &bot.Item{ID: 9999}))
			return nil
		})

		t.Run("ByThread", func(t *testing.T) {
			inTx(t, db, func(tx bot.Tx) error {
				got, err := tx.ItemByThread(ctx, "community", "C1", "T3")
				if err != nil {
					return err
				}
				wantEqual(t, got, c)
				_, err = tx.ItemByThread(ctx, "community", "C2", "T3")
				wantNotFound(t, err)
				return nil
			})
		})

		t.Run("ByCardThread", func(t *testing.T) {
			inTx(t, db, func(tx bot.Tx) error {
				got, err := tx.ItemByCardThread(ctx, "internal", "S1", "card1")
				if err != nil {
					return err
				}
				wantEqual(t, got, b)
				_, err = tx.ItemByCardThread(ctx, "community", "S1", "card1")
				wantNotFound(t, err)
				// Slack timestamps are unique per channel only: the same
				// thread in another channel is another item's, or none.
				_, err = tx.ItemByCardThread(ctx, "internal", "S2", "card1")
				wantNotFound(t, err)
				// Items without a card yet share the empty thread: none is found.
				_, err = tx.ItemByCardThread(ctx, "", "", "")
				wantNotFound(t, err)
				return nil
			})
		})

		t.Run("MemberHistory", func(t *testing.T) {
			// A member's items, each with its first message, as the card's
			// history shows them.
			// The same member id on another connection, earlier: not theirs.
			elsewhere := newItem("U7", "H0")
			elsewhere.Conn = "elsewhere"
			createItem(t, db, elsewhere)
			var mine []*bot.Item
			for i, thread := range []string{"H1", "H2", "H3"} {
				it := newItem("U7", thread)
				it.CreatedAt = t0.Add(time.Duration(i) * time.Minute)
				if i == 1 {
					it.Status = bot.ItemAnswered
				}
				createItem(t, db, it)
				mine = append(mine, it)
				inTx(t, db, func(tx bot.Tx) error {
					_, err := tx.InsertMessage(ctx, &bot.Message{Key: bot.MessageKey{Conn: "community", Channel: "C1", ID: thread},
						ItemID: it.ID, AuthorID: "U7", Text: "question " + thread, CreatedAt: it.CreatedAt})
					return err
				})
			}
			createItem(t, db, newItem("U8", "H4")) // someone else
			var got, before2, one []bot.HistoryEntry
			err := db.View(ctx, func(tx bot.Tx) (err error) {
				if got, err = tx.MemberHistory(ctx, "community", "U7", mine[2].ID, 10); err != nil {
					return err
				}
				if before2, err = tx.MemberHistory(ctx, "community", "U7", mine[1].ID, 10); err != nil {
					return err
				}
				one, err = tx.MemberHistory(ctx, "community", "U7", mine[2].ID, 1)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			// Before the item only, newest first, other members and
			// connections left out.
			want := []bot.HistoryEntry{
				{ItemID: mine[1].ID, Status: bot.ItemAnswered, At: mine[1].CreatedAt, Snippet: "question H2"},
				{ItemID: mine[0].ID, Status: bot.ItemNew, At: mine[0].CreatedAt, Snippet: "question H1"},
			}
			wantEqual(t, got, want)
			wantEqual(t, before2, want[1:])
			wantEqual(t, one, want[:1])
		})
	})
}

func TestDrafts(t *testing.T) {
	ctx := context.Background()
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		it := createItem(t, db, newItem("U1", "T1"))
		d := &bot.Draft{
			ItemID: it.ID, Kind: bot.DraftReply, AuthorID: 3, State: bot.DraftPending,
			Versions:  []bot.DraftVersion{{N: 1, Text: "Try Settings → Reset.", EditorID: 3, At: t0}},
			CreatedAt: t0, UpdatedAt: t0,
		}
		inTx(t, db, func(tx bot.Tx) error { return tx.CreateDraft(ctx, d) })

		inTx(t, db, func(tx bot.Tx) error {
			got, err := tx.Draft(ctx, d.ID)
			if err != nil {
				return err
			}
			wantEqual(t, got, d)

			// An approver edits then approves: the version is appended.
			d.Versions = append(d.Versions, bot.DraftVersion{N: 2, Text: "Open Settings → Reset password.", EditorID: 5, At: t0.Add(time.Minute)})
			d.State, d.ApproverID, d.DecidedAt, d.UpdatedAt = bot.DraftApproved, 5, ptr(t0.Add(time.Minute)), t0.Add(time.Minute)
			d.CardID, d.PublicConn, d.PublicChannel = "dcard", "community", "C1"
			if err := tx.UpdateDraft(ctx, d); err != nil {
				return err
			}
			// Stored versions are never rewritten.
			edited := *d
			edited.Versions = slices.Clone(d.Versions)
			edited.Versions[0].Text = "rewritten"
			if err := tx.UpdateDraft(ctx, &edited); err != nil {
				return err
			}
			got, err = tx.Draft(ctx, d.ID)
			if err != nil {
				return err
			}
			wantEqual(t, got, d)
			if got.Text() != "Open Settings → Reset password." {
				t.Errorf("Text() = %q", got.Text())
			}
			_, err = tx.Draft(ctx, 9999)
			wantNotFound(t, err)
			wantNotFound(t, tx.UpdateDraft(ctx, &bot.Draft{ID: 9999}))
			return nil
		})

		other := &bot.Draft{
			ItemID: it.ID, Kind: bot.DraftCorrection, Target: d.ID, AuthorID: 3, State: bot.DraftPending,
			Versions:  []bot.DraftVersion{{Text: "numbered by the store"}},
			CreatedAt: t0.Add(time.Hour), UpdatedAt: t0.Add(time.Hour),
		}
		inTx(t, db, func(tx bot.Tx) error { return tx.CreateDraft(ctx, other) })
		if other.Versions[0].N != 1 {
			t.Errorf("unnumbered version got N=%d, want 1", other.Versions[0].N)
		}

		inTx(t, db, func(tx bot.Tx) error {
			list, err := tx.DraftsByItem(ctx, it.ID)
			if err != nil {
				return err
			}
			wantEqual(t, list, []*bot.Draft{d, other})
			list, err = tx.DraftsByAuthorState(ctx, 3, bot.DraftPending)
			if err != nil {
				return err
			}
			wantEqual(t, list, []*bot.Draft{other})
			list, err = tx.DraftsByAuthorState(ctx, 3, bot.DraftRejected)
			if err != nil || len(list) != 0 {
				t.Fatalf("DraftsByAuthorState(rejected) = %v, %v", list, err)
			}
			return nil
		})
	})
}

func TestProfiles(t *testing.T) {
	ctx := context.Background()
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		alice := &bot.Profile{
			Name: "Alice Martin", Title: "Product Manager", AvatarURL: "https://example.com/a.png", Pronouns: "she/her",
			ConsentedAt: ptr(t0), Seed: &bot.ProfileSeed{Name: "Alice Martin", ConsentedAt: ptr(t0), TrustedOn: []string{"support"}},
			Identities: []bot.Identity{{Conn: "internal", UserID: "UA"}, {Conn: "discord", UserID: "111"}},
			CreatedAt:  t0, UpdatedAt: t0,
		}
		bob := &bot.Profile{Identities: []bot.Identity{{Conn: "internal", UserID: "UB"}}, CreatedAt: t0, UpdatedAt: t0}
		inTx(t, db, func(tx bot.Tx) error {
			if err := tx.SaveProfile(ctx, alice); err != nil {
				return err
			}
			return tx.SaveProfile(ctx, bob)
		})

		inTx(t, db, func(tx bot.Tx) error {
			got, err := tx.Profile(ctx, alice.ID)
			if err != nil {
				return err
			}
			wantEqual(t, got, alice)
			got, err = tx.ProfileByIdentity(ctx, "discord", "111")
			if err != nil {
				return err
			}
			wantEqual(t, got, alice)
			_, err = tx.ProfileByIdentity(ctx, "discord", "222")
			wantNotFound(t, err)
			_, err = tx.Profile(ctx, 9999)
			wantNotFound(t, err)
			return nil
		})

		t.Run("Update", func(t *testing.T) {
			inTx(t, db, func(tx bot.Tx) error {
				bob.Name, bob.ConsentedAt, bob.UpdatedAt = "Bob", ptr(t0.Add(time.Hour)), t0.Add(time.Hour)
				bob.Identities = []bot.Identity{{Conn: "slack", UserID: "UB2"}, {Conn: "internal", UserID: "UB"}}
				if err := tx.SaveProfile(ctx, bob); err != nil {
					return err
				}
				got, err := tx.Profile(ctx, bob.ID)
				if err != nil {
					return err
				}
				wantEqual(t, got, bob)
				wantNotFound(t, tx.SaveProfile(ctx, &bot.Profile{ID: 9999}))
				return nil
			})
		})

		t.Run("IdentityConflict", func(t *testing.T) {
			inTx(t, db, func(tx bot.Tx) error {
				carol := &bot.Profile{Name: "Carol", Identities: []bot.Identity{{Conn: "internal", UserID: "UA"}}}
				wantCode(t, tx.SaveProfile(ctx, carol), bot.ECONFLICT)
				if carol.ID != 0 {
					t.Errorf("conflicting profile was given id %d", carol.ID)
				}
				bob.Identities = append(bob.Identities, bot.Identity{Conn: "discord", UserID: "111"})
				wantCode(t, tx.SaveProfile(ctx, bob), bot.ECONFLICT)
				// The transaction is still usable (Postgres aborts one after an error).
				got, err := tx.ProfileByIdentity(ctx, "discord", "111")
				if err != nil {
					return err
				}
				if got.ID != alice.ID {
					t.Errorf("identity moved to profile %d", got.ID)
				}
				return nil
			})
		})
	})
}

func TestRouteTrust(t *testing.T) {
	ctx := context.Background()
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		alice := &bot.Profile{Name: "Alice", Identities: []bot.Identity{{Conn: "internal", UserID: "UA"}}, CreatedAt: t0, UpdatedAt: t0}
		bob := &bot.Profile{Name: "Bob", Identities: []bot.Identity{{Conn: "internal", UserID: "UB"}}, CreatedAt: t0, UpdatedAt: t0}
		inTx(t, db, func(tx bot.Tx) error {
			if err := tx.SaveProfile(ctx, alice); err != nil {
				return err
			}
			return tx.SaveProfile(ctx, bob)
		})
		set := func(p *bot.Profile, route string, trusted, wantChanged bool) {
			t.Helper()
			inTx(t, db, func(tx bot.Tx) error {
				changed, err := tx.SetTrust(ctx, p.ID, route, trusted, "internal:UB", t0)
				if changed != wantChanged {
					t.Errorf("SetTrust(%s, %s, %v) changed = %v, want %v", p.Name, route, trusted, changed, wantChanged)
				}
				return err
			})
		}
		routes := func(p *bot.Profile) []string {
			var out []string
			inTx(t, db, func(tx bot.Tx) (err error) {
				out, err = tx.TrustedRoutes(ctx, p.ID)
				return err
			})
			return out
		}
		set(alice, "support", true, true)
		set(alice, "support", true, false) // already
		set(alice, "billing", true, true)
		if got := routes(alice); !reflect.DeepEqual(got, []string{"billing", "support"}) {
			t.Errorf("alice trusted on %q", got)
		}
		if got := routes(bob); len(got) != 0 {
			t.Errorf("bob trusted on %q, nobody trusted him", got)
		}
		set(alice, "support", false, true)
		set(alice, "support", false, false) // already not
		if got := routes(alice); !reflect.DeepEqual(got, []string{"billing"}) {
			t.Errorf("alice after demotion on support: %q", got)
		}
	})
}

func TestAudit(t *testing.T) {
	ctx := context.Background()
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e1 := &bot.AuditEvent{At: t0, Actor: "slack:UA@internal", Action: "draft.approve", Subject: "draft:1", Before: `{"state":"pending"}`, After: `{"state":"approved"}`}
		e2 := &bot.AuditEvent{At: t0.Add(time.Second), Actor: "system", Action: "draft.publish", Subject: "draft:1"}
		e3 := &bot.AuditEvent{At: t0, Actor: "system", Action: "item.claim", Subject: "item:1"}
		inTx(t, db, func(tx bot.Tx) error {
			for _, e := range []*bot.AuditEvent{e1, e2, e3} {
				if err := tx.AppendAudit(ctx, e); err != nil {
					return err
				}
			}
			return nil
		})
		inTx(t, db, func(tx bot.Tx) error {
			got, err := tx.AuditFor(ctx, "draft:1")
			if err != nil {
				return err
			}
			wantEqual(t, got, []*bot.AuditEvent{e1, e2})
			return nil
		})
	})
}

func TestNotices(t *testing.T) {
	ctx := context.Background()
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		inTx(t, db, func(tx bot.Tx) error {
			for i, want := range []bool{true, false} {
				first, err := tx.FirstNotice(ctx, "unrouted:community/C9", t0)
				if err != nil || first != want {
					t.Fatalf("FirstNotice #%d = %v, %v; want %v", i+1, first, err, want)
				}
			}
			first, err := tx.FirstNotice(ctx, "unrouted:community/C10", t0)
			if err != nil || !first {
				t.Fatalf("FirstNotice of another key = %v, %v; want true", first, err)
			}
			return nil
		})
	})
}

func TestInTx(t *testing.T) {
	ctx := context.Background()
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		t.Run("RollbackOnError", func(t *testing.T) {
			boom := errors.New("boom")
			var id int64
			err := db.InTx(ctx, func(tx bot.Tx) error {
				it := newItem("U1", "T1")
				if err := tx.CreateItem(ctx, it); err != nil {
					return err
				}
				id = it.ID
				if _, err := tx.Enqueue(ctx, &bot.OutboxJob{Kind: bot.OpPostCard, ItemID: it.ID, RunAt: t0, CreatedAt: t0}); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("InTx = %v, want boom", err)
			}
			inTx(t, db, func(tx bot.Tx) error {
				_, err := tx.Item(ctx, id)
				wantNotFound(t, err)
				return nil
			})
			if jobs, err := db.ClaimJobs(ctx, "w", t0.Add(time.Hour), time.Minute, 10, bot.Skip{}); err != nil || len(jobs) != 0 {
				t.Fatalf("ClaimJobs after rollback = %v, %v; want none", jobs, err)
			}
		})

		t.Run("RollbackOnPanic", func(t *testing.T) {
			func() {
				defer func() { recover() }()
				db.InTx(ctx, func(tx bot.Tx) error {
					tx.CreateItem(ctx, newItem("U1", "PANIC"))
					panic("boom")
				})
			}()
			inTx(t, db, func(tx bot.Tx) error {
				_, err := tx.ItemByThread(ctx, "community", "C1", "PANIC")
				wantNotFound(t, err)
				return nil
			})
		})
	})
}

// TestView: a read-only transaction reads what is committed, takes no row
// locks (a row another transaction holds for update is read at once), and
// on Postgres refuses to write.
func TestView(t *testing.T) {
	ctx := context.Background()
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		it := createItem(t, db, newItem("U1", "T1"))
		if err := db.View(ctx, func(tx bot.Tx) error {
			got, err := tx.Item(ctx, it.ID)
			if err == nil && got.RootMsgID != "T1" {
				t.Errorf("View read %+v", got)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if db.Engine() != "postgres" {
			return // SQLite has no row locks and one connection: nothing more to see
		}
		if err := db.View(ctx, func(tx bot.Tx) error { return tx.CreateItem(ctx, newItem("U1", "T2")) }); err == nil {
			t.Error("a write in View succeeded")
		}
		locked, release := make(chan struct{}), make(chan struct{})
		holder := make(chan error, 1)
		go func() {
			holder <- db.InTx(ctx, func(tx bot.Tx) error {
				if _, err := tx.Item(ctx, it.ID); err != nil { // FOR UPDATE
					return err
				}
				close(locked)
				<-release
				return nil
			})
		}()
		<-locked
		read := make(chan error, 1)
		go func() {
			read <- db.View(ctx, func(tx bot.Tx) error {
				_, err := tx.Item(ctx, it.ID)
				return err
			})
		}()
		select {
		case err := <-read:
			if err != nil {
				t.Errorf("View while the row is locked: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("View waited for another transaction's row lock")
		}
		close(release)
		if err := <-holder; err != nil {
			t.Fatal(err)
		}
	})
}

func TestTimestamps(t *testing.T) {
	ctx := context.Background()
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		times := []time.Time{
			t0,
			time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),    // no fraction
			time.Date(2025, 1, 1, 0, 0, 0, 1000, time.UTC), // one microsecond
			time.Date(1999, 12, 31, 23, 59, 59, 999999000, time.UTC),
			time.Date(2038, 1, 19, 3, 14, 8, 100000000, time.UTC),
		}
		for _, want := range times {
			e := &bot.AuditEvent{At: want, Actor: "system", Action: "test", Subject: "time:" + want.String()}
			inTx(t, db, func(tx bot.Tx) error {
				if err := tx.AppendAudit(ctx, e); err != nil {
					return err
				}
				got, err := tx.AuditFor(ctx, e.Subject)
				if err != nil {
					return err
				}
				if got[0].At != want { // == : same instant, same (UTC) location, no monotonic reading
					t.Errorf("time %s came back as %s (%v)", want, got[0].At, got[0].At.Location())
				}
				return nil
			})
		}

		// Finer than a microsecond, or not in UTC: stored as the same
		// instant, truncated, and read back in UTC, on both engines alike.
		paris, err := time.LoadLocation("Europe/Paris")
		if err != nil {
			paris = time.FixedZone("CET", 3600)
		}
		in := time.Date(2025, 6, 1, 12, 0, 0, 123456789, paris)
		e := &bot.AuditEvent{At: in, Actor: "system", Action: "test", Subject: "time:odd"}
		inTx(t, db, func(tx bot.Tx) error {
			if err := tx.AppendAudit(ctx, e); err != nil {
				return err
			}
			got, err := tx.AuditFor(ctx, e.Subject)
			if err != nil {
				return err
			}
			if want := in.UTC().Truncate(time.Microsecond); got[0].At != want {
				t.Errorf("time %s came back as %s, want %s", in, got[0].At, want)
			}
			return nil
		})
	})
}

// enqueue inserts a job that must be accepted.
func enqueue(t *testing.T, db *storage.DB, j *bot.OutboxJob) *bot.OutboxJob {
	t.Helper()
	if j.RunAt.IsZero() {
		j.RunAt = t0
	}
	if j.CreatedAt.IsZero() {
		j.CreatedAt = t0
	}
	if j.Kind == "" {
		j.Kind = bot.OpUpdateCard
	}
	inTx(t, db, func(tx bot.Tx) error {
		ok, err := tx.Enqueue(context.Background(), j)
		if err != nil {
			return err
		}
		if !ok {
			t.Fatalf("Enqueue(%+v) = false, want inserted", j)
		}
		return nil
	})
	return j
}

func tryEnqueue(t *testing.T, db *storage.DB, j *bot.OutboxJob) bool {
	t.Helper()
	j.RunAt, j.CreatedAt, j.Kind = t0, t0, bot.OpUpdateCard
	var ok bool
	inTx(t, db, func(tx bot.Tx) (err error) {
		ok, err = tx.Enqueue(context.Background(), j)
		return err
	})
	return ok
}

func claim(t *testing.T, db *storage.DB, owner string, now time.Time, limit int) []*bot.OutboxJob {
	t.Helper()
	jobs, err := db.ClaimJobs(context.Background(), owner, now, time.Minute, limit, bot.Skip{})
	if err != nil {
		t.Fatal(err)
	}
	return jobs
}

func jobIDs(jobs []*bot.OutboxJob) []int64 {
	ids := []int64{}
	for _, j := range jobs {
		ids = append(ids, j.ID)
	}
	return ids
}

func TestEnqueue(t *testing.T) {
	ctx := context.Background()
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		t.Run("RoundTrip", func(t *testing.T) {
			j := enqueue(t, db, &bot.OutboxJob{
				Kind: bot.OpPostNote, ItemID: 1, DraftID: 2, MessageID: 3, Conn: "internal", Channel: "S1",
				Payload: `{"text":"hi"}`, OrderKey: "rt", RunAt: t0.Add(time.Second), CreatedAt: t0,
			})
			inTx(t, db, func(tx bot.Tx) error {
				got, err := tx.Job(ctx, j.ID)
				if err != nil {
					return err
				}
				wantEqual(t, got, j)
				_, err = tx.Job(ctx, 9999)
				wantNotFound(t, err)
				return nil
			})
		})

		t.Run("IdemKey", func(t *testing.T) {
			first := enqueue(t, db, &bot.OutboxJob{Kind: bot.OpPublish, IdemKey: "publish:1"})
			dup := &bot.OutboxJob{IdemKey: "publish:1"}
			if tryEnqueue(t, db, dup) || dup.ID != 0 {
				t.Fatalf("second job with idem key inserted (id %d)", dup.ID)
			}
			// Still refused once the first is done: the key is unique across all jobs.
			jobs := claim(t, db, "w", t0, 100)
			for _, j := range jobs {
				inTx(t, db, func(tx bot.Tx) error { return tx.CompleteJob(ctx, j.ID, "w", "{}", t0) })
			}
			if !slices.Contains(jobIDs(jobs), first.ID) {
				t.Fatalf("job %d not claimed", first.ID)
			}
			if tryEnqueue(t, db, &bot.OutboxJob{IdemKey: "publish:1"}) {
				t.Fatal("idem key reusable after the job is done")
			}
			// Empty keys never collide.
			for range 3 {
				enqueue(t, db, &bot.OutboxJob{})
			}
		})

		t.Run("CoalesceKey", func(t *testing.T) {
			pending := enqueue(t, db, &bot.OutboxJob{CoalesceKey: "card:7", ItemID: 7, OrderKey: "item:7"})
			if tryEnqueue(t, db, &bot.OutboxJob{CoalesceKey: "card:7"}) {
				t.Fatal("second pending job with the coalesce key inserted")
			}
			running := claim(t, db, "w", t0, 100)
			if !slices.Contains(jobIDs(running), pending.ID) {
				t.Fatalf("job %d not claimed", pending.ID)
			}
			// Claimed, the key is free again: the new update is needed, since
			// the running one may have rendered the card already.
			next := &bot.OutboxJob{CoalesceKey: "card:7", ItemID: 7, OrderKey: "item:7"}
			if !tryEnqueue(t, db, next) {
				t.Fatal("coalesce key still held once its job runs")
			}
			// The running job fails and goes back to pending: it gives its key
			// up instead of failing, and both run, in order.
			inTx(t, db, func(tx bot.Tx) error {
				return tx.RetryJob(ctx, pending.ID, "w", bot.JobRetry{At: t0, Err: "oops", Failed: true})
			})
			inTx(t, db, func(tx bot.Tx) error {
				got, err := tx.Job(ctx, pending.ID)
				if err != nil {
					return err
				}
				if got.State != bot.JobPending || got.CoalesceKey != "" {
					t.Errorf("retried job: state %s, coalesce key %q; want pending, none", got.State, got.CoalesceKey)
				}
				return nil
			})
			wantEqual(t, jobIDs(claim(t, db, "w", t0, 100)), []int64{pending.ID})
		})
	})
}

func TestOutbox(t *testing.T) {
	ctx := context.Background()
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		t.Run("ClaimFields", func(t *testing.T) {
			j := enqueue(t, db, &bot.OutboxJob{OrderKey: "fields", RunAt: t0})
			later := enqueue(t, db, &bot.OutboxJob{OrderKey: "fields-later", RunAt: t0.Add(time.Hour)})
			jobs := claim(t, db, "w1", t0, 10)
			wantEqual(t, jobIDs(jobs), []int64{j.ID})
			got := jobs[0]
			if got.State != bot.JobRunning || got.LockedBy != "w1" || got.LockedAt == nil || !got.LockedAt.Equal(t0) || got.Uncertain || got.Attempts != 0 {
				t.Fatalf("claimed job: %+v", got)
			}
			inTx(t, db, func(tx bot.Tx) error { return tx.CompleteJob(ctx, j.ID, "w1", `{"message_id":"1"}`, t0) })
			wantEqual(t, jobIDs(claim(t, db, "w1", t0.Add(time.Hour), 10)), []int64{later.ID})
			inTx(t, db, func(tx bot.Tx) error { return tx.CompleteJob(ctx, later.ID, "w1", "{}", t0) })
			inTx(t, db, func(tx bot.Tx) error {
				got, err := tx.Job(ctx, j.ID)
				if err != nil {
					return err
				}
				if got.State != bot.JobDone || got.Result != `{"message_id":"1"}` || got.DoneAt == nil || !got.DoneAt.Equal(t0) {
					t.Errorf("completed job: %+v", got)
				}
				wantNotFound(t, tx.CompleteJob(ctx, 9999, "w1", "", t0))
				return nil
			})
		})

		t.Run("CrashedWorker", func(t *testing.T) {
			j := enqueue(t, db, &bot.OutboxJob{OrderKey: "crash"})
			wantEqual(t, jobIDs(claim(t, db, "dead-worker", t0, 10)), []int64{j.ID})
			// The worker dies. Until its lease ends nobody else takes the job.
			if got := claim(t, db, "w2", t0.Add(59*time.Second), 10); len(got) != 0 {
				t.Fatalf("claimed %v before the lease expired", jobIDs(got))
			}
			got := claim(t, db, "w2", t0.Add(time.Minute), 10)
			wantEqual(t, jobIDs(got), []int64{j.ID})
			if !got[0].Uncertain || got[0].LockedBy != "w2" || got[0].Attempts != 0 {
				t.Fatalf("reclaimed job: %+v; want uncertain, locked by w2, no attempt counted", got[0])
			}
			// The old worker comes back: it no longer holds the job.
			err := db.InTx(ctx, func(tx bot.Tx) error { return tx.CompleteJob(ctx, j.ID, "dead-worker", "{}", t0) })
			wantCode(t, err, bot.ECONFLICT)
			err = db.InTx(ctx, func(tx bot.Tx) error {
				return tx.RetryJob(ctx, j.ID, "dead-worker", bot.JobRetry{At: t0, Failed: true})
			})
			wantCode(t, err, bot.ECONFLICT)
			err = db.InTx(ctx, func(tx bot.Tx) error { return tx.KillJob(ctx, j.ID, "dead-worker", "", t0) })
			wantCode(t, err, bot.ECONFLICT)
			inTx(t, db, func(tx bot.Tx) error { return tx.CompleteJob(ctx, j.ID, "w2", "{}", t0.Add(time.Minute)) })
			// Done is final.
			err = db.InTx(ctx, func(tx bot.Tx) error { return tx.CompleteJob(ctx, j.ID, "w2", "{}", t0) })
			wantCode(t, err, bot.ECONFLICT)
		})

		t.Run("Retry", func(t *testing.T) {
			j := enqueue(t, db, &bot.OutboxJob{OrderKey: "retry"})
			claim(t, db, "w", t0, 10)
			inTx(t, db, func(tx bot.Tx) error {
				return tx.RetryJob(ctx, j.ID, "w", bot.JobRetry{At: t0.Add(time.Hour), Err: "rate limited"})
			})
			inTx(t, db, func(tx bot.Tx) error {
				got, err := tx.Job(ctx, j.ID)
				if err != nil {
					return err
				}
				if got.State != bot.JobPending || got.Attempts != 0 || got.LockedBy != "" || got.LockedAt != nil || got.LastError != "rate limited" || !got.RunAt.Equal(t0.Add(time.Hour)) {
					t.Errorf("after a rate-limit retry: %+v", got)
				}
				return nil
			})
			if got := claim(t, db, "w", t0.Add(time.Minute), 10); len(got) != 0 {
				t.Fatalf("claimed %v before its run time", jobIDs(got))
			}
			got := claim(t, db, "w", t0.Add(time.Hour), 10)
			wantEqual(t, jobIDs(got), []int64{j.ID})
			inTx(t, db, func(tx bot.Tx) error {
				return tx.RetryJob(ctx, j.ID, "w", bot.JobRetry{At: t0.Add(time.Hour), Err: "timeout", Failed: true, Uncertain: true})
			})
			got = claim(t, db, "w", t0.Add(time.Hour), 10)
			if len(got) != 1 || got[0].Attempts != 1 || !got[0].Uncertain || got[0].LastError != "timeout" {
				t.Fatalf("after a failed, uncertain retry: %+v", got)
			}
			inTx(t, db, func(tx bot.Tx) error { return tx.KillJob(ctx, j.ID, "w", "gone", t0.Add(2*time.Hour)) })
			inTx(t, db, func(tx bot.Tx) error {
				got, err := tx.Job(ctx, j.ID)
				if err != nil {
					return err
				}
				if got.State != bot.JobDead || got.LastError != "gone" || got.DoneAt == nil {
					t.Errorf("killed job: %+v", got)
				}
				return nil
			})
		})

		t.Run("FIFOByOrderKey", func(t *testing.T) {
			a1 := enqueue(t, db, &bot.OutboxJob{OrderKey: "item:1", Kind: bot.OpPostCard})
			a2 := enqueue(t, db, &bot.OutboxJob{OrderKey: "item:1", Kind: bot.OpPostNote})
			a3 := enqueue(t, db, &bot.OutboxJob{OrderKey: "item:1", Kind: bot.OpPostNote})
			b1 := enqueue(t, db, &bot.OutboxJob{OrderKey: "item:2"})
			now := t0.Add(time.Second)
			wantEqual(t, jobIDs(claim(t, db, "w", now, 10)), []int64{a1.ID, b1.ID})
			inTx(t, db, func(tx bot.Tx) error { return tx.CompleteJob(ctx, b1.ID, "w", "{}", now) })
			if got := claim(t, db, "w", now, 10); len(got) != 0 {
				t.Fatalf("claimed %v while the head of their key runs", jobIDs(got))
			}
			// A retried head still holds its followers back.
			inTx(t, db, func(tx bot.Tx) error {
				return tx.RetryJob(ctx, a1.ID, "w", bot.JobRetry{At: now.Add(time.Minute), Err: "later", Failed: true})
			})
			if got := claim(t, db, "w", now, 10); len(got) != 0 {
				t.Fatalf("claimed %v while the head of their key waits to retry", jobIDs(got))
			}
			wantEqual(t, jobIDs(claim(t, db, "w", now.Add(time.Minute), 10)), []int64{a1.ID})
			inTx(t, db, func(tx bot.Tx) error { return tx.CompleteJob(ctx, a1.ID, "w", "{}", now) })
			wantEqual(t, jobIDs(claim(t, db, "w", now.Add(time.Minute), 10)), []int64{a2.ID})
			// A dead job does not block its key forever.
			inTx(t, db, func(tx bot.Tx) error { return tx.KillJob(ctx, a2.ID, "w", "permanent", now) })
			wantEqual(t, jobIDs(claim(t, db, "w", now.Add(time.Minute), 10)), []int64{a3.ID})
			inTx(t, db, func(tx bot.Tx) error { return tx.CompleteJob(ctx, a3.ID, "w", "{}", now) })
		})

		t.Run("Limit", func(t *testing.T) {
			var want []int64
			for i := range 5 {
				want = append(want, enqueue(t, db, &bot.OutboxJob{OrderKey: fmt.Sprintf("limit:%d", i), RunAt: t0.Add(3 * time.Hour)}).ID)
			}
			now := t0.Add(3 * time.Hour)
			wantEqual(t, jobIDs(claim(t, db, "w", now, 2)), want[:2])
			wantEqual(t, jobIDs(claim(t, db, "w", now, 0)), []int64{})
			wantEqual(t, jobIDs(claim(t, db, "w", now, 10)), want[2:])
		})
	})
}

// TestConcurrentClaims: several claimers, each with its own connection,
// share the table; every job is claimed exactly once, and a job never runs
// before an earlier job with its order key is done.
func TestConcurrentClaims(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		const (
			jobs     = 200
			keys     = 20
			claimers = 4
		)
		for i := range jobs {
			enqueue(t, db, &bot.OutboxJob{OrderKey: fmt.Sprintf("k%d", i%keys), Payload: fmt.Sprint(i)})
		}
		ctx := context.Background()
		var (
			mu      sync.Mutex
			claimed = map[int64]string{}
			order   = map[string][]int64{} // per key, in the order jobs were claimed
			wg      sync.WaitGroup
			errs    = make(chan error, claimers)
		)
		for w := range claimers {
			owner := fmt.Sprintf("w%d", w)
			wg.Go(func() {
				idle := 0
				for idle < 20 {
					got, err := db.ClaimJobs(ctx, owner, t0.Add(time.Second), time.Hour, 3, bot.Skip{})
					if err != nil {
						errs <- err
						return
					}
					if len(got) == 0 {
						idle++
						time.Sleep(time.Millisecond)
						continue
					}
					idle = 0
					for _, j := range got {
						mu.Lock()
						if prev, ok := claimed[j.ID]; ok {
							mu.Unlock()
							errs <- fmt.Errorf("job %d claimed by %s and %s", j.ID, prev, owner)
							return
						}
						claimed[j.ID] = owner
						order[j.OrderKey] = append(order[j.OrderKey], j.ID)
						mu.Unlock()
						err := db.InTx(ctx, func(tx bot.Tx) error { return tx.CompleteJob(ctx, j.ID, owner, "{}", t0) })
						if err != nil {
							errs <- err
							return
						}
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if len(claimed) != jobs {
			t.Fatalf("%d jobs claimed, want %d", len(claimed), jobs)
		}
		for key, ids := range order {
			if !slices.IsSorted(ids) {
				t.Errorf("key %s ran out of order: %v", key, ids)
			}
		}
	})
}

// TestConcurrentWriters: many goroutines writing at once never see
// SQLITE_BUSY (or anything else) on either engine.
func TestConcurrentWriters(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		const goroutines, writes = 8, 25
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make(chan error, goroutines*writes)
		for g := range goroutines {
			wg.Go(func() {
				for i := range writes {
					err := db.InTx(ctx, func(tx bot.Tx) error {
						// Read then write, the shape that deadlocks deferred SQLite transactions.
						if _, err := tx.ItemByThread(ctx, "community", "C1", "none"); !errors.Is(err, bot.ErrNotFound) {
							return err
						}
						it := newItem(fmt.Sprintf("U%d", g), fmt.Sprintf("T%d-%d", g, i))
						if err := tx.CreateItem(ctx, it); err != nil {
							return err
						}
						m := &bot.Message{Key: bot.MessageKey{Conn: "community", Channel: "C1", ID: it.ThreadID}, ItemID: it.ID, CreatedAt: t0}
						if _, err := tx.InsertMessage(ctx, m); err != nil {
							return err
						}
						_, err := tx.Enqueue(ctx, &bot.OutboxJob{Kind: bot.OpPostCard, ItemID: it.ID, OrderKey: fmt.Sprintf("item:%d", it.ID), RunAt: t0, CreatedAt: t0})
						return err
					})
					if err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		n, err := db.QueryInt(ctx, `SELECT COUNT(*) FROM outbox`)
		if err != nil || n != goroutines*writes {
			t.Fatalf("%d jobs, %v; want %d", n, err, goroutines*writes)
		}
	})
}

// TestConcurrentUpdates: read-check-write transactions on the same item and
// draft, reading in either order, lose no update and never deadlock (on
// Postgres, reads lock the item, then the row).
func TestConcurrentUpdates(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		it := createItem(t, db, newItem("U1", "T1"))
		d := &bot.Draft{ItemID: it.ID, Kind: bot.DraftReply, State: bot.DraftPending, CreatedAt: t0, UpdatedAt: t0}
		m := &bot.Message{Key: bot.MessageKey{Conn: "community", Channel: "C1", ID: "T1"}, ItemID: it.ID, CreatedAt: t0}
		inTx(t, db, func(tx bot.Tx) error {
			if err := tx.CreateDraft(ctx, d); err != nil {
				return err
			}
			_, err := tx.InsertMessage(ctx, m)
			return err
		})

		const goroutines, rounds = 6, 15
		var wg sync.WaitGroup
		errs := make(chan error, goroutines*rounds)
		for g := range goroutines {
			wg.Go(func() {
				for r := range rounds {
					err := db.InTx(ctx, func(tx bot.Tx) error {
						var (
							item  *bot.Item
							draft *bot.Draft
							msg   *bot.Message
							err   error
						)
						switch (g + r) % 3 {
						case 0: // approving: draft, then its item
							if draft, err = tx.Draft(ctx, d.ID); err == nil {
								item, err = tx.Item(ctx, draft.ItemID)
							}
						case 1: // rendering a job: item, then draft
							if item, err = tx.Item(ctx, it.ID); err == nil {
								draft, err = tx.Draft(ctx, d.ID)
							}
						case 2: // an edit: message, then item, then draft
							if msg, err = tx.MessageByKey(ctx, m.Key); err == nil {
								if item, err = tx.Item(ctx, msg.ItemID); err == nil {
									draft, err = tx.Draft(ctx, d.ID)
								}
							}
						}
						if err != nil {
							return err
						}
						item.Assignee++
						draft.ApproverID++
						if err := tx.UpdateItem(ctx, item); err != nil {
							return err
						}
						return tx.UpdateDraft(ctx, draft)
					})
					if err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		inTx(t, db, func(tx bot.Tx) error {
			item, err := tx.Item(ctx, it.ID)
			if err != nil {
				return err
			}
			draft, err := tx.Draft(ctx, d.ID)
			if err != nil {
				return err
			}
			if item.Assignee != goroutines*rounds || draft.ApproverID != goroutines*rounds {
				t.Errorf("after %d increments: item %d, draft %d; updates were lost", goroutines*rounds, item.Assignee, draft.ApproverID)
			}
			return nil
		})
	})
}
