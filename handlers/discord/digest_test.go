package discord_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/handlers/discord"
	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
)

func digestOp(chart []byte) *bot.Op {
	d := &bot.DigestPost{
		Title: "📊 Digest weekly · Mon 6 Jan – Sun 12 Jan 2025",
		Text:  "📊 Last 7 days, all routes\n• Items in: 3\n– #4 “@​everyone”",
	}
	if chart != nil {
		d.Chart, d.ChartName, d.ChartAlt = chart, "liaison-weekly-2025-01-13.png", "Chart of the digest weekly"
	}
	return &bot.Op{Kind: bot.OpPostDigest, Key: "liaison-digest-weekly-1736755200", Conn: "community", Channel: offTopic,
		After: time.Now().Add(-time.Minute), Digest: d}
}

func digestConn(t *testing.T) (*discordfake.Fake, *discord.Conn) {
	t.Helper()
	f := discordfake.MustNew(t, discordfake.Options{BotToken: pubToken, BotUserID: pubBot, Guilds: []discordfake.Guild{communityGuild()}})
	c, err := discord.New(discord.Options{Name: "community", Token: pubToken, GuildID: pubGuild, APIURL: f.URL(), Log: testLog(t)}, &recorder{})
	if err != nil {
		t.Fatal(err)
	}
	return f, c
}

// TestDigestPost: a digest is one message of the bot: an embed with the
// title and figures, showing the chart attached to it, pinging nobody; a
// retry of the same job gets the same message; Find finds it, not a digest
// of another period.
func TestDigestPost(t *testing.T) {
	ctx := context.Background()
	f, c := digestConn(t)
	chart := bytes.Repeat([]byte("\x89PNG"), 200)
	op := digestOp(chart)
	res, err := c.Send(ctx, op)
	if err != nil {
		t.Fatal(err)
	}
	msgs := f.Messages(offTopic)
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want the digest", len(msgs))
	}
	m := msgs[0]
	if m.ID != res.MessageID || m.Author.ID != pubBot || res.Link == "" {
		t.Errorf("message %s by %s, result %+v", m.ID, m.Author.ID, res)
	}
	if len(m.Embeds) != 1 || m.Embeds[0].Title != op.Digest.Title || m.Embeds[0].Description != op.Digest.Text {
		t.Fatalf("embeds = %+v", m.Embeds)
	}
	if len(m.Attachments) != 1 {
		t.Fatalf("attachments = %+v", m.Attachments)
	}
	a := m.Attachments[0]
	if a.Filename != op.Digest.ChartName || a.ContentType != "image/png" || a.Size != len(chart) || a.Description != op.Digest.ChartAlt {
		t.Errorf("attachment = %+v", a)
	}
	if img := m.Embeds[0].Image; img == nil || img.URL != a.URL {
		t.Errorf("the embed shows %+v, want the chart %s", img, a.URL)
	}
	if data, ok := f.AttachmentData(a.URL); !ok || !bytes.Equal(data, chart) {
		t.Errorf("uploaded %d bytes, want the chart's %d", len(data), len(chart))
	}
	if p := f.Pings(m); len(p) != 0 {
		t.Errorf("the digest pings %v", p)
	}

	// A retry within Discord's nonce window gets the same message.
	if again, err := c.Send(ctx, op); err != nil || again.MessageID != m.ID {
		t.Errorf("retry = %+v, %v; want message %s again", again, err, m.ID)
	}
	if n := len(f.Messages(offTopic)); n != 1 {
		t.Errorf("%d messages after a retry, want 1", n)
	}
	got, found, err := c.Find(ctx, op)
	if err != nil || !found || got.MessageID != m.ID {
		t.Errorf("Find = %+v, %v, %v; want message %s", got, found, err, m.ID)
	}
	next := digestOp(chart)
	next.Key, next.Digest.Title = "liaison-digest-weekly-1737360000", "📊 Digest weekly · Mon 13 Jan – Sun 19 Jan 2025"
	if _, found, err := c.Find(ctx, next); err != nil || found {
		t.Errorf("Find of the next week = %v, %v; want not found", found, err)
	}
}

// TestDigestWithoutChart: the figures alone, found by their title.
func TestDigestWithoutChart(t *testing.T) {
	ctx := context.Background()
	f, c := digestConn(t)
	op := digestOp(nil)
	if _, err := c.Send(ctx, op); err != nil {
		t.Fatal(err)
	}
	msgs := f.Messages(offTopic)
	if len(msgs) != 1 || len(msgs[0].Attachments) != 0 || len(msgs[0].Embeds) != 1 || msgs[0].Embeds[0].Image != nil {
		t.Fatalf("messages = %+v", msgs)
	}
	if _, found, err := c.Find(ctx, op); err != nil || !found {
		t.Errorf("Find = %v, %v; want the digest", found, err)
	}
}

// TestDigestRefused: without Attach Files Discord refuses the digest, for
// good, and nothing is posted.
func TestDigestRefused(t *testing.T) {
	f, c := digestConn(t)
	f.SetBotPermissions(offTopic, discordfake.PermAll&^discordfake.PermAttachFiles)
	_, err := c.Send(context.Background(), digestOp([]byte("\x89PNG")))
	var se *bot.SendError
	if !errors.As(err, &se) || se.Kind != bot.PermanentKind {
		t.Fatalf("Send = %v, want a permanent error", err)
	}
	if n := len(f.Messages(offTopic)); n != 0 {
		t.Errorf("%d messages, want none", n)
	}
	if _, err := c.Send(context.Background(), &bot.Op{Kind: bot.OpPostDigest, Channel: offTopic}); !errors.As(err, &se) || se.Kind != bot.PermanentKind {
		t.Errorf("Send without a digest = %v, want a permanent error", err)
	}
}
