package discord_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
)

// TestForgetRenamesThreads: a card's thread is named with the member's
// words; once the member is forgotten, the cards say the text was removed
// and their threads name neither the member nor their words, an archived
// thread included (renamed, then archived again). A later card update does
// not rename again.
func TestForgetRenamesThreads(t *testing.T) {
	w := newWorld(t, worldOpts{})
	w.post(maria, general, "My order 7731 never arrived")
	first := w.card(1, nil)
	w.threadReady(1, first.ID)
	w.post(maria, general, "Also my invoice 5520 is wrong")
	second := w.card(2, nil)
	w.threadReady(2, second.ID)
	for _, c := range []struct{ id, words string }{{first.ID, "7731"}, {second.ID, "5520"}} {
		if th, _ := w.inner.Channel(c.id); !strings.Contains(th.Name, c.words) || !strings.Contains(th.Name, "Maria") {
			t.Fatalf("thread %s is named %q, want the member's name and words", c.id, th.Name)
		}
	}
	if err := w.inner.ArchiveThread(second.ID); err != nil {
		t.Fatal(err)
	}

	id, err := w.inner.RunCommand(mona, feedback, "liaison", []discordfake.CommandOption{{Name: "forget", Type: 1,
		Options: []discordfake.CommandOption{{Name: bot.ForgetMemberArg, Value: "#1"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.answer(w.inner, id); !strings.HasPrefix(got, "Forgotten: ") || !strings.Contains(got, "2 items") {
		t.Fatalf("forget answered %q", got)
	}
	for i, c := range []discordfake.Message{first, second} {
		n := int64(i + 1)
		card := w.card(n, func(m discordfake.Message) bool {
			return strings.Contains(m.Embeds[0].Description, "The text was removed")
		})
		if strings.Contains(card.Embeds[0].Description, "7731") || strings.Contains(card.Embeds[0].Description, "5520") {
			t.Errorf("card #%d still shows the words: %q", n, card.Embeds[0].Description)
		}
		want := fmt.Sprintf("#%d A community member", n)
		w.waitFor(w.inner, "thread "+want, func() bool { th, _ := w.inner.Channel(c.ID); return th.Name == want })
	}
	w.waitFor(w.inner, "the archived thread archived again", func() bool { return threadArchived(t, w.inner, second.ID) })
	if threadArchived(t, w.inner, first.ID) {
		t.Error("the renamed active thread was archived")
	}

	// A later update of the card leaves the thread's name alone: Discord
	// allows few renames.
	if got := w.click(w.inner, alice, feedback, first.ID, "liaison:claim:1"); got != "Item #1 is yours." {
		t.Fatalf("claim answered %q", got)
	}
	w.card(1, func(m discordfake.Message) bool { return field(m, "Claimed by") != "" })
	if n := renames(w.inner, first.ID); n != 1 {
		t.Errorf("thread of card #1 edited %d times, want once", n)
	}
}

// renames counts the PATCH calls on a channel that succeeded.
func renames(f *discordfake.Fake, channelID string) int {
	n := 0
	for _, c := range f.Calls() {
		if c.Route == "PATCH /channels/{channel.id}" && strings.HasSuffix(c.Path, "/channels/"+channelID) && c.Status == http.StatusOK {
			n++
		}
	}
	return n
}

// threadArchived asks the fake whether a thread is archived.
func threadArchived(t *testing.T, f *discordfake.Fake, id string) bool {
	t.Helper()
	req, err := http.NewRequest("GET", "https://discord.com/api/v9/channels/"+id, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", f.BotToken())
	resp, err := f.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var ch struct {
		Meta struct {
			Archived bool `json:"archived"`
		} `json:"thread_metadata"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &ch) != nil {
		t.Fatalf("GET channel %s → %d %s", id, resp.StatusCode, b)
	}
	return ch.Meta.Archived
}
