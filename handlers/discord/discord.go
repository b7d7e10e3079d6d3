// Package discord is Liaison's Discord adapter: it turns gateway events and
// interactions into domain calls (see Domain), renders the cards, actions
// and forms the domain words as embeds, components and modals, and carries
// out outbox operations (bot.Op) as Discord REST calls through discordgo.
//
// One Conn is one bot login on one guild. The same Conn serves both roles a
// guild can play: public (watched channels, forum posts, replies published
// through a channel webhook under the staff member's name) and internal
// (cards with buttons, a thread per card, modals, /liaison commands).
// No business rule, label, limit or message text lives here: the adapter
// translates, the domain decides and words. Discord's own limits are named
// constants in render.go.
package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	dg "github.com/bwmarrin/discordgo"

	"github.com/liaison-bot/liaison/bot"
)

// Domain is what the adapter needs from the domain: messages in, what
// people do, and whether a channel is watched. *bot.Service satisfies it.
type Domain interface {
	Receive(ctx context.Context, in bot.Incoming) (bot.Intake, error)
	Edit(ctx context.Context, key bot.MessageKey, text string, at time.Time) error
	// Delete marks a message deleted; a zero at means now.
	Delete(ctx context.Context, key bot.MessageKey, at time.Time) error
	Interact(ctx context.Context, req bot.Request) bot.Reply
	Watches(conn, channel string) bool
}

var _ Domain = (*bot.Service)(nil)

// Options configure a connection.
type Options struct {
	Name          string // the connection's name in the config (bot.Op.Conn, bot.Actor.Conn, bot.Incoming.Conn)
	Token         string // bot token without "Bot "
	GuildID       string
	ApplicationID string // optional; learnt from READY otherwise
	// APIURL, optional, is the base URL of a Discord-compatible server
	// ("http://127.0.0.1:8080"): REST calls meant for discord.com go there,
	// and the gateway URL then comes from its GET /api/v9/gateway.
	APIURL string
	// Transport, optional, carries the HTTP requests (default
	// http.DefaultTransport); APIURL's rewrite wraps it.
	Transport http.RoundTripper
	Configure func(*dg.Session) // optional: applied to the session last (tests point it at a fake)
	Log       *slog.Logger
}

// Conn is one Discord bot connection. Send and Find may be called from any
// goroutine, before or during Run.
type Conn struct {
	name string
	opts Options
	d    Domain
	s    *dg.Session
	log  *slog.Logger

	mu        sync.Mutex
	botID     string
	appID     string
	guilds    []string               // guilds READY listed
	channels  map[string]chanInfo    // channel and thread metadata, from events or REST
	webhooks  map[string]*dg.Webhook // Liaison's webhook per (non-thread) channel
	running   bool                   // Run is accepting work from event handlers
	wg        sync.WaitGroup         // Run's goroutines: the intake loop, registration, interaction handlers
	readies   int                    // READY events seen: a second one is a new session
	lastEvent time.Time              // when the gateway last delivered a message event

	open       bool          // the gateway session is connected
	registered bool          // /liaison is registered
	regErr     error         // the last registration failure
	regBackoff time.Duration // the first wait after a failed registration
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
func New(opts Options, d Domain) (*Conn, error) {
	if opts.Name == "" {
		return nil, errors.New("discord: Options.Name is empty")
	}
	if opts.Token == "" {
		return nil, fmt.Errorf("discord %s: Options.Token is empty", opts.Name)
	}
	if d == nil {
		return nil, fmt.Errorf("discord %s: no domain", opts.Name)
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
	client, err := httpClient(opts.APIURL, opts.Transport)
	if err != nil {
		return nil, fmt.Errorf("discord %s: api_url: %w", opts.Name, err)
	}
	if client != nil {
		s.Client = client
	}
	if opts.Configure != nil {
		opts.Configure(s)
	}
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	c := &Conn{
		name: opts.Name, opts: opts, d: d, s: s,
		log:        log.With("conn", opts.Name, "platform", bot.KindDiscord),
		appID:      opts.ApplicationID,
		channels:   map[string]chanInfo{},
		webhooks:   map[string]*dg.Webhook{},
		regBackoff: registerBackoffMin,
	}
	// discordgo's reconnect loop, if it was running when Run closed the
	// session, opens it again; close it once more, off the gateway's
	// goroutine (Open holds the session's lock while it emits Connect).
	s.AddHandler(func(s *dg.Session, _ *dg.Connect) {
		c.mu.Lock()
		stopped := !c.running
		c.open = !stopped
		c.mu.Unlock()
		if stopped {
			go func() { _ = s.Close() }()
		}
	})
	s.AddHandler(func(_ *dg.Session, _ *dg.Disconnect) {
		c.mu.Lock()
		c.open = false
		c.mu.Unlock()
	})
	return c, nil
}

// httpClient is the client REST calls and GET /gateway go through: nil (the
// session's default) when neither apiURL nor base is set.
func httpClient(apiURL string, base http.RoundTripper) (*http.Client, error) {
	if apiURL == "" && base == nil {
		return nil, nil
	}
	if base == nil {
		base = http.DefaultTransport
	}
	rt := base
	if apiURL != "" {
		to, err := url.Parse(apiURL)
		if err != nil || (to.Scheme != "http" && to.Scheme != "https") || to.Host == "" || to.RawQuery != "" || to.Fragment != "" {
			return nil, fmt.Errorf("%q is not an http(s) base URL", apiURL)
		}
		from, err := url.Parse(dg.EndpointDiscord)
		if err != nil {
			return nil, err
		}
		rt = &rewriteTransport{from: from.Host, to: to, base: base}
	}
	// discordgo's own default client has the same timeout.
	return &http.Client{Transport: rt, Timeout: 20 * time.Second}, nil
}

// rewriteTransport sends requests meant for Discord's API host to another
// base URL, keeping their path (under the base URL's own path, if any).
type rewriteTransport struct {
	from string
	to   *url.URL
	base http.RoundTripper
}

func (t *rewriteTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if !strings.EqualFold(r.URL.Host, t.from) {
		return t.base.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host, r.Host = t.to.Scheme, t.to.Host, ""
	if p := strings.TrimSuffix(t.to.Path, "/"); p != "" {
		r.URL.Path = p + r.URL.Path
		if r.URL.RawPath != "" {
			r.URL.RawPath = strings.TrimSuffix(t.to.EscapedPath(), "/") + r.URL.RawPath
		}
	}
	return t.base.RoundTrip(r)
}

// Health is nil once the gateway is open and /liaison is registered;
// otherwise it says what is missing, with the last registration error.
func (c *Conn) Health() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	if !c.open {
		errs = append(errs, fmt.Errorf("discord %s: gateway not connected", c.name))
	}
	if !c.registered {
		if c.regErr != nil {
			errs = append(errs, fmt.Errorf("discord %s: /%s not registered: %w", c.name, bot.CommandName, c.regErr))
		} else {
			errs = append(errs, fmt.Errorf("discord %s: /%s not registered yet", c.name, bot.CommandName))
		}
	}
	return errors.Join(errs...)
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
		c.open = false
		c.mu.Unlock()
		err := c.s.Close()
		c.wg.Wait()
		return err
	}
	if err := c.s.Open(); err != nil {
		_ = stop()
		return fmt.Errorf("discord %s: open gateway: %w", c.name, err)
	}
	c.mu.Lock()
	c.open = true
	c.mu.Unlock()
	c.log.Info("discord gateway open")
	// Cards, buttons and publishing work without /liaison: registering it
	// goes on in the background until it succeeds.
	c.spawn(ctx, c.register)
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
	if id := c.learnt(&c.botID); id != "" {
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
	if id := c.learnt(&c.appID); id != "" {
		return id, nil
	}
	return c.self(ctx)
}

// learnt reads an ID the connection learns as it runs (the bot's, the
// application's): "" until it is known.
func (c *Conn) learnt(id *string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return *id
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
