package discord

import (
	"context"
	"strings"
	"time"

	dg "github.com/bwmarrin/discordgo"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/internal/pause"
)

// onLiveMessage takes a MESSAGE_CREATE from the gateway. While the
// adapter is behind on the channel (or the domain fails), the message
// waits for the catch-up, which reads it back from Discord in order; if
// the domain fails on it, the channel is caught up with once it works.
func (c *Conn) onLiveMessage(ctx context.Context, m *dg.Message) {
	if m == nil || m.Author == nil {
		return
	}
	parent := ""
	c.mu.Lock()
	if ci, ok := c.channels[m.ChannelID]; ok {
		parent = ci.ParentID
	}
	c.mu.Unlock()
	if c.waits(m.ChannelID, parent) {
		c.missed(m.ChannelID, m.ID)
		return
	}
	if _, err := c.take(ctx, m, true); err != nil && ctx.Err() == nil {
		c.missed(m.ChannelID, m.ID)
		c.failed(err)
	}
}

// take hands a message someone said, anywhere, to the domain, which
// decides what it is (a public message, a follow-up, a draft in an
// internal thread, or nothing it watches) and drops bots, webhooks and
// Liaison itself. It reports whether the message was stored, and an error
// only when the domain failed and the message must be taken in again.
//
// A live message in a thread whose first message was never taken in (the
// thread was opened while no replica held the gateway) is not taken in as
// a question of its own: the thread, and the channel the thread was
// started from, are caught up with from the thread's start, in order.
func (c *Conn) take(ctx context.Context, m *dg.Message, live bool) (bool, error) {
	if m == nil || m.Author == nil {
		return false, nil
	}
	switch m.Type {
	case dg.MessageTypeDefault, dg.MessageTypeReply:
	default:
		return false, nil // joins, pins, thread notices: nothing anyone said
	}
	in := c.incoming(ctx, m)
	in.RootFirst = live && in.ThreadID != ""
	out, err := c.d.Receive(ctx, in)
	if err != nil {
		if bot.ErrorCode(err) == bot.EINTERNAL {
			return false, err
		}
		c.log.Error("intake refused", "channel", m.ChannelID, "message", m.ID, "err", err)
		return false, nil
	}
	if out == bot.IntakeNoRoot {
		// A thread's id is its first message's (a forum post), or that of
		// the message it was started from, in its parent channel.
		c.log.Info("thread start not taken in yet: catching up", "channel", m.ChannelID, "parent", in.ParentChannel)
		if in.ParentChannel != "" && !c.isForum(ctx, in.ParentChannel) {
			c.missed(in.ParentChannel, in.ThreadID)
		}
		c.missed(m.ChannelID, in.ThreadID)
		return false, nil
	}
	c.log.Debug("intake", "channel", m.ChannelID, "message", m.ID, "outcome", out)
	switch out {
	case bot.IntakeNew, bot.IntakeFollowUp, bot.IntakeUnrouted:
		return true, nil
	}
	return false, nil
}

// incoming translates a gateway message. Bots, webhooks and Liaison itself
// are flagged, and the domain drops them: no loops.
func (c *Conn) incoming(ctx context.Context, m *dg.Message) bot.Incoming {
	self, _ := c.self(ctx)
	in := bot.Incoming{
		Conn:         c.name,
		Channel:      m.ChannelID,
		ID:           m.ID,
		AuthorID:     m.Author.ID,
		AuthorName:   authorName(m),
		AuthorHandle: m.Author.Username,
		Bot:          m.Author.Bot,
		Webhook:      m.WebhookID != "",
		Self:         m.Author.ID == self,
		Text:         messageText(m),
		Link:         messageLink(c.guildOf(m), m.ChannelID, m.ID),
		At:           m.Timestamp,
	}
	for _, a := range m.Attachments {
		if a != nil {
			in.Attachments = append(in.Attachments, bot.Attachment{Name: a.Filename, URL: a.URL})
		}
	}
	if ref := m.MessageReference; ref != nil && ref.Type == dg.MessageReferenceTypeDefault &&
		(ref.ChannelID == "" || ref.ChannelID == m.ChannelID) {
		in.ReplyTo = ref.MessageID
	}
	ci, err := c.channel(ctx, m.ChannelID)
	if err != nil {
		// Without its type the message is taken as top-level; a thread
		// message from an unwatched channel is then ignored.
		c.log.Warn("channel unknown", "channel", m.ChannelID, "err", err)
		return in
	}
	if ci.isThread() {
		in.ThreadID, in.ParentChannel = ci.ID, ci.ParentID
		// A forum post's first message has the post's (thread's) ID and
		// opens a new item; the thread of a text channel continues the item
		// of the message it was started from.
		in.NewThread = c.forumStarter(ctx, ci, m)
		if in.NewThread {
			in.Text = withTitle(ci.Name, in.Text)
		}
	}
	return in
}

// isForum reports whether channel is a forum.
func (c *Conn) isForum(ctx context.Context, channel string) bool {
	ci, err := c.channel(ctx, channel)
	return err == nil && ci.Type == dg.ChannelTypeGuildForum
}

// forumStarter reports whether m opens the forum post ci.
func (c *Conn) forumStarter(ctx context.Context, ci chanInfo, m *dg.Message) bool {
	if !ci.isThread() || m.ID != ci.ID {
		return false
	}
	parent, err := c.channel(ctx, ci.ParentID)
	return err == nil && parent.Type == dg.ChannelTypeGuildForum
}

// withTitle puts a forum post's title above its text: it is often the
// question itself.
func withTitle(title, text string) string {
	if title == "" {
		return text
	}
	return strings.TrimSpace(title + "\n" + text)
}

func (c *Conn) guildOf(m *dg.Message) string {
	switch {
	case m.GuildID != "":
		return m.GuildID
	case c.opts.GuildID != "":
		return c.opts.GuildID
	}
	return "@me"
}

func authorName(m *dg.Message) string {
	if m.Member != nil && m.Member.Nick != "" {
		return m.Member.Nick
	}
	return m.Author.DisplayName()
}

// messageText is the content with embeds summarised: what a reader sees.
func messageText(m *dg.Message) string {
	parts := []string{m.Content}
	for _, e := range m.Embeds {
		if s := embedSummary(e); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.TrimSpace(strings.Join(parts, "\n"))
}

func embedSummary(e *dg.MessageEmbed) string {
	if e == nil {
		return ""
	}
	var bits []string
	if e.Author != nil && e.Author.Name != "" {
		bits = append(bits, e.Author.Name)
	}
	if e.Title != "" {
		bits = append(bits, e.Title)
	}
	if e.Description != "" {
		bits = append(bits, e.Description)
	}
	if e.URL != "" {
		bits = append(bits, e.URL)
	}
	if len(bits) == 0 {
		return ""
	}
	return strings.Join(bits, " — ")
}

// onEdit takes a MESSAGE_UPDATE. Only an edit by its author sets
// edited_timestamp; link previews arriving later do not, and change nothing.
// The domain ignores messages it never took in.
func (c *Conn) onEdit(ctx context.Context, m *dg.Message) {
	if m == nil || m.EditedTimestamp == nil || !c.mayConcern(m.ChannelID) || c.lost("edit", m) {
		return
	}
	key := bot.MessageKey{Conn: c.name, Channel: m.ChannelID, ID: m.ID}
	at := *m.EditedTimestamp
	text := messageText(m)
	if ci, err := c.channel(ctx, m.ChannelID); err == nil && c.forumStarter(ctx, ci, m) {
		text = withTitle(ci.Name, text) // as it was taken in
	}
	if err := retry(ctx, func() error { return c.d.Edit(ctx, key, text, at) }); err != nil {
		c.log.Error("edit", "channel", m.ChannelID, "message", m.ID, "err", err)
	}
}

// onDelete takes a MESSAGE_DELETE; the domain ignores messages it never took.
func (c *Conn) onDelete(ctx context.Context, m *dg.Message) {
	if m == nil || !c.mayConcern(m.ChannelID) || c.lost("deletion", m) {
		return
	}
	key := bot.MessageKey{Conn: c.name, Channel: m.ChannelID, ID: m.ID}
	if err := retry(ctx, func() error { return c.d.Delete(ctx, key, time.Time{}) }); err != nil {
		c.log.Error("delete", "channel", m.ChannelID, "message", m.ID, "err", err)
	}
}

// mayConcern spares the domain the edits and deletions of channels it
// does not watch (Liaison's own card updates, most of all): false only when
// the channel, and its parent for a thread, are known and unwatched.
func (c *Conn) mayConcern(channelID string) bool {
	c.mu.Lock()
	ci, known := c.channels[channelID]
	c.mu.Unlock()
	if !known || c.d.Watches(c.name, channelID) {
		return true
	}
	return ci.ParentID != "" && c.d.Watches(c.name, ci.ParentID)
}

// lost reports, and logs, that an edit or a deletion cannot be recorded:
// the domain fails, and a catch-up reads messages, not their history.
func (c *Conn) lost(what string, m *dg.Message) bool {
	c.mu.Lock()
	failing := c.behind.failing
	c.mu.Unlock()
	if failing {
		c.log.Warn("the database is failing: the event is lost", "event", what, "channel", m.ChannelID, "message", m.ID)
	}
	return failing
}

// retry repeats a domain call that failed on the database a few times:
// a gateway event is delivered once, so giving up loses it.
func retry(ctx context.Context, fn func() error) error {
	wait := 100 * time.Millisecond
	var err error
	for attempt := 0; attempt < 4; attempt++ {
		if err = fn(); err == nil || bot.ErrorCode(err) != bot.EINTERNAL || ctx.Err() != nil {
			return err
		}
		if !pause.For(ctx, wait) {
			return err
		}
		wait *= 4
	}
	return err
}
