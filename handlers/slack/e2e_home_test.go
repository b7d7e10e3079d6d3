package slack_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
)

// home returns the Home published for a user of the internal workspace.
func (e *env) home(user string) slackfake.Home {
	h, _ := e.staff.Home(user)
	return h
}

// waitHome waits until the Home published for user shows every one of
// wants and none of unwanted, and returns it.
func (e *env) waitHome(user, what string, wants []string, unwanted ...string) slackfake.Home {
	e.t.Helper()
	var h slackfake.Home
	e.wait(e.staff, what, func() bool {
		var ok bool
		if h, ok = e.staff.Home(user); !ok {
			return false
		}
		text := h.Text()
		return !slices.ContainsFunc(wants, func(w string) bool { return !strings.Contains(text, w) }) &&
			!slices.ContainsFunc(unwanted, func(w string) bool { return strings.Contains(text, w) })
	})
	return h
}

// homeButtons lists the buttons of a Home: action_id → the values they carry.
func homeButtons(h slackfake.Home) map[string][]string {
	out := map[string][]string{}
	for _, b := range buttonObjects(slackfake.Message{Blocks: h.Blocks}) {
		id, _ := b["action_id"].(string)
		v, _ := b["value"].(string)
		out[id] = append(out[id], v)
	}
	return out
}

// waitAnswer waits for the small window that answers a click on the Home.
func (e *env) waitAnswer(user, want string) {
	e.t.Helper()
	e.wait(e.staff, fmt.Sprintf("a window telling %s %q", user, want), func() bool {
		vs := e.staff.Views(user)
		return len(vs) == 1 && vs[0].Title == bot.HomeReplyTitle && strings.Contains(string(vs[0].JSON), want)
	})
}

// TestHome: staff open the app's Home and see what waits for them; an
// approver approves from it, the reply is published once, and the Homes
// concerned follow; the profile's Edit opens its form, whose answer shows
// in its place; a click on a stale Home is refused politely and changes
// nothing; a burst of changes makes few publications.
func TestHome(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := newEnv(t, engine)

		check(t, e.staff.OpenHome(bob))
		e.waitHome(bob, "bob's Home", []string{"Waiting for your approval", "No draft waits for your approval.", "Bob Stone", "Edit profile"})
		check(t, e.staff.OpenHome(alice))
		e.waitHome(alice, "alice's Home", []string{"Assigned to you", "Your drafts", "Alice Martin"}, "Waiting for your approval")
		check(t, e.staff.OpenHome(lead))
		e.waitHome(lead, "lea's Home, an approver by her group", []string{"Waiting for your approval"})
		// The messages tab is not the Home: nothing is published for it.
		check(t, e.staff.OpenAppHome(carol, "messages"))
		e.wait(e.staff, "the messages tab's event acknowledged", func() bool {
			return slices.ContainsFunc(e.staff.Deliveries(), func(d slackfake.Delivery) bool {
				return d.Acked && strings.Contains(string(d.Payload), `"tab":"messages"`)
			})
		})
		time.Sleep(300 * time.Millisecond) // a publication on its way
		if _, ok := e.staff.Home(carol); ok {
			t.Error("opening the messages tab published a Home")
		}
		check(t, e.staff.OpenHome(carol))
		e.waitHome(carol, "carol's Home", []string{"Set up your profile"})

		root, card := e.ask(1, "Can I pay yearly?")
		e.ts(e.staff.Reply(alice, productCh, card.TS, "!reply Yes: Settings → Billing → Yearly."))
		dc := e.waitDraftCard(card.TS, "Settings → Billing → Yearly.")
		draftID := idOf(t, dc, actApprove)
		hb := e.waitHome(bob, "the draft on bob's Home", []string{"Draft #1 · public reply (v1)", "By Alice Martin", "Settings → Billing → Yearly."})
		id := fmt.Sprint(draftID)
		for _, a := range []string{actApprove, actEditApprove, actReject} {
			if got := homeButtons(hb)[a]; !slices.Equal(got, []string{id}) {
				t.Errorf("bob's Home offers %s on %v, want on draft %s", a, got, id)
			}
		}
		e.waitHome(alice, "alice's draft on her Home", []string{"⏳ Waiting for an approver", "#1 · community #help"})

		// Bob approves on his Home: the answer shows in a window, the reply
		// goes out once, the Homes follow.
		check(t, e.staff.ClickHome(bob, actApprove, id))
		e.waitAnswer(bob, "Draft #1 is approved: Liaison is publishing it.")
		e.waitPublicReply(root)
		e.waitHome(bob, "the draft gone from bob's Home", []string{"No draft waits for your approval."}, "Draft #1")
		ha := e.waitHome(alice, "alice's published draft", []string{"✅ Published", "View the public post"})
		if len(homeButtons(ha)[actWithdraw]) != 0 {
			t.Error("a published draft can still be withdrawn from the Home")
		}
		if d := e.draft(draftID); d.State != bot.DraftPublished || d.ApproverID == 0 {
			t.Errorf("draft after the Home's Approve = %+v", d)
		}

		t.Run("EditProfile", func(t *testing.T) {
			check(t, e.staff.ClickHome(alice, actionPrefix+string(bot.ActProfile), "0"))
			v := e.openView(alice, cbProfile)
			if !strings.Contains(string(v.JSON), `"initial_value":"Alice Martin"`) {
				t.Errorf("the profile form is not filled in: %s", v.JSON)
			}
			check(t, e.staff.SubmitView(alice, v.ID, map[string]map[string]string{
				blockName: text("Alice Martin"), blockTitle: text("Head of Billing"), blockConsent: {inputAction: "yes"},
			}))
			// The form, opened from the Home, is replaced by the answer.
			e.waitAnswer(alice, "Profile saved: your public replies will be signed")
			e.waitHome(alice, "the new title on alice's Home", []string{"Head of Billing"})
		})

		t.Run("StaleClickRefused", func(t *testing.T) {
			root2, card2 := e.ask(2, "And monthly?")
			e.ts(e.staff.Reply(alice, productCh, card2.TS, "!reply Monthly too."))
			second := idOf(t, e.waitDraftCard(card2.TS, "Monthly too."), actApprove)
			stale := e.waitHome(bob, "the second draft on bob's Home", []string{"Monthly too."})
			e.waitHome(lead, "the second draft on lea's Home", []string{"Monthly too."})
			check(t, e.staff.ClickHome(lead, actApprove, fmt.Sprint(second)))
			e.waitPublicReply(root2)
			e.waitStore("the second draft published", func() bool { return e.draft(second).State == bot.DraftPublished })
			// Bob's client still shows the draft: he clicks Approve there.
			check(t, e.staff.ClickHomeAsShown(bob, stale, actApprove, fmt.Sprint(second)))
			e.waitAnswer(bob, bot.ErrAlreadyPublished.Message)
			time.Sleep(200 * time.Millisecond) // anything else on its way
			if n := len(e.publicReplies(root2)); n != 1 {
				t.Errorf("%d public replies after the stale click, want 1", n)
			}
			if d := e.draft(second); d.State != bot.DraftPublished || d.ApproverID != e.profile(lead).ID {
				t.Errorf("the stale click changed the draft: %+v", d)
			}
		})

		t.Run("BurstCoalesced", func(t *testing.T) {
			_, card3 := e.ask(3, "Is there a discount?")
			e.waitHome(alice, "alice's Home settled", []string{"Head of Billing"})
			time.Sleep(1500 * time.Millisecond) // every earlier refresh has gone out
			before := e.home(alice).Publishes
			// A burst of changes to what her Home shows, as fast as the
			// domain takes them.
			itemID := idOf(t, card3, actClaim)
			actor := bot.Actor{Conn: "internal", UserID: alice, Name: "Alice Martin"}
			const changes = 7
			for i := range changes {
				action := bot.ActClaim
				if i%2 == 1 {
					action = bot.ActUnclaim
				}
				r := e.liaison.Service.Interact(e.ctx, bot.Request{Kind: bot.Click, Actor: actor, Action: action, Target: itemID})
				if r.Refused {
					t.Fatalf("%s: %s", action, r.Text)
				}
			}
			e.waitHome(alice, "the claimed item on alice's Home", []string{"#3 · community #help", "Is there a discount?"})
			time.Sleep(1500 * time.Millisecond)
			// One a second at most (homeSettle): one or two when the burst
			// is quick, never one a change.
			if n := e.home(alice).Publishes - before; n < 1 || n > 3 {
				t.Errorf("%d publications of alice's Home for %d changes, want them coalesced into a few", n, changes)
			}
		})
	})
}

// TestHomeHTTPMode: in HTTP mode too, opening the Home publishes it and its
// buttons work.
func TestHomeHTTPMode(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := newEnv(t, engine, func(c *envConfig) { c.httpMode = true })
		check(t, e.staff.OpenHome(alice))
		e.waitHome(alice, "alice's Home", []string{"Alice Martin", "Edit profile"})
		check(t, e.staff.ClickHome(alice, actionPrefix+string(bot.ActProfile), ""))
		e.openView(alice, cbProfile)
	})
}
