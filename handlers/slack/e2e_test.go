package slack_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/cmd/liaison/app"
	"github.com/liaison-bot/liaison/config"
	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// The end-to-end tests run Liaison as `liaison run` wires it
// (cmd/liaison/app), from a config, with the real adapter and the real
// slack-go clients, against two fake workspaces on 127.0.0.1: a community
// workspace watched by the "community" connection and an internal one where
// the "internal" connection shows cards; on a real store on each engine.

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

// The adapter's wire protocol: a button's action_id and a modal's
// callback_id are "liaison_" and the domain's action; an input block's
// block_id is the domain's field id, its element's action_id "value"; the
// metadata of every message Liaison posts has the event type "liaison_job".
const (
	actionPrefix = "liaison_"
	inputAction  = "value"
	jobEvent     = "liaison_job"
)

var (
	actReply       = actionPrefix + string(bot.ActReply)
	actClaim       = actionPrefix + string(bot.ActClaim)
	actUnclaim     = actionPrefix + string(bot.ActUnclaim)
	actTag         = actionPrefix + string(bot.ActTag)
	actIgnore      = actionPrefix + string(bot.ActIgnore)
	actReopen      = actionPrefix + string(bot.ActReopen)
	actApprove     = actionPrefix + string(bot.ActApprove)
	actEditApprove = actionPrefix + string(bot.ActEditApprove)
	actReject      = actionPrefix + string(bot.ActReject)
	actWithdraw    = actionPrefix + string(bot.ActWithdraw)
	actAccept      = actionPrefix + string(bot.ActAccept)
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

// liaisonConfig is Liaison's config for the tests: the community workspace
// watched, the internal one showing cards, both pointed at their fake by
// api_url, in Socket Mode or, with MODE=http, in HTTP mode. Alice, Bob and
// Lea agreed in writing to publish under their profiles; Carol has none.
const liaisonConfig = `
company: Acme
database: {url: "${DB_URL:-}", sqlite_path: "${DB_PATH:-unused.db}"}
http: {addr: "127.0.0.1:0"}
connections:
  - {name: community, platform: slack, role: public, mode: "${MODE:-socket}", api_url: "${COMMUNITY_API}",
     bot_token: "${COMMUNITY_BOT_TOKEN}", app_token: "${COMMUNITY_APP_TOKEN}", signing_secret: "${COMMUNITY_SIGNING_SECRET}"}
  - {name: internal, platform: slack, role: internal, mode: "${MODE:-socket}", api_url: "${INTERNAL_API}",
     bot_token: "${INTERNAL_BOT_TOKEN}", app_token: "${INTERNAL_APP_TOKEN}", signing_secret: "${INTERNAL_SIGNING_SECRET}"}
sources:
  - {name: "community #help", connection: community, channels: ["${HELP}"]}
routes:
  - {name: product, default: true, destination: {connection: internal, channel: "${PRODUCT}"}, approval: required,
     approvers: ["${BOB}", "${LEADS}"]}
profiles:
  - {name: Alice Martin, title: Product Manager, avatar_url: "https://example.com/alice.png", consented_at: 2026-01-05T09:00:00Z,
     identities: [{connection: internal, user_id: "${ALICE}"}]}
  - {name: Bob Stone, title: Head of Product, consented_at: 2026-01-05T09:00:00Z,
     identities: [{connection: internal, user_id: "${BOB}"}]}
  - {name: Lea Park, title: Support Lead, consented_at: 2026-01-05T09:00:00Z,
     identities: [{connection: internal, user_id: "${LEAD}"}]}
`

type envConfig struct {
	pub, staff func(*slackfake.Options)
	worker     func(*bot.Worker)
	httpMode   bool // both connections in HTTP mode
	// config, if set, edits Liaison's config before it is parsed.
	config func(yaml string) string
	// transport, if set, stands between a connection and its workspace.
	transport func(conn string, rt http.RoundTripper) http.RoundTripper
}

type env struct {
	t       *testing.T
	ctx     context.Context
	liaison *app.App
	pub     *slackfake.Fake
	staff   *slackfake.Fake
	url     string // Liaison's HTTP surface: "http://127.0.0.1:PORT"
}

// newEnv starts both workspaces and Liaison between them, on a fresh store
// on engine, and stops them all when the test ends.
func newEnv(t *testing.T, engine string, edit ...func(*envConfig)) *env {
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
	e := &env{t: t, ctx: context.Background()}
	var err error
	if e.pub, err = slackfake.New(pubOpts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.pub.Close)
	if e.staff, err = slackfake.New(staffOpts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.staff.Close)

	// The HTTP surface listens before Liaison runs, so that the fakes know
	// where to deliver in HTTP mode.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(t, err)
	t.Cleanup(func() { ln.Close() }) // if Liaison never served on it
	e.url = "http://" + ln.Addr().String()
	vars := map[string]string{
		"HELP": helpChan, "PRODUCT": productCh, "ALICE": alice, "BOB": bob, "LEAD": lead, "LEADS": leads,
	}
	for name, f := range map[string]*slackfake.Fake{"community": e.pub, "internal": e.staff} {
		prefix := strings.ToUpper(name) + "_"
		vars[prefix+"API"] = f.URL()
		vars[prefix+"BOT_TOKEN"], vars[prefix+"APP_TOKEN"], vars[prefix+"SIGNING_SECRET"] = f.BotToken(), f.AppToken(), f.SigningSecret()
		if cfg.httpMode {
			base := e.url + "/slack/" + name
			f.SetHTTPEndpoints(base+"/events", base+"/interactivity", base+"/commands")
		}
	}
	if cfg.httpMode {
		vars["MODE"] = "http"
	}
	if dsn := storagetest.DSN(t, engine); engine == "postgres" {
		vars["DB_URL"] = dsn
	} else {
		vars["DB_PATH"] = dsn
	}
	yaml := liaisonConfig
	if cfg.config != nil {
		yaml = cfg.config(yaml)
	}
	conf, err := config.Parse([]byte(yaml), func(k string) string { return vars[k] })
	check(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	e.liaison, err = app.Open(ctx, conf, app.Options{
		Log:      slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Listener: ln, Owner: "e2e", Transport: cfg.transport,
		Worker: func(w *bot.Worker) {
			w.Poll, w.BaseBackoff, w.CallTimeout = 20*time.Millisecond, 50*time.Millisecond, 10*time.Second
			if cfg.worker != nil {
				cfg.worker(w)
			}
		},
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.liaison.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		e.liaison.Close()
	})

	if !cfg.httpMode {
		e.wait(e.pub, "the community socket", func() bool { return e.pub.Connections() == 1 })
		e.wait(e.staff, "the internal socket", func() bool { return e.staff.Connections() == 1 })
	}
	e.waitStore("both connections healthy", func() bool {
		return e.conn("community").Health() == nil && e.conn("internal").Health() == nil
	})
	return e
}

// eachEngine runs fn as a subtest per storage engine.
func eachEngine(t *testing.T, fn func(t *testing.T, engine string)) {
	t.Helper()
	for _, engine := range storagetest.Engines(t) {
		t.Run(engine, func(t *testing.T) { fn(t, engine) })
	}
}

// conn returns Liaison's connection called name.
func (e *env) conn(name string) app.Connection { return e.liaison.Conns[name] }

// testWriter sends Liaison's warnings to the test log.
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

// buttonObjects returns the buttons of a message's actions blocks, as
// posted.
func buttonObjects(m slackfake.Message) []map[string]any {
	var blocks []struct {
		Type     string           `json:"type"`
		Elements []map[string]any `json:"elements"`
	}
	_ = json.Unmarshal(m.Blocks, &blocks)
	var out []map[string]any
	for _, b := range blocks {
		if b.Type != "actions" {
			continue
		}
		for _, el := range b.Elements {
			if el["type"] == "button" {
				out = append(out, el)
			}
		}
	}
	return out
}

// buttons returns the buttons of a message: action_id → value.
func buttons(m slackfake.Message) map[string]string {
	out := map[string]string{}
	for _, b := range buttonObjects(m) {
		id, _ := b["action_id"].(string)
		out[id], _ = b["value"].(string)
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
		_, err := e.liaison.Service.ItemByCardThread(e.ctx, "internal", card.Channel, card.TS)
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

// current returns the current state of the message at ts in the product
// channel.
func (e *env) current(ts string) slackfake.Message {
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

// waitReply waits for a bot reply in the card's thread that match accepts,
// the first one, and returns it.
func (e *env) waitReply(cardTS, what string, match func(slackfake.Message) bool) slackfake.Message {
	e.t.Helper()
	var found slackfake.Message
	e.wait(e.staff, what, func() bool {
		i := slices.IndexFunc(e.replies(cardTS), match)
		if i >= 0 {
			found = e.replies(cardTS)[i]
		}
		return i >= 0
	})
	return found
}

// waitNote waits for a bot reply in the card's thread that shows want.
func (e *env) waitNote(cardTS, want string) slackfake.Message {
	e.t.Helper()
	return e.waitReply(cardTS, fmt.Sprintf("a note %q", want), func(m slackfake.Message) bool {
		return strings.Contains(slackfake.Shown(m), want) && !m.Deleted
	})
}

// waitButton waits for a bot reply in the card's thread that offers the
// button action: with Approve, the first draft card waiting for review.
func (e *env) waitButton(cardTS, action string) slackfake.Message {
	e.t.Helper()
	return e.waitReply(cardTS, "a message with "+action, func(m slackfake.Message) bool {
		_, ok := buttons(m)[action]
		return ok
	})
}

// waitDraftCard waits for the draft card in a card's thread that shows text.
func (e *env) waitDraftCard(cardTS, text string) slackfake.Message {
	e.t.Helper()
	return e.waitReply(cardTS, "the draft card showing "+text, func(m slackfake.Message) bool {
		return strings.Contains(slackfake.Shown(m), text) && strings.Contains(slackfake.Shown(m), "#") && len(buttons(m)) > 0
	})
}

// waitShowing waits until the message at ts in the product channel shows
// every one of wants.
func (e *env) waitShowing(ts, what string, wants ...string) {
	e.t.Helper()
	e.wait(e.staff, what, func() bool {
		s := slackfake.Shown(e.current(ts))
		return !slices.ContainsFunc(wants, func(w string) bool { return !strings.Contains(s, w) })
	})
}

// ask posts a member's question in the watched channel and waits for its
// card, the nth.
func (e *env) ask(n int, question string) (root string, card slackfake.Message) {
	e.t.Helper()
	root = e.ts(e.pub.Post(member, helpChan, question))
	return root, e.waitCard(n)
}

// waitPublicReply waits for the one public reply in the thread of root.
func (e *env) waitPublicReply(root string) slackfake.Message {
	e.t.Helper()
	e.wait(e.pub, "the public reply", func() bool { return len(e.publicReplies(root)) == 1 })
	return e.publicReplies(root)[0]
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

// waitFieldError waits for the form open for user to show an error on the
// field of block, and returns it.
func (e *env) waitFieldError(user, block string) string {
	e.t.Helper()
	var msg string
	e.wait(e.staff, "an error on "+block, func() bool {
		views := e.staff.Views(user)
		if len(views) == 1 {
			msg = views[0].Errors[block]
		}
		return msg != ""
	})
	return msg
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
	err := e.liaison.DB.View(e.ctx, func(tx bot.Tx) (err error) {
		p, err = tx.ProfileByIdentity(e.ctx, "internal", user)
		return err
	})
	if errors.Is(err, bot.ErrNotFound) {
		return nil
	}
	check(e.t, err)
	return p
}

// trusted lists the routes a staff member is trusted on.
func (e *env) trusted(user string) []string {
	e.t.Helper()
	var out []string
	check(e.t, e.liaison.DB.View(e.ctx, func(tx bot.Tx) error {
		p, err := tx.ProfileByIdentity(e.ctx, "internal", user)
		if errors.Is(err, bot.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		out, err = tx.TrustedRoutes(e.ctx, p.ID)
		return err
	}))
	return out
}

// fact is how a card shows a fact: "*Label*" over its value.
func fact(label, value string) string { return "*" + label + "*\n" + value }

// expectShown reports each of wants that message m, the what, does not show.
func expectShown(t *testing.T, what string, m slackfake.Message, wants ...string) {
	t.Helper()
	s := slackfake.Shown(m)
	for _, want := range wants {
		if !strings.Contains(s, want) {
			t.Errorf("%s does not show %q:\n%s", what, want, s)
		}
	}
}

// buttonJSON returns the JSON of a message's button with actionID.
func buttonJSON(t *testing.T, m slackfake.Message, actionID string) map[string]any {
	t.Helper()
	for _, b := range buttonObjects(m) {
		if b["action_id"] == actionID {
			return b
		}
	}
	t.Fatalf("message %s has no %s button", m.TS, actionID)
	return nil
}

func (e *env) draft(id int64) *bot.Draft {
	e.t.Helper()
	d, err := e.liaison.Service.Draft(e.ctx, id)
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
	eachEngine(t, func(t *testing.T, engine string) {
		e := newEnv(t, engine)

		// A member asks.
		root, card := e.ask(1, "How do I export my data &amp; invoices?")
		itemID := idOf(t, card, actClaim)
		if got, want := actionIDs(card), []string{actClaim, actIgnore, actReply, actTag}; !slices.Equal(got, want) {
			t.Errorf("card buttons = %v, want %v", got, want)
		}
		for action, v := range buttons(card) {
			if v != fmt.Sprint(itemID) {
				t.Errorf("button %s carries %q, want only the item id", action, v)
			}
		}
		expectShown(t, "card", card, "*Mia* · #1 · community #help · <https://acme-community.slack.com/archives/"+helpChan+"/p"+strings.Replace(root, ".", "", 1)+"|View original>",
			"How do I export my data &amp; invoices?", fact("Status", "🆕 New"), fact("Route", "product"), "From Slack · Liaison item #1")
		if jobKey(card) == "" {
			t.Error("the card carries no job metadata")
		}

		t.Run("FollowUpEditDelete", func(t *testing.T) {
			reply := e.ts(e.pub.Reply(member, helpChan, root, "Also in CSV please"))
			note := e.waitNote(card.TS, "Also in CSV please")
			check(t, e.pub.Edit(helpChan, reply, "Also in CSV or JSON please"))
			e.wait(e.staff, "the edited note", func() bool {
				m := e.current(note.TS)
				return strings.Contains(m.Text, "CSV or JSON please (edited)")
			})
			check(t, e.pub.Delete(helpChan, reply))
			e.wait(e.staff, "the deleted note", func() bool {
				m := e.current(note.TS)
				return strings.Contains(m.Text, "(deleted this message)") && !strings.Contains(m.Text, "CSV")
			})
		})

		t.Run("ClaimAndTag", func(t *testing.T) {
			check(t, e.staff.Click(bob, productCh, card.TS, actClaim))
			// A click answers privately, where it was made.
			e.ephemeralShowing(e.staff, bob, fmt.Sprintf("Item #%d is yours.", itemID))
			e.waitShowing(card.TS, "the claimed card", fact("Claimed by", "Bob Stone"))
			check(t, e.staff.Click(alice, productCh, card.TS, actTag))
			e.submit(alice, e.openView(alice, cbTag), map[string]map[string]string{blockTags: text("Billing, export")})
			e.ephemeralShowing(e.staff, alice, fmt.Sprintf("Item #%d is tagged billing, export.", itemID))
			e.waitShowing(card.TS, "the tagged card", fact("Tags", "billing, export"))
		})

		// Alice drafts in the modal.
		check(t, e.staff.Click(alice, productCh, card.TS, actReply))
		e.submit(alice, e.openView(alice, cbReply), map[string]map[string]string{
			blockText: text("Settings → Export, then pick CSV. Tell @here & <b>everyone</b>!"),
		})
		e.ephemeralShowing(e.staff, alice, "Draft #1 is in the item's thread.")
		draftCard := e.waitButton(card.TS, actApprove)
		draftID := idOf(t, draftCard, actApprove)
		if got, want := actionIDs(draftCard), []string{actApprove, actEditApprove, actReject, actWithdraw}; !slices.Equal(got, want) {
			t.Errorf("draft card buttons = %v, want %v", got, want)
		}
		expectShown(t, "draft card", draftCard, "*Draft #1 · public reply (v1)*", "*Alice Martin · Acme*", "@Mia Settings → Export", "Tell @\u200bhere &amp; &lt;b&gt;everyone&lt;/b&gt;!",
			"Alice Martin, Product Manager at Acme", fact("State", "⏳ Waiting for an approver"), fact("Author", "Alice Martin"), fact("Answering", "Mia"))
		if !strings.Contains(string(draftCard.Blocks), "https://example.com/alice.png") {
			t.Error("the draft card does not show the avatar")
		}

		t.Run("DraftWithPrefix", func(t *testing.T) {
			// Carol has no profile: her draft waits and she is told privately.
			e.ts(e.staff.Reply(carol, productCh, card.TS, "!reply Or use the API: GET /v1/export"))
			e.ephemeralShowing(e.staff, carol, "/liaison profile")
			carols := e.waitReply(card.TS, "Carol's draft card", func(m slackfake.Message) bool { return strings.Contains(slackfake.Shown(m), "Or use the API") })
			if !strings.Contains(slackfake.Shown(carols), "⚠️ Waiting for Carol King to set up a public profile and agree to publish under it: `/liaison profile`") {
				t.Errorf("Carol's draft card does not say it waits for her profile:\n%s", slackfake.Shown(carols))
			}
			// She takes it back.
			check(t, e.staff.Click(carol, productCh, carols.TS, actWithdraw))
			e.wait(e.staff, "the withdrawn draft", func() bool {
				m := e.current(carols.TS)
				return strings.Contains(slackfake.Shown(m), "Withdrawn") && len(buttons(m)) == 0
			})
		})

		t.Run("NonApproverRefused", func(t *testing.T) {
			before := e.current(draftCard.TS)
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
			after := e.current(draftCard.TS)
			if after.Text != before.Text || string(after.Blocks) != string(before.Blocks) {
				t.Error("a refused click changed the draft card")
			}
			if n := len(e.publicReplies(root)); n != 0 {
				t.Errorf("%d public replies after refused clicks", n)
			}
		})

		// Bob approves: the reply appears once, under Alice's name and face.
		check(t, e.staff.Click(bob, productCh, draftCard.TS, actApprove))
		pub := e.waitPublicReply(root)
		if pub.Username != "Alice Martin · Acme" || pub.IconURL != "https://example.com/alice.png" {
			t.Errorf("public reply under %q / %q", pub.Username, pub.IconURL)
		}
		if !strings.HasPrefix(pub.Text, "<@"+member+"> Settings → Export") || !strings.Contains(pub.Text, "&amp; &lt;b&gt;everyone&lt;/b&gt;") {
			t.Errorf("public reply text = %q", pub.Text)
		}
		if got := slackfake.Pings(pub); !slices.Equal(got, []string{member}) {
			t.Errorf("the public reply pings %v, want only the member", got)
		}
		if !strings.Contains(slackfake.Shown(pub), "Alice Martin, Product Manager at Acme") {
			t.Errorf("the public reply has no attribution line:\n%s", slackfake.Shown(pub))
		}
		link := "https://acme-community.slack.com/archives/" + helpChan + "/p" + strings.Replace(pub.TS, ".", "", 1)
		e.waitNote(card.TS, "Answered publicly by Alice Martin (approved by Bob Stone)")
		e.waitShowing(card.TS, "the answered card", fact("Answered publicly by", "Alice Martin"), fact("Approved by", "Bob Stone"),
			fact("Public reply", "<"+link+"?thread_ts="+root+"&cid="+helpChan+"|View the public reply>"), fact("Status", "✅ Answered"))
		e.wait(e.staff, "the published draft card", func() bool {
			m := e.current(draftCard.TS)
			return slices.Equal(actionIDs(m), []string{actCorrect, actRetract}) && strings.Contains(slackfake.Shown(m), "Published")
		})
		if d := e.draft(draftID); d.State != bot.DraftPublished || d.PublicID != pub.TS {
			t.Errorf("draft = %s, public id %q, want published as %s", d.State, d.PublicID, pub.TS)
		}

		// Retract asks first, on the button itself: Slack shows the question.
		published := e.current(draftCard.TS)
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
		retraction := e.waitReply(card.TS, "the retraction card", func(m slackfake.Message) bool {
			return strings.Contains(slackfake.Shown(m), "*Retraction #3 of the public reply*") && len(buttons(m)) > 0
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
