package bot_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/storage"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// The menu commands: Send to team on a message, Member history on a
// person, for staff only.

const (
	offTopic = "100000000000000099" // a public channel Liaison does not watch
	alicePub = "222222222222222222" // Alice's own account on the community server
	bobPub   = "333333333333333333" // Bob's
)

var (
	alicePublic = bot.Actor{Conn: publicConn, UserID: alicePub, Name: "alice"}
	bobPublic   = bot.Actor{Conn: publicConn, UserID: bobPub, Name: "bob"}
	stranger    = bot.Actor{Conn: publicConn, UserID: "444444444444444444", Name: "sly"}
)

// linkPublic links staff members' community accounts to their profiles,
// as the config's profiles do.
func (e *env) linkPublic() {
	e.t.Helper()
	_, err := e.svc.SeedProfiles(e.ctx, []bot.ProfileSeed{
		{Name: "Alice Martin", Identities: []bot.Identity{{Conn: staffConn, UserID: alice.UserID}, {Conn: publicConn, UserID: alicePub}}},
		{Name: "Bob Stone", Identities: []bot.Identity{{Conn: staffConn, UserID: bob.UserID}, {Conn: publicConn, UserID: bobPub}}},
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// menu runs a menu command on a message.
func (e *env) menu(a bot.Actor, action bot.ActionID, in *bot.Incoming) bot.Reply {
	return e.svc.Interact(e.ctx, bot.Request{Kind: bot.FromMenu, Actor: a, Action: action, Message: in})
}

// history runs Member history on a person.
func (e *env) history(a bot.Actor, user string) bot.Reply {
	return e.svc.Interact(e.ctx, bot.Request{Kind: bot.FromMenu, Actor: a, Action: bot.ActMemberHistory, User: user})
}

// sendTo submits Send to team's form for in, with route.
func (e *env) sendTo(a bot.Actor, in *bot.Incoming, route string) bot.Reply {
	return e.svc.Interact(e.ctx, bot.Request{Kind: bot.Submit, Actor: a, Action: bot.ActSendToTeam, Message: in,
		Values: map[string]string{bot.FieldRouteID: route}})
}

// stored counts what a refusal must leave alone.
func (e *env) stored() string {
	e.t.Helper()
	var b strings.Builder
	for _, table := range []string{"items", "messages", "outbox", "audit_events", "notices", "profiles"} {
		n, err := e.db.RowCount(e.ctx, table)
		if err != nil {
			e.t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s=%d ", table, n)
	}
	return b.String()
}

func (e *env) auditActions(subject string) []string {
	e.t.Helper()
	var evs []*bot.AuditEvent
	if err := e.db.View(e.ctx, func(tx bot.Tx) (err error) {
		evs, err = tx.AuditFor(e.ctx, subject)
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Actor+" "+ev.Action)
	}
	return out
}

// TestMenuStaff: who is staff where they run a menu command.
func TestMenuStaff(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db, func(_ *bot.Settings, routes *[]bot.Route) {
			(*routes)[1].Policy.Responders = []string{carol.UserID}
		})
		e.linkPublic()
		ownProfile := bot.Actor{Conn: publicConn, UserID: "555555555555555551", Name: "pat"}
		if err := e.saveProfile(ownProfile, bot.ProfileInput{Name: "Pat", Consent: true}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			who   string
			actor bot.Actor
			staff bool
		}{
			{"an approver named by id, where the cards go", bob, true},
			{"an approver by a group they hold", lead, true},
			{"a responder named by id", carol, true},
			{"a staff member's id on another connection", bot.Actor{Conn: publicConn, UserID: bob.UserID}, false},
			{"someone with a profile, named nowhere", alice, false},
			{"a community account the config links to a staff profile", alicePublic, true},
			{"a community member with a profile of their own", ownProfile, false},
			{"a community member", bot.Actor{Conn: publicConn, UserID: member, Name: "mia"}, false},
			{"a group held on another connection", bot.Actor{Conn: publicConn, UserID: "666666666666666661", Groups: []string{"S0LEADS"}}, false},
		} {
			r := e.history(c.actor, member)
			if got := !r.Refused; got != c.staff {
				t.Errorf("%s: staff = %v, want %v (%q)", c.who, got, c.staff, r.Text)
			}
			if !c.staff {
				wantRefused(t, r, bot.ErrStaffOnly)
			}
		}
	})
}

func TestSendToTeam(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.linkPublic()
		in := e.post(offTopic, "@everyone how do I export my data? <@&555555555555555555>")
		before := e.stored()

		r := e.menu(alicePublic, bot.ActSendToTeam, &in)
		if r.Refused || r.Form == nil {
			t.Fatalf("Send to team answered %+v, want the route form", r)
		}
		f := r.Form
		if f.Action != bot.ActSendToTeam || len(f.Fields) != 1 || !strings.Contains(f.Intro, "Mia") {
			t.Fatalf("form = %+v", f)
		}
		route := f.Fields[0]
		if route.ID != bot.FieldRouteID || route.Kind != bot.FieldChoice || !route.Required || route.Initial != "support" ||
			!slices.Equal(route.Options, []bot.Option{{Value: "product", Label: "product"}, {Value: "support", Label: "support (default)"}}) {
			t.Fatalf("route field = %+v", route)
		}
		if after := e.stored(); after != before {
			t.Fatalf("opening the form changed the store:\n%s\n→\n%s", before, after)
		}

		r = e.sendTo(alicePublic, &in, "product")
		if r.Refused || !strings.Contains(r.Text, "Sent to the team: item #1, on route product.") ||
			!strings.Contains(r.Text, "Mia was not notified") || !strings.Contains(r.Text, "not followed") {
			t.Fatalf("submission answered %+v", r)
		}
		e.drain()
		card, it := e.card(productCh)
		if it.Route != "product" || it.AuthorID != member || it.Channel != offTopic || it.Link != in.Link ||
			!strings.Contains(card.Card.Text, "how do I export my data") || bot.HasPing(card.Card.Text) {
			t.Fatalf("item %+v, card %+v", it, card.Card)
		}
		if len(e.staff.Posts(supportCh)) != 0 || len(e.pub.Posts(offTopic)) != 0 || len(e.pub.Posts(helpChan)) != 0 {
			t.Fatal("something was posted besides the card")
		}
		for _, p := range e.staff.Posts(productCh) {
			if p.ToUser != "" {
				t.Fatalf("someone was notified: %+v", p)
			}
		}
		if got := e.auditActions(fmt.Sprintf("item:%d", it.ID)); !slices.Equal(got, []string{"community:" + alicePub + " item.bring_in"}) {
			t.Fatalf("audit = %q", got)
		}

		// Again, on the menu or through a stale form: the item it is.
		before = e.stored()
		for _, r := range []bot.Reply{e.menu(bobPublic, bot.ActSendToTeam, &in), e.sendTo(bobPublic, &in, "support")} {
			if r.Refused || r.Form != nil || r.Text != "This message is already item #1, on route product: nothing changed." ||
				len(r.Links) != 1 || r.Links[0].URL != e.item(it.ID).CardLink || r.Links[0].URL == "" {
				t.Fatalf("again: %+v", r)
			}
		}
		if after := e.stored(); after != before {
			t.Fatalf("bringing it in again changed the store:\n%s\n→\n%s", before, after)
		}
	})
}

// TestSendToTeamDedup: what intake took in, or would join to an item, is
// that item's already; a message intake stored without a route gets one.
func TestSendToTeamDedup(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db, withoutDefaultRoute)
		e.linkPublic()
		in := e.post(helpChan, "what is the pricing for teams?")
		e.receive(in, bot.IntakeNew)
		e.drain()
		_, it := e.card(productCh)
		fu := e.post(helpChan, "and for nonprofits?")
		fu.ReplyTo = in.ID
		e.receive(fu, bot.IntakeFollowUp)
		inThread := e.post(in.ID, "me too") // in the thread started from the question
		inThread.ParentChannel, inThread.ThreadID = helpChan, in.ID

		before := e.stored()
		for _, c := range []struct {
			name string
			in   bot.Incoming
			want string
		}{
			{"the question", in, "This message is already item #1, on route product: nothing changed."},
			{"a follow-up", fu, "This message is already part of item #1, on route product, as a follow-up: nothing changed."},
			{"a reply in its thread", inThread, "This message is already part of item #1, on route product, as a follow-up: nothing changed."},
		} {
			r := e.menu(alicePublic, bot.ActSendToTeam, &c.in)
			if r.Refused || r.Text != c.want || len(r.Links) != 1 || r.Links[0].URL != it.CardLink {
				t.Errorf("%s: %+v", c.name, r)
			}
		}
		if after := e.stored(); after != before {
			t.Fatalf("changed the store:\n%s\n→\n%s", before, after)
		}

		// No route took this one: stored, no item.
		lost := e.post(helpChan, "hello, anyone here?")
		e.receive(lost, bot.IntakeUnrouted)
		if r := e.menu(alicePublic, bot.ActSendToTeam, &lost); r.Form == nil {
			t.Fatalf("an unrouted message: %+v", r)
		}
		r := e.sendTo(alicePublic, &lost, "product")
		if r.Refused || !strings.HasPrefix(r.Text, "Sent to the team: item #2, on route product.") || strings.Contains(r.Text, "not followed") {
			t.Fatalf("unrouted message brought in: %+v", r)
		}
		e.drain()
		got := e.item(2)
		if got.RootMsgID != lost.ID || got.Route != "product" {
			t.Fatalf("item 2 = %+v", got)
		}
		if r := e.sendTo(bobPublic, &lost, "product"); r.Text != "This message is already item #2, on route product: nothing changed." {
			t.Fatalf("again: %+v", r)
		}
	})
}

// TestSendToTeamRace: two staff members bring the same message in at once;
// one item opens, and the second is told it exists.
func TestSendToTeamRace(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.linkPublic()
		for round := range 3 {
			in := e.post(offTopic, fmt.Sprintf("question %d", round))
			var (
				wg      sync.WaitGroup
				replies [2]bot.Reply
			)
			for i, a := range []bot.Actor{alicePublic, bobPublic} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					replies[i] = e.sendTo(a, &in, "support")
				}()
			}
			wg.Wait()
			var sent, already int
			for _, r := range replies {
				switch {
				case strings.HasPrefix(r.Text, "Sent to the team: item #"):
					sent++
				case strings.HasPrefix(r.Text, "This message is already item #"):
					already++
				default:
					t.Fatalf("round %d: %+v", round, r)
				}
			}
			if sent != 1 || already != 1 {
				t.Fatalf("round %d: %d sent, %d told it exists", round, sent, already)
			}
		}
		if n, err := e.db.RowCount(e.ctx, "items"); err != nil || n != 3 {
			t.Fatalf("%d items (%v), want 3", n, err)
		}
	})
}

func TestSendToTeamRefused(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.linkPublic()
		in := e.post(offTopic, "how do I export?")
		app, hook, self, direct := in, in, in, in
		app.Bot, hook.Webhook, self.Self, direct.Direct = true, true, true, true
		internal := bot.Incoming{Conn: staffConn, Channel: "C0RANDOM", ID: "1700000000.000100", AuthorID: carol.UserID, Text: "lunch?"}
		memberActor := bot.Actor{Conn: publicConn, UserID: member, Name: "mia"}
		before := e.stored()
		for _, c := range []struct {
			name string
			req  bot.Request
			want error
		}{
			{"a community member", bot.Request{Kind: bot.FromMenu, Actor: memberActor, Action: bot.ActSendToTeam, Message: &in}, bot.ErrStaffOnly},
			{"a community member's submission", bot.Request{Kind: bot.Submit, Actor: stranger, Action: bot.ActSendToTeam, Message: &in,
				Values: map[string]string{bot.FieldRouteID: "support"}}, bot.ErrStaffOnly},
			{"another app's message", bot.Request{Kind: bot.FromMenu, Actor: alicePublic, Action: bot.ActSendToTeam, Message: &app}, bot.ErrNotMemberMessage},
			{"a webhook's message", bot.Request{Kind: bot.Submit, Actor: alicePublic, Action: bot.ActSendToTeam, Message: &hook,
				Values: map[string]string{bot.FieldRouteID: "support"}}, bot.ErrNotMemberMessage},
			{"Liaison's own message", bot.Request{Kind: bot.FromMenu, Actor: alicePublic, Action: bot.ActSendToTeam, Message: &self}, bot.ErrNotMemberMessage},
			{"a direct message", bot.Request{Kind: bot.FromMenu, Actor: alicePublic, Action: bot.ActSendToTeam, Message: &direct}, bot.ErrDirectMessage},
			{"a direct message's submission", bot.Request{Kind: bot.Submit, Actor: alicePublic, Action: bot.ActSendToTeam, Message: &direct,
				Values: map[string]string{bot.FieldRouteID: "support"}}, bot.ErrDirectMessage},
			{"an internal workspace's message", bot.Request{Kind: bot.FromMenu, Actor: bob, Action: bot.ActSendToTeam, Message: &internal}, bot.ErrNotCommunity},
			{"a message the platform would not give", bot.Request{Kind: bot.FromMenu, Actor: alicePublic, Action: bot.ActSendToTeam}, bot.ErrMessageUnreadable},
			{"a button instead of a menu", bot.Request{Kind: bot.Click, Actor: alicePublic, Action: bot.ActSendToTeam, Target: 1, Message: &in}, bot.ErrUnknownAction},
			{"a menu running a button's action", bot.Request{Kind: bot.FromMenu, Actor: bob, Action: bot.ActClaim, Message: &in}, bot.ErrUnknownAction},
			{"a submission of Member history", bot.Request{Kind: bot.Submit, Actor: bob, Action: bot.ActMemberHistory, User: member}, bot.ErrUnknownAction},
		} {
			wantRefused(t, e.svc.Interact(e.ctx, c.req), c.want)
		}
		for _, route := range []string{"", "gone"} {
			r := e.sendTo(alicePublic, &in, route)
			if !r.Refused || r.Field != bot.FieldRouteID || bot.ErrorCode(r.Err) != bot.EINVALID {
				t.Errorf("route %q: %+v", route, r)
			}
		}
		if r := e.svc.Interact(e.ctx, bot.Request{Kind: bot.Command, Actor: bob, Action: bot.ActSendToTeam}); !r.Refused {
			t.Errorf("/liaison send_to_team: %+v", r)
		}
		if after := e.stored(); after != before {
			t.Fatalf("a refusal changed the store:\n%s\n→\n%s", before, after)
		}
	})
}

func TestMemberHistory(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.linkPublic()
		first, _ := e.askPricing()
		d, err := e.createDraft(alice, first.ID, "It is $5 per seat.")
		if err != nil {
			t.Fatal(err)
		}
		e.mustAct(bob, bot.ActApprove, d.ID)
		answer := e.draft(d.ID)
		if answer.State != bot.DraftPublished || answer.PublicLink == "" {
			t.Fatalf("setup: the answer is %s (%q)", answer.State, answer.PublicLink)
		}
		e.clock.Advance(24 * time.Hour)
		e.receive(e.post(helpChan, "How do I export my data?"), bot.IntakeNew)
		other := e.post(helpChan, "Is there an API?")
		other.AuthorID, other.AuthorName = "777777777777777777", "Olga"
		e.receive(other, bot.IntakeNew)
		e.drain()

		before := e.stored()
		r := e.history(alicePublic, member)
		want := []string{
			"Mia: 2 items here, newest first.",
			"#2 · 26 Nov 2026 · 🆕 New · “How do I export my data?”",
			"#1 · 25 Nov 2026 · ✅ Answered · answered by Alice Martin · “",
		}
		lines := strings.Split(r.Text, "\n")
		if r.Refused || len(lines) != 3 || lines[0] != want[0] || lines[1] != want[1] || !strings.HasPrefix(lines[2], want[2]) ||
			!strings.Contains(lines[2], "pricing for teams") || bot.HasPing(r.Text) {
			t.Fatalf("history:\n%s\nwant:\n%s", r.Text, strings.Join(want, "\n"))
		}
		if !slices.Equal(r.Links, []bot.Link{{Text: "#1: the public answer", URL: answer.PublicLink}}) {
			t.Fatalf("links = %+v", r.Links)
		}
		// The same, run on one of the member's messages (Slack's shortcut).
		msg := e.post(offTopic, "hello?")
		if got := e.menu(alicePublic, bot.ActMemberHistory, &msg); got.Text != r.Text {
			t.Fatalf("on a message:\n%s\nwant:\n%s", got.Text, r.Text)
		}
		if after := e.stored(); after != before {
			t.Fatalf("a private answer changed the store:\n%s\n→\n%s", before, after)
		}

		if r := e.history(alicePublic, "888888888888888888"); r.Refused || r.Text != "Liaison holds no earlier item from <@888888888888888888> here." {
			t.Fatalf("no items: %+v", r)
		}
		app := msg
		app.Bot = true
		wantRefused(t, e.menu(alicePublic, bot.ActMemberHistory, &app), bot.ErrNotMemberMessage)
		wantRefused(t, e.history(stranger, member), bot.ErrStaffOnly)

		// Bounded: the newest eight, and how many more.
		for i := range 10 {
			e.receive(e.post(helpChan, fmt.Sprintf("question %d", i)), bot.IntakeNew)
		}
		lines = strings.Split(e.history(alicePublic, member).Text, "\n")
		if len(lines) != 10 || lines[0] != "Mia: 12 items here, newest first." || !strings.HasPrefix(lines[1], "#13 ") ||
			!strings.HasPrefix(lines[8], "#6 ") || lines[9] != "…and 4 more." {
			t.Fatalf("bounded history:\n%s", strings.Join(lines, "\n"))
		}

		// Forgotten: the items stay, without their words or name.
		if _, err := e.svc.Forget(e.ctx, bob, bot.MemberRef{Conn: publicConn, AuthorID: member}); err != nil {
			t.Fatal(err)
		}
		r = e.history(alicePublic, member)
		lines = strings.Split(r.Text, "\n")
		if len(lines) != 11 || lines[0] != "A community member: 12 items here, newest first." ||
			!strings.HasPrefix(lines[1], "Forgotten at their request on 26 Nov 2026") ||
			strings.Contains(r.Text, "question") || strings.Contains(r.Text, "Mia") || strings.Contains(r.Text, "“") {
			t.Fatalf("forgotten member's history:\n%s", r.Text)
		}
	})
}
