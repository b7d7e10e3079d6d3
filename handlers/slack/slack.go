// Package slack is Liaison's Slack adapter. It turns what Slack sends — message
// events, button clicks, modal submissions, the /liaison command, over Socket
// Mode or HTTP mode — into bot.Service calls, and the outbox's bot.Op values
// into Web API calls through slack-go. One Conn serves one connection of the
// configuration, in the public role (a watched community workspace), the
// internal role (cards, threads, drafts and approvals), or both.
//
// The adapter decides nothing: who may do what, what a card says and what is
// published are the domain's. It translates, escapes what it places in
// mrkdwn, and classifies Slack's errors for the outbox.
package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/liaison-bot/liaison/bot"
)

// Options configure a Conn.
type Options struct {
	Name          string // the connection's name in the config (bot.Op.Conn, bot.Actor.Conn, bot.Incoming.Conn)
	BotToken      string // xoxb-
	AppToken      string // xapp-, Socket Mode
	SigningSecret string // HTTP mode
	HTTPMode      bool
	APIURL        string       // optional slack.OptionAPIURL, ending with "/"
	HTTPClient    *http.Client // optional
	Log           *slog.Logger // optional
}

const (
	// ackWithin bounds how long an event waits for its work before it is
	// acknowledged anyway: Slack redelivers after 3 s.
	ackWithin = 2 * time.Second
	// submitWithin bounds the work of a modal submission, whose answer
	// (validation errors) Slack wants within 3 s.
	submitWithin = 2500 * time.Millisecond
	userTTL      = time.Hour
	groupTTL     = time.Minute
)

// Conn is one Slack connection: a bot token (and app token in Socket Mode)
// on one workspace.
type Conn struct {
	name string
	opts Options
	svc  *bot.Service
	api  *slackapi.Client
	http *http.Client
	log  *slog.Logger

	// intake carries message events to one goroutine, so that a message,
	// its edit and its deletion reach the domain in the order Slack sent them.
	intake chan intakeJob
	// custom: the token may post under a person's name and avatar
	// (chat:write.customize). Assumed until auth.test or an error says not.
	custom atomic.Bool

	mu       sync.Mutex
	started  bool
	ready    chan struct{} // closed once auth.test told us who we are
	self     identity
	ctx      context.Context // Run's, for the work done after an ack
	stopping bool
	wg       sync.WaitGroup // work started after an ack
	users    map[string]userInfo
	groups   map[string]groupInfo
}

var _ bot.Platform = (*Conn)(nil)

// identity is what auth.test says about the bot.
type identity struct {
	UserID  string
	BotID   string
	TeamID  string
	TeamURL string // "https://acme.slack.com/"
}

type intakeJob struct {
	ev   slackevents.EventsAPIEvent
	done func(ok bool)
}

// New returns a connection. It makes no call until Run.
func New(opts Options, svc *bot.Service) (*Conn, error) {
	switch {
	case opts.Name == "":
		return nil, errors.New("slack: Options.Name is empty (want the connection's name in the config)")
	case svc == nil:
		return nil, fmt.Errorf("slack %s: no bot.Service", opts.Name)
	case !strings.HasPrefix(opts.BotToken, "xoxb-"):
		return nil, fmt.Errorf(`slack %s: the bot token must start with "xoxb-"`, opts.Name)
	case !opts.HTTPMode && !strings.HasPrefix(opts.AppToken, "xapp-"):
		return nil, fmt.Errorf(`slack %s: Socket Mode needs an app-level token starting with "xapp-" (or use HTTP mode with a signing secret)`, opts.Name)
	case opts.HTTPMode && opts.SigningSecret == "":
		return nil, fmt.Errorf("slack %s: HTTP mode needs the app's signing secret", opts.Name)
	}
	c := &Conn{
		name: opts.Name, opts: opts, svc: svc, http: opts.HTTPClient, log: opts.Log,
		intake: make(chan intakeJob, 256),
		ready:  make(chan struct{}),
		users:  map[string]userInfo{}, groups: map[string]groupInfo{},
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: 30 * time.Second}
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.log = c.log.With("conn", opts.Name, "platform", bot.KindSlack)
	apiOpts := []slackapi.Option{slackapi.OptionHTTPClient(c.http)}
	if opts.AppToken != "" {
		apiOpts = append(apiOpts, slackapi.OptionAppLevelToken(opts.AppToken))
	}
	if opts.APIURL != "" {
		apiOpts = append(apiOpts, slackapi.OptionAPIURL(opts.APIURL))
	}
	c.api = slackapi.New(opts.BotToken, apiOpts...)
	c.custom.Store(true)
	return c, nil
}

// Kind is bot.KindSlack.
func (c *Conn) Kind() string { return bot.KindSlack }

// Capabilities says whether public posts can carry a person's name and avatar.
func (c *Conn) Capabilities() bot.Capabilities {
	return bot.Capabilities{CustomIdentity: c.custom.Load()}
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
	// Work started after an ack runs under runCtx, so that it stops both
	// when the caller cancels and when the socket gives up for good.
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	c.mu.Lock()
	c.ctx = runCtx
	c.mu.Unlock()
	close(c.ready)

	c.goWork(c.runIntake)
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
	return err
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
			return fmt.Errorf("slack %s: auth.test: %w (check the bot token)", c.name, err)
		}
		c.log.Warn("auth.test failed, retrying", "err", err, "in", wait)
		if !sleep(ctx, wait) {
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

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
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

// enqueue hands an event to the intake goroutine; done is called with
// whether it was taken in.
func (c *Conn) enqueue(ctx context.Context, ev slackevents.EventsAPIEvent, done func(ok bool)) bool {
	select {
	case c.intake <- intakeJob{ev: ev, done: done}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (c *Conn) runIntake(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return // what is left is not acked: Slack sends it again
		case j := <-c.intake:
			j.done(c.handleEvent(ctx, j.ev))
		}
	}
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

// user returns a user's names from users.info, cached; on failure only the
// id is known, and intake goes on.
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
		if ok {
			return u // stale is better than nothing
		}
		return userInfo{Name: id}
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
// them in the payload, with the approver user groups they belong to.
func (c *Conn) actor(ctx context.Context, userID, fallbackName string) bot.Actor {
	u := c.user(ctx, userID)
	a := bot.Actor{Conn: c.name, UserID: userID, Name: firstOf(u.RealName, u.Display, fallbackName, u.Name)}
	for _, g := range c.approverGroups() {
		members, err := c.groupMembers(ctx, g)
		if err != nil {
			// Refusing is safer than guessing: the user may click again.
			c.log.Warn("usergroups.users.list failed", "group", g, "err", err)
			continue
		}
		if slices.Contains(members, userID) {
			a.Groups = append(a.Groups, g)
		}
	}
	return a
}

// approverGroups lists the user groups named as approvers of routes whose
// cards this connection shows: only their membership matters.
func (c *Conn) approverGroups() []string {
	var out []string
	for _, rt := range c.svc.Router.Routes() {
		if rt.DestConn != c.name {
			continue
		}
		for _, a := range rt.Policy.Approvers {
			if strings.HasPrefix(a, "S") && !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}

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
