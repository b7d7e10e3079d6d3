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

// Sanitize makes untrusted text unable to ping anyone on Slack or Discord,
// and drops control characters. It is idempotent.
func Sanitize(text string) string {
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "\uFFFD")
	}
	text = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, text)
	text = mentionOpen.ReplaceAllStringFunc(text, func(m string) string { return "<" + zwsp + m[1:] })
	return broadcast.ReplaceAllStringFunc(text, func(m string) string { return "@" + zwsp + m[1:] })
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
