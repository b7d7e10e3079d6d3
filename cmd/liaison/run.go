package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/liaison-bot/liaison/cmd/liaison/app"
	"github.com/liaison-bot/liaison/config"
)

func runCmd(load func() (*config.Config, error)) *cobra.Command {
	return &cobra.Command{
		Use:   "run",
		Short: "Run the bot: connect to every configured workspace and guild",
		Long: `Run Liaison: migrate the database, connect every connection of the config,
relay public messages to their routes' internal channels, and publish approved
replies. Serves /healthz, /readyz and /metrics on http.addr (/metrics on
http.metrics_addr when set). Stops cleanly on
SIGINT or SIGTERM.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := load()
			if err != nil {
				return err
			}
			return run(c.Context(), cfg)
		},
	}
}

func run(ctx context.Context, cfg *config.Config) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	slog.SetDefault(log)
	a, err := app.Open(ctx, cfg, app.Options{Log: log})
	if err != nil {
		return err
	}
	log.Info("liaison starting", "version", version)
	err = a.Run(ctx)
	// Only now: Run returned once the worker finished its calls in flight
	// and every connection released what it held, all of which write.
	if cerr := a.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close the database: %w", cerr))
	}
	if err != nil {
		return err
	}
	log.Info("liaison stopped")
	return nil
}
