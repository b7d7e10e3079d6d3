package slack

import (
	"strconv"
	"strings"

	slackapi "github.com/slack-go/slack"

	"github.com/liaison-bot/liaison/bot"
)

// Slack's Block Kit limits, in characters unless said otherwise. The domain
// words and bounds what people write; these bound how Slack shows it, and
// text beyond them is split or clipped here.
const (
	// messageBlocksMax: blocks in one message
	// (https://api.slack.com/reference/block-kit/blocks).
	messageBlocksMax = 50
	// textObjectMax: a section's text, and any text object
	// (https://api.slack.com/reference/block-kit/blocks#section,
	// https://api.slack.com/reference/block-kit/composition-objects#text).
	textObjectMax = 3000
	// sectionFieldsMax, sectionFieldMax: a section's fields, and the text of
	// each (https://api.slack.com/reference/block-kit/blocks#section).
	sectionFieldsMax = 10
	sectionFieldMax  = 2000
	// contextElementsMax: elements of a context block
	// (https://api.slack.com/reference/block-kit/blocks#context).
	contextElementsMax = 10
	// actionsElementsMax: elements of an actions block
	// (https://api.slack.com/reference/block-kit/blocks#actions).
	actionsElementsMax = 25
	// buttonTextMax: a button's text
	// (https://api.slack.com/reference/block-kit/block-elements#button).
	buttonTextMax = 75
	// confirmTitleMax, confirmTextMax, confirmButtonMax: a confirmation
	// dialog's title, text, and confirm and deny buttons
	// (https://api.slack.com/reference/block-kit/composition-objects#confirm).
	confirmTitleMax  = 100
	confirmTextMax   = 300
	confirmButtonMax = 30
	// modalTitleMax, modalButtonMax, privateMetadataMax: a modal's title,
	// its submit and close buttons, its private_metadata
	// (https://api.slack.com/reference/surfaces/views).
	modalTitleMax      = 24
	modalButtonMax     = 24
	privateMetadataMax = 3000
	// inputLabelMax: an input block's label and hint
	// (https://api.slack.com/reference/block-kit/blocks#input).
	inputLabelMax = 2000
	// placeholderMax, textInputMax: a plain-text input's placeholder and
	// max_length (https://api.slack.com/reference/block-kit/block-elements#input).
	placeholderMax = 150
	textInputMax   = 3000
	// optionTextMax: the text of an option (a check box)
	// (https://api.slack.com/reference/block-kit/composition-objects#option).
	optionTextMax = 75
)

// md is mrkdwn shown verbatim: Slack does not turn bare words into links or
// mentions, so only the <…> sequences Liaison wrote are live.
func md(text string) *slackapi.TextBlockObject {
	return slackapi.NewTextBlockObject(slackapi.MarkdownType, text, false, true)
}

func plain(text string) *slackapi.TextBlockObject {
	return slackapi.NewTextBlockObject(slackapi.PlainTextType, text, true, false)
}

func section(text string) slackapi.Block {
	return slackapi.NewSectionBlock(md(clip(text, textObjectMax)), nil, nil)
}

// sections holds mrkdwn of any length, as many sections as it takes.
func sections(text string) []slackapi.Block {
	var out []slackapi.Block
	for _, c := range chunks(text, textObjectMax) {
		if strings.TrimSpace(c) == "" {
			continue
		}
		out = append(out, section(c))
	}
	return out
}

// contextBlock shows mrkdwn texts in small print, the empty ones left out;
// beyond Slack's count, the last element holds the rest.
func contextBlock(texts ...string) slackapi.Block {
	var kept []string
	for _, t := range texts {
		if strings.TrimSpace(t) != "" {
			kept = append(kept, t)
		}
	}
	if len(kept) > contextElementsMax {
		kept = append(kept[:contextElementsMax-1], strings.Join(kept[contextElementsMax-1:], "\n"))
	}
	var els []slackapi.MixedElement
	for _, t := range kept {
		els = append(els, md(clip(t, textObjectMax)))
	}
	if len(els) == 0 {
		return nil
	}
	return slackapi.NewContextBlock("", els...)
}

// factBlocks shows a card's facts: the inline ones side by side as a
// section's fields, the others each in a section of its own, in order.
func factBlocks(facts []bot.Fact) []slackapi.Block {
	var out []slackapi.Block
	var fields []*slackapi.TextBlockObject
	flush := func() {
		for len(fields) > 0 {
			n := min(len(fields), sectionFieldsMax)
			out = append(out, slackapi.NewSectionBlock(nil, fields[:n], nil))
			fields = fields[n:]
		}
	}
	for _, f := range facts {
		text := factText(f)
		if text == "" {
			continue
		}
		if f.Inline {
			fields = append(fields, md(clip(text, sectionFieldMax)))
			continue
		}
		flush()
		out = append(out, sections(text)...)
	}
	flush()
	return out
}

// factText is "*Label*", then the value and the links, one a line.
func factText(f bot.Fact) string {
	var lines []string
	if f.Label != "" {
		lines = append(lines, "*"+escape(f.Label)+"*")
	}
	if f.Value != "" {
		lines = append(lines, escape(f.Value))
	}
	for _, l := range f.Links {
		lines = append(lines, link(l.URL, l.Text))
	}
	return strings.Join(lines, "\n")
}

// actionBlocks renders the domain's buttons.
func actionBlocks(buttons []bot.Button) []slackapi.Block {
	var out []slackapi.Block
	var els []slackapi.BlockElement
	for _, b := range buttons {
		els = append(els, buttonElement(b))
	}
	for len(els) > 0 {
		n := min(len(els), actionsElementsMax)
		out = append(out, slackapi.NewActionBlock("", els[:n]...))
		els = els[n:]
	}
	return out
}

// buttonElement renders a button: its action, the id of what it acts on, and
// the question Slack asks before sending the click, if any.
func buttonElement(b bot.Button) *slackapi.ButtonBlockElement {
	el := slackapi.NewButtonBlockElement(actionPrefix+string(b.Action), strconv.FormatInt(b.Target, 10), plain(clipPlain(b.Label, buttonTextMax)))
	switch b.Style {
	case bot.StylePrimary:
		el.Style = slackapi.StylePrimary
	case bot.StyleDanger:
		el.Style = slackapi.StyleDanger
	}
	if q := b.Confirm; q != nil {
		el.Confirm = slackapi.NewConfirmationBlockObject(
			plain(clipPlain(q.Title, confirmTitleMax)), plain(clipPlain(q.Text, confirmTextMax)),
			plain(clipPlain(q.OK, confirmButtonMax)), nil)
		if q.Cancel != "" {
			el.Confirm.Deny = plain(clipPlain(q.Cancel, confirmButtonMax))
		}
		el.Confirm.Style = el.Style
	}
	return el
}

// assemble lays out a message's blocks: head, then as much of body as fits
// in Slack's count, then tail. Only the body (long text) can grow.
func assemble(head, body, tail []slackapi.Block) []slackapi.Block {
	room := max(0, messageBlocksMax-len(head)-len(tail))
	if len(body) > room {
		body = body[:room]
	}
	var out []slackapi.Block
	for _, part := range [][]slackapi.Block{head, body, tail} {
		for _, b := range part {
			if b != nil {
				out = append(out, b)
			}
		}
	}
	return out
}

// cardMessage renders an item's card from what the domain worded: who said
// what where, its facts, its small print and its actions.
func cardMessage(card *bot.Card) (string, []slackapi.Block) {
	head := []string{"*" + escape(card.AuthorName) + "*", escape(card.Title)}
	if card.Link != "" {
		head = append(head, link(card.Link, card.LinkLabel))
	}
	tail := factBlocks(card.Facts)
	tail = append(tail, contextBlock(append(escapeAll(card.Notes), escape(card.Footer))...))
	tail = append(tail, actionBlocks(card.Actions)...)
	blocks := assemble([]slackapi.Block{section(strings.Join(head, " · "))}, sections(escape(card.Text)), tail)
	return escape(card.Summary), blocks
}

// draftCardMessage renders a draft: the public post exactly as it will
// look, its facts, its small print and the actions its state allows.
func draftCardMessage(dc *bot.DraftCard) (string, []slackapi.Block) {
	head := []slackapi.Block{section("*" + escape(dc.Title) + "*")}
	p := dc.Preview
	var preview []slackapi.Block
	switch {
	case dc.Kind == bot.DraftRetraction:
		preview = sections("_" + escape(dc.PreviewText) + "_")
	case dc.CustomIdentity:
		var els []slackapi.MixedElement
		if alt := firstOf(p.Username, p.Byline); safeURL(p.AvatarURL) && alt != "" {
			els = append(els, slackapi.NewImageBlockElement(p.AvatarURL, alt))
		}
		els = append(els, md("*"+escape(p.Username)+"*"))
		head = append(head, slackapi.NewContextBlock("", els...))
		preview = sections(escape(dc.PreviewText))
		preview = append(preview, contextBlock(escape(p.Byline)))
	default:
		head = append(head, contextBlock(escape(dc.PreviewNote)))
		preview = sections(escape(dc.PreviewText + "\n" + p.Signature))
	}
	tail := factBlocks(dc.Facts)
	tail = append(tail, contextBlock(escapeAll(dc.Notes)...))
	tail = append(tail, actionBlocks(dc.Actions)...)
	return escape(dc.Summary), assemble(head, preview, tail)
}

func escapeAll(texts []string) []string {
	out := make([]string, len(texts))
	for i, t := range texts {
		out[i] = escape(t)
	}
	return out
}

// publicMessage renders an attributed public reply. The mention of the
// member stays live, so it pings them and only them; the reply is escaped.
// With a custom identity a context line says who wrote it; without, the
// signature line goes into the text.
func publicMessage(p *bot.PublicPost, custom bool) (string, []slackapi.Block) {
	body := escape(p.Reply)
	if p.Mention != "" {
		if userMention.MatchString(p.Mention) && p.Mention == "<@"+p.MentionUserID+">" {
			body = p.Mention + " " + body
		} else {
			body = escape(p.Mention) + " " + body
		}
	}
	if !custom {
		return body + "\n" + escape(p.Signature), nil
	}
	blocks := sections(body)
	if b := contextBlock(escape(p.Byline)); b != nil {
		blocks = append(blocks, b)
	}
	return body, blocks
}
