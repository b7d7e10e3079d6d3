package demo

import (
	"html"
	"regexp"
	"strconv"
	"strings"
)

// The page shows messages as the platforms' clients would: Slack mrkdwn and
// Discord markdown turned into a little HTML. Everything is escaped first;
// only the markup produced here is live.

// names resolves the ids that mentions carry.
type names struct {
	users, groups, channels map[string]string
}

var slackNames = names{users: slackUsers, groups: slackGroups, channels: slackChannels}
var discordNames = names{users: discordUsers, channels: discordChannels}

func (n names) user(id string) string {
	if v, ok := n.users[id]; ok {
		return v
	}
	return id
}

// placeholders protect finished HTML from the formatting passes.
type placeholders []string

func (p *placeholders) put(htmlText string) string {
	*p = append(*p, htmlText)
	return "\x00" + strconv.Itoa(len(*p)-1) + "\x00"
}

var placeholderRe = regexp.MustCompile("\x00([0-9]+)\x00")

func (p placeholders) fill(s string) string {
	// Placeholders can nest (a link inside bold text), so fill until none is left.
	for i := 0; i < 4 && strings.Contains(s, "\x00"); i++ {
		s = placeholderRe.ReplaceAllStringFunc(s, func(m string) string {
			n, _ := strconv.Atoi(m[1 : len(m)-1])
			if n < len(p) {
				return p[n]
			}
			return ""
		})
	}
	return s
}

func mention(text string) string {
	return `<span class="mention">` + html.EscapeString(text) + `</span>`
}

func anchor(url, label string) string {
	return `<a href="` + html.EscapeString(url) + `" target="_blank" rel="noopener noreferrer">` + html.EscapeString(label) + `</a>`
}

func isHTTP(u string) bool {
	return strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")
}

var (
	slackTokenRe  = regexp.MustCompile(`<[^<>\n]+>|https?://[^\s<>]+`)
	slackEntities = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")
)

// slackHTML renders Slack mrkdwn (as sent on the wire: <…> sequences,
// &lt; &gt; &amp; entities) as HTML.
func slackHTML(s string) string {
	var ph placeholders
	s = codeSpans(s, &ph, func(code string) string { return html.EscapeString(slackEntities.Replace(code)) })
	s = slackTokenRe.ReplaceAllStringFunc(s, func(m string) string {
		if m[0] == '<' {
			return ph.put(slackToken(m[1 : len(m)-1]))
		}
		// A bare URL, which Slack's clients show as a link.
		url, rest := trimURL(m)
		return ph.put(anchor(slackEntities.Replace(url), slackEntities.Replace(url))) + rest
	})
	s = html.EscapeString(slackEntities.Replace(s))
	return ph.fill(format(s, slackStyles))
}

// slackToken renders what is inside <…>: a mention, a channel, a broadcast,
// a date or a link.
func slackToken(inner string) string {
	target, label, _ := strings.Cut(inner, "|")
	label = slackEntities.Replace(label)
	switch {
	case strings.HasPrefix(target, "@"):
		return mention("@" + firstNonEmpty(slackNames.users[target[1:]], label, target[1:]))
	case strings.HasPrefix(target, "#"):
		return mention("#" + firstNonEmpty(slackNames.channels[target[1:]], label, target[1:]))
	case strings.HasPrefix(target, "!subteam^"):
		id := strings.TrimPrefix(target, "!subteam^")
		return mention("@" + firstNonEmpty(slackNames.groups[id], strings.TrimPrefix(label, "@"), id))
	case strings.HasPrefix(target, "!date^"):
		return html.EscapeString(label)
	case strings.HasPrefix(target, "!"):
		return mention("@" + target[1:])
	case isHTTP(target) || strings.HasPrefix(target, "mailto:"):
		return anchor(slackEntities.Replace(target), firstNonEmpty(label, slackEntities.Replace(target)))
	}
	return html.EscapeString("<" + slackEntities.Replace(inner) + ">")
}

// slackPlainHTML renders a plain_text object.
func slackPlainHTML(s string) string {
	return strings.ReplaceAll(html.EscapeString(s), "\n", "<br>")
}

var (
	discordTokenRe = regexp.MustCompile(`<@!?[0-9]+>|<@&[0-9]+>|<#[0-9]+>|<a?:[A-Za-z0-9_]+:[0-9]+>|<t:-?[0-9]+(?::[tTdDfFR])?>|\[[^\[\]\n]+\]\(https?://[^()\s]+\)|https?://[^\s<>]+|@everyone|@here`)
	maskedLinkRe   = regexp.MustCompile(`^\[([^\[\]\n]+)\]\((https?://[^()\s]+)\)$`)
)

// discordHTML renders Discord message markdown as HTML.
func discordHTML(s string) string {
	var ph placeholders
	s = codeSpans(s, &ph, html.EscapeString)
	s = discordTokenRe.ReplaceAllStringFunc(s, func(m string) string {
		return ph.put(discordToken(m))
	})
	return ph.fill(format(html.EscapeString(s), discordStyles))
}

func discordToken(m string) string {
	switch {
	case m == "@everyone" || m == "@here":
		return mention(m)
	case strings.HasPrefix(m, "<@&"):
		return mention("@role")
	case strings.HasPrefix(m, "<@"):
		id := strings.Trim(m, "<@!>")
		return mention("@" + discordNames.user(id))
	case strings.HasPrefix(m, "<#"):
		id := strings.Trim(m, "<#>")
		return mention("#" + firstNonEmpty(discordNames.channels[id], id))
	case strings.HasPrefix(m, "<a:") || strings.HasPrefix(m, "<:"):
		name := strings.Split(m, ":")[1]
		return html.EscapeString(":" + name + ":")
	case strings.HasPrefix(m, "<t:"):
		return `<span class="timestamp">` + html.EscapeString(m) + `</span>`
	case strings.HasPrefix(m, "["):
		p := maskedLinkRe.FindStringSubmatch(m)
		return anchor(p[2], p[1])
	}
	url, rest := trimURL(m)
	return anchor(url, url) + html.EscapeString(rest)
}

// trimURL keeps the punctuation that ends a sentence out of a bare URL.
func trimURL(s string) (url, rest string) {
	url = strings.TrimRight(s, ".,;:!?)'\"")
	return url, s[len(url):]
}

// style is one inline markup rule, applied to HTML-escaped text.
type style struct {
	re   *regexp.Regexp
	repl string
}

var slackStyles = []style{
	{regexp.MustCompile(`\*([^*\n]+)\*`), "<b>$1</b>"},
	{regexp.MustCompile(`(^|[\s(>])_([^_\n]+)_`), "$1<i>$2</i>"},
	{regexp.MustCompile(`~([^~\n]+)~`), "<s>$1</s>"},
}

var discordStyles = []style{
	{regexp.MustCompile(`\*\*([^*\n]+)\*\*`), "<b>$1</b>"},
	{regexp.MustCompile(`__([^_\n]+)__`), "<u>$1</u>"},
	{regexp.MustCompile(`\*([^*\n]+)\*`), "<i>$1</i>"},
	{regexp.MustCompile(`(^|[\s(>])_([^_\n]+)_`), "$1<i>$2</i>"},
	{regexp.MustCompile(`~~([^~\n]+)~~`), "<s>$1</s>"},
}

var (
	preRe   = regexp.MustCompile("(?s)```\n?(.*?)```")
	codeRe  = regexp.MustCompile("`([^`\n]+)`")
	quoteRe = regexp.MustCompile(`(?m)^&gt; ?(.*)$`)
)

// codeSpans sets code blocks and spans aside first: nothing inside them
// is a mention, a link or a style. esc escapes their raw text.
func codeSpans(s string, ph *placeholders, esc func(string) string) string {
	s = preRe.ReplaceAllStringFunc(s, func(m string) string {
		return ph.put("<pre>" + esc(preRe.FindStringSubmatch(m)[1]) + "</pre>")
	})
	return codeRe.ReplaceAllStringFunc(s, func(m string) string {
		return ph.put("<code>" + esc(m[1:len(m)-1]) + "</code>")
	})
}

// format applies inline styles, quotes and line breaks to escaped text.
func format(s string, styles []style) string {
	for _, st := range styles {
		s = st.re.ReplaceAllString(s, st.repl)
	}
	s = quoteRe.ReplaceAllString(s, "<blockquote>$1</blockquote>")
	s = strings.ReplaceAll(s, "</blockquote>\n", "</blockquote>")
	return strings.ReplaceAll(s, "\n", "<br>")
}

var tagRe = regexp.MustCompile(`<br>|</?(?:p|div|blockquote|pre)>`)
var anyTagRe = regexp.MustCompile(`<[^>]*>`)

// plainText turns the HTML made here back into one line of text, for the
// script's transcript.
func plainText(h string) string {
	h = tagRe.ReplaceAllString(h, " ")
	h = html.UnescapeString(anyTagRe.ReplaceAllString(h, ""))
	return strings.Join(strings.Fields(h), " ")
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

var slackTypedMention = regexp.MustCompile(`(^|\s)@([a-z]+)\b`)

// slackTyped is what Slack's client sends for text a person typed: &, < and
// > escaped, and @name turned into a mention of the person or group.
func slackTyped(text string) string {
	text = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(text)
	return slackTypedMention.ReplaceAllStringFunc(text, func(m string) string {
		sub := slackTypedMention.FindStringSubmatch(m)
		lead, handle := sub[1], sub[2]
		switch handle {
		case "here", "channel", "everyone":
			return lead + "<!" + handle + ">"
		}
		for _, p := range people {
			if p.Platform == "slack" && p.Handle == handle {
				return lead + "<@" + p.ID + "|" + handle + ">"
			}
		}
		for id, h := range slackGroups {
			if h == handle {
				return lead + "<!subteam^" + id + "|@" + handle + ">"
			}
		}
		return m
	})
}
