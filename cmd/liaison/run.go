package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/config"
	"github.com/liaison-bot/liaison/handlers/web"
	"github.com/liaison-bot/liaison/storage"
)

func runCmd(load func() (*config.Config, error)) *cobra.Command {
	return &cobra.Command{
		Use:   "run",
		Short: "Run the bot: connect to every configured workspace and guild",
		Long: `Run Liaison: migrate the database, connect every connection of the config,
relay public messages to their routes' internal channels, and publish approved
replies. Serves /healthz, /readyz and /metrics on http.addr. Stops cleanly on
SIGINT or SIGTERM.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := load()
			if err != nil {
				return err
			}
			return run(c.Context(), cfg)
		},
	}
}

// openStore opens and migrates the database the config names.
func openStore(ctx context.Context, cfg *config.Config) (*storage.DB, error) {
	dsn := cfg.Database.SQLitePath
	if cfg.Database.URL != "" {
		dsn = string(cfg.Database.URL)
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

// connection is a platform adapter: the bot's port to it, and its event loop.
type connection interface {
	bot.Platform
	Run(ctx context.Context) error
}

func run(ctx context.Context, cfg *config.Config) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	slog.SetDefault(log)
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()

	metrics := web.NewMetrics()
	svc := bot.NewService(db, nil, cfg.Router(), cfg.Settings())
	svc.Log, svc.Metrics = log, metrics
	if err := svc.SeedProfiles(ctx, cfg.StaffProfiles()); err != nil {
		return err
	}
	srv := web.NewServer(cfg.HTTP.Addr, db, metrics)
	conns, err := openConnections(ctx, cfg, svc, srv)
	if err != nil {
		return err
	}

	g, ctx := errgroup.WithContext(ctx)
	for name, c := range conns {
		svc.Platforms[name] = c
	}
	for name, c := range conns {
		g.Go(func() error {
			if err := c.Run(ctx); err != nil {
				return fmt.Errorf("connection %s: %w", name, err)
			}
			return nil
		})
	}
	host, _ := os.Hostname()
	worker := svc.NewWorker(fmt.Sprintf("%s-%d", host, os.Getpid()))
	g.Go(func() error { return worker.Run(ctx) })
	g.Go(func() error { return srv.Run(ctx) })
	g.Go(func() error {
		return every(ctx, time.Minute, func() {
			if err := svc.Attend(ctx); err != nil && ctx.Err() == nil {
				log.Error("attention", "err", err)
			}
		})
	})
	if cfg.Retention > 0 {
		g.Go(func() error {
			return every(ctx, time.Hour, func() {
				if n, err := svc.Purge(ctx, cfg.Retention); err != nil && ctx.Err() == nil {
					log.Error("retention purge", "err", err)
				} else if n > 0 {
					log.Info("retention purge", "messages", n)
				}
			})
		})
	}
	log.Info("liaison running", "version", version, "engine", db.Engine(), "connections", len(conns))
	return g.Wait()
}

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
