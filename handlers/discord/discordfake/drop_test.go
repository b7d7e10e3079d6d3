package discordfake_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
)

// TestDroppedAnswers: a webhook execution that hangs ends in the client's
// timeout, one that is reset ends in a reset, and either happens before or
// after the message is posted, as the fault says; the fake records the call
// as dropped.
func TestDroppedAnswers(t *testing.T) {
	t.Parallel()
	f, s, _ := fakeSession(t, noContent)
	wh := relayHook(t, s, general)
	for _, tc := range []struct {
		name    string
		drop    discordfake.Drop
		applied bool
		want    func(error) bool
	}{
		{"hang", discordfake.DropHang, false, func(err error) bool { return errors.Is(err, context.DeadlineExceeded) }},
		{"hang after posting", discordfake.DropHang, true, func(err error) bool { return errors.Is(err, context.DeadlineExceeded) }},
		{"reset", discordfake.DropReset, false, func(err error) bool {
			return errors.Is(err, syscall.ECONNRESET) || strings.Contains(err.Error(), "EOF")
		}},
		{"reset after posting", discordfake.DropReset, true, func(err error) bool {
			return errors.Is(err, syscall.ECONNRESET) || strings.Contains(err.Error(), "EOF")
		}},
	} {
		f.Inject(discordfake.Fault{Method: "POST", PathPrefix: "/webhooks/" + wh.ID, Drop: tc.drop, Applied: tc.applied})
		before := len(f.Messages(general))
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		_, err := s.WebhookExecute(wh.ID, wh.Token, true, &discordgo.WebhookParams{Content: tc.name}, discordgo.WithContext(ctx))
		cancel()
		var ue *url.Error
		if !errors.As(err, &ue) || !tc.want(err) {
			t.Errorf("%s: error %v (%T), want a *url.Error of the drop", tc.name, err, err)
		}
		if posted := len(f.Messages(general)) - before; posted != map[bool]int{false: 0, true: 1}[tc.applied] {
			t.Errorf("%s: %d messages posted", tc.name, posted)
		}
		calls := f.Calls()
		if c := calls[len(calls)-1]; !c.Dropped || !strings.HasPrefix(c.Path, "/api/v9/webhooks/") {
			t.Errorf("%s: last call %+v, want the dropped execution", tc.name, c)
		}
	}
	// The fault is spent: the next execution is answered.
	if _, err := s.WebhookExecute(wh.ID, wh.Token, true, &discordgo.WebhookParams{Content: "answered"}); err != nil {
		t.Fatalf("execution after the faults: %v", err)
	}
}

// TestCloseEndsHeldRequests: closing the fake ends a request it holds.
func TestCloseEndsHeldRequests(t *testing.T) {
	t.Parallel()
	f := discordfake.MustNew(t, discordfake.Options{})
	f.Inject(discordfake.Fault{PathPrefix: "/users/@me", Drop: discordfake.DropHang})
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest("GET", "https://discord.com/api/v9/users/@me", nil)
		req.Header.Set("Authorization", f.BotToken())
		_, err := f.HTTPClient().Do(req)
		done <- err
	}()
	waitFor(t, f, "the held request", func() bool { return len(f.Calls()) == 1 })
	start := time.Now()
	f.Close()
	if err := <-done; err == nil {
		t.Error("the held request was answered")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v with a held request", d)
	}
}
