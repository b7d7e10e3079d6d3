package bot_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/bot/mock"
	"github.com/liaison-bot/liaison/storage"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

func (e *env) seed(seeds ...bot.ProfileSeed) bot.SeedReport {
	e.t.Helper()
	r, err := e.svc.SeedProfiles(e.ctx, seeds)
	if err != nil {
		e.t.Fatalf("seed: %v", err)
	}
	return r
}

// profileOf returns a's profile, or nil when they have none.
func (e *env) profileOf(a bot.Actor) *bot.Profile {
	e.t.Helper()
	var p *bot.Profile
	err := e.db.View(e.ctx, func(tx bot.Tx) (err error) {
		p, err = tx.ProfileByIdentity(e.ctx, a.Conn, a.UserID)
		return err
	})
	if errors.Is(err, bot.ErrNotFound) {
		return nil
	} else if err != nil {
		e.t.Fatalf("profile of %s: %v", a, err)
	}
	return p
}

func has(lines []string, part string) bool {
	return slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, part) })
}

// TestRestartKeepsDecisions: a restart (seeding the same config again)
// never gives back trust an approver took away or consent the person
// withdrew, and never overwrites what they set themselves; a change of the
// config is applied, and every disagreement is reported.
func TestRestartKeepsDecisions(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		consent := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
		dana := bot.Actor{Conn: staffConn, UserID: "U0DANA", Name: "dana"}
		lea := bot.Actor{Conn: staffConn, UserID: "U0LEA", Name: "lea"}
		config := []bot.ProfileSeed{
			{Name: "Dana Lee", Title: "Support", ConsentedAt: &consent, TrustedOn: []string{"support"}, Identities: []bot.Identity{{Conn: staffConn, UserID: dana.UserID}}},
			{Name: "Lea Park", Title: "Lead", ConsentedAt: &consent, TrustedOn: []string{"support", "product"}, Identities: []bot.Identity{{Conn: staffConn, UserID: lea.UserID}}},
		}
		if r := e.seed(config...); !has(r.Applied, `profile "Dana Lee": created`) || len(r.Kept) != 0 {
			t.Fatalf("first start: %+v", r)
		}
		if p := e.profileOf(dana); !p.Consented() || !slices.Equal(e.trustOf(dana), []string{"support"}) {
			t.Fatalf("Dana after the first start: %+v, trusted on %q", p, e.trustOf(dana))
		}
		// Bob demotes Dana; Dana renames herself and withdraws her consent.
		if r := e.commandIn(supportCh, bob, bot.ActDemote, dana.UserID); r.Refused {
			t.Fatal(r.Text)
		}
		e.mustProfile(dana, bot.ProfileInput{Name: "Dana L.", Title: "Support"})

		// Restart with the same config: nothing of that comes back.
		r := e.seed(config...)
		p := e.profileOf(dana)
		if p.Consented() || p.Name != "Dana L." || len(e.trustOf(dana)) != 0 {
			t.Errorf("a restart reverted Dana's decisions: name %q, consent %v, trusted on %q", p.Name, p.Consented(), e.trustOf(dana))
		}
		for _, want := range []string{"name is \"Dana L.\", set by the person", "withdrew their consent", "an approver took that trust away"} {
			if !has(r.Kept, want) {
				t.Errorf("the report does not say %q: %q", want, r.Kept)
			}
		}
		if len(r.Applied) != 0 {
			t.Errorf("an unchanged config applied %q", r.Applied)
		}
		// The report changes nothing and says the same.
		drift, err := e.svc.ProfileDrift(e.ctx, config)
		if err != nil || !slices.Equal(drift.Kept, r.Kept) {
			t.Errorf("drift = %+v, %v; want the start's %q", drift, err, r.Kept)
		}

		// The admin changes Lea's title and takes her off the product
		// route: both are applied, and logged in the audit.
		config[1].Title, config[1].TrustedOn = "Support Lead", []string{"support"}
		r = e.seed(config...)
		if !has(r.Applied, `title changed from "Lead" to "Support Lead"`) || !has(r.Applied, "no longer trusted on route product") {
			t.Errorf("config changes not applied: %+v", r)
		}
		if p := e.profileOf(lea); p.Title != "Support Lead" || !slices.Equal(e.trustOf(lea), []string{"support"}) {
			t.Errorf("Lea = %q, trusted on %q", p.Title, e.trustOf(lea))
		}
		var audit []*bot.AuditEvent
		leaID := e.profileOf(lea).ID
		if err := db.View(e.ctx, func(tx bot.Tx) (err error) {
			audit, err = tx.AuditFor(e.ctx, "profile:"+itoa(leaID))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(audit, func(a *bot.AuditEvent) bool {
			return a.Action == "profile.seed" && a.Actor == "config" && strings.Contains(a.After, "Support Lead")
		}) {
			t.Errorf("the config change is not audited: %+v", audit)
		}
		// A route added to trusted_on is a change too.
		config[0].TrustedOn = []string{"support", "product"}
		e.seed(config...)
		if got := e.trustOf(dana); !slices.Equal(got, []string{"product"}) {
			t.Errorf("Dana trusted on %q, want product only (support was taken away)", got)
		}
	})
}

// TestSeedIdentityConflict: the config links two accounts that already
// have separate profiles. Liaison starts, keeps both usable, and tells the
// admin channel once what to do.
func TestSeedIdentityConflict(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		other := bot.Actor{Conn: "community", UserID: "U0ALICE2", Name: "alice2"}
		e.mustProfile(other, bot.ProfileInput{Name: "Alice (community)", Consent: true})
		seed := bot.ProfileSeed{Name: "Alice Martin", Identities: []bot.Identity{{Conn: staffConn, UserID: alice.UserID}, {Conn: "community", UserID: other.UserID}}}
		r := e.seed(seed)
		if len(r.Conflicts) != 1 || !strings.Contains(r.Conflicts[0], "separate profiles") || !strings.Contains(r.Conflicts[0], "split this entry") {
			t.Fatalf("report = %+v", r)
		}
		a, o := e.profileOf(alice), e.profileOf(other)
		if a.ID == o.ID || a.Name != "Alice Martin" || o.Name != "Alice (community)" || len(a.Identities) != 1 || len(o.Identities) != 1 {
			t.Errorf("profiles changed: %+v / %+v", a, o)
		}
		// Both still work: Alice drafts as before.
		it, _ := e.askPricing()
		if _, err := e.createDraft(alice, it.ID, "Still me."); err != nil {
			t.Fatal(err)
		}
		e.seed(seed) // a second start says it again in the log, not in the channel
		e.drain()
		var notes int
		for _, p := range e.staff.Posts(adminCh) {
			if strings.Contains(p.Text, "separate profiles") {
				notes++
			}
		}
		if notes != 1 {
			t.Errorf("the admin channel was told %d times, want once", notes)
		}
	})
}

// TestCardThreadIsPerChannel: a thread timestamp is unique per channel
// only; a reply-prefixed message in another channel's thread with the same
// id drafts nothing on the item.
func TestCardThreadIsPerChannel(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		it, card := e.askPricing() // its card is in productCh
		in := bot.Incoming{Conn: staffConn, Channel: supportCh, ID: "1.5", ThreadID: card.ID, AuthorID: alice.UserID, AuthorName: "alice", Text: "!reply wrong thread"}
		// No card there is known: it waits for one, in that channel only.
		if got, err := e.svc.Receive(e.ctx, in); err != nil || got != bot.IntakeParked {
			t.Fatalf("a message in %s's thread %s = %q, %v; want parked (no item there yet)", supportCh, card.ID, got, err)
		}
		if err := e.svc.ReplayParked(e.ctx); err != nil {
			t.Fatal(err)
		}
		if ds := e.drafts(it.ID); len(ds) != 0 {
			t.Fatalf("a message in another channel drafted on item %d: %+v", it.ID, ds)
		}
		if got := e.threadMessage(alice, card.ID, "1.6", "!reply right thread"); got != bot.IntakeDraft {
			t.Fatalf("the card's own thread: %q", got)
		}
	})
}

// TestRespondersOnly: a route that names its responders lets nobody else
// act on its items, by button or in the thread; refusals change nothing.
func TestRespondersOnly(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db, func(_ *bot.Settings, routes *[]bot.Route) {
			(*routes)[0].Policy.Responders = []string{"U0ALICE", "S0TEAM"}
		})
		it, card := e.askPricing()
		member := bot.Actor{Conn: staffConn, UserID: "U0MEMBER", Name: "mia"}
		teammate := bot.Actor{Conn: staffConn, UserID: "U0TEAM", Name: "tim", Groups: []string{"S0TEAM"}}
		jobs, audits := e.counts()
		wantRefused(t, e.click(member, bot.ActClaim, it.ID), bot.ErrNotResponder)
		wantRefused(t, e.click(member, bot.ActReply, it.ID), bot.ErrNotResponder)
		wantRefused(t, e.click(carol, bot.ActTag, it.ID), bot.ErrNotResponder)
		if j, a := e.counts(); j != jobs || a != audits {
			t.Errorf("refusals changed something: jobs %d→%d, audit %d→%d", jobs, j, audits, a)
		}
		// In the thread, the refusal is told privately, once.
		if got := e.threadMessage(member, card.ID, "2.1", "!reply I answer for the company"); got != bot.IntakeRefused {
			t.Fatalf("a member's !reply: %q", got)
		}
		e.drain()
		if ds := e.drafts(it.ID); len(ds) != 0 {
			t.Fatalf("a member drafted: %+v", ds)
		}
		if !slices.ContainsFunc(e.staff.Posts(productCh), func(p mock.Post) bool {
			return p.ToUser == member.UserID && p.Text == bot.ErrNotResponder.Message
		}) {
			t.Error("the member was not told why")
		}
		// The named responders, by id or group, and the approvers act.
		for _, a := range []bot.Actor{alice, teammate, lead} {
			if err := e.act(a, bot.ActClaim, it.ID); err != nil {
				t.Errorf("%s may not claim: %v", a.Name, err)
			}
			if err := e.act(a, bot.ActUnclaim, it.ID); err != nil {
				t.Errorf("%s may not unclaim: %v", a.Name, err)
			}
		}
	})
}
