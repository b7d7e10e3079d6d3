package bot_test

import (
	"strings"
	"testing"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/storage"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// TestIntakeStoresAnyText: a platform may deliver text no database column
// takes as it is — a NUL byte (Postgres text cannot hold U+0000) or bytes
// that are not UTF-8. Every such message is still stored and relayed, the
// same way on both engines: NUL removed, invalid bytes replaced by U+FFFD,
// in the text, the author's names and the attachments' names alike.
func TestIntakeStoresAnyText(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		in := e.post(helpChan, "pricing\x00 for \xffteams")
		in.AuthorName, in.AuthorHandle = "Mi\x00a", "mia\xfe"
		in.Attachments = []bot.Attachment{{Name: "shot\x00.png", URL: "https://cdn.test/shot\x00.png"}}
		e.receive(in, bot.IntakeNew)
		e.receive(in, bot.IntakeDuplicate) // a redelivery is still recognised
		e.drain()
		card, it := e.card(productCh)
		if want := "pricing for \uFFFDteams"; card.Card.Text != want {
			t.Fatalf("card text = %q, want %q", card.Card.Text, want)
		}
		if !strings.Contains(card.Card.AuthorName, "Mia") || !strings.Contains(card.Card.AuthorName, "mia\uFFFD") {
			t.Errorf("card author = %q, want Mia and mia\uFFFD", card.Card.AuthorName)
		}
		if a := card.Card.Attachments; len(a) != 1 || a[0].Name != "shot.png" || a[0].URL != "https://cdn.test/shot.png" {
			t.Errorf("card attachments = %+v", a)
		}

		// A follow-up, then an edit of the first message, both with a NUL.
		fu := e.post(helpChan, "also\x00 on mobile")
		fu.ReplyTo = in.ID
		e.receive(fu, bot.IntakeFollowUp)
		e.drain()
		notes := e.staff.Thread(productCh, it.CardThread)
		if len(notes) != 1 || !strings.Contains(notes[0].Text, "also on mobile") {
			t.Fatalf("follow-up notes = %+v", notes)
		}
		key := bot.MessageKey{Conn: publicConn, Channel: helpChan, ID: in.ID}
		if err := e.svc.Edit(e.ctx, key, "pricing\x00 for \xffteams, on mobile too", e.clock.Now()); err != nil {
			t.Fatalf("edit with a NUL: %v", err)
		}
		e.drain()
		got, _ := e.staff.Get(card.ID)
		if want := "pricing for \uFFFDteams, on mobile too"; !got.Card.Edited || got.Card.Text != want {
			t.Fatalf("card after the edit = %q (edited %v), want %q", got.Card.Text, got.Card.Edited, want)
		}
		// The same edit redelivered changes nothing.
		if err := e.svc.Edit(e.ctx, key, "pricing\x00 for \xffteams, on mobile too", e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		e.drain()
		if again, _ := e.staff.Get(card.ID); again.Edits != got.Edits {
			t.Errorf("a redelivered edit updated the card again (%d edits, want %d)", again.Edits, got.Edits)
		}

		// In the internal thread: a draft by the reply prefix, and its
		// author's first profile, from a name with a NUL.
		carolNUL := bot.Actor{Conn: staffConn, UserID: carol.UserID, Name: "Ca\x00rol"}
		if out := e.threadMessage(carolNUL, it.CardThread, "m1", "!reply On\x00 its way\xff."); out != bot.IntakeDraft {
			t.Fatalf("!reply with a NUL: %s, want a draft", out)
		}
		if d := e.newest(it.ID); d.Text() != "On its way\uFFFD." {
			t.Fatalf("draft text = %q", d.Text())
		}
	})
}

// TestFormsStoreAnyText: what a person types into a form is stored the
// same way on both engines: a NUL pasted into a reply or a profile name
// does not make the submission fail.
func TestFormsStoreAnyText(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		e.receive(e.post(helpChan, "pricing for teams"), bot.IntakeNew)
		e.drain()
		_, it := e.card(productCh)
		if err := e.submit(carol, bot.ActReply, it.ID, map[string]string{bot.FieldTextID: "On\x00 its way\xff."}); err != nil {
			t.Fatalf("a reply with a NUL: %v", err)
		}
		if d := e.newest(it.ID); d.Text() != "On its way\uFFFD." {
			t.Fatalf("draft text = %q", d.Text())
		}
	})
}
