package slack_test

import (
	"strings"
	"testing"

	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
)

// bidiControls are Unicode's explicit bidirectional formatting characters.
const bidiControls = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"

// TestHostileTextRelayed: text that pings nobody can still mislead. A
// member's question carries a Slack link whose label is another URL, a
// markdown masked link and a bidi override; a volunteer's reply does the
// same. On the card, the draft card and the public reply every link shows
// where it goes and the text reads in the order it was typed. Slack sends
// the URLs people type wrapped in <…>.
func TestHostileTextRelayed(t *testing.T) {
	e := newEnv(t, "sqlite")
	root, card := e.ask(1, "Is <https://evil.example/login|https://acme.com/login> yours? "+
		"Or [https://acme.com](<https://evil.example/>)? safe text \u202egnp.exe")
	expectPlain(t, "the card", card,
		"Is https://acme.com/login (https://evil.example/login) yours? Or https://acme.com (https://evil.example/)? safe text gnp.exe")

	e.ts(e.staff.Reply(alice, productCh, card.TS, "!reply Reset at [https://acme.com/reset](<https://evil.example/reset>) \u202etxt.exe"))
	draft := e.waitButton(card.TS, actApprove)
	expectPlain(t, "the draft card", draft, "Reset at https://acme.com/reset (https://evil.example/reset) txt.exe")
	check(t, e.staff.Click(bob, productCh, draft.TS, actApprove))
	expectPlain(t, "the public reply", e.waitPublicReply(root), "Reset at https://acme.com/reset (https://evil.example/reset) txt.exe")
}

// expectPlain fails unless m shows want, and carries no masked link and no
// bidi control.
func expectPlain(t *testing.T, what string, m slackfake.Message, want string) {
	t.Helper()
	s := slackfake.Shown(m)
	if !strings.Contains(s, want) {
		t.Errorf("%s does not show %q:\n%q", what, want, s)
	}
	if strings.Contains(s, "](") || strings.ContainsAny(s, bidiControls) || strings.Contains(s, "<https://evil.example") {
		t.Errorf("%s carries a disguised link or a bidi control:\n%q", what, s)
	}
}
