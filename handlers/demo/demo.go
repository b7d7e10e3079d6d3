// Package demo runs `liaison demo`: the whole of Liaison on one machine with
// no account and no network. It starts a fake Slack workspace ("Acme HQ",
// the team) and a fake Discord server ("Acme Community", the public), the
// real adapters and SDKs connected to them over 127.0.0.1, the real store
// (SQLite) and the outbox worker, all configured by a real config file
// (demo.yaml, read by config.Parse) and wired by the same composition root
// as `liaison run` (cmd/liaison/app).
//
// A web page shows both platforms side by side, live, drawn from what the
// fakes recorded, and lets the visitor act as the community member, a
// volunteer, a manager or a colleague without rights: every action goes
// through the fakes as a platform event or interaction, never to the bot
// directly. Before the page is ready, a week of earlier questions and
// answers is played through the fakes (history.go), so that the managers'
// dashboard, served on the page at /dashboard, has figures to show. With
// Script set, a scripted story runs instead, from an empty history, and
// checks each step against the fakes' records.
package demo

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	dg "github.com/bwmarrin/discordgo"
	"golang.org/x/sync/errgroup"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/cmd/liaison/app"
	"github.com/liaison-bot/liaison/config"
	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
	"github.com/liaison-bot/liaison/handlers/web"
)

// DefaultAddr is where the page is served unless Options.Addr says otherwise.
const DefaultAddr = "127.0.0.1:8080"

// readyWithin bounds how long the adapters may take to connect to the fakes.
const readyWithin = 30 * time.Second

// Options configure a demo.
type Options struct {
	// Addr is the page's listen address; "" means DefaultAddr, or a free
	// port on 127.0.0.1 in Script mode.
	Addr string
	// DBPath is the SQLite file; "" means a fresh file in a temporary
	// directory, removed at the end. The fakes always start empty.
	DBPath string
	// Script runs the scripted story, prints its transcript to Out and
	// returns; an error says which step failed and why.
	Script bool
	// Out receives the address of the page, or the script's transcript.
	Out io.Writer
	// Log receives Liaison's warnings and errors; nil discards them.
	Log io.Writer
	// Ready, if set, is called with the page's URL once everything is
	// connected and the history played.
	Ready func(url string)

	// Tests break the demo on purpose with these.
	fakes      func(*slackfake.Options, *discordfake.Options)
	stepWithin time.Duration
	// noHistory starts with no past, as Script does.
	noHistory bool
}

// world is one running demo: the two fakes and the Liaison between them.
type world struct {
	slack   *slackfake.Fake
	discord *discordfake.Fake
	base    string // the page's URL, "http://127.0.0.1:8080"
	clock   *clock // the fakes' and Liaison's time
	outbox  outbox // Liaison's outbox, to wait for it
	// dashboard is the managers' dashboard token, made anew at each start.
	dashboard string
	// history, if not zero, is when the history ends: the demo plays it
	// before it is ready.
	history time.Time
}

// Run starts the demo and serves the page until ctx ends, or runs the
// script. Everything it started has stopped when it returns.
func Run(ctx context.Context, opts Options) error {
	out := opts.Out
	if out == nil {
		out = io.Discard
	}
	logw := opts.Log
	if logw == nil {
		logw = io.Discard
	}
	log := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelWarn}))

	addr := opts.Addr
	if addr == "" {
		addr = DefaultAddr
		if opts.Script {
			addr = "127.0.0.1:0"
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("demo: the page cannot listen on %s: %w (choose another with --addr)", addr, err)
	}
	defer ln.Close()
	w := &world{base: pageURL(ln.Addr()), clock: &clock{}, dashboard: rand.Text()}
	if !opts.Script && !opts.noHistory && !exists(opts.DBPath) {
		// The clock starts in the past, and the history brings it to now.
		// A database kept from an earlier demo has its history already.
		w.history = time.Now()
		w.clock.offset = -historySpan()
	}

	// The fakes are closed last, once nothing talks to them any more.
	sopts, dopts := slackOptions(), discordOptions()
	sopts.Now, dopts.Now = w.clock.Now, w.clock.Now
	for i := range sopts.Users {
		sopts.Users[i].AvatarURL = w.base + "/avatars/" + sopts.Users[i].Name + ".svg"
	}
	if opts.fakes != nil {
		opts.fakes(&sopts, &dopts)
	}
	if w.slack, err = slackfake.New(sopts); err != nil {
		return fmt.Errorf("demo: start the Slack fake: %w", err)
	}
	defer w.slack.Close()
	if w.discord, err = discordfake.New(dopts); err != nil {
		return fmt.Errorf("demo: start the Discord fake: %w", err)
	}
	defer w.discord.Close()

	dbPath := opts.DBPath
	if dbPath == "" {
		dir, err := os.MkdirTemp("", "liaison-demo-")
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		defer os.RemoveAll(dir)
		dbPath = filepath.Join(dir, "liaison.db")
	}
	cfg, err := config.Parse(demoConfig, w.env(dbPath))
	if err != nil {
		return fmt.Errorf("demo: the demo config: %w", err)
	}
	// The real Liaison, wired as `liaison run` wires it; the config points
	// its connections at the fakes (api_url).
	liaison, err := app.Open(ctx, cfg, app.Options{
		Log: log, Owner: "demo",
		Discord: func(_ string, s *dg.Session) { s.LogLevel = -1 }, // discordgo prints its reconnects otherwise
		Worker: func(wk *bot.Worker) {
			wk.Poll, wk.BaseBackoff = 200*time.Millisecond, 200*time.Millisecond
		},
	})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer liaison.Close()
	liaison.Service.Clock, w.outbox = w.clock.service, liaison.DB

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := liaison.Run(ctx); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		return nil
	})
	page := newPage(w, liaison.Web.DashboardHandler())
	// No write timeout: the page's event stream stays open while it is shown.
	srv := &http.Server{Handler: page, BaseContext: func(net.Listener) context.Context { return ctx },
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	shutdown := web.Graceful(srv)
	g.Go(func() error { page.hub.run(ctx, w); return nil })
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("demo: serve the page: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		// Live pages hold their event streams open until ctx ends, which
		// BaseContext passes on to them: Shutdown then has nothing to wait for.
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		return shutdown(sctx)
	})

	result := w.run(ctx, opts, out)
	cancel()
	if err := g.Wait(); err != nil && result == nil && !errors.Is(err, context.Canceled) {
		result = err
	}
	return result
}

// run waits for the adapters, then runs the script or waits for ctx.
func (w *world) run(ctx context.Context, opts Options, out io.Writer) error {
	if err := w.waitReady(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // stopped while starting; an adapter's error, if any, is Run's
		}
		return err
	}
	if !w.history.IsZero() {
		fmt.Fprintf(out, "Liaison demo: playing a week of questions and answers, for the dashboard…\n")
		if err := w.playHistory(ctx, w.history, stepWithin); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
	if opts.Ready != nil {
		opts.Ready(w.base)
	}
	if opts.Script {
		within := opts.stepWithin
		if within <= 0 {
			within = stepWithin
		}
		return runScript(ctx, w, out, within)
	}
	fmt.Fprintf(out, "Liaison demo: open %s\n", w.base)
	fmt.Fprintf(out, "  the managers' dashboard: %s (token %s, made for this demo only)\n", w.dashboardURL(), w.dashboard)
	fmt.Fprintf(out, "  public Discord server \"Acme Community\" (#help, feedback forum) and internal Slack workspace \"Acme HQ\" (#product-feedback, #support), both local fakes\n")
	fmt.Fprintf(out, "  press Ctrl-C to stop\n")
	<-ctx.Done()
	return nil
}

// waitReady waits until both adapters are connected to their fake.
func (w *world) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyWithin)
	defer cancel()
	if err := w.slack.WaitFor(ctx, func() bool { return w.slack.Connections() > 0 }); err != nil {
		return fmt.Errorf("demo: the Slack adapter did not connect to the Slack fake: %w", err)
	}
	if err := w.discord.WaitFor(ctx, func() bool { return w.discord.Gateway().Connected }); err != nil {
		return fmt.Errorf("demo: the Discord adapter did not connect to the Discord fake: %w", err)
	}
	return nil
}

// env is the demo config's environment: the fakes' tokens and addresses.
func (w *world) env(dbPath string) func(string) string {
	vars := map[string]string{
		"DEMO_DB": dbPath, "AVATARS": w.base + "/avatars/", "DASHBOARD_TOKEN": w.dashboard,
		"DISCORD_TOKEN": discordBotToken, "DISCORD_API_URL": w.discord.URL(),
		"SLACK_BOT_TOKEN": w.slack.BotToken(), "SLACK_APP_TOKEN": w.slack.AppToken(), "SLACK_API_URL": w.slack.URL(),
	}
	return func(k string) string { return vars[k] }
}

// pageURL is the URL a browser on this machine opens for a listen address.
func pageURL(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || tcp.IP.IsUnspecified() {
		port := 0
		if ok {
			port = tcp.Port
		}
		return fmt.Sprintf("http://127.0.0.1:%d", port)
	}
	return "http://" + tcp.String()
}

// dashboardURL signs in to the dashboard, for this demo only: a real
// deployment never puts its token in a link.
func (w *world) dashboardURL() string {
	return w.base + "/dashboard?token=" + url.QueryEscape(w.dashboard)
}

// exists reports whether path names a file.
func exists(path string) bool {
	if path == "" {
		return false
	}
	_, err := os.Stat(path)
	return err == nil
}
