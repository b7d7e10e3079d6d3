package slackfake

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Options describes the workspace. The zero value is a usable workspace with
// no people and no channels.
type Options struct {
	TeamID     string // default "T0FAKE"
	TeamName   string // default "Fake Workspace"
	TeamDomain string // default "fake-workspace" (permalinks use <domain>.slack.com)
	AppID      string // default "A0FAKE"

	BotToken          string // xoxb-…, required on Web API calls; default "xoxb-fake-bot-token"
	AppToken          string // xapp-…, required on apps.connections.open; default "xapp-fake-app-token"
	SigningSecret     string // signs HTTP-mode deliveries; default "fake-signing-secret"
	VerificationToken string // the deprecated "token" field of payloads; default "fake-verification-token"

	BotUserID string // default "U0BOT"
	BotID     string // default "B0BOT"
	BotName   string // the bot user's name; default "liaison"

	// Scopes granted to the bot token; nil means DefaultScopes().
	Scopes []string

	Users      []User
	Channels   []Channel
	UserGroups []UserGroup

	// RatePerChannel is how many chat.postMessage calls a channel takes per
	// second once its Burst is spent: 0 means 1, negative disables the limit.
	RatePerChannel float64
	Burst          int // 0 means 3
	// MethodRates change the workspace-wide limits of DefaultMethodRates, by
	// method; a negative PerMinute lifts a method's limit.
	MethodRates map[string]MethodRate

	// AckTimeout is how long a delivery waits for its ack (Socket Mode) or its
	// 2xx answer (HTTP mode) before Slack counts it failed; 0 means 3 s.
	AckTimeout time.Duration
	// RetryDelays are the waits before the first, second and third retry of
	// an Events API delivery that failed (no ack in time, a non-2xx answer);
	// nil means Slack's: at once, after 1 minute, after 5 minutes. A shorter
	// list repeats its last wait. Interactions and commands are never retried.
	RetryDelays []time.Duration
	// PingInterval is how often a socket gets a websocket PING; 0 means 5 s.
	// slack-go reconnects when it has none for 30 s (OptionPingInterval).
	PingInterval time.Duration

	// DisableBotEcho stops delivering the bot's own posts back to it as
	// message events. Slack delivers them, so the default is to echo.
	DisableBotEcho bool

	// Now is the workspace clock; nil means time.Now.
	Now func() time.Time
}

// DefaultScopes returns the bot scopes granted when Options.Scopes is nil.
func DefaultScopes() []string {
	return []string{
		"chat:write", "chat:write.customize", "chat:write.public",
		"channels:history", "groups:history", "channels:read", "groups:read", "channels:join",
		"commands", "users:read", "usergroups:read", "reactions:write", "im:write", "files:write",
	}
}

// User is a member of the workspace.
type User struct {
	ID          string // U… or W…
	Name        string // the handle, e.g. "alice"
	RealName    string
	DisplayName string
	Title       string
	AvatarURL   string // profile.image_192 (and the other sizes)
	IsBot       bool
}

// Channel is a public or private channel. The bot sees, reads and gets events
// from a channel only if Options.BotUserID is among its Members.
type Channel struct {
	ID      string // C… (or G… for old private channels)
	Name    string // without '#'
	Private bool
	Members []string // user ids
}

// UserGroup is a user group, pinged as <!subteam^ID>.
type UserGroup struct {
	ID     string // S…
	Handle string
	Name   string
	Users  []string
}

// Fake is a running fake workspace. Create it with New and stop it with Close.
type Fake struct {
	opts    Options
	srv     *http.Server
	baseURL string
	client  *http.Client // for HTTP-mode deliveries

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc
	wake   chan struct{} // nudges the delivery loop
	wg     sync.WaitGroup
	once   sync.Once

	mu      sync.Mutex
	closed  bool
	changed chan struct{} // closed and replaced on every change
	seq     int           // source of readable unique ids
	lastTS  int64         // microseconds of the last ts handed out

	scopes     map[string]bool
	users      map[string]*User
	userOrder  []string
	channels   map[string]*channel
	groups     map[string]*UserGroup
	ephemerals map[string][]Message // by user id
	calls      []Call
	failNext   map[string][]string
	delayNext  map[string][]time.Duration
	rateFor    map[string]*bucket // chat.postMessage per channel, created lazily
	methodRate map[string]*bucket // per method, in the workspace
	files      *uploads           // the upload flow, created lazily (files.go)

	triggers     map[string]*trigger
	views        map[string]*view
	stacks       map[string][]string // user id → open modal view ids, root first
	homes        map[string]*homeTab // user id → published Home tab (home.go)
	responseURLs map[string]*responseURL

	queue      []*envelope // deliveries not yet settled, in creation order
	envelopes  map[string]*envelope
	deliveries []*envelope // every delivery, for Deliveries()
	acks       []Ack
	endpoints  [3]string // HTTP-mode URLs by kind; "" means Socket Mode
	httpBusy   [3]bool   // one HTTP delivery in flight per kind keeps order
	tickets    map[string]time.Time
	conns      []*socketConn
	connects   int
	next       int // round robin over the open sockets
}

// New starts a fake workspace listening on 127.0.0.1 at a free port.
func New(opts Options) (*Fake, error) {
	if err := opts.normalize(); err != nil {
		return nil, err
	}
	f := &Fake{
		opts:         opts,
		wake:         make(chan struct{}, 1),
		changed:      make(chan struct{}),
		scopes:       map[string]bool{},
		users:        map[string]*User{},
		channels:     map[string]*channel{},
		groups:       map[string]*UserGroup{},
		ephemerals:   map[string][]Message{},
		failNext:     map[string][]string{},
		delayNext:    map[string][]time.Duration{},
		rateFor:      map[string]*bucket{},
		triggers:     map[string]*trigger{},
		views:        map[string]*view{},
		stacks:       map[string][]string{},
		homes:        map[string]*homeTab{},
		responseURLs: map[string]*responseURL{},
		envelopes:    map[string]*envelope{},
		tickets:      map[string]time.Time{},
	}
	f.methodRate = f.methodRates(opts.MethodRates)
	if err := f.load(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("slackfake: listen: %w", err)
	}
	f.baseURL = "http://" + ln.Addr().String()
	f.ctx, f.cancel = context.WithCancel(context.Background())
	f.client = &http.Client{Timeout: opts.AckTimeout}
	f.srv = &http.Server{Handler: f.routes(), ReadHeaderTimeout: 10 * time.Second}
	f.wg.Add(2)
	go func() {
		defer f.wg.Done()
		_ = f.srv.Serve(ln) // returns when Close closes the server
	}()
	go f.deliverLoop()
	return f, nil
}

func (o *Options) normalize() error {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&o.TeamID, "T0FAKE")
	def(&o.TeamName, "Fake Workspace")
	def(&o.TeamDomain, "fake-workspace")
	def(&o.AppID, "A0FAKE")
	def(&o.BotToken, "xoxb-fake-bot-token")
	def(&o.AppToken, "xapp-fake-app-token")
	def(&o.SigningSecret, "fake-signing-secret")
	def(&o.VerificationToken, "fake-verification-token")
	def(&o.BotUserID, "U0BOT")
	def(&o.BotID, "B0BOT")
	def(&o.BotName, "liaison")
	if !strings.HasPrefix(o.BotToken, "xoxb-") {
		return errors.New(`slackfake: Options.BotToken: want a bot token starting with "xoxb-"`)
	}
	if !strings.HasPrefix(o.AppToken, "xapp-") {
		return errors.New(`slackfake: Options.AppToken: want an app-level token starting with "xapp-"`)
	}
	if o.Scopes == nil {
		o.Scopes = DefaultScopes()
	}
	if o.RatePerChannel == 0 {
		o.RatePerChannel = 1
	}
	if o.Burst <= 0 {
		o.Burst = 3
	}
	if o.AckTimeout <= 0 {
		o.AckTimeout = 3 * time.Second
	}
	if len(o.RetryDelays) == 0 {
		o.RetryDelays = []time.Duration{0, time.Minute, 5 * time.Minute}
	}
	if len(o.RetryDelays) > maxRetries {
		return fmt.Errorf("slackfake: Options.RetryDelays: %d waits, but Slack retries %d times at most", len(o.RetryDelays), maxRetries)
	}
	for i, d := range o.RetryDelays {
		if d < 0 {
			return fmt.Errorf("slackfake: Options.RetryDelays[%d]: %s is negative", i, d)
		}
	}
	o.RetryDelays = slices.Clone(o.RetryDelays)
	for len(o.RetryDelays) < maxRetries {
		o.RetryDelays = append(o.RetryDelays, o.RetryDelays[len(o.RetryDelays)-1])
	}
	if o.PingInterval <= 0 {
		o.PingInterval = 5 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

// load copies the workspace of the options, checking ids and references.
func (f *Fake) load() error {
	o := f.opts
	for _, s := range o.Scopes {
		f.scopes[s] = true
	}
	bot := User{ID: o.BotUserID, Name: o.BotName, RealName: o.BotName, IsBot: true}
	for i, u := range append([]User{bot}, o.Users...) {
		key := fmt.Sprintf("Options.Users[%d]", i-1)
		if i == 0 {
			key = "Options.BotUserID"
		}
		if !strings.HasPrefix(u.ID, "U") && !strings.HasPrefix(u.ID, "W") {
			return fmt.Errorf("slackfake: %s.ID: %q is not a Slack user id (want U… or W…)", key, u.ID)
		}
		if f.users[u.ID] != nil {
			return fmt.Errorf("slackfake: %s.ID: %q is used twice (the bot user is %s)", key, u.ID, o.BotUserID)
		}
		if u.Name == "" {
			u.Name = strings.ToLower(u.ID)
		}
		if u.RealName == "" {
			u.RealName = u.Name
		}
		f.users[u.ID] = &u
		f.userOrder = append(f.userOrder, u.ID)
	}
	now := o.Now().Unix()
	for i, c := range o.Channels {
		key := fmt.Sprintf("Options.Channels[%d]", i)
		if !strings.HasPrefix(c.ID, "C") && !strings.HasPrefix(c.ID, "G") {
			return fmt.Errorf("slackfake: %s.ID: %q is not a channel id (want C… or G…)", key, c.ID)
		}
		if f.channels[c.ID] != nil {
			return fmt.Errorf("slackfake: %s.ID: %q is used twice", key, c.ID)
		}
		if c.Name == "" {
			return fmt.Errorf("slackfake: %s.Name: empty (want the name without '#')", key)
		}
		ch := &channel{id: c.ID, name: c.Name, private: c.Private, created: now, members: map[string]bool{}, byTS: map[string]*message{}}
		for j, m := range c.Members {
			if f.users[m] == nil {
				return fmt.Errorf("slackfake: %s.Members[%d]: %q is not a user of the workspace", key, j, m)
			}
			ch.members[m] = true
		}
		f.channels[c.ID] = ch
	}
	for i, g := range o.UserGroups {
		key := fmt.Sprintf("Options.UserGroups[%d]", i)
		if !strings.HasPrefix(g.ID, "S") {
			return fmt.Errorf("slackfake: %s.ID: %q is not a user group id (want S…)", key, g.ID)
		}
		for j, m := range g.Users {
			if f.users[m] == nil {
				return fmt.Errorf("slackfake: %s.Users[%d]: %q is not a user of the workspace", key, j, m)
			}
		}
		g.Users = slices.Clone(g.Users)
		if g.Name == "" {
			g.Name = g.Handle
		}
		f.groups[g.ID] = &g
	}
	return nil
}

// Close stops the server, closes every socket and waits for every goroutine
// the fake started. It is safe to call more than once.
func (f *Fake) Close() {
	f.once.Do(func() {
		f.mu.Lock()
		f.closed = true
		for _, c := range f.conns {
			_ = c.ws.Close()
		}
		f.mu.Unlock()
		f.cancel()
		_ = f.srv.Close()
		f.wg.Wait()
		f.client.CloseIdleConnections()
	})
}

// URL returns the server's base URL, "http://127.0.0.1:PORT".
func (f *Fake) URL() string { return f.baseURL }

// APIURL returns the Web API base URL for slack.OptionAPIURL,
// "http://127.0.0.1:PORT/api/".
func (f *Fake) APIURL() string { return f.baseURL + "/api/" }

// BotToken returns the bot token the fake accepts.
func (f *Fake) BotToken() string { return f.opts.BotToken }

// AppToken returns the app-level token the fake accepts.
func (f *Fake) AppToken() string { return f.opts.AppToken }

// SigningSecret returns the secret that signs HTTP-mode deliveries.
func (f *Fake) SigningSecret() string { return f.opts.SigningSecret }

// Changes returns a channel that is closed at the next change of the
// workspace (a message, a call, an ack, a view, a connection…).
func (f *Fake) Changes() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changed
}

// WaitFor returns nil as soon as cond returns true, checking it again after
// every change, or ctx's error once ctx is done. cond may call the fake's
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
			return ctx.Err()
		}
	}
}

// changedLocked wakes everyone waiting in Changes or WaitFor.
func (f *Fake) changedLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *Fake) now() time.Time { return f.opts.Now() }

// tsLocked returns a new message timestamp, "seconds.micros", unique and
// increasing across the workspace even when the clock stands still.
func (f *Fake) tsLocked() string {
	us := f.now().UnixMicro()
	if us <= f.lastTS {
		us = f.lastTS + 1
	}
	f.lastTS = us
	return fmt.Sprintf("%d.%06d", us/1e6, us%1e6)
}

// idLocked returns a readable id unique in this fake: prefix + 8 digits.
func (f *Fake) idLocked(prefix string) string {
	f.seq++
	return fmt.Sprintf("%s%08d", prefix, f.seq)
}

// randomHex returns n random bytes in hex, for tokens nobody should guess.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// uuid returns a random version 4 UUID, the shape of envelope ids.
func uuid() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// goLocked runs fn as a goroutine Close waits for, unless the fake is closing.
// Call with f.mu held.
func (f *Fake) goLocked(fn func()) {
	if f.closed {
		return
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		fn()
	}()
}
