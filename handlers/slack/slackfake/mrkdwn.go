package slackfake

import (
	"encoding/json"
	"html"
	"regexp"
	"slices"
	"strings"
)

// token is a piece of Slack mrkdwn text: plain text or a <…> control sequence.
type token struct {
	kind  string // "text", "user", "usergroup", "broadcast", "channel", "link", "date"
	value string // the text, or the id / range / URL
	label string // the part after '|', if any
}

// tokenize splits wire-format mrkdwn into text and <…> sequences. Escaped
// "&lt;…&gt;" stays text: it is what a typed '<' looks like.
func tokenize(text string) []token {
	var out []token
	for text != "" {
		open := strings.IndexByte(text, '<')
		if open < 0 {
			out = append(out, token{kind: "text", value: text})
			break
		}
		end := strings.IndexByte(text[open:], '>')
		if end < 0 {
			out = append(out, token{kind: "text", value: text})
			break
		}
		if open > 0 {
			out = append(out, token{kind: "text", value: text[:open]})
		}
		out = append(out, control(text[open+1:open+end]))
		text = text[open+end+1:]
	}
	return out
}

// control classifies the inside of a <…> sequence.
func control(inner string) token {
	body, label, _ := strings.Cut(inner, "|")
	switch {
	case strings.HasPrefix(body, "@"):
		return token{kind: "user", value: body[1:], label: label}
	case strings.HasPrefix(body, "#"):
		return token{kind: "channel", value: body[1:], label: label}
	case strings.HasPrefix(body, "!subteam^"):
		return token{kind: "usergroup", value: strings.TrimPrefix(body, "!subteam^"), label: label}
	case body == "!here" || body == "!channel" || body == "!everyone":
		return token{kind: "broadcast", value: body[1:], label: label}
	case strings.HasPrefix(body, "!date^"):
		return token{kind: "date", value: body, label: label}
	case strings.HasPrefix(body, "!"):
		return token{kind: "text", value: label}
	default:
		return token{kind: "link", value: body, label: label}
	}
}

// broadcastWord matches @here, @channel and @everyone as words.
var broadcastWord = regexp.MustCompile(`(^|[^\w@])@(here|channel|everyone)\b`)

// handleWord matches @name, which link_names turns into a mention.
var handleWord = regexp.MustCompile(`(^|[^\w@<])@([\w.\-]+)`)

// Pings returns whom Slack would notify for a message, in order and without
// repeats: "@here", "@channel", "@everyone" for broadcasts, user ids (U…) and
// user group ids (S…). It reads <…> mentions in the text, in mrkdwn text of
// the blocks and attachments and in rich_text elements; with link_names (or
// parse=full) it also counts @here/@channel/@everyone typed as words and
// reports other @words as "@word", since Slack would link them to a person
// or a group of that name. Escaped text ("&lt;!channel&gt;") pings nobody.
func Pings(msg Message) []string {
	var out []string
	add := func(p string) {
		if p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	linkNames := msg.LinkNames || msg.Parse == "full"
	scan := func(text string) {
		for _, t := range tokenize(text) {
			switch t.kind {
			case "user", "usergroup":
				add(t.value)
			case "broadcast":
				add("@" + t.value)
			case "text":
				if !linkNames {
					continue
				}
				for _, m := range broadcastWord.FindAllStringSubmatch(t.value, -1) {
					add("@" + m[2])
				}
				for _, m := range handleWord.FindAllStringSubmatch(t.value, -1) {
					add("@" + m[2])
				}
			}
		}
	}
	scan(msg.Text)
	walkPings(msg.Blocks, false, scan, add)
	walkPings(msg.Attachments, true, scan, add)
	return out
}

// walkPings finds mentions in blocks or attachments: mrkdwn text objects,
// rich_text user/usergroup/broadcast elements, and in attachments the text,
// pretext and field values.
func walkPings(raw json.RawMessage, attachments bool, scan func(string), add func(string)) {
	if len(raw) == 0 {
		return
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return
	}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			switch x["type"] {
			case "mrkdwn":
				if s, ok := x["text"].(string); ok {
					scan(s)
				}
			case "user":
				if s, ok := x["user_id"].(string); ok {
					add(s)
				}
			case "usergroup":
				if s, ok := x["usergroup_id"].(string); ok {
					add(s)
				}
			case "broadcast":
				if s, ok := x["range"].(string); ok {
					add("@" + s)
				}
			case nil: // in attachments: an attachment or one of its fields
				if attachments {
					for _, k := range []string{"text", "pretext", "value"} {
						if s, ok := x[k].(string); ok {
							scan(s)
						}
					}
				}
			}
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
}

// richText renders text as the rich_text block Slack adds to a person's
// message.
func richText(text string) json.RawMessage {
	var els []object
	for _, t := range tokenize(text) {
		switch t.kind {
		case "user":
			els = append(els, object{"type": "user", "user_id": t.value})
		case "usergroup":
			els = append(els, object{"type": "usergroup", "usergroup_id": t.value})
		case "broadcast":
			els = append(els, object{"type": "broadcast", "range": t.value})
		case "channel":
			els = append(els, object{"type": "channel", "channel_id": t.value})
		case "link":
			el := object{"type": "link", "url": t.value}
			if t.label != "" {
				el["text"] = t.label
			}
			els = append(els, el)
		default:
			if v := html.UnescapeString(t.value); v != "" {
				els = append(els, object{"type": "text", "text": v})
			}
		}
	}
	if els == nil {
		return nil
	}
	b, _ := json.Marshal([]object{{
		"type":     "rich_text",
		"block_id": shortID(),
		"elements": []object{{"type": "rich_text_section", "elements": els}},
	}})
	return b
}
