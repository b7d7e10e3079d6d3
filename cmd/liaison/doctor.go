package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/liaison-bot/liaison/config"
	"github.com/liaison-bot/liaison/handlers/discord"
	"github.com/liaison-bot/liaison/handlers/slack"
	"github.com/liaison-bot/liaison/internal/doctor"
)

// defaultDoctorTimeout bounds a whole `liaison doctor` run; each adapter
// bounds its calls more tightly.
const defaultDoctorTimeout = 30 * time.Second

func doctorCmd(load func() (*config.Config, error)) *cobra.Command {
	var only string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check every connection with its tokens: what an operator otherwise learns by trial",
		Long: `Connect to Slack and Discord with the configured tokens and check, for every
connection in config order, what Liaison needs there: the tokens work; on
Slack, the granted scopes and that the bot is in every watched and card
channel; on Discord, the Message Content intent, the bot's permissions in
each of those channels and the registered commands. One line per check, with
what to do under each that failed.

Exits 0 when every check passed, 1 when one failed or could not be made.
Nothing is posted or changed.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			if timeout <= 0 {
				return commandLineError(fmt.Errorf("--timeout %s: want a positive duration, e.g. 30s", timeout))
			}
			cfg, err := load()
			if err != nil {
				return err
			}
			conns := cfg.Connections
			if only != "" {
				cc := cfg.Connection(only)
				if cc == nil {
					return commandLineError(fmt.Errorf("--connection: the config has no connection named %q", only))
				}
				conns = []config.Connection{*cc}
			}
			ctx, cancel := context.WithTimeout(c.Context(), timeout)
			defer cancel()
			// The connections are checked at once, so that one whose API
			// does not answer does not eat the others' time; they are
			// printed in config order.
			results := make([][]doctor.Check, len(conns))
			var wg sync.WaitGroup
			for i, conn := range conns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[i] = checkConnection(ctx, cfg, conn)
				}()
			}
			wg.Wait()
			out := c.OutOrStdout()
			total, failed := 0, 0
			for _, checks := range results {
				doctor.Print(out, checks)
				total += len(checks)
				for _, ch := range checks {
					if !ch.OK {
						failed++
					}
				}
			}
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				fmt.Fprintf(out, "Stopped after %s (--timeout): what was not done failed.\n", timeout)
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d checks failed: see the FAIL lines above", failed, total)
			}
			fmt.Fprintf(out, "All %d checks passed.\n", total)
			return nil
		},
	}
	cmd.Flags().StringVar(&only, "connection", "", "check only the connection of this name")
	cmd.Flags().DurationVar(&timeout, "timeout", defaultDoctorTimeout, "give up, failing what is left, after this long")
	return cmd
}

// checkConnection runs the doctor of conn's platform on the channels the
// config uses there.
func checkConnection(ctx context.Context, cfg *config.Config, conn config.Connection) []doctor.Check {
	need := doctor.ChannelsOf(cfg, conn.Name)
	switch conn.Platform {
	case config.Slack:
		return slack.Doctor(ctx, conn, need)
	case config.Discord:
		return discord.Doctor(ctx, conn, need)
	}
	return []doctor.Check{{Conn: conn.Name, Name: "platform", Detail: fmt.Sprintf("%q cannot be checked", conn.Platform),
		Remedy: "set platform to slack or discord"}}
}
