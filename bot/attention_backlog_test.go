package bot_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/storage"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// TestAttentionWholeBacklog: with more items waiting than one round looks
// at, every overdue item is still reminded once and escalated once,
// the newest as well as the oldest.
func TestAttentionWholeBacklog(t *testing.T) {
	const waiting = 230
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db, func(_ *bot.Settings, routes *[]bot.Route) { (*routes)[1].Policy.SLA = time.Hour })
		e.worker.Batch = 64
		for i := range waiting {
			e.receive(e.post(helpChan, fmt.Sprintf("login broken, case %d", i)), bot.IntakeNew)
			e.clock.Advance(time.Second)
		}
		e.drain()
		cards := map[string]bool{} // thread → card
		for _, p := range e.staff.Posts(supportCh) {
			if p.Card != nil {
				cards[p.ID] = true
			}
		}
		if len(cards) != waiting {
			t.Fatalf("%d cards, want %d", len(cards), waiting)
		}
		attend := func() {
			t.Helper()
			if err := e.svc.Attend(e.ctx); err != nil {
				t.Fatal(err)
			}
			e.drain()
		}
		e.clock.Advance(3 * time.Hour) // every item is past twice its SLA
		attend()
		attend()

		reminders, escalations := map[string]int{}, map[string]int{}
		for _, p := range e.staff.Posts(supportCh) {
			switch {
			case !cards[p.ThreadID]:
			case strings.Contains(p.Text, "for a public answer (the support route's target is 1h0m0s)"):
				reminders[p.ThreadID]++
			case strings.Contains(p.Text, "Escalated to the approvers"):
				escalations[p.ThreadID]++
			}
		}
		toBob := 0
		for _, p := range e.staff.Posts(supportCh) {
			if p.ToUser == "U0BOB" && strings.HasPrefix(p.Text, "Escalation:") {
				toBob++
			}
		}
		var missed []string
		for thread := range cards {
			if reminders[thread] != 1 || escalations[thread] != 1 {
				missed = append(missed, fmt.Sprintf("%s: %d reminders, %d escalations", thread, reminders[thread], escalations[thread]))
			}
		}
		if len(missed) > 0 {
			t.Fatalf("%d of %d items not reminded and escalated exactly once, e.g. %s", len(missed), waiting, missed[0])
		}
		if toBob != waiting {
			t.Fatalf("Bob was told of %d escalations, want %d", toBob, waiting)
		}
	})
}
