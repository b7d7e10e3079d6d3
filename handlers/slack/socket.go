package slack

import (
	"context"
	"fmt"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// runSocket serves Socket Mode until ctx is cancelled. slack-go's client
// reconnects by itself when the socket drops or Slack asks it to; it gives
// up only on a token Slack refuses.
func (c *Conn) runSocket(ctx context.Context) error {
	client := socketmode.New(c.api)
	defer c.down()
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

// up records a new socket: a reconnection unless it is the first.
func (c *Conn) up() {
	c.connected.Store(true)
	c.sockets++
	if c.sockets > 1 {
		c.metrics.Reconnect(c.name)
	}
	c.metrics.ConnState(c.name, true)
}

// down records that the socket is down, once.
func (c *Conn) down() {
	if c.connected.Swap(false) {
		c.metrics.ConnState(c.name, false)
	}
}

// socketEvent acknowledges an envelope once its work is done, and hands on
// what follows.
//
// A message event is acknowledged once the domain has stored it, however
// long that takes (see inbox.go): until then Slack holds it and sends it
// again, so neither a crash nor a database outage loses it. A click, a
// command or a form is acknowledged once the domain has committed its effect
// (Interact returned), within Slack's 3 s; what follows the commit — opening
// a form, telling the person — comes after the ack. An interaction the domain
// did not finish in time is not acknowledged, and its effect was rolled back:
// Slack tells the person it failed, and they may try again.
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
		c.down()
		c.log.Debug("socket mode connecting")
	case socketmode.EventTypeConnected:
		c.up()
		c.log.Info("socket mode connected")
	case socketmode.EventTypeDisconnect:
		c.down() // Slack asks for a new socket; the client dials it
		ack(nil)
	case socketmode.EventTypeConnectionError:
		c.down()
		if ctx.Err() == nil { // closing the socket on the way out is no error
			c.log.Warn("socket mode", "event", ev.Type, "err", ev.Data)
		}
	case socketmode.EventTypeIncomingError, socketmode.EventTypeErrorBadMessage, socketmode.EventTypeErrorWriteFailed:
		if ctx.Err() == nil {
			c.log.Warn("socket mode", "event", ev.Type, "err", ev.Data)
		}
	case socketmode.EventTypeInvalidAuth:
		c.down()
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
		c.take(api, func() { ack(nil) }) // nil: not taken, left to Slack's retry

	case socketmode.EventTypeInteractive:
		cb, ok := ev.Data.(slackapi.InteractionCallback)
		if !ok || c.foreign(cb.Team.ID) {
			ack(nil)
			return
		}
		c.goWork(func(ctx context.Context) { c.settle(ctx, c.interactive(ctx, cb), ack) })

	case socketmode.EventTypeSlashCommand:
		cmd, ok := ev.Data.(slackapi.SlashCommand)
		if !ok || c.foreign(cmd.TeamID) {
			ack(nil)
			return
		}
		c.goWork(func(ctx context.Context) { c.settle(ctx, c.slashCommand(ctx, cmd), ack) })

	default:
		ack(nil) // hello and the like carry no envelope; anything else is not ours
	}
}

// settle acknowledges a finished interaction with its answer, then does
// what follows it.
func (c *Conn) settle(ctx context.Context, o outcome, ack func(payload any)) {
	if !o.done {
		return
	}
	ack(o.answer)
	if o.then != nil {
		o.then(ctx)
	}
}
