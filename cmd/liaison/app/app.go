// Package app is Liaison's composition root: the one place that wires a
// config into a store, the domain service, the outbox worker, the HTTP
// surface and one adapter per connection. `liaison run`, `liaison demo` and
// the end-to-end tests all start Liaison through it.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	dg "github.com/bwmarrin/discordgo"
	"golang.org/x/sync/errgroup"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/config"
	"github.com/liaison-bot/liaison/handlers/discord"
	"github.com/liaison-bot/liaison/handlers/slack"
	"github.com/liaison-bot/liaison/handlers/web"
	"github.com/liaison-bot/liaison/internal/redact"
	"github.com/liaison-bot/liaison/storage"
)

// Options adjust how Liaison is started; the zero value is `liaison run`.
type Options struct {
	// Log receives Liaison's logs; nil means slog.Default().
	Log *slog.Logger
	// Listener, if set, serves the HTTP surface instead of http.addr.
	Listener net.Listener
	// Owner names this process's outbox worker; "" means host-pid.
	Owner string
	// Transport, if set, wraps the HTTP transport of connection conn
	// (tests put faults between Liaison and a platform).
	Transport func(conn string, rt http.RoundTripper) http.RoundTripper
	// Discord, if set, is applied last to each Discord session.
	Discord func(conn string, s *dg.Session)
	// Worker, if set, adjusts the outbox worker before it runs.
	Worker func(*bot.Worker)
}

// Connection is one adapter: the domain's port to a platform, its event
// loop and its readiness.
type Connection interface {
	bot.Platform
	Run(ctx context.Context) error
	Health() error
}

// App is Liaison, wired and ready to run.
type App struct {
	Config  *config.Config
	DB      *storage.DB
	Service *bot.Service
	Worker  *bot.Worker
	Web     *web.Server
	Conns   map[string]Connection
	Digests *Digests

	opts  Options
	log   *slog.Logger
	owner string // this process among replicas: its worker, its leases
}

// Open opens and migrates the database the config names, builds the domain
// and one adapter per connection, and seeds the configured profiles.
// Nothing connects to a platform until Run.
func Open(ctx context.Context, cfg *config.Config, opts Options) (*App, error) {
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	// No log line shows a credential: neither a configured one nor one an
	// adapter learns later (a webhook's token, see redact.Hide).
	log = redact.Logger(log, secrets(cfg)...)
	db, err := OpenStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	owner := opts.Owner
	if owner == "" {
		host, _ := os.Hostname()
		owner = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	a := &App{Config: cfg, DB: db, Conns: map[string]Connection{}, opts: opts, log: log, owner: owner}
	metrics := web.NewMetrics()
	a.Service = bot.NewService(db, nil, router(cfg), settings(cfg))
	a.Service.Log, a.Service.Metrics = log, metrics
	report, err := a.Service.SeedProfiles(ctx, staffProfiles(cfg))
	if err != nil {
		db.Close()
		return nil, err
	}
	for _, line := range report.Applied {
		log.Info("profile seeded from the config", "change", line)
	}
	for _, line := range report.Kept {
		log.Warn("config and database disagree on a profile", "kept", line)
	}
	for _, line := range report.Conflicts {
		log.Error("config profile conflict", "problem", line)
	}
	h := cfg.HTTP
	a.Web = web.NewServer(web.Options{
		Addr: h.Addr, MetricsAddr: h.MetricsAddr, DashboardAddr: cfg.Dashboard.Addr,
		ReadHeaderTimeout: h.ReadHeaderTimeout, ReadTimeout: h.ReadTimeout,
		WriteTimeout: h.WriteTimeout, IdleTimeout: h.IdleTimeout,
	}, storeProbe{db}, metrics)
	a.Web.Log = log
	a.Web.Dashboard(web.ServiceSource(a.Service), cfg.Dashboard.Token.Reveal())
	metrics.WatchOutbox(db, a.Service.Clock)
	for i, c := range cfg.Connections {
		conn, err := a.connection(c)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("connections[%d] %s: %w", i, c.Name, err)
		}
		a.Conns[c.Name] = conn
		a.Service.Platforms[c.Name] = conn
		a.Web.AddCheck("connection "+c.Name, conn.Health)
		metrics.WatchConnection(c.Name, conn.Health)
	}
	a.Worker = a.Service.NewWorker(owner)
	if opts.Worker != nil {
		opts.Worker(a.Worker)
	}
	if a.Digests, err = newDigests(cfg, a.Service, log); err != nil {
		db.Close()
		return nil, err
	}
	return a, nil
}

// OpenStore opens and migrates the database the config names.
func OpenStore(ctx context.Context, cfg *config.Config) (*storage.DB, error) {
	dsn := cfg.Database.SQLitePath
	if cfg.Database.URL != "" {
		dsn = cfg.Database.URL.Reveal()
	}
	db, err := storage.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// storeProbe is the database check of /readyz: a write, committed, through
// the path every flow takes (storage.DB.Probe). A ping is not enough: on
// SQLite it answers while the disk is full or another process holds the
// write lock, and nothing can be stored.
type storeProbe struct{ db *storage.DB }

func (p storeProbe) Ping(ctx context.Context) error { return p.db.Probe(ctx) }

// connection builds the adapter for one connection of the config. Its log
// lines name it (conn=…): the adapter adds that itself.
func (a *App) connection(c config.Connection) (Connection, error) {
	log := a.log
	var rt http.RoundTripper = http.DefaultTransport
	if a.opts.Transport != nil {
		rt = a.opts.Transport(c.Name, rt)
	}
	switch c.Platform {
	case config.Slack:
		sc, err := slack.New(slack.Options{
			Name: c.Name, BotToken: c.BotToken.Reveal(), AppToken: c.AppToken.Reveal(),
			SigningSecret: c.SigningSecret.Reveal(), HTTPMode: c.Mode == config.ModeHTTP,
			APIURL: c.APIURL, Transport: rt, Log: log, Metrics: a.Service.Metrics,
		}, a.Service)
		if err != nil {
			return nil, err
		}
		if c.Mode == config.ModeHTTP {
			prefix := "/slack/" + c.Name
			a.Web.Handle(prefix+"/", http.StripPrefix(prefix, sc.Handler()))
			log.Info("slack http mode", "conn", c.Name, "events", prefix+"/events", "interactivity", prefix+"/interactivity", "commands", prefix+"/commands")
		}
		return sc, nil
	case config.Discord:
		opts := discord.Options{
			Name: c.Name, Token: c.Token.Reveal(), GuildID: c.GuildID, ApplicationID: c.ApplicationID,
			APIURL: c.APIURL, Transport: rt, Log: log, Metrics: a.Service.Metrics,
			Owner: a.owner, Backfill: c.Backfill, Pacer: a.Service.Pacer,
		}
		if a.opts.Discord != nil {
			name := c.Name
			opts.Configure = func(s *dg.Session) { a.opts.Discord(name, s) }
		}
		return discord.New(opts, a.Service)
	}
	return nil, fmt.Errorf("platform %q is not supported", c.Platform)
}

// Run connects every connection and runs Liaison until ctx ends: the
// adapters, the outbox worker, the HTTP surface, SLA reminders and the
// retention purge. It returns once all of them have stopped.
//
// When ctx ends (or one part fails), intake stops at once: the adapters
// and the HTTP surface take no more events. The worker finishes the call
// it has in flight, within its grace period, and hands back the jobs it
// holds; the adapters release what they hold. Run waits for all of it, so
// the database, which those last steps write to, is to be closed only
// after Run returned.
func (a *App) Run(ctx context.Context) error {
	start := time.Now()
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		<-ctx.Done()
		a.log.Info("liaison stopping: intake stopped, finishing calls in flight", "why", context.Cause(ctx), "ran", time.Since(start).Round(time.Second).String())
		return nil
	})
	for name, c := range a.Conns {
		g.Go(func() error {
			if err := c.Run(ctx); err != nil {
				return fmt.Errorf("connection %s: %w", name, err)
			}
			return nil
		})
	}
	g.Go(func() error { return a.Worker.Run(ctx) })
	g.Go(func() error { return a.Digests.Run(ctx) })
	g.Go(func() error {
		if a.opts.Listener != nil {
			return a.Web.Serve(ctx, a.opts.Listener)
		}
		return a.Web.Run(ctx)
	})
	g.Go(func() error {
		return every(ctx, time.Minute, func() {
			if err := a.Service.Attend(ctx); err != nil && ctx.Err() == nil {
				a.log.Error("attention", "err", err)
			}
		})
	})
	if keep := a.Config.Retention; keep > 0 {
		g.Go(func() error {
			return every(ctx, time.Hour, func() {
				if n, err := a.Service.Purge(ctx, keep); err != nil && ctx.Err() == nil {
					a.log.Error("retention purge", "err", err)
				} else if n > 0 {
					a.log.Info("retention purge", "messages", n)
				}
			})
		})
	}
	a.log.Info("liaison running", "engine", a.DB.Engine(), "connections", len(a.Conns))
	return g.Wait()
}

// Close closes the database. Call it after Run returned.
func (a *App) Close() error { return a.DB.Close() }

// every runs fn now and then every interval until ctx ends.
func every(ctx context.Context, interval time.Duration, fn func()) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		fn()
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// ErrNoDatabase: the config's database does not exist yet.
var ErrNoDatabase = errors.New("no database yet")

// ProfileDrift compares the profiles the config declares with the
// database, changing nothing: what the next start would apply, and where
// the two disagree. It neither creates nor migrates the database.
func ProfileDrift(ctx context.Context, cfg *config.Config) (bot.SeedReport, error) {
	dsn := cfg.Database.SQLitePath
	if cfg.Database.URL != "" {
		dsn = cfg.Database.URL.Reveal()
	} else if _, err := os.Stat(dsn); errors.Is(err, os.ErrNotExist) {
		return bot.SeedReport{}, ErrNoDatabase
	}
	db, err := storage.Open(ctx, dsn)
	if err != nil {
		return bot.SeedReport{}, err
	}
	defer db.Close()
	cur, latest, err := db.SchemaVersion(ctx)
	if err != nil {
		return bot.SeedReport{}, err
	}
	if cur != latest {
		return bot.SeedReport{}, &storage.SchemaError{Current: cur, Latest: latest}
	}
	svc := bot.NewService(db, nil, router(cfg), settings(cfg))
	return svc.ProfileDrift(ctx, staffProfiles(cfg))
}
