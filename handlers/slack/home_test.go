package slack

import (
	"encoding/json"
	"strings"
	"testing"

	slackapi "github.com/slack-go/slack"

	"github.com/liaison-bot/liaison/bot"
)

// TestHomeView: a Home is laid out from what the domain worded, its texts
// escaped, its buttons the cards' (action and target only), within Block
// Kit's limits however long its lists.
func TestHomeView(t *testing.T) {
	h := &bot.HomeView{
		Title: strings.Repeat("T", 200),
		Intro: "What waits <!here>",
		Sections: []bot.HomeSection{
			{Title: "Empty one", Empty: "Nothing <@U0BOB> & co."},
			{Title: "To approve", Entries: []bot.HomeEntry{{
				Title:   "Draft #7 <b>",
				Lines:   []string{"By Alice", "“<!channel> hi”"},
				Links:   []bot.Link{{Text: "Open the card", URL: "https://acme.slack.com/archives/C1/p1"}, {Text: "bad", URL: "javascript:alert(1)"}},
				Actions: []bot.Button{{Action: bot.ActApprove, Target: 7, Label: "Approve", Style: bot.StylePrimary}},
			}}, More: "…and 3 more."},
			{Title: "Your public profile", Entries: []bot.HomeEntry{{
				Title: "Alice Martin", ImageURL: "https://example.com/a.png", ImageAlt: "Alice Martin",
				Actions: []bot.Button{{Action: bot.ActProfile, Label: "Edit profile"}},
			}, {Title: "No picture", ImageURL: "https://example.com/a b.png"}}},
		},
	}
	v := homeView(h)
	if v.Type != slackapi.VTHomeTab {
		t.Fatalf("view type %q", v.Type)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	js := string(raw)
	for _, want := range []string{
		`"type":"header","text":{"type":"plain_text","text":"` + strings.Repeat("T", 149) + `…"`,
		`What waits \u0026lt;!here\u0026gt;`,
		`Nothing \u0026lt;@U0BOB\u0026gt; \u0026amp; co.`,
		`*Draft #7 \u0026lt;b\u0026gt;*\nBy Alice\n“\u0026lt;!channel\u0026gt; hi”\n\u003chttps://acme.slack.com/archives/C1/p1|Open the card\u003e · bad javascript:alert(1)`,
		`"text":{"type":"plain_text","text":"Approve","emoji":true},"action_id":"liaison_approve","value":"7","style":"primary"`,
		`"action_id":"liaison_profile"`, `"value":"0"`,
		`"accessory":{"type":"image","image_url":"https://example.com/a.png","alt_text":"Alice Martin"}`,
		`…and 3 more.`,
	} {
		if !strings.Contains(js, want) {
			t.Errorf("the view lacks %s\n%s", want, js)
		}
	}
	if strings.Contains(js, "a b.png") {
		t.Error("an image URL Slack would refuse is shown")
	}

	// Long lists are cut at Slack's count of blocks.
	var many []bot.HomeEntry
	for range 80 {
		many = append(many, bot.HomeEntry{Title: "x", Actions: []bot.Button{{Action: bot.ActReply, Target: 1, Label: "Reply"}}})
	}
	big := homeView(&bot.HomeView{Title: "t", Sections: []bot.HomeSection{{Title: "a", Entries: many}, {Title: "b", Entries: many}}})
	if n := len(big.Blocks.BlockSet); n != homeBlocksMax {
		t.Errorf("%d blocks, want Slack's %d", n, homeBlocksMax)
	}
}

// TestReplyModal: an answer to a click on the Home shows in a modal
// titled by the domain, without a submit button.
func TestReplyModal(t *testing.T) {
	m := replyModal(escape("Draft #1 is approved <b>"))
	raw, _ := json.Marshal(m)
	js := string(raw)
	if m.Type != slackapi.VTModal || m.Title.Text != bot.HomeReplyTitle || m.Submit != nil || !strings.Contains(js, `Draft #1 is approved \u0026lt;b\u0026gt;`) {
		t.Errorf("reply modal = %s", js)
	}
}
