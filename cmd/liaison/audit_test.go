package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/bot/mock"
	"github.com/liaison-bot/liaison/storage"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

var (
	auditAlice = bot.Actor{Conn: "internal", UserID: "U0ALICE", Name: "alice"}
	auditBob   = bot.Actor{Conn: "internal", UserID: "U0BOB", Name: "bob"}
)

// auditSeed is what seedAudit stored.
type auditSeed struct {
	answered, forgotten, november int64 // items
	reply, correction, rejected   int64 // drafts
}

// seedAudit fills the database dsn names through the service, as Liaison
// would have: in October an item answered, then corrected; an item whose
// draft was rejected and whose member was then forgotten; in November an
// item nobody answered yet.
func seedAudit(t *testing.T, dsn string) auditSeed {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := storage.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	clock := mock.NewClock(time.Date(2026, 10, 15, 9, 0, 0, 0, time.UTC))
	router := bot.NewRouter(
		[]bot.Source{{Name: "help", Conn: "community", Channels: []string{"C1"}}},
		[]bot.Route{{Name: "product", Default: true, DestConn: "internal", DestChannel: "C0PRODUCT",
			Policy: bot.Policy{Mode: bot.ApprovalRequired, Approvers: []string{"U0BOB"}}}})
	platforms := map[string]bot.Platform{"community": mock.New(bot.KindDiscord, true), "internal": mock.New(bot.KindSlack, true)}
	svc := bot.NewService(db, platforms, router, bot.Settings{Company: "Acme"})
	svc.Clock = clock.Now
	worker := svc.NewWorker("seed")
	drain := func() {
		t.Helper()
		for range 50 {
			n, err := worker.RunOnce(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				return
			}
		}
		t.Fatal("outbox never drained")
	}
	do := func(req bot.Request) {
		t.Helper()
		req.Confirmed = true
		if r := svc.Interact(ctx, req); r.Err != nil || r.Refused {
			t.Fatalf("%s: %v %q", req.Action, r.Err, r.Text)
		}
		clock.Advance(time.Minute)
		drain()
	}
	for _, p := range []struct {
		a    bot.Actor
		name string
	}{{auditAlice, "Alice Martin"}, {auditBob, "Bob Stone"}} {
		do(bot.Request{Kind: bot.Submit, Actor: p.a, Action: bot.ActProfile,
			Values: map[string]string{bot.FieldNameID: p.name, bot.FieldConsentID: "yes"}})
	}
	receive := func(id, author, name, text string) int64 {
		t.Helper()
		in := bot.Incoming{Conn: "community", Channel: "C1", ID: id, AuthorID: author, AuthorName: name, AuthorHandle: strings.ToLower(name),
			Text: text, Link: "https://discord.test/C1/" + id, At: clock.Now()}
		if out, err := svc.Receive(ctx, in); err != nil || out != bot.IntakeNew {
			t.Fatalf("receive %s: %s %v", id, out, err)
		}
		drain()
		var itemID int64
		if err := db.View(ctx, func(tx bot.Tx) error {
			m, err := tx.MessageByKey(ctx, bot.MessageKey{Conn: "community", Channel: "C1", ID: id})
			if err == nil {
				itemID = m.ItemID
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return itemID
	}
	newest := func(itemID int64) int64 {
		t.Helper()
		var ds []*bot.Draft
		if err := db.View(ctx, func(tx bot.Tx) (err error) {
			ds, err = tx.DraftsByItem(ctx, itemID)
			return err
		}); err != nil || len(ds) == 0 {
			t.Fatalf("drafts of item %d: %v", itemID, err)
		}
		return ds[len(ds)-1].ID
	}

	var s auditSeed
	s.answered = receive("1001", "111", "Mia", "what is the pricing for teams?")
	do(bot.Request{Kind: bot.Submit, Actor: auditAlice, Action: bot.ActReply, Target: s.answered, Values: map[string]string{bot.FieldTextID: "Teams cost 10 euros a seat."}})
	s.reply = newest(s.answered)
	do(bot.Request{Kind: bot.Click, Actor: auditBob, Action: bot.ActApprove, Target: s.reply})
	do(bot.Request{Kind: bot.Submit, Actor: auditAlice, Action: bot.ActCorrect, Target: s.reply, Values: map[string]string{bot.FieldTextID: "Teams cost 12 euros a seat."}})
	s.correction = newest(s.answered)
	do(bot.Request{Kind: bot.Click, Actor: auditBob, Action: bot.ActApprove, Target: s.correction})

	clock.Advance(5 * 24 * time.Hour)
	s.forgotten = receive("1002", "222", "Zed", "my address is 1 Secret Lane")
	do(bot.Request{Kind: bot.Submit, Actor: auditAlice, Action: bot.ActReply, Target: s.forgotten, Values: map[string]string{bot.FieldTextID: "We will look into it."}})
	s.rejected = newest(s.forgotten)
	do(bot.Request{Kind: bot.Submit, Actor: auditBob, Action: bot.ActReject, Target: s.rejected, Values: map[string]string{bot.FieldReasonID: "Too vague"}})
	if _, err := svc.Forget(ctx, auditBob, bot.MemberRef{ItemID: s.forgotten}); err != nil {
		t.Fatal(err)
	}

	clock.Advance(20 * 24 * time.Hour) // 9 November
	s.november = receive("1003", "111", "Mia", "and for schools?")
	return s
}

// auditEnv returns a config and environment whose database is dsn.
func auditEnv(t *testing.T, engine, dsn string) (cfgPath string, env map[string]string) {
	t.Helper()
	env = map[string]string{}
	for k, v := range exampleEnv {
		env[k] = v
	}
	path := dsn
	if engine == "postgres" {
		env["DATABASE_URL"] = dsn
		path = filepath.Join(t.TempDir(), "unused.db")
	}
	env["DB"] = path
	cfg := strings.Replace(mustRead(t, "../../liaison.example.yaml"), "sqlite_path: ./liaison.db", "sqlite_path: ${DB}", 1)
	return writeFile(t, cfg), env
}

func TestAudit(t *testing.T) {
	ctx := context.Background()
	for _, engine := range storagetest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			dsn := storagetest.DSN(t, engine)
			seed := seedAudit(t, dsn)
			cfg, env := auditEnv(t, engine, dsn)
			audit := func(args ...string) (int, string, string) {
				return cli(t, ctx, env, append([]string{"audit", "--config", cfg}, args...)...)
			}

			t.Run("JSON", func(t *testing.T) {
				code, out, errOut := audit("--item", fmt.Sprint(seed.answered), "--format", "json")
				if code != exitOK {
					t.Fatalf("exit %d: %s", code, errOut)
				}
				var doc struct {
					Items []bot.ItemTrail `json:"items"`
				}
				if err := json.Unmarshal([]byte(out), &doc); err != nil {
					t.Fatalf("not JSON: %v\n%s", err, out)
				}
				if len(doc.Items) != 1 {
					t.Fatalf("%d items", len(doc.Items))
				}
				it := doc.Items[0]
				if it.ItemID != seed.answered || it.Route != "product" || it.Status != bot.ItemAnswered {
					t.Errorf("item = %+v", it)
				}
				if len(it.Messages) != 1 || it.Messages[0].Author != "Mia" || it.Messages[0].AuthorID != "111" || it.Messages[0].Forgotten {
					t.Errorf("messages = %+v", it.Messages)
				}
				if len(it.Drafts) != 2 {
					t.Fatalf("drafts = %+v", it.Drafts)
				}
				reply, correction := it.Drafts[0], it.Drafts[1]
				if reply.DraftID != seed.reply || reply.Kind != bot.DraftReply || reply.Signer != "Alice Martin" ||
					len(reply.Versions) != 2 || reply.Versions[0].Text != "Teams cost 10 euros a seat." || reply.Versions[0].Editor != "Alice Martin" ||
					reply.Versions[1].Text != "Teams cost 12 euros a seat." { // the published correction is the post's new text
					t.Errorf("reply = %+v", reply)
				}
				if reply.ApprovedBy != "Bob Stone" || reply.ApprovedAt == nil || reply.Review != "approved" {
					t.Errorf("reply's approval = %+v", reply)
				}
				if reply.PublishedAt == nil || reply.PublicLink == "" || reply.PublicConn != "community" {
					t.Errorf("reply's publication = %+v", reply)
				}
				if correction.Kind != bot.DraftCorrection || correction.Target != seed.reply || correction.ApprovedBy != "Bob Stone" ||
					correction.PublishedAt == nil || correction.Versions[0].Text != "Teams cost 12 euros a seat." {
					t.Errorf("correction = %+v", correction)
				}
				var actions []string
				for _, e := range it.Events {
					actions = append(actions, e.Action)
					if e.Action == "draft.approve" && (e.Actor != "internal:U0BOB" || e.ActorName != "Bob Stone") {
						t.Errorf("approval event = %+v", e)
					}
				}
				for _, want := range []string{"draft.create", "draft.approve", "draft.published"} {
					if !slices.Contains(actions, want) {
						t.Errorf("events %v lack %s", actions, want)
					}
				}
				// Stable snake_case names.
				for _, key := range []string{`"items"`, `"opened_at"`, `"message_id"`, `"approved_by"`, `"published_at"`, `"public_link"`, `"versions"`, `"editor"`, `"actor_name"`} {
					if !strings.Contains(out, key) {
						t.Errorf("JSON lacks %s", key)
					}
				}
			})

			t.Run("TextForgottenMember", func(t *testing.T) {
				code, out, errOut := audit("--item", fmt.Sprint(seed.forgotten))
				if code != exitOK {
					t.Fatalf("exit %d: %s", code, errOut)
				}
				for _, want := range []string{fmt.Sprintf("Item #%d", seed.forgotten), "forgotten member", "rejected by Bob Stone", "Too vague", "We will look into it.", "draft.reject"} {
					if !strings.Contains(out, want) {
						t.Errorf("text lacks %q:\n%s", want, out)
					}
				}
				for _, never := range []string{"Zed", "zed", "222", "Secret Lane"} {
					if strings.Contains(out, never) {
						t.Errorf("text shows %q of a forgotten member:\n%s", never, out)
					}
				}
				code, out, _ = audit("--item", fmt.Sprint(seed.answered), "--format", "text")
				if code != exitOK || !strings.Contains(out, "approved by Bob Stone") || !strings.Contains(out, "published 2026-10-15") {
					t.Errorf("text of the answered item:\n%s", out)
				}
			})

			t.Run("CSVSince", func(t *testing.T) {
				read := func(since string) [][]string {
					t.Helper()
					code, out, errOut := audit("--since", since, "--format", "csv")
					if code != exitOK {
						t.Fatalf("exit %d: %s", code, errOut)
					}
					rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
					if err != nil {
						t.Fatalf("not CSV: %v\n%s", err, out)
					}
					if len(rows) == 0 || !slices.Equal(rows[0], []string{"item", "time", "kind", "actor", "draft", "version", "text", "link", "detail"}) {
						t.Fatalf("header = %v", rows)
					}
					return rows[1:]
				}
				items := func(rows [][]string) []string {
					var out []string
					for _, r := range rows {
						if !slices.Contains(out, r[0]) {
							out = append(out, r[0])
						}
					}
					return out
				}
				november := read("2026-11-01")
				if got := items(november); !slices.Equal(got, []string{fmt.Sprint(seed.november)}) {
					t.Fatalf("items since 1 November = %v; want only #%d", got, seed.november)
				}
				if november[0][2] != "message" || november[0][3] != "Mia [111]" {
					t.Errorf("first row = %v", november[0])
				}
				all := read("2026-10-01T00:00:00Z")
				if got := items(all); len(got) != 3 {
					t.Fatalf("items since 1 October = %v", got)
				}
				var published, corrected bool
				for _, r := range all {
					if r[2] == "approval" && r[4] == fmt.Sprint(seed.reply) && (r[3] != "Bob Stone" || r[5] != "1") {
						t.Errorf("approval row = %v; want Bob Stone approving version 1", r)
					}
					if r[2] == "publication" && r[4] == fmt.Sprint(seed.reply) && strings.HasPrefix(r[7], "https://") {
						published = true
					}
					if r[2] == "version" && r[4] == fmt.Sprint(seed.correction) && r[5] == "1" && r[6] == "Teams cost 12 euros a seat." &&
						r[8] == fmt.Sprintf("correction of draft %d", seed.reply) {
						corrected = true
					}
					if strings.Contains(strings.Join(r, ","), "Secret Lane") || strings.Contains(strings.Join(r, ","), "Zed") {
						t.Errorf("a row shows a forgotten member: %v", r)
					}
				}
				if !published || !corrected {
					t.Errorf("rows lack the publication (%v) or the correction (%v):\n%v", published, corrected, all)
				}
				if rows := read("2027-01-01"); len(rows) != 0 {
					t.Errorf("rows since 2027: %v", rows)
				}
			})

			t.Run("ErrItemNotFound", func(t *testing.T) {
				code, _, errOut := audit("--item", "42")
				if code != exitRuntime || !strings.Contains(errOut, "item 42 not found") {
					t.Fatalf("exit %d: %q", code, errOut)
				}
			})
		})
	}
}

func TestAuditBadFlags(t *testing.T) {
	ctx := context.Background()
	cfg, env := auditEnv(t, "sqlite", filepath.Join(t.TempDir(), "none.db"))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "exactly one of --item N and --since DATE"},
		{[]string{"--item", "1", "--since", "2026-11-01"}, "exactly one of --item N and --since DATE"},
		{[]string{"--since", "last week"}, `--since "last week" is not a date`},
		{[]string{"--since", "2026-13-01"}, "is not a date"},
		{[]string{"--item", "0"}, "--item 0 is not an item number"},
		{[]string{"--item", "abc"}, "invalid argument"},
		{[]string{"--item", "1", "--format", "xml"}, `--format "xml" is not a format (want text, json, csv)`},
		{[]string{"--item", "1", "extra"}, "unknown command"},
	} {
		code, out, errOut := cli(t, ctx, env, append([]string{"audit", "--config", cfg}, tc.args...)...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) || out != "" {
			t.Errorf("audit %v: exit %d, %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
	// A database that does not exist is not created.
	code, _, errOut := cli(t, ctx, env, "audit", "--config", cfg, "--item", "1")
	if code != exitRuntime || !strings.Contains(errOut, "no database at") {
		t.Fatalf("no database: exit %d, %q", code, errOut)
	}
	if code, out, _ := cli(t, ctx, nil, "audit", "--help"); code != exitOK || !strings.Contains(out, "--since") {
		t.Fatalf("audit --help: %d %q", code, out)
	}
}
