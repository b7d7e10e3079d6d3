package slack_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
)

// TestStatsCommand: /liaison stats [period] [route] answers staff
// privately with the figures and a link to the oldest waiting card; it
// refuses politely a period it cannot read, a route that does not exist,
// and whoever answers no route.
func TestStatsCommand(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := newEnv(t, engine, func(c *envConfig) {
			// Alice answers product, Bob and the leads approve: Carol is
			// staff of no route.
			c.config = func(y string) string {
				return strings.Replace(y, `approvers: ["${BOB}", "${LEADS}"]}`, `approvers: ["${BOB}", "${LEADS}"], responders: ["${ALICE}"]}`, 1)
			}
		})
		// command runs /liaison text as user and returns the private
		// answer it gets.
		command := func(f *slackfake.Fake, user, channel, text string) string {
			t.Helper()
			n := len(f.Ephemerals(user))
			check(t, f.SlashCommand(user, channel, "/liaison", text))
			e.wait(f, "the answer to "+text, func() bool { return len(f.Ephemerals(user)) > n })
			return f.Ephemerals(user)[n].Text
		}

		// Two questions from Mia; Alice answers the first, Bob approves.
		root, card := e.ask(1, "How do I export invoices?")
		e.ask(2, "Is there a dark mode?")
		e.ts(e.staff.Reply(alice, productCh, card.TS, "!reply Settings → Billing → Export."))
		check(t, e.staff.Click(bob, productCh, e.waitDraftCard(card.TS, "Settings → Billing").TS, actApprove))
		e.waitPublicReply(root)
		e.waitStore("item 1 answered", func() bool { return itemOf(e, 1).FirstAnsweredAt != nil })
		waiting := itemOf(e, 2)

		got := command(e.staff, bob, productCh, "stats 7d")
		for _, want := range []string{
			"📊 Last 7 days (", "), all routes\n",
			"\n• Items in: 2 (+2 vs previous 7 days)\n",
			"\n• Answered: 1, 50%\n", // no item the week before: no change to give
			"\n• First public answer: median &lt;1m, p90 &lt;1m\n",
			"\n• Approval: median &lt;1m, p90 &lt;1m, 1 approved\n",
			"\n• Members: 1 (+1), 0 returning\n",
			"\n• Responders: Alice Martin 1\n",
			"\n• Waiting now: 1 unanswered, 0 awaiting approval, 0 past SLA\n",
			// The oldest waiting item, linked to its card.
			"\nOldest waiting:\n<" + waiting.CardLink + "|#2 “Is there a dark mode?” · waiting &lt;1m>",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("/liaison stats 7d answered\n%s\nwithout %q", got, want)
			}
		}
		if !strings.HasPrefix(waiting.CardLink, "http") {
			t.Errorf("card link %q", waiting.CardLink)
		}
		// Privately: nothing was posted in the channel.
		if slices.ContainsFunc(e.staff.Messages(productCh), func(m slackfake.Message) bool { return strings.Contains(m.Text, "📊") }) {
			t.Error("the figures were posted in the channel")
		}

		// Words in order: a period, then a route.
		if got := command(e.staff, alice, productCh, "stats 30d product"); !strings.HasPrefix(got, "📊 Last 30 days (") || !strings.Contains(got, "), route product\n• Items in: 2 (+2 vs previous 30 days)\n") {
			t.Errorf("/liaison stats 30d product answered\n%s", got)
		}

		// Refusals.
		if got := command(e.staff, bob, productCh, "stats soon"); got != "Sorry, Liaison cannot read `soon` as a period: give a number of hours, days or weeks (24h, 7d, 4w), or week or month, as in `/liaison stats [period] [route]`." {
			t.Errorf("a bad period answered %q", got)
		}
		if got := command(e.staff, bob, productCh, "STATS 7d sales"); got != "Sorry, there is no route `sales`. The routes are: product." {
			t.Errorf("an unknown route answered %q", got)
		}
		if got := command(e.staff, carol, productCh, "stats"); got != bot.ErrNotStaff.Message {
			t.Errorf("stats by Carol answered %q", got)
		}
		if got := command(e.pub, member, helpChan, "stats"); got != bot.ErrNotStaff.Message {
			t.Errorf("stats by a community member answered %q", got)
		}
	})
}

// itemOf reads an item from the store.
func itemOf(e *env, id int64) *bot.Item {
	e.t.Helper()
	var it *bot.Item
	check(e.t, e.liaison.DB.View(context.Background(), func(tx bot.Tx) (err error) {
		it, err = tx.Item(context.Background(), id)
		return err
	}))
	return it
}
