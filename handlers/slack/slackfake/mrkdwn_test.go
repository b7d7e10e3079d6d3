package slackfake_test

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackutilsx"

	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
)

func TestPings(t *testing.T) {
	for name, tc := range map[string]struct {
		msg  slackfake.Message
		want []string
	}{
		"RawChannel":       {slackfake.Message{Text: "<!channel> please look"}, []string{"@channel"}},
		"RawHereLabelled":  {slackfake.Message{Text: "hey <!here|here>"}, []string{"@here"}},
		"RawEveryone":      {slackfake.Message{Text: "<!everyone>"}, []string{"@everyone"}},
		"UserAndGroup":     {slackfake.Message{Text: "<@U0ALICE> and <!subteam^S0TEAM|@team>, again <@U0ALICE>"}, []string{"U0ALICE", "S0TEAM"}},
		"EscapedChannel":   {slackfake.Message{Text: "&lt;!channel&gt; is harmless"}, nil},
		"EscapedBySDK":     {slackfake.Message{Text: slackutilsx.EscapeMessage("<!here> <@U0ALICE> <!subteam^S1>")}, nil},
		"WordsWithoutLink": {slackfake.Message{Text: "@channel @here @everyone @alice"}, nil},
		"WordsLinkNames":   {slackfake.Message{Text: "@here and @alice (mail: x@here.com)", LinkNames: true}, []string{"@here", "@alice"}},
		"ParseFull":        {slackfake.Message{Text: "@channel", Parse: "full"}, []string{"@channel"}},
		"ChannelLinkIsNot": {slackfake.Message{Text: "see <#C0GENERAL|general> and <https://x.example|a link>"}, nil},
		"InBlocks": {slackfake.Message{
			Blocks: mustJSON(t, []slack.Block{
				slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "ping <!here>", false, false), nil, nil),
				slack.NewSectionBlock(slack.NewTextBlockObject(slack.PlainTextType, "<!channel> in plain text is text", false, false), nil, nil),
				slack.NewRichTextBlock("r", slack.NewRichTextSection(slack.NewRichTextSectionUserElement("U0BOB", nil))),
			}),
		}, []string{"@here", "U0BOB"}},
		"InAttachments": {slackfake.Message{Attachments: json.RawMessage(`[{"pretext":"<!everyone>","fields":[{"title":"t","value":"<@U9>"}]}]`)}, []string{"@everyone", "U9"}},
	} {
		t.Run(name, func(t *testing.T) {
			if got := slackfake.Pings(tc.msg); !slices.Equal(got, tc.want) {
				t.Errorf("Pings(%q) = %q, want %q", tc.msg.Text, got, tc.want)
			}
		})
	}
}

// TestPingsOfPostedMessages checks Pings on messages as the fake stores them.
func TestPingsOfPostedMessages(t *testing.T) {
	f := mustStart(t)
	c := api(f)
	_, escaped, err := c.PostMessage(general, slack.MsgOptionText("<!channel> from a member", true))
	if err != nil {
		t.Fatal(err)
	}
	_, raw, err := c.PostMessage(general, slack.MsgOptionText("<!channel> from a member", false))
	if err != nil {
		t.Fatal(err)
	}
	_, linked, err := c.PostMessage(general, slack.MsgOptionText("@here look", false), slack.MsgOptionLinkNames(true))
	if err != nil {
		t.Fatal(err)
	}
	for ts, want := range map[string][]string{escaped: nil, raw: {"@channel"}, linked: {"@here"}} {
		m, _ := f.Message(general, ts)
		if got := slackfake.Pings(m); !slices.Equal(got, want) {
			t.Errorf("Pings(%q) = %q, want %q", m.Text, got, want)
		}
	}
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
