package slack

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/slack-go/slack/slackevents"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/internal/pause"
)

// The inbox holds message events from their arrival until the domain has
// stored them, and only then are they acknowledged to Slack (the Socket Mode
// ack, the HTTP 200): until that moment Slack still holds them and sends them
// again if this process dies, to it or to another replica. While storing
// fails (the database is down) the inbox keeps the event and tries again
// with backoff for as long as the process runs, acknowledging nothing; the
// copies Slack sends meanwhile join the one waiting, and the domain drops
// those it already has.
//
// Events of one channel reach the domain one at a time, in the order they
// arrived, so that a message, its edit and its deletion are taken in order;
// channels do not wait for each other. The inbox is bounded: an event that
// finds it full is left unacknowledged, for Slack to send again.
const (
	inboxMax     = 2000                   // events held at once
	inboxWorkers = 4                      // events handed to the domain at once
	retryFirst   = 100 * time.Millisecond // the first wait after a failure
	retryMax     = 10 * time.Second       // the longest wait between tries
)

type inbox struct {
	mu    sync.Mutex
	byKey map[string]*inboxEvent // by event id, to join Slack's copies
	lanes map[string]*lane       // by channel; a lane exists while its drainer runs
	n     int
	slots chan struct{} // bounds the domain calls at once
	full  time.Time     // when a full inbox was last logged
}

// lane is one channel's events, oldest first.
type lane struct{ events []*inboxEvent }

type inboxEvent struct {
	key  string
	ev   slackevents.EventsAPIEvent
	acks []func()      // run once the event is stored
	done chan struct{} // closed once the event is stored
}

func newInbox() inbox {
	return inbox{byKey: map[string]*inboxEvent{}, lanes: map[string]*lane{}, slots: make(chan struct{}, inboxWorkers)}
}

// take puts an event in the inbox. ack, unless nil, runs once the domain
// has stored it. take returns a channel closed at that moment, or nil when
// the event was not taken (the inbox is full, or the connection is
// stopping): leave it unacknowledged, and Slack sends it again.
func (c *Conn) take(ev slackevents.EventsAPIEvent, ack func()) <-chan struct{} {
	key, channel := eventKey(ev)
	b := &c.inbox
	b.mu.Lock()
	if e := b.byKey[key]; e != nil && key != "" {
		// A copy of an event still waiting: acknowledge it too once stored.
		if ack != nil {
			e.acks = append(e.acks, ack)
		}
		b.mu.Unlock()
		return e.done
	}
	if b.n >= inboxMax {
		logIt := time.Since(b.full) > time.Minute
		if logIt {
			b.full = time.Now()
		}
		b.mu.Unlock()
		if logIt {
			c.log.Warn("slack inbox full: events left unacknowledged for Slack to send again", "held", inboxMax)
		}
		return nil
	}
	e := &inboxEvent{key: key, ev: ev, done: make(chan struct{})}
	if ack != nil {
		e.acks = append(e.acks, ack)
	}
	l, running := b.lanes[channel]
	if !running {
		l = &lane{}
		b.lanes[channel] = l
	}
	l.events = append(l.events, e)
	if key != "" {
		b.byKey[key] = e
	}
	b.n++
	b.mu.Unlock()
	if !running && !c.goWork(func(ctx context.Context) { c.drain(ctx, channel, l) }) {
		// Stopping: nothing will store it.
		b.mu.Lock()
		delete(b.lanes, channel)
		for _, x := range l.events {
			delete(b.byKey, x.key)
			b.n--
		}
		b.mu.Unlock()
		return nil
	}
	return e.done
}

// eventKey is what identifies an event across Slack's copies of it (its
// event id), and the lane whose order it keeps: a message's channel, a
// person's Home.
func eventKey(ev slackevents.EventsAPIEvent) (key, channel string) {
	if cb, ok := ev.Data.(*slackevents.EventsAPICallbackEvent); ok {
		key = cb.EventID
	}
	switch inner := ev.InnerEvent.Data.(type) {
	case *slackevents.MessageEvent:
		channel = inner.Channel
	case *slackevents.AppHomeOpenedEvent:
		// A person's openings, in order; other people's do not wait.
		channel = "home:" + inner.User
	}
	return key, channel
}

// drain hands a channel's events to the domain one after the other until
// none is left, then ends. When ctx ends first, what is left stays
// unacknowledged.
func (c *Conn) drain(ctx context.Context, channel string, l *lane) {
	b := &c.inbox
	for {
		b.mu.Lock()
		e := l.events[0]
		b.mu.Unlock()
		if !c.store(ctx, e) {
			return
		}
		b.mu.Lock()
		l.events = l.events[1:]
		if b.byKey[e.key] == e {
			delete(b.byKey, e.key)
		}
		b.n--
		acks := e.acks
		e.acks = nil
		last := len(l.events) == 0
		if last {
			delete(b.lanes, channel)
		}
		b.mu.Unlock()
		close(e.done)
		for _, ack := range acks {
			ack()
		}
		if last {
			return
		}
	}
}

// store hands an event to the domain until it is stored, waiting longer
// after each failure. It reports false when ctx ended first.
func (c *Conn) store(ctx context.Context, e *inboxEvent) bool {
	wait := retryFirst
	for failures := 0; ; failures++ {
		select {
		case c.inbox.slots <- struct{}{}:
		case <-ctx.Done():
			return false
		}
		err := c.handleEvent(ctx, e.ev)
		<-c.inbox.slots
		if err == nil {
			if failures > 0 {
				c.log.Info("slack event stored after failures", "event", e.key, "failures", failures)
			}
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		switch bot.ErrorCode(err) {
		case bot.EINVALID, bot.ENOTFOUND, bot.EUNAUTHORIZED:
			// The domain refuses this event for good: trying again changes
			// nothing, and holding it would stop its channel.
			c.log.Error("slack event refused", "event", e.key, "err", err)
			return true
		}
		if failures == 0 || failures%10 == 0 {
			c.log.Error("slack event not stored yet, will try again", "event", e.key, "failures", failures+1, "err", err)
		}
		// Jitter spreads the channels' tries after an outage.
		if !pause.For(ctx, wait/2+rand.N(wait/2+1)) {
			return false
		}
		wait = min(2*wait, retryMax)
	}
}
