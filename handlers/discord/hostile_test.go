package discord_test

import (
	"strings"
	"testing"
)

// bidiControls are Unicode's explicit bidirectional formatting characters.
const bidiControls = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"

// TestHostileTextRelayed: text that pings nobody can still mislead. A
// member's forum post and follow-up, and a volunteer's reply, carry masked
// links and bidi controls; on the card, in the note, in the draft preview
// and in the public post every link shows where it goes and the text reads
// in the order it was typed.
func TestHostileTextRelayed(t *testing.T) {
	w := newWorld(t, worldOpts{})
	post, _ := w.openPost(maria, "Login \u202efdp.exe",
		"Is [https://acme.com/login](https://evil.example/login) yours? Or [https://acme.com](<https://evil.example/>)?")
	card := w.card(1, nil)
	expectPlain(t, "the card", card.Embeds[0].Description,
		"Login fdp.exe\nIs https://acme.com/login (https://evil.example/login) yours? Or https://acme.com (https://evil.example/)?")

	w.threadReady(1, card.ID)
	w.postInThread(w.pub, maria, post.ID, "Also \\[here\\](https://evil.example/2) \u2067and\u2069 there")
	note := w.note(card.ID, "Also")
	expectPlain(t, "the note", note.Content, "here (https://evil.example/2) and there")

	w.setUpProfile(alice, "Alice Martin", "Product Manager", aliceAvatar)
	w.postInThread(w.inner, alice, card.ID, "!reply Reset at [https://acme.com/reset](https://evil.example/reset) \u202etxt.exe")
	dc := w.draftCard(card.ID, 1, nil)
	expectPlain(t, "the draft preview", dc.Embeds[0].Description, "Reset at https://acme.com/reset (https://evil.example/reset) txt.exe")
	w.click(w.inner, mona, card.ID, dc.ID, "liaison:approve:1")
	reply := w.publicReply(post.ID, "the public reply")
	expectPlain(t, "the public reply", reply.Content, "Reset at https://acme.com/reset (https://evil.example/reset) txt.exe")
	expectPlain(t, "the public reply's name", reply.Author.Username, "Alice Martin")

	noPingsFromLiaison(t, w.pub, pubBot, []string{help}, "<@"+maria+">")
}

// expectPlain fails unless s shows want and has no masked link Discord
// would render and no bidi control.
func expectPlain(t *testing.T, what, s, want string) {
	t.Helper()
	if !strings.Contains(s, want) {
		t.Errorf("%s does not show %q:\n%q", what, want, s)
	}
	if strings.Contains(s, "](") || strings.ContainsAny(s, bidiControls) {
		t.Errorf("%s carries a masked link or a bidi control:\n%q", what, s)
	}
}
