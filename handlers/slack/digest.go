package slack

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	slackapi "github.com/slack-go/slack"

	"github.com/liaison-bot/liaison/bot"
)

// digestText is a digest's text in mrkdwn: its title in bold, then its
// figures, escaped (they quote what members wrote).
func digestText(d *bot.DigestPost) string {
	return "*" + escape(d.Title) + "*\n" + escape(d.Text)
}

// postDigest posts a digest in op.Channel. With a chart, the chart is
// uploaded as a file shared in the channel, the text as its comment
// (files.getUploadURLExternal, the upload, files.completeUploadExternal);
// without one, the text is a message carrying the job's key, like any
// other post.
func (c *Conn) postDigest(ctx context.Context, op *bot.Op) (bot.Result, error) {
	d := op.Digest
	if d == nil || op.Channel == "" {
		return bot.Result{}, bot.Permanent(errors.New("no digest or no channel"))
	}
	if len(d.Chart) == 0 {
		opts := append([]slackapi.MsgOption{slackapi.MsgOptionText(digestText(d), false)}, internalOpts...)
		return c.post(ctx, op, op.Channel, "", opts...)
	}
	if d.ChartName == "" {
		return bot.Result{}, bot.Permanent(errors.New("a chart without a file name"))
	}
	f, err := c.api.UploadFileContext(ctx, slackapi.UploadFileParameters{
		Reader: bytes.NewReader(d.Chart), FileSize: len(d.Chart), Filename: d.ChartName,
		Title: d.Title, AltTxt: d.ChartAlt, InitialComment: digestText(d), Channel: op.Channel,
	})
	if err != nil {
		return bot.Result{}, fmt.Errorf("upload %s in %s: %w", d.ChartName, op.Channel, err)
	}
	// Slack shares the file a moment after it answers: the message that
	// shows it is not known yet.
	c.log.Info("digest chart shared", "channel", op.Channel, "file", f.ID)
	return bot.Result{}, nil
}

// digestMatch tells a digest in the channel's history: a message of the
// bot sharing the chart's file (its name is the digest's and the
// period's), or, for a digest without a chart, one carrying the job's key.
func (c *Conn) digestMatch(op *bot.Op) func(slackapi.Message) bool {
	d := op.Digest
	if d == nil || len(d.Chart) == 0 {
		return keyMatch(op)
	}
	self := c.identity()
	return func(m slackapi.Message) bool {
		if self.BotID != "" && m.BotID != self.BotID {
			return false // not Liaison's
		}
		for _, f := range m.Files {
			if f.Name == d.ChartName {
				return true
			}
		}
		return false
	}
}

// keyMatch tells a message carrying op's key in its metadata.
func keyMatch(op *bot.Op) func(slackapi.Message) bool {
	return func(m slackapi.Message) bool {
		return m.Metadata.EventType == jobEvent && m.Metadata.EventPayload["job"] == op.Key
	}
}
