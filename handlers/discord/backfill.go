package discord

import (
	"context"
	"slices"
	"strconv"
	"time"

	dg "github.com/bwmarrin/discordgo"
)

// A resumed session replays what it missed; a session Discord refused to
// resume (Invalid Session, then a new READY) does not, so the adapter lists
// what was said in the watched channels meanwhile and takes it in like live
// events. The domain dedupes on message keys, so a message seen twice
// changes nothing.

const (
	// backfillMargin reaches back before the last event seen, for events
	// in flight when the session broke.
	backfillMargin = time.Minute
	// backfillPages bounds the listing per channel (100 messages a page).
	backfillPages = 10
)

// touch records that the session delivered an event now.
func (c *Conn) touch() {
	c.mu.Lock()
	c.lastEvent = time.Now()
	c.mu.Unlock()
}

// backfillSince reports, at a READY, whether it starts a new session after
// an earlier one delivered events, and from when to list.
func (c *Conn) backfillSince() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.readies++
	if c.readies < 2 || c.lastEvent.IsZero() {
		return time.Time{}, false
	}
	return c.lastEvent.Add(-backfillMargin), true
}

// backfill takes in the messages of watched channels, and of their active
// threads, posted since t.
func (c *Conn) backfill(ctx context.Context, since time.Time) {
	c.log.Info("backfilling after a new gateway session", "since", since)
	floor := snowflakeAt(since)
	c.mu.Lock()
	guilds := []string{c.opts.GuildID}
	if c.opts.GuildID == "" {
		guilds = slices.Clone(c.guilds)
	}
	var channels []chanInfo
	for _, ci := range c.channels {
		if !ci.isThread() && ci.Type != dg.ChannelTypeGuildForum && slices.Contains(guilds, ci.GuildID) && c.d.Watches(c.name, ci.ID) {
			channels = append(channels, ci)
		}
	}
	c.mu.Unlock()
	slices.SortFunc(channels, func(a, b chanInfo) int { return snowflakeCmp(a.ID, b.ID) })
	for _, ci := range channels {
		c.backfillChannel(ctx, ci.ID, ci.GuildID, floor)
	}
	for _, g := range guilds {
		tl, err := c.s.GuildThreadsActive(g, dg.WithContext(ctx))
		if err != nil {
			c.log.Error("backfill: list active threads", "guild", g, "err", err)
			continue
		}
		threads := tl.Threads
		slices.SortFunc(threads, func(a, b *dg.Channel) int { return snowflakeCmp(a.ID, b.ID) })
		for _, th := range threads {
			if th.GuildID == "" {
				th.GuildID = g
			}
			c.remember(th)
			if !c.d.Watches(c.name, th.ParentID) || (snowflakeCmp(th.ID, floor) < 0 && snowflakeCmp(th.LastMessageID, floor) <= 0) {
				continue
			}
			c.backfillChannel(ctx, th.ID, g, floor)
		}
	}
}

// backfillChannel takes in a channel's messages after the snowflake after,
// oldest first.
func (c *Conn) backfillChannel(ctx context.Context, channelID, guildID, after string) {
	for page := 0; page < backfillPages && ctx.Err() == nil; page++ {
		ms, err := c.s.ChannelMessages(channelID, 100, "", after, "", dg.WithContext(ctx))
		if err != nil {
			c.log.Error("backfill: list messages", "channel", channelID, "err", err)
			return
		}
		slices.SortFunc(ms, func(a, b *dg.Message) int { return snowflakeCmp(a.ID, b.ID) })
		for _, m := range ms {
			if m.GuildID == "" {
				m.GuildID = guildID // REST messages omit it
			}
			c.onMessage(ctx, m)
			after = m.ID
		}
		if len(ms) < 100 {
			return
		}
	}
}

func snowflakeCmp(a, b string) int {
	x, _ := strconv.ParseUint(a, 10, 64)
	y, _ := strconv.ParseUint(b, 10, 64)
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}
