package bot_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/bot/mock"
	"github.com/liaison-bot/liaison/storage"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// TestCorrectionBySomeoneElse: a responder trusted on a trusted-auto route
// corrects Alice's published reply. The route lets the correction through
// without review, but the public post, signed by Alice, changes only once
// she accepts the new words.
func TestCorrectionBySomeoneElse(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.mustProfile(carol, bot.ProfileInput{Name: "Carol King", Consent: true})
		e.receive(e.post(helpChan, "my login does not work"), bot.IntakeNew) // support: trusted-auto
		e.drain()
		_, it := e.card(supportCh)
		reply, err := e.createDraft(alice, it.ID, "Reset your password.")
		if err != nil {
			t.Fatal(err)
		}
		e.mustAct(bob, bot.ActApprove, reply.ID)
		if r := e.commandIn(supportCh, bob, bot.ActPromote, carol.UserID); r.Refused {
			t.Fatal(r.Text)
		}
		corr, err := e.correct(carol, reply.ID, "Reset your password, then sign in again.")
		if err != nil {
			t.Fatal(err)
		}
		e.drain()
		pub := e.publicPosts(helpChan)
		if got := e.draft(corr.ID); got.State != bot.DraftAwaitingSigner || got.AuthorID != reply.AuthorID {
			t.Fatalf("correction: %s, signed by profile %d (want Alice's, %d)", got.State, got.AuthorID, reply.AuthorID)
		}
		if len(pub) != 1 || pub[0].Edits != 0 || strings.Contains(pub[0].Text, "sign in again") {
			t.Fatalf("Alice's public reply changed before she accepted: %+v", pub)
		}
		dc := e.draftCard(it, corr.ID)
		if !strings.Contains(dc.Changes, "+ Reset your password, then sign in again.") || !slices.ContainsFunc(dc.Facts, func(f bot.Fact) bool { return f.Label == "Words by" && f.Value == "Carol King" }) {
			t.Errorf("the correction's card: changes %q, facts %+v", dc.Changes, dc.Facts)
		}
		expectErr(t, e.act(carol, bot.ActAccept, corr.ID), bot.ErrNotSigner)
		if err := e.act(alice, bot.ActAccept, corr.ID); err != nil {
			t.Fatal(err)
		}
		e.drain()
		pub = e.publicPosts(helpChan)
		if len(pub) != 1 || pub[0].Edits != 1 || !strings.Contains(pub[0].Text, "sign in again") || pub[0].Username != "Alice Martin · Acme" {
			t.Fatalf("after Alice accepted: %+v", pub)
		}
		if !slices.ContainsFunc(e.staff.Posts(supportCh), func(p mock.Post) bool {
			return strings.Contains(p.Text, "corrected by Carol King, signed by Alice Martin who accepted the words")
		}) {
			t.Error("the thread is not told who wrote and who accepted the correction")
		}
	})
}

// TestApproverEditsOwnDraftGoesBackToReview: an approver who changes the
// words of a draft they sign has written them alone; another approver
// reviews them.
func TestApproverEditsOwnDraftGoesBackToReview(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.mustProfile(lead, bot.ProfileInput{Name: "Lea Park", Consent: true})
		e.mustProfile(carol, bot.ProfileInput{Name: "Carol King", Consent: true})
		it, _ := e.askPricing()
		// Carol proposes a correction of Bob's reply; Bob, an approver, edits it.
		reply, err := e.createDraft(bob, it.ID, "Teams pay per seat.")
		if err != nil {
			t.Fatal(err)
		}
		e.mustAct(lead, bot.ActApprove, reply.ID)
		corr, err := e.correct(carol, reply.ID, "Teams pay per seat, billed monthly.")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.editApprove(bob, corr.ID, "Teams pay per seat, billed monthly or yearly."); err != nil {
			t.Fatal(err)
		}
		if got := e.draft(corr.ID); got.State != bot.DraftPending || len(got.Versions) != 2 {
			t.Fatalf("Bob's own edit: %s with %d versions, want pending for another approver", got.State, len(got.Versions))
		}
		expectErr(t, e.act(bob, bot.ActApprove, corr.ID), bot.ErrSelfApproval)
		e.mustAct(lead, bot.ActApprove, corr.ID)
		if got := e.draft(corr.ID); got.State != bot.DraftPublished {
			t.Fatalf("after Lea's review: %s", got.State)
		}
	})
}

func TestWordDiff(t *testing.T) {
	for _, tc := range []struct{ a, b, want string }{
		{"same words", "same  words", ""},
		{"We ship in March.", "We ship in April.", "− We ship in March.\n+ We ship in April."},
		{"one two three four five six seven eight nine", "one two three four FIVE six seven eight nine",
			"− … two three four five six seven eight …\n+ … two three four FIVE six seven eight …"},
		{"keep this", "keep this and more", "+ keep this and more"},
		{"drop the end here", "drop the", "− drop the end here"},
	} {
		if got := bot.WordDiff(tc.a, tc.b); got != tc.want {
			t.Errorf("WordDiff(%q, %q) =\n%s\nwant\n%s", tc.a, tc.b, got, tc.want)
		}
	}
	many := bot.WordDiff(strings.Repeat("a b ", 12), strings.Repeat("a c ", 12))
	if lines := strings.Split(many, "\n"); len(lines) != 21 || lines[20] != "… and 2 more changes" {
		t.Errorf("12 changes shown as:\n%s", many)
	}
}
