package slack

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/liaison-bot/liaison/bot"
)

// bidiControls are Unicode's explicit bidirectional formatting characters.
const bidiControls = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"

// wireLink is a Slack link in wire text whose URL has only characters the
// sanitiser never touches.
var wireLink = regexp.MustCompile(`<(https://[A-Za-z0-9./_-]+)\|[^<>]*>`)

// FuzzRelayedText: whatever a Slack member writes, once the adapter has
// read it and the domain has sanitised it, the text is valid UTF-8, pings
// nobody, has no bidi control and no masked link ("](", which Discord needs
// to render one), shows the URL of every Slack link, and carries no markup
// once escaped for Slack.
func FuzzRelayedText(f *testing.F) {
	for _, s := range []string{
		"<https://evil.example|https://acme.com>", "[https://acme.com](<https://evil.example>)",
		"[https://acme.com](&lt;https://evil.example&gt;)", "<https://evil.example|[x](https://acme.com)>",
		"[x](<https://evil.example|https://acme.com>)", "[<https://evil.example|a>](<https://b.example>)",
		"<https://evil.example/a|\u202egnp.exe>", "safe \u202egnp.exe", "<!here> <@U1|x> [@everyone](<https://x.example>)",
		"\\[a\\](<https://evil.example>)", "<https://e.example|]><https://f.example|(>", "\xff<https://a.example|\xfe>",
	} {
		f.Add(s)
	}
	c := testConn(f)
	f.Fuzz(func(t *testing.T, wire string) {
		out := bot.Sanitize(c.convert(context.Background(), wire, 0))
		switch {
		case !utf8.ValidString(out):
			t.Fatalf("%q relays as %q: not valid UTF-8", wire, out)
		case bot.HasPing(out):
			t.Fatalf("%q relays as %q: pings", wire, out)
		case strings.ContainsAny(out, bidiControls):
			t.Fatalf("%q relays as %q: keeps a bidi control", wire, out)
		case strings.Contains(out, "]("):
			t.Fatalf("%q relays as %q: keeps a masked link", wire, out)
		case strings.Contains(escape(out), "<"):
			t.Fatalf("%q relays to Slack as %q: markup", wire, escape(out))
		}
		for _, m := range wireLink.FindAllStringSubmatch(wire, -1) {
			if !strings.Contains(out, m[1]) {
				t.Fatalf("%q relays as %q: hides %q", wire, out, m[1])
			}
		}
	})
}
