package discord

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	dg "github.com/bwmarrin/discordgo"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/internal/pause"
)

// Nothing said in a watched channel may be lost: not while no replica holds
// the gateway (Liaison down, or between a holder's end and a standby's
// takeover), not in a session Discord would not resume, not while the
// database fails, not when the intake queue overflows. So the adapter
// catches up: it reads a channel from the last message stored from it, but
// never further back than Options.Backfill, oldest first, and takes each
// message in like a live event. The domain dedupes on message keys, so a
// message seen twice changes nothing.
//
// It catches up with every watched channel, their active threads and the
// recently archived threads of watched channels and forums at each new or
// resumed gateway session; and with each channel that missed a message (the
// domain failed on it, or the queue was full) once the domain works again.
// It catches up before it takes the next live event, so that a channel's
// messages are taken in order; while a channel that missed a message is
// still to be caught up with, its live messages wait for it, and while the
// domain fails or every channel is to be caught up with, every live
// message does. Edits and deletions that arrive
// while the domain fails are lost: a catch-up takes in messages, not their
// history.

// catchUp is what is left to catch up with. Its size is bounded: beyond
// maxBehind channels it falls back to catching up with all of them.
type catchUp struct {
	all       bool              // every watched channel and thread
	floor     string            // with all: the oldest message missed, if any
	channels  map[string]string // channel → the oldest message it missed ("": none known)
	failing   bool              // the domain failed: live messages wait for a catch-up
	notBefore time.Time         // the next try, after a failure
	wait      time.Duration     // the wait after the next failure
}

const (
	maxBehind      = 1000
	catchUpWaitMin = 500 * time.Millisecond
	catchUpWaitMax = 30 * time.Second
	// archivedPages bounds the listing of a channel's archived threads
	// (100 a page), newest archived first.
	archivedPages = 10
)

// behindAll asks for a catch-up with every watched channel.
func (c *Conn) behindAll() {
	c.mu.Lock()
	c.behind.all = true
	c.mu.Unlock()
	c.wake()
}

// missed records that channel missed message id (or something unknown,
// when id is ""): it is caught up with from before id.
func (c *Conn) missed(channel, id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := &c.behind
	if b.all {
		b.floor = older(b.floor, id)
		return
	}
	if b.channels == nil {
		b.channels = map[string]string{}
	}
	prev, ok := b.channels[channel]
	if !ok {
		prev = id
	}
	b.channels[channel] = older(prev, id)
	if len(b.channels) > maxBehind {
		b.all = true
		for _, f := range b.channels {
			b.floor = older(b.floor, f)
		}
		b.channels = nil
	}
	c.wake()
}

// older is the older of two message ids; "" (none known) gives way.
func older(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	case snowflakeCmp(a, b) <= 0:
		return a
	}
	return b
}

func (c *Conn) wake() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// waits reports whether a live message of channel (whose parent is parent,
// for a thread) must wait for a catch-up. While every channel is to be
// caught up with, every live message waits, even when the catch-up is put
// off: taken first, it would become the last message stored, and the
// catch-up, which reads after that, would never read back what was said
// before it.
func (c *Conn) waits(channel, parent string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := &c.behind
	if b.failing || b.all {
		return true
	}
	_, ok := b.channels[channel]
	_, pok := b.channels[parent]
	return ok || (parent != "" && pok)
}

// failed records that the domain failed: live messages wait, and a catch-up
// is tried after a growing wait.
func (c *Conn) failed(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := &c.behind
	if !b.failing {
		c.log.Error("the database is failing: messages will be caught up with once it works", "err", err)
	}
	b.failing = true
	b.backOff()
}

// backOff puts the next catch-up off, longer each time. Callers hold c.mu.
func (b *catchUp) backOff() {
	if b.wait < catchUpWaitMin {
		b.wait = catchUpWaitMin
	}
	b.notBefore = time.Now().Add(b.wait)
	b.wait = min(b.wait*2, catchUpWaitMax)
}

// due reports whether there is something to catch up with now, or else how
// long until there is (0: nothing to wait for).
func (c *Conn) due() (bool, time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := &c.behind
	if !c.holding || (!b.all && len(b.channels) == 0) {
		return false, 0
	}
	if d := time.Until(b.notBefore); d > 0 {
		return false, d
	}
	return true, 0
}

// intakeLoop takes in live events one at a time, and catches up whenever
// it is behind: first, so that a channel's messages are taken in order.
func (c *Conn) intakeLoop(ctx context.Context, queue <-chan func(context.Context)) {
	for {
		due, wait := c.due()
		if due {
			c.catchUp(ctx)
			continue
		}
		var timer *time.Timer
		var fire <-chan time.Time
		if wait > 0 {
			timer = time.NewTimer(wait)
			fire = timer.C
		}
		select {
		case fn := <-queue:
			fn(ctx)
		case <-c.kick:
		case <-fire:
		case <-ctx.Done():
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// target is a channel or thread to catch up with.
type target struct {
	id, guild string
	floor     string // the oldest message it missed, if any
	last      string // its last message id as the listing showed it, if known
	thread    bool
}

// domainError is the domain failing while catching up with a channel: it
// is to be caught up with again from at.
type domainError struct {
	at  string
	err error
}

func (e *domainError) Error() string { return e.err.Error() }
func (e *domainError) Unwrap() error { return e.err }

// catchUp takes in what the channels it is behind on said since the last
// message stored from each. What it cannot do now (the domain fails,
// Discord answers an error that may pass) is left for the next try.
func (c *Conn) catchUp(ctx context.Context) {
	c.mu.Lock()
	b := c.behind
	c.behind.all, c.behind.floor, c.behind.channels = false, "", nil
	c.mu.Unlock()
	window := time.Now().Add(-c.opts.Backfill)
	var targets []target
	if b.all {
		all, err := c.watched(ctx, window)
		if err != nil {
			if ctx.Err() == nil {
				c.log.Error("catch up: list the watched channels", "err", err)
			}
			c.putBack(true, b.floor, b.channels, nil)
			c.retryLater()
			return
		}
		for _, t := range all {
			t.floor = b.floor
			targets = append(targets, t)
		}
	}
	for id, floor := range b.channels {
		if i := slices.IndexFunc(targets, func(t target) bool { return t.id == id }); i >= 0 {
			targets[i].floor = older(targets[i].floor, floor)
			continue
		}
		t := target{id: id, floor: floor, guild: c.opts.GuildID}
		if ci, err := c.channel(ctx, id); err == nil {
			t.guild, t.thread = ci.GuildID, ci.isThread()
		}
		targets = append(targets, t)
	}
	// Channels before threads, each oldest first: a thread's item may
	// start in its parent channel.
	slices.SortFunc(targets, func(a, b target) int {
		if a.thread != b.thread {
			if a.thread {
				return 1
			}
			return -1
		}
		return snowflakeCmp(a.id, b.id)
	})
	again := false
	members := map[string]*dg.Member{}
	for i, t := range targets {
		if ctx.Err() != nil || !c.holds() {
			c.putBackTargets(targets[i:])
			return
		}
		err := c.catchUpChannel(ctx, t, window, members)
		var de *domainError
		switch {
		case err == nil:
		case ctx.Err() != nil:
			c.putBackTargets(targets[i:])
			return
		case errors.As(err, &de):
			t.floor = older(t.floor, de.at)
			c.putBackTargets(append([]target{t}, targets[i+1:]...))
			c.failed(err)
			return
		case isPermanent(err):
			// Missing access, a deleted channel: waiting will not help.
			c.log.Error("catch up: cannot read the channel", "channel", t.id, "err", err)
		default:
			c.log.Warn("catch up: will try again", "channel", t.id, "err", err)
			c.putBackTargets([]target{t})
			again = true
		}
	}
	c.mu.Lock()
	recovered := c.behind.failing
	c.behind.failing = false
	if !again {
		c.behind.wait, c.behind.notBefore = 0, time.Time{}
	}
	c.mu.Unlock()
	if recovered {
		c.log.Info("the database works again: caught up")
	}
	if again {
		c.retryLater()
	}
}

// putBack returns work a catch-up could not do to what is left.
func (c *Conn) putBack(all bool, floor string, channels map[string]string, targets []target) {
	c.mu.Lock()
	if all {
		c.behind.all = true
		c.behind.floor = older(c.behind.floor, floor)
	}
	c.mu.Unlock()
	for id, f := range channels {
		c.missed(id, f)
	}
	for _, t := range targets {
		c.missed(t.id, t.floor)
	}
}

func (c *Conn) putBackTargets(targets []target) {
	c.putBack(false, "", nil, targets)
}

// retryLater waits before the next catch-up, longer each time.
func (c *Conn) retryLater() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.behind.backOff()
}

// isPermanent reports whether Discord refused a call for a reason time
// will not change.
func isPermanent(err error) bool {
	var se *bot.SendError
	return errors.As(classify(err), &se) && se.Kind == bot.PermanentKind
}

// watched lists what to catch up with after a new session: the watched
// channels of the guild(s), the active threads whose parent is watched,
// and the threads of watched channels and forums archived since window.
func (c *Conn) watched(ctx context.Context, window time.Time) ([]target, error) {
	c.mu.Lock()
	guilds := []string{c.opts.GuildID}
	if c.opts.GuildID == "" {
		guilds = slices.Clone(c.guilds)
	}
	c.mu.Unlock()
	floor := snowflakeAt(window)
	var out []target
	add := func(t target) {
		if !slices.ContainsFunc(out, func(o target) bool { return o.id == t.id }) {
			out = append(out, t)
		}
	}
	recent := func(th *dg.Channel) bool {
		return snowflakeCmp(th.ID, floor) > 0 || snowflakeCmp(th.LastMessageID, floor) > 0
	}
	for _, g := range guilds {
		chans, err := c.s.GuildChannels(g, dg.WithContext(ctx))
		if err != nil {
			return nil, fmt.Errorf("list channels of guild %s: %w", g, err)
		}
		var parents []*dg.Channel
		for _, ch := range chans {
			if ch.GuildID == "" {
				ch.GuildID = g
			}
			c.remember(ch)
			if !c.d.Watches(c.name, ch.ID) {
				continue
			}
			switch ch.Type {
			case dg.ChannelTypeGuildText, dg.ChannelTypeGuildNews:
				add(target{id: ch.ID, guild: g, last: ch.LastMessageID})
				parents = append(parents, ch)
			case dg.ChannelTypeGuildForum, dg.ChannelTypeGuildMedia:
				parents = append(parents, ch) // its posts are threads
			}
		}
		active, err := c.s.GuildThreadsActive(g, dg.WithContext(ctx))
		if err != nil && !isPermanent(err) {
			return nil, fmt.Errorf("list active threads of guild %s: %w", g, err)
		} else if err != nil {
			c.log.Error("catch up: cannot list the active threads", "guild", g, "err", err)
			active = &dg.ThreadsList{}
		}
		for _, th := range active.Threads {
			if th.GuildID == "" {
				th.GuildID = g
			}
			c.remember(th)
			if c.d.Watches(c.name, th.ParentID) && recent(th) {
				add(target{id: th.ID, guild: g, last: th.LastMessageID, thread: true})
			}
		}
		for _, p := range parents {
			ths, err := c.archived(ctx, p.ID, window)
			if err != nil && !isPermanent(err) {
				return nil, err
			} else if err != nil {
				c.log.Error("catch up: cannot list the archived threads", "channel", p.ID, "err", err)
			}
			for _, th := range ths {
				if th.GuildID == "" {
					th.GuildID = g
				}
				c.remember(th)
				if recent(th) {
					add(target{id: th.ID, guild: g, last: th.LastMessageID, thread: true})
				}
			}
		}
	}
	return out, nil
}

// archived lists the public threads of a channel or forum archived since
// window, newest archived first.
func (c *Conn) archived(ctx context.Context, channelID string, window time.Time) ([]*dg.Channel, error) {
	var out []*dg.Channel
	var before *time.Time
	for page := 0; page < archivedPages; page++ {
		tl, err := c.s.ThreadsArchived(channelID, before, 100, dg.WithContext(ctx))
		if err != nil {
			return nil, fmt.Errorf("list archived threads of channel %s: %w", channelID, err)
		}
		var oldest *time.Time
		for _, th := range tl.Threads {
			if th.ThreadMetadata == nil {
				continue
			}
			at := th.ThreadMetadata.ArchiveTimestamp
			if at.Before(window) {
				return out, nil
			}
			if !slices.ContainsFunc(out, func(o *dg.Channel) bool { return o.ID == th.ID }) {
				out = append(out, th)
			}
			if oldest == nil || at.Before(*oldest) {
				oldest = &at
			}
		}
		if !tl.HasMore || oldest == nil || (before != nil && !oldest.Before(*before)) {
			return out, nil
		}
		before = oldest
	}
	c.log.Warn("catch up: more archived threads than listed", "channel", channelID, "listed", len(out))
	return out, nil
}

// catchUpChannel takes in, oldest first, what a channel said after the
// last message stored from it (or before floor, if it missed that one),
// but not before window. members caches the guild members of the authors,
// by user id.
func (c *Conn) catchUpChannel(ctx context.Context, t target, window time.Time, members map[string]*dg.Member) error {
	floor := snowflakeAt(window)
	if t.floor == "" && t.last != "" && snowflakeCmp(t.last, floor) <= 0 {
		return nil // nothing said since window
	}
	after := floor
	last, err := c.d.LastMessage(ctx, c.name, t.id)
	switch {
	case err == nil:
		if snowflakeCmp(last.Key.ID, after) > 0 {
			after = last.Key.ID
		}
	case errors.Is(err, bot.ErrNotFound):
	default:
		return &domainError{at: t.floor, err: fmt.Errorf("last message of channel %s: %w", t.id, err)}
	}
	if t.floor != "" {
		if f := previous(t.floor); snowflakeCmp(f, after) < 0 {
			after = f
			if snowflakeCmp(after, floor) < 0 {
				after = floor
			}
		}
	}
	if t.floor == "" && t.last != "" && snowflakeCmp(t.last, after) <= 0 {
		return nil // the listing shows nothing newer than what is stored
	}
	listed, taken := 0, 0
	for ctx.Err() == nil {
		ms, err := c.listAfter(ctx, t.id, after)
		if err != nil {
			return err
		}
		slices.SortFunc(ms, func(a, b *dg.Message) int { return snowflakeCmp(a.ID, b.ID) })
		for _, m := range ms {
			if m.GuildID == "" {
				m.GuildID = t.guild // REST messages omit it
			}
			if m.Member == nil {
				m.Member = c.member(ctx, m, members)
			}
			stored, err := c.take(ctx, m, false)
			if err != nil {
				return &domainError{at: m.ID, err: err}
			}
			listed++
			if stored {
				taken++
			}
			after = m.ID
		}
		if len(ms) < 100 {
			break
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.log.Info("backfill", "channel", t.id, "listed", listed, "taken_in", taken)
	return nil
}

// member looks up the guild member who wrote m, which the gateway's
// MESSAGE_CREATE carries and a listing does not: the server nickname is the
// name people know them by. nil when there is none to find (a bot, a
// webhook, someone who left).
func (c *Conn) member(ctx context.Context, m *dg.Message, cache map[string]*dg.Member) *dg.Member {
	if m.Author == nil || m.Author.Bot || m.WebhookID != "" || m.GuildID == "" {
		return nil
	}
	if mb, ok := cache[m.Author.ID]; ok {
		return mb
	}
	mb, err := c.s.GuildMember(m.GuildID, m.Author.ID, dg.WithContext(ctx))
	if err != nil {
		c.log.Debug("catch up: member unknown", "user", m.Author.ID, "err", err)
		mb = nil
	}
	cache[m.Author.ID] = mb
	return mb
}

// listAfter lists up to 100 messages of a channel after a message id,
// waiting out rate limits.
func (c *Conn) listAfter(ctx context.Context, channelID, after string) ([]*dg.Message, error) {
	for attempt := 0; ; attempt++ {
		ms, err := c.s.ChannelMessages(channelID, 100, "", after, "", dg.WithContext(ctx))
		if err == nil {
			return ms, nil
		}
		var se *bot.SendError
		if !errors.As(classify(err), &se) || se.Kind != bot.RetryAfterKind || attempt >= 5 {
			return nil, fmt.Errorf("list messages of channel %s: %w", channelID, err)
		}
		if !pause.For(ctx, se.After) {
			return nil, ctx.Err()
		}
	}
}

// previous is the snowflake just before id.
func previous(id string) string {
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil || n == 0 {
		return id
	}
	return strconv.FormatUint(n-1, 10)
}

func snowflakeCmp(a, b string) int {
	x, _ := strconv.ParseUint(a, 10, 64)
	y, _ := strconv.ParseUint(b, 10, 64)
	return cmp.Compare(x, y)
}
