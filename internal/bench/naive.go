package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	dg "github.com/bwmarrin/discordgo"
	slackapi "github.com/slack-go/slack"

	"github.com/liaison-bot/liaison/internal/pause"
)

// naiveRelay is the baseline the bot is compared with: what a relay
// written in an afternoon does. It posts one Slack message per Discord
// event (a card per new message, a thread reply per reply), one call at a
// time in the order the events came, and on a 429 sleeps the Retry-After
// it was given and tries again.
type naiveRelay struct {
	s      *dg.Session
	api    *slackapi.Client
	routes map[string]string // Discord channel → Slack channel

	mu     sync.Mutex
	queue  []*dg.Message
	wake   chan struct{}
	failed int // events given up after errors other than 429

	cards map[string]string // Discord message id → its card's ts; the worker's own
}

// startNaive connects a naive relay to the world's fakes: the Discord
// gateway directly, Slack's Web API through the world's proxy.
func startNaive(ctx context.Context, w *world) (*naiveRelay, func(), error) {
	s, err := dg.New(w.discord.BotToken())
	if err != nil {
		return nil, nil, err
	}
	w.discord.Configure(s)
	s.Identify.Intents = dg.IntentsGuilds | dg.IntentsGuildMessages | dg.IntentMessageContent
	// In order, as the events come.
	s.SyncEvents = true
	s.LogLevel = dg.LogError
	r := &naiveRelay{
		s:      s,
		api:    slackapi.New(w.slack.BotToken(), slackapi.OptionAPIURL(w.sproxy.URL()+"/api/")),
		routes: map[string]string{},
		wake:   make(chan struct{}, 1),
		cards:  map[string]string{},
	}
	for i := range w.channels {
		r.routes[discordChannel(i)] = slackChannel(i)
	}
	s.AddHandler(func(_ *dg.Session, m *dg.MessageCreate) {
		if m.Author == nil || m.Author.Bot || r.routes[m.ChannelID] == "" {
			return
		}
		r.mu.Lock()
		r.queue = append(r.queue, m.Message)
		r.mu.Unlock()
		select {
		case r.wake <- struct{}{}:
		default:
		}
	})
	if err := s.Open(); err != nil {
		return nil, nil, fmt.Errorf("naive relay: open the gateway: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.work(ctx)
	}()
	stop := func() {
		cancel()
		<-done
		_ = s.Close()
	}
	return r, stop, nil
}

// work relays the queued events one at a time until ctx ends.
func (r *naiveRelay) work(ctx context.Context) {
	for {
		r.mu.Lock()
		var m *dg.Message
		if len(r.queue) > 0 {
			m = r.queue[0]
			r.queue = r.queue[1:]
		}
		r.mu.Unlock()
		if m == nil {
			select {
			case <-r.wake:
				continue
			case <-ctx.Done():
				return
			}
		}
		if err := r.relay(ctx, m); err != nil {
			if ctx.Err() != nil {
				return
			}
			r.mu.Lock()
			r.failed++
			r.mu.Unlock()
		}
	}
}

// relay posts one event: a card, or a reply in the thread of the card of
// the message it answers.
func (r *naiveRelay) relay(ctx context.Context, m *dg.Message) error {
	channel := r.routes[m.ChannelID]
	name := m.Author.GlobalName
	if name == "" {
		name = m.Author.Username
	}
	opts := []slackapi.MsgOption{slackapi.MsgOptionText(fmt.Sprintf("%s in #%s: %s", name, m.ChannelID, m.Content), false)}
	var parent string
	if m.MessageReference != nil {
		parent = r.cards[m.MessageReference.MessageID]
	}
	if parent != "" {
		opts = append(opts, slackapi.MsgOptionTS(parent))
	}
	// A 429 is waited out however often it comes; other errors are tried
	// again a few times.
	const attempts = 5
	failures := 0
	for {
		_, ts, err := r.api.PostMessageContext(ctx, channel, opts...)
		var limited *slackapi.RateLimitedError
		switch {
		case err == nil:
			if parent == "" {
				r.cards[m.ID] = ts
			}
			return nil
		case errors.As(err, &limited):
			if !pause.For(ctx, limited.RetryAfter) {
				return ctx.Err()
			}
		default:
			if failures++; failures == attempts {
				return fmt.Errorf("naive relay: post %s: %w", m.ID, err)
			}
			if !pause.For(ctx, time.Second) {
				return ctx.Err()
			}
		}
	}
}

// failures counts the events the relay gave up on.
func (r *naiveRelay) failures() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}
