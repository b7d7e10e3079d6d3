package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	dg "github.com/bwmarrin/discordgo"

	"github.com/liaison-bot/liaison/bot"
)

// digestMessage is a bot message with an attached file: outMessage and the
// attachment's description (alt text), as payload_json of a
// multipart/form-data body whose files[0] is the file.
type digestMessage struct {
	outMessage
	Attachments []digestAttachment `json:"attachments,omitempty"`
}

type digestAttachment struct {
	ID          int    `json:"id"`
	Filename    string `json:"filename"`
	Description string `json:"description,omitempty"`
}

// maxAttachmentDescription is Discord's limit on an attachment's alt text.
const maxAttachmentDescription = 1024

// digestEmbed shows a digest: its title and figures, and its chart as the
// embed's image when it has one.
func digestEmbed(d *bot.DigestPost) *dg.MessageEmbed {
	e := &dg.MessageEmbed{Title: clip(d.Title, maxTitle), Description: clip(d.Text, maxDescription)}
	if len(d.Chart) > 0 {
		e.Image = &dg.MessageEmbedImage{URL: "attachment://" + d.ChartName}
	}
	return fitEmbed(e)
}

// postDigest posts a digest in op.Channel as the bot, its chart attached,
// with the job's nonce like any bot post.
func (c *Conn) postDigest(ctx context.Context, op *bot.Op) (bot.Result, error) {
	d := op.Digest
	if d == nil || op.Channel == "" {
		return bot.Result{}, bot.Permanent(errors.New("no digest or no channel"))
	}
	msg := outMessage{Embeds: []*dg.MessageEmbed{digestEmbed(d)}}
	if len(d.Chart) == 0 {
		return c.postLinked(ctx, op.Channel, msg, op.Key)
	}
	if d.ChartName == "" {
		return bot.Result{}, bot.Permanent(errors.New("a chart without a file name"))
	}
	msg.AllowedMentions = noMentions()
	if n := nonceOf(op.Key); n != "" {
		msg.Nonce, msg.EnforceNonce = n, true
	}
	payload := digestMessage{outMessage: msg, Attachments: []digestAttachment{{ID: 0, Filename: d.ChartName, Description: clip(d.ChartAlt, maxAttachmentDescription)}}}
	ctype, body, err := dg.MultipartBodyWithJSON(payload, []*dg.File{{Name: d.ChartName, ContentType: "image/png", Reader: bytes.NewReader(d.Chart)}})
	if err != nil {
		return bot.Result{}, bot.Permanent(fmt.Errorf("encode digest: %w", err))
	}
	ep := dg.EndpointChannelMessages(op.Channel)
	resp, err := c.s.RequestRaw("POST", ep, ctype, body, ep, 0, dg.WithContext(ctx))
	if err != nil {
		return bot.Result{}, fmt.Errorf("post digest in channel %s: %w", op.Channel, err)
	}
	var m dg.Message
	if err := json.Unmarshal(resp, &m); err != nil {
		return bot.Result{}, fmt.Errorf("post digest in channel %s: decode answer: %w", op.Channel, err)
	}
	return bot.Result{MessageID: m.ID, Link: c.link(ctx, op.Channel, m.ID)}, nil
}

// findDigest looks for a digest the bot posted in op.Channel since its job
// began, by its nonce or its title (the digest's and the period's).
func (c *Conn) findDigest(ctx context.Context, op *bot.Op, byBot func(*listedMessage, bool) bool) (bot.Result, bool, error) {
	if op.Digest == nil {
		return bot.Result{}, false, bot.Permanent(errors.New("no digest"))
	}
	title := digestEmbed(op.Digest).Title
	m, err := c.scan(ctx, op.Channel, op.After, func(m *listedMessage) bool { return byBot(m, m.embedTitle() == title) })
	if err != nil || m == nil {
		return bot.Result{}, false, err
	}
	return bot.Result{MessageID: m.ID, Link: c.link(ctx, op.Channel, m.ID)}, true, nil
}
