package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
	"github.com/liaison-bot/liaison/internal/pause"
)

// measureLatency posts samples public messages into the world's channels
// in turn, one by one, each once the previous one's card was requested and
// gap has passed, so that nothing queues; it returns, for each, the time
// from the gateway dispatch to the chat.postMessage that carried its card.
func measureLatency(ctx context.Context, w *world, samples int, gap time.Duration) ([]time.Duration, error) {
	var out []time.Duration
	from := len(w.slack.Calls())
	for i := range samples {
		marker := fmt.Sprintf("L%04dx", i)
		m, err := w.discord.Post(memberID(i%members), discordChannel(i%w.channels), marker+" How do I change the e-mail address of my account?")
		if err != nil {
			return nil, err
		}
		at, next, err := awaitCard(ctx, w.slack, marker, from)
		if err != nil {
			return nil, fmt.Errorf("sample %d of %d: %w", i+1, samples, err)
		}
		from = next
		out = append(out, at.Sub(m.Timestamp))
		if !pause.For(ctx, gap) {
			return nil, ctx.Err()
		}
	}
	return out, nil
}

// awaitCard waits for the successful chat.postMessage whose text holds
// marker, among the calls from index from on; it returns when the fake
// received it and the index of the call after it.
func awaitCard(ctx context.Context, f *slackfake.Fake, marker string, from int) (time.Time, int, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var at time.Time
	next := from
	err := f.WaitFor(ctx, func() bool {
		calls := f.Calls()
		for i := from; i < len(calls); i++ {
			c := calls[i]
			if c.Method == "chat.postMessage" && c.Error == "" && strings.Contains(c.Params.Get("text"), marker) {
				at, next = c.At, i+1
				return true
			}
		}
		return false
	})
	if err != nil {
		return time.Time{}, from, fmt.Errorf("no card for %s within 10s", marker)
	}
	return at, next, nil
}
