package slack

import (
	"fmt"
	"strconv"
	"strings"

	slackapi "github.com/slack-go/slack"

	"github.com/liaison-bot/liaison/bot"
)

// Buttons carry an action and the id of what they act on, never who may act:
// that is decided from the clicking user Slack names in the payload.
const (
	actReply       = "liaison_reply"
	actClaim       = "liaison_claim"
	actTag         = "liaison_tag"
	actIgnore      = "liaison_ignore"
	actApprove     = "liaison_approve"
	actEditApprove = "liaison_edit_approve"
	actReject      = "liaison_reject"
	actWithdraw    = "liaison_withdraw"
	actCorrect     = "liaison_correct"
	actRetract     = "liaison_retract"
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
	return slackapi.NewSectionBlock(md(text), nil, nil)
}

// sections holds mrkdwn of any length, as many sections as it takes.
func sections(text string) []slackapi.Block {
	var out []slackapi.Block
	for _, c := range chunks(text, sectionLimit) {
		if strings.TrimSpace(c) == "" {
			continue
		}
		out = append(out, section(c))
	}
	return out
}

func contextBlock(texts ...string) slackapi.Block {
	var els []slackapi.MixedElement
	for _, t := range texts {
		if t != "" && len(els) < 10 {
			els = append(els, md(clip(t, 2000)))
		}
	}
	return slackapi.NewContextBlock("", els...)
}

func button(action string, id int64, label string, style slackapi.Style) *slackapi.ButtonBlockElement {
	b := slackapi.NewButtonBlockElement(action, strconv.FormatInt(id, 10), plain(label))
	if style != "" {
		b = b.WithStyle(style)
	}
	return b
}

func statusLabel(s bot.ItemStatus) string { return escape(s.Label()) }

// cardMessage renders an item's card: who said what where, its state, the
// member's history, the outcome, and the item's actions.
func cardMessage(card *bot.Card) (string, []slackapi.Block) {
	var blocks []slackapi.Block
	head := fmt.Sprintf("*%s* in *%s*", escape(firstOf(card.AuthorName, "Someone")), escape(card.Source))
	if card.Link != "" {
		head += " · " + link(card.Link, "view original")
	}
	blocks = append(blocks, section(head))

	text := escape(card.Text)
	if strings.TrimSpace(text) == "" {
		text = "_(no text)_"
	}
	blocks = append(blocks, sections(text)...)
	if len(card.Attachments) > 0 {
		var files []string
		for _, a := range card.Attachments {
			files = append(files, "📎 "+link(a.URL, a.Name))
		}
		blocks = append(blocks, sections(strings.Join(files, "\n"))...)
	}

	facts := []string{"*" + statusLabel(card.Status) + "*", fmt.Sprintf("item #%d", card.ItemID)}
	if card.Route != "" {
		facts = append(facts, "route "+escape(card.Route))
	}
	if len(card.Tags) > 0 {
		facts = append(facts, "tags: "+escape(strings.Join(card.Tags, ", ")))
	}
	if card.Assignee != "" {
		facts = append(facts, "assigned to "+escapeDomain(card.Assignee))
	}
	switch {
	case card.Deleted:
		facts = append(facts, "_deleted by the author_")
	case card.Edited:
		facts = append(facts, "_edited_")
	}
	if card.Truncated {
		facts = append(facts, "_truncated_")
	}
	blocks = append(blocks, contextBlock(strings.Join(facts, " · ")))

	if len(card.History) > 0 {
		lines := []string{"*Earlier from this member:*"}
		for _, h := range card.History {
			line := fmt.Sprintf("#%d %s, %s", h.ItemID, statusLabel(h.Status), h.At.Format("2 Jan 2006"))
			if h.Snippet != "" {
				line += ": “" + escape(h.Snippet) + "”"
			}
			lines = append(lines, line)
		}
		blocks = append(blocks, contextBlock(strings.Join(lines, "\n")))
	}

	if card.AnsweredBy != "" {
		out := "✅ Answered publicly by *" + escapeDomain(card.AnsweredBy) + "*"
		if card.ApprovedBy != "" {
			out += " · approved by *" + escapeDomain(card.ApprovedBy) + "*"
		}
		if card.PublicLink != "" {
			out += " · " + link(card.PublicLink, "public reply")
		}
		blocks = append(blocks, section(out))
	}

	blocks = append(blocks, slackapi.NewActionBlock("item_actions",
		button(actReply, card.ItemID, "Reply publicly", slackapi.StylePrimary),
		button(actClaim, card.ItemID, "Claim", ""),
		button(actTag, card.ItemID, "Tag", ""),
		button(actIgnore, card.ItemID, "Ignore", ""),
	))
	fallback := fmt.Sprintf("%s in %s: %s", escape(card.AuthorName), escape(card.Source), clip(escape(card.Text), 150))
	return fallback, blocks
}

// previewInfo is what a draft card needs to know of the public side.
type previewInfo struct {
	custom bool   // the public connection can post under the person's name
	member string // the member answered, as the mention will show
}

var draftTitles = map[bot.DraftKind]string{
	bot.DraftReply:      "Draft public reply",
	bot.DraftCorrection: "Correction of a public reply",
	bot.DraftRetraction: "Retraction of a public reply",
}

// draftCardMessage renders a draft: the public post exactly as it will look,
// its state, and the actions its state allows.
func draftCardMessage(dc *bot.DraftCard, pi previewInfo) (string, []slackapi.Block) {
	var blocks []slackapi.Block
	title := firstOf(draftTitles[dc.Kind], "Draft")
	blocks = append(blocks, section(fmt.Sprintf("*%s #%d* by *%s* · version %d", title, dc.DraftID, escapeDomain(dc.AuthorName), dc.Version)))

	p := dc.Preview
	switch {
	case dc.Kind == bot.DraftRetraction:
		blocks = append(blocks, section("_"+escape(p.Body)+"_"))
	case pi.custom:
		var els []slackapi.MixedElement
		if safeURL(p.AvatarURL) {
			els = append(els, slackapi.NewImageBlockElement(p.AvatarURL, "avatar"))
		}
		els = append(els, md("*"+escape(p.Username)+"*"))
		blocks = append(blocks, slackapi.NewContextBlock("", els...))
		blocks = append(blocks, sections(previewText(p, pi.member))...)
		blocks = append(blocks, contextBlock(escape(strings.TrimPrefix(p.Signature, "— "))))
	default:
		blocks = append(blocks, contextBlock("*Liaison* (the app, without the person's name and avatar: a signature line says who wrote it)"))
		blocks = append(blocks, sections(previewText(p, pi.member)+"\n"+escape(p.Signature))...)
	}

	blocks = append(blocks, contextBlock(draftState(dc)))
	if !dc.Consent && (dc.State == bot.DraftPending || dc.State == bot.DraftApproved) {
		blocks = append(blocks, contextBlock("⚠️ Waiting for *"+escapeDomain(dc.AuthorName)+"* to set up a public profile and agree to publish under it: `/liaison profile`"))
	}

	var buttons []slackapi.BlockElement
	switch {
	case dc.State == bot.DraftPending:
		buttons = append(buttons,
			button(actApprove, dc.DraftID, "Approve", slackapi.StylePrimary),
			button(actEditApprove, dc.DraftID, "Edit & approve", ""),
			button(actReject, dc.DraftID, "Reject", slackapi.StyleDanger),
			button(actWithdraw, dc.DraftID, "Withdraw", ""))
	case dc.State == bot.DraftPublished && dc.Kind == bot.DraftReply:
		retract := button(actRetract, dc.DraftID, "Retract", slackapi.StyleDanger).WithConfirm(slackapi.NewConfirmationBlockObject(
			plain("Retract the reply?"), plain("This asks for the public reply to be deleted. An approver approves the retraction like any draft."),
			plain("Ask to retract"), plain("Cancel")))
		buttons = append(buttons, button(actCorrect, dc.DraftID, "Correct", ""), retract)
	case dc.State == bot.DraftFailed:
		buttons = append(buttons, button(actApprove, dc.DraftID, "Approve (retry)", slackapi.StylePrimary))
	}
	if len(buttons) > 0 {
		blocks = append(blocks, slackapi.NewActionBlock("draft_actions", buttons...))
	}
	fallback := fmt.Sprintf("%s #%d by %s: %s", title, dc.DraftID, escapeDomain(dc.AuthorName), draftStateWord(dc.State))
	return fallback, blocks
}

// previewText is the post's text as it will show: the mention as the
// member's name (a live mention here could ping someone in this workspace).
func previewText(p bot.PublicPost, member string) string {
	text := escape(p.Reply)
	if p.Mention != "" {
		text = "*@" + escape(firstOf(member, "member")) + "* " + text
	}
	return text
}

func draftState(dc *bot.DraftCard) string {
	by := func(prefix string) string {
		if dc.ApproverName == "" {
			return ""
		}
		return prefix + " *" + escapeDomain(dc.ApproverName) + "*"
	}
	switch dc.State {
	case bot.DraftPending:
		if dc.NeedsApproval {
			return "⏳ *Waiting for an approver*"
		}
		return "⏳ *Publishes without review* once the author's profile is ready"
	case bot.DraftApproved:
		return "✅ *Approved*" + by(" by") + " — publishing…"
	case bot.DraftPublished:
		s := "📣 *Published*" + by(", approved by")
		if dc.PublicLink != "" {
			s += " · " + link(dc.PublicLink, "public post")
		}
		return s
	case bot.DraftRejected:
		s := "❌ *Not approved*" + by(" by")
		if dc.Reason != "" {
			s += ": " + escape(dc.Reason)
		}
		return s
	case bot.DraftWithdrawn:
		return "↩️ *Withdrawn* by the author"
	case bot.DraftFailed:
		return "⚠️ *Could not be published.* An approver can approve it again to retry."
	case bot.DraftRetracted:
		return "🗑️ *Retracted*: the public post was removed"
	}
	return escape(string(dc.State))
}

func draftStateWord(s bot.DraftState) string {
	if s == bot.DraftPending {
		return "awaiting review"
	}
	return string(s)
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
	if line := strings.TrimPrefix(p.Signature, "— "); line != "" {
		blocks = append(blocks, contextBlock(escape(line)))
	}
	return body, blocks
}
