package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/liaison-bot/liaison/config"
	"github.com/liaison-bot/liaison/internal/bench"
)

func benchCmd(getenv func(string) string) *cobra.Command {
	var (
		quick    bool
		keep     bool
		jsonPath string
		latency  time.Duration
		postgres string
		over     bench.Sizes // sizes set on the command line
	)
	c := &cobra.Command{
		Use:   "bench",
		Short: "Measure Liaison under a burst, against fakes that enforce the platforms' limits",
		Long: `Run the real bot (this binary's "run", as a process of its own) between a fake
public Discord guild and a fake internal Slack workspace that enforce the
platforms' limits (Slack: 1 post/s per channel, burst 3; Discord: 5 messages
per 5 s per channel, 50 requests/s), and print:

  1. intake throughput next to the raw one-row INSERT, serial and concurrent;
  2. the latency the bot adds to a message, p50 and p99, nothing rate limited;
  3. a burst of 1,000 messages (200 new items, 800 follow-ups) into one
     channel: time until every card and every message is visible, posts
     made, calls answered 429, checked against the limits' bound;
  4. the same spread over 10 channels with 150 ms API latency;
  5. the same bursts through a naive relay (one post per message, one call
     at a time, sleeping Retry-After on a 429), run alongside;
  6. the bot's resident memory idle and at its peak, and CPU per message.

SQLite always; Postgres too with --postgres or DATABASE_URL (each run in a
schema of its own, dropped afterwards). The full run takes up to 30 minutes;
--quick runs a smaller version of every section in under a minute. Exits 1
if a run could not be carried out or a message was lost or duplicated.`,
		Example: `  liaison bench --quick
  liaison bench --json bench.json --postgres 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			bin, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find this binary to run the bot from: %w", err)
			}
			// The bench's own storage (intake) logs only what goes wrong.
			slog.SetDefault(slog.New(slog.NewTextHandler(c.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn})))
			opts := bench.Options{Binary: bin, Quick: quick, Keep: keep, Postgres: postgres, Out: c.OutOrStdout(), Progress: c.ErrOrStderr()}
			if opts.Postgres == "" {
				opts.Postgres = getenv(config.EnvDatabaseURL)
			}
			if c.Flags().Changed("latency") {
				if latency < 0 {
					return commandLineError(errors.New("--latency: want a duration ≥ 0, e.g. 150ms"))
				}
				opts.Latency = &latency
			}
			if over != (bench.Sizes{}) {
				sizes := bench.FullSizes()
				if quick {
					sizes = bench.QuickSizes()
				}
				sizes = sizes.With(over)
				opts.Sizes = &sizes
			}
			rep, err := bench.Run(c.Context(), opts)
			if jsonPath != "" && rep != nil {
				if jerr := rep.WriteJSON(jsonPath); jerr != nil {
					err = errors.Join(err, fmt.Errorf("write %s: %w", jsonPath, jerr))
				}
			}
			return err
		},
	}
	f := c.Flags()
	f.BoolVar(&quick, "quick", false, "run a smaller version of every section, in under a minute")
	f.StringVar(&jsonPath, "json", "", "also write every figure and the parameters to this JSON file")
	f.DurationVar(&latency, "latency", 0, "API latency added to every platform call in the bursts (default 0 in the one-channel burst, 150ms in the ten-channel one)")
	f.StringVar(&postgres, "postgres", "", "Postgres URL to run on as well (default: DATABASE_URL if set)")
	// Sizes, for tests and experiments; 0 keeps the mode's.
	f.IntVar(&over.Items, "items", 0, "new items in the one-channel burst")
	f.IntVar(&over.FollowUps, "follow-ups", 0, "follow-ups in the one-channel burst")
	f.IntVar(&over.SpreadItems, "spread-items", 0, "new items in the spread burst")
	f.IntVar(&over.SpreadFollowUps, "spread-follow-ups", 0, "follow-ups in the spread burst")
	f.IntVar(&over.Channels, "channels", 0, "channels of the spread burst")
	f.IntVar(&over.Samples, "samples", 0, "added-latency samples")
	f.DurationVar(&over.BenchTime, "benchtime", 0, "time per intake benchmark")
	f.BoolVar(&keep, "keep", false, "keep the bots' logs and databases")
	for _, name := range []string{"items", "follow-ups", "spread-items", "spread-follow-ups", "channels", "samples", "benchtime", "keep"} {
		_ = f.MarkHidden(name)
	}
	return c
}
