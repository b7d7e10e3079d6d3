package slack

import (
	"fmt"
	"testing"

	"github.com/liaison-bot/liaison/bot"
)

// TestCommandArgs: the words after a subcommand fill its arguments in the
// order it declares them; a mention is one word, spaces and all; the last
// argument takes what is left over, for the domain to refuse.
func TestCommandArgs(t *testing.T) {
	for _, tt := range []struct {
		action bot.ActionID
		rest   string
		want   map[string]string
	}{
		{bot.ActStats, "", nil},
		{bot.ActStats, "  30d   product ", map[string]string{"period": "30d", "route": "product"}},
		{bot.ActStats, " week", map[string]string{"period": "week"}},
		{bot.ActStats, "product", map[string]string{"period": "product"}},
		{bot.ActStats, "7d product extra words", map[string]string{"period": "7d", "route": "product extra words"}},
		{bot.ActPromote, " <@U0CAROL|Carol King> ", map[string]string{"user": "U0CAROL"}},
		{bot.ActPromote, "U0CAROL", map[string]string{"user": "U0CAROL"}},
		{bot.ActPromote, "carol", map[string]string{}},
		{bot.ActPromote, "<@U0CAROL|carol> <@U0BOB|bob>", map[string]string{}},
		{bot.ActHelp, "me please", nil},
		{"frobnicate", "x", nil},
	} {
		got := commandArgs(tt.action, tt.rest)
		if fmt.Sprint(got) != fmt.Sprint(tt.want) || (got == nil) != (tt.want == nil) {
			t.Errorf("commandArgs(%s, %q) = %#v, want %#v", tt.action, tt.rest, got, tt.want)
		}
	}
}

// TestReplyText: a reply's links follow its text, one a line, as Slack
// links; the text and the labels are escaped.
func TestReplyText(t *testing.T) {
	got := replyText("Waiting <1m & more:", []bot.Link{
		{Text: "#2 “a <b> | c” · waiting <1m", URL: "https://acme.slack.com/archives/C1/p1"},
		{Text: "#3 no card", URL: ""},
	})
	want := "Waiting &lt;1m &amp; more:\n<https://acme.slack.com/archives/C1/p1|#2 “a &lt;b&gt; ¦ c” · waiting &lt;1m>\n#3 no card"
	if got != want {
		t.Errorf("replyText =\n%s\nwant\n%s", got, want)
	}
}
