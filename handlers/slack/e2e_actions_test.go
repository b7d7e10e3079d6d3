package slack

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	slackapi "github.com/slack-go/slack"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
	"github.com/liaison-bot/liaison/storage"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// TestUnclaim: a claimed card offers Unclaim instead of Claim; only its
// assignee (or an approver) gives it back, and a refusal changes nothing.
func TestUnclaim(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.ts(e.pub.Post(member, helpChan, "Where are my invoices?"))
		card := e.waitCard(1)
		itemID := idOf(t, card, actClaim)

		check(t, e.staff.Click(alice, productCh, card.TS, actClaim))
		e.ephemeralShowing(e.staff, alice, fmt.Sprintf("Item #%d is yours.", itemID))
		e.wait(e.staff, "the claimed card", func() bool {
			m := e.card(card.TS)
			return strings.Contains(shown(m), fact("Claimed by", "Alice Martin")) && strings.Contains(shown(m), fact("Status", "🙋 Claimed"))
		})
		claimed := e.card(card.TS)
		if got, want := actionIDs(claimed), []string{actIgnore, actReply, actTag, actUnclaim}; !slices.Equal(got, want) {
			t.Errorf("claimed card buttons = %v, want %v", got, want)
		}

		// Carol, neither the assignee nor an approver, is refused politely.
		check(t, e.staff.Click(carol, productCh, card.TS, actUnclaim))
		e.ephemeralShowing(e.staff, carol, fmt.Sprintf("Sorry, only whoever claimed item #%d, or an approver of its route, can give it back.", itemID))
		if it, err := e.svc.Item(e.ctx, itemID); err != nil || it.Status != bot.ItemClaimed || it.Assignee == 0 {
			t.Errorf("item after a refused unclaim: %+v, %v", it, err)
		}
		if m := e.card(card.TS); string(m.Blocks) != string(claimed.Blocks) {
			t.Errorf("a refused unclaim changed the card:\n%s", shown(m))
		}

		// Alice gives it back: the card is new again, with Claim.
		check(t, e.staff.Click(alice, productCh, card.TS, actUnclaim))
		e.ephemeralShowing(e.staff, alice, fmt.Sprintf("Item #%d is back in the queue.", itemID))
		e.wait(e.staff, "the unclaimed card", func() bool {
			m := e.card(card.TS)
			return strings.Contains(shown(m), fact("Status", "🆕 New")) && !strings.Contains(shown(m), "*Claimed by*") &&
				slices.Equal(actionIDs(m), []string{actClaim, actIgnore, actReply, actTag})
		})
		if it, _ := e.svc.Item(e.ctx, itemID); it.Status != bot.ItemNew || it.Assignee != 0 {
			t.Errorf("item = %s, assignee %d", it.Status, it.Assignee)
		}
	})
}

// TestRefusedForms: a form the domain refuses stays open with its message on
// the field it is about, and changes nothing; buttons Liaison no longer
// knows are answered politely.
func TestRefusedForms(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.ts(e.pub.Post(member, helpChan, "Tag me"))
		card := e.waitCard(1)
		itemID := idOf(t, card, actTag)

		check(t, e.staff.Click(alice, productCh, card.TS, actTag))
		v := e.openView(alice, cbTag)
		if !strings.Contains(string(v.JSON), `"max_length":200`) || !strings.Contains(string(v.JSON), `"block_id":"tags"`) {
			t.Errorf("tag modal: %s", v.JSON)
		}
		check(t, e.staff.SubmitView(alice, v.ID, map[string]map[string]string{blockTags: text(" , ,, ")}))
		e.wait(e.staff, "the refusal", func() bool {
			views := e.staff.Views(alice)
			return len(views) == 1 && views[0].Errors[blockTags] == "Please give at least one tag."
		})
		if it, _ := e.svc.Item(e.ctx, itemID); len(it.Tags) != 0 {
			t.Errorf("tags = %v after a refused form", it.Tags)
		}
		check(t, e.staff.CloseView(alice, v.ID))

		// Buttons of an older Liaison, or unreadable: the domain answers.
		_, old, err := e.internal.api.PostMessage(productCh, slackapi.MsgOptionText("old card", false), slackapi.MsgOptionBlocks(
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
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.ts(e.pub.Post(member, helpChan, "Tell me everything"))
		card := e.waitCard(1)
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
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		const app = "U0APP"
		e := newEnv(t, db, func(c *envConfig) {
			c.pub = func(o *slackfake.Options) {
				o.Users = append(o.Users, slackfake.User{ID: app, Name: "statusbot", RealName: "Status Bot", IsBot: true})
				o.Channels[0].Members = append(o.Channels[0].Members, app)
			}
		})
		e.ts(e.pub.Post(app, helpChan, "Deploy finished: please ask anyone?"))
		e.ts(e.pub.PostWebhook(helpChan, "CI", "Build failed: can someone help?"))
		// Events are taken in order: once the member's card is there, the
		// two before it have been handled.
		e.ts(e.pub.Post(member, helpChan, "A real question"))
		card := e.waitCard(1)
		if id := idOf(t, card, actTag); id != 1 {
			t.Errorf("the member's item is #%d, want #1: the others made items", id)
		}
		if _, err := e.svc.Item(e.ctx, 2); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("item 2: err = %v, want not found", err)
		}
		cards := e.cards()
		if len(cards) != 1 || !strings.Contains(shown(cards[0]), "A real question") {
			for _, c := range cards {
				t.Logf("card: %s", shown(c))
			}
			t.Fatalf("%d cards, want only the member's", len(cards))
		}
		for _, c := range e.pub.Calls() {
			if c.Method == "users.info" && c.Params.Get("user") == app {
				t.Error("users.info was asked about the app's message")
			}
		}
	})
}
