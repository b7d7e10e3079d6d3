package discord_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/config"
	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// The menu commands on Discord: Send to team on a message, Member history on
// a user, both in the community guild, for staff only. Sam is Alice's own
// account on the community server: the config links it to her profile.

func menuWorld(t *testing.T, engine string) *world {
	t.Helper()
	w := newWorld(t, worldOpts{engine: engine, stopped: true})
	w.cfg.Profiles = append(w.cfg.Profiles, config.Profile{
		Name: "Alice Martin", Title: "Product Manager", ConsentedAt: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC),
		Identities: []config.Identity{{Connection: "internal", UserID: alice}, {Connection: "community", UserID: sam}},
	})
	w.startAndWait("e2e")
	w.waitFor(w.pub, "the menu commands registered", func() bool { return len(w.pub.Commands(pubGuild)) == 1+len(bot.Menus()) })
	return w
}

// rows counts the rows of a table.
func (w *world) rows(table string) int64 {
	w.t.Helper()
	n, err := w.liaison.DB.RowCount(w.ctx, table)
	if err != nil {
		w.t.Fatal(err)
	}
	return n
}

// picked waits for the answer that replaced a select the person picked in.
func (w *world) picked(f *discordfake.Fake, interactionID string) string {
	w.t.Helper()
	var out string
	w.waitFor(f, "answer to the pick "+interactionID, func() bool {
		rs := f.InteractionResponses(interactionID)
		if len(rs) > 0 && rs[0].Type == 7 {
			out = rs[0].Content
		}
		return out != ""
	})
	return out
}

func TestSendToTeamOnDiscord(t *testing.T) {
	for _, engine := range storagetest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			w := menuWorld(t, engine)
			q := w.post(maria, offTopic, "@everyone how do I export my data? <@&2100000000000000001>")

			// Maria is no staff: a polite refusal, nothing stored.
			id, err := w.pub.RunMessageCommand(maria, offTopic, "Send to team", q.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got := w.answer(w.pub, id); got != bot.ErrStaffOnly.Message {
				t.Fatalf("Maria's Send to team answered %q", got)
			}
			if n := w.rows("messages"); n != 0 {
				t.Fatalf("%d messages stored", n)
			}

			// Sam picks the route in a select only he sees.
			id, err = w.pub.RunMessageCommand(sam, offTopic, "Send to team", q.ID)
			if err != nil {
				t.Fatal(err)
			}
			text, form := w.answerMessage(w.pub, id)
			wantID := fmt.Sprintf("liaison-menu:%s:%s:%s:%s", bot.ActSendToTeam, bot.FieldRouteID, offTopic, q.ID)
			if !strings.Contains(text, "**Send to team**") || !strings.Contains(text, "Maria") || !slices.Equal(customIDs(form), []string{wantID}) {
				t.Fatalf("form: %q %v", text, customIDs(form))
			}
			pick, err := w.pub.Select(sam, offTopic, form.ID, wantID, []string{"feedback"})
			if err != nil {
				t.Fatal(err)
			}
			if got := w.picked(w.pub, pick); !strings.HasPrefix(got, "Sent to the team: item #1, on route feedback.") || !strings.Contains(got, "not followed") {
				t.Fatalf("the pick answered %q", got)
			}
			if eph := w.pub.Ephemerals(sam); len(eph) != 1 || len(customIDs(eph[0])) != 0 {
				t.Fatalf("the select is still offered: %+v", eph)
			}

			card := w.card(1, nil)
			if !strings.Contains(card.Embeds[0].Description, "how do I export my data?") {
				t.Fatalf("card = %+v", card.Embeds[0])
			}
			noPingsFromLiaison(t, w.inner, innerBot, []string{feedback})
			for _, m := range w.pub.Messages(offTopic) {
				if m.ID != q.ID {
					t.Fatalf("posted publicly: %+v", m)
				}
			}
			if len(w.pub.Ephemerals(maria)) != 1 { // her refusal, nothing since
				t.Fatalf("Maria was told: %+v", w.pub.Ephemerals(maria))
			}

			// Again: the item it is, with its card.
			deadline := time.Now().Add(waitLimit)
			for w.item(1).CardLink == "" {
				if time.Now().After(deadline) {
					t.Fatal("the card was never recorded")
				}
				time.Sleep(5 * time.Millisecond)
			}
			id, err = w.pub.RunMessageCommand(sam, offTopic, "Send to team", q.ID)
			if err != nil {
				t.Fatal(err)
			}
			got := w.answer(w.pub, id)
			if !strings.HasPrefix(got, "This message is already item #1, on route feedback: nothing changed.") || !strings.Contains(got, w.item(1).CardLink) {
				t.Fatalf("again: %q", got)
			}
			if n := w.rows("items"); n != 1 {
				t.Fatalf("%d items", n)
			}

			// A message deleted before the pick is read again, and missed.
			gone := w.post(maria, offTopic, "never mind")
			id, err = w.pub.RunMessageCommand(sam, offTopic, "Send to team", gone.ID)
			if err != nil {
				t.Fatal(err)
			}
			_, form = w.answerMessage(w.pub, id)
			if err := w.pub.Delete(offTopic, gone.ID); err != nil {
				t.Fatal(err)
			}
			pick, err = w.pub.Select(sam, offTopic, form.ID, customIDs(form)[0], []string{"feedback"})
			if err != nil {
				t.Fatal(err)
			}
			if got := w.picked(w.pub, pick); got != bot.ErrMessageUnreadable.Message {
				t.Fatalf("the pick of a deleted message answered %q", got)
			}
			if n := w.rows("items"); n != 1 {
				t.Fatalf("%d items", n)
			}
		})
	}
}

func TestMemberHistoryOnDiscord(t *testing.T) {
	w := menuWorld(t, "sqlite")
	w.post(maria, general, "How do I export invoices?")
	card := w.card(1, nil)
	w.post(maria, general, "Is there a dark mode?")
	w.card(2, nil)
	w.post(sam, general, "Hello from Sam") // someone else's item
	w.card(3, nil)
	w.click(w.inner, alice, feedback, card.ID, "liaison:reply:1")
	w.submit(w.inner, alice, feedback, "liaison:reply:1", map[string]string{bot.FieldTextID: "Settings → Billing → Export."})
	dc := w.draftCard(card.ID, 1, func(m discordfake.Message) bool {
		return strings.Contains(field(m, "State"), "Waiting for an approver")
	})
	w.click(w.inner, mona, card.ID, dc.ID, "liaison:approve:1")
	deadline := time.Now().Add(waitLimit)
	for w.draft(1).PublicLink == "" {
		if time.Now().After(deadline) {
			t.Fatal("the answer was never published")
		}
		time.Sleep(5 * time.Millisecond)
	}
	link := w.draft(1).PublicLink

	id, err := w.pub.RunUserCommand(sam, offTopic, "Member history", maria)
	if err != nil {
		t.Fatal(err)
	}
	got := w.answer(w.pub, id) // fails unless ephemeral
	for _, want := range []string{
		"Maria: 2 items here, newest first.\n#2 · ",
		" · 🆕 New · “Is there a dark mode?”\n#1 · ",
		" · answered by Alice Martin · “How do I export invoices?”\n",
		"[#1: the public answer](" + link + ")",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("history lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "Hello from Sam") {
		t.Errorf("history shows someone else's item:\n%s", got)
	}

	id, err = w.pub.RunUserCommand(maria, offTopic, "Member history", sam)
	if err != nil {
		t.Fatal(err)
	}
	if got := w.answer(w.pub, id); got != bot.ErrStaffOnly.Message {
		t.Fatalf("Maria's Member history answered %q", got)
	}
}
