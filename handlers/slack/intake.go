package slack

import (
	"context"
	"time"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/liaison-bot/liaison/bot"
)

// contentSubtypes are the message subtypes that carry what a person said.
// Everything else (channel_join, channel_topic, bot_message, pinned_item…)
// is housekeeping and is dropped here.
var contentSubtypes = map[string]bool{"": true, "file_share": true, "thread_broadcast": true, "me_message": true}

// handleEvent takes one Events API callback. It reports false when the
// domain failed to take it, so that it is not acknowledged and Slack sends
// it again.
func (c *Conn) handleEvent(ctx context.Context, ev slackevents.EventsAPIEvent) bool {
	if ev.Type != slackevents.CallbackEvent {
		return true
	}
	msg, ok := ev.InnerEvent.Data.(*slackevents.MessageEvent)
	if !ok {
		return true // not subscribed to anything else; nothing to do
	}
	var err error
	switch {
	case msg.SubType == "message_changed":
		err = c.changed(ctx, msg)
	case msg.SubType == "message_deleted":
		err = c.deleted(ctx, msg)
	case contentSubtypes[msg.SubType]:
		err = c.message(ctx, msg)
	}
	if err != nil {
		c.log.Error("slack event not taken in", "channel", msg.Channel, "ts", msg.TimeStamp, "subtype", msg.SubType, "err", err)
		return false
	}
	return true
}

// ignored reports messages that are not a person's: other apps, webhooks,
// system messages and Liaison's own posts (which come back as events).
func (c *Conn) ignored(user, botID, subtype string) bool {
	self := c.identity()
	return botID != "" || subtype == "bot_message" || user == "" || user == self.UserID
}

// watched reports whether the domain watches channel on this connection. The
// domain checks again; asking first spares the user and permalink lookups
// for the (many) messages of unwatched channels.
func (c *Conn) watched(channel string) bool {
	_, ok := c.svc.Router.Source(c.name, channel)
	return ok
}

// message takes a new message: intake when its channel is watched, and in
// any thread a possible draft ("!reply …") when the thread is an item's.
func (c *Conn) message(ctx context.Context, msg *slackevents.MessageEvent) error {
	if c.ignored(msg.User, msg.BotID, msg.SubType) {
		return nil
	}
	thread := msg.ThreadTimeStamp
	if thread == msg.TimeStamp {
		thread = "" // a thread's parent is a top-level message
	}
	watched := c.watched(msg.Channel)
	if !watched && thread == "" {
		return nil // internal chatter outside any thread
	}
	text := c.plainText(ctx, msg.Text)
	if watched {
		in := bot.Incoming{
			Conn: c.name, Channel: msg.Channel, ID: msg.TimeStamp, ThreadID: thread,
			AuthorID: msg.User, AuthorName: c.user(ctx, msg.User).shown(),
			Text: text, Link: c.messageLink(ctx, msg.Channel, msg.TimeStamp, thread), At: tsTime(msg.TimeStamp),
		}
		if msg.Message != nil {
			in.Attachments = attachments(msg.Message.Files)
		}
		outcome, err := c.svc.Receive(ctx, in)
		if err != nil {
			return err
		}
		c.log.Debug("slack message taken in", "channel", msg.Channel, "ts", msg.TimeStamp, "outcome", outcome)
	}
	if thread != "" {
		return c.internalMessage(ctx, msg, thread, text)
	}
	return nil
}

// internalMessage passes a person's thread reply to the domain, which makes
// a draft of it when it starts with the reply prefix in an item's thread.
func (c *Conn) internalMessage(ctx context.Context, msg *slackevents.MessageEvent, thread, text string) error {
	// The domain makes at most one draft per message id: a redelivered
	// event changes nothing.
	u := c.user(ctx, msg.User)
	actor := bot.Actor{Conn: c.name, UserID: msg.User, Name: firstOf(u.RealName, u.Display, u.Name)}
	d, err := c.svc.InternalMessage(ctx, actor, thread, msg.Channel+"/"+msg.TimeStamp, text)
	if err != nil && bot.ErrorCode(err) == bot.EINTERNAL {
		return err
	}
	if err != nil {
		c.tell(ctx, place{Channel: msg.Channel, Thread: thread, User: msg.User}, bot.ErrorMessage(err))
		return nil
	}
	if d != nil {
		c.log.Info("draft from thread message", "draft", d.ID, "item", d.ItemID)
	}
	return nil
}

// changed passes an edit of a person's message on.
func (c *Conn) changed(ctx context.Context, msg *slackevents.MessageEvent) error {
	m := msg.Message
	if m == nil || c.ignored(m.User, m.BotID, m.SubType) || !c.watched(msg.Channel) {
		return nil
	}
	at := tsTime(msg.EventTimeStamp)
	if m.Edited != nil && m.Edited.Timestamp != "" {
		at = tsTime(m.Edited.Timestamp)
	}
	key := bot.MessageKey{Conn: c.name, Channel: msg.Channel, ID: m.Timestamp}
	return c.svc.Edit(ctx, key, c.plainText(ctx, m.Text), orNow(at))
}

// deleted passes a deletion on.
func (c *Conn) deleted(ctx context.Context, msg *slackevents.MessageEvent) error {
	if p := msg.PreviousMessage; p != nil && c.ignored(p.User, p.BotID, p.SubType) {
		return nil
	}
	if msg.DeletedTimeStamp == "" || !c.watched(msg.Channel) {
		return nil
	}
	key := bot.MessageKey{Conn: c.name, Channel: msg.Channel, ID: msg.DeletedTimeStamp}
	return c.svc.Delete(ctx, key, orNow(tsTime(msg.EventTimeStamp)))
}

// attachments relays shared files by name and link.
func attachments(files []slackapi.File) []bot.Attachment {
	var out []bot.Attachment
	for _, f := range files {
		name := firstOf(f.Name, f.Title, f.ID)
		out = append(out, bot.Attachment{Name: name, URL: firstOf(f.Permalink, f.URLPrivate)})
	}
	return out
}

// messageLink is a message's permalink, built from the team's URL when
// auth.test gave it (no call per message), else asked of Slack.
func (c *Conn) messageLink(ctx context.Context, channel, ts, thread string) string {
	if l := builtLink(c.identity().TeamURL, channel, ts, thread); l != "" {
		return l
	}
	l, err := c.api.GetPermalinkContext(ctx, &slackapi.PermalinkParameters{Channel: channel, Ts: ts})
	if err != nil {
		c.log.Warn("chat.getPermalink failed", "channel", channel, "ts", ts, "err", err)
		return ""
	}
	return l
}

func orNow(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}
