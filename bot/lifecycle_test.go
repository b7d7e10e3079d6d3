package bot_test

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/bot/mock"
	"github.com/liaison-bot/liaison/storage"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

const (
	member     = "111111111111111111"
	helpChan   = "100000000000000001"
	forumChan  = "100000000000000002"
	productCh  = "C0PRODUCT"
	supportCh  = "C0SUPPORT"
	adminCh    = "C0ADMIN"
	publicConn = "community"
	staffConn  = "internal"
)

var (
	alice = bot.Actor{Conn: staffConn, UserID: "U0ALICE", Name: "alice"}
	bob   = bot.Actor{Conn: staffConn, UserID: "U0BOB", Name: "bob"}
	carol = bot.Actor{Conn: staffConn, UserID: "U0CAROL", Name: "carol"}
	lead  = bot.Actor{Conn: staffConn, UserID: "U0LEAD", Name: "lead", Groups: []string{"S0LEADS"}}
)

// env is a Liaison with a public Discord-like and an internal Slack-like
// connection, both in memory, on a real store.
type env struct {
	t      *testing.T
	ctx    context.Context
	db     *storage.DB
	svc    *bot.Service
	pub    *mock.Platform
	staff  *mock.Platform
	worker *bot.Worker
	clock  *mock.Clock
	seq    int
}

type envOption func(*bot.Settings, *[]bot.Route)

func withoutDefaultRoute(_ *bot.Settings, routes *[]bot.Route) { *routes = (*routes)[:1] }

func newEnv(t *testing.T, db *storage.DB, opts ...envOption) *env {
	t.Helper()
	sources := []bot.Source{{Name: "discord-help", Conn: publicConn, Channels: []string{helpChan, forumChan}}}
	routes := []bot.Route{
		{Name: "product", Keywords: []string{"pricing"}, Regexps: []*regexp.Regexp{regexp.MustCompile(`(?i)\bfeature request\b`)}, Tags: []string{"product"},
			DestConn: staffConn, DestChannel: productCh, Policy: bot.Policy{Mode: bot.ApprovalRequired, Approvers: []string{"U0BOB", "S0LEADS"}}},
		{Name: "support", Default: true, DestConn: staffConn, DestChannel: supportCh,
			Policy: bot.Policy{Mode: bot.ApprovalTrustedAuto, Approvers: []string{"U0BOB"}}},
	}
	settings := bot.Settings{Company: "Acme", AdminConn: staffConn, AdminChannel: adminCh, MaxRelayChars: 200}
	for _, o := range opts {
		o(&settings, &routes)
	}
	e := &env{t: t, ctx: context.Background(), db: db, clock: mock.NewClock(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC))}
	e.pub = mock.New(bot.KindDiscord, true)
	e.staff = mock.New(bot.KindSlack, true)
	e.svc = bot.NewService(db, map[string]bot.Platform{publicConn: e.pub, staffConn: e.staff}, bot.NewRouter(sources, routes), settings)
	e.svc.Clock = e.clock.Now
	e.worker = e.svc.NewWorker("test-worker")
	e.worker.Jitter = func() float64 { return 0 }
	e.mustProfile(alice, bot.ProfileInput{Name: "Alice Martin", Title: "Product Manager", AvatarURL: "https://a.test/alice.png", Consent: true})
	e.mustProfile(bob, bot.ProfileInput{Name: "Bob Stone", Title: "Head of Product", Consent: true})
	return e
}

func (e *env) mustProfile(a bot.Actor, in bot.ProfileInput) {
	e.t.Helper()
	if err := e.saveProfile(a, in); err != nil {
		e.t.Fatalf("save profile %s: %v", a, err)
	}
}

// saveProfile submits the public-profile form.
func (e *env) saveProfile(a bot.Actor, in bot.ProfileInput) error {
	consent := ""
	if in.Consent {
		consent = "yes"
	}
	return e.submit(a, bot.ActProfile, 0, map[string]string{
		bot.FieldNameID: in.Name, bot.FieldTitleID: in.Title, bot.FieldAvatarID: in.AvatarURL,
		bot.FieldPronounsID: in.Pronouns, bot.FieldConsentID: consent,
	})
}

// act clicks a button that needs no input, confirming if asked; the error
// is the refusal's, if any.
func (e *env) act(a bot.Actor, action bot.ActionID, target int64) error {
	e.t.Helper()
	r := e.svc.Interact(e.ctx, bot.Request{Kind: bot.Click, Actor: a, Action: action, Target: target, Confirmed: true})
	if r.Form != nil {
		e.t.Fatalf("%s opened a form", action)
	}
	return r.Err
}

// submitReply submits action's form with values and returns the answer.
func (e *env) submitReply(a bot.Actor, action bot.ActionID, target int64, values map[string]string) bot.Reply {
	return e.svc.Interact(e.ctx, bot.Request{Kind: bot.Submit, Actor: a, Action: action, Target: target, Values: values})
}

// submit submits action's form with values; the error is the refusal's.
func (e *env) submit(a bot.Actor, action bot.ActionID, target int64, values map[string]string) error {
	r := e.submitReply(a, action, target, values)
	if r.Refused && r.Err == nil {
		e.t.Fatalf("%s refused without an error: %q", action, r.Text)
	}
	return r.Err
}

// command runs /liaison action, naming user.
func (e *env) command(a bot.Actor, action bot.ActionID, user string) bot.Reply {
	return e.svc.Interact(e.ctx, bot.Request{Kind: bot.Command, Actor: a, Action: action, User: user})
}

// commandIn runs /liaison action, naming user, in channel.
func (e *env) commandIn(channel string, a bot.Actor, action bot.ActionID, user string) bot.Reply {
	return e.svc.Interact(e.ctx, bot.Request{Kind: bot.Command, Actor: a, Action: action, User: user, Channel: channel})
}

// newest returns the newest draft of an item.
func (e *env) newest(itemID int64) *bot.Draft {
	e.t.Helper()
	ds := e.drafts(itemID)
	if len(ds) == 0 {
		e.t.Fatalf("item %d has no draft", itemID)
	}
	return ds[len(ds)-1]
}

// drafts returns an item's drafts, oldest first.
func (e *env) drafts(itemID int64) []*bot.Draft {
	e.t.Helper()
	var ds []*bot.Draft
	if err := e.db.View(e.ctx, func(tx bot.Tx) (err error) {
		ds, err = tx.DraftsByItem(e.ctx, itemID)
		return err
	}); err != nil {
		e.t.Fatalf("drafts of item %d: %v", itemID, err)
	}
	return ds
}

// createDraft submits the reply form of an item.
func (e *env) createDraft(a bot.Actor, itemID int64, text string) (*bot.Draft, error) {
	e.t.Helper()
	if err := e.submit(a, bot.ActReply, itemID, map[string]string{bot.FieldTextID: text}); err != nil {
		return nil, err
	}
	return e.newest(itemID), nil
}

// correct proposes a correction of a published reply.
func (e *env) correct(a bot.Actor, draftID int64, text string) (*bot.Draft, error) {
	e.t.Helper()
	if err := e.submit(a, bot.ActCorrect, draftID, map[string]string{bot.FieldTextID: text}); err != nil {
		return nil, err
	}
	return e.newest(e.draft(draftID).ItemID), nil
}

// retract proposes a retraction of a published reply.
func (e *env) retract(a bot.Actor, draftID int64) (*bot.Draft, error) {
	e.t.Helper()
	if err := e.act(a, bot.ActRetract, draftID); err != nil {
		return nil, err
	}
	return e.newest(e.draft(draftID).ItemID), nil
}

func (e *env) editApprove(a bot.Actor, draftID int64, text string) error {
	return e.submit(a, bot.ActEditApprove, draftID, map[string]string{bot.FieldTextID: text})
}

func (e *env) reject(a bot.Actor, draftID int64, reason string) error {
	return e.submit(a, bot.ActReject, draftID, map[string]string{bot.FieldReasonID: reason})
}

// threadMessage is a staff message in an item's internal thread.
func (e *env) threadMessage(a bot.Actor, thread, id, text string) bot.Intake {
	e.t.Helper()
	out, err := e.svc.Receive(e.ctx, bot.Incoming{Conn: a.Conn, Channel: productCh, ID: id, ThreadID: thread, AuthorID: a.UserID, AuthorName: a.Name, Text: text})
	if err != nil {
		e.t.Fatalf("thread message: %v", err)
	}
	return out
}

// post is a member message in a watched channel.
func (e *env) post(channel, text string) bot.Incoming {
	e.seq++
	return bot.Incoming{Conn: publicConn, Channel: channel, ID: strings.Repeat("9", 16) + string(rune('0'+e.seq/10)) + string(rune('0'+e.seq%10)),
		AuthorID: member, AuthorName: "Mia", Text: text, Link: "https://discord.test/m/" + channel, At: e.clock.Now()}
}

func (e *env) receive(in bot.Incoming, want bot.Intake) {
	e.t.Helper()
	got, err := e.svc.Receive(e.ctx, in)
	if err != nil {
		e.t.Fatalf("receive: %v", err)
	}
	if got != want {
		e.t.Fatalf("receive %q: outcome %q, want %q", in.Text, got, want)
	}
}

// drain runs the outbox until nothing is due.
func (e *env) drain() {
	e.t.Helper()
	for range 100 {
		n, err := e.worker.RunOnce(e.ctx)
		if err != nil {
			e.t.Fatalf("worker: %v", err)
		}
		if n == 0 {
			return
		}
	}
	e.t.Fatal("outbox never drained")
}

func (e *env) item(id int64) *bot.Item {
	e.t.Helper()
	it, err := e.svc.Item(e.ctx, id)
	if err != nil {
		e.t.Fatalf("item %d: %v", id, err)
	}
	return it
}

func (e *env) draft(id int64) *bot.Draft {
	e.t.Helper()
	d, err := e.svc.Draft(e.ctx, id)
	if err != nil {
		e.t.Fatalf("draft %d: %v", id, err)
	}
	return d
}

// card returns the single card posted in channel and its item.
func (e *env) card(channel string) (mock.Post, *bot.Item) {
	e.t.Helper()
	var cards []mock.Post
	for _, p := range e.staff.Posts(channel) {
		if p.Card != nil {
			cards = append(cards, p)
		}
	}
	if len(cards) != 1 {
		e.t.Fatalf("%s has %d cards, want 1", channel, len(cards))
	}
	return cards[0], e.item(cards[0].Card.ItemID)
}

func (e *env) publicPosts(channel string) []mock.Post {
	var out []mock.Post
	for _, p := range e.pub.Posts(channel) {
		if !p.Deleted {
			out = append(out, p)
		}
	}
	return out
}

// askPricing opens an item on the product route and returns it with its card.
func (e *env) askPricing() (*bot.Item, mock.Post) {
	e.t.Helper()
	e.receive(e.post(helpChan, "@everyone what is the pricing for teams? <@&555555555555555555>"), bot.IntakeNew)
	e.drain()
	card, it := e.card(productCh)
	return it, card
}

func expectErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want %v", err, want)
	}
	if msg := bot.ErrorMessage(err); msg == "" || msg == "Internal error." {
		t.Fatalf("no polite message for %v", err)
	}
}

func TestLifecycle(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		in := e.post(helpChan, "@everyone what is the pricing for teams? <@&555555555555555555> <!channel>")
		e.receive(in, bot.IntakeNew)
		e.receive(in, bot.IntakeDuplicate) // the platform redelivers
		e.drain()

		// The card: sanitised text, route, tags, link; nothing in other channels.
		card, it := e.card(productCh)
		if bot.HasPing(card.Card.Text) || !strings.Contains(card.Card.Text, "pricing for teams") {
			t.Fatalf("card text = %q", card.Card.Text)
		}
		if card.Card.Route != "product" || card.Card.Status != bot.ItemNew || card.Card.Link != in.Link || card.Card.Source != "discord-help" {
			t.Fatalf("card = %+v", card.Card)
		}
		if len(e.staff.Posts(supportCh)) != 0 {
			t.Fatal("a card went to the default route too")
		}
		if it.CardID != card.ID || it.CardThread == "" {
			t.Fatalf("item not linked to its card: %+v", it)
		}

		// Follow-up, edit, delete reach the internal thread.
		fu := e.post(helpChan, "also, is there a discount for nonprofits? @here")
		fu.ReplyTo = in.ID
		e.receive(fu, bot.IntakeFollowUp)
		e.drain()
		notes := e.staff.Thread(productCh, it.CardThread)
		if len(notes) != 1 || !strings.Contains(notes[0].Text, "nonprofits") || bot.HasPing(notes[0].Text) {
			t.Fatalf("follow-up notes = %+v", notes)
		}
		if err := e.svc.Edit(e.ctx, bot.MessageKey{Conn: publicConn, Channel: helpChan, ID: fu.ID}, "also, a discount for schools?", e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		e.drain()
		if got, _ := e.staff.Get(notes[0].ID); !strings.Contains(got.Text, "schools") || !strings.Contains(got.Text, "(edited)") {
			t.Fatalf("edited note = %q", got.Text)
		}
		if err := e.svc.Edit(e.ctx, bot.MessageKey{Conn: publicConn, Channel: helpChan, ID: in.ID}, "what is the pricing for teams of 50?", e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		e.drain()
		if got, _ := e.staff.Get(card.ID); !got.Card.Edited || !strings.Contains(got.Card.Text, "teams of 50") {
			t.Fatalf("card after edit = %+v", got.Card)
		}
		if err := e.svc.Delete(e.ctx, bot.MessageKey{Conn: publicConn, Channel: helpChan, ID: fu.ID}, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		e.drain()
		if got, _ := e.staff.Get(notes[0].ID); strings.Contains(got.Text, "schools") || !strings.Contains(got.Text, "deleted") {
			t.Fatalf("deleted note = %q", got.Text)
		}

		// Claim, then draft by the reply prefix in the internal thread.
		if err := e.act(alice, bot.ActClaim, it.ID); err != nil {
			t.Fatal(err)
		}
		if out := e.threadMessage(alice, it.CardThread, "m1", "let's say it's per seat"); out != bot.IntakeInternal {
			t.Fatalf("plain internal message: %s, want it to stay internal", out)
		}
		reply := "!reply It is $5 per seat; nonprofits get 50% off. @everyone"
		if out := e.threadMessage(alice, it.CardThread, "m2", reply); out != bot.IntakeDraft {
			t.Fatalf("!reply in the thread: %s, want a draft", out)
		}
		d := e.newest(it.ID)
		if out := e.threadMessage(alice, it.CardThread, "m2", reply); out != bot.IntakeDuplicate {
			t.Fatalf("a redelivered !reply: %s, want a duplicate", out)
		}
		if e.newest(it.ID).ID != d.ID {
			t.Fatal("a redelivered !reply made another draft")
		}
		e.drain()
		if got := e.item(it.ID); got.Status != bot.ItemAwaitingApproval {
			t.Fatalf("item status = %s", got.Status)
		}
		var dcard mock.Post
		for _, p := range e.staff.Thread(productCh, it.CardThread) {
			if p.DraftCard != nil {
				dcard = p
			}
		}
		if dcard.DraftCard == nil || dcard.DraftCard.Preview.Username != "Alice Martin · Acme" || !dcard.DraftCard.NeedsApproval {
			t.Fatalf("draft card = %+v", dcard.DraftCard)
		}
		if len(e.publicPosts(helpChan)) != 0 {
			t.Fatal("something was published before approval")
		}

		// Refusals change nothing.
		expectErr(t, e.act(carol, bot.ActApprove, d.ID), bot.ErrNotApprover)
		expectErr(t, e.act(alice, bot.ActApprove, d.ID), bot.ErrNotApprover)
		expectErr(t, e.act(bot.Actor{Conn: publicConn, UserID: "U0BOB"}, bot.ActApprove, d.ID), bot.ErrNotApprover)
		expectErr(t, e.act(bob, bot.ActWithdraw, d.ID), bot.ErrNotAuthor)
		e.drain()
		if got := e.draft(d.ID); got.State != bot.DraftPending || got.ApproverID != 0 {
			t.Fatalf("refused clicks changed the draft: %+v", got)
		}
		if len(e.publicPosts(helpChan)) != 0 {
			t.Fatal("a refused click published")
		}

		// The approver approves: published once, attributed, pinging only the member.
		if err := e.act(bob, bot.ActApprove, d.ID); err != nil {
			t.Fatal(err)
		}
		expectErr(t, e.act(bob, bot.ActApprove, d.ID), bot.ErrIllegalTransition) // a double click
		e.drain()
		pubs := e.publicPosts(helpChan)
		if len(pubs) != 1 {
			t.Fatalf("%d public posts, want 1", len(pubs))
		}
		if pubs[0].Username != "Alice Martin · Acme" || pubs[0].AvatarURL != "https://a.test/alice.png" {
			t.Fatalf("public post identity = %q %q", pubs[0].Username, pubs[0].AvatarURL)
		}
		body, ok := strings.CutPrefix(pubs[0].Text, "<@"+member+"> ")
		if !ok || bot.HasPing(body) || !strings.Contains(body, "$5 per seat") {
			t.Fatalf("public text = %q", pubs[0].Text)
		}
		got := e.draft(d.ID)
		if got.State != bot.DraftPublished || got.PublicID != pubs[0].ID || got.PublicLink == "" {
			t.Fatalf("draft after publish = %+v", got)
		}
		if e.item(it.ID).Status != bot.ItemAnswered || e.item(it.ID).FirstAnsweredAt == nil {
			t.Fatalf("item not answered: %+v", e.item(it.ID))
		}
		c, _ := e.staff.Get(card.ID)
		if c.Card.AnsweredBy != "Alice Martin" || c.Card.ApprovedBy != "Bob Stone" || c.Card.PublicLink != got.PublicLink || c.Card.Status != bot.ItemAnswered {
			t.Fatalf("card after publish = %+v", c.Card)
		}
		last := e.staff.Thread(productCh, it.CardThread)
		if n := last[len(last)-1].Text; !strings.Contains(n, "Answered publicly by Alice Martin (approved by Bob Stone)") {
			t.Fatalf("last note = %q", n)
		}

		// Correction and retraction go through approval too.
		corr, err := e.correct(alice, d.ID, "It is $6 per seat since November.")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.act(bob, bot.ActApprove, corr.ID); err != nil {
			t.Fatal(err)
		}
		e.drain()
		if p, _ := e.pub.Get(pubs[0].ID); !strings.Contains(p.Text, "$6 per seat") || p.Edits != 1 {
			t.Fatalf("corrected post = %+v", p)
		}
		if v := e.draft(d.ID).Versions; len(v) != 2 || v[1].Text != "It is $6 per seat since November." {
			t.Fatalf("versions after correction = %+v", v)
		}
		ret, err := e.retract(alice, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.act(lead, bot.ActApprove, ret.ID); err != nil { // an approver by group
			t.Fatal(err)
		}
		e.drain()
		if len(e.publicPosts(helpChan)) != 0 {
			t.Fatal("the retracted reply is still public")
		}
		if e.draft(d.ID).State != bot.DraftRetracted || e.item(it.ID).Status == bot.ItemAnswered {
			t.Fatalf("after retraction: draft %s, item %s", e.draft(d.ID).State, e.item(it.ID).Status)
		}
		if e.pub.Sends(bot.OpPublish) != 1 {
			t.Fatalf("publish sent %d times", e.pub.Sends(bot.OpPublish))
		}
	})
}

func TestRejectWithdraw(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		it, _ := e.askPricing()
		d, err := e.createDraft(alice, it.ID, "It's free!")
		if err != nil {
			t.Fatal(err)
		}
		expectErr(t, e.reject(carol, d.ID, "no"), bot.ErrNotApprover)
		if err := e.reject(bob, d.ID, ""); bot.ErrorCode(err) != bot.EINVALID {
			t.Fatalf("reject without reason: %v", err)
		}
		if err := e.reject(bob, d.ID, "It is not free, see the pricing page."); err != nil {
			t.Fatal(err)
		}
		e.drain()
		got := e.draft(d.ID)
		if got.State != bot.DraftRejected || got.RejectReason == "" {
			t.Fatalf("draft = %+v", got)
		}
		var told bool
		for _, p := range e.staff.Posts(productCh) {
			if p.ToUser == "U0ALICE" && strings.Contains(p.Text, "It is not free") && strings.Contains(p.Text, "Bob Stone") {
				told = true
			}
		}
		if !told {
			t.Fatal("the author was not told the reason")
		}
		if e.item(it.ID).Status != bot.ItemClaimed {
			t.Fatalf("item after reject = %s", e.item(it.ID).Status)
		}
		expectErr(t, e.act(bob, bot.ActApprove, d.ID), bot.ErrIllegalTransition)

		d2, err := e.createDraft(alice, it.ID, "Second try")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.act(alice, bot.ActWithdraw, d2.ID); err != nil {
			t.Fatal(err)
		}
		expectErr(t, e.act(alice, bot.ActWithdraw, d2.ID), bot.ErrIllegalTransition)
		expectErr(t, e.act(bob, bot.ActApprove, d2.ID), bot.ErrIllegalTransition)
		e.drain()
		if len(e.publicPosts(helpChan)) != 0 {
			t.Fatal("a rejected or withdrawn draft was published")
		}
	})
}

func TestFourEyes(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		it, _ := e.askPricing()
		d, err := e.createDraft(bob, it.ID, "Bob answers himself")
		if err != nil {
			t.Fatal(err)
		}
		expectErr(t, e.act(bob, bot.ActApprove, d.ID), bot.ErrSelfApproval)
		expectErr(t, e.editApprove(bob, d.ID, "sneaky edit"), bot.ErrSelfApproval)
		if got := e.draft(d.ID); got.State != bot.DraftPending || len(got.Versions) != 1 {
			t.Fatalf("refused self-approval changed the draft: %+v", got)
		}
		// Another approver may edit then approve; the author stays the
		// signer, and nothing goes out until he accepts the new words.
		if err := e.editApprove(lead, d.ID, "Bob's answer, reviewed"); err != nil {
			t.Fatal(err)
		}
		e.drain()
		if got := e.draft(d.ID); got.State != bot.DraftAwaitingSigner || len(e.publicPosts(helpChan)) != 0 {
			t.Fatalf("edited draft is %s with %d public posts: words Bob never saw went out under his name", got.State, len(e.publicPosts(helpChan)))
		}
		dc := e.draftCard(it, d.ID)
		if want := []bot.ActionID{bot.ActAccept, bot.ActWithdraw, bot.ActReject}; !slices.Equal(actionsOf(dc.Actions), want) {
			t.Errorf("awaiting draft card offers %v, want %v", actionsOf(dc.Actions), want)
		}
		if dc.Changes != "− Bob answers himself\n+ Bob's answer, reviewed" || dc.ChangesLabel == "" {
			t.Errorf("draft card changes = %q (%q)", dc.Changes, dc.ChangesLabel)
		}
		if !slices.ContainsFunc(e.staff.Posts(productCh), func(p mock.Post) bool {
			return p.ToUser == bob.UserID && strings.Contains(p.Text, "changed the words of your draft") && strings.Contains(p.Text, "Accept & publish")
		}) {
			t.Errorf("Bob was not asked to accept: %+v", e.staff.Posts(productCh))
		}
		jobs, audits := e.counts()
		for _, a := range []bot.Actor{lead, carol, alice} {
			expectErr(t, e.act(a, bot.ActAccept, d.ID), bot.ErrNotSigner)
		}
		expectErr(t, e.act(lead, bot.ActApprove, d.ID), bot.ErrIllegalTransition)
		if j, a := e.counts(); j != jobs || a != audits {
			t.Errorf("refused acceptances changed something: jobs %d→%d, audit %d→%d", jobs, j, audits, a)
		}
		if err := e.act(bob, bot.ActAccept, d.ID); err != nil {
			t.Fatal(err)
		}
		e.drain()
		pubs := e.publicPosts(helpChan)
		if len(pubs) != 1 || pubs[0].Username != "Bob Stone · Acme" || !strings.Contains(pubs[0].Text, "reviewed") {
			t.Fatalf("public = %+v", pubs)
		}
		got := e.draft(d.ID)
		if len(got.Versions) != 2 || got.Versions[0].Text != "Bob answers himself" || got.State != bot.DraftPublished {
			t.Fatalf("draft = %s, versions = %+v", got.State, got.Versions)
		}
		var audit []*bot.AuditEvent
		if err := db.InTx(e.ctx, func(tx bot.Tx) (err error) {
			audit, err = tx.AuditFor(e.ctx, "draft:"+itoa(d.ID))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		var edit, accept bool
		for _, a := range audit {
			if a.Action == "draft.edit" && strings.Contains(a.Before, "Bob answers himself") && strings.Contains(a.After, "reviewed") && a.Actor == lead.String() {
				edit = true
			}
			accept = accept || (a.Action == "draft.accept" && a.Actor == bob.String())
		}
		if !edit || !accept {
			t.Fatalf("audit lacks the edit with both versions (%v) or Bob's acceptance (%v): %+v", edit, accept, audit)
		}
	})
}

// TestEditUnchangedNeedsNoAcceptance: Edit & approve that keeps the words
// is an approval.
func TestEditUnchangedNeedsNoAcceptance(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		it, _ := e.askPricing()
		d, err := e.createDraft(alice, it.ID, "Pricing is on the website.")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.editApprove(bob, d.ID, "Pricing is on the website."); err != nil {
			t.Fatal(err)
		}
		e.drain()
		if got := e.draft(d.ID); got.State != bot.DraftPublished || len(got.Versions) != 1 {
			t.Fatalf("unchanged edit: %s, %d versions", got.State, len(got.Versions))
		}
	})
}

func TestSelfApprovalAllowed(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db, func(_ *bot.Settings, routes *[]bot.Route) { (*routes)[0].Policy.AllowSelfApproval = true })
		it, _ := e.askPricing()
		d, err := e.createDraft(bob, it.ID, "Bob answers himself")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.act(bob, bot.ActApprove, d.ID); err != nil {
			t.Fatal(err)
		}
		e.drain()
		if len(e.publicPosts(helpChan)) != 1 {
			t.Fatal("self-approved draft not published")
		}
	})
}

func TestTrustedAuto(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.receive(e.post(helpChan, "my login does not work"), bot.IntakeNew) // default route, trusted-auto
		e.drain()
		_, it := e.card(supportCh)

		d, err := e.createDraft(alice, it.ID, "Try resetting your password.")
		if err != nil {
			t.Fatal(err)
		}
		e.drain()
		if e.draft(d.ID).State != bot.DraftPending || len(e.publicPosts(helpChan)) != 0 {
			t.Fatal("an untrusted volunteer published without review")
		}
		if r := e.command(carol, bot.ActPromote, "U0ALICE"); !errors.Is(r.Err, bot.ErrNotApprover) {
			t.Fatalf("non-approver promoted: %+v", r)
		}
		// Lead approves the product route only: promoting Alice in the
		// support channel trusts her on product, never on support.
		if r := e.commandIn(supportCh, lead, bot.ActPromote, "U0ALICE"); r.Refused || !strings.Contains(r.Text, "trusted on route product") {
			t.Fatalf("lead's promote: %+v", r)
		}
		d1b, err := e.createDraft(alice, it.ID, "Trusted elsewhere is not trusted here.")
		if err != nil {
			t.Fatal(err)
		}
		e.drain()
		if e.draft(d1b.ID).State != bot.DraftPending || len(e.publicPosts(helpChan)) != 0 {
			t.Fatal("trust on the product route let Alice publish alone on support")
		}
		if err := e.act(alice, bot.ActWithdraw, d1b.ID); err != nil {
			t.Fatal(err)
		}
		// Nobody trusts themselves, on any route.
		jobs, audits := e.counts()
		if r := e.commandIn(supportCh, bob, bot.ActPromote, "U0BOB"); !errors.Is(r.Err, bot.ErrSelfTrust) {
			t.Fatalf("self-promotion: %+v", r)
		}
		if j, a := e.counts(); j != jobs || a != audits {
			t.Errorf("refused self-promotion changed something: jobs %d→%d, audit %d→%d", jobs, j, audits, a)
		}
		// Bob approves both routes: he says where.
		if r := e.command(bob, bot.ActPromote, "U0ALICE"); !r.Refused || !strings.Contains(r.Text, "several routes") {
			t.Fatalf("promote without a place: %+v", r)
		}
		if r := e.commandIn(supportCh, bob, bot.ActPromote, "U0ALICE"); r.Refused || !strings.Contains(r.Text, "Alice Martin is now trusted on route support") {
			t.Fatalf("promote: %+v", r)
		}
		e.drain()
		if !slices.ContainsFunc(e.staff.Posts(supportCh), func(p mock.Post) bool {
			return strings.Contains(p.Text, "trusted Alice Martin on route support")
		}) {
			t.Error("the support channel was not told of the promotion")
		}
		jobs, audits = e.counts()
		if r := e.commandIn(supportCh, bob, bot.ActPromote, "U0ALICE"); r.Refused || r.Text != "Alice Martin is already trusted on route support." {
			t.Errorf("a second promote: %+v", r)
		}
		if j, a := e.counts(); j != jobs || a != audits {
			t.Errorf("a promote that changed nothing wrote: jobs %d→%d, audit %d→%d", jobs, j, audits, a)
		}
		d2, err := e.createDraft(alice, it.ID, "Or write to support@acme.test.")
		if err != nil {
			t.Fatal(err)
		}
		e.drain()
		if got := e.draft(d2.ID); got.State != bot.DraftPublished {
			t.Fatalf("trusted draft = %s", got.State)
		}
		if len(e.publicPosts(helpChan)) != 1 {
			t.Fatalf("public posts = %d", len(e.publicPosts(helpChan)))
		}
		// Demoted, she is reviewed again.
		if r := e.commandIn(supportCh, bob, bot.ActDemote, "U0ALICE"); r.Refused || !strings.Contains(r.Text, "no longer trusted on route support") {
			t.Fatalf("demote: %+v", r)
		}
		d3, err := e.createDraft(alice, it.ID, "One more thing.")
		if err != nil {
			t.Fatal(err)
		}
		if got := e.draft(d3.ID); got.State != bot.DraftPending {
			t.Fatalf("demoted draft = %s", got.State)
		}
	})
}

func TestMissingConsent(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		it, _ := e.askPricing()
		d, err := e.createDraft(carol, it.ID, "Carol's answer")
		if err != nil {
			t.Fatal(err)
		}
		e.drain()
		var asked bool
		for _, p := range e.staff.Posts(productCh) {
			if p.ToUser == "U0CAROL" && strings.Contains(p.Text, "/liaison profile") {
				asked = true
			}
		}
		if !asked {
			t.Fatal("author without consent was not asked to set up a profile")
		}
		if e.item(it.ID).Status != bot.ItemDrafting {
			t.Fatalf("item = %s, want drafting while the draft waits", e.item(it.ID).Status)
		}
		expectErr(t, e.act(bob, bot.ActApprove, d.ID), bot.ErrNoConsent)
		e.drain()
		if len(e.publicPosts(helpChan)) != 0 || e.draft(d.ID).State != bot.DraftPending {
			t.Fatal("published without consent")
		}
		if err := e.saveProfile(carol, bot.ProfileInput{Name: ""}); bot.ErrorCode(err) != bot.EINVALID {
			t.Fatalf("empty name accepted: %v", err)
		}
		if err := e.saveProfile(carol, bot.ProfileInput{Name: "Carol", AvatarURL: "javascript:alert(1)", Consent: true}); bot.ErrorCode(err) != bot.EINVALID {
			t.Fatalf("bad avatar accepted: %v", err)
		}
		e.mustProfile(carol, bot.ProfileInput{Name: "Carol Diaz", Title: "Support Engineer", Consent: true})
		e.drain()
		if e.item(it.ID).Status != bot.ItemAwaitingApproval {
			t.Fatalf("item = %s after consent", e.item(it.ID).Status)
		}
		if err := e.act(bob, bot.ActApprove, d.ID); err != nil {
			t.Fatal(err)
		}
		e.drain()
		if pubs := e.publicPosts(helpChan); len(pubs) != 1 || pubs[0].Username != "Carol Diaz · Acme" {
			t.Fatalf("public = %+v", pubs)
		}
	})
}

func TestIntakeIgnoresBotsAndUnwatched(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		for _, in := range []bot.Incoming{
			func() bot.Incoming { in := e.post(helpChan, "pricing from a bot"); in.Bot = true; return in }(),
			func() bot.Incoming { in := e.post(helpChan, "pricing by webhook"); in.Webhook = true; return in }(),
			func() bot.Incoming { in := e.post(helpChan, "pricing, said Liaison"); in.Self = true; return in }(),
			e.post("999999999999999999", "pricing in an unwatched channel"),
		} {
			e.receive(in, bot.IntakeIgnored)
		}
		e.drain()
		if n := len(e.staff.Posts(productCh)) + len(e.staff.Posts(supportCh)) + len(e.staff.Posts(adminCh)); n != 0 {
			t.Fatalf("%d internal posts for ignored messages", n)
		}
	})
}

func TestUnroutedToldOnce(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db, withoutDefaultRoute)
		e.receive(e.post(helpChan, "hello there"), bot.IntakeUnrouted)
		e.receive(e.post(helpChan, "anyone?"), bot.IntakeUnrouted)
		e.drain()
		if n := len(e.staff.Posts(adminCh)); n != 1 {
			t.Fatalf("admin told %d times, want once", n)
		}
		e.receive(e.post(forumChan, "hello forum"), bot.IntakeUnrouted)
		e.drain()
		if n := len(e.staff.Posts(adminCh)); n != 2 {
			t.Fatalf("admin told %d times for two channels", n)
		}
	})
}

func TestForumPostAndThread(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		thread := "222222222222222222"
		open := bot.Incoming{Conn: publicConn, Channel: thread, ParentChannel: forumChan, ThreadID: thread, NewThread: true, ID: thread,
			AuthorID: member, AuthorName: "Mia", Text: "Feature request: dark mode", At: e.clock.Now()}
		e.receive(open, bot.IntakeNew)
		fu := bot.Incoming{Conn: publicConn, Channel: thread, ParentChannel: forumChan, ThreadID: thread, ID: "222222222222222223",
			AuthorID: member, AuthorName: "Mia", Text: "with a toggle please", At: e.clock.Now()}
		e.receive(fu, bot.IntakeFollowUp)
		e.drain()
		_, it := e.card(productCh)
		if it.ThreadChannel != thread || it.Channel != forumChan {
			t.Fatalf("item = %+v", it)
		}
		d, err := e.createDraft(alice, it.ID, "On the roadmap!")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.act(bob, bot.ActApprove, d.ID); err != nil {
			t.Fatal(err)
		}
		e.drain()
		pubs := e.publicPosts(forumChan)
		if len(pubs) != 1 || pubs[0].ThreadID != thread {
			t.Fatalf("reply not in the forum post's thread: %+v", pubs)
		}
		if err := e.svc.Edit(e.ctx, bot.MessageKey{Conn: publicConn, Channel: thread, ID: thread}, "Feature request: dark mode, again", e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		e.drain()
		card, _ := e.card(productCh)
		if !card.Card.Edited {
			t.Fatal("editing a forum post's first message did not update the card")
		}
	})
}

func TestIllegalTransitions(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		it, _ := e.askPricing()
		if err := e.act(alice, bot.ActIgnore, it.ID); err != nil {
			t.Fatal(err)
		}
		expectErr(t, e.act(alice, bot.ActIgnore, it.ID), bot.ErrIllegalTransition)
		_, err := e.createDraft(alice, it.ID, "answer to an ignored item")
		expectErr(t, err, bot.ErrIllegalTransition)
		if got := e.item(it.ID); got.Status != bot.ItemIgnored || got.Assignee != 0 {
			t.Fatalf("refused action changed the item: %+v", got)
		}
		var te *bot.TransitionError
		if err := e.act(alice, bot.ActClaim, it.ID); !errors.As(err, &te) || te.From != "ignored" {
			t.Fatalf("claim of an ignored item: %v", err)
		}
		if _, err := e.createDraft(alice, 424242, "x"); !errors.Is(err, bot.ErrNotFound) {
			t.Fatalf("draft for a missing item: %v", err)
		}
		if _, err := e.createDraft(alice, it.ID, "   "); !errors.Is(err, bot.ErrEmptyText) {
			t.Fatalf("empty draft: %v", err)
		}
	})
}

func TestOutboxRateLimitAndUnknownOutcome(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		it, _ := e.askPricing()
		d, _ := e.createDraft(alice, it.ID, "Answer one")
		e.pub.FailNext(mock.Failure{Kind: bot.OpPublish, Err: bot.RetryAfter(3*time.Second, errors.New("ratelimited"))})
		// The call goes through, but the answer is lost.
		e.pub.FailNext(mock.Failure{Kind: bot.OpPublish, Err: errors.New("connection reset"), Applied: true})
		if err := e.act(bob, bot.ActApprove, d.ID); err != nil {
			t.Fatal(err)
		}
		e.drain()
		if len(e.publicPosts(helpChan)) != 0 {
			t.Fatal("published during the rate limit")
		}
		e.clock.Advance(3 * time.Second)
		e.drain()
		if len(e.publicPosts(helpChan)) != 1 {
			t.Fatal("the lost-answer attempt did not post")
		}
		e.clock.Advance(time.Minute)
		e.drain()
		if n := len(e.publicPosts(helpChan)); n != 1 {
			t.Fatalf("published %d times", n)
		}
		if e.pub.Finds() != 1 || e.pub.Sends(bot.OpPublish) != 2 {
			t.Fatalf("finds %d, sends %d: want a reconcile instead of a third send", e.pub.Finds(), e.pub.Sends(bot.OpPublish))
		}
		if got := e.draft(d.ID); got.State != bot.DraftPublished || got.PublicID == "" {
			t.Fatalf("draft = %+v", got)
		}
	})
}

func TestOutboxPermanentFailure(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		it, card := e.askPricing()
		d, _ := e.createDraft(alice, it.ID, "Answer")
		e.pub.FailNext(mock.Failure{Kind: bot.OpPublish, Err: bot.Permanent(errors.New("missing permissions"))})
		if err := e.act(bob, bot.ActApprove, d.ID); err != nil {
			t.Fatal(err)
		}
		e.drain()
		if got := e.draft(d.ID); got.State != bot.DraftFailed {
			t.Fatalf("draft = %s, want failed", got.State)
		}
		var told bool
		for _, p := range e.staff.Thread(productCh, card.ID) {
			if strings.Contains(p.Text, "could not be published") && strings.Contains(p.Text, "missing permissions") {
				told = true
			}
		}
		if !told {
			t.Fatal("the internal thread was not told")
		}
		// An approver retries by approving again.
		if err := e.act(bob, bot.ActApprove, d.ID); err != nil {
			t.Fatal(err)
		}
		e.drain()
		if len(e.publicPosts(helpChan)) != 1 || e.draft(d.ID).State != bot.DraftPublished {
			t.Fatal("retry after failure did not publish")
		}
	})
}

func TestOutboxCrashRecovery(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		it, _ := e.askPricing()
		d, _ := e.createDraft(alice, it.ID, "Answer")
		e.drain()
		if err := e.act(bob, bot.ActApprove, d.ID); err != nil {
			t.Fatal(err)
		}
		// A worker claims the publish job and dies before finishing.
		jobs, err := db.ClaimJobs(e.ctx, "dead-worker", e.clock.Now(), time.Minute, 10, bot.Skip{})
		if err != nil || len(jobs) == 0 {
			t.Fatalf("claim: %v %d", err, len(jobs))
		}
		e.drain()
		if len(e.publicPosts(helpChan)) != 0 {
			t.Fatal("a leased job ran before its lease expired")
		}
		e.clock.Advance(2 * time.Minute)
		e.drain()
		if n := len(e.publicPosts(helpChan)); n != 1 {
			t.Fatalf("published %d times after recovery", n)
		}
		if e.pub.Finds() == 0 {
			t.Fatal("the recovered job was not reconciled before sending")
		}
	})
}

func itoa(n int64) string {
	const digits = "0123456789"
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{digits[n%10]}, b...)
	}
	return string(b)
}

func TestRetentionPurge(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		old := e.post(helpChan, "my email is mia@example.com, what is the pricing?")
		e.receive(old, bot.IntakeNew)
		e.clock.Advance(48 * time.Hour)
		recent := e.post(helpChan, "and the pricing for schools?")
		e.receive(recent, bot.IntakeNew)
		n, err := e.svc.Purge(e.ctx, 24*time.Hour)
		if err != nil || n != 1 {
			t.Fatalf("purge: %d %v", n, err)
		}
		if err := db.InTx(e.ctx, func(tx bot.Tx) error {
			m, err := tx.MessageByKey(e.ctx, bot.MessageKey{Conn: publicConn, Channel: helpChan, ID: old.ID})
			if err != nil || m.Text != "" || m.ItemID == 0 {
				t.Errorf("old message after purge: %+v %v", m, err)
			}
			m, err = tx.MessageByKey(e.ctx, bot.MessageKey{Conn: publicConn, Channel: helpChan, ID: recent.ID})
			if err != nil || m.Text == "" {
				t.Errorf("recent message purged: %+v %v", m, err)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestAttentionRemindsThenEscalatesOnce(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db, func(_ *bot.Settings, routes *[]bot.Route) { (*routes)[0].Policy.SLA = 4 * time.Hour })
		it, card := e.askPricing()
		d, err := e.createDraft(alice, it.ID, "Draft waiting")
		if err != nil {
			t.Fatal(err)
		}
		count := func(sub string) int {
			n := 0
			for _, p := range e.staff.Posts(productCh) {
				if strings.Contains(p.Text, sub) {
					n++
				}
			}
			return n
		}
		attend := func() {
			t.Helper()
			if err := e.svc.Attend(e.ctx); err != nil {
				t.Fatal(err)
			}
			e.drain()
		}
		attend()
		if count("waited") != 0 {
			t.Fatal("reminded before the SLA")
		}
		e.clock.Advance(5 * time.Hour)
		attend()
		attend()
		if n := count("waited 5 hours for a public answer"); n != 1 {
			t.Fatalf("%d reminders, want 1", n)
		}
		e.clock.Advance(4 * time.Hour)
		attend()
		attend()
		var toBob, inThread int
		for _, p := range e.staff.Posts(productCh) {
			if p.ToUser == "U0BOB" && strings.Contains(p.Text, "awaiting your approval (#"+itoa(d.ID)+")") {
				toBob++
			}
			if p.ThreadID == card.ID && strings.Contains(p.Text, "Escalated to the approvers") {
				inThread++
			}
		}
		if toBob != 1 || inThread != 1 {
			t.Fatalf("escalation: %d to Bob, %d in the thread; want 1 and 1", toBob, inThread)
		}
		// An answered item is left alone.
		if err := e.act(bob, bot.ActApprove, d.ID); err != nil {
			t.Fatal(err)
		}
		e.drain()
		other, _ := e.svc.Item(e.ctx, it.ID)
		if other.Status != bot.ItemAnswered {
			t.Fatalf("status %s", other.Status)
		}
	})
}

func TestCardShowsMemberHistory(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		first := e.post(helpChan, "login broken")
		e.receive(first, bot.IntakeNew)
		e.drain()
		e.clock.Advance(time.Hour)
		e.receive(e.post(helpChan, "still broken"), bot.IntakeNew)
		e.drain()
		var cards []mock.Post
		for _, p := range e.staff.Posts(supportCh) {
			if p.Card != nil {
				cards = append(cards, p)
			}
		}
		if len(cards) != 2 {
			t.Fatalf("%d cards", len(cards))
		}
		if h := cards[1].Card.History; len(h) != 1 || h[0].ItemID != cards[0].Card.ItemID || h[0].Snippet != "login broken" {
			t.Fatalf("second card history = %+v", h)
		}
		// Refresh the first card: it must not list the later item.
		if err := e.act(alice, bot.ActClaim, cards[0].Card.ItemID); err != nil {
			t.Fatal(err)
		}
		e.drain()
		if got, _ := e.staff.Get(cards[0].ID); len(got.Card.History) != 0 {
			t.Fatalf("first card lists later items: %+v", got.Card.History)
		}
	})
}

func TestGlobalRateLimitHoldsTheConnection(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.staff.FailNext(mock.Failure{Kind: bot.OpPostCard, Err: bot.RetryAfterGlobal(10*time.Second, errors.New("global rate limit"))})
		e.receive(e.post(helpChan, "what is the pricing?"), bot.IntakeNew) // → #product
		e.receive(e.post(helpChan, "login broken"), bot.IntakeNew)         // → #support
		e.drain()
		if n := e.staff.Sends(bot.OpPostCard); n != 1 {
			t.Fatalf("%d card posts during a global rate limit, want 1 (the refused one)", n)
		}
		e.clock.Advance(10 * time.Second)
		e.drain()
		if len(e.staff.Posts(productCh)) != 1 || len(e.staff.Posts(supportCh)) != 1 {
			t.Fatal("cards not posted after the wait")
		}
	})
}
