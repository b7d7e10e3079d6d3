package discord_test

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/config"
	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
)

// dms returns what the internal bot said to a user in private.
func (w *world) dms(user string) []discordfake.Message {
	ch, err := w.inner.DMChannel(user)
	if err != nil {
		w.t.Fatal(err)
	}
	return w.inner.Messages(ch.ID)
}

func (w *world) dmSaying(user, substr string) {
	w.t.Helper()
	w.waitFor(w.inner, "a DM saying "+substr, func() bool {
		return slices.ContainsFunc(w.dms(user), func(m discordfake.Message) bool { return strings.Contains(m.Content, substr) })
	})
}

// TestReviewModalsAndNotices: a draft waits for its author's consent (the
// author is told in a DM); Claim and Tag; Edit & approve publishes the
// approver's text under the author's name; Reject sends the reason to the
// author, and when the author takes no DMs it is said in the channel,
// pinging only them.
func TestReviewModalsAndNotices(t *testing.T) {
	w := newWorld(t, worldOpts{})
	post, _ := w.openPost(maria, "Export", "How do I export my data?")
	card := w.card(1, nil)

	// Claim and Tag.
	if got := w.click(w.inner, nick, feedback, card.ID, "liaison:claim:1"); got != "Item #1 is yours." {
		t.Errorf("Claim answered %q", got)
	}
	if got := w.click(w.inner, nick, feedback, card.ID, "liaison:tag:1"); got != "modal:liaison:tag:1" {
		t.Fatalf("Tag answered %q", got)
	}
	w.submit(w.inner, nick, feedback, "liaison:tag:1", map[string]string{bot.FieldTagsID: "Export, billing"})
	w.card(1, func(m discordfake.Message) bool {
		return field(m, "Tags") == "export, billing" && field(m, "Claimed by") == "Nick"
	})

	// Alice drafts before she has a profile: told in a DM, the draft waits.
	w.click(w.inner, alice, feedback, card.ID, "liaison:reply:1")
	w.submit(w.inner, alice, feedback, "liaison:reply:1", map[string]string{bot.FieldTextID: "Settings, then Export."})
	w.dmSaying(alice, "/liaison profile")
	waiting := func(m discordfake.Message) bool {
		return strings.Contains(footer(m), "Waiting for Alice to set up a public profile") && strings.Contains(footer(m), "/liaison profile")
	}
	dc := w.draftCard(card.ID, 1, waiting)
	if got := w.click(w.inner, mona, card.ID, dc.ID, "liaison:approve:1"); got != bot.ErrNoConsent.Message {
		t.Errorf("Approve before consent answered %q", got)
	}
	w.setUpProfile(alice, "Alice Martin", "Product Manager", aliceAvatar)
	dc = w.draftCard(card.ID, 1, func(m discordfake.Message) bool {
		return !waiting(m) && strings.Contains(field(m, "State"), "Waiting for an approver")
	})

	// Mona edits and approves: her text, Alice's name.
	if got := w.click(w.inner, mona, card.ID, dc.ID, "liaison:edit_approve:1"); got != "modal:liaison:edit_approve:1" {
		t.Fatalf("Edit & approve answered %q", got)
	}
	if rs := w.inner.InteractionResponses(lastInteraction(w.inner)); len(rs) == 0 || !strings.Contains(string(rs[0].Body), "Settings, then Export.") {
		t.Errorf("the edit modal is not filled with the draft's text")
	}
	w.submit(w.inner, mona, card.ID, "liaison:edit_approve:1", map[string]string{bot.FieldTextID: "Go to Settings → Export and pick CSV."})
	// Mona's words go out under Alice's name only once Alice accepts them.
	w.dmSaying(alice, "changed the words of your draft #1")
	dc = w.draftCard(card.ID, 1, func(m discordfake.Message) bool {
		return strings.Contains(field(m, "State"), "Waiting for Alice Martin to accept these words") &&
			strings.Contains(field(m, "Changes from the signer's words"), "+ Go to Settings → Export and pick CSV.") &&
			slices.Equal(customIDs(m), []string{"liaison:accept:1", "liaison:withdraw:1", "liaison:reject:1"})
	})
	if got := w.click(w.inner, mona, card.ID, dc.ID, "liaison:accept:1"); got != bot.ErrNotSigner.Message {
		t.Errorf("Accept by the approver answered %q", got)
	}
	if got := w.click(w.inner, alice, card.ID, dc.ID, "liaison:accept:1"); !strings.Contains(got, "is accepted") {
		t.Errorf("Accept by the signer answered %q", got)
	}
	reply := w.publicReply(post.ID, "the edited reply")
	if reply.Author.Username != "Alice Martin · Acme" || !strings.Contains(reply.Content, "Go to Settings → Export and pick CSV.") {
		t.Errorf("edited reply by %q: %q", reply.Author.Username, reply.Content)
	}

	// A second draft is rejected; Alice takes no DMs, so she is told in the
	// item's thread, and only she is pinged.
	w.click(w.inner, alice, feedback, card.ID, "liaison:reply:1")
	w.submit(w.inner, alice, feedback, "liaison:reply:1", map[string]string{bot.FieldTextID: "Also: JSON soon!"})
	second := w.draftCard(card.ID, 2, nil)
	if got := w.click(w.inner, nick, card.ID, second.ID, "liaison:reject:2"); got != bot.ErrNotApprover.Message {
		t.Errorf("Reject by a non-approver answered %q (no modal may open)", got)
	}
	dm, _ := w.inner.DMChannel(alice)
	w.inner.Inject(discordfake.Fault{Method: "POST", PathPrefix: "/channels/" + dm.ID + "/messages", Status: http.StatusForbidden, Code: 50007, Message: "Cannot send messages to this user"})
	if got := w.click(w.inner, mona, card.ID, second.ID, "liaison:reject:2"); got != "modal:liaison:reject:2" {
		t.Fatalf("Reject answered %q", got)
	}
	w.submit(w.inner, mona, card.ID, "liaison:reject:2", map[string]string{bot.FieldReasonID: "Not promised yet @everyone"})
	w.draftCard(card.ID, 2, func(m discordfake.Message) bool {
		return strings.Contains(field(m, "State"), "Not approved") && field(m, "Rejected by") == "Mona" &&
			strings.Contains(field(m, "Reason"), "Not promised yet") && len(customIDs(m)) == 0
	})
	var notice discordfake.Message
	w.waitFor(w.inner, "the notice in the item's thread", func() bool {
		for _, m := range w.inner.Messages(card.ID) { // the thread started from the card
			if strings.Contains(m.Content, "was not approved") {
				notice = m
				return true
			}
		}
		return false
	})
	if got := w.inner.Pings(notice); !slices.Equal(got, []string{"<@" + alice + ">"}) {
		t.Errorf("the notice pings %v, want only the author: %q", got, notice.Content)
	}
	if n := len(webhookPosts(w.pub, post.ID)); n != 1 {
		t.Errorf("%d public replies, want the approved one only", n)
	}
}

func lastInteraction(f *discordfake.Fake) string {
	var id string
	for _, c := range f.Calls() {
		if strings.HasSuffix(c.Path, "/callback") {
			id = strings.Split(strings.TrimPrefix(c.Path, "/api/v9/interactions/"), "/")[0]
		}
	}
	return id
}

// TestCommands: /liaison help, and promote/demote, which only approvers may do.
func TestCommands(t *testing.T) {
	w := newWorld(t, worldOpts{approval: config.ApprovalTrustedAuto})
	run := func(user, sub string, opts ...discordfake.CommandOption) string {
		id, err := w.inner.RunCommand(user, feedback, "liaison", []discordfake.CommandOption{{Name: sub, Type: 1, Options: opts}})
		if err != nil {
			t.Fatal(err)
		}
		return w.answer(w.inner, id)
	}
	if got := run(nick, "help"); !strings.Contains(got, "/liaison profile") {
		t.Errorf("help = %q", got)
	}
	target := discordfake.CommandOption{Name: "user", Value: alice}
	if got := run(nick, "promote", target); got != bot.ErrNotApprover.Message {
		t.Errorf("promote by a non-approver answered %q", got)
	}
	if got := run(mona, "promote", discordfake.CommandOption{Name: "user", Value: mona}); got != bot.ErrSelfTrust.Message {
		t.Errorf("self-promotion answered %q", got)
	}
	if got := run(mona, "promote", target); !strings.Contains(got, "is now trusted on route feedback") || !strings.Contains(got, "without review") {
		t.Errorf("promote answered %q", got)
	}
	if got := w.trusted("internal", alice); !slices.Equal(got, []string{"feedback"}) {
		t.Errorf("alice after promote is trusted on %q", got)
	}

	// Trusted on a trusted-auto route, Alice's draft goes out without review.
	post, _ := w.openPost(maria, "Question", "Is there a dark mode?")
	card := w.card(1, nil)
	w.setUpProfile(alice, "Alice Martin", "Product Manager", aliceAvatar)
	w.click(w.inner, alice, feedback, card.ID, "liaison:reply:1")
	w.submit(w.inner, alice, feedback, "liaison:reply:1", map[string]string{bot.FieldTextID: "Yes: Settings → Appearance."})
	w.waitFor(w.pub, "the reply", func() bool { return len(webhookPosts(w.pub, post.ID)) == 1 })

	if got := run(mona, "demote", target); !strings.Contains(got, "reviewed again") {
		t.Errorf("demote answered %q", got)
	}
	if got := w.trusted("internal", alice); len(got) != 0 {
		t.Errorf("alice is still trusted on %q after demote", got)
	}
}

// lossy loses the answer of the first request that lose matches, after the
// fake has carried it out: the call's outcome is unknown to the adapter.
type lossy struct {
	base http.RoundTripper
	lose func(*http.Request) bool
	mu   sync.Mutex
	lost int
}

func (l *lossy) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.base.RoundTrip(r)
	if err != nil || !l.lose(r) {
		return resp, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lost > 0 {
		return resp, err
	}
	l.lost++
	resp.Body.Close()
	return nil, errors.New("connection reset by peer (test)")
}

// TestLostAnswersReconciled: the card post and the webhook execution both
// reach Discord but their answers are lost; the outbox reconciles through
// Find (the card by its nonce, the reply by its webhook and text) and
// neither is posted twice. The card's thread, never started, is started by
// the reconciliation.
func TestLostAnswersReconciled(t *testing.T) {
	lose := map[string]func(*http.Request) bool{
		"community": func(r *http.Request) bool { // the webhook execution
			return r.Method == "POST" && strings.HasPrefix(r.URL.Path, "/api/v9/webhooks/")
		},
		"internal": func(r *http.Request) bool { // the card
			return r.Method == "POST" && r.URL.Path == "/api/v9/channels/"+feedback+"/messages"
		},
	}
	w := newWorld(t, worldOpts{transport: func(conn string, rt http.RoundTripper) http.RoundTripper {
		return &lossy{base: rt, lose: lose[conn]}
	}})

	post, _ := w.openPost(maria, "Lost", "Is anyone there?")
	card := w.card(1, nil)
	w.waitFor(w.inner, "the card's thread, started by the reconciliation", func() bool { _, ok := w.inner.Channel(card.ID); return ok })
	w.setUpProfile(alice, "Alice Martin", "Product Manager", aliceAvatar)
	w.click(w.inner, alice, feedback, card.ID, "liaison:reply:1")
	w.submit(w.inner, alice, feedback, "liaison:reply:1", map[string]string{bot.FieldTextID: "We are here!"})
	w.click(w.inner, mona, card.ID, w.draftCard(card.ID, 1, nil).ID, "liaison:approve:1")
	w.note(card.ID, "Answered publicly by Alice Martin")

	if n := len(w.cards()); n != 1 {
		t.Errorf("%d cards, want one", n)
	}
	if n := len(webhookPosts(w.pub, post.ID)); n != 1 {
		t.Errorf("%d public replies, want one", n)
	}
	reply := webhookPosts(w.pub, post.ID)[0]
	link := "https://discord.com/channels/" + pubGuild + "/" + post.ID + "/" + reply.ID
	w.card(1, func(m discordfake.Message) bool { return strings.Contains(field(m, "Public reply"), "("+link+")") })
	for name, f := range map[string]*discordfake.Fake{"internal": w.inner, "public": w.pub} {
		listed := slices.ContainsFunc(f.Calls(), func(c discordfake.Call) bool {
			return c.Method == "GET" && strings.HasSuffix(c.Path, "/messages") && strings.Contains(c.Query, "limit=100")
		})
		if !listed {
			t.Errorf("no reconciliation listing on the %s side", name)
		}
	}
}
