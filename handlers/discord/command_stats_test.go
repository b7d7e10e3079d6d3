package discord_test

import (
	"strings"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
)

// TestStatsCommand: /liaison stats, with its period and route as string
// options, answers staff privately with the figures and a link to the
// oldest waiting card; it refuses politely a period it cannot read, a
// route that does not exist, and whoever answers no route.
func TestStatsCommand(t *testing.T) {
	w := newWorld(t, worldOpts{stopped: true})
	w.cfg.Routes[0].Responders = []string{alice} // Nick is staff of no route
	w.startAndWait("e2e")
	stats := func(f *discordfake.Fake, user, channel string, opts ...discordfake.CommandOption) string {
		t.Helper()
		id, err := f.RunCommand(user, channel, "liaison", []discordfake.CommandOption{{Name: "stats", Type: 1, Options: opts}})
		if err != nil {
			t.Fatal(err)
		}
		return w.answer(f, id) // fails the test unless it is ephemeral
	}
	period := func(v string) discordfake.CommandOption { return discordfake.CommandOption{Name: "period", Value: v} }
	route := func(v string) discordfake.CommandOption { return discordfake.CommandOption{Name: "route", Value: v} }

	// Two questions from Maria; Alice answers the first, Mona approves.
	w.post(maria, general, "How do I export invoices?")
	card := w.card(1, nil)
	w.post(maria, general, "Is there a dark mode?")
	w.card(2, nil)
	w.setUpProfile(alice, "Alice Martin", "Product Manager", aliceAvatar)
	w.click(w.inner, alice, feedback, card.ID, "liaison:reply:1")
	w.submit(w.inner, alice, feedback, "liaison:reply:1", map[string]string{bot.FieldTextID: "Settings → Billing → Export."})
	dc := w.draftCard(card.ID, 1, func(m discordfake.Message) bool {
		return strings.Contains(field(m, "State"), "Waiting for an approver")
	})
	w.click(w.inner, mona, card.ID, dc.ID, "liaison:approve:1")
	deadline := time.Now().Add(waitLimit)
	for w.item(1).FirstAnsweredAt == nil {
		if time.Now().After(deadline) {
			t.Fatal("item 1 was never answered")
		}
		time.Sleep(5 * time.Millisecond)
	}
	waiting := w.item(2)

	got := stats(w.inner, mona, feedback, period("7d"))
	for _, want := range []string{
		"📊 Last 7 days (", "), all routes\n",
		"\n• Items in: 2 (+2 vs previous 7 days)\n",
		"\n• Answered: 1, 50%\n", // no previous items: no change to give
		"\n• First public answer: median ",
		", 1 approved\n",
		"\n• Members: 1 (+1), 0 returning\n",
		"\n• Responders: Alice Martin 1\n",
		"\n• Waiting now: 1 unanswered, 0 awaiting approval, 0 past SLA\n",
		// The oldest waiting item, linked to its card in markdown.
		"\nOldest waiting:\n[#2 “Is there a dark mode?” · waiting ",
		"](" + waiting.CardLink + ")",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("/liaison stats 7d answered\n%s\nwithout %q", got, want)
		}
	}
	if !strings.HasPrefix(waiting.CardLink, "https://discord.com/channels/") {
		t.Errorf("card link %q", waiting.CardLink)
	}
	// Nothing was said in the channel: the answer is Mona's alone.
	for _, m := range w.inner.Messages(feedback) {
		if strings.Contains(m.Content, "📊") {
			t.Errorf("the figures were posted in the channel: %q", m.Content)
		}
	}

	// A route, without a period: the default 7 days, on that route.
	if got := stats(w.inner, alice, feedback, route("feedback")); !strings.HasPrefix(got, "📊 Last 7 days (") || !strings.Contains(got, "), route feedback\n• Items in: 2 ") {
		t.Errorf("/liaison stats route:feedback answered\n%s", got)
	}

	for _, tt := range []struct {
		name          string
		f             *discordfake.Fake
		user, channel string
		opts          []discordfake.CommandOption
		want          string
	}{
		{"bad period", w.inner, mona, feedback, []discordfake.CommandOption{period("fortnight")},
			"Sorry, Liaison cannot read `fortnight` as a period: give a number of hours, days or weeks (24h, 7d, 4w), or week or month, as in `/liaison stats [period] [route]`."},
		{"unknown route", w.inner, mona, feedback, []discordfake.CommandOption{period("30d"), route("sales")},
			"Sorry, there is no route `sales`. The routes are: feedback."},
		{"not staff", w.inner, nick, feedback, nil, bot.ErrNotStaff.Message},
		{"community member", w.pub, maria, general, nil, bot.ErrNotStaff.Message},
	} {
		if got := stats(tt.f, tt.user, tt.channel, tt.opts...); got != tt.want {
			t.Errorf("%s: answered %q, want %q", tt.name, got, tt.want)
		}
	}
}
