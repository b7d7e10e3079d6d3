package slack

import (
	"context"
	"fmt"
	"time"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// runSocket serves Socket Mode until ctx is cancelled. slack-go's client
// reconnects by itself when the socket drops or Slack asks it to; it gives
// up only on a token Slack refuses.
func (c *Conn) runSocket(ctx context.Context) error {
	client := socketmode.New(c.api)
	defer c.connected.Store(false)
	errc := make(chan error, 1)
	go func() { errc <- client.RunContext(ctx) }()
	for {
		select {
		case err := <-errc:
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("slack %s: socket mode: %w (check the app-level token and that Socket Mode is on)", c.name, err)
		case ev := <-client.Events:
			c.socketEvent(ctx, client, ev)
		}
	}
}

// socketEvent acknowledges an envelope and hands its work on.
//
// Message events are acknowledged once the domain has stored them, or after
// ackWithin at the latest: a crash before that makes Slack send them again
// (the domain dedupes), so none is lost; a failure leaves them unacknowledged
// for Slack to retry. Clicks and commands are acknowledged at once and worked
// on after; a modal submission is answered with its outcome, which Slack
// shows in the modal.
func (c *Conn) socketEvent(ctx context.Context, client *socketmode.Client, ev socketmode.Event) {
	ack := func(payload any) {
		if ev.Request == nil || ev.Request.EnvelopeID == "" {
			return
		}
		if err := client.AckCtx(ctx, ev.Request.EnvelopeID, payload); err != nil && ctx.Err() == nil {
			c.log.Warn("socket mode ack failed", "envelope", ev.Request.EnvelopeID, "err", err)
		}
	}
	switch ev.Type {
	case socketmode.EventTypeConnecting:
		c.connected.Store(false)
		c.log.Debug("socket mode connecting")
	case socketmode.EventTypeConnected:
		c.connected.Store(true)
		c.log.Info("socket mode connected")
	case socketmode.EventTypeDisconnect:
		c.connected.Store(false) // Slack asks for a new socket; the client dials it
		ack(nil)
	case socketmode.EventTypeConnectionError:
		c.connected.Store(false)
		if ctx.Err() == nil { // closing the socket on the way out is no error
			c.log.Warn("socket mode", "event", ev.Type, "err", ev.Data)
		}
	case socketmode.EventTypeIncomingError, socketmode.EventTypeErrorBadMessage, socketmode.EventTypeErrorWriteFailed:
		if ctx.Err() == nil {
			c.log.Warn("socket mode", "event", ev.Type, "err", ev.Data)
		}
	case socketmode.EventTypeInvalidAuth:
		c.connected.Store(false)
		c.log.Error("socket mode: Slack refused the app-level token")

	case socketmode.EventTypeEventsAPI:
		api, ok := ev.Data.(slackevents.EventsAPIEvent)
		if !ok || api.Type != slackevents.CallbackEvent {
			ack(nil)
			return
		}
		if c.foreign(api.TeamID) {
			return // unacknowledged: Slack may deliver it again on the right socket
		}
		c.take(ctx, api, func() { ack(nil) })

	case socketmode.EventTypeInteractive:
		cb, ok := ev.Data.(slackapi.InteractionCallback)
		if !ok || c.foreign(cb.Team.ID) {
			ack(nil)
			return
		}
		if cb.Type == slackapi.InteractionTypeViewSubmission {
			c.goWork(func(ctx context.Context) {
				resp, then := c.viewSubmission(ctx, cb)
				if resp != nil {
					ack(resp)
				} else {
					ack(nil)
				}
				if then != nil {
					then(ctx)
				}
			})
			return
		}
		ack(nil)
		c.goWork(func(ctx context.Context) { c.interaction(ctx, cb) })

	case socketmode.EventTypeSlashCommand:
		ack(nil)
		if cmd, ok := ev.Data.(slackapi.SlashCommand); ok && !c.foreign(cmd.TeamID) {
			c.goWork(func(ctx context.Context) { c.slashCommand(ctx, cmd) })
		}

	default:
		ack(nil) // hello and the like carry no envelope; anything else is not ours
	}
}

// take queues a message event for the domain and calls ack once it is
// stored, or once ackWithin has passed, but not when storing it failed.
func (c *Conn) take(ctx context.Context, ev slackevents.EventsAPIEvent, ack func()) {
	result := make(chan bool, 1)
	if !c.enqueue(ctx, ev, func(ok bool) { result <- ok }) {
		return
	}
	c.goWork(func(ctx context.Context) {
		t := time.NewTimer(ackWithin)
		defer t.Stop()
		select {
		case ok := <-result:
			if ok {
				ack()
			}
		case <-t.C:
			ack()
		case <-ctx.Done():
		}
	})
}
