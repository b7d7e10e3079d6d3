package bot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/bot/mock"
	"github.com/liaison-bot/liaison/storage"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

const (
	billingCh   = "C0BILLING"
	otherMember = "222222222222222222"
	textForgot  = "The text was removed at the member's request."
	textPurged  = "The text was removed after the retention period."
)

// forEachEngineDSN is storagetest.ForEachEngine, also giving where the
// database is, so that a test can read every row of it (storagetest.Dump).
func forEachEngineDSN(t *testing.T, fn func(t *testing.T, db *storage.DB, dsn string)) {
	for _, engine := range storagetest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			dsn := storagetest.DSN(t, engine)
			db, err := storage.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			fn(t, db, dsn)
		})
	}
}

// withBilling adds a route whose only approver is Carol.
func withBilling(_ *bot.Settings, routes *[]bot.Route) {
	*routes = append(*routes, bot.Route{Name: "billing", Keywords: []string{"invoice"}, DestConn: staffConn, DestChannel: billingCh,
		Policy: bot.Policy{Mode: bot.ApprovalRequired, Approvers: []string{"U0CAROL"}}})
}

// staffSees is everything the internal side shows, as text.
func (e *env) staffSees() string {
	var b strings.Builder
	for _, ch := range []string{productCh, supportCh, billingCh, adminCh} {
		for _, p := range e.staff.Posts(ch) {
			fmt.Fprintf(&b, "%+v\n", p)
			if p.Card != nil {
				fmt.Fprintf(&b, "%+v\n", *p.Card)
			}
			if p.DraftCard != nil {
				fmt.Fprintf(&b, "%+v\n", *p.DraftCard)
			}
		}
	}
	return b.String()
}

func (e *env) count(table string) int64 {
	e.t.Helper()
	n, err := e.db.RowCount(e.ctx, table)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) message(key bot.MessageKey) *bot.Message {
	e.t.Helper()
	var m *bot.Message
	if err := e.db.View(e.ctx, func(tx bot.Tx) (err error) {
		m, err = tx.MessageByKey(e.ctx, key)
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return m
}

func (e *env) audit(subject string) []*bot.AuditEvent {
	e.t.Helper()
	var es []*bot.AuditEvent
	if err := e.db.View(e.ctx, func(tx bot.Tx) (err error) {
		es, err = tx.AuditFor(e.ctx, subject)
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return es
}

func keyOf(in bot.Incoming) bot.MessageKey {
	return bot.MessageKey{Conn: in.Conn, Channel: in.Channel, ID: in.ID}
}

// TestForget: an approver of one of the member's routes forgets them; the
// cards, notes and draft cards are edited to show neither their words nor
// their name, the database keeps the rows and counts but not the text,
// and an edit redelivered later brings nothing back. Anyone else is
// refused and nothing changes.
func TestForget(t *testing.T) {
	forEachEngineDSN(t, func(t *testing.T, db *storage.DB, dsn string) {
		e := newEnv(t, db, withBilling)
		q := e.post(helpChan, "what is the pricing? write to mia@example.com")
		q.AuthorHandle = "mia_h"
		q.Attachments = []bot.Attachment{{Name: "passport.png", URL: "https://cdn.test/passport.png"}}
		e.receive(q, bot.IntakeNew)
		e.drain()
		cardA, itemA := e.card(productCh)
		fu := e.post(helpChan, "my phone is 555-0100")
		fu.ReplyTo = q.ID
		e.receive(fu, bot.IntakeFollowUp)
		d, err := e.createDraft(alice, itemA.ID, "Teams start at 10 euros a seat.")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.act(bob, bot.ActApprove, d.ID); err != nil {
			t.Fatal(err)
		}
		e.drain()
		e.clock.Advance(time.Hour)
		e.receive(e.post(helpChan, "login broken since mia@example.com changed"), bot.IntakeNew)
		e.drain()
		cardB, itemB := e.card(supportCh)
		if h := cardB.Card.History; len(h) != 1 || !strings.Contains(h[0].Snippet, "pricing") {
			t.Fatalf("history before forgetting = %+v", h)
		}
		olga := e.post(helpChan, "login broken for me too")
		olga.AuthorID, olga.AuthorName = otherMember, "Olga"
		e.receive(olga, bot.IntakeNew)
		e.drain()
		if d := e.draft(d.ID); d.State != bot.DraftPublished || d.CardID == "" {
			t.Fatalf("draft not published with its card: %+v", d)
		}
		secrets := []string{"mia@example.com", "555-0100", "mia_h", "Mia", "passport"}
		for _, s := range secrets {
			if !strings.Contains(e.staffSees(), s) || !strings.Contains(storagetest.Dump(t, dsn), s) {
				t.Fatalf("%q is not shown and stored before forgetting: the test proves nothing", s)
			}
		}

		t.Run("ErrNotApprover", func(t *testing.T) {
			before := storagetest.Dump(t, dsn)
			for _, a := range []bot.Actor{alice, carol} { // a responder; an approver of another route
				_, err := e.svc.Forget(e.ctx, a, bot.MemberRef{ItemID: itemA.ID})
				expectErr(t, err, bot.ErrNotForgetter)
				_, err = e.svc.Forget(e.ctx, a, bot.MemberRef{Conn: publicConn, AuthorID: member})
				expectErr(t, err, bot.ErrNotForgetter)
			}
			if after := storagetest.Dump(t, dsn); after != before {
				t.Fatal("a refused forget changed the database")
			}
		})

		t.Run("ErrUnknown", func(t *testing.T) {
			before := storagetest.Dump(t, dsn)
			_, err := e.svc.Forget(e.ctx, lead, bot.MemberRef{Conn: publicConn, AuthorID: "333333333333333333"})
			expectErr(t, err, bot.ErrUnknownMember)
			_, err = e.svc.Forget(e.ctx, lead, bot.MemberRef{ItemID: 999})
			if bot.ErrorCode(err) != bot.ENOTFOUND || !strings.Contains(bot.ErrorMessage(err), "#999") {
				t.Fatalf("unknown item: %v", err)
			}
			if after := storagetest.Dump(t, dsn); after != before {
				t.Fatal("forgetting nobody changed the database")
			}
		})

		items, messages := e.count("items"), e.count("messages")
		// Lead approves the product route, one of the member's two.
		res, err := e.svc.Forget(e.ctx, lead, bot.MemberRef{ItemID: itemB.ID})
		if err != nil {
			t.Fatal(err)
		}
		if res.Items != 2 || res.Messages != 3 || res.Copies != 4 {
			t.Fatalf("result = %+v; want 2 items, 3 messages, 4 copies (2 cards, a note, a draft card)", res)
		}
		if txt := res.Text(); !strings.Contains(txt, "3 messages") || !strings.Contains(txt, "4 copies") {
			t.Fatalf("reply = %q", txt)
		}
		e.drain()

		// The internal copies.
		a, _ := e.staff.Get(cardA.ID)
		if a.Card.Text != textForgot || a.Card.AuthorName != "A community member" || len(a.Card.Attachments) != 0 {
			t.Errorf("card A after forgetting = %+v", a.Card)
		}
		b, _ := e.staff.Get(cardB.ID)
		if b.Card.Text != textForgot || len(b.Card.History) != 1 || b.Card.History[0].Snippet != "" {
			t.Errorf("card B after forgetting = %+v", b.Card)
		}
		var note *mock.Post
		for _, p := range e.staff.Thread(productCh, itemA.CardThread) {
			if strings.Contains(p.Text, fu.Link) {
				note = &p
			}
		}
		if note == nil || note.Edits == 0 || !strings.HasPrefix(note.Text, "A community member: "+textForgot) {
			t.Errorf("follow-up note after forgetting = %+v", note)
		}
		seen := e.staffSees()
		for _, s := range secrets {
			if strings.Contains(seen, s) {
				t.Errorf("the internal side still shows %q", s)
			}
		}
		if !strings.Contains(seen, "login broken for me too") || !strings.Contains(seen, "Olga") {
			t.Error("another member's card lost its text")
		}

		// The database: rows and counts kept, words and names gone.
		dump := storagetest.Dump(t, dsn)
		for _, s := range secrets {
			if strings.Contains(dump, s) {
				t.Errorf("the database still holds %q", s)
			}
		}
		if !strings.Contains(dump, "login broken for me too") || !strings.Contains(dump, "Olga") {
			t.Error("another member's message was erased")
		}
		if e.count("items") != items || e.count("messages") != messages {
			t.Errorf("rows: %d items, %d messages; want %d and %d", e.count("items"), e.count("messages"), items, messages)
		}
		if it := e.item(itemA.ID); it.Status != bot.ItemAnswered || it.AuthorID != member || it.AuthorName != "" {
			t.Errorf("item A after forgetting = %+v", it)
		}
		ev := e.audit("member:" + publicConn + ":" + member)
		if len(ev) != 1 || ev[0].Action != "member.forget" || ev[0].Actor != lead.String() || !strings.Contains(ev[0].After, `"messages":3`) {
			t.Fatalf("audit = %+v", ev)
		}

		// An edit redelivered later brings no text back.
		if err := e.svc.Edit(e.ctx, keyOf(fu), "my new phone is 555-0199", e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		e.drain()
		if m := e.message(keyOf(fu)); m.Text != "" || m.ForgottenAt == nil {
			t.Errorf("follow-up after an edit = %+v", m)
		}
		if strings.Contains(storagetest.Dump(t, dsn), "555-0199") || strings.Contains(e.staffSees(), "555-0199") {
			t.Error("an edit restored a forgotten member's text")
		}

		// Forgetting them again finds nothing more.
		again, err := e.svc.Forget(e.ctx, lead, bot.MemberRef{Conn: publicConn, AuthorID: member})
		if err != nil || again.Messages != 0 || !strings.Contains(again.Text(), "already forgotten") {
			t.Fatalf("forgetting again = %+v, %v", again, err)
		}
		if ev := e.audit("member:" + publicConn + ":" + member); len(ev) != 1 {
			t.Errorf("forgetting again audited %d events", len(ev))
		}

		// When they come back, their new item is theirs, and their history
		// shows no forgotten words.
		e.clock.Advance(time.Hour)
		e.receive(e.post(helpChan, "hello again"), bot.IntakeNew)
		e.drain()
		var latest *bot.Card
		for _, p := range e.staff.Posts(supportCh) {
			if p.Card != nil && strings.Contains(p.Card.Text, "hello again") {
				latest = p.Card
			}
		}
		if latest == nil || latest.AuthorName != "Mia" || len(latest.History) != 2 {
			t.Fatalf("the returning member's card = %+v", latest)
		}
		for _, h := range latest.History {
			if h.Snippet != "" {
				t.Errorf("history shows forgotten words: %+v", h)
			}
		}
	})
}

// TestForgetWithoutRoutedItems: a member whose messages no route took may
// be forgotten by an approver of any route, and not by anyone else.
func TestForgetWithoutRoutedItems(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db, withoutDefaultRoute, withBilling)
		in := e.post(helpChan, "nothing routes this")
		e.receive(in, bot.IntakeUnrouted)
		_, err := e.svc.Forget(e.ctx, alice, bot.MemberRef{Conn: publicConn, AuthorID: member})
		expectErr(t, err, bot.ErrNotForgetter)
		if m := e.message(keyOf(in)); m.Text != "nothing routes this" {
			t.Fatalf("a refused forget erased %+v", m)
		}
		res, err := e.svc.Forget(e.ctx, carol, bot.MemberRef{Conn: publicConn, AuthorID: member})
		if err != nil || res.Messages != 1 || res.Items != 0 || res.Copies != 0 {
			t.Fatalf("forget = %+v, %v", res, err)
		}
		if m := e.message(keyOf(in)); m.Text != "" || m.AuthorName != "" || m.ForgottenAt == nil {
			t.Fatalf("unrouted message after forgetting = %+v", m)
		}
	})
}

func TestParseMemberRef(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bot.MemberRef
	}{
		{"#42", bot.MemberRef{ItemID: 42}},
		{" 42 ", bot.MemberRef{ItemID: 42}},
		{"community:111111111111111111", bot.MemberRef{Conn: "community", AuthorID: "111111111111111111"}},
		{"community-slack: U123 ", bot.MemberRef{Conn: "community-slack", AuthorID: "U123"}},
	} {
		got, err := bot.ParseMemberRef(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseMemberRef(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "#", "#0", "#-3", "Mia", "community:", ":U1", "a:b:c"} {
		if _, err := bot.ParseMemberRef(in); bot.ErrorCode(err) != bot.EINVALID || !strings.Contains(bot.ErrorMessage(err), "#42") {
			t.Errorf("ParseMemberRef(%q) = %v; want a polite EINVALID", in, err)
		}
	}
}

// TestRetentionEditsCopies: the retention purge empties old text, and the
// card and notes of that text say so; names, rows and counts remain, and a
// later edit brings no text back.
func TestRetentionEditsCopies(t *testing.T) {
	forEachEngineDSN(t, func(t *testing.T, db *storage.DB, dsn string) {
		e := newEnv(t, db)
		q := e.post(helpChan, "my email is mia@example.com, what is the pricing?")
		e.receive(q, bot.IntakeNew)
		fu := e.post(helpChan, "and my phone is 555-0100")
		fu.ReplyTo = q.ID
		e.receive(fu, bot.IntakeFollowUp)
		e.drain()
		card, it := e.card(productCh)
		e.clock.Advance(48 * time.Hour)
		recent := e.post(helpChan, "login broken today")
		e.receive(recent, bot.IntakeNew)
		e.drain()
		items, messages := e.count("items"), e.count("messages")

		n, err := e.svc.Purge(e.ctx, 24*time.Hour)
		if err != nil || n != 2 {
			t.Fatalf("purge = %d, %v; want the 2 old messages", n, err)
		}
		e.drain()
		got, _ := e.staff.Get(card.ID)
		if got.Card.Text != textPurged || got.Card.AuthorName != "Mia" {
			t.Errorf("card after the purge = %+v", got.Card)
		}
		notes := e.staff.Thread(productCh, it.CardThread)
		if len(notes) != 1 || notes[0].Text != "Mia: "+textPurged+"\n"+fu.Link {
			t.Errorf("note after the purge = %+v", notes)
		}
		recentCard, _ := e.card(supportCh)
		if !strings.Contains(recentCard.Card.Text, "login broken today") || recentCard.Edits != 1 ||
			len(recentCard.Card.History) != 1 || recentCard.Card.History[0].Snippet != "" {
			t.Errorf("the member's recent card after the purge = %+v", recentCard.Card)
		}
		seen, dump := e.staffSees(), storagetest.Dump(t, dsn)
		for _, s := range []string{"mia@example.com", "555-0100"} {
			if strings.Contains(seen, s) || strings.Contains(dump, s) {
				t.Errorf("%q is still shown or stored after the purge", s)
			}
		}
		if e.count("items") != items || e.count("messages") != messages {
			t.Error("the purge removed rows")
		}
		ev := e.audit("messages")
		if len(ev) != 1 || ev[0].Action != "retention.purge" || !strings.Contains(ev[0].After, `"copies":3`) || !strings.Contains(ev[0].After, `"messages":2`) {
			t.Errorf("audit = %+v", ev)
		}

		// An edit of a purged message brings no text back.
		if err := e.svc.Edit(e.ctx, keyOf(q), "my email is now mia@example.org", e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		e.drain()
		if m := e.message(keyOf(q)); m.Text != "" || m.PurgedAt == nil {
			t.Errorf("purged message after an edit = %+v", m)
		}
		if got, _ := e.staff.Get(card.ID); got.Card.Text != textPurged {
			t.Errorf("card after an edit of purged text = %q", got.Card.Text)
		}
		// A second purge finds nothing more.
		if n, err := e.svc.Purge(e.ctx, 24*time.Hour); err != nil || n != 0 {
			t.Errorf("second purge = %d, %v", n, err)
		}
	})
}

// TestPurgePages: a purge larger than a page empties every old message,
// one page a transaction, each audited.
func TestPurgePages(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		// Unrouted messages, stored at once: only their number matters here.
		if err := db.InTx(e.ctx, func(tx bot.Tx) error {
			for i := range 501 {
				m := &bot.Message{Key: bot.MessageKey{Conn: publicConn, Channel: helpChan, ID: fmt.Sprintf("3%017d", i)},
					AuthorID: member, Text: fmt.Sprintf("unrouted words %d", i), CreatedAt: e.clock.Now()}
				if _, err := tx.InsertMessage(e.ctx, m); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(48 * time.Hour)
		n, err := e.svc.Purge(e.ctx, 24*time.Hour)
		if err != nil || n != 501 {
			t.Fatalf("purge = %d, %v; want 501", n, err)
		}
		if ev := e.audit("messages"); len(ev) != 2 || !strings.Contains(ev[0].After, `"messages":500`) || !strings.Contains(ev[1].After, `"messages":1`) {
			t.Fatalf("audit = %+v; want a page of 500 then one of 1", ev)
		}
	})
}
