package discord_test

import (
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
	"github.com/liaison-bot/liaison/handlers/discord"
	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
	"github.com/liaison-bot/liaison/storage"
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

// world is a running Liaison between a public Discord and an internal one:
// the real adapters and discordgo against two fakes, the real service on a
// real store, the outbox worker.
type world struct {
	t          *testing.T
	ctx        context.Context
	pub, inner *discordfake.Fake
	db         *storage.DB
	svc        *bot.Service
	pubConn    *discord.Conn
	innerConn  *discord.Conn
	wrap       func(conn string, rt http.RoundTripper) http.RoundTripper
}

type worldOpts struct {
	engine   string
	pubPerms map[string]int64
	policy   bot.ApprovalMode
	// wrap, if set, wraps the HTTP transport of a connection ("community"
	// or "internal") to the fake.
	wrap func(conn string, rt http.RoundTripper) http.RoundTripper
}

// testLog sends warnings and errors to the test log.
func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tLogWriter struct{ t *testing.T }

func (w tLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func newWorld(t *testing.T, o worldOpts) *world {
	t.Helper()
	if o.engine == "" {
		o.engine = "sqlite"
	}
	if o.policy == "" {
		o.policy = bot.ApprovalRequired
	}
	return newWorldOn(t, storagetest.Open(t, o.engine), o)
}

func newWorldOn(t *testing.T, db *storage.DB, o worldOpts) *world {
	t.Helper()
	pub := mustFake(t, discordfake.Options{BotToken: pubToken, BotUserID: pubBot, Guilds: []discordfake.Guild{communityGuild()}, BotPermissions: o.pubPerms})
	inner := mustFake(t, discordfake.Options{BotToken: innerToken, BotUserID: innerBot, Guilds: []discordfake.Guild{staffGuild()}})

	router := bot.NewRouter(
		[]bot.Source{{Name: "community", Conn: "community", Channels: []string{general, help}}},
		[]bot.Route{{Name: "feedback", Default: true, DestConn: "internal", DestChannel: feedback,
			Policy: bot.Policy{Mode: o.policy, Approvers: []string{approvers}}}},
	)
	platforms := map[string]bot.Platform{}
	svc := bot.NewService(db, platforms, router, bot.Settings{Company: "Acme"})
	w := &world{t: t, pub: pub, inner: inner, db: db, svc: svc, wrap: o.wrap}
	w.pubConn = w.newConn("community", pub, pubToken, pubGuild)
	w.innerConn = w.newConn("internal", inner, innerToken, innerGuild)
	platforms["community"] = w.pubConn
	platforms["internal"] = w.innerConn

	ctx, cancel := context.WithCancel(context.Background())
	w.ctx = ctx
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	for _, c := range []*discord.Conn{w.pubConn, w.innerConn} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Run(ctx); err != nil {
				t.Errorf("Run: %v", err)
			}
		}()
	}
	worker := svc.NewWorker("e2e")
	worker.Poll, worker.BaseBackoff, worker.MaxBackoff = 20*time.Millisecond, 50*time.Millisecond, time.Second
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = worker.Run(ctx)
	}()
	w.waitFor(pub, "community gateway", func() bool { return pub.Gateway().Connected })
	w.waitFor(inner, "/liaison registered", func() bool { return inner.Gateway().Connected && len(inner.Commands(innerGuild)) == 1 })
	for _, c := range []*discord.Conn{w.pubConn, w.innerConn} {
		waitHealthy(t, c)
	}
	return w
}

func (w *world) newConn(name string, f *discordfake.Fake, token, guild string) *discord.Conn {
	w.t.Helper()
	c, err := discord.New(discord.Options{
		Name: name, Token: token, GuildID: guild, Log: testLog(w.t),
		Configure: func(s *dg.Session) {
			f.Configure(s)
			s.LogLevel = -1 // discordgo logs expected reconnects on stdout otherwise
			if w.wrap != nil {
				s.Client = &http.Client{Transport: w.wrap(name, f.Transport()), Timeout: 20 * time.Second}
			}
		},
	}, w.svc)
	if err != nil {
		w.t.Fatalf("discord.New(%s): %v", name, err)
	}
	return c
}

func mustFake(t *testing.T, opts discordfake.Options) *discordfake.Fake {
	t.Helper()
	f, err := discordfake.New(opts)
	if err != nil {
		t.Fatalf("discordfake.New: %v", err)
	}
	t.Cleanup(f.Close)
	return f
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

// profile reads a staff member's profile from the store.
func (w *world) profile(conn, user string) *bot.Profile {
	w.t.Helper()
	var p *bot.Profile
	if err := w.db.View(w.ctx, func(tx bot.Tx) (err error) {
		p, err = tx.ProfileByIdentity(w.ctx, conn, user)
		return err
	}); err != nil {
		w.t.Fatalf("profile of %s: %v", user, err)
	}
	return p
}

// item and draft read the store.
func (w *world) item(id int64) *bot.Item {
	w.t.Helper()
	var it *bot.Item
	if err := w.db.View(w.ctx, func(tx bot.Tx) (err error) { it, err = tx.Item(w.ctx, id); return err }); err != nil {
		w.t.Fatalf("item %d: %v", id, err)
	}
	return it
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

// drafts lists an item's drafts.
func (w *world) drafts(itemID int64) []*bot.Draft {
	w.t.Helper()
	var ds []*bot.Draft
	if err := w.db.View(w.ctx, func(tx bot.Tx) (err error) { ds, err = tx.DraftsByItem(w.ctx, itemID); return err }); err != nil {
		w.t.Fatalf("drafts of item %d: %v", itemID, err)
	}
	return ds
}

func (w *world) draft(id int64) *bot.Draft {
	w.t.Helper()
	var d *bot.Draft
	if err := w.db.View(w.ctx, func(tx bot.Tx) (err error) { d, err = tx.Draft(w.ctx, id); return err }); err != nil {
		w.t.Fatalf("draft %d: %v", id, err)
	}
	return d
}

// waitHealthy waits until c reports its gateway open and /liaison registered.
func waitHealthy(t *testing.T, c *discord.Conn) {
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
