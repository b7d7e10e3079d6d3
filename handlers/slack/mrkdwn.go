package slack

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Slack's message format ("mrkdwn") reads <…> as mentions, links and
// broadcasts, and &amp; &lt; &gt; as the characters they stand for. Text
// Liaison did not write is escaped before it is placed in mrkdwn, so that it
// shows as typed and can ping nobody; Liaison never sets link_names.

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// escape makes text show literally in mrkdwn.
func escape(text string) string { return escaper.Replace(text) }

var unescaper = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")

// staffMention is a user mention once escaped. The domain's sanitiser breaks
// every "<@" of untrusted text, so the only ones left to find are those the
// domain wrote itself for a staff member without a public name.
var staffMention = regexp.MustCompile(`&lt;@([UW][A-Z0-9]+)&gt;`)

// escapeDomain escapes text the domain rendered (notes, names) and keeps its
// staff mentions working.
func escapeDomain(text string) string {
	return staffMention.ReplaceAllString(escape(text), "<@$1>")
}

var userMention = regexp.MustCompile(`^<@([UW][A-Z0-9]+)>$`)

// safeURL reports whether u can stand inside <u|label> without breaking out.
func safeURL(u string) bool {
	if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return false
	}
	return !strings.ContainsAny(u, "<>| \t\n\"")
}

// link renders a link with an escaped label, or the label and the URL as
// text when the URL could break the markup.
func link(url, label string) string {
	if url == "" {
		return escape(label)
	}
	if !safeURL(url) {
		return strings.TrimSpace(escape(label) + " " + escape(url))
	}
	if label == "" {
		return "<" + url + ">"
	}
	return "<" + url + "|" + strings.ReplaceAll(escape(label), "|", "¦") + ">"
}

// plainText turns a message's wire text into the plain text the domain keeps:
// mentions become @names, links "label (url)", broadcasts "@here" (which the
// domain's sanitiser then neutralises), entities their characters.
func (c *Conn) plainText(ctx context.Context, text string) string {
	return c.convert(ctx, text, maxMentionLookups)
}

// convert is plainText with at most maxLookups users.info calls for the
// names of mentioned users; the others show as their ids.
func (c *Conn) convert(ctx context.Context, text string, maxLookups int) string {
	var b strings.Builder
	left := maxLookups
	for text != "" {
		open := strings.IndexByte(text, '<')
		if open < 0 {
			b.WriteString(unescaper.Replace(text))
			break
		}
		end := strings.IndexByte(text[open:], '>')
		if end < 0 {
			b.WriteString(unescaper.Replace(text))
			break
		}
		b.WriteString(unescaper.Replace(text[:open]))
		b.WriteString(c.control(ctx, text[open+1:open+end], &left))
		text = text[open+end+1:]
	}
	return b.String()
}

// maxMentionLookups bounds the users.info calls one message may cause.
const maxMentionLookups = 5

// control renders the inside of one <…> sequence as plain text, looking a
// mentioned user's name up while *left allows.
func (c *Conn) control(ctx context.Context, inner string, left *int) string {
	body, label, hasLabel := strings.Cut(inner, "|")
	label = unescaper.Replace(label)
	switch {
	case strings.HasPrefix(body, "@"):
		if hasLabel && label != "" {
			return "@" + label
		}
		id := body[1:]
		if *left > 0 {
			*left--
			if name := c.user(ctx, id).shown(); name != "" {
				return "@" + name
			}
		}
		return "@" + id
	case strings.HasPrefix(body, "#"):
		if hasLabel && label != "" {
			return "#" + label
		}
		return "#" + body[1:]
	case strings.HasPrefix(body, "!subteam^"):
		if hasLabel && label != "" {
			return label
		}
		return "@" + strings.TrimPrefix(body, "!subteam^")
	case body == "!here" || body == "!channel" || body == "!everyone":
		return "@" + body[1:]
	case strings.HasPrefix(body, "!"):
		return label // dates and the like carry their fallback text
	}
	url := unescaper.Replace(body)
	switch {
	case !hasLabel || label == "" || label == url:
		return url
	case strings.HasPrefix(url, "mailto:"):
		return label
	}
	return label + " (" + url + ")"
}

// chunks cuts mrkdwn into pieces of at most max characters, at line or word
// breaks when it can and never inside an entity or a <…> sequence.
func chunks(s string, max int) []string {
	var out []string
	for utf8.RuneCountInString(s) > max {
		cut := byteOffset(s, max)
		if i := strings.LastIndexByte(s[:cut], '\n'); i > cut/2 {
			cut = i + 1
		} else if i := strings.LastIndexByte(s[:cut], ' '); i > cut/2 {
			cut = i + 1
		}
		cut = safeCut(s, cut)
		if cut == 0 {
			cut = byteOffset(s, max) // a sequence longer than max: cut it anyway
		}
		out = append(out, s[:cut])
		s = s[cut:]
	}
	if s != "" || len(out) == 0 {
		out = append(out, s)
	}
	return out
}

// clipPlain shortens plain text to at most max characters, marking the cut.
func clipPlain(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return clipRunes(s, max-1) + "…"
}

// clipRunes cuts s to at most n characters.
func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return s[:byteOffset(s, n)]
}

// clip shortens mrkdwn to at most max characters, marking the cut.
func clip(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	cut := safeCut(s, byteOffset(s, max-1))
	return s[:cut] + "…"
}

// byteOffset returns the byte offset of rune n of s.
func byteOffset(s string, n int) int {
	i := 0
	for pos := range s {
		if i == n {
			return pos
		}
		i++
	}
	return len(s)
}

// safeCut moves a cut back before an entity or a <…> sequence it would split.
func safeCut(s string, cut int) int {
	head := s[:cut]
	if amp := strings.LastIndexByte(head, '&'); amp >= 0 && !strings.Contains(head[amp:], ";") {
		cut = amp
		head = s[:cut]
	}
	if lt := strings.LastIndexByte(head, '<'); lt >= 0 && !strings.Contains(head[lt:], ">") {
		cut = lt
	}
	return cut
}

// tsTime reads a Slack timestamp ("1700000000.123456").
func tsTime(ts string) time.Time {
	sec, frac, _ := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return time.Time{}
	}
	us, _ := strconv.ParseInt((frac + "000000")[:6], 10, 64)
	return time.Unix(s, us*1000).UTC()
}

// timeTS writes a time as a Slack timestamp.
func timeTS(t time.Time) string {
	us := t.UnixMicro()
	return fmt.Sprintf("%d.%06d", us/1e6, us%1e6)
}

// builtLink is a message's permalink as Slack builds it from the team's URL:
// https://acme.slack.com/archives/C123/p1700000000123456, with the thread
// for a reply. Empty when the team's URL is unknown.
func builtLink(teamURL, channel, ts, thread string) string {
	if teamURL == "" || channel == "" || ts == "" {
		return ""
	}
	l := strings.TrimSuffix(teamURL, "/") + "/archives/" + channel + "/p" + strings.Replace(ts, ".", "", 1)
	if thread != "" && thread != ts {
		l += "?thread_ts=" + thread + "&cid=" + channel
	}
	return l
}
