package slack

import (
	"context"
	"errors"
	"fmt"
	"time"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/liaison-bot/liaison/bot"
)

// contentSubtypes are the message subtypes that carry what someone said:
// a person, or another app (bot_message), which the domain then drops.
// Everything else (channel_join, channel_topic, pinned_item…) is Slack's
// housekeeping, not a message.
var contentSubtypes = map[string]bool{"": true, "file_share": true, "thread_broadcast": true, "me_message": true, "bot_message": true}

// handleEvent takes one Events API callback: it returns nil once the domain
// has stored it (or has nothing to store), and the domain's error otherwise.
func (c *Conn) handleEvent(ctx context.Context, ev slackevents.EventsAPIEvent) error {
	if ev.Type != slackevents.CallbackEvent {
		return nil
	}
	if home, ok := ev.InnerEvent.Data.(*slackevents.AppHomeOpenedEvent); ok {
		return c.homeOpened(ctx, home)
	}
	msg, ok := ev.InnerEvent.Data.(*slackevents.MessageEvent)
	if !ok {
		return nil // not subscribed to anything else; nothing to do
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
		return fmt.Errorf("message event %s/%s (%s): %w", msg.Channel, msg.TimeStamp, firstOf(msg.SubType, "new"), err)
	}
	return nil
}

// incoming translates a message event. It says who posted it — another
// app, a webhook, Liaison itself — and leaves it to the domain to drop
// those; it only spares the look-ups for them, and the permalink for
// channels nobody watches.
func (c *Conn) incoming(ctx context.Context, msg *slackevents.MessageEvent) bot.Incoming {
	self := c.identity()
	thread := msg.ThreadTimeStamp
	if thread == msg.TimeStamp {
		thread = "" // a thread's parent is a top-level message
	}
	in := bot.Incoming{
		Conn: c.name, Channel: msg.Channel, ID: msg.TimeStamp, ThreadID: thread, AuthorID: msg.User,
		Bot: msg.BotID != "" || msg.SubType == "bot_message",
		// Incoming webhooks and legacy integrations post as bot_message
		// without a user.
		Webhook: msg.SubType == "bot_message" && msg.User == "",
		Self:    (self.UserID != "" && msg.User == self.UserID) || (self.BotID != "" && msg.BotID == self.BotID),
		At:      tsTime(msg.TimeStamp),
	}
	if in.Bot || in.Webhook || in.Self {
		in.Text = c.convert(ctx, msg.Text, 0) // Liaison's own posts come back as events: no look-up for them
		return in
	}
	u := c.user(ctx, msg.User)
	in.AuthorName, in.AuthorHandle = u.shown(), u.Name
	in.Text = c.plainText(ctx, msg.Text)
	if msg.Message != nil {
		in.Attachments = attachments(msg.Message.Files)
	}
	if c.domain.Watches(c.name, msg.Channel) {
		in.Link = c.messageLink(ctx, msg.Channel, msg.TimeStamp, thread)
	}
	return in
}

// message gives a new message to the domain: a member's in a watched
// channel, a staff member's in an item's internal thread (a draft when it
// starts with the reply prefix), or anything else, which it ignores.
func (c *Conn) message(ctx context.Context, msg *slackevents.MessageEvent) error {
	in := c.incoming(ctx, msg)
	in.RootFirst = in.ThreadID != ""
	outcome, err := c.domain.Receive(ctx, in)
	if err == nil && outcome == bot.IntakeNoRoot {
		// The thread's first message was not taken in yet (its event
		// comes late, or never will): take it in first, then this reply.
		if err := c.root(ctx, msg.Channel, in.ThreadID); err != nil {
			return err
		}
		in.RootFirst = false
		outcome, err = c.domain.Receive(ctx, in)
	}
	if err != nil {
		return err
	}
	c.log.Debug("slack message taken in", "channel", msg.Channel, "ts", msg.TimeStamp, "outcome", outcome)
	return nil
}

// root reads a thread's first message and takes it in. A thread Slack no
// longer has is no error: the reply is then taken in alone.
func (c *Conn) root(ctx context.Context, channel, thread string) error {
	msgs, _, _, err := c.api.GetConversationRepliesContext(ctx, &slackapi.GetConversationRepliesParameters{
		ChannelID: channel, Timestamp: thread, Limit: 1,
	})
	var se slackapi.SlackErrorResponse
	if errors.As(err, &se) && (se.Err == "thread_not_found" || se.Err == "message_not_found") {
		return nil
	} else if err != nil {
		return fmt.Errorf("conversations.replies of %s: %w", thread, err)
	}
	if len(msgs) == 0 || msgs[0].Timestamp != thread {
		return nil
	}
	m := msgs[0]
	ev := &slackevents.MessageEvent{
		Type: "message", User: m.User, Text: m.Text, ThreadTimeStamp: m.ThreadTimestamp, TimeStamp: m.Timestamp,
		Channel: channel, SubType: m.SubType, BotID: m.BotID, Message: &m.Msg,
	}
	if !contentSubtypes[ev.SubType] {
		return nil
	}
	_, err = c.domain.Receive(ctx, c.incoming(ctx, ev))
	return err
}

// changed passes an edit on. The domain ignores messages it did not take
// in; asking Watches first only spares the mention look-ups of the edits
// in other channels (Liaison's own card updates, to begin with).
func (c *Conn) changed(ctx context.Context, msg *slackevents.MessageEvent) error {
	m := msg.Message
	if m == nil || !c.domain.Watches(c.name, msg.Channel) {
		return nil
	}
	at := tsTime(msg.EventTimeStamp)
	if m.Edited != nil && m.Edited.Timestamp != "" {
		at = tsTime(m.Edited.Timestamp)
	}
	key := bot.MessageKey{Conn: c.name, Channel: msg.Channel, ID: m.Timestamp}
	return c.domain.Edit(ctx, key, c.plainText(ctx, m.Text), orNow(at))
}

// deleted passes a deletion on; the domain ignores messages it did not take
// in. The Watches check spares a store look-up per deletion elsewhere.
func (c *Conn) deleted(ctx context.Context, msg *slackevents.MessageEvent) error {
	if msg.DeletedTimeStamp == "" || !c.domain.Watches(c.name, msg.Channel) {
		return nil
	}
	key := bot.MessageKey{Conn: c.name, Channel: msg.Channel, ID: msg.DeletedTimeStamp}
	return c.domain.Delete(ctx, key, tsTime(msg.EventTimeStamp))
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
