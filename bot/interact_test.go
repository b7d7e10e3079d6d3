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

// The interaction model, through its one entry point: what each action
// offers, checks and answers, the same for every platform.

func (e *env) click(a bot.Actor, action bot.ActionID, target int64) bot.Reply {
	return e.svc.Interact(e.ctx, bot.Request{Kind: bot.Click, Actor: a, Action: action, Target: target})
}

func actionsOf(bs []bot.Button) []bot.ActionID {
	var out []bot.ActionID
	for _, b := range bs {
		out = append(out, b.Action)
	}
	return out
}

// lastCard returns the card as the internal channel shows it now.
func (e *env) lastCard(channel string) *bot.Card {
	e.t.Helper()
	post, _ := e.card(channel)
	got, _ := e.staff.Get(post.ID)
	return got.Card
}

// counts counts the outbox jobs and audit rows, to show a refusal
// changed nothing.
func (e *env) counts() (jobs, audit int64) {
	e.t.Helper()
	var err error
	if jobs, err = e.db.RowCount(e.ctx, "outbox"); err != nil {
		e.t.Fatal(err)
	}
	if audit, err = e.db.RowCount(e.ctx, "audit_events"); err != nil {
		e.t.Fatal(err)
	}
	return jobs, audit
}

func failPermanently(kind bot.OpKind) mock.Failure {
	return mock.Failure{Kind: kind, Err: bot.Permanent(errors.New("missing permissions"))}
}

func wantRefused(t *testing.T, r bot.Reply, want error) {
	t.Helper()
	if !r.Refused || r.Form != nil || !errors.Is(r.Err, want) || r.Text != bot.ErrorMessage(want) {
		t.Fatalf("reply = %+v, want a refusal with %q", r, bot.ErrorMessage(want))
	}
}

func TestCardActionsFollowTheState(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		it, _ := e.askPricing()
		c := e.lastCard(productCh)
		if got, want := actionsOf(c.Actions), []bot.ActionID{bot.ActReply, bot.ActClaim, bot.ActTag, bot.ActIgnore}; !slices.Equal(got, want) {
			t.Fatalf("new item offers %v, want %v", got, want)
		}
		for _, b := range c.Actions {
			if b.Target != it.ID || b.Label == "" {
				t.Errorf("button %+v: want a label and the item's id", b)
			}
		}
		if c.Actions[0].Label != "Reply publicly" || c.Actions[0].Style != bot.StylePrimary {
			t.Errorf("first button = %+v", c.Actions[0])
		}

		if err := e.act(alice, bot.ActClaim, it.ID); err != nil {
			t.Fatal(err)
		}
		e.drain()
		c = e.lastCard(productCh)
		if got, want := actionsOf(c.Actions), []bot.ActionID{bot.ActReply, bot.ActUnclaim, bot.ActTag, bot.ActIgnore}; !slices.Equal(got, want) {
			t.Fatalf("claimed item offers %v, want %v", got, want)
		}
		if !slices.ContainsFunc(c.Facts, func(f bot.Fact) bool { return f.Label == "Claimed by" && f.Value == "Alice Martin" }) {
			t.Errorf("claimed card facts = %+v", c.Facts)
		}

		if err := e.act(alice, bot.ActIgnore, it.ID); err != nil {
			t.Fatal(err)
		}
		e.drain()
		c = e.lastCard(productCh)
		if got, want := actionsOf(c.Actions), []bot.ActionID{bot.ActTag, bot.ActReopen}; !slices.Equal(got, want) {
			t.Fatalf("ignored item offers %v, want %v", got, want)
		}
		if err := e.act(carol, bot.ActReopen, it.ID); err != nil {
			t.Fatal(err)
		}
		e.drain()
		if got := e.item(it.ID); got.Status != bot.ItemClaimed || got.Assignee == 0 {
			t.Fatalf("reopened item = %s (assignee %d), want claimed by Alice again", got.Status, got.Assignee)
		}
		if err := e.act(carol, bot.ActReopen, it.ID); bot.ErrorCode(err) != bot.ECONFLICT || !strings.Contains(bot.ErrorMessage(err), "already open") {
			t.Fatalf("reopen of an open item: %v", err)
		}
	})
}

func TestUnclaim(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		it, _ := e.askPricing()
		r := e.click(alice, bot.ActUnclaim, it.ID)
		if !r.Refused || bot.ErrorCode(r.Err) != bot.ECONFLICT {
			t.Fatalf("unclaim of an unclaimed item: %+v", r)
		}
		if err := e.act(alice, bot.ActClaim, it.ID); err != nil {
			t.Fatal(err)
		}
		e.drain()
		jobs, audit := e.counts()
		// Another responder may not give Alice's item back.
		r = e.click(carol, bot.ActUnclaim, it.ID)
		if !r.Refused || bot.ErrorCode(r.Err) != bot.EUNAUTHORIZED || !strings.Contains(r.Text, "only whoever claimed") {
			t.Fatalf("carol's unclaim: %+v", r)
		}
		if j, a := e.counts(); j != jobs || a != audit || e.item(it.ID).Status != bot.ItemClaimed {
			t.Fatalf("a refused unclaim changed something: %d→%d jobs, %d→%d audit rows", jobs, j, audit, a)
		}
		// Her own, she may.
		r = e.click(alice, bot.ActUnclaim, it.ID)
		if r.Refused || r.Text != "Item #"+itoa(it.ID)+" is back in the queue." {
			t.Fatalf("alice's unclaim: %+v", r)
		}
		e.drain()
		if got := e.item(it.ID); got.Status != bot.ItemNew || got.Assignee != 0 {
			t.Fatalf("after unclaim: %+v", got)
		}
		if got := actionsOf(e.lastCard(productCh).Actions); !slices.Contains(got, bot.ActClaim) || slices.Contains(got, bot.ActUnclaim) {
			t.Fatalf("card after unclaim offers %v", got)
		}
		// An approver of the route hands work out: he may unclaim anyone's.
		if err := e.act(carol, bot.ActClaim, it.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.act(bob, bot.ActUnclaim, it.ID); err != nil {
			t.Fatal(err)
		}
		if got := e.item(it.ID); got.Assignee != 0 {
			t.Fatalf("approver's unclaim left assignee %d", got.Assignee)
		}
	})
}

func TestDraftActionsFollowTheState(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		it, _ := e.askPricing()
		d, err := e.createDraft(alice, it.ID, "It is $5 per seat.")
		if err != nil {
			t.Fatal(err)
		}
		e.drain()
		dc := e.draftCard(it, d.ID)
		if got, want := actionsOf(dc.Actions), []bot.ActionID{bot.ActApprove, bot.ActEditApprove, bot.ActReject, bot.ActWithdraw}; !slices.Equal(got, want) {
			t.Fatalf("pending draft offers %v, want %v", got, want)
		}
		if !slices.ContainsFunc(dc.Facts, func(f bot.Fact) bool { return f.Label == "State" && f.Value == "⏳ Waiting for an approver" }) {
			t.Errorf("pending draft facts = %+v", dc.Facts)
		}
		if dc.Title != "Draft #"+itoa(d.ID)+" · public reply (v1)" || !strings.HasPrefix(dc.PreviewText, "@Mia It is $5") {
			t.Errorf("draft card title %q, preview %q", dc.Title, dc.PreviewText)
		}
		if err := e.act(bob, bot.ActApprove, d.ID); err != nil {
			t.Fatal(err)
		}
		e.drain()
		dc = e.draftCard(it, d.ID)
		if got, want := actionsOf(dc.Actions), []bot.ActionID{bot.ActCorrect, bot.ActRetract}; !slices.Equal(got, want) {
			t.Fatalf("published reply offers %v, want %v", got, want)
		}
		if c := dc.Actions[1].Confirm; c == nil || c.OK == "" || c.Text == "" {
			t.Errorf("Retract asks no question first: %+v", dc.Actions[1])
		}

		// Retract asks first, and asking changes nothing.
		jobs, audit := e.counts()
		r := e.click(alice, bot.ActRetract, d.ID)
		if r.Confirm == nil || r.Refused || r.Form != nil {
			t.Fatalf("retract click = %+v, want a question", r)
		}
		if j, a := e.counts(); j != jobs || a != audit {
			t.Fatal("asking to confirm changed something")
		}
		if err := e.act(alice, bot.ActRetract, d.ID); err != nil {
			t.Fatal(err)
		}
		ret := e.newest(it.ID)
		if ret.Kind != bot.DraftRetraction || ret.Target != d.ID {
			t.Fatalf("retraction = %+v", ret)
		}
		// A second one while the first is under way is refused.
		if r := e.click(carol, bot.ActRetract, d.ID); !r.Refused || bot.ErrorCode(r.Err) != bot.ECONFLICT {
			t.Fatalf("second retraction: %+v", r)
		}
	})
}

// draftCard returns the draft card of a draft as the thread shows it now.
func (e *env) draftCard(it *bot.Item, draftID int64) *bot.DraftCard {
	e.t.Helper()
	it = e.item(it.ID)
	for _, p := range e.staff.Posts(it.CardChannel) {
		if p.DraftCard != nil && p.DraftCard.DraftID == draftID {
			return p.DraftCard
		}
	}
	e.t.Fatalf("no draft card for draft %d", draftID)
	return nil
}

func TestFailedDraftOffersRetry(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, "sqlite"))
	it, _ := e.askPricing()
	d, _ := e.createDraft(alice, it.ID, "Answer")
	e.pub.FailNext(failPermanently(bot.OpPublish))
	if err := e.act(bob, bot.ActApprove, d.ID); err != nil {
		t.Fatal(err)
	}
	e.drain()
	dc := e.draftCard(it, d.ID)
	if len(dc.Actions) != 2 || dc.Actions[0].Action != bot.ActApprove || dc.Actions[0].Label != "Approve (retry)" || dc.Actions[1].Action != bot.ActWithdraw {
		t.Fatalf("failed draft offers %+v", dc.Actions)
	}
}

// TestPermissionBeforeTheForm: a person who may not take an action is
// refused when they click, before any form opens; one who may gets the form
// with the domain's fields and limits.
func TestPermissionBeforeTheForm(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		it, _ := e.askPricing()
		d, _ := e.createDraft(alice, it.ID, "It is $5 per seat.")
		bobs, _ := e.createDraft(bob, it.ID, "Bob's own answer")

		wantRefused(t, e.click(carol, bot.ActEditApprove, d.ID), bot.ErrNotApprover)
		wantRefused(t, e.click(alice, bot.ActReject, d.ID), bot.ErrNotApprover)
		wantRefused(t, e.click(bob, bot.ActEditApprove, bobs.ID), bot.ErrSelfApproval)
		wantRefused(t, e.click(bot.Actor{Conn: publicConn, UserID: "U0BOB"}, bot.ActReply, it.ID), bot.ErrOtherWorkspace)

		r := e.click(bob, bot.ActEditApprove, d.ID)
		if r.Form == nil || r.Refused {
			t.Fatalf("approver's Edit & approve = %+v, want the form", r)
		}
		f := r.Form
		if f.Action != bot.ActEditApprove || f.Target != d.ID || len(f.Fields) != 1 || f.Fields[0].Initial != "It is $5 per seat." ||
			f.Fields[0].MaxLen != 1800 || !f.Fields[0].Required || !f.Fields[0].Multiline {
			t.Fatalf("edit form = %+v", f)
		}
		r = e.click(carol, bot.ActReply, it.ID)
		if r.Form == nil || r.Form.Fields[0].ID != bot.FieldTextID || r.Form.Fields[0].MaxLen != 1800 || r.Form.Submit == "" || r.Form.Title == "" {
			t.Fatalf("reply form = %+v", r.Form)
		}
		// A submission is checked again: a form opened, or forged, by someone
		// without the right changes nothing.
		jobs, audit := e.counts()
		expectErr(t, e.reject(carol, d.ID, "no"), bot.ErrNotApprover)
		expectErr(t, e.editApprove(alice, d.ID, "sneaky"), bot.ErrNotApprover)
		if j, a := e.counts(); j != jobs || a != audit {
			t.Fatal("refused submissions changed something")
		}
		if got := e.draft(d.ID); got.State != bot.DraftPending || len(got.Versions) != 1 {
			t.Fatalf("draft after refused submissions = %+v", got)
		}
	})
}

// TestRefusalsNameTheirField: a refused form says which field is at fault,
// so that platforms showing errors in the form put it in the right place.
func TestRefusalsNameTheirField(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, "sqlite"))
	it, _ := e.askPricing()
	d, _ := e.createDraft(alice, it.ID, "Answer")
	submit := e.submitReply
	for _, c := range []struct {
		name   string
		reply  bot.Reply
		field  string
		saying string
	}{
		{"EmptyTags", submit(alice, bot.ActTag, it.ID, map[string]string{bot.FieldTagsID: " , ,"}), bot.FieldTagsID, "at least one tag"},
		{"LongTag", submit(alice, bot.ActTag, it.ID, map[string]string{bot.FieldTagsID: strings.Repeat("x", 41)}), bot.FieldTagsID, "1 to 40"},
		{"LongReply", submit(alice, bot.ActReply, it.ID, map[string]string{bot.FieldTextID: strings.Repeat("x", 1801)}), bot.FieldTextID, "the limit is 1800"},
		{"EmptyReply", submit(alice, bot.ActReply, it.ID, map[string]string{bot.FieldTextID: "  "}), bot.FieldTextID, "empty"},
		{"NoReason", submit(bob, bot.ActReject, d.ID, map[string]string{bot.FieldReasonID: ""}), bot.FieldReasonID, "reason"},
		{"NoName", submit(carol, bot.ActProfile, 0, map[string]string{bot.FieldNameID: ""}), bot.FieldNameID, "name"},
		{"BadAvatar", submit(carol, bot.ActProfile, 0, map[string]string{bot.FieldNameID: "Carol", bot.FieldAvatarID: "javascript:alert(1)"}), bot.FieldAvatarID, "http(s) URL"},
		{"LongTitle", submit(carol, bot.ActProfile, 0, map[string]string{bot.FieldNameID: "Carol", bot.FieldTitleID: strings.Repeat("t", 81)}), bot.FieldTitleID, "limit is 80"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !c.reply.Refused || c.reply.Field != c.field || !strings.Contains(c.reply.Text, c.saying) {
				t.Fatalf("reply = %+v, want a refusal on %q saying %q", c.reply, c.field, c.saying)
			}
		})
	}
	if got := e.item(it.ID); len(got.Tags) != 1 {
		t.Errorf("refused tags changed the item: %v", got.Tags)
	}
}

func TestUnknownActionsAndCommands(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, "sqlite"))
	it, _ := e.askPricing()
	wantRefused(t, e.click(alice, "frobnicate", it.ID), bot.ErrUnknownAction)
	wantRefused(t, e.click(alice, bot.ActClaim, 0), bot.ErrUnknownAction)                                // a button without its target
	wantRefused(t, e.click(alice, bot.ActPromote, 0), bot.ErrUnknownAction)                              // a command is no button
	wantRefused(t, e.submitReply(alice, bot.ActClaim, it.ID, map[string]string{}), bot.ErrUnknownAction) // Claim has no form
	r := e.command(alice, "frobnicate", "")
	if !r.Refused || !strings.Contains(r.Text, "I don't know `frobnicate`") || !strings.Contains(r.Text, "/liaison profile") {
		t.Fatalf("unknown command: %+v", r)
	}
	r = e.command(alice, bot.ActionID("@everyone"+strings.Repeat("x", 100)), "")
	if !r.Refused || bot.HasPing(r.Text) || strings.Contains(r.Text, strings.Repeat("x", 41)) {
		t.Fatalf("a hostile unknown command is echoed as %q", r.Text)
	}
	r = e.command(alice, bot.ActClaim, "")
	if !r.Refused || !strings.Contains(r.Text, "I don't know `claim`") {
		t.Fatalf("a button as a command: %+v", r)
	}
	r = e.command(bob, bot.ActPromote, "")
	if !r.Refused || !strings.Contains(r.Text, "Please name the person: `/liaison promote @person`") {
		t.Fatalf("promote nobody: %+v", r)
	}
	if r := e.svc.Interact(e.ctx, bot.Request{Kind: bot.Click, Action: bot.ActClaim, Target: it.ID}); !r.Refused {
		t.Fatalf("a click from nobody: %+v", r)
	}
	if e.item(it.ID).Assignee != 0 {
		t.Fatal("a refused request claimed the item")
	}
}

// TestHelpIsWrittenOnce: the help names every subcommand and every card
// action by the labels the buttons carry, and the configured reply prefix.
func TestHelpIsWrittenOnce(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, "sqlite"))
	r := e.command(carol, bot.ActHelp, "")
	if r.Refused || r.Text != e.svc.Help() {
		t.Fatalf("/liaison help = %+v", r)
	}
	for _, want := range []string{"`/liaison profile`", "`/liaison promote @person`", "`/liaison demote @person`", "`/liaison stats [period] [route]`", "`/liaison forget member`", "`/liaison help`", "`!reply`",
		"Reply publicly", "Claim", "Unclaim", "Tag", "Ignore", "Reopen", "Approve", "Edit & approve", "Reject", "Withdraw", "Accept & publish", "Correct", "Retract"} {
		if !strings.Contains(r.Text, want) {
			t.Errorf("help does not name %q:\n%s", want, r.Text)
		}
	}
	var names []string
	for _, c := range bot.SubCommands() {
		names = append(names, c.Name)
		if c.Description == "" || len(c.Description) > 100 {
			t.Errorf("subcommand %q: description %q (Discord wants 1 to 100 characters)", c.Name, c.Description)
		}
	}
	if want := []string{"profile", "promote", "demote", "stats", "forget", "help"}; !slices.Equal(names, want) {
		t.Errorf("subcommands = %v, want %v", names, want)
	}
}

// TestProfileForm: the form is filled from the profile, else from the
// platform, and its consent is a check field that works without a check box.
func TestProfileForm(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, "sqlite"))
	dana := bot.Actor{Conn: staffConn, UserID: "U0DANA", Name: "Dana Scully", Title: "Support Lead", AvatarURL: "https://a.test/dana.png"}
	r := e.command(dana, bot.ActProfile, "")
	if r.Form == nil {
		t.Fatalf("/liaison profile = %+v", r)
	}
	values := map[string]string{}
	var consent bot.Field
	for _, f := range r.Form.Fields {
		values[f.ID] = f.Initial
		if f.Kind == bot.FieldCheck {
			consent = f
		}
	}
	if values[bot.FieldNameID] != "Dana Scully" || values[bot.FieldTitleID] != "Support Lead" || values[bot.FieldAvatarID] != "https://a.test/dana.png" {
		t.Fatalf("profile form initial values = %v", values)
	}
	if consent.Checked || consent.Keyword != "yes" || consent.Option == "" || consent.TypedLabel == "" {
		t.Fatalf("consent field = %+v", consent)
	}
	values[bot.FieldConsentID] = "YES " // typed where there is no check box
	r = e.svc.Interact(e.ctx, bot.Request{Kind: bot.Submit, Actor: dana, Action: bot.ActProfile, Values: values})
	if r.Refused || !strings.Contains(r.Text, `"Dana Scully · Acme"`) {
		t.Fatalf("save = %+v", r)
	}
	r = e.command(dana, bot.ActProfile, "")
	for _, f := range r.Form.Fields {
		if f.Kind == bot.FieldCheck && !f.Checked {
			t.Fatal("the form does not show the consent given")
		}
	}
}

// TestThreadReplyRefusedPrivately: a reply-prefixed thread message the
// domain refuses makes no draft; its author is told privately, once.
func TestThreadReplyRefusedPrivately(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		it, _ := e.askPricing()
		long := "!reply " + strings.Repeat("too long ", 250)
		if out := e.threadMessage(alice, it.CardThread, "m1", long); out != bot.IntakeRefused {
			t.Fatalf("too long a !reply: %s", out)
		}
		if out := e.threadMessage(alice, it.CardThread, "m1", long); out != bot.IntakeDuplicate {
			t.Fatalf("its redelivery: %s", out)
		}
		e.drain()
		var told int
		for _, p := range e.staff.Posts(productCh) {
			if p.ToUser == alice.UserID && strings.Contains(p.Text, "the limit is 1800") {
				told++
			}
			if p.DraftCard != nil {
				t.Fatal("a refused !reply made a draft card")
			}
		}
		if told != 1 {
			t.Fatalf("the author was told %d times, want once", told)
		}
		// A bot's message in the thread is no one's draft.
		out, err := e.svc.Receive(e.ctx, bot.Incoming{Conn: staffConn, Channel: productCh, ID: "m2", ThreadID: it.CardThread,
			AuthorID: "B0OTHER", Bot: true, Text: "!reply from a bot", At: time.Now()})
		if err != nil || out != bot.IntakeIgnored {
			t.Fatalf("a bot's !reply: %s, %v", out, err)
		}
	})
}

func TestMemberNames(t *testing.T) {
	for _, c := range []struct{ name, handle, want string }{
		{"Carol", "carol", "Carol"},
		{"Carol K", "carol", "Carol K (@carol)"},
		{"", "carol", "@carol"},
		{"Mia", "", "Mia"},
		{"", "", "Someone"},
		{"@everyone", "x", "@\u200beveryone (@x)"},
	} {
		if got := bot.MemberName(c.name, c.handle); got != c.want {
			t.Errorf("MemberName(%q, %q) = %q, want %q", c.name, c.handle, got, c.want)
		}
	}
}
