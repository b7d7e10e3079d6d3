package discord_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/handlers/discord"
	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
)

// pacedConn is the internal bot against its own fake, telling pacer what
// Discord's rate-limit headers say.
func pacedConn(t *testing.T, pacer *bot.Pacer, log *slog.Logger) (*discord.Conn, *discordfake.Fake) {
	t.Helper()
	f := discordfake.MustNew(t, discordfake.Options{BotToken: innerToken, BotUserID: innerBot, Guilds: []discordfake.Guild{staffGuild()}})
	if log == nil {
		log = testLog(t)
	}
	c, err := discord.New(discord.Options{Name: "internal", Token: innerToken, GuildID: innerGuild, APIURL: f.URL(), Log: log, Pacer: pacer}, &recorder{})
	if err != nil {
		t.Fatal(err)
	}
	return c, f
}

func noteOp(channel string, i int) *bot.Op {
	return &bot.Op{Kind: bot.OpPostNote, Key: fmt.Sprint("liaison-job-", i), Conn: "internal", Channel: channel, Note: &bot.Note{Text: fmt.Sprint("note ", i)}}
}

// busy reports whether conn's bucket of channel (or "*", the whole
// connection) has no slot free, and when one frees.
func busy(p *bot.Pacer, l bot.Limits, conn, channel string) (bool, time.Time) {
	channels, all, free := p.Busy(conn, l.Post, l.Global)
	if channel == "*" {
		return all, free
	}
	return slices.Contains(channels, channel), free
}

// TestSpentPostsHoldTheChannel: once Discord says a channel's posts are
// spent (X-RateLimit-Remaining 0), the worker's pacer holds that channel
// until Discord's reset, and a post made when the pacer frees it is
// accepted.
func TestSpentPostsHoldTheChannel(t *testing.T) {
	ctx := context.Background()
	pacer := bot.NewPacer(nil)
	c, f := pacedConn(t, pacer, nil)
	const window = 1500 * time.Millisecond
	f.SetRouteLimit("POST /channels/{channel.id}/messages", 2, window)
	l := c.Limits()

	start := time.Now()
	if _, err := c.Send(ctx, noteOp(feedback, 1)); err != nil {
		t.Fatal(err)
	}
	if held, _ := busy(pacer, l, "internal", feedback); held {
		t.Error("the channel is held with one post of two left")
	}
	if _, err := c.Send(ctx, noteOp(feedback, 2)); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	held, free := busy(pacer, l, "internal", feedback)
	if !held {
		t.Fatal("the channel is not held although Discord says its posts are spent")
	}
	// Discord's window began with the first post.
	if free.Before(start.Add(window-50*time.Millisecond)) || free.After(sent.Add(window+50*time.Millisecond)) {
		t.Errorf("the channel frees %v after the first post, want Discord's reset, %v after it", free.Sub(start), window)
	}
	if next := pacer.Next(bot.ChannelBucket("internal", feedback), l.Post); !next.Equal(free) {
		t.Errorf("the channel's next slot is at %v, want %v", next, free)
	}
	if held, _ := busy(pacer, l, "internal", innerGuild); held {
		t.Error("another bucket is held")
	}

	time.Sleep(time.Until(free))
	if held, _ := busy(pacer, l, "internal", feedback); held {
		t.Error("the channel is still held after Discord's reset")
	}
	if _, err := c.Send(ctx, noteOp(feedback, 3)); err != nil {
		t.Errorf("a post when the pacer freed the channel: %v", err)
	}
	if n := f.RateLimited(); n != 0 {
		t.Errorf("Discord answered %d calls with 429", n)
	}
}

// TestWebhookPostsHoldTheirChannel: a published reply goes through the
// channel's webhook, whose limit is Discord's per webhook; once spent, the
// channel the job names is held.
func TestWebhookPostsHoldTheirChannel(t *testing.T) {
	ctx := context.Background()
	f := discordfake.MustNew(t, discordfake.Options{BotToken: pubToken, BotUserID: pubBot, Guilds: []discordfake.Guild{communityGuild()}})
	f.SetRouteLimit("POST /webhooks/{webhook.id}/{webhook.token}", 1, 2*time.Second)
	pacer := bot.NewPacer(nil)
	c, err := discord.New(discord.Options{Name: "community", Token: pubToken, GuildID: pubGuild, APIURL: f.URL(), Log: testLog(t), Pacer: pacer}, &recorder{})
	if err != nil {
		t.Fatal(err)
	}
	op := &bot.Op{Kind: bot.OpPublish, Key: "liaison-draft-1", Conn: "community", Channel: general, After: time.Now(),
		Post: &bot.PublicPost{Username: "Alice Martin · Acme", Body: "Thanks, fixed in 2.1", Reply: "Thanks, fixed in 2.1"}}
	before := time.Now()
	if _, err := c.Send(ctx, op); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	held, free := busy(pacer, c.Limits(), "community", general)
	if !held {
		t.Fatal("the channel is not held although its webhook's posts are spent")
	}
	// The window runs 2 s from the execution, which happened during Send.
	if free.Before(before.Add(2*time.Second-100*time.Millisecond)) || free.After(after.Add(2*time.Second+100*time.Millisecond)) {
		t.Errorf("the channel frees %v after the call began and %v after it ended, want 2 s after the execution", free.Sub(before), free.Sub(after))
	}
}

// TestRateLimitedHolds: a 429 holds what it limits for its Retry-After: a
// channel's posts, or with a global 429, every call of the connection.
func TestRateLimitedHolds(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		global bool
		bucket string // "*": the connection's
	}{
		{"Route", false, feedback},
		{"Global", true, "*"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pacer := bot.NewPacer(nil)
			c, f := pacedConn(t, pacer, nil)
			f.Inject(discordfake.Fault{Method: "POST", PathPrefix: "/channels/" + feedback + "/messages",
				Status: http.StatusTooManyRequests, Global: tc.global, RetryAfter: 1500 * time.Millisecond})
			before := time.Now()
			_, err := c.Send(ctx, noteOp(feedback, 1))
			after := time.Now()
			var se *bot.SendError
			if !errors.As(err, &se) || se.Kind != bot.RetryAfterKind {
				t.Fatalf("Send = %v, want a rate limit", err)
			}
			held, free := busy(pacer, c.Limits(), "internal", tc.bucket)
			if !held {
				t.Fatalf("bucket %s not held after a 429", tc.bucket)
			}
			// Retry-After is in whole seconds: 1.5 s is said as 2.
			if free.Before(before.Add(1500*time.Millisecond)) || free.After(after.Add(2100*time.Millisecond)) {
				t.Errorf("bucket %s frees %v after the call began and %v after it ended, want the 429's Retry-After", tc.bucket, free.Sub(before), free.Sub(after))
			}
			if tc.global {
				if held, _ := busy(pacer, c.Limits(), "internal", feedback); held {
					t.Error("a global 429 holds the channel's own bucket too")
				}
			}
		})
	}
}

// TestInvalidRequestsWarn: Discord blocks the IP of a bot that makes
// 10,000 invalid requests in 10 minutes; Liaison warns once, when the
// count passes its threshold (lowered here to 3).
func TestInvalidRequestsWarn(t *testing.T) {
	ctx := context.Background()
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(teeWriter{logs, tLogWriter{t}}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, f := pacedConn(t, bot.NewPacer(nil), log)
	discord.SetInvalidWarn(c, 3)
	f.Inject(discordfake.Fault{Method: "POST", PathPrefix: "/channels/" + feedback + "/messages",
		Status: http.StatusForbidden, Code: 50013, Times: 6})
	warnings := func() int { return strings.Count(logs.String(), "blocks this IP") }
	for i := range 6 {
		if _, err := c.Send(ctx, noteOp(feedback, i)); err == nil {
			t.Fatalf("post %d: want Discord's refusal", i)
		}
		want := 0
		if i >= 3 {
			want = 1
		}
		if got := warnings(); got != want {
			t.Errorf("after %d invalid requests: %d warnings, want %d", i+1, got, want)
		}
	}
	if n := f.InvalidRequests(); n != 6 {
		t.Errorf("Discord counted %d invalid requests, want 6", n)
	}
	if !strings.Contains(logs.String(), "invalid_requests=4") {
		t.Errorf("the warning does not give the count:\n%s", logs.String())
	}
}

// TestDeclaredLimits: the worker schedules Discord posts at one a second
// per channel and every call within 50 a second, and merges notes within a
// message's 2,000 characters.
func TestDeclaredLimits(t *testing.T) {
	c, _ := pacedConn(t, nil, nil)
	var p bot.Platform = c
	paced, ok := p.(bot.Paced)
	if !ok {
		t.Fatal("the Discord connection declares no limits")
	}
	want := bot.Limits{Post: bot.Limit{Every: time.Second, Burst: 1}, Global: bot.Limit{Every: 20 * time.Millisecond, Burst: 1}}
	if got := paced.Limits(); got != want {
		t.Errorf("Limits() = %+v, want %+v", got, want)
	}
	if got := c.Capabilities().MaxNote; got != 2000 {
		t.Errorf("MaxNote = %d, want 2000", got)
	}
}
