package bot_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/bot/mock"
	"github.com/liaison-bot/liaison/storage"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// openHome is a person opening their Home: it is published at once.
func (e *env) openHome(a bot.Actor) *bot.HomeView {
	e.t.Helper()
	if err := e.svc.HomeOpened(e.ctx, a); err != nil {
		e.t.Fatalf("%s opens their Home: %v", a.UserID, err)
	}
	e.drain()
	h := e.staff.Home(a.UserID)
	if h == nil {
		e.t.Fatalf("%s opened their Home and none was published", a.UserID)
	}
	return h
}

// settle lets the refreshes of the Homes run: they wait a moment so that a
// burst of changes is published once.
func (e *env) settle() {
	e.t.Helper()
	e.clock.Advance(2 * time.Second)
	e.drain()
}

// homeSection returns the section of h titled title; nil when h has none.
func homeSection(h *bot.HomeView, title string) *bot.HomeSection {
	for i := range h.Sections {
		if h.Sections[i].Title == title {
			return &h.Sections[i]
		}
	}
	return nil
}

// entryOn returns the entry of sec whose title or lines mention what.
func entryOn(sec *bot.HomeSection, what string) *bot.HomeEntry {
	if sec == nil {
		return nil
	}
	for i, e := range sec.Entries {
		if strings.Contains(e.Title+"\n"+strings.Join(e.Lines, "\n"), what) {
			return &sec.Entries[i]
		}
	}
	return nil
}

// homeActions lists the actions of an entry, each with its target.
func homeActions(e *bot.HomeEntry) map[bot.ActionID]int64 {
	out := map[bot.ActionID]int64{}
	if e != nil {
		for _, b := range e.Actions {
			out[b.Action] = b.Target
		}
	}
	return out
}

const (
	secAssigned = "Assigned to you"
	secApprove  = "Waiting for your approval"
	secDrafts   = "Your drafts"
	secProfile  = "Your public profile"
)

// TestHomeShowsEachPersonTheirs: a responder sees the item they claimed and
// their draft; the route's approver sees the draft waiting for them, with
// the buttons of its card; someone else sees neither, and is asked to set
// up a profile. Approving from those buttons moves the draft off the
// approver's Home and shows the author it was published.
func TestHomeShowsEachPersonTheirs(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		it, _ := e.askPricing()
		if err := e.act(alice, bot.ActClaim, it.ID); err != nil {
			t.Fatal(err)
		}
		e.drain()

		h := e.openHome(alice)
		item := entryOn(homeSection(h, secAssigned), "#1 ")
		if item == nil || !strings.Contains(strings.Join(item.Lines, "\n"), "pricing for teams") {
			t.Fatalf("alice's Home does not list the item she claimed: %+v", homeSection(h, secAssigned))
		}
		if got := homeActions(item); got[bot.ActReply] != it.ID || len(got) != 1 {
			t.Errorf("actions on the assigned item = %v, want Reply publicly on item %d", got, it.ID)
		}
		if homeSection(h, secApprove) != nil {
			t.Errorf("alice approves no route, yet her Home has %q", secApprove)
		}
		if p := homeSection(h, secProfile); p == nil || len(p.Entries) != 1 || p.Entries[0].Title != "Alice Martin" ||
			p.Entries[0].ImageURL != "https://a.test/alice.png" || homeActions(&p.Entries[0])[bot.ActProfile] != 0 || len(p.Entries[0].Actions) != 1 {
			t.Errorf("alice's profile section = %+v", p)
		}
		if d := homeSection(h, secDrafts); d == nil || len(d.Entries) != 0 || d.Empty == "" {
			t.Errorf("alice's drafts before she wrote one = %+v", d)
		}

		hb := e.openHome(bob)
		if sec := homeSection(hb, secApprove); sec == nil || len(sec.Entries) != 0 || sec.Empty == "" {
			t.Fatalf("bob's Home before any draft: %+v", sec)
		}
		hc := e.openHome(carol)
		if sec := homeSection(hc, secAssigned); sec == nil || len(sec.Entries) != 0 {
			t.Errorf("carol's Home lists items assigned to her: %+v", sec)
		}
		if p := homeSection(hc, secProfile); p == nil || len(p.Entries) != 1 || p.Entries[0].Actions[0].Action != bot.ActProfile {
			t.Errorf("carol, without a profile, is not offered to set one up: %+v", p)
		}

		d, err := e.createDraft(alice, it.ID, "Teams pay per seat; see the pricing page.")
		if err != nil {
			t.Fatal(err)
		}
		e.drain()
		if got := e.staff.Home(bob.UserID); entryOn(homeSection(got, secApprove), "Draft #") != nil {
			t.Fatal("bob's Home was refreshed before the refresh's moment: a burst would publish it many times")
		}
		e.settle()
		hb = e.staff.Home(bob.UserID)
		wait := entryOn(homeSection(hb, secApprove), "Draft #")
		if wait == nil || !strings.Contains(strings.Join(wait.Lines, "\n"), "Teams pay per seat") {
			t.Fatalf("bob's Home does not show alice's draft: %+v", homeSection(hb, secApprove))
		}
		want := map[bot.ActionID]int64{bot.ActApprove: d.ID, bot.ActEditApprove: d.ID, bot.ActReject: d.ID}
		if got := homeActions(wait); len(got) != 3 || got[bot.ActApprove] != d.ID || got[bot.ActEditApprove] != d.ID || got[bot.ActReject] != d.ID {
			t.Errorf("buttons on the draft = %v, want %v", got, want)
		}
		if c := e.staff.Home(carol.UserID); entryOn(homeSection(c, secApprove), "Draft #") != nil || entryOn(homeSection(c, secDrafts), "Draft #") != nil {
			t.Errorf("carol's Home shows alice's draft: %+v", c)
		}
		mine := entryOn(homeSection(e.staff.Home(alice.UserID), secDrafts), "Draft #")
		if mine == nil || !slices.Contains(mine.Lines, "⏳ Waiting for an approver") || homeActions(mine)[bot.ActWithdraw] != d.ID {
			t.Fatalf("alice's draft on her Home = %+v", mine)
		}

		// Bob clicks Approve on his Home: the click runs as on the card.
		if err := e.act(bob, bot.ActApprove, wait.Actions[0].Target); err != nil {
			t.Fatal(err)
		}
		e.drain()
		e.settle()
		if sec := homeSection(e.staff.Home(bob.UserID), secApprove); len(sec.Entries) != 0 {
			t.Errorf("the approved draft is still on bob's Home: %+v", sec.Entries)
		}
		mine = entryOn(homeSection(e.staff.Home(alice.UserID), secDrafts), "Draft #")
		if mine == nil || !slices.Contains(mine.Lines, "✅ Published") || len(mine.Links) == 0 || mine.Links[0].Text != "View the public post" || len(mine.Actions) != 0 {
			t.Errorf("alice's published draft on her Home = %+v", mine)
		}
		if sec := homeSection(e.staff.Home(alice.UserID), secAssigned); len(sec.Entries) != 0 {
			t.Errorf("the answered item is still assigned to alice on her Home: %+v", sec.Entries)
		}
	})
}

// TestHomeNeverOffersOwnApproval: an approver's own draft is not offered to
// them for approval on a route without self-approval, while another
// approver (by group) sees it; where the route allows it, it is offered.
func TestHomeNeverOffersOwnApproval(t *testing.T) {
	for _, engine := range storagetest.Engines(t) {
		for _, self := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/self-approval=%v", engine, self), func(t *testing.T) {
				e := newEnv(t, storagetest.Open(t, engine), func(_ *bot.Settings, routes *[]bot.Route) { (*routes)[0].Policy.AllowSelfApproval = self })
				e.mustProfile(lead, bot.ProfileInput{Name: "Lea Park", Consent: true})
				e.openHome(bob)
				e.openHome(lead)
				it, _ := e.askPricing()
				d, err := e.createDraft(bob, it.ID, "Bob answers himself.")
				if err != nil {
					t.Fatal(err)
				}
				e.settle()
				own := entryOn(homeSection(e.staff.Home(bob.UserID), secApprove), "Bob answers himself")
				switch {
				case own != nil && !self:
					t.Errorf("bob is offered to approve his own draft on a route without self-approval: %+v", own)
				case own == nil && self:
					t.Errorf("bob is not offered his own draft on a route that allows self-approval")
				case self && homeActions(own)[bot.ActApprove] != d.ID:
					t.Errorf("buttons = %v", homeActions(own))
				}
				if other := entryOn(homeSection(e.staff.Home(lead.UserID), secApprove), "Bob answers himself"); other == nil {
					t.Errorf("lea, an approver through her group, does not see bob's draft")
				}
				if !self {
					// What the Home does not offer, the click refuses.
					expectErr(t, e.act(bob, bot.ActApprove, d.ID), bot.ErrSelfApproval)
				}
			})
		}
	}
}

// TestRateLimitedHomesWait: a 429 on a Home holds the Homes for its
// Retry-After, not the cards.
func TestRateLimitedHomesWait(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.worker.MaxSlotWait = 0
		it, _ := e.askPricing()
		e.staff.FailNext(mock.Failure{Kind: bot.OpPublishHome, Err: bot.RetryAfter(30*time.Second, fmt.Errorf("ratelimited"))})
		for _, a := range []bot.Actor{alice, bob} {
			if err := e.svc.HomeOpened(e.ctx, a); err != nil {
				t.Fatal(err)
			}
			e.drain()
		}
		if err := e.act(carol, bot.ActClaim, it.ID); err != nil {
			t.Fatal(err)
		}
		e.drain()
		if got := e.staff.Sends(bot.OpPublishHome); got != 1 {
			t.Errorf("%d Homes published during the 429's wait, want only the refused one", got)
		}
		if got := e.staff.Sends(bot.OpUpdateCard); got != 1 {
			t.Errorf("%d card updates during the Homes' wait, want the claim's", got)
		}
		e.clock.Advance(30 * time.Second)
		e.drain()
		if e.staff.Home(alice.UserID) == nil || e.staff.Home(bob.UserID) == nil {
			t.Error("the Homes were not published after the wait")
		}
	})
}

// TestHomeRefreshesCoalesce: a burst of changes to what a Home shows makes
// one publication of it.
func TestHomeRefreshesCoalesce(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		it, _ := e.askPricing()
		e.openHome(alice)
		e.openHome(bob)
		before := e.staff.Sends(bot.OpPublishHome)
		for range 3 {
			if err := e.act(alice, bot.ActClaim, it.ID); err != nil {
				t.Fatal(err)
			}
			if err := e.act(alice, bot.ActUnclaim, it.ID); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.act(alice, bot.ActClaim, it.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.createDraft(alice, it.ID, "A reply in a burst."); err != nil {
			t.Fatal(err)
		}
		e.mustProfile(alice, bot.ProfileInput{Name: "Alice Martin", Title: "Product Lead", Consent: true})
		e.settle()
		// One for alice, one for bob, the approver the draft waits for.
		if n := e.staff.Sends(bot.OpPublishHome) - before; n != 2 {
			t.Errorf("%d publications of Homes after the burst, want 2 (one each)", n)
		}
		h := e.staff.Home(alice.UserID)
		if p := homeSection(h, secProfile); p == nil || !slices.Contains(p.Entries[0].Lines, "Product Lead") {
			t.Errorf("alice's Home does not show her new title: %+v", p)
		}
		if entryOn(homeSection(h, secAssigned), "#1 ") == nil || entryOn(homeSection(h, secDrafts), "A reply in a burst") == nil {
			t.Errorf("alice's Home after the burst = %+v", h)
		}
		// Nothing changes, nothing is published.
		e.settle()
		if n := e.staff.Sends(bot.OpPublishHome) - before; n != 2 {
			t.Errorf("%d publications after a quiet moment, want still 2", n)
		}
	})
}

// TestHomeOnlyWhereThereIsOne: Discord has no Home. Opening one there is
// refused and nothing is enqueued; a change concerning someone who never
// opened their Home publishes nothing.
func TestHomeOnlyWhereThereIsOne(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		jobs := func() int64 {
			n, err := db.RowCount(e.ctx, "outbox")
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		n := jobs()
		err := e.svc.HomeOpened(e.ctx, bot.Actor{Conn: publicConn, UserID: member})
		if bot.ErrorCode(err) != bot.EINVALID {
			t.Errorf("HomeOpened on a Discord connection = %v, want EINVALID", err)
		}
		if err := e.svc.HomeOpened(e.ctx, bot.Actor{Conn: staffConn}); bot.ErrorCode(err) != bot.EINVALID {
			t.Errorf("HomeOpened without a user = %v, want EINVALID", err)
		}
		if got := jobs(); got != n {
			t.Errorf("refused openings enqueued %d jobs", got-n)
		}
		if v, _ := db.RowCount(e.ctx, "home_viewers"); v != 0 {
			t.Errorf("refused openings recorded %d viewers", v)
		}

		it, _ := e.askPricing()
		if err := e.act(alice, bot.ActClaim, it.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.createDraft(alice, it.ID, "Nobody looks at their Home."); err != nil {
			t.Fatal(err)
		}
		e.settle()
		if n := e.staff.Sends(bot.OpPublishHome) + e.pub.Sends(bot.OpPublishHome); n != 0 {
			t.Errorf("%d Homes published though nobody opened theirs", n)
		}
	})
}

// TestHomeProfileButton: the Edit button of the profile opens the profile
// form, as the command does; other commands are still no buttons.
func TestHomeProfileButton(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		h := e.openHome(alice)
		edit := homeSection(h, secProfile).Entries[0].Actions[0]
		r := e.svc.Interact(e.ctx, bot.Request{Kind: bot.Click, Actor: alice, Action: edit.Action, Target: edit.Target})
		if r.Form == nil || r.Form.Action != bot.ActProfile || r.Refused {
			t.Fatalf("clicking %q = %+v, want the profile form", edit.Label, r)
		}
		if r := e.svc.Interact(e.ctx, bot.Request{Kind: bot.Click, Actor: alice, Action: bot.ActForget}); !r.Refused {
			t.Errorf("a click on a command without a button ran: %+v", r)
		}
	})
}

// TestHomeDashboardLink: the Home links to the dashboard when its address
// is configured, never otherwise.
func TestHomeDashboardLink(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		if homeSection(e.openHome(alice), "Dashboard") != nil {
			t.Error("a dashboard link without a dashboard address")
		}
		e.svc.Settings.DashboardURL = "https://liaison.example.com/dashboard"
		sec := homeSection(e.openHome(bob), "Dashboard")
		if sec == nil || len(sec.Entries) != 1 || len(sec.Entries[0].Links) != 1 || sec.Entries[0].Links[0].URL != "https://liaison.example.com/dashboard" {
			t.Errorf("dashboard section = %+v", sec)
		}
	})
}

// TestHomeStaleButtonWithoutTheRight: an approver by group sees a draft on
// their Home; once out of the group, the button their Home still shows is
// refused politely and changes nothing: the click is checked with who they
// are now, not with what the Home showed.
func TestHomeStaleButtonWithoutTheRight(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.mustProfile(lead, bot.ProfileInput{Name: "Lea Park", Consent: true})
		e.openHome(lead)
		it, _ := e.askPricing()
		d, err := e.createDraft(alice, it.ID, "Per seat.")
		if err != nil {
			t.Fatal(err)
		}
		e.settle()
		shown := entryOn(homeSection(e.staff.Home(lead.UserID), secApprove), "Per seat.")
		if shown == nil {
			t.Fatal("lea's Home does not show the draft")
		}
		outOfGroup := lead
		outOfGroup.Groups = nil
		expectErr(t, e.act(outOfGroup, bot.ActApprove, homeActions(shown)[bot.ActApprove]), bot.ErrNotApprover)
		e.drain()
		if got := e.draft(d.ID); got.State != bot.DraftPending || got.ApproverID != 0 {
			t.Errorf("the refused click changed the draft: %+v", got)
		}
		if n := len(e.publicPosts(helpChan)); n != 0 {
			t.Errorf("%d public posts after a refused click", n)
		}
	})
}

// TestHomeDropsUnclaimedItem: an item its assignee lets go leaves their
// Home, though nobody holds it any more to refresh it for.
func TestHomeDropsUnclaimedItem(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		it, _ := e.askPricing()
		if err := e.act(alice, bot.ActClaim, it.ID); err != nil {
			t.Fatal(err)
		}
		if entryOn(homeSection(e.openHome(alice), secAssigned), "#1 ") == nil {
			t.Fatal("alice's Home does not list the item she claimed")
		}
		if err := e.act(alice, bot.ActUnclaim, it.ID); err != nil {
			t.Fatal(err)
		}
		e.settle()
		if sec := homeSection(e.staff.Home(alice.UserID), secAssigned); sec == nil || len(sec.Entries) != 0 {
			t.Errorf("the item alice let go is still on her Home: %+v", sec)
		}
	})
}
