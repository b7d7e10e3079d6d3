package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/storage"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// TestAttentionCountsBusinessHours: on a route working Monday to Friday,
// 9:00 to 18:00 in Paris, with a 2h SLA, an item opened Friday at 17:00
// has waited 1h by the weekend: no reminder until Monday 10:00, no
// escalation until Monday 12:00 (4h). A route without hours, same SLA,
// counts the weekend.
func TestAttentionCountsBusinessHours(t *testing.T) {
	paris := zone(t, "Europe/Paris")
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db, func(_ *bot.Settings, routes *[]bot.Route) {
			(*routes)[0].Policy.SLA = 2 * time.Hour
			(*routes)[1].Policy.SLA = 2 * time.Hour
			(*routes)[1].Policy.Hours = office(paris)
		})
		at := func(s string) {
			t.Helper()
			to := local(t, paris, s)
			if to.Before(e.clock.Now()) {
				t.Fatalf("clock at %s, cannot go back to %s", e.clock.Now(), to)
			}
			e.clock.Advance(to.Sub(e.clock.Now()))
			for range 2 {
				if err := e.svc.Attend(e.ctx); err != nil {
					t.Fatal(err)
				}
				e.drain()
			}
		}
		at("2026-11-27 17:00") // a Friday
		e.receive(e.post(helpChan, "login broken"), bot.IntakeNew)
		e.drain()
		card, _ := e.card(supportCh)
		_, pricingCard := e.askPricing()

		inThread := func(channel, thread, sub string) int {
			n := 0
			for _, p := range e.staff.Posts(channel) {
				if p.ThreadID == thread && strings.Contains(p.Text, sub) {
					n++
				}
			}
			return n
		}
		const (
			reminder   = "⏰ This has waited 2 hours of business time for a public answer (the support route's target is 2 hours of business time)."
			escalation = "Escalated to the approvers"
		)

		at("2026-11-28 12:00") // Saturday: 19h of wall time, 1h of business time
		if n := inThread(supportCh, card.ID, "⏰"); n != 0 {
			t.Fatalf("reminded %d times on Saturday, after 1h of business time", n)
		}
		if n := inThread(productCh, pricingCard.ID, "⏰ This has waited 19 hours for a public answer (the product route's target is 2 hours)."); n != 1 {
			t.Fatalf("the route without business hours: %d reminders on Saturday, want 1", n)
		}

		at("2026-11-30 09:59") // Monday: 1h59m
		if n := inThread(supportCh, card.ID, "⏰"); n != 0 {
			t.Fatalf("reminded %d times after 1h59m of business time", n)
		}

		at("2026-11-30 10:00")
		if n := inThread(supportCh, card.ID, reminder); n != 1 {
			t.Fatalf("%d reminders at Monday 10:00, want 1 saying %q; thread: %v", n, reminder, e.staff.Posts(supportCh))
		}
		if n := inThread(supportCh, card.ID, escalation); n != 0 {
			t.Fatalf("escalated at Monday 10:00 (2h of business time)")
		}

		at("2026-11-30 11:59")
		if n := inThread(supportCh, card.ID, escalation); n != 0 {
			t.Fatalf("escalated at Monday 11:59 (3h59m of business time)")
		}

		at("2026-11-30 12:00")
		if n := inThread(supportCh, card.ID, escalation); n != 1 {
			t.Fatalf("%d escalations at Monday 12:00, want 1", n)
		}
		toBob := 0
		for _, p := range e.staff.Posts(supportCh) {
			if p.ToUser == "U0BOB" && strings.Contains(p.Text, "has waited 4 hours of business time and still has no public answer") {
				toBob++
			}
		}
		if toBob != 1 {
			t.Fatalf("Bob was told %d times, want 1", toBob)
		}
		if n := inThread(supportCh, card.ID, "⏰"); n != 1 {
			t.Fatalf("%d reminders in all, want 1", n)
		}
	})
}
