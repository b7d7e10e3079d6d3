package slack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/internal/redact"
)

// jobEvent is the metadata event type of every message Liaison posts; its
// payload names the outbox job, so Find can tell whether a post happened.
const jobEvent = "liaison_job"

func jobMetadata(key string) slackapi.MsgOption {
	return slackapi.MsgOptionMetadata(slackapi.SlackMetadata{EventType: jobEvent, EventPayload: map[string]any{"job": key}})
}

// internalOpts keep Liaison's internal posts quiet: no link previews of
// what members wrote.
var internalOpts = []slackapi.MsgOption{slackapi.MsgOptionDisableLinkUnfurl(), slackapi.MsgOptionDisableMediaUnfurl()}

// Send carries out one outbox operation. Its errors are classified for the
// worker: bot.RetryAfter for a rate limit, bot.Permanent for a refusal,
// bot.NotApplied for a failure that changed nothing, and a plain error when
// the call may have taken effect.
func (c *Conn) Send(ctx context.Context, op *bot.Op) (bot.Result, error) {
	res, err := c.send(ctx, op)
	if err != nil {
		return bot.Result{}, c.scrub(classify(fmt.Errorf("slack %s: %s: %w", c.name, op.Kind, err)))
	}
	return res, nil
}

func (c *Conn) send(ctx context.Context, op *bot.Op) (bot.Result, error) {
	switch op.Kind {
	case bot.OpPostCard, bot.OpUpdateCard:
		if op.Card == nil {
			return bot.Result{}, bot.Permanent(errors.New("no card"))
		}
		text, blocks := cardMessage(op.Card)
		opts := append([]slackapi.MsgOption{slackapi.MsgOptionText(text, false), slackapi.MsgOptionBlocks(blocks...)}, internalOpts...)
		if op.Kind == bot.OpPostCard {
			return c.post(ctx, op, op.Channel, "", opts...)
		}
		return c.update(ctx, op.Channel, op.MessageID, opts...)

	case bot.OpPostNote, bot.OpUpdateNote:
		if op.Note == nil || op.Channel == "" {
			return bot.Result{}, bot.Permanent(errors.New("no note or no channel"))
		}
		opts := append([]slackapi.MsgOption{slackapi.MsgOptionText(escapeDomain(op.Note.Text), false)}, internalOpts...)
		if op.Kind == bot.OpPostNote {
			return c.post(ctx, op, op.Channel, op.ThreadID, opts...)
		}
		return c.update(ctx, op.Channel, op.MessageID, opts...)

	case bot.OpPostDraftCard, bot.OpUpdateDraftCard:
		if op.DraftCard == nil {
			return bot.Result{}, bot.Permanent(errors.New("no draft card"))
		}
		return c.sendDraftCard(ctx, op)

	case bot.OpPublish:
		if op.Post == nil {
			return bot.Result{}, bot.Permanent(errors.New("no post"))
		}
		return c.publish(ctx, op)

	case bot.OpEditPublic:
		if op.Post == nil {
			return bot.Result{}, bot.Permanent(errors.New("no post"))
		}
		text, blocks := publicMessage(op.Post, c.custom.Load())
		res, err := c.update(ctx, op.Channel, op.MessageID, slackapi.MsgOptionText(text, false), slackapi.MsgOptionBlocks(blocks...))
		if err == nil {
			res.ThreadID = op.ThreadID
		}
		return res, err

	case bot.OpDeletePublic:
		_, _, err := c.api.DeleteMessageContext(ctx, op.Channel, op.MessageID)
		if err != nil && !isSlackError(err, "message_not_found") { // already gone: done
			return bot.Result{}, fmt.Errorf("chat.delete %s in %s: %w", op.MessageID, op.Channel, err)
		}
		return bot.Result{MessageID: op.MessageID, ThreadID: op.ThreadID}, nil

	case bot.OpNotify:
		if op.Note == nil || op.UserID == "" {
			return bot.Result{}, bot.Permanent(errors.New("no note or no user"))
		}
		return c.notify(ctx, op)

	case bot.OpPostDigest:
		return c.postDigest(ctx, op)

	case bot.OpPublishHome:
		return c.publishHome(ctx, op)
	}
	return bot.Result{}, bot.Permanent(fmt.Errorf("unknown operation %q", op.Kind))
}

// post sends a new message carrying the job's key in its metadata.
func (c *Conn) post(ctx context.Context, op *bot.Op, channel, thread string, opts ...slackapi.MsgOption) (bot.Result, error) {
	opts = append(opts, jobMetadata(op.Key))
	if thread != "" {
		opts = append(opts, slackapi.MsgOptionTS(thread))
	}
	_, ts, err := c.api.PostMessageContext(ctx, channel, opts...)
	if err != nil {
		return bot.Result{}, fmt.Errorf("chat.postMessage in %s: %w", channel, err)
	}
	return c.result(ctx, channel, ts, thread), nil
}

// result describes a message that exists: its ts, the thread to discuss it
// in (its own for a top-level message) and its permalink, built from the
// team's URL that auth.test gave: no call per post. Only before that is
// known is Slack asked (chat.getPermalink); the call succeeded, so a failed
// look-up leaves the link empty rather than make it look otherwise.
func (c *Conn) result(ctx context.Context, channel, ts, thread string) bot.Result {
	res := bot.Result{MessageID: ts, ThreadID: thread}
	if thread == "" {
		res.ThreadID = ts
	}
	res.Link = c.messageLink(ctx, channel, ts, thread)
	return res
}

func (c *Conn) update(ctx context.Context, channel, ts string, opts ...slackapi.MsgOption) (bot.Result, error) {
	_, _, _, err := c.api.UpdateMessageContext(ctx, channel, ts, opts...)
	if err != nil {
		return bot.Result{}, fmt.Errorf("chat.update %s in %s: %w", ts, channel, err)
	}
	return bot.Result{MessageID: ts, Link: builtLink(c.identity().TeamURL, channel, ts, "")}, nil
}

// sendDraftCard posts or refreshes a draft card. If Slack refuses the blocks
// (it fetches images and refuses those it cannot), it tries once more
// without the avatar.
func (c *Conn) sendDraftCard(ctx context.Context, op *bot.Op) (bot.Result, error) {
	var res bot.Result
	var err error
	for _, withAvatar := range []bool{true, false} {
		dc := *op.DraftCard
		if !withAvatar {
			dc.Preview.AvatarURL = ""
		}
		text, blocks := draftCardMessage(&dc)
		opts := append([]slackapi.MsgOption{slackapi.MsgOptionText(text, false), slackapi.MsgOptionBlocks(blocks...)}, internalOpts...)
		if op.Kind == bot.OpPostDraftCard {
			res, err = c.post(ctx, op, op.Channel, op.ThreadID, opts...)
		} else {
			res, err = c.update(ctx, op.Channel, op.MessageID, opts...)
		}
		if err == nil || !isSlackError(err, "invalid_blocks") || op.DraftCard.Preview.AvatarURL == "" {
			break
		}
	}
	return res, err
}

// publish posts an approved reply in the public thread under the signer's
// name and avatar; when the app may not (missing chat:write.customize), it
// posts as the app with a signature line and says so in the result.
func (c *Conn) publish(ctx context.Context, op *bot.Op) (bot.Result, error) {
	p := op.Post
	if c.custom.Load() {
		text, blocks := publicMessage(p, true)
		opts := []slackapi.MsgOption{slackapi.MsgOptionText(text, false), slackapi.MsgOptionBlocks(blocks...), slackapi.MsgOptionUsername(p.Username)}
		if p.AvatarURL != "" {
			opts = append(opts, slackapi.MsgOptionIconURL(p.AvatarURL))
		}
		res, err := c.post(ctx, op, op.Channel, op.ThreadID, opts...)
		if err == nil || !missingCustomize(err) {
			return res, err
		}
		c.custom.Store(false)
		c.log.Warn("the Slack app lacks chat:write.customize: posting with a signature line", "channel", op.Channel)
	}
	text, _ := publicMessage(p, false)
	res, err := c.post(ctx, op, op.Channel, op.ThreadID, slackapi.MsgOptionText(text, false))
	if err != nil {
		return bot.Result{}, err
	}
	res.Fallback, res.FallbackCause = true, bot.FallbackNoCustomize
	return res, nil
}

// missingCustomize: the call was refused because username/icon_url need
// chat:write.customize (and not for another missing scope).
func missingCustomize(err error) bool {
	var se slackapi.SlackErrorResponse
	if !errors.As(err, &se) || se.Err != "missing_scope" {
		return false
	}
	return se.Needed == "" || strings.Contains(se.Needed, "chat:write.customize")
}

// postEphemeral shows text, mrkdwn already escaped, to user only, in a
// channel, in the thread of thread unless it is "".
func (c *Conn) postEphemeral(ctx context.Context, channel, thread, user, text string) (string, error) {
	opts := []slackapi.MsgOption{slackapi.MsgOptionText(text, false)}
	if thread != "" {
		opts = append(opts, slackapi.MsgOptionTS(thread))
	}
	return c.api.PostEphemeralContext(ctx, channel, user, opts...)
}

// notify shows a private message to one user in the channel, in the item's
// thread when there is one; if they are not in the channel, it sends a
// direct message instead.
func (c *Conn) notify(ctx context.Context, op *bot.Op) (bot.Result, error) {
	text := escapeDomain(op.Note.Text)
	if op.Channel != "" {
		ts, err := c.postEphemeral(ctx, op.Channel, op.ThreadID, op.UserID, text)
		if err == nil {
			return bot.Result{MessageID: ts}, nil
		}
		if !isSlackError(err, "user_not_in_channel", "channel_not_found", "not_in_channel", "is_archived") {
			return bot.Result{}, fmt.Errorf("chat.postEphemeral in %s: %w", op.Channel, err)
		}
	}
	ch, _, _, err := c.api.OpenConversationContext(ctx, &slackapi.OpenConversationParameters{Users: []string{op.UserID}})
	if err != nil {
		return bot.Result{}, fmt.Errorf("conversations.open with %s: %w", op.UserID, err)
	}
	_, ts, err := c.api.PostMessageContext(ctx, ch.ID, slackapi.MsgOptionText(text, false), jobMetadata(op.Key))
	if err != nil {
		return bot.Result{}, fmt.Errorf("chat.postMessage to %s: %w", op.UserID, err)
	}
	return bot.Result{MessageID: ts}, nil
}

// Find reads a channel's history or a thread page by page. Slack recommends
// pages of no more than 200 messages; findPages bounds one look-up, past
// which Find says it cannot tell rather than that the post is not there.
const (
	findPage  = 200
	findPages = 250
	// findMargin: Liaison's clock and Slack's differ; look a little earlier
	// than the operation's first attempt.
	findMargin = 10 * time.Minute
)

// Find looks for the message an operation with an unknown outcome may have
// posted, by the job key in its metadata: in the thread when the operation
// posts in one, else in the channel's history, everything since its first
// attempt (op.After, less a margin; all of it when op.After is zero). It
// reports found=false only once it has read all of that; when it cannot
// read it all — a refusal, a failed call, a bound reached — it returns an
// error, for it cannot tell.
func (c *Conn) Find(ctx context.Context, op *bot.Op) (bot.Result, bool, error) {
	if !op.Kind.Creates() {
		return bot.Result{}, false, fmt.Errorf("slack %s: find %s: only operations that create a message can be looked up", c.name, op.Kind)
	}
	fail := func(err error) (bot.Result, bool, error) {
		return bot.Result{}, false, c.scrub(classify(fmt.Errorf("slack %s: find %s in %s: %w", c.name, op.Key, op.Channel, err)))
	}
	oldest := ""
	if !op.After.IsZero() {
		oldest = timeTS(op.After.Add(-findMargin))
	}
	match := keyMatch(op)
	if op.Kind == bot.OpPostDigest {
		match = c.digestMatch(op)
	}
	cursor := ""
	for range c.findPages {
		msgs, more, next, err := c.findRead(ctx, op, oldest, cursor)
		if err != nil {
			return fail(err)
		}
		for _, m := range msgs {
			if match(m) {
				res := c.result(ctx, op.Channel, m.Timestamp, op.ThreadID)
				if op.Kind == bot.OpPublish && m.Username == "" {
					res.Fallback, res.FallbackCause = true, bot.FallbackNoCustomize
				}
				return res, true, nil
			}
		}
		if !more {
			return bot.Result{}, false, nil
		}
		if next == "" {
			return fail(errors.New("Slack says there is more but gave no cursor: cannot tell whether the post exists"))
		}
		cursor = next
	}
	return fail(fmt.Errorf("read %d pages of %d messages without reaching the end: cannot tell whether the post exists", c.findPages, c.findPage))
}

// findRead reads one page of what Find searches: the thread, oldest first,
// or the channel's history, newest first; since oldest (inclusive) when it
// is not empty, with every message's metadata.
func (c *Conn) findRead(ctx context.Context, op *bot.Op, oldest, cursor string) (msgs []slackapi.Message, more bool, next string, err error) {
	if op.ThreadID != "" {
		msgs, more, next, err = c.api.GetConversationRepliesContext(ctx, &slackapi.GetConversationRepliesParameters{
			ChannelID: op.Channel, Timestamp: op.ThreadID, Cursor: cursor, Limit: c.findPage,
			Oldest: oldest, Inclusive: oldest != "", IncludeAllMetadata: true,
		})
		if err != nil {
			return nil, false, "", fmt.Errorf("conversations.replies of %s: %w", op.ThreadID, err)
		}
		return msgs, more, next, nil
	}
	h, err := c.api.GetConversationHistoryContext(ctx, &slackapi.GetConversationHistoryParameters{
		ChannelID: op.Channel, Cursor: cursor, Limit: c.findPage,
		Oldest: oldest, Inclusive: oldest != "", IncludeAllMetadata: true,
	})
	if err != nil {
		return nil, false, "", fmt.Errorf("conversations.history: %w", err)
	}
	return h.Messages, h.HasMore, h.ResponseMetaData.NextCursor, nil
}

// scrub is what leaves the adapter as an error: err with the connection's
// credentials (its tokens, its signing secret) and any token in a URL
// hidden, for it is written to the outbox, the audit log and logs.
func (c *Conn) scrub(err error) error {
	return redact.Error(err, c.opts.BotToken, c.opts.AppToken, c.opts.SigningSecret)
}

// classify tells the outbox what a failed call means.
func classify(err error) error {
	var rl *slackapi.RateLimitedError
	if errors.As(err, &rl) {
		return bot.RetryAfter(max(rl.RetryAfter, time.Second), err)
	}
	var se slackapi.SlackErrorResponse
	if errors.As(err, &se) {
		switch se.Err {
		case "ratelimited", "rate_limited", "service_unavailable", "request_timeout", "team_added_to_org":
			return bot.NotApplied(err) // refused before acting; try again later
		case "internal_error", "fatal_error":
			return err // Slack says part of the call may have happened
		}
		return bot.Permanent(err)
	}
	var sc slackapi.StatusCodeError
	if errors.As(err, &sc) {
		switch {
		case sc.Code == http.StatusTooManyRequests:
			return bot.NotApplied(err)
		case sc.Code >= 500:
			return err
		}
		return bot.Permanent(err)
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return bot.NotApplied(err) // the request never left
	}
	return err // unknown outcome, unless err already says (bot.Permanent…)
}

// isSlackError reports whether Slack answered err with one of codes.
func isSlackError(err error, codes ...string) bool {
	code := slackError(err)
	return code != "" && slices.Contains(codes, code)
}

// slackError returns Slack's error code of err, or "" when Slack did not
// answer with one (the network, a timeout).
func slackError(err error) string {
	var se slackapi.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	return ""
}
