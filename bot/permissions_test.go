package bot_test

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/bot/mock"
	"github.com/liaison-bot/liaison/storage"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// The permission matrix of docs/permissions.md, read from the document and
// checked cell by cell against the service.

const staffGroup = "S0STAFF"

// The people of the matrix, by the document's column names.
var matrixPeople = map[string]bot.Actor{
	"community member":                   {Conn: staffConn, UserID: "U0MEMBER", Name: "mia"},
	"staff without a profile":            {Conn: staffConn, UserID: "U0NEW", Name: "nora", Groups: []string{staffGroup}},
	"responder":                          {Conn: staffConn, UserID: "U0RESP", Name: "rita", Groups: []string{staffGroup}},
	"responder trusted on this route":    {Conn: staffConn, UserID: "U0TRUST", Name: "tom", Groups: []string{staffGroup}},
	"responder trusted on another route": {Conn: staffConn, UserID: "U0TRUSTX", Name: "xavi", Groups: []string{staffGroup}},
	"approver of this route":             {Conn: staffConn, UserID: "U0APPROVER", Name: "ada", Groups: []string{staffGroup}},
	"approver of another route":          {Conn: staffConn, UserID: "U0OTHER", Name: "otto", Groups: []string{staffGroup}},
	"the signer":                         {Conn: staffConn, UserID: "U0SIGNER", Name: "sam", Groups: []string{staffGroup}},
	"the drafter":                        {Conn: staffConn, UserID: "U0DRAFTER", Name: "dina", Groups: []string{staffGroup}},
}

var (
	approver2 = bot.Actor{Conn: staffConn, UserID: "U0APPROVER2", Name: "abe", Groups: []string{staffGroup}}
	target    = bot.Actor{Conn: staffConn, UserID: "U0TARGET", Name: "tess", Groups: []string{staffGroup}}
)

// readMatrix returns the document's table: rows of cells by column name.
func readMatrix(t *testing.T) (rows []string, cells map[string]map[string]string) {
	t.Helper()
	doc, err := os.ReadFile("../docs/permissions.md")
	if err != nil {
		t.Fatal(err)
	}
	split := func(line string) []string {
		var out []string
		for _, c := range strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|") {
			out = append(out, strings.TrimSpace(c))
		}
		return out
	}
	var header []string
	cells = map[string]map[string]string{}
	for _, line := range strings.Split(string(doc), "\n") {
		switch {
		case strings.HasPrefix(line, "| Action |"):
			header = split(line)
		case header != nil && strings.HasPrefix(line, "|---"):
		case header != nil && strings.HasPrefix(line, "| "):
			c := split(line)
			if len(c) != len(header) {
				t.Fatalf("row %q has %d cells, want %d", c[0], len(c), len(header))
			}
			rows = append(rows, c[0])
			cells[c[0]] = map[string]string{}
			for i, h := range header[1:] {
				cells[c[0]][h] = c[i+1]
			}
		case header != nil:
			header = nil // the table ended
		}
	}
	if len(rows) == 0 {
		t.Fatal("docs/permissions.md has no action table")
	}
	for _, h := range slices.Sorted(maps.Keys(cells[rows[0]])) {
		if _, ok := matrixPeople[h]; !ok {
			t.Fatalf("the table has a column %q this test does not know", h)
		}
	}
	if len(cells[rows[0]]) != len(matrixPeople) {
		t.Fatalf("the table has %d people, the test %d", len(cells[rows[0]]), len(matrixPeople))
	}
	return rows, cells
}

// matrixEnv is this route ("help", trusted-auto, the default) and another
// route ("billing"), both naming their responders.
func matrixEnv(t *testing.T, db *storage.DB, kind string) *env {
	e := newEnv(t, db, func(_ *bot.Settings, routes *[]bot.Route) {
		*routes = []bot.Route{
			{Name: "billing", Keywords: []string{"invoice"}, DestConn: staffConn, DestChannel: productCh,
				Policy: bot.Policy{Mode: bot.ApprovalTrustedAuto, Approvers: []string{"U0OTHER"}, Responders: []string{staffGroup}}},
			{Name: "help", Default: true, DestConn: staffConn, DestChannel: supportCh,
				Policy: bot.Policy{Mode: bot.ApprovalTrustedAuto, Approvers: []string{"U0APPROVER", "U0APPROVER2"}, Responders: []string{staffGroup}}},
		}
	})
	if kind != bot.KindSlack {
		e.staff = mock.New(kind, false)
		e.svc.Platforms[staffConn] = e.staff
	}
	for name, a := range matrixPeople {
		if name != "community member" && name != "staff without a profile" {
			e.mustProfile(a, bot.ProfileInput{Name: strings.ToUpper(a.Name[:1]) + a.Name[1:] + " Person", Consent: true})
		}
	}
	e.mustProfile(approver2, bot.ProfileInput{Name: "Abe Person", Consent: true})
	e.mustProfile(target, bot.ProfileInput{Name: "Tess Person", Consent: true})
	if r := e.commandIn(supportCh, approver2, bot.ActPromote, "U0TRUST"); r.Refused {
		t.Fatalf("setup: %s", r.Text)
	}
	if r := e.commandIn(productCh, matrixPeople["approver of another route"], bot.ActPromote, "U0TRUSTX"); r.Refused {
		t.Fatalf("setup: %s", r.Text)
	}
	e.drain()
	return e
}

// fixture is what an action acts on.
type fixture struct {
	item  int64
	draft int64 // the draft the action is about; 0 for item actions
}

func (e *env) mustAct(a bot.Actor, action bot.ActionID, target int64) {
	e.t.Helper()
	if err := e.act(a, action, target); err != nil {
		e.t.Fatalf("setup: %s by %s: %v", action, a.Name, err)
	}
	e.drain()
}

func (e *env) newItem() fixture {
	e.t.Helper()
	e.receive(e.post(helpChan, "How do I export my data?"), bot.IntakeNew)
	e.drain()
	posts := e.staff.Posts(supportCh)
	for i := len(posts) - 1; i >= 0; i-- {
		if posts[i].Card != nil {
			return fixture{item: posts[i].Card.ItemID}
		}
	}
	e.t.Fatal("no card")
	return fixture{}
}

func (e *env) signerDraft() fixture {
	e.t.Helper()
	fx := e.newItem()
	d, err := e.createDraft(matrixPeople["the signer"], fx.item, "Settings, then Export.")
	if err != nil {
		e.t.Fatal(err)
	}
	fx.draft = d.ID
	return fx
}

func (e *env) signerReply() fixture {
	e.t.Helper()
	fx := e.signerDraft()
	e.mustAct(approver2, bot.ActApprove, fx.draft)
	if d := e.draft(fx.draft); d.State != bot.DraftPublished {
		e.t.Fatalf("setup: the signer's reply is %s", d.State)
	}
	return fx
}

func (e *env) drafterCorrection() fixture {
	e.t.Helper()
	fx := e.signerReply()
	d, err := e.correct(matrixPeople["the drafter"], fx.draft, "Settings, then Privacy, then Export.")
	if err != nil {
		e.t.Fatal(err)
	}
	fx.draft = d.ID
	return fx
}

// snapshot is everything a refusal must leave as it was.
func (e *env) snapshot(fx fixture) string {
	e.t.Helper()
	var b strings.Builder
	for _, table := range []string{"items", "drafts", "draft_versions", "profiles", "profile_identities", "route_trust", "audit_events", "outbox", "notices"} {
		n, err := e.db.RowCount(e.ctx, table)
		if err != nil {
			e.t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s=%d ", table, n)
	}
	it := e.item(fx.item)
	fmt.Fprintf(&b, "\nitem %s %v %d", it.Status, it.Tags, it.Assignee)
	for _, d := range e.drafts(fx.item) {
		fmt.Fprintf(&b, "\ndraft %d %s v%d approver %d", d.ID, d.State, len(d.Versions), d.ApproverID)
	}
	fmt.Fprintf(&b, "\ntarget trusted on %q", e.trustOf(target))
	return b.String()
}

func (e *env) trustOf(a bot.Actor) []string {
	e.t.Helper()
	p := e.profileOf(a)
	if p == nil {
		e.t.Fatalf("%s has no profile", a)
	}
	var out []string
	if err := e.db.View(e.ctx, func(tx bot.Tx) (err error) {
		out, err = tx.TrustedRoutes(e.ctx, p.ID)
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// draftOutcome words where the newest draft of an item stands, in the
// document's words. A draft waiting for review is approved by a second
// approver to see whether its signer must then accept it.
func (e *env) draftOutcome(fx fixture) string {
	e.t.Helper()
	ds := e.drafts(fx.item)
	d := ds[len(ds)-1]
	if d.ID == fx.draft {
		return "no new draft"
	}
	e.drain()
	d = e.draft(d.ID)
	var writer *bot.Profile
	if err := e.db.View(e.ctx, func(tx bot.Tx) (err error) {
		writer, err = tx.Profile(e.ctx, d.Versions[len(d.Versions)-1].EditorID)
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	switch d.State {
	case bot.DraftPublished:
		return "publishes"
	case bot.DraftAwaitingSigner:
		return "signer accepts"
	case bot.DraftPending:
		if d.Kind == bot.DraftReply && !writer.Consented() {
			return "waits for profile"
		}
		if err := e.act(approver2, bot.ActApprove, d.ID); err != nil {
			return "review, refused to a second approver: " + err.Error()
		}
		e.drain()
		switch e.draft(d.ID).State {
		case bot.DraftAwaitingSigner:
			return "review, then signer accepts"
		case bot.DraftPublished:
			return "review"
		}
	}
	return "draft " + string(e.draft(d.ID).State)
}

// matrixRow is how the test takes one action of the table.
type matrixRow struct {
	setup func(*env) fixture
	// act takes the action as a person would: the click (and the form it
	// opens), then the submission. The reply is the last answer.
	act func(*env, bot.Actor, fixture) bot.Reply
	// outcome words a success in the document's words.
	outcome func(*env, bot.Actor, fixture) string
}

// clickSubmit clicks a button that opens a form, then submits it.
func clickSubmit(action bot.ActionID, values map[string]string) func(*env, bot.Actor, fixture) bot.Reply {
	return func(e *env, a bot.Actor, fx fixture) bot.Reply {
		id := fx.item
		if fx.draft != 0 {
			id = fx.draft
		}
		r := e.click(a, action, id)
		if r.Refused {
			return r
		}
		if r.Form == nil {
			e.t.Fatalf("%s by %s opened no form: %+v", action, a.Name, r)
		}
		return e.submitReply(a, action, id, values)
	}
}

// click clicks a button, confirming when asked.
func clickOn(action bot.ActionID) func(*env, bot.Actor, fixture) bot.Reply {
	return func(e *env, a bot.Actor, fx fixture) bot.Reply {
		id := fx.item
		if fx.draft != 0 {
			id = fx.draft
		}
		r := e.click(a, action, id)
		if r.Confirm != nil {
			r = e.svc.Interact(e.ctx, bot.Request{Kind: bot.Click, Actor: a, Action: action, Target: id, Confirmed: true})
		}
		return r
	}
}

func command(action bot.ActionID, user string) func(*env, bot.Actor, fixture) bot.Reply {
	return func(e *env, a bot.Actor, _ fixture) bot.Reply { return e.commandIn(supportCh, a, action, user) }
}

func allowed(*env, bot.Actor, fixture) string { return "allowed" }

// itemIs checks the item after an action.
func itemIs(check func(*bot.Item, *bot.Profile) bool) func(*env, bot.Actor, fixture) string {
	return func(e *env, a bot.Actor, fx fixture) string {
		if it := e.item(fx.item); !check(it, e.profileOf(a)) {
			return fmt.Sprintf("done, but the item is %s, assignee %d, tags %v", it.Status, it.Assignee, it.Tags)
		}
		return "allowed"
	}
}

func draftIs(state bot.DraftState) func(*env, bot.Actor, fixture) string {
	return func(e *env, _ bot.Actor, fx fixture) string {
		if got := e.draft(fx.draft).State; got != state {
			return "done, but the draft is " + string(got)
		}
		return "allowed"
	}
}

func trustOutcome(e *env, _ bot.Actor, _ fixture) string {
	switch got := e.trustOf(target); {
	case slices.Equal(got, []string{"billing"}):
		return "own routes only"
	default:
		return fmt.Sprintf("target trusted on %q", got)
	}
}

var matrixRows = map[string]matrixRow{
	"Claim": {setup: (*env).newItem, act: clickOn(bot.ActClaim),
		outcome: itemIs(func(it *bot.Item, p *bot.Profile) bool { return p != nil && it.Assignee == p.ID })},
	"Unclaim (claimed by the signer)": {setup: func(e *env) fixture {
		fx := e.newItem()
		e.mustAct(matrixPeople["the signer"], bot.ActClaim, fx.item)
		return fx
	}, act: clickOn(bot.ActUnclaim), outcome: itemIs(func(it *bot.Item, _ *bot.Profile) bool { return it.Assignee == 0 })},
	"Tag": {setup: (*env).newItem, act: clickSubmit(bot.ActTag, map[string]string{bot.FieldTagsID: "export"}),
		outcome: itemIs(func(it *bot.Item, _ *bot.Profile) bool { return slices.Contains(it.Tags, "export") })},
	"Ignore": {setup: (*env).newItem, act: clickOn(bot.ActIgnore),
		outcome: itemIs(func(it *bot.Item, _ *bot.Profile) bool { return it.Status == bot.ItemIgnored })},
	"Reopen": {setup: func(e *env) fixture {
		fx := e.newItem()
		e.mustAct(matrixPeople["the signer"], bot.ActIgnore, fx.item)
		return fx
	}, act: clickOn(bot.ActReopen), outcome: itemIs(func(it *bot.Item, _ *bot.Profile) bool { return it.Status == bot.ItemNew })},
	"Reply publicly": {setup: (*env).newItem, act: clickSubmit(bot.ActReply, map[string]string{bot.FieldTextID: "Settings, then Export."}),
		outcome: func(e *env, _ bot.Actor, fx fixture) string { return e.draftOutcome(fx) }},
	"Approve (the signer's draft)": {setup: (*env).signerDraft, act: clickOn(bot.ActApprove), outcome: func(e *env, a bot.Actor, fx fixture) string {
		e.drain()
		return draftIs(bot.DraftPublished)(e, a, fx)
	}},
	"Edit & approve (new words)": {setup: (*env).signerDraft, act: clickSubmit(bot.ActEditApprove, map[string]string{bot.FieldTextID: "Settings, then Data, then Export."}),
		outcome: func(e *env, a bot.Actor, fx fixture) string {
			if r := draftIs(bot.DraftAwaitingSigner)(e, a, fx); r != "allowed" {
				return r
			}
			return "signer accepts"
		}},
	"Reject": {setup: (*env).signerDraft, act: clickSubmit(bot.ActReject, map[string]string{bot.FieldReasonID: "Not quite."}),
		outcome: draftIs(bot.DraftRejected)},
	"Withdraw (the signer's draft)":          {setup: (*env).signerDraft, act: clickOn(bot.ActWithdraw), outcome: draftIs(bot.DraftWithdrawn)},
	"Withdraw (a correction by the drafter)": {setup: (*env).drafterCorrection, act: clickOn(bot.ActWithdraw), outcome: draftIs(bot.DraftWithdrawn)},
	"Accept & publish": {setup: func(e *env) fixture {
		fx := e.drafterCorrection()
		e.mustAct(approver2, bot.ActApprove, fx.draft)
		return fx
	}, act: clickOn(bot.ActAccept), outcome: func(e *env, a bot.Actor, fx fixture) string {
		e.drain()
		return draftIs(bot.DraftPublished)(e, a, fx)
	}},
	"Correct (the signer's reply)": {setup: (*env).signerReply, act: clickSubmit(bot.ActCorrect, map[string]string{bot.FieldTextID: "Settings, then Account, then Export."}),
		outcome: func(e *env, _ bot.Actor, fx fixture) string { return e.draftOutcome(fx) }},
	"Retract (the signer's reply)": {setup: (*env).signerReply, act: clickOn(bot.ActRetract),
		outcome: func(e *env, _ bot.Actor, fx fixture) string { return e.draftOutcome(fx) }},
	"Promote (in this route's channel)": {setup: (*env).newItem, act: command(bot.ActPromote, target.UserID), outcome: func(e *env, a bot.Actor, fx fixture) string {
		if slices.Contains(e.trustOf(target), "help") {
			return "allowed"
		}
		return trustOutcome(e, a, fx)
	}},
	"Demote (in this route's channel)": {setup: func(e *env) fixture {
		fx := e.newItem()
		if r := e.commandIn(supportCh, approver2, bot.ActPromote, target.UserID); r.Refused {
			e.t.Fatalf("setup: %s", r.Text)
		}
		if r := e.commandIn(productCh, matrixPeople["approver of another route"], bot.ActPromote, target.UserID); r.Refused {
			e.t.Fatalf("setup: %s", r.Text)
		}
		e.drain()
		return fx
	}, act: command(bot.ActDemote, target.UserID), outcome: func(e *env, _ bot.Actor, _ fixture) string {
		switch got := e.trustOf(target); {
		case slices.Equal(got, []string{"billing"}):
			return "allowed"
		case slices.Equal(got, []string{"help"}):
			return "own routes only"
		default:
			return fmt.Sprintf("target trusted on %q", got)
		}
	}},
	"/liaison profile": {setup: (*env).newItem, act: func(e *env, a bot.Actor, _ fixture) bot.Reply {
		if r := e.svc.Interact(e.ctx, bot.Request{Kind: bot.Command, Actor: a, Action: bot.ActProfile}); r.Form == nil {
			return r
		}
		return e.submitReply(a, bot.ActProfile, 0, map[string]string{bot.FieldNameID: "Someone Else", bot.FieldConsentID: "yes"})
	}, outcome: allowed},
	"/liaison stats": {setup: (*env).newItem, act: command(bot.ActStats, ""), outcome: func(e *env, _ bot.Actor, _ fixture) string {
		return "allowed"
	}},
	"/liaison forget (this route's member)": {setup: (*env).newItem, act: func(e *env, a bot.Actor, fx fixture) bot.Reply {
		return e.svc.Interact(e.ctx, bot.Request{Kind: bot.Command, Actor: a, Action: bot.ActForget, Channel: supportCh,
			Args: map[string]string{bot.ForgetMemberArg: fmt.Sprintf("#%d", fx.item)}})
	}, outcome: func(e *env, _ bot.Actor, fx fixture) string {
		if it := e.item(fx.item); it.AuthorName != "" {
			return fmt.Sprintf("done, but the item still names %q", it.AuthorName)
		}
		return "allowed"
	}},
	"Send to team (a member's message)": {setup: func(e *env) fixture {
		// The internal side is a community one too (role both): members
		// write in a watched channel there, and in others.
		e.svc.Router = bot.NewRouter([]bot.Source{
			{Name: "discord-help", Conn: publicConn, Channels: []string{helpChan, forumChan}},
			{Name: "lobby", Conn: staffConn, Channels: []string{"C0LOBBY"}},
		}, e.svc.Router.Routes())
		return e.newItem()
	}, act: func(e *env, a bot.Actor, fx fixture) bot.Reply {
		in := &bot.Incoming{Conn: staffConn, Channel: "C0RANDOM", ID: fmt.Sprintf("1700000000.%06d", fx.item),
			AuthorID: "U0GUEST", AuthorName: "gus", Text: "Where is the export button?"}
		r := e.svc.Interact(e.ctx, bot.Request{Kind: bot.FromMenu, Actor: a, Action: bot.ActSendToTeam, Message: in})
		if r.Refused || r.Form == nil {
			return r
		}
		return e.svc.Interact(e.ctx, bot.Request{Kind: bot.Submit, Actor: a, Action: bot.ActSendToTeam, Message: in,
			Values: map[string]string{bot.FieldRouteID: "help"}})
	}, outcome: func(e *env, _ bot.Actor, fx fixture) string {
		it, err := e.svc.Item(e.ctx, fx.item+1)
		if err != nil || it.Route != "help" || it.AuthorID != "U0GUEST" {
			return fmt.Sprintf("done, but no item on route help from the message (%v)", err)
		}
		return "allowed"
	}},
	"Member history": {setup: (*env).newItem, act: func(e *env, a bot.Actor, _ fixture) bot.Reply {
		return e.svc.Interact(e.ctx, bot.Request{Kind: bot.FromMenu, Actor: a, Action: bot.ActMemberHistory, User: member})
	}, outcome: allowed},
	"/liaison help": {setup: (*env).newItem, act: func(e *env, a bot.Actor, _ fixture) bot.Reply {
		return e.svc.Interact(e.ctx, bot.Request{Kind: bot.Command, Actor: a, Action: bot.ActHelp})
	}, outcome: allowed},
}

// TestPermissionMatrix walks docs/permissions.md: every action, by every
// kind of person, with the internal side on Slack and on Discord, on each
// engine. A refusal must change nothing.
func TestPermissionMatrix(t *testing.T) {
	rows, cells := readMatrix(t)
	for _, row := range rows {
		if _, ok := matrixRows[row]; !ok {
			t.Fatalf("docs/permissions.md has an action %q this test does not know", row)
		}
	}
	if len(rows) != len(matrixRows) {
		t.Fatalf("the test knows %d actions, docs/permissions.md lists %d", len(matrixRows), len(rows))
	}
	people := slices.Sorted(maps.Keys(matrixPeople))
	for _, engine := range storagetest.Engines(t) {
		for _, kind := range []string{bot.KindSlack, bot.KindDiscord} {
			t.Run(engine+"/"+kind, func(t *testing.T) {
				// One person at a time, on a store of their own: what one
				// does never prepares what another is checked against.
				for _, who := range people {
					e := matrixEnv(t, storagetest.Open(t, engine), kind)
					a := matrixPeople[who]
					for _, row := range rows {
						m := matrixRows[row]
						want := cells[row][who]
						fx := m.setup(e)
						before := e.snapshot(fx)
						r := m.act(e, a, fx)
						got := "refused"
						if !r.Refused {
							got = m.outcome(e, a, fx)
						} else if after := e.snapshot(fx); after != before {
							t.Errorf("%s by %s: refused (%q) but changed:\n%s\n→\n%s", row, who, r.Text, before, after)
						}
						if r.Refused && bot.ErrorCode(r.Err) == bot.EINTERNAL {
							t.Errorf("%s by %s: internal error %v", row, who, r.Err)
						}
						if got != want {
							t.Errorf("%s by %s: %s, docs/permissions.md says %s (answer %q)", row, who, got, want, r.Text)
						}
					}
				}
			})
		}
	}
}
