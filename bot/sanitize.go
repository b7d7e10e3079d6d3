package bot

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// zwsp is inserted to break mention syntax without changing what people read.
const zwsp = "\u200b"

// mentionOpen matches the opening of every bracketed mention form of both
// platforms: Slack <@U…>, <!channel>, <!here>, <!everyone>, <!subteam^S…>;
// Discord <@id>, <@!id>, <@&role>.
var mentionOpen = regexp.MustCompile(`<[@!]`)

// broadcast matches the bare broadcast words: Discord parses @everyone and
// @here anywhere; Slack parses @channel, @here, @everyone with link_names.
var broadcast = regexp.MustCompile(`(?i)@(everyone|here|channel)`)

// Sanitize makes untrusted text unable to ping anyone on Slack or Discord
// and unable to look like something it is not: it drops control characters
// and bidirectional controls, and writes masked links out as "label (url)".
// It is idempotent.
func Sanitize(text string) string {
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "\uFFFD")
	}
	text = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) || isBidiControl(r) {
			return -1
		}
		return r
	}, text)
	// Links before mentions: unmasking "<[@x](u)" makes a "<@" to break.
	text = unmaskLinks(text)
	text = mentionOpen.ReplaceAllStringFunc(text, func(m string) string { return "<" + zwsp + m[1:] })
	return broadcast.ReplaceAllStringFunc(text, func(m string) string { return "@" + zwsp + m[1:] })
}

// isBidiControl reports whether r is one of Unicode's explicit
// bidirectional formatting characters: embeddings and overrides
// (U+202A–U+202E), isolates (U+2066–U+2069) and the marks U+200E, U+200F,
// U+061C. With them "safe text \u202egnp.exe" shows as "safe text exe.png".
//
// The sanitiser removes them rather than showing a marker. Right-to-left
// text (Arabic, Hebrew) displays correctly without them, since the
// direction comes from its letters; a marker would clutter every message
// that carries a stray mark, where removing it at worst moves a
// punctuation mark next to a right-to-left word. Without them the reader
// sees the characters in the order they were typed, which is what the
// text is.
func isBidiControl(r rune) bool {
	switch {
	case r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return r == '\u200e' || r == '\u200f' || r == '\u061c'
}

// maskedLink matches a markdown link as Discord renders it, in content and
// in embeds: [label](url), the label with nested [brackets], the URL bare
// or in <angle brackets>, backslash escapes anywhere, and an escaped
// \[label\] too (not a link on Discord, but the same disguise once an
// escape is lost). Only targets with a scheme are taken as links, so code
// such as a[i](x) keeps reading as typed. Rarer forms (a "title" after the
// URL, a label over several lines) are left to the zero-width space of
// unmaskLinks: nothing of them is dropped.
var maskedLink = regexp.MustCompile(`\\?\[((?:\\.|[^\[\]\\\n]|\[(?:\\.|[^\[\]\\\n])*\])*)\\?\]\(\s*` +
	`(<[A-Za-z][A-Za-z0-9+.\-]*:[^<>\n]*>|[A-Za-z][A-Za-z0-9+.\-]*:(?:\\.|[^\s()<>\\]|\((?:\\.|[^\s()<>\\])*\))*)` +
	`\s*\)`)

// maxUnmaskPasses bounds the passes over links nested in link labels; what
// deeper nesting leaves is broken by the zero-width space below.
const maxUnmaskPasses = 4

// unmaskLinks writes every masked link out as "label (url)", so that the
// reader sees where a link goes: "[https://acme.com](https://evil.example)"
// becomes "https://acme.com (https://evil.example)", each URL linking to
// itself. Whatever "](" remains (a label nested too deep, an unusual
// form) is broken with a zero-width space: no markdown renders "]\u200b("
// as a link, and the reader sees the text as typed.
func unmaskLinks(text string) string {
	for i := 0; i < maxUnmaskPasses && strings.Contains(text, "]("); i++ {
		next := maskedLink.ReplaceAllStringFunc(text, func(m string) string {
			sub := maskedLink.FindStringSubmatch(m)
			label, url := strings.TrimSpace(sub[1]), sub[2]
			if strings.HasPrefix(url, "<") {
				url = url[1 : len(url)-1]
			}
			if label == "" || label == url {
				return url
			}
			return label + " (" + url + ")"
		})
		if next == text {
			break
		}
		text = next
	}
	return strings.ReplaceAll(text, "](", "]"+zwsp+"(")
}

// HasPing reports whether text would ping someone on Slack or Discord if
// posted as is (link_names on, default allowed mentions): the check the
// sanitiser must always pass.
func HasPing(text string) bool {
	return mentionOpen.MatchString(text) || broadcast.MatchString(text)
}

// Truncate cuts text to at most max runes, at a word boundary when one is
// near, and says where to read the rest.
func Truncate(text string, max int, link string) (string, bool) {
	if max <= 0 || utf8.RuneCountInString(text) <= max {
		return text, false
	}
	runes := []rune(text)
	cut := max
	for i := max; i > max-40 && i > 0; i-- {
		if unicode.IsSpace(runes[i]) {
			cut = i
			break
		}
	}
	out := strings.TrimRightFunc(string(runes[:cut]), unicode.IsSpace) + " …"
	if link != "" {
		out += "\n(truncated — read the whole message: " + link + ")"
	} else {
		out += "\n(truncated)"
	}
	return out, true
}

// Mention is the syntax that pings one user, the same on Slack and Discord.
func Mention(userID string) string {
	if userID == "" {
		return ""
	}
	return "<@" + userID + ">"
}
