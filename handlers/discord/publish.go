package discord

import (
	"context"
	"errors"
	"fmt"

	dg "github.com/bwmarrin/discordgo"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/internal/redact"
)

// webhookName is the name of the channel webhook Liaison creates and reuses;
// every post overrides it with the signer's name.
const webhookName = "Liaison"

// publicTarget resolves where a public op goes: the channel owning the
// webhook (a thread's or forum post's parent, never a thread) and the thread
// to post in, if any.
func (c *Conn) publicTarget(ctx context.Context, op *bot.Op) (hookChannel, thread string, err error) {
	hookChannel, thread = op.Channel, op.ThreadID
	ci, err := c.channel(ctx, op.Channel)
	if err != nil {
		return "", "", err
	}
	if ci.isThread() {
		hookChannel = ci.ParentID
		if thread == "" {
			thread = op.Channel
		}
	}
	return hookChannel, thread, nil
}

func orChannel(thread, channel string) string {
	if thread != "" {
		return thread
	}
	return channel
}

// webhook returns Liaison's webhook in a channel: cached, else one our
// application made (found by listing), else a new one. Listing and creating
// need Manage Webhooks.
func (c *Conn) webhook(ctx context.Context, channelID string) (*dg.Webhook, error) {
	c.mu.Lock()
	w := c.webhooks[channelID]
	c.mu.Unlock()
	if w != nil {
		return w, nil
	}
	app, err := c.application(ctx)
	if err != nil {
		return nil, err
	}
	me, err := c.self(ctx)
	if err != nil {
		return nil, err
	}
	hooks, err := c.s.ChannelWebhooks(channelID, dg.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("list webhooks of channel %s: %w", channelID, err)
	}
	for _, h := range hooks {
		ours := h.ApplicationID == app || (h.User != nil && h.User.ID == me)
		if ours && h.Name == webhookName && h.Token != "" {
			w = h
			break
		}
	}
	if w == nil {
		if w, err = c.s.WebhookCreate(channelID, webhookName, "", dg.WithContext(ctx)); err != nil {
			return nil, fmt.Errorf("create webhook in channel %s: %w", channelID, err)
		}
		c.log.Info("webhook created", "channel", channelID, "webhook", w.ID)
	}
	// The token lets anyone post under any name: no log line shows it.
	redact.Hide(c.log, w.Token)
	// Its executions count against this channel's posts.
	c.rates.webhook(w.ID, channelID)
	c.mu.Lock()
	defer c.mu.Unlock()
	if cached := c.webhooks[channelID]; cached != nil {
		return cached, nil
	}
	c.webhooks[channelID] = w
	return w, nil
}

// dropWebhook forgets a webhook Discord no longer knows, so the next try
// finds or creates another.
func (c *Conn) dropWebhook(channelID, id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if w := c.webhooks[channelID]; w != nil && w.ID == id {
		delete(c.webhooks, channelID)
	}
}

func (c *Conn) cachedWebhookID(channelID string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if w := c.webhooks[channelID]; w != nil {
		return w.ID
	}
	return ""
}

// publish posts an approved reply through the channel's webhook under the
// signer's name and avatar, pinging only the member it answers. Without
// Manage Webhooks it falls back to a bot message with a signature line.
func (c *Conn) publish(ctx context.Context, op *bot.Op) (bot.Result, error) {
	if op.Post == nil {
		return bot.Result{}, bot.Permanent(errors.New("no post"))
	}
	hookCh, thread, err := c.publicTarget(ctx, op)
	if err != nil {
		return bot.Result{}, err
	}
	target := orChannel(thread, hookCh)
	w, err := c.webhook(ctx, hookCh)
	if isCode(err, codeMissingPermissions, codeMissingAccess) {
		return c.fallbackPost(ctx, op, hookCh, target, err)
	}
	if err != nil {
		return bot.Result{}, err
	}
	m, err := c.s.WebhookThreadExecute(w.ID, w.Token, true, thread, &dg.WebhookParams{
		Content:         publicContent(op.Post, thread != ""),
		Username:        webhookUsername(op.Post.Username),
		AvatarURL:       httpURL(op.Post.AvatarURL),
		AllowedMentions: noMentions(op.Post.MentionUserID),
	}, dg.WithContext(ctx))
	if err != nil {
		return bot.Result{}, fmt.Errorf("execute webhook in channel %s: %w", target, c.forgetGone(hookCh, w, hideTokens(err)))
	}
	return bot.Result{MessageID: m.ID, Link: c.link(ctx, target, m.ID)}, nil
}

// forgetGone reads the error of a call through Liaison's webhook w: 10015
// Unknown Webhook (an admin deleted it) means the call did nothing, and
// Liaison forgets w so that the next try finds or creates another. Other
// errors pass unchanged.
func (c *Conn) forgetGone(hookCh string, w *dg.Webhook, err error) error {
	if !isCode(err, codeUnknownWebhook) {
		return err
	}
	c.dropWebhook(hookCh, w.ID)
	return bot.NotApplied(fmt.Errorf("webhook %s is gone: %w", w.ID, err))
}

// fallbackPost publishes as the bot: a native reply to the original, with
// the signature line that says who wrote it.
func (c *Conn) fallbackPost(ctx context.Context, op *bot.Op, hookCh, target string, cause error) (bot.Result, error) {
	msg := outMessage{
		Content:         clip(op.Post.Text(false), maxContent),
		AllowedMentions: noMentions(op.Post.MentionUserID),
	}
	if op.ReplyTo != "" {
		// The original may live in another channel than the thread
		// answered in: then the post goes without the reply link.
		no := false
		msg.Reference = &dg.MessageReference{MessageID: op.ReplyTo, FailIfNotExists: &no}
	}
	m, err := c.postBotMessage(ctx, target, msg, op.Key)
	if err != nil {
		return bot.Result{}, err
	}
	c.log.Warn("published without a webhook", "channel", hookCh, "cause", cause)
	res := c.fallbackResult(ctx, hookCh, cause)
	res.MessageID, res.Link = m.ID, c.link(ctx, target, m.ID)
	return res, nil
}

// fallbackResult says why a post went out as the bot: Discord refused
// Liaison the channel's webhooks, for want of access or of Manage Webhooks.
func (c *Conn) fallbackResult(ctx context.Context, hookCh string, cause error) bot.Result {
	res := bot.Result{Fallback: true, FallbackCause: bot.FallbackNoManageWebhooks, FallbackWhere: hookCh}
	if isCode(cause, codeMissingAccess) {
		res.FallbackCause = bot.FallbackNoWebhookAccess
	}
	if ci, err := c.channel(ctx, hookCh); err == nil && ci.Name != "" {
		res.FallbackWhere = ci.Name
	}
	return res
}

// editPublic applies a correction to a published reply, through the webhook
// that posted it or as the bot for a fallback post.
func (c *Conn) editPublic(ctx context.Context, op *bot.Op) (bot.Result, error) {
	if op.Post == nil || op.MessageID == "" {
		return bot.Result{}, bot.Permanent(errors.New("no post or message to correct"))
	}
	p, err := c.findPublic(ctx, op)
	if err != nil {
		return bot.Result{}, err
	}
	if p.hook == nil {
		err = c.editBotMessage(ctx, p.target, op.MessageID, clip(op.Post.Text(false), maxContent), nil, nil)
	} else {
		uri, bucket := webhookMessageURL(p.hook, op.MessageID, p.thread)
		edit := webhookEdit{Content: publicContent(op.Post, p.thread != ""), AllowedMentions: noMentions(op.Post.MentionUserID)}
		if _, err = c.s.RequestWithBucketID("PATCH", uri, edit, bucket, dg.WithContext(ctx)); err != nil {
			err = fmt.Errorf("edit webhook message %s: %w", op.MessageID, c.forgetGone(p.hookCh, p.hook, hideTokens(err)))
		}
	}
	if err != nil {
		return bot.Result{}, err
	}
	return bot.Result{MessageID: op.MessageID, Link: c.link(ctx, p.target, op.MessageID)}, nil
}

// deletePublic retracts a published reply; one already gone counts as done.
func (c *Conn) deletePublic(ctx context.Context, op *bot.Op) (bot.Result, error) {
	if op.MessageID == "" {
		return bot.Result{}, bot.Permanent(errors.New("no message to retract"))
	}
	p, err := c.findPublic(ctx, op)
	if isCode(err, codeUnknownMessage) {
		return bot.Result{MessageID: op.MessageID}, nil
	}
	if err != nil {
		return bot.Result{}, err
	}
	if p.hook == nil {
		err = c.s.ChannelMessageDelete(p.target, op.MessageID, dg.WithContext(ctx))
	} else {
		uri, bucket := webhookMessageURL(p.hook, op.MessageID, p.thread)
		_, err = c.s.RequestWithBucketID("DELETE", uri, nil, bucket, dg.WithContext(ctx))
		err = c.forgetGone(p.hookCh, p.hook, hideTokens(err))
	}
	if err != nil && !isCode(err, codeUnknownMessage) {
		return bot.Result{}, fmt.Errorf("delete message %s: %w", op.MessageID, err)
	}
	return bot.Result{MessageID: op.MessageID}, nil
}

// publicReply is a reply Liaison published, found again to change it.
type publicReply struct {
	hookCh string      // the channel owning the webhook
	thread string      // the thread the reply is in, if any
	target string      // where the reply is: the thread, else hookCh
	hook   *dg.Webhook // the webhook that posted it; nil for a fallback post by the bot
}

// findPublic finds the reply op names and who posted it.
func (c *Conn) findPublic(ctx context.Context, op *bot.Op) (publicReply, error) {
	hookCh, thread, err := c.publicTarget(ctx, op)
	if err != nil {
		return publicReply{}, err
	}
	p := publicReply{hookCh: hookCh, thread: thread, target: orChannel(thread, hookCh)}
	p.hook, err = c.authorOf(ctx, hookCh, p.target, op.MessageID)
	return p, err
}

// authorOf says who posted a public reply: Liaison's webhook (returned), or
// the bot itself (nil, a fallback post). Anything else is not Liaison's to
// change.
func (c *Conn) authorOf(ctx context.Context, hookCh, target, messageID string) (*dg.Webhook, error) {
	m, err := c.s.ChannelMessage(target, messageID, dg.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("get message %s: %w", messageID, err)
	}
	if m.WebhookID == "" {
		me, err := c.self(ctx)
		if err != nil {
			return nil, err
		}
		if m.Author == nil || m.Author.ID != me {
			return nil, bot.Permanent(fmt.Errorf("message %s was not posted by Liaison", messageID))
		}
		return nil, nil
	}
	w, err := c.webhook(ctx, hookCh)
	if err != nil {
		return nil, err
	}
	if w.ID != m.WebhookID {
		// A webhook edits only its own messages: the one that posted this
		// reply was deleted since.
		return nil, bot.Permanent(fmt.Errorf("message %s was posted by webhook %s, which Liaison no longer has", messageID, m.WebhookID))
	}
	return w, nil
}
