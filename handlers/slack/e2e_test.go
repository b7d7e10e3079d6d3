package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
	"github.com/liaison-bot/liaison/storage"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// The end-to-end tests run the real adapter and the real slack-go clients
// against two fake workspaces on 127.0.0.1: a community workspace watched by
// the "community" connection and an internal one where the "internal"
// connection shows cards. Between them run a real bot.Service on a real
// store and its outbox worker.

const (
	botUser = "U0BOT"
	botID   = "B0BOT"

	// community workspace
	member   = "U0MEMBER" // Mia, who asks
	other    = "U0OTHER"  // another member
	helpChan = "C0HELP"   // watched

	// internal workspace
	alice     = "U0ALICE" // volunteer with a public profile
	bob       = "U0BOB"   // approver
	carol     = "U0CAROL" // responder without a profile
	lead      = "U0LEAD"  // approver through the leads group
	leads     = "S0LEADS"
	productCh = "C0PRODUCT"

	waitLimit = 15 * time.Second
)

type envConfig struct {
	pub, staff func(*slackfake.Options)
	worker     func(*bot.Worker)
	httpMode   bool // both connections in HTTP mode
}

type env struct {
	t         *testing.T
	ctx       context.Context
	svc       *bot.Service
	db        *storage.DB
	pub       *slackfake.Fake
	staff     *slackfake.Fake
	community *Conn
	internal  *Conn
	srv       *httptest.Server // HTTP mode
}

// newEnv starts both workspaces, both connections and the outbox worker,
// and stops them all when the test ends.
func newEnv(t *testing.T, db *storage.DB, edit ...func(*envConfig)) *env {
	t.Helper()
	var cfg envConfig
	for _, e := range edit {
		e(&cfg)
	}
	pubOpts := slackfake.Options{
		TeamID: "T0COMMUNITY", TeamName: "Acme Community", TeamDomain: "acme-community",
		Users: []slackfake.User{
			{ID: member, Name: "mia", RealName: "Mia Lopez", DisplayName: "Mia"},
			{ID: other, Name: "otto", RealName: "Otto Berg"},
		},
		Channels:     []slackfake.Channel{{ID: helpChan, Name: "help", Members: []string{botUser, member, other}}},
		PingInterval: time.Second,
	}
	staffOpts := slackfake.Options{
		TeamID: "T0ACME", TeamName: "Acme", TeamDomain: "acme",
		Users: []slackfake.User{
			{ID: alice, Name: "alice", RealName: "Alice Martin", Title: "Product Manager", AvatarURL: "https://example.com/alice.png"},
			{ID: bob, Name: "bob", RealName: "Bob Stone", Title: "Head of Product"},
			{ID: carol, Name: "carol", RealName: "Carol King", Title: "Engineer", AvatarURL: "https://example.com/carol.png"},
			{ID: lead, Name: "lea", RealName: "Lea Park"},
		},
		Channels:     []slackfake.Channel{{ID: productCh, Name: "product", Members: []string{botUser, alice, bob, carol, lead}}},
		UserGroups:   []slackfake.UserGroup{{ID: leads, Handle: "leads", Users: []string{lead}}},
		PingInterval: time.Second,
	}
	if cfg.pub != nil {
		cfg.pub(&pubOpts)
	}
	if cfg.staff != nil {
		cfg.staff(&staffOpts)
	}
	e := &env{t: t, ctx: context.Background(), db: db}
	var err error
	if e.pub, err = slackfake.New(pubOpts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.pub.Close)
	if e.staff, err = slackfake.New(staffOpts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.staff.Close)

	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	sources := []bot.Source{{Name: "community #help", Conn: "community", Channels: []string{helpChan}}}
	routes := []bot.Route{{
		Name: "product", Default: true, DestConn: "internal", DestChannel: productCh,
		Policy: bot.Policy{Mode: bot.ApprovalRequired, Approvers: []string{bob, leads}},
	}}
	platforms := map[string]bot.Platform{}
	e.svc = bot.NewService(db, platforms, bot.NewRouter(sources, routes), bot.Settings{Company: "Acme"})
	e.svc.Log = log // the harness is the composition root: the domain's warnings go to the test log
	conn := func(name string, f *slackfake.Fake) *Conn {
		c, err := New(Options{
			Name: name, BotToken: f.BotToken(), AppToken: f.AppToken(), SigningSecret: f.SigningSecret(),
			HTTPMode: cfg.httpMode, APIURL: f.URL(), Log: log,
		}, e.svc)
		if err != nil {
			t.Fatal(err)
		}
		platforms[name] = c
		return c
	}
	e.community = conn("community", e.pub)
	e.internal = conn("internal", e.staff)
	if cfg.httpMode {
		mux := http.NewServeMux()
		mux.Handle("/slack/community/", http.StripPrefix("/slack/community", e.community.Handler()))
		mux.Handle("/slack/internal/", http.StripPrefix("/slack/internal", e.internal.Handler()))
		e.srv = httptest.NewServer(mux)
		t.Cleanup(e.srv.Close)
		for name, f := range map[string]*slackfake.Fake{"community": e.pub, "internal": e.staff} {
			base := e.srv.URL + "/slack/" + name
			f.SetHTTPEndpoints(base+"/events", base+"/interactivity", base+"/commands")
		}
	}

	consented := time.Now()
	staffProfile := func(user, name, title, avatar string) bot.Profile {
		return bot.Profile{
			Name: name, Title: title, AvatarURL: avatar, ConsentedAt: &consented, Role: bot.RoleResponder,
			Identities: []bot.Identity{{Conn: "internal", UserID: user}},
		}
	}
	check(t, e.svc.SeedProfiles(e.ctx, []bot.Profile{
		staffProfile(alice, "Alice Martin", "Product Manager", "https://example.com/alice.png"),
		staffProfile(bob, "Bob Stone", "Head of Product", ""),
		staffProfile(lead, "Lea Park", "Support Lead", ""),
	}))

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, c := range []*Conn{e.community, e.internal} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Run(ctx); err != nil {
				t.Errorf("%s: Run: %v", c.name, err)
			}
		}()
	}
	w := e.svc.NewWorker("e2e")
	w.Poll, w.BaseBackoff, w.CallTimeout = 20*time.Millisecond, 50*time.Millisecond, 10*time.Second
	if cfg.worker != nil {
		cfg.worker(w)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = w.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})

	for _, c := range []*Conn{e.community, e.internal} {
		select {
		case <-c.ready:
		case <-time.After(waitLimit):
			t.Fatalf("%s never authenticated", c.name)
		}
	}
	if !cfg.httpMode {
		e.wait(e.pub, "the community socket", func() bool { return e.pub.Connections() == 1 })
		e.wait(e.staff, "the internal socket", func() bool { return e.staff.Connections() == 1 })
	}
	e.waitStore("both connections healthy", func() bool { return e.community.Health() == nil && e.internal.Health() == nil })
	return e
}

// The wire ids the adapter gives the domain's actions and form fields.
var (
	actReply       = actionPrefix + string(bot.ActReply)
	actClaim       = actionPrefix + string(bot.ActClaim)
	actUnclaim     = actionPrefix + string(bot.ActUnclaim)
	actTag         = actionPrefix + string(bot.ActTag)
	actIgnore      = actionPrefix + string(bot.ActIgnore)
	actApprove     = actionPrefix + string(bot.ActApprove)
	actEditApprove = actionPrefix + string(bot.ActEditApprove)
	actReject      = actionPrefix + string(bot.ActReject)
	actWithdraw    = actionPrefix + string(bot.ActWithdraw)
	actCorrect     = actionPrefix + string(bot.ActCorrect)
	actRetract     = actionPrefix + string(bot.ActRetract)

	cbReply       = actReply
	cbTag         = actTag
	cbEditApprove = actEditApprove
	cbReject      = actReject
	cbCorrect     = actCorrect
	cbProfile     = actionPrefix + string(bot.ActProfile)
)

const (
	blockText     = bot.FieldTextID
	blockTags     = bot.FieldTagsID
	blockReason   = bot.FieldReasonID
	blockName     = bot.FieldNameID
	blockTitle    = bot.FieldTitleID
	blockAvatar   = bot.FieldAvatarID
	blockPronouns = bot.FieldPronounsID
	blockConsent  = bot.FieldConsentID
)

// testWriter sends the adapter's warnings to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// wait waits until cond holds, checking after every change of f.
func (e *env) wait(f *slackfake.Fake, what string, cond func() bool) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, waitLimit)
	defer cancel()
	if err := f.WaitFor(ctx, cond); err != nil {
		e.t.Fatalf("waiting for %s: %v", what, err)
	}
}

// ts returns the ts of a message a person posted, failing the test on error.
func (e *env) ts(ts string, err error) string {
	e.t.Helper()
	check(e.t, err)
	return ts
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// buttons returns the buttons of a message: action_id → value.
func buttons(m slackfake.Message) map[string]string {
	out := map[string]string{}
	var blocks []struct {
		Type     string `json:"type"`
		Elements []struct {
			Type     string `json:"type"`
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	_ = json.Unmarshal(m.Blocks, &blocks)
	for _, b := range blocks {
		if b.Type != "actions" {
			continue
		}
		for _, el := range b.Elements {
			if el.Type == "button" {
				out[el.ActionID] = el.Value
			}
		}
	}
	return out
}

func actionIDs(m slackfake.Message) []string {
	var ids []string
	for id := range buttons(m) {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// shown is what a message shows: its text and every text of its blocks.
func shown(m slackfake.Message) string {
	var b strings.Builder
	b.WriteString(m.Text)
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			if s, ok := x["text"].(string); ok {
				b.WriteString("\n" + s)
			}
			for k, e := range x {
				if _, isString := e.(string); !isString || k != "text" {
					walk(e)
				}
			}
		}
	}
	var v any
	if json.Unmarshal(m.Blocks, &v) == nil {
		walk(v)
	}
	return b.String()
}

// jobKey returns the job key in a message's metadata.
func jobKey(m slackfake.Message) string {
	var md struct {
		EventType    string         `json:"event_type"`
		EventPayload map[string]any `json:"event_payload"`
	}
	if json.Unmarshal(m.Metadata, &md) != nil || md.EventType != jobEvent {
		return ""
	}
	s, _ := md.EventPayload["job"].(string)
	return s
}

// cards returns the item cards in the product channel, oldest first: the
// bot's top-level messages with a Tag button, which every card offers.
func (e *env) cards() []slackfake.Message {
	var out []slackfake.Message
	for _, m := range e.staff.Messages(productCh) {
		if m.BotID != botID || (m.ThreadTS != "" && m.ThreadTS != m.TS) {
			continue
		}
		if _, ok := buttons(m)[actTag]; ok && !m.Deleted {
			out = append(out, m)
		}
	}
	return out
}

// waitCard waits for the nth card (1-based) and for the item to know it
// (so that its thread is the item's), and returns it.
func (e *env) waitCard(n int) slackfake.Message {
	e.t.Helper()
	e.wait(e.staff, fmt.Sprintf("card %d", n), func() bool { return len(e.cards()) >= n })
	card := e.cards()[n-1]
	e.waitStore(fmt.Sprintf("card %d recorded", n), func() bool {
		_, err := e.svc.ItemByCardThread(e.ctx, "internal", card.TS)
		return err == nil
	})
	return card
}

// waitStore waits for a condition on the store, which no fake notifies:
// the outbox records a result after its last call to Slack.
func (e *env) waitStore(what string, cond func() bool) {
	e.t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	limit := time.After(waitLimit)
	for !cond() {
		select {
		case <-tick.C:
		case <-limit:
			e.t.Fatalf("waiting for %s: timed out", what)
		}
	}
}

// card returns the current state of the card posted at ts.
func (e *env) card(ts string) slackfake.Message {
	m, _ := e.staff.Message(productCh, ts)
	return m
}

// replies returns the bot's replies in the thread of ts in the product channel.
func (e *env) replies(ts string) []slackfake.Message {
	var out []slackfake.Message
	for _, m := range e.staff.Thread(productCh, ts) {
		if m.TS != ts && m.BotID == botID {
			out = append(out, m)
		}
	}
	return out
}

// waitNote waits for a bot reply in the card's thread that shows want.
func (e *env) waitNote(cardTS, want string) slackfake.Message {
	e.t.Helper()
	var found slackfake.Message
	e.wait(e.staff, fmt.Sprintf("a note %q", want), func() bool {
		for _, m := range e.replies(cardTS) {
			if strings.Contains(shown(m), want) && !m.Deleted {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

// publicReplies returns the bot's live posts in the public thread of root.
func (e *env) publicReplies(root string) []slackfake.Message {
	var out []slackfake.Message
	for _, m := range e.pub.Thread(helpChan, root) {
		if m.BotID == botID && !m.Deleted {
			out = append(out, m)
		}
	}
	return out
}

// ephemeralShowing waits for an ephemeral message to user that shows want.
func (e *env) ephemeralShowing(f *slackfake.Fake, user, want string) {
	e.t.Helper()
	e.wait(f, fmt.Sprintf("an ephemeral to %s saying %q", user, want), func() bool {
		return slices.ContainsFunc(f.Ephemerals(user), func(m slackfake.Message) bool { return strings.Contains(m.Text, want) })
	})
}

// openView waits for the modal Slack shows user and returns it.
func (e *env) openView(user, callbackID string) slackfake.View {
	e.t.Helper()
	var v slackfake.View
	e.wait(e.staff, "modal "+callbackID, func() bool {
		views := e.staff.Views(user)
		if len(views) == 1 && views[0].CallbackID == callbackID {
			v = views[0]
			return true
		}
		return false
	})
	return v
}

// submit submits a modal and waits for Slack to close it.
func (e *env) submit(user string, v slackfake.View, values map[string]map[string]string) {
	e.t.Helper()
	check(e.t, e.staff.SubmitView(user, v.ID, values))
	e.wait(e.staff, "the modal to close", func() bool { return len(e.staff.Views(user)) == 0 })
}

func text(s string) map[string]string { return map[string]string{inputAction: s} }

// profile returns the staff profile of a user of the internal workspace,
// nil when there is none.
func (e *env) profile(user string) *bot.Profile {
	e.t.Helper()
	var p *bot.Profile
	err := e.db.View(e.ctx, func(tx bot.Tx) (err error) {
		p, err = tx.ProfileByIdentity(e.ctx, "internal", user)
		return err
	})
	if errors.Is(err, bot.ErrNotFound) {
		return nil
	}
	check(e.t, err)
	return p
}

// fact is how a card shows a fact: "*Label*" over its value.
func fact(label, value string) string { return "*" + label + "*\n" + value }

// buttonJSON returns the JSON of a message's button with actionID.
func buttonJSON(t *testing.T, m slackfake.Message, actionID string) map[string]any {
	t.Helper()
	var blocks []struct {
		Type     string           `json:"type"`
		Elements []map[string]any `json:"elements"`
	}
	check(t, json.Unmarshal(m.Blocks, &blocks))
	for _, b := range blocks {
		for _, el := range b.Elements {
			if b.Type == "actions" && el["action_id"] == actionID {
				return el
			}
		}
	}
	t.Fatalf("message %s has no %s button", m.TS, actionID)
	return nil
}

func (e *env) draft(id int64) *bot.Draft {
	e.t.Helper()
	d, err := e.svc.Draft(e.ctx, id)
	check(e.t, err)
	return d
}

func idOf(t *testing.T, m slackfake.Message, action string) int64 {
	t.Helper()
	v, ok := buttons(m)[action]
	if !ok {
		t.Fatalf("message %s has no %s button: %v", m.TS, action, actionIDs(m))
	}
	var id int64
	if _, err := fmt.Sscan(v, &id); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestEndToEnd follows one question from the community to a public answer
// and its retraction.
func TestEndToEnd(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)

		// A member asks.
		root := e.ts(e.pub.Post(member, helpChan, "How do I export my data &amp; invoices?"))
		card := e.waitCard(1)
		itemID := idOf(t, card, actClaim)
		if got, want := actionIDs(card), []string{actClaim, actIgnore, actReply, actTag}; !slices.Equal(got, want) {
			t.Errorf("card buttons = %v, want %v", got, want)
		}
		for action, v := range buttons(card) {
			if v != fmt.Sprint(itemID) {
				t.Errorf("button %s carries %q, want only the item id", action, v)
			}
		}
		s := shown(card)
		for _, want := range []string{"*Mia* · #1 · community #help · <https://acme-community.slack.com/archives/" + helpChan + "/p" + strings.Replace(root, ".", "", 1) + "|View original>",
			"How do I export my data &amp; invoices?", fact("Status", "🆕 New"), fact("Route", "product"), "From Slack · Liaison item #1"} {
			if !strings.Contains(s, want) {
				t.Errorf("card does not show %q:\n%s", want, s)
			}
		}
		if jobKey(card) == "" {
			t.Error("the card carries no job metadata")
		}

		t.Run("FollowUpEditDelete", func(t *testing.T) {
			reply := e.ts(e.pub.Reply(member, helpChan, root, "Also in CSV please"))
			note := e.waitNote(card.TS, "Also in CSV please")
			check(t, e.pub.Edit(helpChan, reply, "Also in CSV or JSON please"))
			e.wait(e.staff, "the edited note", func() bool {
				m, _ := e.staff.Message(productCh, note.TS)
				return strings.Contains(m.Text, "CSV or JSON please (edited)")
			})
			check(t, e.pub.Delete(helpChan, reply))
			e.wait(e.staff, "the deleted note", func() bool {
				m, _ := e.staff.Message(productCh, note.TS)
				return strings.Contains(m.Text, "(deleted this message)") && !strings.Contains(m.Text, "CSV")
			})
		})

		t.Run("ClaimAndTag", func(t *testing.T) {
			check(t, e.staff.Click(bob, productCh, card.TS, actClaim))
			// A click answers privately, where it was made.
			e.ephemeralShowing(e.staff, bob, fmt.Sprintf("Item #%d is yours.", itemID))
			e.wait(e.staff, "the claimed card", func() bool { return strings.Contains(shown(e.card(card.TS)), fact("Claimed by", "Bob Stone")) })
			check(t, e.staff.Click(alice, productCh, card.TS, actTag))
			e.submit(alice, e.openView(alice, cbTag), map[string]map[string]string{blockTags: text("Billing, export")})
			e.ephemeralShowing(e.staff, alice, fmt.Sprintf("Item #%d is tagged billing, export.", itemID))
			e.wait(e.staff, "the tagged card", func() bool { return strings.Contains(shown(e.card(card.TS)), fact("Tags", "billing, export")) })
		})

		// Alice drafts in the modal.
		check(t, e.staff.Click(alice, productCh, card.TS, actReply))
		e.submit(alice, e.openView(alice, cbReply), map[string]map[string]string{
			blockText: text("Settings → Export, then pick CSV. Tell @here & <b>everyone</b>!"),
		})
		e.ephemeralShowing(e.staff, alice, "Draft #1 is in the item's thread.")
		var draftCard slackfake.Message
		e.wait(e.staff, "the draft card", func() bool {
			for _, m := range e.replies(card.TS) {
				if _, ok := buttons(m)[actApprove]; ok {
					draftCard = m
					return true
				}
			}
			return false
		})
		draftID := idOf(t, draftCard, actApprove)
		if got, want := actionIDs(draftCard), []string{actApprove, actEditApprove, actReject, actWithdraw}; !slices.Equal(got, want) {
			t.Errorf("draft card buttons = %v, want %v", got, want)
		}
		ds := shown(draftCard)
		for _, want := range []string{"*Draft #1 · public reply (v1)*", "*Alice Martin · Acme*", "@Mia Settings → Export", "Tell @\u200bhere &amp; &lt;b&gt;everyone&lt;/b&gt;!",
			"Alice Martin, Product Manager at Acme", fact("State", "⏳ Waiting for an approver"), fact("Author", "Alice Martin"), fact("Answering", "Mia")} {
			if !strings.Contains(ds, want) {
				t.Errorf("draft card does not show %q:\n%s", want, ds)
			}
		}
		if !strings.Contains(string(draftCard.Blocks), "https://example.com/alice.png") {
			t.Error("the draft card does not show the avatar")
		}

		t.Run("DraftWithPrefix", func(t *testing.T) {
			// Carol has no profile: her draft waits and she is told privately.
			e.ts(e.staff.Reply(carol, productCh, card.TS, "!reply Or use the API: GET /v1/export"))
			e.ephemeralShowing(e.staff, carol, "/liaison profile")
			var carols slackfake.Message
			e.wait(e.staff, "Carol's draft card", func() bool {
				for _, m := range e.replies(card.TS) {
					if strings.Contains(shown(m), "Or use the API") {
						carols = m
						return true
					}
				}
				return false
			})
			if !strings.Contains(shown(carols), "⚠️ Waiting for Carol King to set up a public profile and agree to publish under it: `/liaison profile`") {
				t.Errorf("Carol's draft card does not say it waits for her profile:\n%s", shown(carols))
			}
			// She takes it back.
			check(t, e.staff.Click(carol, productCh, carols.TS, actWithdraw))
			e.wait(e.staff, "the withdrawn draft", func() bool {
				m, _ := e.staff.Message(productCh, carols.TS)
				return strings.Contains(shown(m), "Withdrawn") && len(buttons(m)) == 0
			})
		})

		t.Run("NonApproverRefused", func(t *testing.T) {
			before, _ := e.staff.Message(productCh, draftCard.TS)
			check(t, e.staff.Click(carol, productCh, draftCard.TS, actApprove))
			e.ephemeralShowing(e.staff, carol, bot.ErrNotApprover.Message)
			// Alice is the author, not an approver: no modal for her.
			check(t, e.staff.Click(alice, productCh, draftCard.TS, actEditApprove))
			e.ephemeralShowing(e.staff, alice, bot.ErrNotApprover.Message)
			if v := e.staff.Views(alice); len(v) != 0 {
				t.Errorf("a modal opened for a refused reviewer: %+v", v)
			}
			if d := e.draft(draftID); d.State != bot.DraftPending {
				t.Errorf("draft is %s after refused clicks", d.State)
			}
			after, _ := e.staff.Message(productCh, draftCard.TS)
			if after.Text != before.Text || string(after.Blocks) != string(before.Blocks) {
				t.Error("a refused click changed the draft card")
			}
			if n := len(e.publicReplies(root)); n != 0 {
				t.Errorf("%d public replies after refused clicks", n)
			}
		})

		// Bob approves: the reply appears once, under Alice's name and face.
		check(t, e.staff.Click(bob, productCh, draftCard.TS, actApprove))
		e.wait(e.pub, "the public reply", func() bool { return len(e.publicReplies(root)) == 1 })
		pub := e.publicReplies(root)[0]
		if pub.Username != "Alice Martin · Acme" || pub.IconURL != "https://example.com/alice.png" {
			t.Errorf("public reply under %q / %q", pub.Username, pub.IconURL)
		}
		if !strings.HasPrefix(pub.Text, "<@"+member+"> Settings → Export") || !strings.Contains(pub.Text, "&amp; &lt;b&gt;everyone&lt;/b&gt;") {
			t.Errorf("public reply text = %q", pub.Text)
		}
		if got := slackfake.Pings(pub); !slices.Equal(got, []string{member}) {
			t.Errorf("the public reply pings %v, want only the member", got)
		}
		if !strings.Contains(shown(pub), "Alice Martin, Product Manager at Acme") {
			t.Errorf("the public reply has no attribution line:\n%s", shown(pub))
		}
		link := "https://acme-community.slack.com/archives/" + helpChan + "/p" + strings.Replace(pub.TS, ".", "", 1)
		e.waitNote(card.TS, "Answered publicly by Alice Martin (approved by Bob Stone)")
		e.wait(e.staff, "the answered card", func() bool {
			s := shown(e.card(card.TS))
			return strings.Contains(s, fact("Answered publicly by", "Alice Martin")) && strings.Contains(s, fact("Approved by", "Bob Stone")) &&
				strings.Contains(s, fact("Public reply", "<"+link+"?thread_ts="+root+"&cid="+helpChan+"|View the public reply>")) && strings.Contains(s, fact("Status", "✅ Answered"))
		})
		e.wait(e.staff, "the published draft card", func() bool {
			m, _ := e.staff.Message(productCh, draftCard.TS)
			return slices.Equal(actionIDs(m), []string{actCorrect, actRetract}) && strings.Contains(shown(m), "Published")
		})
		if d := e.draft(draftID); d.State != bot.DraftPublished || d.PublicID != pub.TS {
			t.Errorf("draft = %s, public id %q, want published as %s", d.State, d.PublicID, pub.TS)
		}

		// Retract asks first, on the button itself: Slack shows the question.
		published, _ := e.staff.Message(productCh, draftCard.TS)
		retract := buttonJSON(t, published, actRetract)
		confirm, _ := retract["confirm"].(map[string]any)
		textOf := func(k string) string { o, _ := confirm[k].(map[string]any); s, _ := o["text"].(string); return s }
		if textOf("title") != "Retract the reply?" || textOf("confirm") != "Ask to retract" || textOf("deny") != "Cancel" ||
			!strings.Contains(textOf("text"), "An approver approves the retraction") || confirm["style"] != "danger" || retract["style"] != "danger" {
			t.Errorf("the Retract button asks %v", retract)
		}
		if _, ok := buttonJSON(t, published, actCorrect)["confirm"]; ok {
			t.Error("the Correct button asks a question")
		}

		// Alice asks to retract; Lea, an approver through her user group, approves.
		check(t, e.staff.Click(alice, productCh, draftCard.TS, actRetract))
		e.ephemeralShowing(e.staff, alice, fmt.Sprintf("Retraction of reply #%d proposed as draft #3.", draftID))
		var retraction slackfake.Message
		e.wait(e.staff, "the retraction card", func() bool {
			for _, m := range e.replies(card.TS) {
				if strings.Contains(shown(m), "*Retraction #3 of the public reply*") {
					retraction = m
					return len(buttons(m)) > 0
				}
			}
			return false
		})
		check(t, e.staff.Click(lead, productCh, retraction.TS, actApprove))
		e.wait(e.pub, "the public reply to go", func() bool {
			m, _ := e.pub.Message(helpChan, pub.TS)
			return m.Deleted
		})
		e.waitNote(card.TS, "The public reply was removed")
		if n := len(e.publicReplies(root)); n != 0 {
			t.Errorf("%d public replies left", n)
		}
		// Exactly one publication ever reached the public channel.
		var posts int
		for _, c := range e.pub.Calls() {
			if c.Method == "chat.postMessage" && c.Error == "" {
				posts++
			}
		}
		if posts != 1 {
			t.Errorf("%d chat.postMessage calls on the public side, want 1", posts)
		}
	})
}
