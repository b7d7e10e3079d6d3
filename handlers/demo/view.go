package demo

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
)

// State is what the page shows: both platforms exactly as the fakes
// recorded them, in a shape that is easy to draw.
type State struct {
	People  []Person    `json:"people"`
	Discord DiscordView `json:"discord"`
	Slack   SlackView   `json:"slack"`
}

// DiscordView is the public server.
type DiscordView struct {
	Server   string     `json:"server"`
	Channels []DChannel `json:"channels"`
}

// DChannel is a text channel (Messages) or a forum (Posts).
type DChannel struct {
	ID       string     `json:"id"`
	Name     string     `json:"name"`
	Kind     string     `json:"kind"` // "text" or "forum"
	Topic    string     `json:"topic,omitempty"`
	Messages []DMessage `json:"messages,omitempty"`
	Posts    []DPost    `json:"posts,omitempty"`
}

// DPost is a forum post: a thread with a title.
type DPost struct {
	ID       string     `json:"id"`
	Title    string     `json:"title"`
	Messages []DMessage `json:"messages"`
}

// DMessage is a Discord message as members see it.
type DMessage struct {
	ID        string     `json:"id"`
	Channel   string     `json:"channel"`
	AuthorID  string     `json:"author_id"`
	Author    string     `json:"author"`
	Avatar    string     `json:"avatar"`
	Badge     string     `json:"badge,omitempty"` // "APP" for the bot and webhooks
	Webhook   bool       `json:"webhook,omitempty"`
	HTML      string     `json:"html"`
	Content   string     `json:"content,omitempty"` // a member's own text, to edit it
	Embeds    []DEmbed   `json:"embeds,omitempty"`
	ReplyTo   *DRef      `json:"reply_to,omitempty"`
	Pings     []string   `json:"pings,omitempty"` // whom Discord notifies
	Edited    bool       `json:"edited,omitempty"`
	Deleted   bool       `json:"deleted,omitempty"`
	At        int64      `json:"at"` // unix ms
	Thread    []DMessage `json:"thread,omitempty"`
	ThreadFor string     `json:"thread_name,omitempty"`
}

// DRef is the message a reply answers.
type DRef struct {
	Author  string `json:"author"`
	Snippet string `json:"snippet"`
}

// DEmbed is a rich embed.
type DEmbed struct {
	Color      string   `json:"color,omitempty"`
	Author     string   `json:"author,omitempty"`
	AuthorIcon string   `json:"author_icon,omitempty"`
	Title      string   `json:"title,omitempty"`
	URL        string   `json:"url,omitempty"`
	HTML       string   `json:"html,omitempty"`
	Fields     []DField `json:"fields,omitempty"`
	Footer     string   `json:"footer,omitempty"`
}

// DField is a field of an embed.
type DField struct {
	Name   string `json:"name"`
	HTML   string `json:"html"`
	Inline bool   `json:"inline,omitempty"`
}

// SlackView is the internal workspace.
type SlackView struct {
	Workspace string     `json:"workspace"`
	Channels  []SChannel `json:"channels"`
	// Ephemerals and Modals by user id: the page shows a person's own.
	Ephemerals map[string][]SMessage `json:"ephemerals"`
	Modals     map[string]*Modal     `json:"modals"`
}

// SChannel is a channel with its top-level messages and their threads.
type SChannel struct {
	ID       string     `json:"id"`
	Name     string     `json:"name"`
	Messages []SMessage `json:"messages"`
}

// SMessage is a Slack message as members see it.
type SMessage struct {
	Channel   string     `json:"channel"`
	TS        string     `json:"ts"`
	Thread    string     `json:"thread,omitempty"`
	AuthorID  string     `json:"author_id"`
	Author    string     `json:"author"`
	Avatar    string     `json:"avatar"`
	Badge     string     `json:"badge,omitempty"`
	HTML      string     `json:"html,omitempty"` // the text, when there are no blocks to show
	Blocks    []Block    `json:"blocks,omitempty"`
	Pings     []string   `json:"pings,omitempty"`
	Edited    bool       `json:"edited,omitempty"`
	Deleted   bool       `json:"deleted,omitempty"`
	Ephemeral bool       `json:"ephemeral,omitempty"`
	At        int64      `json:"at"`
	Replies   []SMessage `json:"replies,omitempty"`
}

// Block is a Block Kit block, reduced to what the page draws.
type Block struct {
	Type     string    `json:"type"` // section, context, actions, header, divider, image
	HTML     string    `json:"html,omitempty"`
	Fields   []string  `json:"fields,omitempty"`   // section fields, HTML
	Elements []Element `json:"elements,omitempty"` // context
	Buttons  []Button  `json:"buttons,omitempty"`  // actions, or a section's accessory
	Image    string    `json:"image,omitempty"`
}

// Element is a context element: text or a small image.
type Element struct {
	HTML  string `json:"html,omitempty"`
	Image string `json:"image,omitempty"`
}

// Button is a Block Kit button.
type Button struct {
	ActionID string   `json:"action_id"`
	Label    string   `json:"label"`
	Style    string   `json:"style,omitempty"`
	URL      string   `json:"url,omitempty"`
	Confirm  *Confirm `json:"confirm,omitempty"`
}

// Confirm is a button's confirmation dialog.
type Confirm struct {
	Title string `json:"title"`
	Text  string `json:"text"`
	Yes   string `json:"yes"`
	No    string `json:"no"`
}

// Modal is a person's open modal.
type Modal struct {
	ViewID string  `json:"view_id"`
	Title  string  `json:"title"`
	Submit string  `json:"submit,omitempty"`
	Close  string  `json:"close,omitempty"`
	Blocks []Block `json:"blocks,omitempty"` // text shown above the inputs
	Fields []Field `json:"fields"`
}

// Field is an input of a modal.
type Field struct {
	BlockID  string   `json:"block_id"`
	ActionID string   `json:"action_id"`
	Kind     string   `json:"kind"` // "text", "textarea" or "checkboxes"
	Label    string   `json:"label"`
	Hint     string   `json:"hint,omitempty"`
	Initial  string   `json:"initial,omitempty"`
	Optional bool     `json:"optional,omitempty"`
	Options  []Option `json:"options,omitempty"`
	Error    string   `json:"error,omitempty"`
}

// Option is a checkbox.
type Option struct {
	Value   string `json:"value"`
	Label   string `json:"label"`
	Checked bool   `json:"checked,omitempty"`
}

// snapshot reads both fakes.
func (w *world) snapshot() State {
	return State{People: people, Discord: w.discordView(), Slack: w.slackView()}
}

func (w *world) discordView() DiscordView {
	v := DiscordView{Server: "Acme Community"}
	for _, id := range []string{helpChannel, forumChannel} {
		ch, _ := w.discord.Channel(id)
		dc := DChannel{ID: id, Name: ch.Name, Topic: ch.Topic, Kind: "text"}
		if ch.Type == discordfake.ChannelForum {
			dc.Kind = "forum"
			for _, t := range w.discord.Threads(id) {
				dc.Posts = append(dc.Posts, DPost{ID: t.ID, Title: t.Name, Messages: w.discordMessages(t.ID)})
			}
		} else {
			dc.Messages = w.discordMessages(id)
			threads := map[string]discordfake.Channel{}
			for _, t := range w.discord.Threads(id) {
				threads[t.ID] = t
			}
			for i, m := range dc.Messages {
				if t, ok := threads[m.ID]; ok {
					dc.Messages[i].ThreadFor = t.Name
					dc.Messages[i].Thread = w.discordMessages(t.ID)
				}
			}
		}
		v.Channels = append(v.Channels, dc)
	}
	return v
}

func (w *world) discordMessages(channel string) []DMessage {
	var out []DMessage
	for _, m := range w.discord.Messages(channel) {
		out = append(out, w.discordMessage(m))
	}
	return out
}

func (w *world) discordMessage(m discordfake.Message) DMessage {
	dm := DMessage{
		ID: m.ID, Channel: m.ChannelID, AuthorID: m.Author.ID, Author: firstNonEmpty(m.Author.GlobalName, m.Author.Username),
		Webhook: m.WebhookID != "", Edited: m.Edited, Deleted: m.Deleted, At: m.Timestamp.UnixMilli(),
	}
	switch {
	case m.WebhookID != "":
		dm.Badge, dm.Avatar = "APP", m.AvatarURL
		dm.Author = m.Author.Username // the name the post carries
	case m.Author.Bot:
		dm.Badge, dm.Avatar = "APP", "/avatars/liaison.svg"
	default:
		dm.Avatar = "/avatars/" + m.Author.Username + ".svg"
		if !m.Deleted {
			dm.Content = m.Content
		}
	}
	if !m.Deleted {
		dm.HTML = discordHTML(m.Content)
		for _, e := range m.Embeds {
			dm.Embeds = append(dm.Embeds, discordEmbed(e))
		}
		for _, p := range w.discord.Pings(m) {
			if strings.HasPrefix(p, "<@") {
				p = "@" + discordNames.user(strings.Trim(p, "<@!&>"))
			}
			dm.Pings = append(dm.Pings, p)
		}
	}
	if ref := m.MessageReference; ref != nil {
		if r, ok := w.discord.MessageByID(ref.MessageID); ok {
			snippet := plainText(discordHTML(r.Content))
			if r.Deleted {
				snippet = "(deleted message)"
			}
			dm.ReplyTo = &DRef{Author: firstNonEmpty(r.Author.GlobalName, r.Author.Username), Snippet: clip(snippet, 80)}
		}
	}
	return dm
}

func discordEmbed(e discordfake.Embed) DEmbed {
	de := DEmbed{Title: e.Title, URL: e.URL, HTML: discordHTML(e.Description)}
	if e.Color != 0 {
		de.Color = "#" + strconv.FormatInt(int64(e.Color)|0x1000000, 16)[1:]
	}
	if e.Author != nil {
		de.Author, de.AuthorIcon = e.Author.Name, e.Author.IconURL
	}
	for _, f := range e.Fields {
		de.Fields = append(de.Fields, DField{Name: f.Name, HTML: discordHTML(f.Value), Inline: f.Inline})
	}
	if e.Footer != nil {
		de.Footer = e.Footer.Text
	}
	return de
}

func (w *world) slackView() SlackView {
	v := SlackView{Workspace: "Acme HQ", Ephemerals: map[string][]SMessage{}, Modals: map[string]*Modal{}}
	for _, id := range []string{productChannel, supportChannel} {
		sc := SChannel{ID: id, Name: slackChannels[id], Messages: []SMessage{}}
		byTS := map[string]int{}
		for _, m := range w.slack.Messages(id) {
			sm := w.slackMessage(m)
			if m.ThreadTS != "" && m.ThreadTS != m.TS {
				if i, ok := byTS[m.ThreadTS]; ok {
					sc.Messages[i].Replies = append(sc.Messages[i].Replies, sm)
				}
				continue
			}
			byTS[m.TS] = len(sc.Messages)
			sc.Messages = append(sc.Messages, sm)
		}
		v.Channels = append(v.Channels, sc)
	}
	for _, p := range people {
		if p.Platform != "slack" {
			continue
		}
		for _, m := range w.slack.Ephemerals(p.ID) {
			v.Ephemerals[p.ID] = append(v.Ephemerals[p.ID], w.slackMessage(m))
		}
		if views := w.slack.Views(p.ID); len(views) > 0 {
			v.Modals[p.ID] = slackModal(views[len(views)-1])
		}
	}
	return v
}

func (w *world) slackMessage(m slackfake.Message) SMessage {
	sm := SMessage{
		Channel: m.Channel, TS: m.TS, Thread: m.ThreadTS, AuthorID: m.User,
		Edited: m.Edited, Deleted: m.Deleted, Ephemeral: m.Ephemeral, At: tsMillis(m.TS),
	}
	switch {
	case m.Username != "":
		sm.Author, sm.Avatar, sm.Badge = m.Username, m.IconURL, "APP"
	case m.BotID != "" || m.User == slackBotUser:
		sm.Author, sm.Avatar, sm.Badge = "Liaison", "/avatars/liaison.svg", "APP"
	default:
		sm.Author = slackNames.user(m.User)
		if p, ok := person(m.User); ok {
			sm.Avatar = p.Avatar
		}
	}
	if m.Deleted {
		return sm
	}
	sm.Blocks = slackBlocks(m.Blocks)
	if len(sm.Blocks) == 0 {
		sm.HTML = slackHTML(m.Text)
	}
	sm.Pings = slackfake.Pings(m)
	for i, p := range sm.Pings {
		switch {
		case strings.HasPrefix(p, "U"):
			sm.Pings[i] = "@" + slackNames.user(p)
		case strings.HasPrefix(p, "S"):
			sm.Pings[i] = "@" + firstNonEmpty(slackGroups[p], p)
		}
	}
	return sm
}

// tsMillis reads a Slack ts ("seconds.micros") as unix milliseconds.
func tsMillis(ts string) int64 {
	sec, frac, _ := strings.Cut(ts, ".")
	s, _ := strconv.ParseInt(sec, 10, 64)
	us, _ := strconv.ParseInt((frac + "000000")[:6], 10, 64)
	return time.Unix(s, us*1000).UnixMilli()
}

// Block Kit as stored by Slack, limited to the fields the page draws.
type kitText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type kitElement struct {
	Type     string          `json:"type"`
	Text     json.RawMessage `json:"text"`
	ActionID string          `json:"action_id"`
	Style    string          `json:"style"`
	URL      string          `json:"url"`
	ImageURL string          `json:"image_url"`
	Confirm  *struct {
		Title   kitText `json:"title"`
		Text    kitText `json:"text"`
		Confirm kitText `json:"confirm"`
		Deny    kitText `json:"deny"`
	} `json:"confirm"`
	// inputs
	Multiline      bool        `json:"multiline"`
	InitialValue   string      `json:"initial_value"`
	Options        []kitOption `json:"options"`
	InitialOptions []kitOption `json:"initial_options"`
}

type kitOption struct {
	Text  kitText `json:"text"`
	Value string  `json:"value"`
}

type kitBlock struct {
	Type      string       `json:"type"`
	BlockID   string       `json:"block_id"`
	Text      *kitText     `json:"text"`
	Fields    []kitText    `json:"fields"`
	Accessory *kitElement  `json:"accessory"`
	Elements  []kitElement `json:"elements"`
	ImageURL  string       `json:"image_url"`
	// input blocks
	Label    *kitText    `json:"label"`
	Hint     *kitText    `json:"hint"`
	Optional bool        `json:"optional"`
	Element  *kitElement `json:"element"`
}

func textHTML(t *kitText) string {
	if t == nil {
		return ""
	}
	if t.Type == "mrkdwn" {
		return slackHTML(t.Text)
	}
	return slackPlainHTML(t.Text)
}

func plainOf(t *kitText) string {
	if t == nil {
		return ""
	}
	return t.Text
}

func slackButton(e kitElement) Button {
	b := Button{ActionID: e.ActionID, Label: plainOf(e.text()), Style: e.Style, URL: e.URL}
	if c := e.Confirm; c != nil {
		b.Confirm = &Confirm{Title: c.Title.Text, Text: c.Text.Text, Yes: firstNonEmpty(c.Confirm.Text, "OK"), No: firstNonEmpty(c.Deny.Text, "Cancel")}
	}
	return b
}

// slackBlocks reduces blocks to what the page draws. A person's message
// comes with rich_text blocks that repeat its text: those yield nothing, and
// the text is shown instead.
func slackBlocks(raw json.RawMessage) []Block {
	var kit []kitBlock
	if len(raw) == 0 || json.Unmarshal(raw, &kit) != nil {
		return nil
	}
	var out []Block
	for _, k := range kit {
		b := Block{Type: k.Type}
		switch k.Type {
		case "section":
			b.HTML = textHTML(k.Text)
			for _, f := range k.Fields {
				b.Fields = append(b.Fields, textHTML(&f))
			}
			if a := k.Accessory; a != nil {
				switch a.Type {
				case "button":
					b.Buttons = []Button{slackButton(*a)}
				case "image":
					b.Image = a.ImageURL
				}
			}
		case "header":
			b.HTML = textHTML(k.Text)
		case "context":
			for _, e := range k.Elements {
				if e.Type == "image" {
					b.Elements = append(b.Elements, Element{Image: e.ImageURL})
				} else {
					b.Elements = append(b.Elements, Element{HTML: textHTML(e.text())})
				}
			}
		case "actions":
			for _, e := range k.Elements {
				if e.Type == "button" {
					b.Buttons = append(b.Buttons, slackButton(e))
				}
			}
		case "image":
			b.Image = k.ImageURL
		case "divider":
		default:
			continue // rich_text and others: the message text stands for them
		}
		out = append(out, b)
	}
	return out
}

// text reads an element's text: a button's is a text object, while a
// context element is itself one ({"type":"mrkdwn","text":"…"}).
func (e kitElement) text() *kitText {
	if len(e.Text) == 0 {
		return nil
	}
	if e.Type == "mrkdwn" || e.Type == "plain_text" {
		t := kitText{Type: e.Type}
		if json.Unmarshal(e.Text, &t.Text) != nil {
			return nil
		}
		return &t
	}
	var t kitText
	if json.Unmarshal(e.Text, &t) != nil {
		return nil
	}
	return &t
}

func slackModal(v slackfake.View) *Modal {
	var kit struct {
		Title  kitText    `json:"title"`
		Submit *kitText   `json:"submit"`
		Close  *kitText   `json:"close"`
		Blocks []kitBlock `json:"blocks"`
	}
	_ = json.Unmarshal(v.JSON, &kit)
	m := &Modal{ViewID: v.ID, Title: kit.Title.Text, Submit: plainOf(kit.Submit), Close: plainOf(kit.Close)}
	for _, k := range kit.Blocks {
		if k.Type != "input" || k.Element == nil {
			raw, _ := json.Marshal([]kitBlock{k})
			m.Blocks = append(m.Blocks, slackBlocks(raw)...)
			continue
		}
		el := k.Element
		f := Field{BlockID: k.BlockID, ActionID: el.ActionID, Label: plainOf(k.Label), Hint: plainOf(k.Hint), Optional: k.Optional, Error: v.Errors[k.BlockID]}
		switch el.Type {
		case "plain_text_input":
			f.Kind, f.Initial = "text", el.InitialValue
			if el.Multiline {
				f.Kind = "textarea"
			}
		case "checkboxes":
			f.Kind = "checkboxes"
			for _, o := range el.Options {
				checked := slices.ContainsFunc(el.InitialOptions, func(i kitOption) bool { return i.Value == o.Value })
				f.Options = append(f.Options, Option{Value: o.Value, Label: o.Text.Text, Checked: checked})
			}
		default:
			continue // the page offers text inputs and checkboxes only
		}
		m.Fields = append(m.Fields, f)
	}
	return m
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
