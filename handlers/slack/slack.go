// Package slack is Liaison's Slack adapter. It turns what Slack sends — message
// events, button clicks, modal submissions, the /liaison command, the opening
// of the app's Home tab, over Socket Mode or HTTP mode — into calls of the
// domain (Receive, Edit, Delete, Interact, HomeOpened), and the outbox's
// bot.Op values into Web API calls through
// slack-go. One Conn serves one connection of the configuration, in the
// public role (a watched community workspace), the internal role (cards,
// threads, drafts and approvals), or both.
//
// It acknowledges what Slack sends only once the domain has it: a message
// event once stored (kept and retried while the database is down, see
// inbox.go), a click, command or form once its effect is committed. Slack
// sends again a message event left unacknowledged, and shows the person an
// interaction left unacknowledged as failed.
//
// The adapter decides nothing and words nothing: which messages are ignored,
// who may do what, every label, limit and text people read are the domain's.
// It translates payloads into bot.Incoming and bot.Request values, renders
// cards, actions and forms as Block Kit within Slack's own limits, escapes
// what it places in mrkdwn, and classifies Slack's errors for the outbox.
package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/internal/pause"
)

// Domain is what the adapter needs of Liaison's domain; *bot.Service is one.
type Domain interface {
	// Receive takes a message; it drops those of bots, webhooks and
	// Liaison itself, and those of channels nobody watches.
	Receive(ctx context.Context, in bot.Incoming) (bot.Intake, error)
	// Edit and Delete record a change of a message Receive took in; a
	// zero time means now.
	Edit(ctx context.Context, key bot.MessageKey, text string, at time.Time) error
	Delete(ctx context.Context, key bot.MessageKey, at time.Time) error
	// Interact answers a click, a form submission or a command.
	Interact(ctx context.Context, req bot.Request) bot.Reply
	// Watches says whether a channel is a watched public channel: only
	// to spare look-ups for the others.
	Watches(conn, channel string) bool
	// StaffGroups lists the groups whose membership actors must report.
	StaffGroups(conn string) []string
	// HomeOpened records that a person opened the app's Home tab, and
	// publishes it.
	HomeOpened(ctx context.Context, actor bot.Actor) error
}

var _ Domain = (*bot.Service)(nil)

// Options configure a Conn.
type Options struct {
	Name          string // the connection's name in the config (bot.Op.Conn, bot.Actor.Conn, bot.Incoming.Conn)
	BotToken      string // xoxb-
	AppToken      string // xapp-, Socket Mode
	SigningSecret string // HTTP mode
	HTTPMode      bool
	// APIURL is the platform's base URL, "https://slack.com" by default, or
	// a fake's "http://127.0.0.1:PORT"; the Web API is under its /api/.
	APIURL string
	// Transport carries the Web API and response_url calls; nil means
	// http.DefaultTransport.
	Transport http.RoundTripper
	Log       *slog.Logger // optional
	// Metrics counts Socket Mode reconnections and reports whether the
	// socket is up; nil counts nothing.
	Metrics bot.Metrics
}

const (
	// storeWithin bounds how long an HTTP-mode event waits to be stored
	// before it is answered with an error, within Slack's 3 s: Slack sends
	// it again, and the inbox keeps trying meanwhile.
	storeWithin = 2500 * time.Millisecond
	// interactWithin bounds the work of a click, a command or a form, whose
	// ack Slack wants within 3 s: past it the domain's transaction is
	// cancelled (rolled back) and nothing is acknowledged, so Slack tells
	// the person it failed.
	interactWithin = 2500 * time.Millisecond
	// lookupWithin bounds the look-ups that name the person acting: a
	// trigger_id lasts 3 s, and the form must open within them.
	lookupWithin = time.Second
	// httpTimeout bounds one Web API call.
	httpTimeout = 30 * time.Second
	userTTL     = time.Hour
	groupTTL    = time.Minute
)

// Conn is one Slack connection: a bot token (and app token in Socket Mode)
// on one workspace.
type Conn struct {
	name   string
	opts   Options
	domain Domain
	api    *slackapi.Client
	http   *http.Client
	log    *slog.Logger

	metrics bot.Metrics
	// inbox holds message events until the domain has stored them.
	inbox inbox
	// custom: the token may post under a person's name and avatar
	// (chat:write.customize). Assumed until auth.test or an error says not.
	custom atomic.Bool
	// connected: the Socket Mode socket is up.
	connected atomic.Bool
	// sockets counts the Socket Mode sockets opened (runSocket's alone).
	sockets int
	// findPage and findPages: see Find; tests make them small.
	findPage, findPages int

	mu       sync.Mutex
	started  bool
	ready    chan struct{} // closed once auth.test told us who we are
	self     identity
	ctx      context.Context // Run's, for the work it waits for
	stopping bool
	wg       sync.WaitGroup // work Run waits for
	users    map[string]userInfo
	groups   map[string]groupInfo
}

var (
	_ bot.Platform = (*Conn)(nil)
	_ bot.Paced    = (*Conn)(nil)
)

// identity is what auth.test says about the bot.
type identity struct {
	UserID  string
	BotID   string
	TeamID  string
	TeamURL string // "https://acme.slack.com/"
}

// New returns a connection. It makes no call until Run.
func New(opts Options, d Domain) (*Conn, error) {
	switch {
	case opts.Name == "":
		return nil, errors.New("slack: Options.Name is empty (want the connection's name in the config)")
	case d == nil:
		return nil, fmt.Errorf("slack %s: no domain", opts.Name)
	case !strings.HasPrefix(opts.BotToken, "xoxb-"):
		return nil, fmt.Errorf(`slack %s: the bot token must start with "xoxb-"`, opts.Name)
	case !opts.HTTPMode && !strings.HasPrefix(opts.AppToken, "xapp-"):
		return nil, fmt.Errorf(`slack %s: Socket Mode needs an app-level token starting with "xapp-" (or use HTTP mode with a signing secret)`, opts.Name)
	case opts.HTTPMode && opts.SigningSecret == "":
		return nil, fmt.Errorf("slack %s: HTTP mode needs the app's signing secret", opts.Name)
	}
	apiURL, err := webAPIURL(opts.APIURL)
	if err != nil {
		return nil, fmt.Errorf("slack %s: %w", opts.Name, err)
	}
	transport := opts.Transport
	if transport == nil {
		transport = http.DefaultTransport
	}
	c := &Conn{
		name: opts.Name, opts: opts, domain: d, log: opts.Log,
		http:     &http.Client{Transport: transport, Timeout: httpTimeout},
		metrics:  opts.Metrics,
		inbox:    newInbox(),
		findPage: findPage, findPages: findPages,
		ready: make(chan struct{}),
		users: map[string]userInfo{}, groups: map[string]groupInfo{},
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.metrics == nil {
		c.metrics = bot.NoMetrics
	}
	c.log = c.log.With("conn", opts.Name, "platform", bot.KindSlack)
	apiOpts := []slackapi.Option{slackapi.OptionHTTPClient(c.http)}
	if opts.AppToken != "" {
		apiOpts = append(apiOpts, slackapi.OptionAppLevelToken(opts.AppToken))
	}
	if apiURL != "" {
		apiOpts = append(apiOpts, slackapi.OptionAPIURL(apiURL))
	}
	c.api = slackapi.New(opts.BotToken, apiOpts...)
	c.custom.Store(true)
	return c, nil
}

// webAPIURL turns the platform's base URL into the Web API's, which
// slack-go wants ending with "/" (it appends the method name). Empty stays
// empty: slack-go's default.
func webAPIURL(base string) (string, error) {
	if base == "" {
		return "", nil
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("APIURL %q is not an http(s) URL (want the platform's base URL, e.g. https://slack.com)", base)
	}
	path := strings.TrimRight(u.Path, "/")
	if path == "/api" || strings.HasSuffix(path, "/api") {
		return "", fmt.Errorf("APIURL %q ends with /api (want the platform's base URL, e.g. https://slack.com: /api/ is added)", base)
	}
	return strings.TrimRight(base, "/") + "/api/", nil
}

// Kind is bot.KindSlack.
func (c *Conn) Kind() string { return bot.KindSlack }

// Slack's documented limits.
const (
	// maxNote: Slack truncates a message's text past 40,000 characters and
	// advises keeping it under 4,000.
	maxNote = 4000
	// postEvery and postBurst: chat.postMessage allows about one message a
	// second per channel, with short bursts.
	postEvery = time.Second
	postBurst = 3
)

// Capabilities says whether public posts can carry a person's name and
// avatar, and how long a note may be.
func (c *Conn) Capabilities() bot.Capabilities {
	return bot.Capabilities{CustomIdentity: c.custom.Load(), MaxNote: maxNote}
}

// Limits are Slack's posting limit per channel, and views.publish's per
// workspace. Its other limits, per method and workspace, are met by the 429
// and Retry-After that the worker waits out.
func (c *Conn) Limits() bot.Limits {
	return bot.Limits{Post: bot.Limit{Every: postEvery, Burst: postBurst}, Home: bot.Limit{Every: homeEvery, Burst: homeBurst}}
}

// Health reports nil once the connection works: auth.test succeeded and, in
// Socket Mode, the socket is connected. Otherwise it says what is missing.
func (c *Conn) Health() error {
	select {
	case <-c.ready:
	default:
		return fmt.Errorf("slack %s: not authenticated yet (auth.test has not succeeded)", c.name)
	}
	c.mu.Lock()
	stopping := c.stopping
	c.mu.Unlock()
	switch {
	case stopping:
		return fmt.Errorf("slack %s: stopped", c.name)
	case !c.opts.HTTPMode && !c.connected.Load():
		return fmt.Errorf("slack %s: the Socket Mode connection is down", c.name)
	}
	return nil
}

// Run learns who the bot is (auth.test), then serves Socket Mode until ctx is
// cancelled, reconnecting when the socket drops; in HTTP mode it only waits,
// Handler doing the serving. It returns nil once ctx is cancelled and every
// piece of work it started has stopped, or an error Slack will not get over
// (a revoked token). Run is called once.
func (c *Conn) Run(ctx context.Context) error {
	c.mu.Lock()
	if c.started {
		c.mu.Unlock()
		return fmt.Errorf("slack %s: Run called twice", c.name)
	}
	c.started = true
	c.mu.Unlock()

	if err := c.authenticate(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	// Work runs under runCtx, so that it stops both when the caller
	// cancels and when the socket gives up for good. What the inbox still
	// holds then was never acknowledged: Slack sends it again.
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	c.mu.Lock()
	c.ctx = runCtx
	c.mu.Unlock()
	close(c.ready)

	c.goWork(c.warmGroups)
	var err error
	if c.opts.HTTPMode {
		<-runCtx.Done()
	} else {
		err = c.runSocket(runCtx)
	}
	cancel()
	c.mu.Lock()
	c.stopping = true
	c.mu.Unlock()
	c.wg.Wait()
	return c.scrub(err)
}

// authenticate calls auth.test until it answers: the bot's own ids (to drop
// its own messages), the team's URL (for permalinks) and the granted scopes.
func (c *Conn) authenticate(ctx context.Context) error {
	wait := time.Second
	for {
		res, err := c.api.AuthTestContext(ctx)
		if err == nil {
			c.mu.Lock()
			c.self = identity{UserID: res.UserID, BotID: res.BotID, TeamID: res.TeamID, TeamURL: res.URL}
			c.mu.Unlock()
			if scopes := res.Header.Get("X-OAuth-Scopes"); scopes != "" {
				granted := slices.Contains(splitScopes(scopes), "chat:write.customize")
				c.custom.Store(granted)
				if !granted {
					c.log.Warn("the Slack app lacks chat:write.customize: public replies will carry a signature line instead of the person's name and avatar")
				}
			}
			c.log.Info("slack connected", "team", res.TeamID, "bot_user", res.UserID)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var se slackapi.SlackErrorResponse
		if errors.As(err, &se) {
			return c.scrub(fmt.Errorf("slack %s: auth.test: %w (check the bot token)", c.name, err))
		}
		c.log.Warn("auth.test failed, retrying", "err", err, "in", wait)
		if !pause.For(ctx, wait) {
			return ctx.Err()
		}
		wait = min(2*wait, 30*time.Second)
	}
}

func splitScopes(s string) []string {
	out := strings.Split(s, ",")
	for i := range out {
		out[i] = strings.TrimSpace(out[i])
	}
	return out
}

func (c *Conn) identity() identity {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.self
}

// foreign reports a payload from another workspace than this connection's.
// One Slack app installed in two workspaces sends both workspaces' payloads
// over the same sockets and URLs: each connection needs an app of its own.
func (c *Conn) foreign(team string) bool {
	own := c.identity().TeamID
	if team == "" || own == "" || team == own {
		return false
	}
	c.log.Error("payload from another workspace dropped: give each connection its own Slack app", "team", team, "own_team", own)
	return true
}

// running returns Run's context once the connection knows who it is, or
// false before that and once it is stopping.
func (c *Conn) running() (context.Context, bool) {
	select {
	case <-c.ready:
	default:
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopping || c.ctx.Err() != nil {
		return nil, false
	}
	return c.ctx, true
}

// goWork runs fn with Run's context as work Run waits for. It reports false,
// running nothing, when the connection is not running.
func (c *Conn) goWork(fn func(ctx context.Context)) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctx == nil || c.stopping || c.ctx.Err() != nil {
		return false
	}
	ctx := c.ctx
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		fn(ctx)
	}()
	return true
}

// userInfo is what Liaison needs of a Slack user.
type userInfo struct {
	Name     string // handle
	RealName string
	Display  string
	Title    string
	Avatar   string // image_192
	at       time.Time
}

// shown is the name people see in Slack.
func (u userInfo) shown() string { return firstOf(u.Display, u.RealName, u.Name) }

// user returns a user's profile from users.info, cached; on failure nothing
// is known but the id, and the caller goes on.
func (c *Conn) user(ctx context.Context, id string) userInfo {
	c.mu.Lock()
	u, ok := c.users[id]
	c.mu.Unlock()
	if ok && time.Since(u.at) < userTTL {
		return u
	}
	info, err := c.api.GetUserInfoContext(ctx, id)
	if err != nil {
		c.log.Warn("users.info failed", "user", id, "err", err)
		return u // stale is better than nothing
	}
	u = userInfo{
		Name: info.Name, RealName: firstOf(info.Profile.RealName, info.RealName), Display: info.Profile.DisplayName,
		Title: info.Profile.Title, Avatar: info.Profile.Image192, at: time.Now(),
	}
	c.mu.Lock()
	c.users[id] = u
	c.mu.Unlock()
	return u
}

type groupInfo struct {
	members []string
	at      time.Time
}

// actor is the person who clicked, typed or submitted, as Slack identified
// them in the payload: their profile, and the approver user groups they
// belong to. Its look-ups are cached and bounded by lookupWithin, so that a
// form can still open within its trigger's 3 seconds.
func (c *Conn) actor(ctx context.Context, userID string) bot.Actor {
	ctx, cancel := context.WithTimeout(ctx, lookupWithin)
	defer cancel()
	u := c.user(ctx, userID)
	a := bot.Actor{Conn: c.name, UserID: userID, Name: firstOf(u.RealName, u.Display), Title: u.Title, AvatarURL: u.Avatar}
	for _, g := range c.staffGroups() {
		members, err := c.groupMembers(ctx, g)
		if err != nil {
			// Reporting no membership refuses rather than guesses: the
			// person may try again.
			c.log.Warn("usergroups.users.list failed", "group", g, "err", err)
			continue
		}
		if slices.Contains(members, userID) {
			a.Groups = append(a.Groups, g)
		}
	}
	return a
}

// staffGroups lists the Slack user groups (ids starting with S) among the
// approvers and responders of routes whose cards this connection shows.
func (c *Conn) staffGroups() []string {
	var out []string
	for _, a := range c.domain.StaffGroups(c.name) {
		if strings.HasPrefix(a, "S") {
			out = append(out, a)
		}
	}
	return out
}

// warmGroups fills the user-group cache at start, so that the first click
// of an approver does not wait for it.
func (c *Conn) warmGroups(ctx context.Context) {
	for _, g := range c.staffGroups() {
		if _, err := c.groupMembers(ctx, g); err != nil && ctx.Err() == nil {
			c.log.Warn("usergroups.users.list failed", "group", g, "err", err)
		}
	}
}

// groupMembers returns a user group's members, cached for groupTTL. Stale
// members are not used when Slack does not answer: someone just removed
// from a group must not approve.
func (c *Conn) groupMembers(ctx context.Context, id string) ([]string, error) {
	c.mu.Lock()
	g, ok := c.groups[id]
	c.mu.Unlock()
	if ok && time.Since(g.at) < groupTTL {
		return g.members, nil
	}
	members, err := c.api.GetUserGroupMembersContext(ctx, id)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.groups[id] = groupInfo{members: members, at: time.Now()}
	c.mu.Unlock()
	return members, nil
}

func firstOf(s ...string) string {
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}
