package discord_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	dg "github.com/bwmarrin/discordgo"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/cmd/liaison/app"
	"github.com/liaison-bot/liaison/config"
	"github.com/liaison-bot/liaison/handlers/discord"
	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// The public community guild, on one fake Discord.
const (
	pubGuild   = "2100000000000000001"
	general    = "2100000000000000010" // watched text channel
	help       = "2100000000000000011" // watched forum
	offTopic   = "2100000000000000012" // not watched
	maria      = "2100000000000000101" // community member
	sam        = "2100000000000000102" // community member
	otherBot   = "2100000000000000103" // another app's bot
	pubBot     = "2100000000000000900"
	pubToken   = "community-bot-token"
	innerGuild = "3100000000000000001"
	feedback   = "3100000000000000010" // where cards go
	approvers  = "3100000000000000020" // role that approves
	alice      = "3100000000000000101" // volunteer responder
	mona       = "3100000000000000102" // manager, holds the approver role
	nick       = "3100000000000000103" // staff without the approver role
	innerBot   = "3100000000000000900"
	innerToken = "internal-bot-token"
)

const waitLimit = 15 * time.Second

func communityGuild() discordfake.Guild {
	return discordfake.Guild{
		ID: pubGuild, Name: "Acme Community",
		Channels: []discordfake.Channel{
			{ID: general, Name: "general", Type: discordfake.ChannelText},
			{ID: help, Name: "help", Type: discordfake.ChannelForum},
			{ID: offTopic, Name: "off-topic", Type: discordfake.ChannelText},
		},
		Members: []discordfake.Member{
			{User: discordfake.User{ID: maria, Username: "maria", GlobalName: "Maria"}},
			{User: discordfake.User{ID: sam, Username: "sam", GlobalName: "Sam"}},
			{User: discordfake.User{ID: otherBot, Username: "statusbot", Bot: true}},
		},
	}
}

func staffGuild() discordfake.Guild {
	return discordfake.Guild{
		ID: innerGuild, Name: "Acme Staff",
		Channels: []discordfake.Channel{{ID: feedback, Name: "community-feedback", Type: discordfake.ChannelText}},
		Roles:    []discordfake.Role{{ID: approvers, Name: "Approvers"}},
		Members: []discordfake.Member{
			{User: discordfake.User{ID: alice, Username: "alice", GlobalName: "Alice"}},
			{User: discordfake.User{ID: mona, Username: "mona", GlobalName: "Mona"}, Roles: []string{approvers}},
			{User: discordfake.User{ID: nick, Username: "nick", GlobalName: "Nick"}},
		},
	}
}

// world is Liaison, wired by the composition root as `liaison run` wires
// it, between a public Discord and an internal one: the real adapters and
// discordgo against two fakes, reached through api_url, on a real store.
type world struct {
	t          *testing.T
	ctx        context.Context
	pub, inner *discordfake.Fake
	cfg        *config.Config
	transport  func(conn string, rt http.RoundTripper) http.RoundTripper
	worker     func(*bot.Worker)
	liaison    *app.App
	dsn        string      // the world's database
	logs       *syncBuffer // Liaison's logs, when kept
	adapter    func(name string, o *discord.Options, d discord.Domain) discord.Domain
	stops      map[*app.App]func()
}

type worldOpts struct {
	engine   string // "sqlite" when empty
	pubPerms map[string]int64
	approval config.Approval // the route's; required when empty
	// transport, if set, wraps the HTTP transport of a connection
	// ("community" or "internal") to its fake.
	transport func(conn string, rt http.RoundTripper) http.RoundTripper
	// keepLogs keeps Liaison's logs in world.logs, to be searched.
	keepLogs bool
	// worker, if set, tunes the outbox worker after the world's defaults.
	worker func(*bot.Worker)
	// adapter, if set, rebuilds both Discord connections of each Liaison
	// started as the composition root builds them, with the adapter
	// options it tunes (o.Owner is the Liaison's) and the domain it
	// returns, given the real one (nil: the real one).
	adapter func(name string, o *discord.Options, d discord.Domain) discord.Domain
	// stopped: newWorld does not start Liaison.
	stopped bool
}

// worldConfig is Liaison's config for the world: the public guild watched,
// cards in the internal guild's feedback channel, approved by a role.
const worldConfig = `
company: Acme
database: {url: "${DB_URL:-}", sqlite_path: "${DB_PATH:-unused.db}"}
http: {addr: "127.0.0.1:0"}
connections:
  - {name: community, platform: discord, role: public, token: "${PUB_TOKEN}", guild_id: "${PUB_GUILD}", api_url: "${PUB_API}"}
  - {name: internal, platform: discord, role: internal, token: "${INNER_TOKEN}", guild_id: "${INNER_GUILD}", api_url: "${INNER_API}"}
sources:
  - {name: community, connection: community, channels: ["${GENERAL}", "${HELP}"]}
routes:
  - {name: feedback, default: true, destination: {connection: internal, channel: "${FEEDBACK}"},
     approval: "${APPROVAL:-required}", approvers: ["${APPROVERS}"]}
`

// testLog sends Liaison's logs to the test log.
func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tLogWriter struct{ t *testing.T }

// syncBuffer is a bytes.Buffer that several goroutines may write.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

type teeWriter struct {
	a, b interface{ Write([]byte) (int, error) }
}

func (t teeWriter) Write(p []byte) (int, error) {
	t.a.Write(p)
	return t.b.Write(p)
}

func (w tLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// newWorld starts the two fakes and Liaison between them, on a fresh
// database, and waits until both connections are healthy.
func newWorld(t *testing.T, o worldOpts) *world {
	t.Helper()
	if o.engine == "" {
		o.engine = "sqlite"
	}
	w := &world{
		t:         t,
		ctx:       context.Background(),
		pub:       discordfake.MustNew(t, discordfake.Options{BotToken: pubToken, BotUserID: pubBot, Guilds: []discordfake.Guild{communityGuild()}, BotPermissions: o.pubPerms}),
		inner:     discordfake.MustNew(t, discordfake.Options{BotToken: innerToken, BotUserID: innerBot, Guilds: []discordfake.Guild{staffGuild()}}),
		transport: o.transport,
		worker:    o.worker,
		adapter:   o.adapter,
		dsn:       storagetest.DSN(t, o.engine),
		stops:     map[*app.App]func(){},
	}
	if o.keepLogs {
		w.logs = &syncBuffer{}
	}
	env := map[string]string{
		"PUB_TOKEN": pubToken, "PUB_GUILD": pubGuild, "PUB_API": w.pub.URL(),
		"INNER_TOKEN": innerToken, "INNER_GUILD": innerGuild, "INNER_API": w.inner.URL(),
		"GENERAL": general, "HELP": help, "FEEDBACK": feedback, "APPROVERS": approvers, "APPROVAL": string(o.approval),
	}
	dsnVar := map[string]string{"sqlite": "DB_PATH", "postgres": "DB_URL"}[o.engine]
	env[dsnVar] = w.dsn
	cfg, err := config.Parse([]byte(worldConfig), func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	w.cfg = cfg
	if !o.stopped {
		w.startAndWait("e2e")
	}
	return w
}

// startAndWait starts the world's Liaison and waits until both
// connections are healthy.
func (w *world) startAndWait(owner string) {
	w.t.Helper()
	w.liaison = w.start(owner)
	w.waitFor(w.pub, "community gateway", func() bool { return w.pub.Gateway().Connected })
	w.waitFor(w.inner, "/liaison registered", func() bool {
		return w.inner.Gateway().Connected && len(w.inner.Commands(innerGuild)) == 1+len(bot.Menus())
	})
	for _, c := range w.liaison.Conns {
		waitHealthy(w.t, c)
	}
}

// start runs a Liaison on the world's config, its database and fakes, until
// the test ends: the world's own, or a replica beside it.
func (w *world) start(owner string) *app.App {
	w.t.Helper()
	ctx, cancel := context.WithCancel(w.ctx)
	log := testLog(w.t)
	if w.logs != nil {
		log = slog.New(slog.NewTextHandler(teeWriter{w.logs, tLogWriter{w.t}}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	a, err := app.Open(ctx, w.cfg, app.Options{
		Log: log, Owner: owner, Transport: w.transport,
		// discordgo logs expected reconnects on stdout otherwise.
		Discord: func(_ string, s *dg.Session) { s.LogLevel = -1 },
		Worker: func(wk *bot.Worker) {
			wk.Poll, wk.BaseBackoff, wk.MaxBackoff = 20*time.Millisecond, 50*time.Millisecond, time.Second
			if w.worker != nil {
				w.worker(wk)
			}
		},
	})
	if err != nil {
		cancel()
		w.t.Fatalf("app.Open: %v", err)
	}
	if w.adapter != nil {
		w.rebuild(a, "community", owner, log)
		w.rebuild(a, "internal", owner, log)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				w.t.Errorf("Run: %v", err)
			}
			a.Close()
		})
	}
	w.stops[a] = stop
	w.t.Cleanup(stop)
	return a
}

// stop stops a Liaison the world started, as a shutdown would.
func (w *world) stop(a *app.App) {
	w.t.Helper()
	w.stops[a]()
}

// rebuild replaces a Liaison's Discord connection with one built from the
// config as the composition root builds it, tuned by the world's adapter
// hook.
func (w *world) rebuild(a *app.App, name, owner string, log *slog.Logger) {
	w.t.Helper()
	cc := w.cfg.Connection(name)
	var rt http.RoundTripper = http.DefaultTransport
	if w.transport != nil {
		rt = w.transport(cc.Name, rt)
	}
	o := discord.Options{
		Name: cc.Name, Token: cc.Token.Reveal(), GuildID: cc.GuildID, ApplicationID: cc.ApplicationID,
		APIURL: cc.APIURL, Transport: rt, Log: log,
		Owner: owner, Backfill: cc.Backfill,
		Configure: func(s *dg.Session) { s.LogLevel = -1 },
	}
	var d discord.Domain = a.Service
	if got := w.adapter(name, &o, d); got != nil {
		d = got
	}
	c, err := discord.New(o, d)
	if err != nil {
		w.t.Fatalf("connection %s: %v", name, err)
	}
	a.Conns[cc.Name] = c
	a.Service.Platforms[cc.Name] = c
}

// waitFor waits, on the fake's change notifications, until cond holds.
func (w *world) waitFor(f *discordfake.Fake, what string, cond func() bool) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.ctx, waitLimit)
	defer cancel()
	if err := f.WaitFor(ctx, cond); err != nil {
		w.dumpCalls()
		w.t.Fatalf("waiting for %s: %v", what, err)
	}
}

// dumpCalls logs the last REST calls each fake received, to tell why a
// wait failed.
func (w *world) dumpCalls() {
	for name, f := range map[string]*discordfake.Fake{"public": w.pub, "internal": w.inner} {
		calls := f.Calls()
		for _, c := range calls[max(0, len(calls)-25):] {
			w.t.Logf("%s: %s %s?%s → %d %.300s", name, c.Method, c.Path, c.Query, c.Status, c.Body)
		}
	}
}

// cards are the item cards Liaison posted in the feedback channel.
func (w *world) cards() []discordfake.Message {
	var out []discordfake.Message
	for _, m := range w.inner.Messages(feedback) {
		if m.Author.ID == innerBot && len(m.Embeds) > 0 && !m.Deleted {
			out = append(out, m)
		}
	}
	return out
}

// card waits for the card of item #id and returns its latest state.
func (w *world) card(id int64, cond func(discordfake.Message) bool) discordfake.Message {
	w.t.Helper()
	prefix := fmt.Sprintf("#%d · ", id)
	var got discordfake.Message
	w.waitFor(w.inner, fmt.Sprintf("card #%d", id), func() bool {
		for _, m := range w.cards() {
			if strings.HasPrefix(m.Embeds[0].Title, prefix) && (cond == nil || cond(m)) {
				got = m
				return true
			}
		}
		return false
	})
	return got
}

// threadMessages are the messages of a card's thread (its ID is the card's).
func (w *world) threadMessages(cardID string) []discordfake.Message {
	return w.inner.Messages(cardID)
}

// note waits for a message in the card's thread whose content has substr.
func (w *world) note(cardID, substr string) discordfake.Message {
	w.t.Helper()
	var got discordfake.Message
	w.waitFor(w.inner, fmt.Sprintf("note %q", substr), func() bool {
		for _, m := range w.threadMessages(cardID) {
			if !m.Deleted && strings.Contains(m.Content, substr) {
				got = m
				return true
			}
		}
		return false
	})
	return got
}

// draftCard waits for the draft card of draft #id in a card's thread.
func (w *world) draftCard(cardID string, id int64, cond func(discordfake.Message) bool) discordfake.Message {
	w.t.Helper()
	prefix := []string{fmt.Sprintf("Draft #%d ", id), fmt.Sprintf("Correction #%d ", id), fmt.Sprintf("Retraction #%d ", id)}
	var got discordfake.Message
	w.waitFor(w.inner, fmt.Sprintf("draft card #%d", id), func() bool {
		for _, m := range w.threadMessages(cardID) {
			if len(m.Embeds) == 0 || m.Deleted {
				continue
			}
			for _, p := range prefix {
				if strings.HasPrefix(m.Embeds[0].Title, p) && (cond == nil || cond(m)) {
					got = m
					return true
				}
			}
		}
		return false
	})
	return got
}

// answer waits for the bot's answer to an interaction: the text of an
// ephemeral message (deferred then filled in, or immediate), or
// "modal:<custom_id>" for a form.
func (w *world) answer(f *discordfake.Fake, interactionID string) string {
	w.t.Helper()
	out, _ := w.answerMessage(f, interactionID)
	return out
}

// answerMessage is answer, with the ephemeral message the answer is (for
// its buttons); the message is empty for a modal.
func (w *world) answerMessage(f *discordfake.Fake, interactionID string) (string, discordfake.Message) {
	w.t.Helper()
	var out string
	var msg discordfake.Message
	w.waitFor(f, "answer to interaction "+interactionID, func() bool {
		rs := f.InteractionResponses(interactionID)
		if len(rs) == 0 {
			return false
		}
		switch rs[0].Type {
		case 9:
			out = "modal:" + rs[0].CustomID
			return true
		case 4, 5:
			ms := f.InteractionMessages(interactionID)
			if len(ms) > 0 && ms[0].Flags&discordfake.FlagLoading == 0 {
				if !ms[0].Ephemeral() {
					w.t.Errorf("the answer to interaction %s is public: %q", interactionID, ms[0].Content)
				}
				out, msg = ms[0].Content, ms[0]
				return true
			}
		}
		return false
	})
	return out, msg
}

func (w *world) click(f *discordfake.Fake, user, channel, messageID, customID string) string {
	w.t.Helper()
	id, err := f.Click(user, channel, messageID, customID)
	if err != nil {
		w.t.Fatalf("click %s: %v", customID, err)
	}
	return w.answer(f, id)
}

func (w *world) submit(f *discordfake.Fake, user, channel, customID string, values map[string]string) string {
	w.t.Helper()
	id, err := f.SubmitModal(user, channel, customID, values)
	if err != nil {
		w.t.Fatalf("submit %s: %v", customID, err)
	}
	return w.answer(f, id)
}

// setUpProfile runs /liaison profile as alice and fills in the form.
func (w *world) setUpProfile(user, name, title, avatar string) {
	w.t.Helper()
	id, err := w.inner.RunCommand(user, feedback, "liaison", []discordfake.CommandOption{{Name: "profile", Type: 1}})
	if err != nil {
		w.t.Fatalf("/liaison profile: %v", err)
	}
	if got := w.answer(w.inner, id); got != "modal:liaison:profile:0" {
		w.t.Fatalf("/liaison profile answered %q, want the profile modal", got)
	}
	got := w.submit(w.inner, user, feedback, "liaison:profile:0", map[string]string{
		bot.FieldNameID: name, bot.FieldTitleID: title, bot.FieldAvatarID: avatar, bot.FieldConsentID: "yes",
	})
	if !strings.Contains(got, "Profile saved") {
		w.t.Fatalf("profile form answered %q", got)
	}
}

// webhookPosts are the messages of a public channel or thread that came
// through a webhook.
func webhookPosts(f *discordfake.Fake, channel string) []discordfake.Message {
	var out []discordfake.Message
	for _, m := range f.Messages(channel) {
		if m.WebhookID != "" && !m.Deleted {
			out = append(out, m)
		}
	}
	return out
}

// publicReply waits for the first reply Liaison published in a public
// thread through a webhook.
func (w *world) publicReply(thread, what string) discordfake.Message {
	w.t.Helper()
	var reply discordfake.Message
	w.waitFor(w.pub, what, func() bool {
		ps := webhookPosts(w.pub, thread)
		if len(ps) > 0 {
			reply = ps[0]
		}
		return len(ps) > 0
	})
	return reply
}

// post posts text as a member of the public guild.
func (w *world) post(user, channel, text string) discordfake.Message {
	w.t.Helper()
	m, err := w.pub.Post(user, channel, text)
	if err != nil {
		w.t.Fatalf("%s posts in %s: %v", user, channel, err)
	}
	return m
}

// postInThread posts text as a member in a thread on f.
func (w *world) postInThread(f *discordfake.Fake, user, thread, text string) discordfake.Message {
	w.t.Helper()
	m, err := f.PostInThread(user, thread, text)
	if err != nil {
		w.t.Fatalf("%s posts in thread %s: %v", user, thread, err)
	}
	return m
}

// openPost opens a forum post in #help as a member.
func (w *world) openPost(user, title, text string) (post discordfake.Channel, first discordfake.Message) {
	w.t.Helper()
	post, first, err := w.pub.OpenForumPost(user, help, title, text)
	if err != nil {
		w.t.Fatalf("%s opens a post in #help: %v", user, err)
	}
	return post, first
}

func field(m discordfake.Message, name string) string {
	if len(m.Embeds) == 0 {
		return ""
	}
	for _, f := range m.Embeds[0].Fields {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

// footer is the small print of a message's embed.
func footer(m discordfake.Message) string {
	if len(m.Embeds) == 0 || m.Embeds[0].Footer == nil {
		return ""
	}
	return m.Embeds[0].Footer.Text
}

// read reads the store, failing the test if it cannot.
func read[T any](w *world, what string, get func(tx bot.Tx) (T, error)) T {
	w.t.Helper()
	var v T
	if err := w.liaison.DB.View(w.ctx, func(tx bot.Tx) (err error) { v, err = get(tx); return err }); err != nil {
		w.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// profile reads a staff member's profile from the store.
func (w *world) profile(conn, user string) *bot.Profile {
	w.t.Helper()
	return read(w, "profile of "+user, func(tx bot.Tx) (*bot.Profile, error) { return tx.ProfileByIdentity(w.ctx, conn, user) })
}

// trusted lists the routes a staff member is trusted on.
func (w *world) trusted(conn, user string) []string {
	w.t.Helper()
	return read(w, "trust of "+user, func(tx bot.Tx) ([]string, error) {
		p, err := tx.ProfileByIdentity(w.ctx, conn, user)
		if err != nil {
			return nil, err
		}
		return tx.TrustedRoutes(w.ctx, p.ID)
	})
}

// item, drafts and draft read the store.
func (w *world) item(id int64) *bot.Item {
	w.t.Helper()
	return read(w, fmt.Sprintf("item %d", id), func(tx bot.Tx) (*bot.Item, error) { return tx.Item(w.ctx, id) })
}

func (w *world) drafts(itemID int64) []*bot.Draft {
	w.t.Helper()
	return read(w, fmt.Sprintf("drafts of item %d", itemID), func(tx bot.Tx) ([]*bot.Draft, error) { return tx.DraftsByItem(w.ctx, itemID) })
}

func (w *world) draft(id int64) *bot.Draft {
	w.t.Helper()
	return read(w, fmt.Sprintf("draft %d", id), func(tx bot.Tx) (*bot.Draft, error) { return tx.Draft(w.ctx, id) })
}

// threadReady waits until the card's thread exists and the store knows it
// as the item's: only then is a message there the item's discussion.
func (w *world) threadReady(itemID int64, cardID string) {
	w.t.Helper()
	w.waitFor(w.inner, "the card's thread", func() bool { _, ok := w.inner.Channel(cardID); return ok })
	deadline := time.Now().Add(waitLimit)
	for w.item(itemID).CardThread != cardID {
		if time.Now().After(deadline) {
			w.t.Fatalf("item %d: the store does not know thread %s", itemID, cardID)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitHealthy waits until c reports its gateway open and /liaison registered.
func waitHealthy(t *testing.T, c app.Connection) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for c.Health() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("connection not healthy: %v", c.Health())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func customIDs(m discordfake.Message) []string {
	var out []string
	var walk func([]discordfake.Component)
	walk = func(cs []discordfake.Component) {
		for _, c := range cs {
			if c.CustomID != "" {
				out = append(out, c.CustomID)
			}
			walk(c.Components)
		}
	}
	walk(m.Components)
	return out
}

// noPingsFromLiaison fails if any message Liaison posted on a fake pings
// anyone but allowed.
func noPingsFromLiaison(t *testing.T, f *discordfake.Fake, botID string, channels []string, allowed ...string) {
	t.Helper()
	seen := map[string]bool{}
	var visit func(string)
	visit = func(ch string) {
		if seen[ch] {
			return
		}
		seen[ch] = true
		for _, m := range f.Messages(ch) {
			if m.Author.ID != botID && m.WebhookID == "" {
				continue
			}
			for _, p := range f.Pings(m) {
				ok := false
				for _, a := range allowed {
					ok = ok || p == a
				}
				if !ok {
					t.Errorf("message %s in %s by Liaison pings %s: %q", m.ID, ch, p, m.Content)
				}
			}
		}
		for _, th := range f.Threads(ch) {
			visit(th.ID)
		}
	}
	for _, ch := range channels {
		visit(ch)
	}
}
