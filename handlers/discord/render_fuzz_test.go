package discord

import (
	"strings"
	"testing"
	"unicode/utf8"

	dg "github.com/bwmarrin/discordgo"

	"github.com/liaison-bot/liaison/bot"
)

// bidiControls are Unicode's explicit bidirectional formatting characters.
const bidiControls = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"

// labelEnd returns the index of the first "]" of s not escaped by a
// backslash, as Discord's markdown reads it; -1 when there is none.
func labelEnd(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case ']':
			return i
		}
	}
	return -1
}

// FuzzMarkdownLink: whatever a link's text, the link the adapter writes
// opens on its text and closes once, just before the URL the domain gave:
// the text cannot start a link of its own.
func FuzzMarkdownLink(f *testing.F) {
	for _, s := range []struct{ text, url string }{
		{"📎 a[1].png", "https://cdn.example.com/a(1).png"}, {"📎 x\\](https://evil.example) [y", "https://cdn.example.com/f"},
		{"x\\", "https://cdn.example.com/f"}, {"\\\\]", "https://x.example/"}, {"[[a]]", "https://x.example/(a)"},
	} {
		f.Add(s.text, s.url)
	}
	f.Fuzz(func(t *testing.T, text, url string) {
		out := markdownLink(bot.Link{Text: text, URL: url})
		u := httpURL(url)
		if u == "" || strings.TrimSpace(text) == "" {
			return // no markdown link: the text, or the URL, alone
		}
		tail := "](" + strings.NewReplacer("(", "%28", ")", "%29").Replace(u) + ")"
		if !strings.HasPrefix(out, "[") {
			t.Fatalf("markdownLink(%q, %q) = %q", text, url, out)
		}
		if end := labelEnd(out[1:]) + 1; end < 1 || out[end:] != tail {
			t.Fatalf("markdownLink(%q, %q) = %q: the label closes at %d, not before %q", text, url, out, end, tail)
		}
	})
}

// FuzzRelayedText: whatever a Discord member writes, or a staff member
// drafts, what Liaison shows on a card and posts publicly is valid UTF-8,
// pings nobody but the member answered, and has no bidi control and no
// masked link ("](", which Discord needs to render one); the name a
// webhook posts under has no bidi control.
func FuzzRelayedText(f *testing.F) {
	for _, s := range []string{
		"[https://acme.com](https://evil.example)", "[https://acme.com](<https://evil.example>)",
		"\\[https://acme.com\\](https://evil.example)", "[[a](https://one.example)](https://two.example)",
		"safe text \u202egnp.exe", "@everyone <@&1> [@here](https://x.example)", "x\\](https://evil.example) [y", "\xff]\xfe(",
	} {
		f.Add(s)
	}
	check := func(t *testing.T, in, what, out string) {
		t.Helper()
		switch {
		case !utf8.ValidString(out):
			t.Fatalf("%q: %s %q is not valid UTF-8", in, what, out)
		case bot.HasPing(out):
			t.Fatalf("%q: %s %q pings", in, what, out)
		case strings.ContainsAny(out, bidiControls):
			t.Fatalf("%q: %s %q keeps a bidi control", in, what, out)
		case strings.Contains(out, "]("):
			t.Fatalf("%q: %s %q keeps a masked link", in, what, out)
		}
	}
	f.Fuzz(func(t *testing.T, in string) {
		text := bot.Sanitize(messageText(&dg.Message{Content: in, Embeds: []*dg.MessageEmbed{{Title: in}}}))
		check(t, in, "card text", cardEmbed(&bot.Card{ItemID: 1, Title: "#1", Text: text}).Description)
		post := bot.Attribute(&bot.Profile{Name: in}, "Acme", in, "42", "")
		body, ok := strings.CutPrefix(publicContent(&post, true), "<@42> ")
		if !ok {
			t.Fatalf("%q: the public post does not open on the member's mention: %q", in, publicContent(&post, true))
		}
		check(t, in, "public post", body)
		// A webhook's name renders no markdown and pings nobody: what
		// matters there is that it reads in the order it was typed.
		if name := webhookUsername(post.Username); !utf8.ValidString(name) || strings.ContainsAny(name, bidiControls) {
			t.Fatalf("%q: webhook username %q keeps a bidi control or is not valid UTF-8", in, name)
		}
	})
}
