package discord

import (
	"context"
	"errors"
	"fmt"

	dg "github.com/bwmarrin/discordgo"

	"github.com/liaison-bot/liaison/bot"
)

// codeThreadArchived is Discord's refusal to change an archived thread
// other than by unarchiving it.
const codeThreadArchived = 50083

// threadArchiveMinutes keeps a card's discussion open for a week of silence;
// any new message unarchives it.
const threadArchiveMinutes = 10080

// Send performs op; errors are classified for the outbox (see classify) and
// carry no credential (see scrub).
func (c *Conn) Send(ctx context.Context, op *bot.Op) (bot.Result, error) {
	res, err := c.send(ctx, op)
	if err != nil {
		return bot.Result{}, c.scrub(fmt.Errorf("discord %s: %s: %w", c.name, op.Kind, classify(err)))
	}
	return res, nil
}

func (c *Conn) send(ctx context.Context, op *bot.Op) (bot.Result, error) {
	switch op.Kind {
	case bot.OpPostCard, bot.OpUpdateCard:
		if op.Card == nil {
			return bot.Result{}, bot.Permanent(errors.New("no card"))
		}
		if op.Kind == bot.OpPostCard {
			return c.postCard(ctx, op)
		}
		err := c.editBotMessage(ctx, op.Channel, op.MessageID, "", []*dg.MessageEmbed{cardEmbed(op.Card)}, cardComponents(op.Card))
		if err == nil && op.Card.Rename {
			// The card's thread has the card's ID; editing the card again
			// on a retry is harmless.
			err = c.renameThread(ctx, op.MessageID, threadName(op.Card))
		}
		return bot.Result{MessageID: op.MessageID}, err
	case bot.OpPostNote:
		return c.postLinked(ctx, internalTarget(op), outMessage{Content: noteContent(op.Note)}, op.Key)
	case bot.OpUpdateNote:
		err := c.editBotMessage(ctx, internalTarget(op), op.MessageID, noteContent(op.Note), nil, nil)
		return bot.Result{MessageID: op.MessageID}, err
	case bot.OpPostDraftCard, bot.OpUpdateDraftCard:
		if op.DraftCard == nil {
			return bot.Result{}, bot.Permanent(errors.New("no draft card"))
		}
		embeds, comps := []*dg.MessageEmbed{draftEmbed(op.DraftCard)}, draftComponents(op.DraftCard)
		if op.Kind == bot.OpPostDraftCard {
			return c.postLinked(ctx, internalTarget(op), outMessage{Embeds: embeds, Components: comps}, op.Key)
		}
		err := c.editBotMessage(ctx, internalTarget(op), op.MessageID, "", embeds, comps)
		return bot.Result{MessageID: op.MessageID}, err
	case bot.OpPublish:
		return c.publish(ctx, op)
	case bot.OpEditPublic:
		return c.editPublic(ctx, op)
	case bot.OpDeletePublic:
		return c.deletePublic(ctx, op)
	case bot.OpNotify:
		return c.notify(ctx, op)
	case bot.OpPostDigest:
		return c.postDigest(ctx, op)
	}
	return bot.Result{}, bot.Permanent(fmt.Errorf("unknown operation %q", op.Kind))
}

// internalTarget is the thread an internal op goes to (a Discord thread is
// a channel), or the channel when there is no thread.
func internalTarget(op *bot.Op) string {
	if op.ThreadID != "" {
		return op.ThreadID
	}
	return op.Channel
}

// postCard posts the card and starts its discussion thread from it.
func (c *Conn) postCard(ctx context.Context, op *bot.Op) (bot.Result, error) {
	m, err := c.postBotMessage(ctx, op.Channel, outMessage{
		Embeds:     []*dg.MessageEmbed{cardEmbed(op.Card)},
		Components: cardComponents(op.Card),
	}, op.Key)
	if err != nil {
		return bot.Result{}, err
	}
	thread, err := c.startThread(ctx, op.Channel, m.ID, threadName(op.Card))
	if err != nil {
		var se *bot.SendError
		if errors.As(classify(err), &se) && se.Kind == bot.RetryAfterKind {
			// Retried within seconds: the nonce returns this card again.
			return bot.Result{}, err
		}
		// The card exists without its thread: an unknown outcome makes the
		// retry reconcile (Find finds the card and starts the thread)
		// rather than post a second card.
		return bot.Result{}, &bot.SendError{Kind: bot.UnknownOutcome, Err: err}
	}
	return bot.Result{MessageID: m.ID, ThreadID: thread, Link: c.link(ctx, op.Channel, m.ID)}, nil
}

// startThread starts the thread of a message; a thread that already exists
// (a retry) is the one wanted: it has the message's ID.
func (c *Conn) startThread(ctx context.Context, channelID, messageID, name string) (string, error) {
	ch, err := c.s.MessageThreadStart(channelID, messageID, name, threadArchiveMinutes, dg.WithContext(ctx))
	if isCode(err, codeThreadExists) {
		return messageID, nil
	}
	if err != nil {
		return "", fmt.Errorf("start thread on message %s: %w", messageID, err)
	}
	c.remember(ch)
	return ch.ID, nil
}

// renameThread gives a card's thread its current name, once: Discord allows
// few renames of a channel, and the adapter knows the thread's name from
// the gateway. An archived thread refuses a rename that does not unarchive
// it, so it is unarchived with the rename and archived again. A thread
// deleted meanwhile has nothing left to rename.
func (c *Conn) renameThread(ctx context.Context, threadID, name string) error {
	ci, err := c.channel(ctx, threadID)
	if isCode(err, codeUnknownChannel) {
		return nil
	}
	if err != nil {
		return err
	}
	if ci.Name == name {
		return nil
	}
	ch, err := c.s.ChannelEdit(threadID, &dg.ChannelEdit{Name: name}, dg.WithContext(ctx))
	if isCode(err, codeThreadArchived) {
		ch, err = c.s.ChannelEdit(threadID, &dg.ChannelEdit{Name: name, Archived: new(bool)}, dg.WithContext(ctx))
		if err == nil {
			archived := true
			if again, aerr := c.s.ChannelEdit(threadID, &dg.ChannelEdit{Archived: &archived}, dg.WithContext(ctx)); aerr != nil {
				c.log.Warn("thread renamed but left unarchived", "thread", threadID, "err", aerr)
			} else {
				ch = again
			}
		}
	}
	if isCode(err, codeUnknownChannel) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("rename thread %s: %w", threadID, err)
	}
	c.remember(ch)
	return nil
}

// notify tells one user something privately. Without an interaction there is
// no ephemeral message, so it is a DM; when the user does not take DMs from
// the bot it is said in the item's thread (or channel), pinging only them.
func (c *Conn) notify(ctx context.Context, op *bot.Op) (bot.Result, error) {
	text := noteContent(op.Note)
	if op.UserID == "" || text == "" {
		return bot.Result{}, bot.Permanent(errors.New("notice without user or text"))
	}
	dm, err := c.s.UserChannelCreate(op.UserID, dg.WithContext(ctx))
	if err == nil {
		var m *dg.Message
		if m, err = c.postBotMessage(ctx, dm.ID, outMessage{Content: text}, op.Key); err == nil {
			return bot.Result{MessageID: m.ID}, nil
		}
	}
	var se *bot.SendError
	if !errors.As(classify(err), &se) || se.Kind != bot.PermanentKind {
		return bot.Result{}, err // rate limited, or the DM may have gone out
	}
	target := internalTarget(op)
	if target == "" {
		return bot.Result{}, err
	}
	c.log.Info("notice falls back to the channel", "user", op.UserID, "reason", err)
	return c.postLinked(ctx, target, outMessage{
		Content:         clip(bot.Mention(op.UserID)+" "+text, maxContent),
		AllowedMentions: noMentions(op.UserID),
	}, op.Key)
}

// postLinked posts msg as the bot (see postBotMessage) and says where it is.
func (c *Conn) postLinked(ctx context.Context, channelID string, msg outMessage, key string) (bot.Result, error) {
	m, err := c.postBotMessage(ctx, channelID, msg, key)
	if err != nil {
		return bot.Result{}, err
	}
	return bot.Result{MessageID: m.ID, Link: c.link(ctx, channelID, m.ID)}, nil
}
