package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/storage"
)

// TestThreadNameErased: a card's thread name quotes the member until their
// words are erased; then it names the item alone (and the member, unless
// forgotten), and the card asks for a rename.
func TestThreadNameErased(t *testing.T) {
	forEachEngineDSN(t, func(t *testing.T, db *storage.DB, _ string) {
		e := newEnv(t, db)
		e.receive(e.post(helpChan, "my email is mia@example.com, what is the pricing?"), bot.IntakeNew)
		e.drain()
		card, it := e.card(productCh)
		if c := card.Card; c.Rename || !strings.Contains(c.ThreadName, "mia@example.com") || !strings.Contains(c.ThreadName, "Mia") {
			t.Fatalf("card before the purge: thread %q, rename %v", c.ThreadName, c.Rename)
		}
		e.clock.Advance(48 * time.Hour)
		e.receive(e.post(helpChan, "login broken today"), bot.IntakeNew)
		e.drain()

		if _, err := e.svc.Purge(e.ctx, 24*time.Hour); err != nil {
			t.Fatal(err)
		}
		e.drain()
		got, _ := e.staff.Get(card.ID)
		want := "#" + itoa(it.ID) + " Mia"
		if got.Card.ThreadName != want || !got.Card.Rename {
			t.Errorf("card after the purge: thread %q, rename %v; want %q, true", got.Card.ThreadName, got.Card.Rename, want)
		}
		recent, recentItem := e.card(supportCh)
		if c := recent.Card; c.Rename || !strings.Contains(c.ThreadName, "login broken today") {
			t.Errorf("the recent card after the purge: thread %q, rename %v", c.ThreadName, c.Rename)
		}

		if _, err := e.svc.Forget(e.ctx, lead, bot.MemberRef{ItemID: recentItem.ID}); err != nil {
			t.Fatal(err)
		}
		e.drain()
		for _, p := range []string{card.ID, recent.ID} {
			got, _ := e.staff.Get(p)
			want := "#" + itoa(got.Card.ItemID) + " A community member"
			if got.Card.ThreadName != want || !got.Card.Rename {
				t.Errorf("card %s after forgetting: thread %q, rename %v; want %q, true", p, got.Card.ThreadName, got.Card.Rename, want)
			}
		}
	})
}
