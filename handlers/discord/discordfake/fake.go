package discordfake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
)

// Options configure a Fake. The zero value is usable: it gives the guild of DefaultGuild, a bot
// called "Liaison" and every permission.
type Options struct {
	// BotToken is the bot's token, with or without the "Bot " prefix. REST calls must send
	// "Authorization: Bot <token>"; Identify may send either form (discordgo sends "Bot …").
	BotToken string
	// BotUserID, BotUsername and ApplicationID name the bot. ApplicationID defaults to
	// BotUserID, as for applications created since 2020.
	BotUserID     string
	BotUsername   string
	ApplicationID string
	// Guilds the bot is in. Empty: DefaultGuild(). In each, the bot holds a managed role
	// (BotRoleID) with DefaultBotRolePermissions, and the guild's owner is its first member
	// other than the bot.
	Guilds []Guild
	// BotPermissions is the bot's permission bitset per channel ID, set as SetBotPermissions
	// does: a member overwrite for the bot in the channel (in a thread's parent for a thread).
	// Channels not listed keep what the roles give.
	BotPermissions map[string]int64
	// UnapprovedIntents are privileged intents (IntentGuildMembers, IntentGuildPresences,
	// IntentMessageContent) not enabled for the app in the developer portal: an Identify asking
	// for one is closed with 4014, and an unapproved IntentMessageContent blanks REST reads too.
	UnapprovedIntents int64
	// HeartbeatInterval sent in Hello. Default 41.25 s, as Discord; tests may shorten it.
	HeartbeatInterval time.Duration
	// DefaultRouteLimit applies to every route without a limit of its own (Discord's for
	// creating messages and executing webhooks, or SetRouteLimit's). Default 50 per second.
	DefaultRouteLimit int
	DefaultRoutePer   time.Duration
	// GlobalLimit is how many requests the bot may make per GlobalPer over every route but
	// interaction callbacks and webhooks executed by token. Default GlobalLimit (50) per
	// second, as on Discord; negative lifts it. SetGlobalLimit changes it at run time.
	GlobalLimit int
	GlobalPer   time.Duration
	// InvalidRequestLimit is how many answers of 401, 403 or 429 (but 429s of scope
	// "shared") within InvalidRequestWindow get the client blocked: for InvalidRequestBlock
	// every REST request is answered 429. Default Discord's: 10,000 within 10 minutes, an
	// hour's block. Negative: never blocked. Tests lower the figures to see the block.
	InvalidRequestLimit  int
	InvalidRequestWindow time.Duration
	InvalidRequestBlock  time.Duration
	// Now is the clock for timestamps, snowflakes and interaction deadlines. Default time.Now.
	// Rate-limit windows always use the real clock, because clients sleep on it.
	Now func() time.Time
	// Addr to listen on. Default "127.0.0.1:0".
	Addr string
	// Logger receives debug logs. Default: discarded.
	Logger *slog.Logger
}

// Fake is a running fake Discord. Create it with New and stop it with Close.
type Fake struct {
	opts      Options
	token     string // without "Bot "
	now       func() time.Time
	log       *slog.Logger
	ln        net.Listener
	srv       *http.Server
	addr      string
	transport *http.Transport
	wg        sync.WaitGroup // gateway connections and the server loop

	done    chan struct{} // closed by Close: requests held by DropHang end
	mu      sync.Mutex
	closed  bool
	changed chan struct{}
	lastID  uint64

	bot          User
	appID        string
	users        map[string]*User
	guilds       map[string]*guildState
	guildOrder   []string
	channels     map[string]*channelState
	messages     map[string]*message
	channelMsgs  map[string][]string // message IDs in creation order
	webhooks     map[string]*Webhook
	webhookOrder []string
	interactions map[string]*interaction
	byToken      map[string]*interaction
	commands     map[string][]*command // by guild ID; "" for global
	dms          map[string]string     // user ID → DM channel ID
	modals       []*pendingModal
	nonces       map[string]nonceEntry
	calls        []Call
	invalid      int         // answers Discord counts as invalid, ever
	invalidAt    []time.Time // those within Options.InvalidRequestWindow
	blockedUntil time.Time   // every REST request is refused until then
	rateLimited  int         // 429s answered
	limits       *limiter
	faults       []*Fault

	sessions      map[string]*gwSession
	conns         map[*gwConn]struct{}
	identifies    int
	resumes       int
	sessionStarts int
}

// New starts a fake Discord listening on opts.Addr.
func New(opts Options) (*Fake, error) {
	f := &Fake{
		changed:      make(chan struct{}),
		done:         make(chan struct{}),
		users:        map[string]*User{},
		guilds:       map[string]*guildState{},
		channels:     map[string]*channelState{},
		messages:     map[string]*message{},
		channelMsgs:  map[string][]string{},
		webhooks:     map[string]*Webhook{},
		interactions: map[string]*interaction{},
		byToken:      map[string]*interaction{},
		commands:     map[string][]*command{},
		dms:          map[string]string{},
		nonces:       map[string]nonceEntry{},
		sessions:     map[string]*gwSession{},
		conns:        map[*gwConn]struct{}{},
	}
	if err := f.init(opts); err != nil {
		return nil, err
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("discordfake: listen on %s: %w", addr, err)
	}
	f.ln = ln
	f.addr = ln.Addr().String()
	f.srv = &http.Server{
		Handler:           f,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(f.log.Handler(), slog.LevelDebug),
	}
	f.transport = &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     30 * time.Second,
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		if err := f.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			f.log.Debug("discordfake: serve", "err", err)
		}
	}()
	return f, nil
}

// TB is what MustNew needs of a test: testing.TB satisfies it. An interface
// keeps package testing out of the liaison binary, whose demo runs fakes.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// MustNew starts a fake for a test and closes it when the test ends; the
// test fails if the fake cannot start.
func MustNew(tb TB, opts Options) *Fake {
	tb.Helper()
	f, err := New(opts)
	if err != nil {
		tb.Fatalf("discordfake.New: %v", err)
	}
	tb.Cleanup(f.Close)
	return f
}

func (f *Fake) init(opts Options) error {
	f.now = opts.Now
	if f.now == nil {
		f.now = time.Now
	}
	f.log = opts.Logger
	if f.log == nil {
		f.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.BotToken == "" {
		opts.BotToken = "discordfake-bot-token"
	}
	f.token = strings.TrimPrefix(opts.BotToken, "Bot ")
	if opts.BotUserID == "" {
		opts.BotUserID = "1100000000000000900"
	}
	if opts.BotUsername == "" {
		opts.BotUsername = "Liaison"
	}
	if opts.ApplicationID == "" {
		opts.ApplicationID = opts.BotUserID
	}
	if opts.HeartbeatInterval <= 0 {
		opts.HeartbeatInterval = 41250 * time.Millisecond
	}
	if opts.DefaultRouteLimit <= 0 {
		opts.DefaultRouteLimit = 50
	}
	if opts.DefaultRoutePer <= 0 {
		opts.DefaultRoutePer = time.Second
	}
	if opts.GlobalLimit == 0 {
		opts.GlobalLimit = GlobalLimit
	}
	if opts.GlobalPer <= 0 {
		opts.GlobalPer = time.Second
	}
	if opts.InvalidRequestLimit == 0 {
		opts.InvalidRequestLimit = InvalidRequestLimit
	}
	if opts.InvalidRequestWindow <= 0 {
		opts.InvalidRequestWindow = InvalidRequestWindow
	}
	if opts.InvalidRequestBlock <= 0 {
		opts.InvalidRequestBlock = InvalidRequestBlock
	}
	if opts.UnapprovedIntents&^privilegedIntents != 0 {
		return fmt.Errorf("discordfake: UnapprovedIntents %#x holds non-privileged intents (want a mix of %#x)", opts.UnapprovedIntents, privilegedIntents)
	}
	if len(opts.Guilds) == 0 {
		opts.Guilds = []Guild{DefaultGuild()}
	}
	f.opts = opts
	f.appID = opts.ApplicationID
	f.bot = User{ID: opts.BotUserID, Username: opts.BotUsername, Bot: true}
	f.users[f.bot.ID] = &f.bot
	f.limits = newLimiter(opts.DefaultRouteLimit, opts.DefaultRoutePer)
	if opts.GlobalLimit > 0 {
		f.limits.global = &limitRule{opts.GlobalLimit, opts.GlobalPer}
	}
	for _, g := range opts.Guilds {
		if err := f.addGuild(g); err != nil {
			return err
		}
	}
	for id, p := range opts.BotPermissions {
		if err := f.setBotPermissionsLocked(id, p); err != nil {
			return fmt.Errorf("discordfake: BotPermissions: %w", err)
		}
	}
	return nil
}

func (f *Fake) addGuild(g Guild) error {
	if g.ID == "" || !isSnowflake(g.ID) {
		return fmt.Errorf("discordfake: guild %q: ID %q is not a snowflake", g.Name, g.ID)
	}
	if _, dup := f.guilds[g.ID]; dup {
		return fmt.Errorf("discordfake: guild %s listed twice", g.ID)
	}
	joined := f.now().Add(-90 * 24 * time.Hour).UTC()
	gs := &guildState{id: g.ID, name: g.Name, ownerID: g.OwnerID, members: map[string]*Member{}, joinedAt: joined}
	hasEveryone := false
	for _, r := range g.Roles {
		if r.ID == g.ID {
			hasEveryone = true
		}
	}
	if !hasEveryone {
		gs.roles = append(gs.roles, Role{ID: g.ID, Name: "@everyone", Permissions: DefaultEveryonePermissions})
	}
	for _, r := range g.Roles {
		if !isSnowflake(r.ID) {
			return fmt.Errorf("discordfake: guild %s: role %q: ID %q is not a snowflake", g.ID, r.Name, r.ID)
		}
		gs.roles = append(gs.roles, r)
	}
	// Discord gives a bot invited with permissions a managed role holding them.
	gs.botRole = f.newID()
	gs.roles = append(gs.roles, Role{ID: gs.botRole, Name: f.bot.Username, Permissions: DefaultBotRolePermissions, Managed: true})
	for _, m := range append(slicesClone(g.Members), Member{User: f.bot, JoinedAt: joined}) {
		if !isSnowflake(m.User.ID) {
			return fmt.Errorf("discordfake: guild %s: member %q: user ID %q is not a snowflake", g.ID, m.User.Username, m.User.ID)
		}
		if m.JoinedAt.IsZero() {
			m.JoinedAt = joined
		}
		if m.User.Username == "" {
			m.User.Username = "user" + m.User.ID
		}
		for _, r := range m.Roles {
			if !gs.hasRole(r) {
				return fmt.Errorf("discordfake: guild %s: member %s has unknown role %s", g.ID, m.User.ID, r)
			}
		}
		if _, dup := gs.members[m.User.ID]; dup {
			continue
		}
		u, known := f.users[m.User.ID]
		if !known {
			u = &User{}
			*u = m.User
			f.users[u.ID] = u
		}
		m.User = *u
		mm := m
		mm.Roles = slicesClone(m.Roles)
		if u.ID == f.bot.ID {
			mm.Roles = append(mm.Roles, gs.botRole)
		}
		gs.members[u.ID] = &mm
		gs.memberOrder = append(gs.memberOrder, u.ID)
	}
	if gs.ownerID == "" {
		// The owner has every permission whatever the overwrites: not the bot, unless the
		// guild says so.
		for _, id := range gs.memberOrder {
			if id != f.bot.ID {
				gs.ownerID = id
				break
			}
		}
		if gs.ownerID == "" {
			gs.ownerID = f.newID() // an owner who is not among the listed members
		}
	}
	f.guilds[g.ID] = gs
	f.guildOrder = append(f.guildOrder, g.ID)
	for _, c := range g.Channels {
		if !isSnowflake(c.ID) {
			return fmt.Errorf("discordfake: guild %s: channel %q: ID %q is not a snowflake", g.ID, c.Name, c.ID)
		}
		if _, dup := f.channels[c.ID]; dup {
			return fmt.Errorf("discordfake: channel %s listed twice", c.ID)
		}
		if c.Type == ChannelDM {
			return fmt.Errorf("discordfake: guild %s: channel %s is a DM; DM channels are made by DMChannel", g.ID, c.ID)
		}
		c.GuildID = g.ID
		if err := checkOverwrites(gs, c); err != nil {
			return err
		}
		c.Overwrites = slicesClone(c.Overwrites)
		cs := &channelState{Channel: c, createdAt: joined, autoArchive: 4320}
		if c.Type.IsThread() && c.OwnerID == "" {
			cs.OwnerID = f.bot.ID
		}
		f.channels[c.ID] = cs
		gs.channelOrder = append(gs.channelOrder, c.ID)
	}
	for _, c := range g.Channels {
		if c.ParentID != "" {
			p, ok := f.channels[c.ParentID]
			if !ok || p.GuildID != g.ID {
				return fmt.Errorf("discordfake: channel %s: parent %s is not a channel of guild %s", c.ID, c.ParentID, g.ID)
			}
		}
		if c.Type.IsThread() && c.ParentID == "" {
			return fmt.Errorf("discordfake: thread %s has no ParentID", c.ID)
		}
	}
	return nil
}

// DefaultGuild is the guild a Fake gets when Options.Guilds is empty: "Liaison Test" with a
// text channel #general, a forum #help, a role Moderators and two members, alice (a moderator)
// and bob.
func DefaultGuild() Guild {
	return Guild{
		ID:   "1100000000000000001",
		Name: "Liaison Test",
		Channels: []Channel{
			{ID: "1100000000000000010", Name: "general", Type: ChannelText},
			{ID: "1100000000000000011", Name: "help", Type: ChannelForum},
		},
		Roles: []Role{{ID: "1100000000000000020", Name: "Moderators", Mentionable: true}},
		Members: []Member{
			{User: User{ID: "1100000000000000101", Username: "alice", GlobalName: "Alice"}, Roles: []string{"1100000000000000020"}},
			{User: User{ID: "1100000000000000102", Username: "bob", GlobalName: "Bob"}},
		},
	}
}

// Close stops the server, closes every gateway connection and waits for the fake's goroutines.
func (f *Fake) Close() {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return
	}
	f.closed = true
	close(f.done)
	conns := make([]*gwConn, 0, len(f.conns))
	for c := range f.conns {
		conns = append(conns, c)
	}
	f.notifyLocked()
	f.mu.Unlock()
	for _, c := range conns {
		c.abort()
	}
	// Idle keep-alive connections of the fake's own client would hold
	// Shutdown until its timeout.
	f.transport.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.srv.Shutdown(ctx); err != nil {
		_ = f.srv.Close()
	}
	f.wg.Wait()
	f.transport.CloseIdleConnections()
}

// URL is the fake's base URL, e.g. http://127.0.0.1:PORT.
func (f *Fake) URL() string { return "http://" + f.addr }

// GatewayURL is the URL GET /gateway hands out.
func (f *Fake) GatewayURL() string { return "ws://" + f.addr + "/gateway" }

// BotToken is the Authorization value the bot must send: "Bot <token>".
func (f *Fake) BotToken() string { return "Bot " + f.token }

// Bot is the bot user.
func (f *Fake) Bot() User { return f.bot }

// ApplicationID is the bot's application ID.
func (f *Fake) ApplicationID() string { return f.appID }

// discordHosts are the hosts the transport sends to the fake.
var discordHosts = []string{"discord.com", "discordapp.com", "gateway.discord.gg", "cdn.discordapp.com", "media.discordapp.net", "images-ext-1.discordapp.net"}

func isDiscordHost(h string) bool {
	h = strings.ToLower(h)
	for _, d := range discordHosts {
		if h == d || strings.HasSuffix(h, "."+d) {
			return true
		}
	}
	return false
}

// hostHeader carries the host a request was meant for, so the fake can tell CDN requests apart.
const hostHeader = "X-Discordfake-Host"

type rewriteTransport struct {
	addr string
	base http.RoundTripper
}

func (t *rewriteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	host := req.URL.Hostname()
	switch {
	case isDiscordHost(host):
		r := req.Clone(req.Context())
		r.URL.Scheme = "http"
		r.URL.Host = t.addr
		r.Host = ""
		r.Header.Set(hostHeader, host)
		return t.base.RoundTrip(r)
	case req.URL.Host == t.addr:
		return t.base.RoundTrip(req)
	default:
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, fmt.Errorf("discordfake: refusing request to %s: only Discord hosts are faked", req.URL.Host)
	}
}

// Transport returns a RoundTripper that sends requests for Discord hosts (discord.com,
// gateway.discord.gg, the CDN) to the fake over plain HTTP and refuses every other host.
func (f *Fake) Transport() http.RoundTripper {
	return &rewriteTransport{addr: f.addr, base: f.transport}
}

// HTTPClient returns a client using Transport.
func (f *Fake) HTTPClient() *http.Client {
	return &http.Client{Transport: f.Transport(), Timeout: 20 * time.Second}
}

// Dialer returns a websocket dialer for the gateway URL the fake hands out: plain ws:// on
// 127.0.0.1, with no proxy (websocket.DefaultDialer would consult the proxy environment).
func (f *Fake) Dialer() *websocket.Dialer {
	return &websocket.Dialer{
		HandshakeTimeout: 10 * time.Second,
		NetDialContext:   (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}
}

// Configure points a discordgo session at the fake: it sets s.Client (REST and GET /gateway)
// and s.Dialer (the gateway websocket). The token and intents stay the caller's business.
func (f *Fake) Configure(s *discordgo.Session) {
	s.Client = f.HTTPClient()
	s.Dialer = f.Dialer()
}

// notifyLocked wakes everyone waiting on Changes. Callers hold f.mu.
func (f *Fake) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// Changes returns a channel that is closed at the next change of the fake's state (a message, a
// call, an interaction, a gateway event…). Take a new one after each wake-up.
func (f *Fake) Changes() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changed
}

// WaitFor waits until cond returns true, re-checking at every change. cond may call the fake's
// inspection methods.
func (f *Fake) WaitFor(ctx context.Context, cond func() bool) error {
	for {
		ch := f.Changes()
		if cond() {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("discordfake: wait: %w", ctx.Err())
		}
	}
}

func slicesClone[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append([]T(nil), s...)
}
