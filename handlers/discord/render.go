package discord

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	dg "github.com/bwmarrin/discordgo"

	"github.com/liaison-bot/liaison/bot"
)

// Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
const (
	maxContent     = 2000
	maxTitle       = 256
	maxDescription = 4096
	maxFieldValue  = 1024
	maxAuthorName  = 256
	maxFooter      = 2048
	maxThreadName  = 100
	maxCustomID    = 100
)

// Button and modal actions. A custom_id is "liaison:<action>:<id>": it names
// what to act on, never who may act: that is the interaction's member.
const (
	actReply      = "reply"    // item: opens the draft modal
	actClaim      = "claim"    // item
	actTag        = "tag"      // item: opens the tag modal
	actIgnore     = "ignore"   // item
	actApprove    = "approve"  // draft
	actEdit       = "edit"     // draft: Edit & approve, opens a modal
	actReject     = "reject"   // draft: opens the reason modal
	actWithdraw   = "withdraw" // draft
	actCorrect    = "correct"  // published draft: opens the correction modal
	actRetract    = "retract"  // published draft
	actProfile    = "profile"  // modal of /liaison profile
	customIDSpace = "liaison"
)

func customID(action string, id int64) string {
	return customIDSpace + ":" + action + ":" + strconv.FormatInt(id, 10)
}

// parseCustomID reads "liaison:<action>:<id>"; ok is false for anything else.
func parseCustomID(s string) (action string, id int64, ok bool) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 || parts[0] != customIDSpace || parts[1] == "" {
		return "", 0, false
	}
	id, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || id < 0 {
		return "", 0, false
	}
	return parts[1], id, true
}

// noMentions lets a message ping nobody; mentions, if any, are listed.
func noMentions(users ...string) *dg.MessageAllowedMentions {
	am := &dg.MessageAllowedMentions{Parse: []dg.AllowedMentionType{}}
	for _, u := range users {
		if u != "" {
			am.Users = append(am.Users, u)
		}
	}
	return am
}

// clip cuts s to at most n runes, marking the cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

var statusColor = map[bot.ItemStatus]int{
	bot.ItemNew:              0x5865F2,
	bot.ItemClaimed:          0xFEE75C,
	bot.ItemDrafting:         0xFEE75C,
	bot.ItemAwaitingApproval: 0xE67E22,
	bot.ItemAnswered:         0x57F287,
	bot.ItemClosed:           0x99AAB5,
	bot.ItemIgnored:          0x99AAB5,
}

// cardTitle is unique per item: Find recognises a card by it.
func cardTitle(c *bot.Card) string {
	return clip(fmt.Sprintf("#%d · %s", c.ItemID, c.Source), maxTitle)
}

type fields []*dg.MessageEmbedField

func (fs *fields) add(name, value string, inline bool) {
	if strings.TrimSpace(value) == "" {
		return
	}
	*fs = append(*fs, &dg.MessageEmbedField{Name: name, Value: clip(value, maxFieldValue), Inline: inline})
}

// httpURL returns u if it is an absolute http(s) URL, which is all Discord
// accepts in embed and button URLs.
func httpURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return ""
	}
	return u
}

// cardEmbed renders an item card. Its text was sanitised by the domain, and
// embeds never ping anyway.
func cardEmbed(c *bot.Card) *dg.MessageEmbed {
	desc := c.Text
	if c.Edited && !c.Deleted {
		desc += "\n*(edited)*"
	}
	var fs fields
	fs.add("Status", c.Status.Label(), true)
	fs.add("Route", c.Route, true)
	fs.add("Assignee", c.Assignee, true)
	fs.add("Tags", strings.Join(c.Tags, ", "), true)
	var att []string
	for _, a := range c.Attachments {
		att = append(att, "📎 "+a.Name+" "+a.URL)
	}
	fs.add("Attachments", strings.Join(att, "\n"), false)
	var hist []string
	for _, h := range c.History {
		line := fmt.Sprintf("#%d · %s · %s", h.ItemID, h.Status, h.At.UTC().Format("2006-01-02"))
		if h.Snippet != "" {
			line += " · " + h.Snippet
		}
		hist = append(hist, line)
	}
	fs.add("Earlier from this member", strings.Join(hist, "\n"), false)
	fs.add("Answered by", c.AnsweredBy, true)
	fs.add("Approved by", c.ApprovedBy, true)
	fs.add("Public reply", c.PublicLink, false)
	e := &dg.MessageEmbed{
		Title:       cardTitle(c),
		URL:         httpURL(c.Link),
		Description: clip(desc, maxDescription),
		Color:       statusColor[c.Status],
		Author:      &dg.MessageEmbedAuthor{Name: clip(orDash(c.AuthorName), maxAuthorName)},
		Fields:      fs,
		Footer:      &dg.MessageEmbedFooter{Text: clip("from "+c.Platform+" · Liaison item "+strconv.FormatInt(c.ItemID, 10), maxFooter)},
	}
	if !c.CreatedAt.IsZero() {
		e.Timestamp = c.CreatedAt.UTC().Format(time.RFC3339)
	}
	return e
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}

func cardComponents(c *bot.Card) []dg.MessageComponent {
	row := dg.ActionsRow{Components: []dg.MessageComponent{
		dg.Button{Label: "Reply publicly", Style: dg.PrimaryButton, CustomID: customID(actReply, c.ItemID)},
		dg.Button{Label: "Claim", Style: dg.SecondaryButton, CustomID: customID(actClaim, c.ItemID)},
		dg.Button{Label: "Tag", Style: dg.SecondaryButton, CustomID: customID(actTag, c.ItemID)},
		dg.Button{Label: "Ignore", Style: dg.DangerButton, CustomID: customID(actIgnore, c.ItemID), Disabled: c.Status == bot.ItemIgnored},
	}}
	if u := httpURL(c.Link); u != "" {
		row.Components = append(row.Components, dg.Button{Label: "Open original", Style: dg.LinkButton, URL: u})
	}
	return []dg.MessageComponent{row}
}

// threadName names the discussion thread started from a card.
func threadName(c *bot.Card) string {
	words := strings.Join(strings.Fields(c.Text), " ")
	name := fmt.Sprintf("#%d %s", c.ItemID, orDash(c.AuthorName))
	if words != "" {
		name += ": " + words
	}
	return clip(name, maxThreadName)
}

var draftStateLabel = map[bot.DraftState]string{
	bot.DraftPending:   "⏳ Pending",
	bot.DraftApproved:  "👍 Approved, publishing…",
	bot.DraftPublished: "✅ Published",
	bot.DraftRejected:  "❌ Rejected",
	bot.DraftWithdrawn: "↩️ Withdrawn",
	bot.DraftFailed:    "⚠️ Failed to publish",
	bot.DraftRetracted: "🗑️ Retracted",
}

var draftStateColor = map[bot.DraftState]int{
	bot.DraftPending:   0xE67E22,
	bot.DraftApproved:  0x5865F2,
	bot.DraftPublished: 0x57F287,
	bot.DraftRejected:  0xED4245,
	bot.DraftWithdrawn: 0x99AAB5,
	bot.DraftFailed:    0xED4245,
	bot.DraftRetracted: 0x99AAB5,
}

// draftTitle is unique per draft: Find recognises a draft card by it.
func draftTitle(d *bot.DraftCard) string {
	switch d.Kind {
	case bot.DraftCorrection:
		return fmt.Sprintf("Correction #%d of the public reply (v%d)", d.DraftID, d.Version)
	case bot.DraftRetraction:
		return fmt.Sprintf("Retraction #%d of the public reply", d.DraftID)
	}
	return fmt.Sprintf("Draft #%d · public reply (v%d)", d.DraftID, d.Version)
}

// draftEmbed previews the public post exactly as it will appear: under the
// signer's name and avatar where the public side can show them, otherwise
// with the signature line that says who wrote it.
func draftEmbed(d *bot.DraftCard) *dg.MessageEmbed {
	p := d.Preview
	var fs fields
	fs.add("State", draftStateLabel[d.State], true)
	fs.add("Author", d.AuthorName, true)
	fs.add("Answering", d.MemberName, true)
	if d.NeedsApproval {
		fs.add("Review", "an approver must approve", true)
	} else {
		fs.add("Review", "publishes without review", true)
	}
	switch d.State {
	case bot.DraftRejected:
		fs.add("Rejected by", d.ApproverName, true)
	default:
		fs.add("Approved by", d.ApproverName, true)
	}
	fs.add("Reason", d.Reason, false)
	fs.add("Public post", d.PublicLink, false)
	if !d.Consent {
		fs.add("⚠️ Waiting for the author", "The author has no consented public profile yet: they set it up with /liaison profile, then the draft moves on.", false)
	}
	e := &dg.MessageEmbed{
		Title:  clip(draftTitle(d), maxTitle),
		Color:  draftStateColor[d.State],
		Fields: fs,
	}
	body := p.Body
	switch {
	case d.Kind == bot.DraftRetraction:
	case d.CustomIdentity && p.Username != "":
		e.Author = &dg.MessageEmbedAuthor{Name: clip(p.Username, maxAuthorName), IconURL: httpURL(p.AvatarURL)}
	case p.Signature != "":
		body = p.Text(false)
		e.Footer = &dg.MessageEmbedFooter{Text: "Posted by the bot with the signature line: the public side cannot show the signer's name and avatar."}
	}
	e.Description = clip(orDash(body), maxDescription)
	return e
}

// draftComponents are the actions that make sense in the draft's state.
// Components are always sent, so an update clears buttons that no longer apply.
func draftComponents(d *bot.DraftCard) []dg.MessageComponent {
	var bs []dg.MessageComponent
	switch d.State {
	case bot.DraftPending:
		bs = []dg.MessageComponent{
			dg.Button{Label: "Approve", Style: dg.SuccessButton, CustomID: customID(actApprove, d.DraftID)},
			dg.Button{Label: "Edit & approve", Style: dg.PrimaryButton, CustomID: customID(actEdit, d.DraftID)},
			dg.Button{Label: "Reject", Style: dg.DangerButton, CustomID: customID(actReject, d.DraftID)},
			dg.Button{Label: "Withdraw", Style: dg.SecondaryButton, CustomID: customID(actWithdraw, d.DraftID)},
		}
	case bot.DraftFailed:
		bs = []dg.MessageComponent{dg.Button{Label: "Approve", Style: dg.SuccessButton, CustomID: customID(actApprove, d.DraftID)}}
	case bot.DraftPublished:
		if d.Kind == bot.DraftReply {
			bs = []dg.MessageComponent{
				dg.Button{Label: "Correct", Style: dg.SecondaryButton, CustomID: customID(actCorrect, d.DraftID)},
				dg.Button{Label: "Retract", Style: dg.DangerButton, CustomID: customID(actRetract, d.DraftID)},
			}
		}
	}
	if len(bs) == 0 {
		return []dg.MessageComponent{}
	}
	return []dg.MessageComponent{dg.ActionsRow{Components: bs}}
}

// noteContent is a note as posted: the domain made it safe; Discord's
// length limit is the adapter's business.
func noteContent(n *bot.Note) string {
	if n == nil {
		return ""
	}
	return clip(n.Text, maxContent)
}

// publicContent is what a webhook post carries: the reply with its mention,
// and, since a webhook cannot make a native reply, a link to the original
// when the post does not go in the original's thread.
func publicContent(p *bot.PublicPost, inThread bool) string {
	s := p.Body
	if !inThread && p.OriginalLink != "" {
		s += "\n" + p.OriginalLink
	}
	return clip(s, maxContent)
}

// webhookUsername makes a name Discord accepts for a webhook post: 1–80
// characters, without "discord" or "clyde" in any case.
func webhookUsername(name string) string {
	name = forbiddenInName.ReplaceAllString(name, "")
	name = strings.Join(strings.Fields(name), " ")
	name = strings.Trim(name, " ·-—")
	if name == "" {
		name = "Liaison"
	}
	return clip(name, 80)
}

var forbiddenInName = regexp.MustCompile(`(?i)discord|clyde`)
