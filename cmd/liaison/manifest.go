package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/liaison-bot/liaison/config"
	"github.com/liaison-bot/liaison/handlers/slack"
)

func slackManifestCmd(load func() (*config.Config, error)) *cobra.Command {
	var conn, baseURL string
	cmd := &cobra.Command{
		Use:   "slack-manifest",
		Short: "Print the Slack app manifest for a Slack connection of the config",
		Long: `Print the manifest to create (or update) the Slack app of one Slack connection
of the config: its /liaison command, message shortcuts, Home tab, scopes and
events, with how to use it in its opening comments. Paste it at
https://api.slack.com/apps → Create New App → From an app manifest.

A connection in Socket Mode (the default) needs no URL. One in HTTP mode needs
--base-url, the public https:// address where Slack reaches Liaison's http.addr:
the manifest points Slack at <base-url>/slack/<connection>/events,
/interactivity and /commands.`,
		Example: `  liaison slack-manifest --connection internal-slack > slack-app-manifest.yaml
  liaison slack-manifest --connection community-slack --base-url https://liaison.example.com`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := load()
			if err != nil {
				return err
			}
			cc, err := slackConnection(cfg, conn)
			if err != nil {
				return err
			}
			out, err := slack.Manifest(*cc, baseURL)
			if err != nil {
				return commandLineError(err)
			}
			_, err = c.OutOrStdout().Write(out)
			return err
		},
	}
	cmd.Flags().StringVar(&conn, "connection", "", "the Slack connection's name in the config (may be left out when there is only one)")
	cmd.Flags().StringVar(&baseURL, "base-url", "", "HTTP mode: the public https:// address Slack sends requests to")
	return cmd
}

// slackConnection picks the Slack connection named name, or the only one
// when name is empty.
func slackConnection(cfg *config.Config, name string) (*config.Connection, error) {
	var names []string
	for _, c := range cfg.Connections {
		if c.Platform == config.Slack {
			names = append(names, c.Name)
		}
	}
	switch {
	case name != "":
		c := cfg.Connection(name)
		if c == nil || c.Platform != config.Slack {
			what := "no connection"
			if c != nil {
				what = "no Slack connection"
			}
			known := strings.Join(names, ", ")
			if known == "" {
				known = "none"
			}
			return nil, commandLineError(fmt.Errorf("--connection: the config has %s named %q (Slack connections: %s)", what, name, known))
		}
		return c, nil
	case len(names) == 1:
		return cfg.Connection(names[0]), nil
	case len(names) == 0:
		return nil, usageError{fmt.Errorf("the config has no Slack connection")}
	}
	return nil, commandLineError(fmt.Errorf("the config has %d Slack connections (%s): name one with --connection", len(names), strings.Join(names, ", ")))
}
