package slackfake_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
)

// retryAfter is the wait of a 429 as slack-go reports it, or 0 when err is
// not one.
func retryAfter(err error) time.Duration {
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return rl.RetryAfter
	}
	return 0
}

// TestMethodTierLimit: chat.update is Tier 3, 50 calls a minute in the
// workspace whatever the channel; the 51st is answered 429 with the seconds
// until a call is allowed again (60/50 s, rounded up); another method has
// its own limit.
func TestMethodTierLimit(t *testing.T) {
	clk := newClock()
	f := mustStart(t, func(o *slackfake.Options) { o.Now = clk.Now })
	c := api(f)
	_, inGeneral, err := c.PostMessage(general, slack.MsgOptionText("card", false))
	if err != nil {
		t.Fatal(err)
	}
	_, inStaff, err := c.PostMessage(staff, slack.MsgOptionText("card", false))
	if err != nil {
		t.Fatal(err)
	}
	for i := range slackfake.Tier3 {
		ch, ts := general, inGeneral
		if i%2 == 1 {
			ch, ts = staff, inStaff
		}
		if _, _, _, err := c.UpdateMessage(ch, ts, slack.MsgOptionText("card, updated", false)); err != nil {
			t.Fatalf("update %d of %d: %v", i+1, slackfake.Tier3, err)
		}
	}
	_, _, _, err = c.UpdateMessage(staff, inStaff, slack.MsgOptionText("one more", false))
	if got := retryAfter(err); got != 2*time.Second {
		t.Fatalf("update %d: %v, want a 429 with Retry-After 2 s", slackfake.Tier3+1, err)
	}
	if m, _ := f.Message(staff, inStaff); m.Text != "card, updated" {
		t.Errorf("a refused update changed the message: %q", m.Text)
	}
	if _, err := c.GetPermalink(&slack.PermalinkParameters{Channel: general, Ts: inGeneral}); err != nil {
		t.Errorf("chat.getPermalink has its own limit: %v", err)
	}
	clk.Advance(2 * time.Second)
	if _, _, _, err := c.UpdateMessage(general, inGeneral, slack.MsgOptionText("after the wait", false)); err != nil {
		t.Errorf("after Retry-After: %v", err)
	}
	if n := f.RateLimited(); n != 1 {
		t.Errorf("RateLimited = %d, want 1", n)
	}
}

// TestSpecialMethodLimits: chat.getPermalink and auth.test allow "hundreds
// of requests per minute": the fake holds them to 100.
func TestSpecialMethodLimits(t *testing.T) {
	clk := newClock()
	f := mustStart(t, func(o *slackfake.Options) { o.Now = clk.Now })
	c := api(f)
	_, ts, err := c.PostMessage(general, slack.MsgOptionText("card", false))
	if err != nil {
		t.Fatal(err)
	}
	for i := range slackfake.Tier4 {
		if _, err := c.GetPermalink(&slack.PermalinkParameters{Channel: general, Ts: ts}); err != nil {
			t.Fatalf("permalink %d: %v", i+1, err)
		}
		if _, err := c.AuthTest(); err != nil {
			t.Fatalf("auth.test %d: %v", i+1, err)
		}
	}
	if _, err := c.GetPermalink(&slack.PermalinkParameters{Channel: general, Ts: ts}); retryAfter(err) != time.Second {
		t.Errorf("permalink %d: %v, want a 429 with Retry-After 1 s", slackfake.Tier4+1, err)
	}
	if _, err := c.AuthTest(); retryAfter(err) != time.Second {
		t.Errorf("auth.test %d: %v, want a 429 with Retry-After 1 s", slackfake.Tier4+1, err)
	}
}

// TestPostingLimitIsChatPostMessages: the per-channel posting limit counts
// chat.postMessage only: an ephemeral message (Tier 4) and a shared file
// (files.completeUploadExternal, Tier 4) do not spend it, nor are they
// refused by it.
func TestPostingLimitIsChatPostMessages(t *testing.T) {
	clk := newClock()
	f := mustStart(t, func(o *slackfake.Options) { o.Now = clk.Now })
	f.SetRate(general, 1, 1)
	c := api(f)
	if _, _, err := c.PostMessage(general, slack.MsgOptionText("first", false)); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := c.PostEphemeral(general, alice, slack.MsgOptionText("only you", false)); err != nil {
			t.Fatalf("ephemeral %d while the channel is limited: %v", i+1, err)
		}
	}
	chart := []byte("chart")
	if _, err := c.UploadFileContext(context.Background(), slack.UploadFileParameters{
		Reader: bytes.NewReader(chart), FileSize: len(chart), Filename: "chart.png", Channel: general,
	}); err != nil {
		t.Fatalf("file shared while the channel is limited: %v", err)
	}
	if _, _, err := c.PostMessage(general, slack.MsgOptionText("second", false)); retryAfter(err) != time.Second {
		t.Errorf("second chat.postMessage: %v, want the channel's 429", err)
	}
	clk.Advance(time.Second)
	if _, _, err := c.PostMessage(general, slack.MsgOptionText("second", false)); err != nil {
		t.Errorf("after Retry-After: %v", err)
	}
}

// TestSetMethodRate: a test changes a method's limit, lifts it, or adds a
// workspace-wide limit to chat.postMessage's per-channel one.
func TestSetMethodRate(t *testing.T) {
	clk := newClock()
	f := mustStart(t, func(o *slackfake.Options) {
		o.Now = clk.Now
		o.MethodRates = map[string]slackfake.MethodRate{"users.info": {PerMinute: 2}}
	})
	c := api(f)
	for i := range 2 {
		if _, err := c.GetUserInfo(alice); err != nil {
			t.Fatalf("users.info %d: %v", i+1, err)
		}
	}
	if _, err := c.GetUserInfo(alice); retryAfter(err) != 30*time.Second {
		t.Errorf("users.info 3 at 2 a minute: %v, want Retry-After 30 s", err)
	}

	f.SetMethodRate("users.info", -1, 0)
	for i := range 200 {
		if _, err := c.GetUserInfo(alice); err != nil {
			t.Fatalf("users.info %d without a limit: %v", i+1, err)
		}
	}

	f.SetMethodRate("chat.postMessage", 60, 2)
	for _, ch := range []string{general, staff} {
		if _, _, err := c.PostMessage(ch, slack.MsgOptionText("hello", false)); err != nil {
			t.Fatalf("post in %s: %v", ch, err)
		}
	}
	_, _, err := c.PostMessage(random, slack.MsgOptionText("hello", false))
	if retryAfter(err) != time.Second {
		t.Errorf("third post in a third channel: %v, want the workspace's 429", err)
	}
}
