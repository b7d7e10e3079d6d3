package discordfake_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/bwmarrin/discordgo"
)

// missingKeys lists the keys of a documented example that a payload of the fake lacks,
// recursing into objects and into the first element of arrays. skip holds paths like
// "member.is_pending" that Discord has deprecated or sends only sometimes.
func missingKeys(doc, got any, path string, skip map[string]bool) []string {
	var out []string
	switch d := doc.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{path + " (not an object)"}
		}
		for k, dv := range d {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if skip[p] {
				continue
			}
			gv, ok := g[k]
			if !ok {
				out = append(out, p)
				continue
			}
			if dv != nil && gv != nil {
				out = append(out, missingKeys(dv, gv, p, skip)...)
			}
		}
	case []any:
		g, ok := got.([]any)
		if ok && len(d) > 0 && len(g) > 0 {
			out = append(out, missingKeys(d[0], g[0], path+"[]", skip)...)
		}
	}
	sort.Strings(out)
	return out
}

func checkShape(t *testing.T, example string, payload []byte, skip ...string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", example))
	if err != nil {
		t.Fatal(err)
	}
	var doc, got any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", example, err)
	}
	if err := json.Unmarshal(payload, &got); err != nil {
		t.Fatalf("payload: %v: %s", err, payload)
	}
	sk := map[string]bool{}
	for _, s := range skip {
		sk[s] = true
	}
	if miss := missingKeys(doc, got, "", sk); len(miss) > 0 {
		t.Errorf("payload lacks keys of %s: %v\npayload: %s", example, miss, payload)
	}
}

func TestPayloadsHaveTheDocumentedShape(t *testing.T) {
	t.Parallel()
	f, s, ev := fakeSession(t, allIntents)

	t.Run("READY", func(t *testing.T) {
		recv(t, ev.ready, "READY")
		checkShape(t, "ready.json", ev.rawN(t, "READY", 1))
	})

	t.Run("message", func(t *testing.T) {
		m, err := f.Post(alice, general, "Supa Hot")
		if err != nil {
			t.Fatal(err)
		}
		_, _, body := rawCall(t, f, "GET", "/channels/"+general+"/messages/"+m.ID, f.BotToken(), "")
		checkShape(t, "message.json", body, "reactions")
		recv(t, ev.msgCreate, "MESSAGE_CREATE")
		checkShape(t, "message.json", ev.rawN(t, "MESSAGE_CREATE", 1), "reactions")
	})

	t.Run("button interaction", func(t *testing.T) {
		msg := buttonMessage(t, s, "This is a message with components.", "click_one")
		if _, err := f.Click(alice, general, msg.ID, "click_one"); err != nil {
			t.Fatal(err)
		}
		recv(t, ev.interaction, "INTERACTION_CREATE")
		checkShape(t, "interaction_button.json", ev.rawN(t, "INTERACTION_CREATE", 1), "member.is_pending")
	})

	t.Run("select interaction on a command response", func(t *testing.T) {
		if _, err := s.ApplicationCommandCreate(f.ApplicationID(), guildID, &discordgo.ApplicationCommand{Name: "dropdown", Description: "Pick classes"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.RunCommand(alice, general, "dropdown", nil); err != nil {
			t.Fatal(err)
		}
		ic := recv(t, ev.interaction, "command")
		one, two := 1, 2
		err := s.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{
			Type: discordgo.InteractionResponseChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{
				Content: "Mason is looking for new arena partners. What classes do you play?",
				Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
					discordgo.SelectMenu{CustomID: "class_select_1", Placeholder: "Choose a class", MinValues: &one, MaxValues: two, Options: []discordgo.SelectMenuOption{
						{Label: "Rogue", Value: "rogue", Description: "Sneak n stab", Emoji: &discordgo.ComponentEmoji{ID: "625891304148303894", Name: "rogue"}},
						{Label: "Mage", Value: "mage", Description: "Turn 'em into a sheep", Emoji: &discordgo.ComponentEmoji{ID: "625891304081063986", Name: "mage"}},
					}},
				}}},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		var resp *discordgo.MessageCreate
		for resp == nil || resp.Author.ID != f.Bot().ID || resp.Type != discordgo.MessageTypeChatInputCommand {
			resp = recv(t, ev.msgCreate, "command response")
		}
		if _, err := f.Select(alice, general, resp.ID, "class_select_1", []string{"mage", "priest"}); err == nil {
			t.Fatal("selected an option the menu does not have")
		}
		if _, err := f.Select(alice, general, resp.ID, "class_select_1", []string{"mage", "rogue"}); err != nil {
			t.Fatal(err)
		}
		sel := recv(t, ev.interaction, "select")
		if d := sel.MessageComponentData(); d.CustomID != "class_select_1" || len(d.Values) != 2 || d.Values[0] != "mage" {
			t.Fatalf("select data = %+v", d)
		}
		checkShape(t, "interaction_select.json", ev.rawN(t, "INTERACTION_CREATE", 3), "member.is_pending")
	})

	t.Run("thread channel", func(t *testing.T) {
		m, err := f.Post(alice, general, "root")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.MessageThreadStart(general, m.ID, "don't buy dota-2", 1440); err != nil {
			t.Fatal(err)
		}
		recv(t, ev.threadCreate, "THREAD_CREATE")
		checkShape(t, "thread_channel.json", ev.rawN(t, "THREAD_CREATE", 1))
	})

	t.Run("webhook", func(t *testing.T) {
		status, _, body := rawCall(t, f, "POST", "/channels/"+general+"/webhooks", f.BotToken(), `{"name":"test webhook"}`)
		if status != 200 {
			t.Fatalf("%d %s", status, body)
		}
		checkShape(t, "webhook_incoming.json", body)
	})

	t.Run("429", func(t *testing.T) {
		f.SetRouteLimit("GET /gateway/bot", 1, 60e9)
		rawCall(t, f, "GET", "/gateway/bot", f.BotToken(), "")
		status, _, body := rawCall(t, f, "GET", "/gateway/bot", f.BotToken(), "")
		if status != 429 {
			t.Fatalf("%d %s", status, body)
		}
		checkShape(t, "rate_limited.json", body)
	})
}
