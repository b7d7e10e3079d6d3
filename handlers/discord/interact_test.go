package discord_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/handlers/discord"
	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
)

var (
	internalAlice = bot.Actor{Conn: "internal", UserID: alice}
	internalNick  = bot.Actor{Conn: "internal", UserID: nick}
)

// TestUnclaim: a claimed card offers Unclaim instead of Claim; a member of
// staff who is neither the assignee nor an approver is refused politely and
// nothing changes; the assignee gives the item back, and the card offers
// Claim again.
func TestUnclaim(t *testing.T) {
	w := newWorld(t, worldOpts{})
	w.post(maria, general, "Where are the docs?")
	card := w.card(1, nil)
	if ids := customIDs(card); !slices.Contains(ids, "liaison:claim:1") || slices.Contains(ids, "liaison:unclaim:1") {
		t.Errorf("a new card offers %v, want Claim and not Unclaim", ids)
	}
	if got := w.click(w.inner, nick, feedback, card.ID, "liaison:claim:1"); got != "Item #1 is yours." {
		t.Errorf("Claim answered %q", got)
	}
	card = w.card(1, func(m discordfake.Message) bool { return field(m, "Claimed by") == "Nick" })
	if ids := customIDs(card); slices.Contains(ids, "liaison:claim:1") || !slices.Contains(ids, "liaison:unclaim:1") {
		t.Errorf("a claimed card offers %v, want Unclaim instead of Claim", ids)
	}

	// Alice neither claimed it nor approves: refused, in the domain's words.
	want := w.liaison.Service.Interact(w.ctx, bot.Request{Kind: bot.Click, Actor: internalAlice, Action: bot.ActUnclaim, Target: 1})
	if !want.Refused || want.Text == "" {
		t.Fatalf("the domain lets Alice unclaim Nick's item: %+v", want)
	}
	if got := w.click(w.inner, alice, feedback, card.ID, "liaison:unclaim:1"); got != want.Text {
		t.Errorf("Unclaim by another answered %q, want %q", got, want.Text)
	}
	if it := w.item(1); it.Status != bot.ItemClaimed || it.Assignee == 0 || it.Assignee != w.profile("internal", nick).ID {
		t.Errorf("after a refused Unclaim the item is %s, assignee %d; want still claimed by Nick", it.Status, it.Assignee)
	}

	// Nick gives it back.
	if got := w.click(w.inner, nick, feedback, card.ID, "liaison:unclaim:1"); !strings.Contains(got, "Item #1") || !strings.Contains(got, "back in the queue") {
		t.Errorf("Unclaim answered %q", got)
	}
	card = w.card(1, func(m discordfake.Message) bool {
		return field(m, "Claimed by") == "" && slices.Contains(customIDs(m), "liaison:claim:1")
	})
	if ids := customIDs(card); slices.Contains(ids, "liaison:unclaim:1") {
		t.Errorf("an unclaimed card offers %v", ids)
	}
	if got := field(card, "Status"); got != bot.ItemNew.Label() {
		t.Errorf("status %q, want %q", got, bot.ItemNew.Label())
	}
	if it := w.item(1); it.Status != bot.ItemNew || it.Assignee != 0 {
		t.Errorf("after Unclaim the item is %s, assignee %d", it.Status, it.Assignee)
	}
}

// TestTagOnlyCommas: a tag form holding only commas is refused with the
// domain's words, as on every platform, and the tags stay as they were.
func TestTagOnlyCommas(t *testing.T) {
	w := newWorld(t, worldOpts{})
	w.post(maria, general, "Billing question")
	card := w.card(1, nil)
	before := w.item(1).Tags
	values := map[string]string{bot.FieldTagsID: " , ,, "}
	want := w.liaison.Service.Interact(w.ctx, bot.Request{Kind: bot.Submit, Actor: internalNick, Action: bot.ActTag, Target: 1, Values: values})
	if !want.Refused || want.Field != bot.FieldTagsID {
		t.Fatalf("the domain takes a tag form of commas: %+v", want)
	}
	if got := w.click(w.inner, nick, feedback, card.ID, "liaison:tag:1"); got != "modal:liaison:tag:1" {
		t.Fatalf("Tag answered %q", got)
	}
	if got := w.submit(w.inner, nick, feedback, "liaison:tag:1", values); got != want.Text {
		t.Errorf("the tag form answered %q, want %q", got, want.Text)
	}
	if after := w.item(1).Tags; !slices.Equal(after, before) {
		t.Errorf("tags %v after a refused form, want %v", after, before)
	}
}

// TestReplyPrefixTooLong: a "!reply" in a card's thread longer than a
// public reply may be makes no draft; its author is told privately, once,
// and nothing is said in the thread.
func TestReplyPrefixTooLong(t *testing.T) {
	w := newWorld(t, worldOpts{})
	w.post(maria, general, "Any news?")
	card := w.card(1, nil)
	w.threadReady(1, card.ID)
	long := w.postInThread(w.inner, alice, card.ID, "!reply "+strings.Repeat("a", 1900))
	w.dmSaying(alice, "1900 characters")
	// A short one after it makes a draft: once it shows, the long one was
	// long handled.
	w.postInThread(w.inner, alice, card.ID, "!reply Soon!")
	w.draftCard(card.ID, 1, nil)
	if ds := w.drafts(1); len(ds) != 1 || ds[0].Text() != "Soon!" {
		t.Errorf("drafts %+v, want only the short one", ds)
	}
	if n := len(slices.DeleteFunc(w.dms(alice), func(m discordfake.Message) bool { return !strings.Contains(m.Content, "1900 characters") })); n != 1 {
		t.Errorf("%d notices about the long reply, want 1", n)
	}
	for _, m := range w.threadMessages(card.ID) {
		if m.Author.ID == innerBot && (strings.Contains(m.Content, "characters") || (m.MessageReference != nil && m.MessageReference.MessageID == long.ID)) {
			t.Errorf("Liaison answered the long reply in the thread: %q", m.Content)
		}
	}
}

// recorder is a domain that records what the adapter hands it.
type recorder struct {
	mu       sync.Mutex
	incoming []bot.Incoming
}

func (r *recorder) Receive(_ context.Context, in bot.Incoming) (bot.Intake, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.incoming = append(r.incoming, in)
	return bot.IntakeIgnored, nil
}

func (r *recorder) received() []bot.Incoming {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.incoming)
}

func (r *recorder) Edit(context.Context, bot.MessageKey, string, time.Time) error { return nil }
func (r *recorder) Delete(context.Context, bot.MessageKey, time.Time) error       { return nil }
func (r *recorder) Watches(_, _ string) bool                                      { return false }
func (r *recorder) LastMessage(context.Context, string, string) (*bot.Message, error) {
	return nil, bot.ErrNotFound
}
func (r *recorder) AcquireLease(context.Context, string, string, time.Duration) (bool, error) {
	return true, nil
}
func (r *recorder) ReleaseLease(context.Context, string, string) error { return nil }
func (r *recorder) Interact(context.Context, bot.Request) bot.Reply    { return bot.Reply{} }

// run runs c until the test ends.
func run(t *testing.T, c *discord.Conn) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := c.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
}

// TestAPIURL: the api_url setting alone (no Configure) points REST and the
// gateway at a Discord-compatible server: the gateway opens, /liaison is
// registered, and messages come in translated.
func TestAPIURL(t *testing.T) {
	f := discordfake.MustNew(t, discordfake.Options{BotToken: pubToken, BotUserID: pubBot, Guilds: []discordfake.Guild{communityGuild()}})
	d := &recorder{}
	c, err := discord.New(discord.Options{Name: "community", Token: pubToken, GuildID: pubGuild, APIURL: f.URL(), Log: testLog(t)}, d)
	if err != nil {
		t.Fatal(err)
	}
	if c.Health() == nil {
		t.Error("healthy before Run")
	}
	run(t, c)
	waitHealthy(t, c)
	cmds := f.Commands(pubGuild)
	var names []string
	for _, c := range cmds {
		names = append(names, c.Name)
	}
	want := []string{bot.CommandName}
	for _, m := range bot.Menus() {
		want = append(want, m.Name)
	}
	if !slices.Equal(names, want) {
		t.Errorf("commands %q, want %q", names, want)
	}
	if _, err := f.Post(otherBot, general, "Deploy finished"); err != nil {
		t.Fatal(err)
	}
	m, err := f.Post(maria, general, "Hello?")
	if err != nil {
		t.Fatal(err)
	}
	// The domain is not the fake: poll it.
	for deadline := time.Now().Add(waitLimit); len(d.received()) < 2 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	in := d.received()
	if len(in) != 2 {
		t.Fatalf("the domain received %d messages, want 2", len(in))
	}
	if !in[0].Bot || in[0].AuthorID != otherBot {
		t.Errorf("the bot's message came in as %+v, want flagged Bot (the domain drops it)", in[0])
	}
	got := in[1]
	if got.ID != m.ID || got.Channel != general || got.AuthorName != "Maria" || got.AuthorHandle != "maria" || got.Text != "Hello?" || got.Bot || got.Webhook || got.Self {
		t.Errorf("the member's message came in as %+v", got)
	}
}

// TestRegistrationRetried: Discord refuses to register /liaison a few times;
// the adapter tries again with a growing wait, Health says what is missing
// and why, and once registered the connection is healthy.
func TestRegistrationRetried(t *testing.T) {
	f := discordfake.MustNew(t, discordfake.Options{BotToken: innerToken, BotUserID: innerBot, Guilds: []discordfake.Guild{staffGuild()}})
	const fails = 3
	f.Inject(discordfake.Fault{Method: "PUT", PathPrefix: "/applications/", Status: http.StatusForbidden, Code: 50001, Times: fails})
	c, err := discord.New(discord.Options{Name: "internal", Token: innerToken, GuildID: innerGuild, APIURL: f.URL(), Log: testLog(t)}, &recorder{})
	if err != nil {
		t.Fatal(err)
	}
	const first = 100 * time.Millisecond
	discord.SetRegisterBackoff(c, first)
	run(t, c)

	// Failing: Health names the registration and Discord's refusal.
	deadline := time.Now().Add(waitLimit)
	for err := c.Health(); err == nil || !strings.Contains(err.Error(), "Missing Access"); err = c.Health() {
		if time.Now().After(deadline) {
			t.Fatalf("Health = %v, want the registration's failure", err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := c.Health(); !strings.Contains(err.Error(), "/"+bot.CommandName) || strings.Contains(err.Error(), "gateway") {
		t.Errorf("Health = %v, want only /%s missing", err, bot.CommandName)
	}
	waitHealthy(t, c)
	if n, want := len(f.Commands(innerGuild)), 1+len(bot.Menus()); n != want {
		t.Fatalf("%d commands registered, want %d: /liaison and the menu commands", n, want)
	}
	var puts []discordfake.Call
	for _, call := range f.Calls() {
		if call.Method == "PUT" && strings.HasSuffix(call.Path, "/commands") {
			puts = append(puts, call)
		}
	}
	if len(puts) != fails+1 || puts[fails].Status != http.StatusOK {
		t.Fatalf("%d registrations, want %d refused then one accepted: %+v", len(puts), fails, puts)
	}
	for i := 1; i < len(puts); i++ {
		if gap, want := puts[i].At.Sub(puts[i-1].At), first<<(i-1); gap < want*9/10 {
			t.Errorf("attempt %d came %v after the previous one, want at least %v", i+1, gap, want)
		}
	}
}
