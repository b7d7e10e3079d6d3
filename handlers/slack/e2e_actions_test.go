package slack_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	slackapi "github.com/slack-go/slack"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
)

// TestUnclaim: a claimed card offers Unclaim instead of Claim; only its
// assignee (or an approver) gives it back, and a refusal changes nothing.
func TestUnclaim(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := newEnv(t, engine)
		_, card := e.ask(1, "Where are my invoices?")
		itemID := idOf(t, card, actClaim)

		check(t, e.staff.Click(alice, productCh, card.TS, actClaim))
		e.ephemeralShowing(e.staff, alice, fmt.Sprintf("Item #%d is yours.", itemID))
		e.waitShowing(card.TS, "the claimed card", fact("Claimed by", "Alice Martin"), fact("Status", "🙋 Claimed"))
		claimed := e.current(card.TS)
		if got, want := actionIDs(claimed), []string{actIgnore, actReply, actTag, actUnclaim}; !slices.Equal(got, want) {
			t.Errorf("claimed card buttons = %v, want %v", got, want)
		}

		// Carol, neither the assignee nor an approver, is refused politely.
		check(t, e.staff.Click(carol, productCh, card.TS, actUnclaim))
		e.ephemeralShowing(e.staff, carol, fmt.Sprintf("Sorry, only whoever claimed item #%d, or an approver of its route, can give it back.", itemID))
		if it, err := e.liaison.Service.Item(e.ctx, itemID); err != nil || it.Status != bot.ItemClaimed || it.Assignee == 0 {
			t.Errorf("item after a refused unclaim: %+v, %v", it, err)
		}
		if m := e.current(card.TS); string(m.Blocks) != string(claimed.Blocks) {
			t.Errorf("a refused unclaim changed the card:\n%s", slackfake.Shown(m))
		}

		// Alice gives it back: the card is new again, with Claim.
		check(t, e.staff.Click(alice, productCh, card.TS, actUnclaim))
		e.ephemeralShowing(e.staff, alice, fmt.Sprintf("Item #%d is back in the queue.", itemID))
		e.wait(e.staff, "the unclaimed card", func() bool {
			m := e.current(card.TS)
			return strings.Contains(slackfake.Shown(m), fact("Status", "🆕 New")) && !strings.Contains(slackfake.Shown(m), "*Claimed by*") &&
				slices.Equal(actionIDs(m), []string{actClaim, actIgnore, actReply, actTag})
		})
		if it, _ := e.liaison.Service.Item(e.ctx, itemID); it.Status != bot.ItemNew || it.Assignee != 0 {
			t.Errorf("item = %s, assignee %d", it.Status, it.Assignee)
		}
	})
}

// TestRefusedForms: a form the domain refuses stays open with its message on
// the field it is about, and changes nothing; buttons Liaison no longer
// knows are answered politely.
func TestRefusedForms(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := newEnv(t, engine)
		_, card := e.ask(1, "Tag me")
		itemID := idOf(t, card, actTag)

		check(t, e.staff.Click(alice, productCh, card.TS, actTag))
		v := e.openView(alice, cbTag)
		if !strings.Contains(string(v.JSON), `"max_length":200`) || !strings.Contains(string(v.JSON), `"block_id":"tags"`) {
			t.Errorf("tag modal: %s", v.JSON)
		}
		check(t, e.staff.SubmitView(alice, v.ID, map[string]map[string]string{blockTags: text(" , ,, ")}))
		if got := e.waitFieldError(alice, blockTags); got != "Please give at least one tag." {
			t.Errorf("the tags' error = %q", got)
		}
		if it, _ := e.liaison.Service.Item(e.ctx, itemID); len(it.Tags) != 0 {
			t.Errorf("tags = %v after a refused form", it.Tags)
		}
		check(t, e.staff.CloseView(alice, v.ID))

		// Buttons of an older Liaison, or unreadable: the domain answers.
		// They are posted with the bot's token, as Liaison posted them.
		plain := func(s string) *slackapi.TextBlockObject {
			return slackapi.NewTextBlockObject(slackapi.PlainTextType, s, false, false)
		}
		asBot := slackapi.New(e.staff.BotToken(), slackapi.OptionAPIURL(e.staff.APIURL()))
		_, old, err := asBot.PostMessage(productCh, slackapi.MsgOptionText("old card", false), slackapi.MsgOptionBlocks(
			slackapi.NewActionBlock("", slackapi.NewButtonBlockElement(actionPrefix+"frobnicate", "1", plain("Frobnicate")),
				slackapi.NewButtonBlockElement(actReply, "not-an-id", plain("Reply")))))
		check(t, err)
		for _, action := range []string{actionPrefix + "frobnicate", actReply} {
			before := len(e.staff.Ephemerals(carol))
			check(t, e.staff.Click(carol, productCh, old, action))
			e.wait(e.staff, "the answer to "+action, func() bool { return len(e.staff.Ephemerals(carol)) > before })
			if got := e.staff.Ephemerals(carol)[before].Text; got != bot.ErrUnknownAction.Message {
				t.Errorf("%s answered %q", action, got)
			}
		}
		if views := e.staff.Views(carol); len(views) != 0 {
			t.Errorf("a form opened for an unknown button: %+v", views)
		}
	})
}

// TestThreadDraftTooLong: a "!reply" longer than a public reply may be is
// refused privately, and makes no draft.
func TestThreadDraftTooLong(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := newEnv(t, engine)
		_, card := e.ask(1, "Tell me everything")
		e.ts(e.staff.Reply(alice, productCh, card.TS, "!reply "+strings.Repeat("a", 1801)))
		e.ephemeralShowing(e.staff, alice, "The reply is 1801 characters long; the limit is 1800.")
		refusal := e.staff.Ephemerals(alice)[0]
		if refusal.Channel != productCh || refusal.ThreadTS != card.TS {
			t.Errorf("the refusal is shown in %s/%s, want the card's thread", refusal.Channel, refusal.ThreadTS)
		}
		// A draft that fits is taken: it is then draft #1, the first.
		e.ts(e.staff.Reply(alice, productCh, card.TS, "!reply "+strings.Repeat("b", 1800)))
		dc := e.waitDraftCard(card.TS, strings.Repeat("b", 100))
		if id := idOf(t, dc, actApprove); id != 1 {
			t.Errorf("the draft that fits is #%d, want #1 (the long one made none)", id)
		}
		for _, m := range e.replies(card.TS) {
			if strings.Contains(m.Text+string(m.Blocks), strings.Repeat("a", 100)) {
				t.Errorf("the long reply reached the thread: %.80s…", m.Text)
			}
		}
	})
}

// TestNotAPersonsMessage: another app's message and a webhook's in a watched
// channel make no card; the domain drops them, and nothing is looked up.
func TestNotAPersonsMessage(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		const statusBot = "U0APP"
		e := newEnv(t, engine, func(c *envConfig) {
			c.pub = func(o *slackfake.Options) {
				o.Users = append(o.Users, slackfake.User{ID: statusBot, Name: "statusbot", RealName: "Status Bot", IsBot: true})
				o.Channels[0].Members = append(o.Channels[0].Members, statusBot)
			}
		})
		e.ts(e.pub.Post(statusBot, helpChan, "Deploy finished: please ask anyone?"))
		e.ts(e.pub.PostWebhook(helpChan, "CI", "Build failed: can someone help?"))
		// Events are taken in order: once the member's card is there, the
		// two before it have been handled.
		_, card := e.ask(1, "A real question")
		if id := idOf(t, card, actTag); id != 1 {
			t.Errorf("the member's item is #%d, want #1: the others made items", id)
		}
		if _, err := e.liaison.Service.Item(e.ctx, 2); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("item 2: err = %v, want not found", err)
		}
		cards := e.cards()
		if len(cards) != 1 || !strings.Contains(slackfake.Shown(cards[0]), "A real question") {
			for _, c := range cards {
				t.Logf("card: %s", slackfake.Shown(c))
			}
			t.Fatalf("%d cards, want only the member's", len(cards))
		}
		for _, c := range e.pub.Calls() {
			if c.Method == "users.info" && c.Params.Get("user") == statusBot {
				t.Error("users.info was asked about the app's message")
			}
		}
	})
}

// TestMembersNamedAsPeopleKnowThem: a card and a thread note name a member
// by their display name, with their username where it differs.
func TestMembersNamedAsPeopleKnowThem(t *testing.T) {
	e := newEnv(t, "sqlite")
	root := e.ts(e.pub.Post(other, helpChan, "Is there an API?"))
	card := e.waitCard(1)
	expectShown(t, "Otto's card", card, "*Otto Berg (@otto)* · #1")
	e.ts(e.pub.Reply(member, helpChan, root, "Same question"))
	note := e.waitNote(card.TS, "Same question")
	// Mia's display name and username differ only in case: one name.
	if !strings.HasPrefix(note.Text, "Mia: Same question") {
		t.Errorf("Mia's note = %q", note.Text)
	}
}
