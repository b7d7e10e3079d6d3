package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/liaison-bot/liaison/config"
	"github.com/liaison-bot/liaison/handlers/discord"
)

func inviteCmd(load func() (*config.Config, error)) *cobra.Command {
	var only string
	cmd := &cobra.Command{
		Use:   "discord-invite",
		Short: "Print the URL that adds the Discord bot to its server with the permissions Liaison needs",
		Long: `Print, for each Discord connection of the config (or the one --connection
names), the OAuth2 URL that adds its bot to the connection's server with
the scopes bot and applications.commands and exactly the permissions
Liaison uses (no Administrator). Open it as a member who may manage the
server. With one connection the URL is printed alone; with several, each
line is "name: URL".

The URL needs the connection's application_id: the Discord Developer
Portal shows it under your application → General Information →
Application ID.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := load()
			if err != nil {
				return err
			}
			type entry struct {
				key  string // the connection's key in the config
				conn config.Connection
			}
			var picked []entry
			var names []string
			for i, conn := range cfg.Connections {
				if conn.Platform != config.Discord {
					continue
				}
				names = append(names, conn.Name)
				if only == "" || conn.Name == only {
					picked = append(picked, entry{fmt.Sprintf("connections[%d]", i), conn})
				}
			}
			switch {
			case len(names) == 0:
				return usageError{errors.New("the config has no Discord connection")}
			case len(picked) == 0:
				return commandLineError(fmt.Errorf("--connection %q: no Discord connection has that name (the config's: %s)", only, strings.Join(names, ", ")))
			}
			out := c.OutOrStdout()
			var problems []string
			for _, e := range picked {
				u, err := discord.Invite(e.conn)
				if errors.Is(err, discord.ErrNoApplicationID) {
					problems = append(problems, fmt.Sprintf("%s.application_id (%s): %v", e.key, e.conn.Name, discord.ErrNoApplicationID))
					continue
				}
				if err != nil {
					return err
				}
				if len(picked) == 1 {
					fmt.Fprintln(out, u)
				} else {
					fmt.Fprintf(out, "%s: %s\n", e.conn.Name, u)
				}
			}
			if len(problems) > 0 {
				return usageError{errors.New(strings.Join(problems, "; "))}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&only, "connection", "", "the Discord connection to print the URL of (default: every one)")
	return cmd
}
