package discord

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	dg "github.com/bwmarrin/discordgo"

	"github.com/liaison-bot/liaison/bot"
)

// Discord's limits, in characters unless said otherwise. Texts the domain
// words are clipped to them, never reworded.
const (
	// https://discord.com/developers/docs/resources/message#create-message-jsonform-params
	maxContent = 2000
	// https://discord.com/developers/docs/resources/message#embed-object-embed-limits
	maxTitle       = 256
	maxDescription = 4096
	maxFields      = 25
	maxFieldName   = 256
	maxFieldValue  = 1024
	maxAuthorName  = 256
	maxFooter      = 2048
	maxEmbedTotal  = 6000 // title, description, field names and values, footer and author name together
	// https://discord.com/developers/docs/resources/channel#start-thread-from-message-json-params
	maxThreadName = 100
	// https://discord.com/developers/docs/components/reference#anatomy-of-a-component-custom-id
	maxCustomID = 100
	// https://discord.com/developers/docs/components/reference#action-row
	maxRows      = 5 // action rows per message or modal
	maxRowLength = 5 // buttons per action row
	// https://discord.com/developers/docs/components/reference#button-button-structure
	maxButtonLabel = 80
	// https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-response-object-modal
	maxModalTitle = 45
	// https://discord.com/developers/docs/components/reference#text-input-text-input-structure
	maxInputLabel       = 45
	maxInputPlaceholder = 100
	maxInputLength      = 4000 // max_length and value
	// https://discord.com/developers/docs/interactions/application-commands#application-command-object-application-command-structure
	maxCommandDescription = 100
	// https://discord.com/developers/docs/resources/webhook#execute-webhook-jsonform-params
	maxWebhookUsername = 80
)

// A custom_id is "liaison:<action>:<target>", with ":ok" when it answers
// the action's confirmation. It names what to act on, never who may act:
// that is the interaction's member.
const (
	customIDSpace   = "liaison"
	customIDConfirm = "ok"
)

func customID(action bot.ActionID, target int64, confirmed bool) string {
	id := customIDSpace + ":" + string(action) + ":" + strconv.FormatInt(target, 10)
	if confirmed {
		id += ":" + customIDConfirm
	}
	return id
}

// parseCustomID reads a custom_id customID made; ok is false for anything
// else, which the domain then refuses as an unknown action.
func parseCustomID(s string) (action bot.ActionID, target int64, confirmed, ok bool) {
	parts := strings.Split(s, ":")
	if len(parts) == 4 && parts[3] == customIDConfirm {
		parts, confirmed = parts[:3], true
	}
	if len(parts) != 3 || parts[0] != customIDSpace || parts[1] == "" {
		return "", 0, false, false
	}
	id, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || id < 0 {
		return "", 0, false, false
	}
	return bot.ActionID(parts[1]), id, confirmed, true
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

// httpURL returns u if it is an absolute http(s) URL, which is all Discord
// accepts in embed and button URLs.
func httpURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return ""
	}
	return u
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

var draftStateColor = map[bot.DraftState]int{
	bot.DraftPending:   0xE67E22,
	bot.DraftApproved:  0x5865F2,
	bot.DraftPublished: 0x57F287,
	bot.DraftRejected:  0xED4245,
	bot.DraftWithdrawn: 0x99AAB5,
	bot.DraftFailed:    0xED4245,
	bot.DraftRetracted: 0x99AAB5,
}

// cardTitle is unique per item: Find recognises a card by it.
func cardTitle(c *bot.Card) string { return clip(c.Title, maxTitle) }

// draftTitle is unique per draft: Find recognises a draft card by it.
func draftTitle(d *bot.DraftCard) string { return clip(d.Title, maxTitle) }

// threadName names the discussion thread started from a card.
func threadName(c *bot.Card) string {
	if name := strings.TrimSpace(c.ThreadName); name != "" {
		return clip(name, maxThreadName)
	}
	return clip(c.Title, maxThreadName)
}

// cardEmbed renders an item card. Its texts were sanitised and worded by the
// domain, and embeds never ping anyway.
func cardEmbed(c *bot.Card) *dg.MessageEmbed {
	e := &dg.MessageEmbed{
		Title:       cardTitle(c),
		URL:         httpURL(c.Link),
		Description: clip(c.Text, maxDescription),
		Color:       statusColor[c.Status],
		Fields:      embedFields(c.Facts),
		Footer:      footer(append([]string{c.Footer}, c.Notes...)),
	}
	if name := strings.TrimSpace(c.AuthorName); name != "" {
		e.Author = &dg.MessageEmbedAuthor{Name: clip(name, maxAuthorName)}
	}
	if !c.CreatedAt.IsZero() {
		e.Timestamp = c.CreatedAt.UTC().Format(time.RFC3339)
	}
	return fitEmbed(e)
}

func cardComponents(c *bot.Card) []dg.MessageComponent {
	bs := buttons(c.Actions)
	if u := httpURL(c.Link); u != "" && strings.TrimSpace(c.LinkLabel) != "" {
		bs = append(bs, dg.Button{Label: clip(c.LinkLabel, maxButtonLabel), Style: dg.LinkButton, URL: u})
	}
	return rows(bs)
}

// draftEmbed previews the public post exactly as it will appear: under the
// signer's name and avatar where the public side can show them, otherwise
// with the signature line that says who wrote it.
func draftEmbed(d *bot.DraftCard) *dg.MessageEmbed {
	p := d.Preview
	desc := d.PreviewText
	if !d.CustomIdentity && p.Signature != "" {
		desc += "\n" + p.Signature
	}
	e := &dg.MessageEmbed{
		Title:       draftTitle(d),
		Description: clip(desc, maxDescription),
		Color:       draftStateColor[d.State],
		Fields:      embedFields(d.Facts),
		Footer:      footer(append([]string{d.PreviewNote}, d.Notes...)),
	}
	if d.CustomIdentity && d.Kind != bot.DraftRetraction && strings.TrimSpace(p.Username) != "" {
		e.Author = &dg.MessageEmbedAuthor{Name: clip(p.Username, maxAuthorName), IconURL: httpURL(p.AvatarURL)}
	}
	return fitEmbed(e)
}

// draftComponents are the draft's actions. Components are always sent, so
// an update clears buttons that no longer apply.
func draftComponents(d *bot.DraftCard) []dg.MessageComponent {
	return rows(buttons(d.Actions))
}

// embedFields lays out facts as embed fields: the value, then its links one
// a line.
func embedFields(facts []bot.Fact) []*dg.MessageEmbedField {
	var out []*dg.MessageEmbedField
	for _, f := range facts {
		lines := []string{}
		if v := strings.TrimSpace(f.Value); v != "" {
			lines = append(lines, f.Value)
		}
		for _, l := range f.Links {
			lines = append(lines, markdownLink(l))
		}
		value := strings.Join(lines, "\n")
		if value == "" || len(out) == maxFields {
			continue // Discord refuses a field without a value
		}
		name := strings.TrimSpace(f.Label)
		if name == "" {
			name = "\u200b" // Discord requires a name; this one shows nothing
		}
		out = append(out, &dg.MessageEmbedField{Name: clip(name, maxFieldName), Value: clip(value, maxFieldValue), Inline: f.Inline})
	}
	return out
}

// markdownLink writes a link the domain made as Discord's markdown shows
// it; a URL Discord would not link is left out, its text kept. The text is
// escaped so that no part of it (an attachment's name, say) can close the
// label early and start a link of its own.
func markdownLink(l bot.Link) string {
	text := markdownLinkText.Replace(strings.TrimSpace(l.Text))
	u := httpURL(l.URL)
	switch {
	case u == "":
		return text
	case text == "":
		return u
	}
	return "[" + text + "](" + strings.NewReplacer("(", "%28", ")", "%29").Replace(u) + ")"
}

var markdownLinkText = strings.NewReplacer("\\", "\\\\", "[", "\\[", "]", "\\]")

// footer joins the small print, one item a line; nil when there is none.
func footer(parts []string) *dg.MessageEmbedFooter {
	var lines []string
	for _, p := range parts {
		if strings.TrimSpace(p) != "" {
			lines = append(lines, p)
		}
	}
	if len(lines) == 0 {
		return nil
	}
	return &dg.MessageEmbedFooter{Text: clip(strings.Join(lines, "\n"), maxFooter)}
}

// fitEmbed keeps an embed within Discord's total: the description, then
// the last fields, give way first.
func fitEmbed(e *dg.MessageEmbed) *dg.MessageEmbed {
	size := func() int {
		n := utf8.RuneCountInString(e.Title) + utf8.RuneCountInString(e.Description)
		for _, f := range e.Fields {
			n += utf8.RuneCountInString(f.Name) + utf8.RuneCountInString(f.Value)
		}
		if e.Footer != nil {
			n += utf8.RuneCountInString(e.Footer.Text)
		}
		if e.Author != nil {
			n += utf8.RuneCountInString(e.Author.Name)
		}
		return n
	}
	if over := size() - maxEmbedTotal; over > 0 {
		if keep := utf8.RuneCountInString(e.Description) - over; keep > 1 {
			e.Description = clip(e.Description, keep)
		} else {
			e.Description = ""
		}
	}
	for size() > maxEmbedTotal && len(e.Fields) > 0 {
		e.Fields = e.Fields[:len(e.Fields)-1]
	}
	return e
}

var buttonStyle = map[bot.Style]dg.ButtonStyle{
	bot.StyleDefault: dg.SecondaryButton,
	bot.StylePrimary: dg.PrimaryButton,
	bot.StyleDanger:  dg.DangerButton,
}

// buttons renders actions. Discord has no confirmation dialog on buttons:
// the domain asks its question after the click (see answer).
func buttons(actions []bot.Button) []dg.MessageComponent {
	out := make([]dg.MessageComponent, 0, len(actions))
	for _, a := range actions {
		style, ok := buttonStyle[a.Style]
		if !ok {
			style = dg.SecondaryButton
		}
		out = append(out, dg.Button{Label: clip(a.Label, maxButtonLabel), Style: style, CustomID: customID(a.Action, a.Target, false)})
	}
	return out
}

// rows lays out components in action rows of at most five; never nil.
func rows(cs []dg.MessageComponent) []dg.MessageComponent {
	out := []dg.MessageComponent{}
	for len(cs) > 0 && len(out) < maxRows {
		n := min(len(cs), maxRowLength)
		out = append(out, dg.ActionsRow{Components: cs[:n]})
		cs = cs[n:]
	}
	return out
}

// modal renders a form. Discord shows neither an intro nor a submit label,
// and has no check box: a check field is a text input where the person
// types the field's keyword.
func modal(f *bot.Form) *dg.InteractionResponseData {
	var rs []dg.MessageComponent
	for _, fl := range f.Fields {
		if len(rs) == maxRows {
			break
		}
		rs = append(rs, dg.ActionsRow{Components: []dg.MessageComponent{textInput(fl)}})
	}
	return &dg.InteractionResponseData{
		CustomID:   customID(f.Action, f.Target, false),
		Title:      clip(f.Title, maxModalTitle),
		Components: rs,
	}
}

func textInput(f bot.Field) dg.TextInput {
	maxLen := func(n int) int { return min(max(n, 0), maxInputLength) }
	if f.Kind == bot.FieldCheck {
		ti := dg.TextInput{
			CustomID: f.ID, Label: clip(f.TypedLabel, maxInputLabel), Style: dg.TextInputShort,
			Placeholder: clip(f.TypedPrompt, maxInputPlaceholder), MaxLength: maxLen(f.MaxLen),
		}
		if f.Checked {
			ti.Value = f.Keyword
		}
		return ti
	}
	ti := dg.TextInput{
		CustomID: f.ID, Label: clip(f.Label, maxInputLabel), Style: dg.TextInputShort,
		Value: clip(f.Initial, maxInputLength), Required: f.Required, MaxLength: maxLen(f.MaxLen),
	}
	if f.Multiline {
		ti.Style = dg.TextInputParagraph
	}
	if ti.Placeholder = f.Placeholder; ti.Placeholder == "" {
		ti.Placeholder = f.Hint
	}
	ti.Placeholder = clip(ti.Placeholder, maxInputPlaceholder)
	return ti
}

// modalValues collects a submitted modal's text inputs by custom_id, which
// is the field's id.
func modalValues(rows []dg.MessageComponent) map[string]string {
	out := map[string]string{}
	for _, r := range rows {
		row, ok := r.(*dg.ActionsRow)
		if !ok {
			continue
		}
		for _, comp := range row.Components {
			if ti, ok := comp.(*dg.TextInput); ok {
				out[ti.CustomID] = ti.Value
			}
		}
	}
	return out
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
// characters, without "discord" or "clyde" in any case
// (https://discord.com/developers/docs/resources/webhook#webhook-object, usernames).
func webhookUsername(name string) string {
	name = forbiddenInName.ReplaceAllString(name, "")
	name = strings.Join(strings.Fields(name), " ")
	name = strings.Trim(name, " ·-—")
	if name == "" {
		name = webhookName
	}
	return clip(name, maxWebhookUsername)
}

var forbiddenInName = regexp.MustCompile(`(?i)discord|clyde`)
