// Command liaison runs the Liaison bot: it relays a community's public
// messages to the teams concerned and publishes their approved, attributed
// replies.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/liaison-bot/liaison/cmd/liaison/app"
	"github.com/liaison-bot/liaison/config"
)

// Exit codes.
const (
	exitOK      = 0
	exitRuntime = 1
	exitUsage   = 2
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first signal stops Liaison cleanly; a second one, with the
	// default handling back, ends it at once.
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := Main(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// usageError is a bad command line or a bad config: exit code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// commandLineError is a usageError about the command line.
func commandLineError(err error) error {
	return usageError{fmt.Errorf("%w (see liaison --help)", err)}
}

// usageArgs makes a cobra argument check's error a usageError.
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if err := check(c, args); err != nil {
			return commandLineError(err)
		}
		return nil
	}
}

// Main runs the CLI and returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	root := newRoot(getenv)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var cfgErrs config.Errors
	var ue usageError
	switch {
	case errors.As(err, &cfgErrs):
		fmt.Fprintf(stderr, "liaison: the config has %d problem(s):\n", len(cfgErrs))
		for _, e := range cfgErrs {
			fmt.Fprintf(stderr, "  %s\n", e)
		}
		return exitUsage
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "liaison: %v\n", ue.err)
		return exitUsage
	}
	fmt.Fprintf(stderr, "liaison: %v\n", err)
	return exitRuntime
}

func newRoot(getenv func(string) string) *cobra.Command {
	root := &cobra.Command{
		Use:   "liaison",
		Short: "Relay your community to your teams, and their approved answers back, under their own names",
		Long: `Liaison relays what your community says in public Slack and Discord channels
to the internal channel of the team concerned, lets staff draft an answer in
the thread and a manager approve it, and posts it back in public under the
staff member's own name, title and avatar.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// A word that is no command is a usage error, not a request for help.
		Args: usageArgs(func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("unknown command %q", args[0])
			}
			return nil
		}),
		RunE: func(c *cobra.Command, _ []string) error { return c.Help() },
	}
	var cfgPath string
	root.PersistentFlags().StringVar(&cfgPath, "config", "./liaison.yaml", "path to the YAML config")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return commandLineError(err) })
	loadWith := func(load func(string, func(string) string) (*config.Config, error)) (*config.Config, error) {
		c, err := load(cfgPath, getenv)
		if err != nil {
			var errs config.Errors
			if errors.As(err, &errs) {
				return nil, errs
			}
			return nil, usageError{err}
		}
		return c, nil
	}
	loadConfig := func() (*config.Config, error) { return loadWith(config.Load) }
	// The commands that help create the apps run before their tokens exist;
	// the health check needs only the listener's address.
	loadSetup := func() (*config.Config, error) { return loadWith(config.LoadSetup) }
	root.AddCommand(
		runCmd(loadConfig),
		migrateCmd(loadConfig),
		checkConfigCmd(loadConfig),
		versionCmd(),
		demoCmd(),
		auditCmd(loadConfig),
		benchCmd(getenv),
		inviteCmd(loadSetup),
		healthcheckCmd(getenv, loadSetup),
		doctorCmd(loadConfig),
		slackManifestCmd(loadSetup),
	)
	return root
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print Liaison's version",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			fmt.Fprintf(c.OutOrStdout(), "liaison %s\n", version)
			return nil
		},
	}
}

func checkConfigCmd(load func() (*config.Config, error)) *cobra.Command {
	return &cobra.Command{
		Use:   "check-config",
		Short: "Validate the config and print a summary of connections, sources and routes",
		Long: `Validate the config file: every problem is printed with its key path and
the command exits 2; a valid config prints a summary and exits 0. When the database exists, it also
says where the profiles it holds and the config disagree.
Secrets come from the environment (${VAR}); they are never printed.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := load()
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			fmt.Fprint(out, cfg.Summary())
			report, err := app.ProfileDrift(c.Context(), cfg)
			switch {
			case errors.Is(err, app.ErrNoDatabase):
				fmt.Fprintln(out, "\nProfiles: no database yet; they are created at the first start.")
			case err != nil:
				fmt.Fprintf(out, "\nProfiles: not compared with the database (%v).\n", err)
			case len(report.Lines()) == 0:
				fmt.Fprintln(out, "\nProfiles: the database agrees with the config.")
			default:
				fmt.Fprintln(out, "\nProfiles, config against database:")
				for _, line := range report.Applied {
					fmt.Fprintf(out, "  applied at the next start: %s\n", line)
				}
				for _, line := range report.Kept {
					fmt.Fprintf(out, "  kept: %s\n", line)
				}
				for _, line := range report.Conflicts {
					fmt.Fprintf(out, "  conflict: %s\n", line)
				}
			}
			return nil
		},
	}
}

func migrateCmd(load func() (*config.Config, error)) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply the database migrations and exit",
		Long: `Apply the embedded migrations to the database the config names (SQLite by
default, Postgres when DATABASE_URL or database.url is a postgres:// URL).
liaison run also migrates at start.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := load()
			if err != nil {
				return err
			}
			db, err := app.OpenStore(c.Context(), cfg)
			if err != nil {
				return err
			}
			defer db.Close()
			cur, latest, err := db.SchemaVersion(c.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "%s database at schema version %d of %d\n", db.Engine(), cur, latest)
			return nil
		},
	}
}
