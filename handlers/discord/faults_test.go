package discord_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/handlers/discord"
	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
)

// TestResumeNoDuplicateCard: the gateway drops; a message posted while it is
// down is replayed when discordgo resumes; every message gets exactly one
// card, and the events delivered before the drop change nothing.
func TestResumeNoDuplicateCard(t *testing.T) {
	w := newWorld(t, worldOpts{})
	w.post(maria, general, "Is the API down?")
	w.card(1, nil)

	w.pub.DropGateway()
	w.post(sam, general, "Posted while Liaison was disconnected")
	w.waitFor(w.pub, "the resume", func() bool { g := w.pub.Gateway(); return g.Connected && g.Resumes >= 1 })
	w.card(2, nil)
	w.post(maria, general, "And after the resume?")
	w.card(3, nil)

	if g := w.pub.Gateway(); g.Identifies != 1 {
		t.Errorf("%d identifies, want 1 (the session resumed)", g.Identifies)
	}
	titles := map[string]int{}
	for _, c := range w.cards() {
		titles[c.Embeds[0].Title]++
	}
	if len(w.cards()) != 3 || len(titles) != 3 {
		t.Errorf("cards %v, want one per message", titles)
	}
}

// lostAnswer is a domain whose answer to one intake is lost after it
// committed, as when the database's acknowledgement never arrives.
type lostAnswer struct {
	discord.Domain
	armed atomic.Bool
	mu    sync.Mutex
	calls map[string]int // Receive calls by message id
}

func (d *lostAnswer) Receive(ctx context.Context, in bot.Incoming) (bot.Intake, error) {
	d.mu.Lock()
	d.calls[in.ID]++
	d.mu.Unlock()
	out, err := d.Domain.Receive(ctx, in)
	if err == nil && d.armed.CompareAndSwap(true, false) {
		return "", errors.New("read tcp 127.0.0.1:5432: connection reset by peer")
	}
	return out, err
}

func (d *lostAnswer) received(id string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls[id]
}

// TestRedeliveredEventsOneCard: a message whose intake committed but whose
// answer was lost is read back from Discord and handed to the domain a
// second time; the domain's message keys make the second delivery change
// nothing. A second Liaison on the same database (a replica, or a process
// restarting while the old one still runs) opens no second session:
// Discord's events reach Liaison once.
func TestRedeliveredEventsOneCard(t *testing.T) {
	d := &lostAnswer{calls: map[string]int{}}
	w := newWorld(t, worldOpts{adapter: func(name string, o *discord.Options, real discord.Domain) discord.Domain {
		if name != "community" || o.Owner != "e2e" {
			return nil
		}
		d.Domain = real
		return d
	}})
	w.start("replica")

	d.armed.Store(true)
	m := w.post(maria, general, "Hello twice?")
	w.card(1, nil)
	eventually(t, "the message read back", func() bool { return d.received(m.ID) >= 2 })
	w.post(sam, general, "Sentinel")
	w.card(2, nil)
	if n := len(w.cards()); n != 2 {
		t.Errorf("%d cards for two messages, one delivered twice", n)
	}
	if gi := w.pub.Gateway(); gi.Identifies != 1 || gi.Sessions != 1 {
		t.Errorf("%d sessions identified, %d open, with two replicas; want one", gi.Identifies, gi.Sessions)
	}
}

// TestWebhook429PublishesOnce: the webhook execution is rate limited once
// (and the card's post, globally); the outbox waits what Discord asked and
// each appears exactly once.
func TestWebhook429PublishesOnce(t *testing.T) {
	w := newWorld(t, worldOpts{})
	const wait = 400 * time.Millisecond
	w.pub.Inject(discordfake.Fault{Method: "POST", PathPrefix: "/webhooks/", Status: http.StatusTooManyRequests, RetryAfter: wait})
	// The card's post meets a global rate limit first.
	w.inner.Inject(discordfake.Fault{Method: "POST", PathPrefix: "/channels/" + feedback + "/messages", Status: http.StatusTooManyRequests, RetryAfter: 200 * time.Millisecond, Global: true})
	post, _, _ := w.publishedReply()
	if n := len(w.cards()); n != 1 {
		t.Errorf("%d cards after a global 429, want one", n)
	}

	if n := len(webhookPosts(w.pub, post.ID)); n != 1 {
		t.Errorf("%d public replies, want exactly one", n)
	}
	var limited, ok *discordfake.Call
	for _, c := range w.pub.Calls() {
		if c.Method == "POST" && strings.HasPrefix(c.Route, "POST /webhooks/") {
			c := c
			if c.Status == http.StatusTooManyRequests && limited == nil {
				limited = &c
			} else if c.Status == http.StatusOK {
				ok = &c
			}
		}
	}
	if limited == nil || ok == nil {
		t.Fatalf("want a 429 then a 200 on the webhook; got %v, %v", limited, ok)
	}
	if gap := ok.At.Sub(limited.At); gap < wait*3/4 {
		t.Errorf("retried %v after the 429, want about %v", gap, wait)
	}
}

// TestMissingManageWebhooksFallsBack: without Manage Webhooks in the forum,
// the reply goes out as a bot reply with the signature line, pinging only
// the member, and the internal thread says why.
func TestMissingManageWebhooksFallsBack(t *testing.T) {
	w := newWorld(t, worldOpts{pubPerms: map[string]int64{help: discordfake.PermAll &^ discordfake.PermManageWebhooks}})
	post, first := w.openPost(maria, "Can't log in", question)
	card := w.card(1, nil)
	w.setUpProfile(alice, "Alice Martin", "Product Manager", aliceAvatar)
	// Drafting with the reply prefix in the card's thread.
	w.threadReady(1, card.ID)
	w.postInThread(w.inner, alice, card.ID, "!reply "+answerText)
	dc := w.draftCard(card.ID, 1, nil)
	w.click(w.inner, mona, card.ID, dc.ID, "liaison:approve:1")

	var reply discordfake.Message
	w.waitFor(w.pub, "the fallback reply", func() bool {
		for _, m := range w.pub.Messages(post.ID) {
			if m.Author.ID == pubBot {
				reply = m
				return true
			}
		}
		return false
	})
	want := "<@" + maria + "> Thanks for reporting it, Maria! A fix for the login bug is rolling out now. @\u200beveryone\n— Alice Martin, Product Manager at Acme"
	if reply.Content != want {
		t.Errorf("fallback reply = %q, want %q", reply.Content, want)
	}
	if reply.MessageReference == nil || reply.MessageReference.MessageID != first.ID {
		t.Errorf("fallback reply references %+v, want the post %s", reply.MessageReference, first.ID)
	}
	if got := w.pub.Pings(reply); !slices.Equal(got, []string{"<@" + maria + ">"}) {
		t.Errorf("fallback reply pings %v, want only the member", got)
	}
	if n := len(webhookPosts(w.pub, post.ID)); n != 0 {
		t.Errorf("%d webhook posts without Manage Webhooks", n)
	}
	note := w.note(card.ID, "Posted by the bot with a signature line")
	if !strings.Contains(note.Content, "Liaison lacks Manage Webhooks in #help") {
		t.Errorf("note = %q, want the reason", note.Content)
	}
	link := fmt.Sprintf("https://discord.com/channels/%s/%s/%s", pubGuild, post.ID, reply.ID)
	w.card(1, func(m discordfake.Message) bool { return strings.Contains(field(m, "Public reply"), "("+link+")") })
}

// TestFailedResumeBackfills: the session breaks and Discord refuses to
// resume it; what was posted meanwhile is never replayed, so after the new
// READY the adapter lists the watched channel and the active forum posts
// and takes in what it missed, once.
func TestFailedResumeBackfills(t *testing.T) {
	w := newWorld(t, worldOpts{})
	w.post(maria, general, "Before the outage")
	w.card(1, nil)

	w.pub.DropGateway()
	w.pub.InvalidateSession()
	w.post(sam, general, "During the outage")
	post, _ := w.openPost(maria, "Missed post", "A forum post nobody saw")
	w.postInThread(w.pub, sam, post.ID, "And its follow-up")
	w.waitFor(w.pub, "a new session", func() bool { g := w.pub.Gateway(); return g.Connected && g.Identifies == 2 })
	w.card(2, func(m discordfake.Message) bool {
		return strings.Contains(m.Embeds[0].Description, "During the outage")
	})
	c3 := w.card(3, func(m discordfake.Message) bool {
		return strings.Contains(m.Embeds[0].Description, "A forum post nobody saw")
	})
	w.note(c3.ID, "And its follow-up")
	w.post(maria, general, "After the outage")
	w.card(4, nil)
	if n := len(w.cards()); n != 4 {
		t.Errorf("%d cards, want one per message", n)
	}
	listed := false
	for _, c := range w.pub.Calls() {
		listed = listed || (c.Method == "GET" && c.Path == "/api/v9/channels/"+general+"/messages" && strings.Contains(c.Query, "after="))
	}
	if !listed {
		t.Error("the adapter did not list the watched channel after the new session")
	}
}

// TestDeletedWebhookRecreated: an admin deletes Liaison's webhook; the next
// publication meets 10015 Unknown Webhook, forgets it, and goes out once
// through a new one.
func TestDeletedWebhookRecreated(t *testing.T) {
	w := newWorld(t, worldOpts{})
	w.publishedReply()
	hooks := w.pub.Webhooks(help)
	if len(hooks) != 1 {
		t.Fatalf("%d webhooks in the forum, want Liaison's", len(hooks))
	}
	restCall(t, w.pub, "DELETE", "/webhooks/"+hooks[0].ID, nil)

	post, _ := w.openPost(sam, "Another", "Is the API rate limited?")
	w.card(2, nil)
	if r := w.liaison.Service.Interact(w.ctx, bot.Request{Kind: bot.Submit, Actor: bot.Actor{Conn: "internal", UserID: alice}, Action: bot.ActReply, Target: 2,
		Values: map[string]string{bot.FieldTextID: "Yes, 50 requests per second."}}); r.Refused {
		t.Fatal(r.Text)
	}
	if r := w.liaison.Service.Interact(w.ctx, bot.Request{Kind: bot.Click, Actor: bot.Actor{Conn: "internal", UserID: mona, Groups: []string{approvers}}, Action: bot.ActApprove, Target: 2}); r.Refused {
		t.Fatal(r.Text)
	}
	w.waitFor(w.pub, "the reply through a new webhook", func() bool { return len(webhookPosts(w.pub, post.ID)) == 1 })
	if hs := w.pub.Webhooks(help); len(hs) != 1 || hs[0].ID == hooks[0].ID {
		t.Errorf("webhooks after the deletion: %+v, want one new one", hs)
	}
	if n := len(webhookPosts(w.pub, post.ID)); n != 1 {
		t.Errorf("%d replies, want one", n)
	}
}
