package slackfake_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
)

const (
	alice   = "U0ALICE"
	bob     = "U0BOB"
	bot     = "U0BOT"
	general = "C0GENERAL" // public, everyone in it
	staff   = "C0STAFF"   // private, bot and alice
	random  = "C0RANDOM"  // public, bot not in it
	secret  = "C0SECRET"  // private, bot not in it
	team    = "S0TEAM"
)

// clock is a settable clock for Options.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// mustStart starts a fake workspace for a test, with the options changed by
// edit, and closes it at the end of the test.
func mustStart(tb testing.TB, edit ...func(*slackfake.Options)) *slackfake.Fake {
	tb.Helper()
	opts := slackfake.Options{
		Users: []slackfake.User{
			{ID: alice, Name: "alice", RealName: "Alice Martin", Title: "Product Manager", AvatarURL: "https://example.com/alice.png"},
			{ID: bob, Name: "bob", RealName: "Bob Stone"},
		},
		Channels: []slackfake.Channel{
			{ID: general, Name: "general", Members: []string{bot, alice, bob}},
			{ID: staff, Name: "staff", Private: true, Members: []string{bot, alice}},
			{ID: random, Name: "random", Members: []string{alice}},
			{ID: secret, Name: "secret", Private: true, Members: []string{alice}},
		},
		UserGroups:   []slackfake.UserGroup{{ID: team, Handle: "team", Users: []string{alice, bob}}},
		AckTimeout:   300 * time.Millisecond,
		RetryDelays:  []time.Duration{0}, // Slack waits 1 and 5 minutes before the last two
		PingInterval: 100 * time.Millisecond,
	}
	for _, e := range edit {
		e(&opts)
	}
	f, err := slackfake.New(opts)
	if err != nil {
		tb.Fatalf("slackfake.New: %v", err)
	}
	tb.Cleanup(f.Close)
	return f
}

// api returns a real slack-go client of the fake.
func api(f *slackfake.Fake, token ...string) *slack.Client {
	tok := f.BotToken()
	if len(token) > 0 {
		tok = token[0]
	}
	return slack.New(tok, slack.OptionAPIURL(f.APIURL()), slack.OptionAppLevelToken(f.AppToken()))
}

// socket is a running socketmode client of the fake.
type socket struct {
	*socketmode.Client
	tb testing.TB
}

// mustConnect runs a real socketmode client until the end of the test.
func mustConnect(tb testing.TB, f *slackfake.Fake) *socket {
	tb.Helper()
	client := socketmode.New(api(f), socketmode.OptionPingInterval(2*time.Second))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = client.RunContext(ctx)
	}()
	tb.Cleanup(func() {
		cancel()
		<-done
	})
	s := &socket{Client: client, tb: tb}
	s.next(socketmode.EventTypeHello)
	return s
}

// next returns the next event of one of the given types, skipping others.
func (s *socket) next(types ...socketmode.EventType) socketmode.Event {
	s.tb.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev := <-s.Events:
			for _, t := range types {
				if ev.Type == t {
					return ev
				}
			}
		case <-timeout:
			s.tb.Fatalf("no %v event within 5 s", types)
			return socketmode.Event{}
		}
	}
}

// wait waits until cond holds, failing the test after 5 s.
func wait(tb testing.TB, f *slackfake.Fake, what string, cond func() bool) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.WaitFor(ctx, cond); err != nil {
		tb.Fatalf("waiting for %s: %v", what, err)
	}
}

// slackError returns Slack's error code in err, or "" if it is not one.
func slackError(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	return ""
}
