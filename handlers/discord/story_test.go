package discord_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/config"
	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

const (
	aliceAvatar = "https://cdn.example.com/alice.png"
	question    = "Hi @everyone, since this morning I can't log in. <@2100000000000000102> do you see it too? @here"
	answerText  = "Thanks for reporting it, Maria! A fix for the login bug is rolling out now. @everyone"
)

// TestForumPostToDiscordCards follows a member's forum post: it becomes a
// card on the internal Discord, a volunteer drafts through the
// modal, a member without the approver role is refused, an approver
// approves, and the reply appears once in the forum thread under the
// volunteer's name, pinging only the member.
func TestForumPostToDiscordCards(t *testing.T) {
	for _, engine := range storagetest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			w := newWorld(t, worldOpts{engine: engine, approval: config.ApprovalRequired})

			// A member opens a forum post: a card with buttons and a thread.
			post, _ := w.openPost(maria, "Can't log in", question)
			card := w.card(1, nil)
			e := card.Embeds[0]
			if !strings.HasPrefix(e.Description, "Can't log in\nHi ") || !strings.Contains(e.Description, "can't log in") || strings.Contains(e.Description, "@everyone") || strings.Contains(e.Description, "<@2100") {
				t.Errorf("card text is not the sanitised question: %q", e.Description)
			}
			if e.Author == nil || e.Author.Name != "Maria" {
				t.Errorf("card author = %+v, want Maria", e.Author)
			}
			wantLink := "https://discord.com/channels/" + pubGuild + "/" + post.ID + "/" + post.ID
			if e.URL != wantLink {
				t.Errorf("card links %q, want %q", e.URL, wantLink)
			}
			for _, id := range []string{"liaison:reply:1", "liaison:claim:1", "liaison:tag:1", "liaison:ignore:1"} {
				if !slices.Contains(customIDs(card), id) {
					t.Errorf("card buttons %v lack %s", customIDs(card), id)
				}
			}
			w.waitFor(w.inner, "the card's thread", func() bool {
				th, ok := w.inner.Channel(card.ID)
				return ok && th.Type == discordfake.ChannelPublicThread && th.ParentID == feedback
			})

			// A follow-up in the post joins the item.
			w.postInThread(w.pub, maria, post.ID, "It also fails on mobile. @everyone")
			w.note(card.ID, "It also fails on mobile")

			// The volunteer sets up her public profile and drafts in the modal.
			w.setUpProfile(alice, "Alice Martin", "Product Manager", aliceAvatar)
			if got := w.click(w.inner, alice, feedback, card.ID, "liaison:reply:1"); got != "modal:liaison:reply:1" {
				t.Fatalf("Reply publicly answered %q, want the draft modal", got)
			}
			if got := w.submit(w.inner, alice, feedback, "liaison:reply:1", map[string]string{bot.FieldTextID: answerText}); !strings.Contains(got, "Draft #1") {
				t.Errorf("draft form answered %q", got)
			}
			dc := w.draftCard(card.ID, 1, nil)
			if a := dc.Embeds[0].Author; a == nil || a.Name != "Alice Martin · Acme" || a.IconURL != aliceAvatar {
				t.Errorf("draft preview author = %+v, want Alice Martin · Acme with her avatar", a)
			}
			if !strings.HasPrefix(dc.Embeds[0].Description, "@Maria Thanks for reporting it") || strings.Contains(dc.Embeds[0].Description, "<@") {
				t.Errorf("draft preview = %q, want the member's name (no live mention) then the reply", dc.Embeds[0].Description)
			}
			if got := customIDs(dc); !slices.Equal(got, []string{"liaison:approve:1", "liaison:edit_approve:1", "liaison:reject:1", "liaison:withdraw:1"}) {
				t.Errorf("pending draft buttons = %v", got)
			}

			// Staff without the approver role are refused politely; nothing changes.
			if got := w.click(w.inner, nick, card.ID, dc.ID, "liaison:approve:1"); got != bot.ErrNotApprover.Message {
				t.Errorf("Approve by a non-approver answered %q, want %q", got, bot.ErrNotApprover.Message)
			}
			if got := w.click(w.inner, nick, card.ID, dc.ID, "liaison:edit_approve:1"); got != bot.ErrNotApprover.Message {
				t.Errorf("Edit & approve by a non-approver answered %q (no modal may open)", got)
			}
			if d := w.draft(1); d.State != bot.DraftPending {
				t.Errorf("draft after refusals: %+v; want pending", d)
			}
			if n := len(webhookPosts(w.pub, post.ID)); n != 0 {
				t.Errorf("%d public posts after refusals, want none", n)
			}

			// The approver approves: the reply appears once, under Alice's name.
			if got := w.click(w.inner, mona, card.ID, dc.ID, "liaison:approve:1"); !strings.Contains(got, "approved") {
				t.Errorf("Approve answered %q", got)
			}
			reply := w.publicReply(post.ID, "the public reply")
			if reply.Author.Username != "Alice Martin · Acme" || reply.AvatarURL != aliceAvatar {
				t.Errorf("public reply by %q (avatar %q), want Alice Martin · Acme with her avatar", reply.Author.Username, reply.AvatarURL)
			}
			if !strings.HasPrefix(reply.Content, "<@"+maria+"> Thanks for reporting it") || strings.Contains(reply.Content, "@everyone") {
				t.Errorf("public reply = %q", reply.Content)
			}
			if got := w.pub.Pings(reply); !slices.Equal(got, []string{"<@" + maria + ">"}) {
				t.Errorf("public reply pings %v, want only the member", got)
			}

			// The card links to it; the thread says who answered and approved.
			replyLink := "https://discord.com/channels/" + pubGuild + "/" + post.ID + "/" + reply.ID
			card = w.card(1, func(m discordfake.Message) bool { return strings.Contains(field(m, "Public reply"), "("+replyLink+")") })
			if got := field(card, "Answered publicly by"); got != "Alice Martin" {
				t.Errorf("card answered by %q", got)
			}
			if got := field(card, "Status"); !strings.Contains(got, "Answered") {
				t.Errorf("card status %q, want answered", got)
			}
			w.note(card.ID, "Answered publicly by Alice Martin")
			w.draftCard(card.ID, 1, func(m discordfake.Message) bool { return strings.Contains(field(m, "Public post"), "("+replyLink+")") })

			// Liaison's own post does not come back as a follow-up; a later
			// follow-up from the member still does.
			w.postInThread(w.pub, maria, post.ID, "Works now, thank you!")
			w.note(card.ID, "Works now, thank you!")
			for _, m := range w.threadMessages(card.ID) {
				if strings.Contains(m.Content, "Thanks for reporting it") {
					t.Errorf("Liaison relayed its own public reply: %q", m.Content)
				}
			}
			if n := len(webhookPosts(w.pub, post.ID)); n != 1 {
				t.Errorf("%d public replies, want exactly one", n)
			}
			if n := len(w.cards()); n != 1 {
				t.Errorf("%d cards, want one", n)
			}

			// @everyone in the member's text pinged nobody on either side.
			noPingsFromLiaison(t, w.inner, innerBot, []string{feedback})
			noPingsFromLiaison(t, w.pub, pubBot, []string{help, general}, "<@"+maria+">")
		})
	}
}

// TestCorrectAndRetract: a published reply is corrected, then retracted,
// each through a draft an approver approves; the webhook message in the
// forum thread is edited (still pinging only the member) and then deleted.
func TestCorrectAndRetract(t *testing.T) {
	w := newWorld(t, worldOpts{})
	post, card, reply := w.publishedReply()

	if got := w.click(w.inner, alice, card.ID, w.draftCard(card.ID, 1, nil).ID, "liaison:correct:1"); got != "modal:liaison:correct:1" {
		t.Fatalf("Correct answered %q", got)
	}
	if got := w.submit(w.inner, alice, card.ID, "liaison:correct:1", map[string]string{bot.FieldTextID: "Correction: the fix ships tomorrow, Maria."}); !strings.Contains(got, "draft #2") {
		t.Errorf("correction form answered %q", got)
	}
	fix := w.draftCard(card.ID, 2, nil)
	w.click(w.inner, mona, card.ID, fix.ID, "liaison:approve:2")
	w.waitFor(w.pub, "the corrected reply", func() bool {
		m, _ := w.pub.MessageByID(reply.ID)
		return m.Edited && strings.Contains(m.Content, "the fix ships tomorrow")
	})
	edited, _ := w.pub.MessageByID(reply.ID)
	if got := w.pub.Pings(edited); !slices.Equal(got, []string{"<@" + maria + ">"}) {
		t.Errorf("corrected reply pings %v, want only the member", got)
	}
	if n := len(webhookPosts(w.pub, post.ID)); n != 1 {
		t.Errorf("%d public replies after the correction, want the same one", n)
	}

	// Once the correction is recorded as published, the reply can be retracted.
	w.note(card.ID, "The public reply was corrected by Alice Martin")
	published := w.draftCard(card.ID, 1, nil)

	// Retract asks first: Discord has no confirmation dialog on buttons, so
	// the question comes back privately, with the button that confirms.
	ask := w.liaison.Service.Interact(w.ctx, bot.Request{Kind: bot.Click, Actor: bot.Actor{Conn: "internal", UserID: alice}, Action: bot.ActRetract, Target: 1}).Confirm
	if ask == nil {
		t.Fatal("the domain asks no confirmation before a retraction")
	}
	id, err := w.inner.Click(alice, card.ID, published.ID, "liaison:retract:1")
	if err != nil {
		t.Fatal(err)
	}
	got, question := w.answerMessage(w.inner, id)
	if !strings.Contains(got, ask.Text) || !strings.Contains(got, ask.Title) {
		t.Errorf("Retract answered %q, want the question %q", got, ask.Text)
	}
	var ok *discordfake.Component
	for _, row := range question.Components {
		for _, c := range row.Components {
			if c.CustomID == "liaison:retract:1:ok" {
				ok = &c
			}
		}
	}
	if ok == nil || ok.Label != ask.OK || ok.Style != 4 {
		t.Fatalf("the question's buttons = %+v, want one danger button %q", question.Components, ask.OK)
	}
	// Nothing happened yet.
	if ds := w.drafts(1); len(ds) != 2 {
		t.Errorf("%d drafts after the question, want 2 (no retraction yet)", len(ds))
	}
	if m, _ := w.pub.MessageByID(reply.ID); m.Deleted {
		t.Error("the public reply is gone before the retraction was confirmed")
	}
	if got := w.click(w.inner, alice, card.ID, question.ID, "liaison:retract:1:ok"); !strings.Contains(got, "draft #3") {
		t.Errorf("the confirmed Retract answered %q", got)
	}
	w.click(w.inner, mona, card.ID, w.draftCard(card.ID, 3, nil).ID, "liaison:approve:3")
	w.waitFor(w.pub, "the retraction", func() bool {
		m, _ := w.pub.MessageByID(reply.ID)
		return m.Deleted
	})
	w.note(card.ID, "The public reply was removed")
}

// publishedReply runs the story up to a published reply to a forum post.
func (w *world) publishedReply() (post discordfake.Channel, card, reply discordfake.Message) {
	w.t.Helper()
	post, _ = w.openPost(maria, "Can't log in", question)
	card = w.card(1, nil)
	w.setUpProfile(alice, "Alice Martin", "Product Manager", aliceAvatar)
	w.click(w.inner, alice, feedback, card.ID, "liaison:reply:1")
	w.submit(w.inner, alice, feedback, "liaison:reply:1", map[string]string{bot.FieldTextID: answerText})
	dc := w.draftCard(card.ID, 1, nil)
	w.click(w.inner, mona, card.ID, dc.ID, "liaison:approve:1")
	reply = w.publicReply(post.ID, "the public reply")
	w.draftCard(card.ID, 1, func(m discordfake.Message) bool { return strings.Contains(field(m, "State"), "Published") })
	return post, card, reply
}
