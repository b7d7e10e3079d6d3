package slack

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
)

func digestOp(chart []byte) *bot.Op {
	d := &bot.DigestPost{
		Title: "📊 Digest weekly · Mon 6 Jan – Sun 12 Jan 2025",
		Text:  "📊 Last 7 days, all routes\n• Items in: 3\n– #4 “<!channel> & <@U0MEMBER> *bold*”",
	}
	if chart != nil {
		d.Chart, d.ChartName, d.ChartAlt = chart, "liaison-weekly-2025-01-13.png", "Chart of the digest weekly"
	}
	return &bot.Op{Kind: bot.OpPostDigest, Key: "liaison-digest-weekly-1736755200", Conn: "internal", Channel: tChan,
		After: time.Now().Add(-time.Minute), Digest: d}
}

const wantDigestText = "*📊 Digest weekly · Mon 6 Jan – Sun 12 Jan 2025*\n" +
	"📊 Last 7 days, all routes\n• Items in: 3\n– #4 “&lt;!channel&gt; &amp; &lt;@U0MEMBER&gt; *bold*”"

// bots returns the bot's messages in the channel.
func bots(f *slackfake.Fake) []slackfake.Message {
	var out []slackfake.Message
	for _, m := range f.Messages(tChan) {
		if m.BotID != "" {
			out = append(out, m)
		}
	}
	return out
}

// TestDigestChart: a digest is the chart uploaded as a file shared in the
// channel, its text the escaped figures, pinging nobody; Find finds it by
// its file, and not a digest of another period.
func TestDigestChart(t *testing.T) {
	f := startFake(t, func(o *slackfake.Options) { o.DisableBotEcho = true })
	c := findConn(t, f)
	ctx := context.Background()
	chart := bytes.Repeat([]byte("\x89PNG"), 300)
	op := digestOp(chart)
	if _, err := c.Send(ctx, op); err != nil {
		t.Fatal(err)
	}
	ups := f.Uploads()
	if len(ups) != 1 || !bytes.Equal(ups[0].Data, chart) || ups[0].Filename != op.Digest.ChartName ||
		ups[0].Title != op.Digest.Title || ups[0].AltText != op.Digest.ChartAlt {
		t.Fatalf("uploads = %+v", ups)
	}
	msgs := bots(f)
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want the chart shared once", len(msgs))
	}
	m := msgs[0]
	if m.Text != wantDigestText {
		t.Errorf("text = %q\nwant   %q", m.Text, wantDigestText)
	}
	if p := slackfake.Pings(m); len(p) != 0 {
		t.Errorf("the digest pings %v", p)
	}
	if len(m.Files) != 1 || m.Files[0].Name != op.Digest.ChartName {
		t.Errorf("files = %+v", m.Files)
	}

	got, found, err := c.Find(ctx, op)
	if err != nil || !found || got.MessageID != m.TS {
		t.Errorf("Find = %+v, %v, %v; want the message %s", got, found, err, m.TS)
	}
	next := digestOp(chart)
	next.Key, next.Digest.ChartName = "liaison-digest-weekly-1737360000", "liaison-weekly-2025-01-20.png"
	if _, found, err := c.Find(ctx, next); err != nil || found {
		t.Errorf("Find of the next week = %v, %v; want not found", found, err)
	}
}

// TestDigestLostAnswer: the share went out but its answer was lost; Find
// finds it, so the worker does not post it again.
func TestDigestLostAnswer(t *testing.T) {
	f := startFake(t, func(o *slackfake.Options) { o.DisableBotEcho = true })
	c := findConn(t, f)
	op := digestOp([]byte("\x89PNG lost"))
	f.DelayNext("files.completeUploadExternal", 5*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	_, err := c.Send(ctx, op)
	cancel()
	// An error that does not say otherwise is an unknown outcome.
	if se := (*bot.SendError)(nil); err == nil || errors.As(err, &se) && se.Kind != bot.UnknownOutcome {
		t.Fatalf("Send = %v, want an unknown outcome", err)
	}
	if _, found, err := c.Find(context.Background(), op); err != nil || !found {
		t.Fatalf("Find = %v, %v; want the shared chart", found, err)
	}
	if n := len(bots(f)); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}
}

// TestDigestWithoutChart: without a chart the digest is a message carrying
// the job's key, found by it.
func TestDigestWithoutChart(t *testing.T) {
	f := startFake(t, func(o *slackfake.Options) { o.DisableBotEcho = true })
	c := findConn(t, f)
	ctx := context.Background()
	op := digestOp(nil)
	if _, err := c.Send(ctx, op); err != nil {
		t.Fatal(err)
	}
	msgs := bots(f)
	if len(msgs) != 1 || msgs[0].Text != wantDigestText || len(msgs[0].Files) != 0 || len(f.Uploads()) != 0 {
		t.Fatalf("messages = %+v", msgs)
	}
	if _, found, err := c.Find(ctx, op); err != nil || !found {
		t.Errorf("Find = %v, %v; want the message", found, err)
	}
	other := digestOp(nil)
	other.Key = "liaison-digest-weekly-1737360000"
	if _, found, err := c.Find(ctx, other); err != nil || found {
		t.Errorf("Find of another period = %v, %v; want not found", found, err)
	}
}

// TestDigestRefused: Slack's refusals are permanent and share nothing.
func TestDigestRefused(t *testing.T) {
	ctx := context.Background()
	for name, edit := range map[string]func(*slackfake.Options){
		"NotInChannel": func(o *slackfake.Options) {
			o.Channels = []slackfake.Channel{{ID: tChan, Name: "help", Members: []string{tUser}}}
		},
		"NoFilesWrite": func(o *slackfake.Options) {
			o.Scopes = []string{"chat:write", "channels:history"}
		},
	} {
		t.Run(name, func(t *testing.T) {
			f := startFake(t, edit)
			c := findConn(t, f)
			_, err := c.Send(ctx, digestOp([]byte("\x89PNG")))
			var se *bot.SendError
			if !errors.As(err, &se) || se.Kind != bot.PermanentKind {
				t.Fatalf("Send = %v, want a permanent error", err)
			}
			if n := len(f.Messages(tChan)); n != 0 {
				t.Errorf("%d messages, want none", n)
			}
		})
	}
	f := startFake(t, nil)
	c := findConn(t, f)
	for _, op := range []*bot.Op{
		{Kind: bot.OpPostDigest, Channel: tChan},
		{Kind: bot.OpPostDigest, Channel: tChan, Digest: &bot.DigestPost{Title: "t", Text: "x", Chart: []byte("png")}},
	} {
		_, err := c.Send(ctx, op)
		var se *bot.SendError
		if !errors.As(err, &se) || se.Kind != bot.PermanentKind {
			t.Errorf("Send(%+v) = %v, want a permanent error", op.Digest, err)
		}
	}
}
