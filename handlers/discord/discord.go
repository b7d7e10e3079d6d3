// Package discord is Liaison's Discord adapter: it turns gateway events and
// interactions into domain calls (see Domain), renders the cards, actions
// and forms the domain words as embeds, components and modals, and carries
// out outbox operations (bot.Op) as Discord REST calls through discordgo.
//
// One Conn is one bot login on one guild. The same Conn serves both roles a
// guild can play: public (watched channels, forum posts, replies published
// through a channel webhook under the staff member's name) and internal
// (cards with buttons, a thread per card, modals, /liaison commands).
// Replicas that share a database hold one gateway session per bot between
// them, under a lease (lease.go), and whoever holds it catches up with what
// was said while nobody listened (backfill.go); every replica serves REST.
// No business rule, label, limit or message text lives here: the adapter
// translates, the domain decides and words. Discord's own limits are named
// constants in render.go (sizes) and ratelimit.go (rates), where the
// answers' rate-limit headers are read for the worker's pacing.
package discord

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	dg "github.com/bwmarrin/discordgo"

	"github.com/liaison-bot/liaison/bot"
)

// Domain is what the adapter needs from the domain: messages in, what
// people do, whether a channel is watched, where the stored messages of a
// channel end (to catch up from), and the lease that lets one replica at a
// time hold the gateway. *bot.Service satisfies it.
type Domain interface {
	Receive(ctx context.Context, in bot.Incoming) (bot.Intake, error)
	Edit(ctx context.Context, key bot.MessageKey, text string, at time.Time) error
	// Delete marks a message deleted; a zero at means now.
	Delete(ctx context.Context, key bot.MessageKey, at time.Time) error
	Interact(ctx context.Context, req bot.Request) bot.Reply
	Watches(conn, channel string) bool
	// LastMessage is the newest message stored from (conn, channel); an
	// error matching bot.ErrNotFound when there is none.
	LastMessage(ctx context.Context, conn, channel string) (*bot.Message, error)
	AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, owner string) error
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
	// Configure, optional, is applied to the session last but for the
	// watch of rate-limit headers, which wraps the transport of the
	// client it leaves (tests point it at a fake).
	Configure func(*dg.Session)
	Log       *slog.Logger
	// Owner names this process among the replicas that share the
	// database ("host-pid" when empty). One replica at a time holds the
	// bot's gateway session; the others stand by and serve REST (Send,
	// Find) only.
	Owner string
	// Backfill bounds how far back catching up reads a channel
	// (DefaultBackfill when 0).
	Backfill time.Duration
	// LeaseTTL is how long the gateway lease lasts unless renewed
	// (DefaultLeaseTTL when 0). The holder renews it every third of that
	// and closes its gateway before it runs out; a standby tries to take it
	// every quarter.
	LeaseTTL time.Duration
	// Metrics counts reconnects and reports the gateway's state; nil
	// counts nothing.
	Metrics bot.Metrics
	// Pacer, optional, is the worker's: what Discord's rate-limit headers
	// say (a channel's posts spent until a reset, a global 429) holds its
	// buckets, so that the next call waits instead of meeting a 429.
	Pacer *bot.Pacer
}

// Defaults of Options.
const (
	DefaultBackfill = 24 * time.Hour
	DefaultLeaseTTL = 10 * time.Second
)

// Conn is one Discord bot connection. Send and Find may be called from any
// goroutine, before or during Run, on a replica that holds the gateway or
// on one that stands by.
type Conn struct {
	name    string
	opts    Options
	d       Domain
	s       *dg.Session
	log     *slog.Logger
	metrics bot.Metrics
	lease   string     // the gateway lease's name: the bot's, never its token
	rates   *rateWatch // reads the answers' rate-limit headers for the pacer
	holder  string     // who this Conn is in the lease: Owner and a random suffix

	mu       sync.Mutex
	botID    string
	appID    string
	guilds   []string               // guilds READY listed
	channels map[string]chanInfo    // channel and thread metadata, from events or REST
	webhooks map[string]*dg.Webhook // Liaison's webhook per (non-thread) channel
	running  bool                   // Run is accepting work from event handlers
	wg       sync.WaitGroup         // Run's goroutines: the intake loop, registration, interaction handlers
	readies  int                    // READY events seen
	role     role                   // whether this replica holds the gateway
	holding  bool                   // the gateway is wanted open: this replica holds the lease
	behind   catchUp                // what is left to catch up with
	kick     chan struct{}          // wakes the intake loop: something to catch up with

	open       bool          // the gateway session is connected
	openErr    error         // the last failure to open the gateway
	registered bool          // /liaison is registered
	regErr     error         // the last registration failure
	regBackoff time.Duration // the first wait after a failed registration
	budget     time.Duration // the domain's time on an interaction; 0: interactionBudget
}

// role is where a Conn stands in the gateway lease.
type role int

const (
	roleStarting role = iota // Run has not decided yet
	roleStandby              // another replica holds the gateway
	roleHolder               // this replica holds the gateway
)

var (
	_ bot.Platform = (*Conn)(nil)
	_ bot.Paced    = (*Conn)(nil)
)

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
	token := botToken(opts.Token)
	s, err := restSession(token, opts.APIURL, opts.Transport)
	if err != nil {
		return nil, fmt.Errorf("discord %s: %w", opts.Name, err)
	}
	// Handlers only queue work (see Run), so running them on the gateway's
	// goroutine keeps events in order without blocking it for long.
	s.SyncEvents = true
	s.Identify.Intents = dg.IntentsGuilds | dg.IntentsGuildMessages | dg.IntentMessageContent
	if opts.Configure != nil {
		opts.Configure(s)
	}
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	log = log.With("conn", opts.Name)
	rates := newRateWatch(opts.Name, opts.Pacer, paceOf(), log)
	s.Client = rates.wrap(s.Client)
	if opts.Backfill <= 0 {
		opts.Backfill = DefaultBackfill
	}
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = DefaultLeaseTTL
	}
	if opts.Owner == "" {
		host, _ := os.Hostname()
		opts.Owner = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	metrics := opts.Metrics
	if metrics == nil {
		metrics = bot.NoMetrics
	}
	c := &Conn{
		name: opts.Name, opts: opts, d: d, s: s, metrics: metrics, log: log, rates: rates,
		lease:      leaseName(opts.ApplicationID, token),
		holder:     opts.Owner + "/" + randomSuffix(),
		appID:      opts.ApplicationID,
		channels:   map[string]chanInfo{},
		webhooks:   map[string]*dg.Webhook{},
		kick:       make(chan struct{}, 1),
		regBackoff: registerBackoffMin,
	}
	// discordgo's reconnect loop, if it was running when the gateway was
	// closed (Run ended, or the lease was lost), opens it again; close it
	// once more, off the gateway's goroutine (Open holds the session's lock
	// while it emits Connect).
	s.AddHandler(func(s *dg.Session, _ *dg.Connect) {
		c.mu.Lock()
		keep := c.holding && c.running
		c.open = keep
		c.mu.Unlock()
		if !keep {
			go func() { _ = s.Close() }()
			return
		}
		c.metrics.ConnState(c.name, true)
	})
	s.AddHandler(func(_ *dg.Session, _ *dg.Disconnect) {
		c.mu.Lock()
		was := c.open
		c.open = false
		c.mu.Unlock()
		if was {
			c.metrics.ConnState(c.name, false)
		}
	})
	return c, nil
}

// botToken is a configured token without the "Bot " prefix it may carry.
func botToken(token string) string {
	return strings.TrimPrefix(strings.TrimSpace(token), "Bot ")
}

// restSession is a session of the bot token whose REST calls go to apiURL
// through base (both optional) and come back with a rate limit or a
// failure rather than waiting or retrying: the outbox owns retries (a 429
// must come back to it as RetryAfter, and a 502 after a POST may have
// taken effect, so it is reconciled rather than blindly repeated), and the
// doctor reports them.
func restSession(token, apiURL string, base http.RoundTripper) (*dg.Session, error) {
	s, err := dg.New("Bot " + token)
	if err != nil {
		return nil, err
	}
	s.ShouldRetryOnRateLimit = false
	s.MaxRestRetries = 0
	s.LogLevel = dg.LogError
	client, err := httpClient(apiURL, base)
	if err != nil {
		return nil, fmt.Errorf("api_url: %w", err)
	}
	if client != nil {
		s.Client = client
	}
	return s, nil
}

// leaseName names the gateway lease of a bot: by its application when
// configured, else by a hash of its token, which the lease table must
// never hold.
func leaseName(appID, token string) string {
	if appID != "" {
		return "discord-gateway:app:" + appID
	}
	sum := sha256.Sum256([]byte(token))
	return "discord-gateway:token:" + hex.EncodeToString(sum[:8])
}

// randomSuffix tells apart two Conns of one process, and a restarted
// process from the one it replaces.
func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
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

// Health is nil once the gateway is open and /liaison is registered, and
// on a replica standing by while another holds the gateway; otherwise it
// says what is missing, with the last error.
func (c *Conn) Health() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.role == roleStandby {
		return nil
	}
	var errs []error
	switch {
	case !c.open && c.openErr != nil:
		errs = append(errs, fmt.Errorf("discord %s: gateway not connected: %w", c.name, c.openErr))
	case !c.open:
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

// Capabilities: webhooks carry a person's name and avatar; a message's
// content holds 2,000 characters.
func (c *Conn) Capabilities() bot.Capabilities {
	return bot.Capabilities{CustomIdentity: true, MaxNote: maxContent}
}

// Run takes part in the gateway lease until ctx ends: the replica that
// holds it opens the gateway, registers /liaison in the guild(s), catches
// up with what was said while nobody listened, and handles events; the
// others stand by, ready to take over. On the way out it closes the
// gateway, releases the lease and waits for its own goroutines.
func (c *Conn) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Message events, and catching up, are handled one at a time, in
	// gateway order: a forum post must be taken in before the follow-ups
	// in its thread.
	queue := make(chan func(context.Context), intakeQueue)
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
		c.intakeLoop(ctx, queue)
	}()
	removers := c.addHandlers(ctx, queue)
	defer func() {
		for _, r := range removers {
			r()
		}
	}()
	err := c.contend(ctx)
	cancel()
	c.mu.Lock()
	c.running = false
	c.mu.Unlock()
	c.closeGateway()
	c.wg.Wait()
	// Released, the lease passes to a standby at once rather than when it
	// expires.
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer rcancel()
	if rerr := c.d.ReleaseLease(rctx, c.lease, c.holder); rerr != nil {
		c.log.Warn("release the gateway lease", "err", rerr)
	}
	return err
}

// intakeQueue bounds the message events waiting for the intake loop; an
// event that finds it full is caught up with later, from Discord.
const intakeQueue = 1024

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

func (c *Conn) addHandlers(ctx context.Context, queue chan func(context.Context)) []func() {
	// live hands a gateway event to the intake loop, unless this replica no
	// longer holds the gateway (the holder takes it) or the loop is behind:
	// then the channel is caught up with later, from Discord.
	live := func(channel, id string, fn func(context.Context)) {
		if !c.holds() {
			return
		}
		select {
		case queue <- fn:
		case <-ctx.Done():
		default:
			if id == "" {
				c.log.Warn("intake queue full: an edit or deletion is lost", "channel", channel)
				return
			}
			c.log.Warn("intake queue full: the message will be caught up with", "channel", channel, "message", id)
			c.missed(channel, id)
		}
	}
	return []func(){
		c.s.AddHandler(func(_ *dg.Session, r *dg.Ready) {
			if c.onReady(r) > 1 {
				c.metrics.Reconnect(c.name)
			}
			// A new session replays nothing: read back what was said
			// since the last message stored, in every watched channel.
			c.behindAll()
		}),
		c.s.AddHandler(func(_ *dg.Session, _ *dg.Resumed) {
			// A resumed session replays what it missed; reading back is
			// cheap (one page per channel) and covers events lost on
			// this side of the gateway.
			c.behindAll()
		}),
		c.s.AddHandler(func(_ *dg.Session, g *dg.GuildCreate) { c.onGuild(g.Guild) }),
		c.s.AddHandler(func(_ *dg.Session, e *dg.ChannelCreate) { c.remember(e.Channel) }),
		c.s.AddHandler(func(_ *dg.Session, e *dg.ChannelUpdate) { c.remember(e.Channel) }),
		c.s.AddHandler(func(_ *dg.Session, e *dg.ThreadCreate) { c.remember(e.Channel) }),
		c.s.AddHandler(func(_ *dg.Session, e *dg.ThreadUpdate) { c.remember(e.Channel) }),
		c.s.AddHandler(func(_ *dg.Session, e *dg.MessageCreate) {
			m := e.Message
			live(m.ChannelID, m.ID, func(ctx context.Context) { c.onLiveMessage(ctx, m) })
		}),
		c.s.AddHandler(func(_ *dg.Session, e *dg.MessageUpdate) {
			m := e.Message
			live(m.ChannelID, "", func(ctx context.Context) { c.onEdit(ctx, m) })
		}),
		c.s.AddHandler(func(_ *dg.Session, e *dg.MessageDelete) {
			m := e.Message
			live(m.ChannelID, "", func(ctx context.Context) { c.onDelete(ctx, m) })
		}),
		// Interactions have 3 seconds: they never wait behind intake.
		c.s.AddHandler(func(_ *dg.Session, e *dg.InteractionCreate) {
			if !c.holds() {
				return // the replica holding the gateway answers
			}
			i, at := e.Interaction, time.Now()
			c.spawn(ctx, func(ctx context.Context) { c.onInteraction(ctx, i, at) })
		}),
	}
}

// holds reports whether this replica holds the gateway.
func (c *Conn) holds() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.holding
}

// onReady learns who the bot is and where, and returns how many READY
// events this Conn has seen.
func (c *Conn) onReady(r *dg.Ready) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.readies++
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
	return c.readies
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
	ci := chanInfo{ID: ch.ID, GuildID: ch.GuildID, ParentID: ch.ParentID, Name: ch.Name, Type: ch.Type}
	if ci.isThread() && ci.ParentID != "" {
		c.rates.thread(ci.ID, ci.ParentID)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.channels[ch.ID] = ci
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
