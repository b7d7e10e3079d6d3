package discord_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
)

// TestEditsRepliesDeletes: a reply (message_reference) joins the item of the
// message it answers; edits and deletions of the original and of the
// follow-up update their internal copies.
func TestEditsRepliesDeletes(t *testing.T) {
	w := newWorld(t, worldOpts{})
	q := w.post(maria, general, "Where is the changelog?")
	card := w.card(1, nil)
	w.waitFor(w.inner, "the card's thread", func() bool { _, ok := w.inner.Channel(card.ID); return ok })

	// A reply joins the item instead of opening another.
	r, err := w.pub.Reply(sam, general, q.ID, "Same question here")
	if err != nil {
		t.Fatal(err)
	}
	note := w.note(card.ID, "Sam: Same question here")
	if n := len(w.cards()); n != 1 {
		t.Errorf("%d cards, want the reply joined to the first", n)
	}

	// The original is edited: the card shows the new text, marked edited.
	if _, err := w.pub.Edit(general, q.ID, "Where is the changelog for v2?"); err != nil {
		t.Fatal(err)
	}
	w.card(1, func(m discordfake.Message) bool {
		return strings.Contains(m.Embeds[0].Description, "changelog for v2?") && strings.Contains(footer(m), "Edited by the author")
	})

	// The follow-up is edited, then deleted: its note follows.
	if _, err := w.pub.Edit(general, r.ID, "Same question here, for v2"); err != nil {
		t.Fatal(err)
	}
	w.waitFor(w.inner, "the edited note", func() bool {
		m, _ := w.inner.MessageByID(note.ID)
		return strings.Contains(m.Content, "for v2 (edited)")
	})
	if err := w.pub.Delete(general, r.ID); err != nil {
		t.Fatal(err)
	}
	w.waitFor(w.inner, "the deleted note", func() bool {
		m, _ := w.inner.MessageByID(note.ID)
		return strings.Contains(m.Content, "(deleted this message)") && !strings.Contains(m.Content, "for v2")
	})

	// The original is deleted: the card keeps a note, not the text.
	if err := w.pub.Delete(general, q.ID); err != nil {
		t.Fatal(err)
	}
	w.card(1, func(m discordfake.Message) bool {
		return strings.Contains(m.Embeds[0].Description, "deleted this message") && !strings.Contains(m.Embeds[0].Description, "changelog")
	})
	noPingsFromLiaison(t, w.inner, innerBot, []string{feedback})
}

// TestIgnoresBotsWebhooksAndSelf: messages from another bot, from a webhook
// and from Liaison itself open nothing; an unwatched channel neither.
func TestIgnoresBotsWebhooksAndSelf(t *testing.T) {
	w := newWorld(t, worldOpts{})
	w.post(otherBot, general, "Deploy finished ✅")
	hook := restCall(t, w.pub, "POST", "/channels/"+general+"/webhooks", map[string]any{"name": "GitHub"})
	restCall(t, w.pub, "POST", fmt.Sprintf("/webhooks/%s/%s?wait=true", hook["id"], hook["token"]), map[string]any{"content": "New release v2.1"})
	restCall(t, w.pub, "POST", "/channels/"+general+"/messages", map[string]any{"content": "Liaison speaking"})
	w.post(maria, offTopic, "Nice weather today")
	w.post(maria, general, "A real question")
	// Intake is in gateway order: once the last message has its card, the
	// others were seen and dropped.
	c := w.card(1, nil)
	if !strings.Contains(c.Embeds[0].Description, "A real question") {
		t.Errorf("card #1 = %q, want the member's question", c.Embeds[0].Description)
	}
	if n := len(w.cards()); n != 1 {
		t.Errorf("%d cards, want only the member's", n)
	}
}

// restCall calls the fake's REST API with the bot token, as another
// integration (or Liaison's own bot) would.
func restCall(t *testing.T, f *discordfake.Fake, method, path string, body any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, "https://discord.com/api/v9"+path, bytes.NewReader(b))
	req.Header.Set("Authorization", f.BotToken())
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.HTTPClient().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %v", method, path, resp.StatusCode, out)
	}
	return out
}
