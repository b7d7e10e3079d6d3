package discord_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// A webhook's URL holds its token, and with the token anyone can post in
// the channel under any name. net/http quotes the URL in the error of a
// call that timed out or was reset, and discordgo in a rate limit's: these
// tests make every webhook call Liaison makes fail every way, and then look
// for the token everywhere Liaison writes.

// callTimeout bounds one platform call in these tests: a hung call ends
// quickly, and the fakes answer the others in milliseconds.
const callTimeout = 2 * time.Second

// newLeakWorld starts a world whose logs are kept, to be searched, and
// whose outbox gives up on a job after two failures.
func newLeakWorld(t *testing.T, engine string) *world {
	t.Helper()
	return newWorld(t, worldOpts{engine: engine, keepLogs: true, worker: func(wk *bot.Worker) {
		wk.CallTimeout, wk.MaxFailures = callTimeout, 2
	}})
}

// secrets are the credentials of the world: the bot tokens and the token
// of every webhook in the public guild.
func (w *world) secrets() map[string]string {
	s := map[string]string{"the community bot token": pubToken, "the internal bot token": innerToken}
	for _, ch := range []string{general, help, offTopic} {
		for _, h := range w.pub.Webhooks(ch) {
			s["the token of webhook "+h.ID] = h.Token
		}
	}
	return s
}

// noSecretAnywhere fails if a credential of the world is in Liaison's logs,
// in any row of its database, or in anything either fake received: the
// bodies of every call, which hold every card, note, DM, answer and public
// post (the paths of webhook calls legitimately hold the token, and are
// not searched). It returns the dump, for more checks.
func (w *world) noSecretAnywhere() string {
	w.t.Helper()
	dump := storagetest.Dump(w.t, w.dsn)
	places := map[string]string{"the logs": w.logs.String(), "the database": dump}
	for name, f := range map[string]*discordfake.Fake{"the public Discord": w.pub, "the internal Discord": w.inner} {
		var b strings.Builder
		for _, c := range f.Calls() {
			fmt.Fprintf(&b, "%s %s: ?%s %s\n", c.Method, c.Route, c.Query, c.Body)
		}
		places["what "+name+" received"] = b.String()
	}
	for what, secret := range w.secrets() {
		for where, text := range places {
			if i := strings.Index(text, secret); i >= 0 {
				w.t.Errorf("%s is in %s: …%s…", what, where, text[max(0, i-200):min(len(text), i+len(secret)+50)])
			}
		}
	}
	return dump
}

// approveReply runs the story up to an approved reply to a new forum post:
// its publication is then the outbox's.
func (w *world) approveReply() (post discordfake.Channel, card discordfake.Message) {
	w.t.Helper()
	post, _ = w.openPost(maria, "Can't log in", question)
	card = w.card(1, nil)
	w.setUpProfile(alice, "Alice Martin", "Product Manager", aliceAvatar)
	w.click(w.inner, alice, feedback, card.ID, "liaison:reply:1")
	w.submit(w.inner, alice, feedback, "liaison:reply:1", map[string]string{bot.FieldTextID: answerText})
	w.click(w.inner, mona, card.ID, w.draftCard(card.ID, 1, nil).ID, "liaison:approve:1")
	return post, card
}

// approveCorrection has draft #2 correct the published draft #1, approved.
func (w *world) approveCorrection(card discordfake.Message) {
	w.t.Helper()
	if got := w.click(w.inner, alice, card.ID, w.draftCard(card.ID, 1, nil).ID, "liaison:correct:1"); got != "modal:liaison:correct:1" {
		w.t.Fatalf("Correct answered %q", got)
	}
	w.submit(w.inner, alice, card.ID, "liaison:correct:1", map[string]string{bot.FieldTextID: "Correction: the fix ships tomorrow, Maria."})
	w.click(w.inner, mona, card.ID, w.draftCard(card.ID, 2, nil).ID, "liaison:approve:2")
}

// approveRetraction has draft #2 retract the published draft #1, confirmed
// and approved.
func (w *world) approveRetraction(card discordfake.Message) {
	w.t.Helper()
	id, err := w.inner.Click(alice, card.ID, w.draftCard(card.ID, 1, nil).ID, "liaison:retract:1")
	if err != nil {
		w.t.Fatal(err)
	}
	_, ask := w.answerMessage(w.inner, id)
	w.click(w.inner, alice, card.ID, ask.ID, "liaison:retract:1:ok")
	w.click(w.inner, mona, card.ID, w.draftCard(card.ID, 2, nil).ID, "liaison:approve:2")
}

// TestFailedWebhookCallsLeakNoToken: every webhook call Liaison makes on
// the public side — the execution that publishes a reply, the edit that
// corrects it, the deletion that retracts it — times out, is reset, or
// meets a 5xx, until the outbox gives up and says so in the card's thread.
// The token of the webhook is then nowhere: not in the logs, not in the
// database (the outbox's last error, the audit log), not in the note nor
// in anything else either Discord received.
func TestFailedWebhookCallsLeakNoToken(t *testing.T) {
	faults := []struct {
		name  string
		fault discordfake.Fault
		said  string // what the recorded error says of the failure
	}{
		{"timeout", discordfake.Fault{Drop: discordfake.DropHang}, "deadline exceeded"},
		{"reset", discordfake.Fault{Drop: discordfake.DropReset}, ""},
		{"500", discordfake.Fault{Status: http.StatusInternalServerError}, "500"},
		{"502", discordfake.Fault{Status: http.StatusBadGateway}, "502"},
	}
	calls := []struct {
		name   string
		method string
		before func(w *world) discordfake.Message       // up to the call, which must not fail
		act    func(w *world, card discordfake.Message) // what makes Liaison call
		draft  int                                      // the draft that fails
	}{
		{"execute", "POST", nil, func(w *world, _ discordfake.Message) { w.approveReply() }, 1},
		{"edit", "PATCH", func(w *world) discordfake.Message { _, card, _ := w.publishedReply(); return card }, (*world).approveCorrection, 2},
		{"delete", "DELETE", func(w *world) discordfake.Message { _, card, _ := w.publishedReply(); return card }, (*world).approveRetraction, 2},
	}
	for _, c := range calls {
		for _, f := range faults {
			t.Run(c.name+"/"+f.name, func(t *testing.T) {
				t.Parallel()
				w := newLeakWorld(t, "sqlite")
				var card discordfake.Message
				if c.before != nil {
					card = c.before(w)
				}
				ft := f.fault
				ft.Method, ft.PathPrefix, ft.Times = c.method, "/webhooks/", 100
				w.pub.Inject(ft)
				c.act(w, card)
				if card.ID == "" {
					card = w.card(1, nil)
				}
				note := w.note(card.ID, fmt.Sprintf("Draft #%d could not be published", c.draft))
				t.Logf("note: %s", note.Content)

				dump := w.noSecretAnywhere()
				// The failure was recorded, so the search above looked
				// where the token used to be.
				failed := 0
				for _, call := range w.pub.Calls() {
					if call.Method == c.method && strings.HasPrefix(call.Path, "/api/v9/webhooks/") && (call.Dropped || call.Status >= 500) {
						failed++
					}
				}
				if failed < 2 {
					t.Errorf("%d failed webhook calls, want one per attempt", failed)
				}
				if !strings.Contains(dump, "state=dead") || !strings.Contains(dump, f.said) {
					t.Errorf("no dead job saying %q in the database", f.said)
				}
				if ft.Drop != 0 {
					hooks := w.pub.Webhooks(help)
					if len(hooks) != 1 || !strings.Contains(note.Content, "/webhooks/"+hooks[0].ID+"/***") {
						t.Errorf("note %q, want the URL called with its token hidden", note.Content)
					}
				}
			})
		}
	}
}

// TestLostWebhookAnswerReconciledLeaksNoToken: the execution that publishes
// a reply times out after Discord posted it. The outcome is unknown: the
// outbox reconciles, finds the reply and publishes nothing twice. The error
// it recorded on the way shows the URL without the token.
func TestLostWebhookAnswerReconciledLeaksNoToken(t *testing.T) {
	w := newLeakWorld(t, "sqlite")
	w.pub.Inject(discordfake.Fault{Method: "POST", PathPrefix: "/webhooks/", Drop: discordfake.DropHang, Applied: true})
	post, card := w.approveReply()
	w.note(card.ID, "Answered publicly by Alice Martin")
	if n := len(webhookPosts(w.pub, post.ID)); n != 1 {
		t.Errorf("%d public replies, want one", n)
	}
	dump := w.noSecretAnywhere()
	hooks := w.pub.Webhooks(help)
	if len(hooks) != 1 || !strings.Contains(dump, "/webhooks/"+hooks[0].ID+"/***") {
		t.Errorf("the outbox did not record the timed-out call with its token hidden:\n%s", dump)
	}
	if !strings.Contains(w.logs.String(), "outbox job reconciled") {
		t.Error("the publication was not reconciled")
	}
}

// TestRateLimitedWebhookLeaksNoToken: discordgo's rate-limit error quotes
// the URL it was refused; the outbox keeps that error as the job's last
// one after it waited and published.
func TestRateLimitedWebhookLeaksNoToken(t *testing.T) {
	w := newLeakWorld(t, "sqlite")
	w.pub.Inject(discordfake.Fault{Method: "POST", PathPrefix: "/webhooks/", Status: http.StatusTooManyRequests, RetryAfter: 200 * time.Millisecond})
	post, card := w.approveReply()
	w.note(card.ID, "Answered publicly by Alice Martin")
	if n := len(webhookPosts(w.pub, post.ID)); n != 1 {
		t.Errorf("%d public replies, want one", n)
	}
	dump := w.noSecretAnywhere()
	if !strings.Contains(dump, "Rate limit exceeded on") {
		t.Errorf("the rate limit is not recorded:\n%s", dump)
	}
}
