package discord

import (
	"context"
	"errors"
	"fmt"
	"time"

	dg "github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/liaison-bot/liaison/internal/pause"
)

// Discord lets several sessions of one bot token run at once, and sends
// every event (interactions included) to each: two replicas with their own
// gateway would both take every message in and both answer every click. So
// the gateway of a bot is held under a lease in the shared database. The
// holder renews it every third of its TTL and closes its gateway as soon as
// it cannot show it still holds it: lost to another owner, or not renewed
// a fifth of the TTL before it would expire, so that it is closed before
// anyone else can take it. The others try to take it every quarter of the
// TTL, and the one that does opens the gateway and catches up with what
// was said meanwhile. Every replica serves REST (Send, Find), whoever holds
// the gateway.

// contend takes part in the lease until ctx ends, holding the gateway
// while this replica holds the lease. It returns an error only for a
// gateway Discord refuses for good (a bad token, intents not allowed).
func (c *Conn) contend(ctx context.Context) error {
	ttl := c.opts.LeaseTTL
	openWait := time.Second
	unreachable := false // said once, until the database answers again
	for ctx.Err() == nil {
		start := time.Now()
		ok, err := c.acquire(ctx)
		if err == nil && unreachable {
			c.log.Info("gateway lease: the database answers again")
		}
		switch {
		case err != nil && ctx.Err() == nil:
			if !unreachable {
				c.log.Warn("gateway lease: cannot reach the database", "err", err)
			}
			unreachable = true
		case err == nil && !ok:
			unreachable = false
			c.setRole(roleStandby)
		case ok:
			unreachable = false
			c.log.Info("gateway lease acquired", "lease", c.lease, "owner", c.holder)
			err := c.hold(ctx, start.Add(ttl))
			if fatalGateway(err) {
				return fmt.Errorf("discord %s: open gateway: %w", c.name, err)
			}
			if err != nil {
				// Let another replica try while this one waits.
				c.release(ctx)
				if !pause.For(ctx, openWait) {
					return nil
				}
				openWait = min(openWait*2, time.Minute)
				continue
			}
			openWait = time.Second
		}
		if !pause.For(ctx, ttl/4) {
			return nil
		}
	}
	return nil
}

// acquire takes or renews the lease, giving up before the call could
// outlast its purpose.
func (c *Conn) acquire(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.LeaseTTL/2)
	defer cancel()
	return c.d.AcquireLease(ctx, c.lease, c.holder, c.opts.LeaseTTL)
}

func (c *Conn) release(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.LeaseTTL/2)
	defer cancel()
	if err := c.d.ReleaseLease(ctx, c.lease, c.holder); err != nil {
		c.log.Warn("release the gateway lease", "err", err)
	}
}

// hold opens the gateway and keeps the lease, which this replica holds
// until validUntil, renewing it. It returns nil, with the gateway closed,
// once ctx ends or the lease is lost, and the error of a gateway that
// would not open.
func (c *Conn) hold(ctx context.Context, validUntil time.Time) error {
	ttl := c.opts.LeaseTTL
	margin := ttl / 5
	hctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		c.closeGateway()
	}()
	c.mu.Lock()
	c.holding = true
	c.mu.Unlock()
	c.setRole(roleHolder)
	if err := c.openGateway(); err != nil {
		c.log.Error("open the gateway", "err", err)
		return err
	}
	// Cards, buttons and publishing work without /liaison: registering it
	// goes on in the background until it succeeds or the lease is lost.
	c.spawn(hctx, c.register)
	next := ttl / 3
	for {
		t := time.NewTimer(min(next, time.Until(validUntil.Add(-margin))))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		if !time.Now().Before(validUntil.Add(-margin)) {
			c.log.Warn("gateway lease lost: not renewed in time; closing the gateway", "lease", c.lease)
			return nil
		}
		start := time.Now()
		rctx, rcancel := context.WithDeadline(ctx, validUntil.Add(-margin))
		ok, err := c.d.AcquireLease(rctx, c.lease, c.holder, ttl)
		rcancel()
		switch {
		case err == nil && ok:
			validUntil, next = start.Add(ttl), ttl/3
		case err == nil:
			c.log.Warn("gateway lease lost to another replica; closing the gateway", "lease", c.lease)
			return nil
		case ctx.Err() != nil:
			return nil
		default:
			c.log.Warn("gateway lease: renewal failed", "err", err, "valid_for", time.Until(validUntil).Round(time.Millisecond))
			next = ttl / 10
		}
	}
}

// openGateway connects the session, as the lease holder.
func (c *Conn) openGateway() error {
	err := c.s.Open()
	if errors.Is(err, dg.ErrWSAlreadyOpen) {
		err = nil // discordgo's reconnect loop was quicker
	}
	c.mu.Lock()
	c.openErr = err
	if err == nil {
		c.open = true
	}
	c.mu.Unlock()
	if err == nil {
		c.log.Info("discord gateway open")
	}
	return err
}

// closeGateway stops handling the gateway's events and closes it.
func (c *Conn) closeGateway() {
	c.mu.Lock()
	was, wasOpen := c.holding, c.open
	c.holding, c.open, c.registered = false, false, false
	c.mu.Unlock()
	if !was {
		return
	}
	if err := c.s.Close(); err != nil {
		c.log.Warn("close the gateway", "err", err)
	}
	if wasOpen {
		c.metrics.ConnState(c.name, false)
	}
	c.log.Info("discord gateway closed")
}

// setRole records where this replica stands, and says so when it changes.
func (c *Conn) setRole(r role) {
	c.mu.Lock()
	was := c.role
	c.role = r
	c.mu.Unlock()
	if r == roleStandby && was != roleStandby {
		c.log.Info("standby: another replica holds the gateway", "lease", c.lease)
	}
}

// fatalGateway reports whether Discord closed the gateway for a reason
// retrying cannot fix: the token, the shard or the intents.
func fatalGateway(err error) bool {
	var ce *websocket.CloseError
	if !errors.As(err, &ce) {
		return false
	}
	switch ce.Code {
	case 4004, 4010, 4011, 4012, 4013, 4014:
		return true
	}
	return false
}
