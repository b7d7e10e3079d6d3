package slack

import (
	"context"
	"encoding/json"
	"strings"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/liaison-bot/liaison/bot"
)

// A message shortcut's callback_id is actionPrefix and the domain's
// bot.ActionID, as the app manifest declares it for each of bot.Menus.
// Slack's message_action payload carries the message itself
// (https://api.slack.com/reference/interaction-payloads/shortcuts): the
// request is built from it, never from anything the person typed.

// shortcutMessage is the message a shortcut was run on, as the payload
// gave it: what a shortcut's modal carries in its private_metadata, so
// that the submission knows the message. Slack keeps private_metadata on
// its side, out of the person's reach. Reading the message again on
// submission would need the bot in its channel (conversations.history
// answers not_in_channel otherwise), and the channels Send to team serves
// are those Liaison does not watch: the payload's copy is the one there
// is. It is clipped so that the metadata fits Slack's 3,000 characters
// (see fitMeta); cards show less than that anyway, with a link to the
// original.
type shortcutMessage struct {
	Channel string         `json:"c"`
	TS      string         `json:"ts"`
	Thread  string         `json:"th,omitempty"`
	User    string         `json:"u,omitempty"`
	BotID   string         `json:"b,omitempty"`
	SubType string         `json:"st,omitempty"`
	Text    string         `json:"t,omitempty"`
	Files   []shortcutFile `json:"f,omitempty"`
	Direct  bool           `json:"d,omitempty"`
}

type shortcutFile struct {
	Name string `json:"n,omitempty"`
	URL  string `json:"u,omitempty"`
}

// shortcutOf reads the message of a message_action payload.
func shortcutOf(cb slackapi.InteractionCallback) shortcutMessage {
	m := cb.Message.Msg
	sm := shortcutMessage{
		Channel: firstOf(cb.Channel.ID, m.Channel), TS: firstOf(m.Timestamp, cb.MessageTs), Thread: m.ThreadTimestamp,
		User: m.User, BotID: m.BotID, SubType: m.SubType, Text: m.Text,
	}
	for _, a := range attachments(m.Files) {
		sm.Files = append(sm.Files, shortcutFile{Name: a.Name, URL: a.URL})
	}
	// Slack names a direct message's channel "directmessage" (ids D…), a
	// group one "mpdm-…".
	sm.Direct = strings.HasPrefix(sm.Channel, "D") || cb.Channel.Name == "directmessage" || strings.HasPrefix(cb.Channel.Name, "mpdm-")
	return sm
}

// shortcutIncoming translates the message as intake translates a message
// event (names, mentions, files, who posted it), with its permalink.
// Slack's housekeeping (joins, topic changes) is no one's message: it is
// flagged as posted by Slack's own bot.
func (c *Conn) shortcutIncoming(ctx context.Context, sm shortcutMessage) *bot.Incoming {
	if sm.Channel == "" || sm.TS == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, lookupWithin)
	defer cancel()
	msg := &slackapi.Msg{}
	for _, f := range sm.Files {
		msg.Files = append(msg.Files, slackapi.File{Name: f.Name, Permalink: f.URL})
	}
	in := c.incoming(ctx, &slackevents.MessageEvent{
		Type: "message", Channel: sm.Channel, TimeStamp: sm.TS, ThreadTimeStamp: sm.Thread,
		User: sm.User, BotID: sm.BotID, SubType: sm.SubType, Text: sm.Text, Message: msg,
	})
	if !contentSubtypes[sm.SubType] {
		in.Bot = true
	}
	in.Direct = sm.Direct
	if in.Link == "" && !in.Bot && !in.Webhook && !in.Self {
		in.Link = c.messageLink(ctx, sm.Channel, sm.TS, in.ThreadID)
	}
	return &in
}

// fitMeta clips the message a modal carries until its private_metadata
// fits: its files go first (the card links them, the words matter more),
// then the end of its text.
func fitMeta(meta formMeta) formMeta {
	if meta.Message == nil {
		return meta
	}
	m := *meta.Message
	meta.Message = &m
	for {
		md, _ := json.Marshal(meta)
		excess := len(md) - privateMetadataMax
		switch {
		case excess <= 0:
			return meta
		case len(m.Files) > 0:
			m.Files = m.Files[:len(m.Files)-1]
		case m.Text != "":
			// Each rune takes at least one byte of the JSON: cutting
			// excess of them is enough, or nearly.
			r := []rune(m.Text)
			m.Text = string(r[:max(0, len(r)-excess)])
		default:
			return meta // cannot happen: ids alone are short
		}
	}
}

// shortcut takes a message shortcut: one of the domain's menu commands
// (bot.Menus), run on a message. The domain answers with a form (Send to
// team asks for the route), opened as a modal that carries the message, or
// with a text, shown to the person alone through the payload's
// response_url: Liaison need not be in the channel.
func (c *Conn) shortcut(ctx context.Context, cb slackapi.InteractionCallback) outcome {
	action, ok := strings.CutPrefix(cb.CallbackID, actionPrefix)
	if !ok || cb.User.ID == "" {
		return ignored // not a shortcut of Liaison's
	}
	sm := shortcutOf(cb)
	in := c.shortcutIncoming(ctx, sm)
	req := bot.Request{Kind: bot.FromMenu, Action: bot.ActionID(action), Channel: sm.Channel, Message: in}
	if in != nil {
		req.User = in.AuthorID
	}
	reply, ok := c.interact(ctx, cb.User.ID, req)
	if !ok {
		return outcome{}
	}
	p := place{Channel: sm.Channel, User: cb.User.ID, ResponseURL: cb.ResponseURL}
	return outcome{done: true, then: func(ctx context.Context) {
		if reply.Err != nil && bot.ErrorCode(reply.Err) == bot.EINTERNAL {
			c.log.Error("slack shortcut failed", "action", req.Action, "user", p.User, "err", reply.Err)
		}
		switch {
		case reply.Form != nil:
			meta := fitMeta(formMeta{ResponseURL: p.ResponseURL, Message: &sm})
			if _, err := c.api.OpenViewContext(ctx, cb.TriggerID, modalView(reply.Form, meta)); err != nil {
				c.log.Warn("views.open failed", "action", req.Action, "user", p.User, "err", err)
				c.answerCommand(ctx, p, escapeDomain(bot.ErrFormNotOpened.Message))
			}
		case reply.Text != "":
			c.answerCommand(ctx, p, replyText(reply.Text, reply.Links))
		}
	}}
}
