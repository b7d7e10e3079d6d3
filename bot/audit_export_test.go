package bot_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/storage"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// TestAuditTrail: the trail of an item published without review, then of
// the same item once its member is forgotten; and how items are selected.
func TestAuditTrail(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db, func(_ *bot.Settings, routes *[]bot.Route) { (*routes)[1].Policy.Mode = bot.ApprovalNone })
		e.receive(e.post(helpChan, "login broken, my email is mia@example.com"), bot.IntakeNew)
		e.drain()
		_, it := e.card(supportCh)
		e.clock.Advance(time.Minute)
		if _, err := e.createDraft(alice, it.ID, "Fixed, sorry about that."); err != nil {
			t.Fatal(err)
		}
		e.drain()

		trails, err := e.svc.AuditTrail(e.ctx, bot.AuditQuery{ItemID: it.ID})
		if err != nil || len(trails) != 1 {
			t.Fatalf("AuditTrail = %d trails, %v", len(trails), err)
		}
		tr := trails[0]
		if len(tr.Messages) != 1 || tr.Messages[0].Author != "Mia" || tr.Messages[0].AuthorID != member {
			t.Errorf("messages = %+v", tr.Messages)
		}
		if len(tr.Drafts) != 1 {
			t.Fatalf("drafts = %+v", tr.Drafts)
		}
		d := tr.Drafts[0]
		if d.Review != "no review needed" || d.ApprovedBy != "" || d.ApprovedAt == nil || d.PublishedAt == nil || d.PublicLink == "" || d.Signer != "Alice Martin" {
			t.Errorf("draft = %+v", d)
		}
		var kinds []string
		for _, en := range tr.Timeline() {
			if !slices.Contains(kinds, en.Kind) {
				kinds = append(kinds, en.Kind)
			}
			if strings.Contains(en.Text, "mia@example.com") {
				t.Errorf("the timeline quotes the member: %+v", en)
			}
		}
		if !slices.Equal(kinds, []string{"message", "version", "approval", "publication", "event"}) {
			t.Errorf("timeline kinds, in order of first appearance = %v", kinds)
		}

		if _, err := e.svc.Forget(e.ctx, bob, bot.MemberRef{ItemID: it.ID}); err != nil {
			t.Fatal(err)
		}
		trails, err = e.svc.AuditTrail(e.ctx, bot.AuditQuery{ItemID: it.ID})
		if err != nil {
			t.Fatal(err)
		}
		if m := trails[0].Messages[0]; !m.Forgotten || m.Author != "forgotten member" || m.AuthorID != "" || m.AuthorName != "" {
			t.Errorf("forgotten member's message = %+v", m)
		}

		if _, err := e.svc.AuditTrail(e.ctx, bot.AuditQuery{ItemID: 999}); !errors.Is(err, bot.ErrNotFound) {
			t.Errorf("unknown item: %v", err)
		}
		if got, err := e.svc.AuditTrail(e.ctx, bot.AuditQuery{Since: e.clock.Now().Add(time.Hour)}); err != nil || len(got) != 0 {
			t.Errorf("since later = %d trails, %v", len(got), err)
		}
		if got, err := e.svc.AuditTrail(e.ctx, bot.AuditQuery{Since: it.CreatedAt}); err != nil || len(got) != 1 || got[0].ItemID != it.ID {
			t.Errorf("since its opening = %+v, %v", got, err)
		}
	})
}
