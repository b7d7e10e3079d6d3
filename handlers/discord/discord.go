// Package discord is Liaison's Discord adapter: it turns gateway events and
// interactions into bot.Service calls, and outbox operations (bot.Op) into
// Discord REST calls through discordgo.
//
// One Conn is one bot login on one guild. The same Conn serves both roles a
// guild can play: public (watched channels, forum posts, replies published
// through a channel webhook under the staff member's name) and internal
// (cards with buttons, a thread per card, modals, /liaison commands).
// No business rule lives here: the adapter translates, the domain decides.
package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	dg "github.com/bwmarrin/discordgo"

	"github.com/liaison-bot/liaison/bot"
)

// Options configure a connection.
type Options struct {
	Name          string // the connection's name in the config (bot.Op.Conn, bot.Actor.Conn, bot.Incoming.Conn)
	Token         string // bot token without "Bot "
	GuildID       string
	ApplicationID string            // optional; learnt from READY otherwise
	HTTPClient    *http.Client      // optional: REST and GET /gateway go through it
	Configure     func(*dg.Session) // optional: applied to the session last (tests point it at a fake)
	Log           *slog.Logger
}

// Conn is one Discord bot connection. Send and Find may be called from any
// goroutine, before or during Run.
type Conn struct {
	name string
	opts Options
	svc  *bot.Service
	s    *dg.Session
	log  *slog.Logger

	mu        sync.Mutex
	botID     string
	appID     string
	guilds    []string               // guilds READY listed
	channels  map[string]chanInfo    // channel and thread metadata, from events or REST
	webhooks  map[string]*dg.Webhook // Liaison's webhook per (non-thread) channel
	running   bool                   // Run is accepting work from event handlers
	wg        sync.WaitGroup         // Run's goroutines: the intake loop and interaction handlers
	readies   int                    // READY events seen: a second one is a new session
	lastEvent time.Time              // when the gateway last delivered a message event
}

var _ bot.Platform = (*Conn)(nil)

// chanInfo is what the adapter needs to know about a channel.
type chanInfo struct {
	ID, GuildID, ParentID, Name string
	Type                        dg.ChannelType
}

func (ci chanInfo) isThread() bool {
	switch ci.Type {
	case dg.ChannelTypeGuildPublicThread, dg.ChannelTypeGuildPrivateThread, dg.ChannelTypeGuildNewsThread:
		return true
	}
	return false
}

// New builds a connection; nothing touches the network until Run, Send or Find.
func New(opts Options, svc *bot.Service) (*Conn, error) {
	if opts.Name == "" {
		return nil, errors.New("discord: Options.Name is empty")
	}
	if opts.Token == "" {
		return nil, fmt.Errorf("discord %s: Options.Token is empty", opts.Name)
	}
	if svc == nil {
		return nil, fmt.Errorf("discord %s: no bot.Service", opts.Name)
	}
	token := strings.TrimPrefix(strings.TrimSpace(opts.Token), "Bot ")
	s, err := dg.New("Bot " + token)
	if err != nil {
		return nil, fmt.Errorf("discord %s: %w", opts.Name, err)
	}
	// The outbox owns retries: a 429 must come back to it as RetryAfter, and
	// a 502 after a POST may have taken effect, so it is reconciled rather
	// than blindly repeated.
	s.ShouldRetryOnRateLimit = false
	s.MaxRestRetries = 0
	// Handlers only queue work (see Run), so running them on the gateway's
	// goroutine keeps events in order without blocking it for long.
	s.SyncEvents = true
	s.LogLevel = dg.LogError
	s.Identify.Intents = dg.IntentsGuilds | dg.IntentsGuildMessages | dg.IntentMessageContent
	if opts.HTTPClient != nil {
		s.Client = opts.HTTPClient
	}
	if opts.Configure != nil {
		opts.Configure(s)
	}
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	c := &Conn{
		name: opts.Name, opts: opts, svc: svc, s: s,
		log:      log.With("conn", opts.Name, "platform", bot.KindDiscord),
		appID:    opts.ApplicationID,
		channels: map[string]chanInfo{},
		webhooks: map[string]*dg.Webhook{},
	}
	// discordgo's reconnect loop, if it was running when Run closed the
	// session, opens it again; close it once more, off the gateway's
	// goroutine (Open holds the session's lock while it emits Connect).
	s.AddHandler(func(s *dg.Session, _ *dg.Connect) {
		c.mu.Lock()
		stopped := !c.running
		c.mu.Unlock()
		if stopped {
			go func() { _ = s.Close() }()
		}
	})
	return c, nil
}

// Kind is bot.KindDiscord.
func (c *Conn) Kind() string { return bot.KindDiscord }

// Capabilities: webhooks carry a person's name and avatar.
func (c *Conn) Capabilities() bot.Capabilities { return bot.Capabilities{CustomIdentity: true} }

// Run opens the gateway, registers /liaison in the guild(s), handles events
// until ctx ends, then closes the gateway and waits for its own goroutines.
func (c *Conn) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Message events are handled one at a time, in gateway order: a forum
	// post must be taken in before the follow-ups in its thread.
	queue := make(chan func(context.Context), 256)
	c.mu.Lock()
	if c.running {
		c.mu.Unlock()
		return fmt.Errorf("discord %s: already running", c.name)
	}
	c.running = true
	c.wg.Add(1)
	c.mu.Unlock()
	go func() {
		defer c.wg.Done()
		for {
			select {
			case fn := <-queue:
				fn(ctx)
			case <-ctx.Done():
				return
			}
		}
	}()
	enqueue := func(fn func(context.Context)) {
		select {
		case queue <- fn:
		case <-ctx.Done():
		}
	}
	removers := c.addHandlers(ctx, enqueue)
	defer func() {
		for _, r := range removers {
			r()
		}
	}()
	// stop refuses new work, closes the gateway and waits for the work
	// under way, which ends with ctx.
	stop := func() error {
		cancel()
		c.mu.Lock()
		c.running = false
		c.mu.Unlock()
		err := c.s.Close()
		c.wg.Wait()
		return err
	}
	if err := c.s.Open(); err != nil {
		_ = stop()
		return fmt.Errorf("discord %s: open gateway: %w", c.name, err)
	}
	c.log.Info("discord gateway open")
	if err := c.registerCommands(ctx); err != nil {
		// Not fatal: cards, buttons and publishing work without commands.
		c.log.Error("register /liaison", "err", err)
	}
	<-ctx.Done()
	if err := stop(); err != nil {
		c.log.Warn("close gateway", "err", err)
	}
	return nil
}

// spawn runs fn in a goroutine Run waits for, unless Run is ending.
func (c *Conn) spawn(ctx context.Context, fn func(context.Context)) {
	c.mu.Lock()
	if !c.running {
		c.mu.Unlock()
		return
	}
	c.wg.Add(1)
	c.mu.Unlock()
	go func() {
		defer c.wg.Done()
		fn(ctx)
	}()
}

func (c *Conn) addHandlers(ctx context.Context, enqueue func(func(context.Context))) []func() {
	return []func(){
		c.s.AddHandler(func(_ *dg.Session, r *dg.Ready) {
			c.onReady(r)
			if since, ok := c.backfillSince(); ok {
				enqueue(func(ctx context.Context) { c.backfill(ctx, since) })
			}
		}),
		c.s.AddHandler(func(_ *dg.Session, g *dg.GuildCreate) { c.onGuild(g.Guild) }),
		c.s.AddHandler(func(_ *dg.Session, e *dg.ChannelCreate) { c.remember(e.Channel) }),
		c.s.AddHandler(func(_ *dg.Session, e *dg.ChannelUpdate) { c.remember(e.Channel) }),
		c.s.AddHandler(func(_ *dg.Session, e *dg.ThreadCreate) { c.remember(e.Channel) }),
		c.s.AddHandler(func(_ *dg.Session, e *dg.ThreadUpdate) { c.remember(e.Channel) }),
		c.s.AddHandler(func(_ *dg.Session, e *dg.MessageCreate) {
			c.touch()
			m := e.Message
			enqueue(func(ctx context.Context) { c.onMessage(ctx, m) })
		}),
		c.s.AddHandler(func(_ *dg.Session, e *dg.MessageUpdate) {
			c.touch()
			m := e.Message
			enqueue(func(ctx context.Context) { c.onEdit(ctx, m) })
		}),
		c.s.AddHandler(func(_ *dg.Session, e *dg.MessageDelete) {
			c.touch()
			m := e.Message
			enqueue(func(ctx context.Context) { c.onDelete(ctx, m) })
		}),
		// Interactions have 3 seconds: they never wait behind intake.
		c.s.AddHandler(func(_ *dg.Session, e *dg.InteractionCreate) {
			i := e.Interaction
			c.spawn(ctx, func(ctx context.Context) { c.onInteraction(ctx, i) })
		}),
	}
}

func (c *Conn) onReady(r *dg.Ready) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.User != nil {
		c.botID = r.User.ID
	}
	if c.appID == "" && r.Application != nil {
		c.appID = r.Application.ID
	}
	c.guilds = c.guilds[:0]
	for _, g := range r.Guilds {
		c.guilds = append(c.guilds, g.ID)
	}
}

func (c *Conn) onGuild(g *dg.Guild) {
	if g == nil {
		return
	}
	for _, ch := range append(append([]*dg.Channel(nil), g.Channels...), g.Threads...) {
		if ch.GuildID == "" {
			ch.GuildID = g.ID // GUILD_CREATE omits it
		}
		c.remember(ch)
	}
}

func (c *Conn) remember(ch *dg.Channel) {
	if ch == nil || ch.ID == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.channels[ch.ID] = chanInfo{ID: ch.ID, GuildID: ch.GuildID, ParentID: ch.ParentID, Name: ch.Name, Type: ch.Type}
}

// channel returns what the adapter knows of a channel, asking Discord once.
func (c *Conn) channel(ctx context.Context, id string) (chanInfo, error) {
	c.mu.Lock()
	ci, ok := c.channels[id]
	c.mu.Unlock()
	if ok {
		return ci, nil
	}
	ch, err := c.s.Channel(id, dg.WithContext(ctx))
	if err != nil {
		return chanInfo{ID: id}, fmt.Errorf("get channel %s: %w", id, err)
	}
	c.remember(ch)
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.channels[id], nil
}

// self returns the bot's user ID, asking Discord when READY has not said.
func (c *Conn) self(ctx context.Context) (string, error) {
	c.mu.Lock()
	id := c.botID
	c.mu.Unlock()
	if id != "" {
		return id, nil
	}
	u, err := c.s.User("@me", dg.WithContext(ctx))
	if err != nil {
		return "", fmt.Errorf("get bot user: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.botID == "" {
		c.botID = u.ID
	}
	return c.botID, nil
}

// application returns the application ID: configured, from READY, or (for
// applications made since 2020) the bot's user ID.
func (c *Conn) application(ctx context.Context) (string, error) {
	c.mu.Lock()
	id := c.appID
	c.mu.Unlock()
	if id != "" {
		return id, nil
	}
	return c.self(ctx)
}

// link is the permalink Discord clients open.
func (c *Conn) link(ctx context.Context, channelID, messageID string) string {
	guild := c.opts.GuildID
	if ci, err := c.channel(ctx, channelID); err == nil && ci.GuildID != "" {
		guild = ci.GuildID
	}
	if guild == "" {
		guild = "@me"
	}
	return messageLink(guild, channelID, messageID)
}

func messageLink(guild, channel, id string) string {
	return "https://discord.com/channels/" + guild + "/" + channel + "/" + id
}

// snowflakeAt is the smallest snowflake Discord could give at t, for
// "messages after t" listings.
func snowflakeAt(t time.Time) string {
	const discordEpoch = 1420070400000
	ms := t.UnixMilli() - discordEpoch
	if ms < 0 {
		ms = 0
	}
	return fmt.Sprint(uint64(ms) << 22)
}
