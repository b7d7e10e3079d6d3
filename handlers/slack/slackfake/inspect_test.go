package slackfake_test

import (
	"encoding/json"
	"testing"

	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
)

func TestShown(t *testing.T) {
	for name, tc := range map[string]struct {
		msg  slackfake.Message
		want string
	}{
		"TextOnly": {slackfake.Message{Text: "hello"}, "hello"},
		"Blocks": {slackfake.Message{Text: "fallback", Blocks: json.RawMessage(`[
			{"type":"section","text":{"type":"mrkdwn","text":"*Card*"},"fields":[{"type":"mrkdwn","text":"*Status*\nNew"}],
			 "accessory":{"type":"button","text":{"type":"plain_text","text":"Claim"},"value":"text"}},
			{"type":"context","elements":[{"type":"mrkdwn","text":"From Slack"},{"type":"image","image_url":"u","alt_text":"text"}]},
			{"type":"rich_text","elements":[{"type":"rich_text_section","elements":[{"type":"text","text":"rich"}]}]},
			{"type":"section","text":{"type":"mrkdwn","text":["not a text"]}}]`)},
			"fallback\n*Card*\n*Status*\nNew\nClaim\nFrom Slack\nrich"},
		"CutShort": {slackfake.Message{Text: "t", Blocks: json.RawMessage(`[{"text":"a"},`)}, "t\na"},
	} {
		t.Run(name, func(t *testing.T) {
			if got := slackfake.Shown(tc.msg); got != tc.want {
				t.Errorf("Shown = %q, want %q", got, tc.want)
			}
		})
	}
}
