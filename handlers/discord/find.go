package discord

import (
	"context"
	"fmt"

	"github.com/liaison-bot/liaison/bot"
)

// Find looks for the message a lost call may have created: a bot message by
// its nonce (or, where Discord does not echo nonces in listings, its
// content or embed title), a webhook post by its webhook, author name and
// content. It reports found=false only after listing the channel from
// op.After to its newest message without a match; whatever keeps it from
// telling (a refused listing, more messages than it reads, a history it
// cannot read) is an error, so that nothing is sent twice.
func (c *Conn) Find(ctx context.Context, op *bot.Op) (bot.Result, bool, error) {
	res, found, err := c.find(ctx, op)
	if err != nil {
		return bot.Result{}, false, c.scrub(fmt.Errorf("discord %s: find %s: %w", c.name, op.Kind, classify(err)))
	}
	return res, found, nil
}

func (c *Conn) find(ctx context.Context, op *bot.Op) (bot.Result, bool, error) {
	me, err := c.self(ctx)
	if err != nil {
		return bot.Result{}, false, err
	}
	nonce := nonceOf(op.Key)
	byBot := func(m *listedMessage, same bool) bool {
		return m.Author.ID == me && m.WebhookID == "" && ((nonce != "" && m.nonce() == nonce) || same)
	}
	switch op.Kind {
	case bot.OpPostCard:
		if op.Card == nil {
			return bot.Result{}, false, bot.Permanent(fmt.Errorf("no card"))
		}
		title := cardTitle(op.Card)
		m, err := c.scan(ctx, op.Channel, op.After, func(m *listedMessage) bool { return byBot(m, m.embedTitle() == title) })
		if err != nil || m == nil {
			return bot.Result{}, false, err
		}
		thread := ""
		if m.Thread != nil {
			thread = m.Thread.ID
		} else if thread, err = c.startThread(ctx, op.Channel, m.ID, threadName(op.Card)); err != nil {
			// The card is there, its thread is not: Find finishes the job.
			return bot.Result{}, false, err
		}
		return bot.Result{MessageID: m.ID, ThreadID: thread, Link: c.link(ctx, op.Channel, m.ID)}, true, nil
	case bot.OpPostNote:
		target, content := internalTarget(op), noteContent(op.Note)
		m, err := c.scan(ctx, target, op.After, func(m *listedMessage) bool { return byBot(m, m.Content == content) })
		if err != nil || m == nil {
			return bot.Result{}, false, err
		}
		return bot.Result{MessageID: m.ID, Link: c.link(ctx, target, m.ID)}, true, nil
	case bot.OpPostDraftCard:
		if op.DraftCard == nil {
			return bot.Result{}, false, bot.Permanent(fmt.Errorf("no draft card"))
		}
		target, title := internalTarget(op), draftTitle(op.DraftCard)
		m, err := c.scan(ctx, target, op.After, func(m *listedMessage) bool { return byBot(m, m.embedTitle() == title) })
		if err != nil || m == nil {
			return bot.Result{}, false, err
		}
		return bot.Result{MessageID: m.ID, Link: c.link(ctx, target, m.ID)}, true, nil
	case bot.OpPublish:
		return c.findPublished(ctx, op, byBot)
	case bot.OpPostDigest:
		return c.findDigest(ctx, op, byBot)
	}
	return bot.Result{}, false, bot.Permanent(fmt.Errorf("%s creates no message to look for", op.Kind))
}

func (c *Conn) findPublished(ctx context.Context, op *bot.Op, byBot func(*listedMessage, bool) bool) (bot.Result, bool, error) {
	if op.Post == nil {
		return bot.Result{}, false, bot.Permanent(fmt.Errorf("no post"))
	}
	hookCh, thread, err := c.publicTarget(ctx, op)
	if err != nil {
		return bot.Result{}, false, err
	}
	app, err := c.application(ctx)
	if err != nil {
		return bot.Result{}, false, err
	}
	target := orChannel(thread, hookCh)
	hookID := c.cachedWebhookID(hookCh)
	content, username := publicContent(op.Post, thread != ""), webhookUsername(op.Post.Username)
	signed := clip(op.Post.Text(false), maxContent)
	m, err := c.scan(ctx, target, op.After, func(m *listedMessage) bool {
		if m.WebhookID != "" {
			ours := m.WebhookID == hookID || m.ApplicationID == app
			return ours && m.Author.Username == username && m.Content == content
		}
		return byBot(m, m.Content == signed)
	})
	if err != nil || m == nil {
		return bot.Result{}, false, err
	}
	res := bot.Result{MessageID: m.ID, Link: c.link(ctx, target, m.ID)}
	if m.WebhookID == "" {
		// The post went out as the bot: the webhook was refused, most
		// likely for want of Manage Webhooks.
		fb := c.fallbackResult(ctx, hookCh, nil)
		res.Fallback, res.FallbackCause, res.FallbackWhere = true, fb.FallbackCause, fb.FallbackWhere
	}
	return res, true, nil
}
