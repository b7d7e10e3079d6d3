package main

import (
	"net"

	"github.com/spf13/cobra"

	"github.com/liaison-bot/liaison/handlers/demo"
)

func demoCmd() *cobra.Command {
	var opts demo.Options
	c := &cobra.Command{
		Use:   "demo",
		Short: "Try Liaison in your browser, with no account: a fake Slack and a fake Discord, the real bot between them",
		Long: `Start Liaison between a fake public Discord server ("Acme Community": #help
and a feedback forum) and a fake internal Slack workspace ("Acme HQ":
#product-feedback and #support), all on this machine, with the real adapters,
storage (SQLite) and outbox worker, configured by a real config file. Nothing
goes to the network.

Then open the page it prints (http://127.0.0.1:8080 by default): both
platforms side by side, live. Act as Mia, a community member (post, reply,
edit, delete); Alice, a volunteer (claim, draft a public reply, withdraw);
Bob, a manager (approve, edit & approve, reject, /liaison promote @alice); or
Carol, who may not approve. Every action goes through the fakes as a platform
event or interaction.

With --script, a scripted story runs instead, with no browser: a question
in the forum, a follow-up, a draft, a refused approval, an approval, the
attributed public reply, a correction. It prints a transcript of both sides
and exits 0 only if every step produced what it should, else 1.`,
		Example: `  liaison demo
  liaison demo --addr 127.0.0.1:9000 --db ./demo.db
  liaison demo --script`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			if opts.Addr != "" {
				if _, _, err := net.SplitHostPort(opts.Addr); err != nil {
					return usageError{err: err}
				}
			}
			opts.Out, opts.Log = c.OutOrStdout(), c.ErrOrStderr()
			return demo.Run(c.Context(), opts)
		},
	}
	c.Flags().StringVar(&opts.Addr, "addr", "", "address the demo page listens on (default "+demo.DefaultAddr+"; a free port with --script)")
	c.Flags().StringVar(&opts.DBPath, "db", "", "SQLite file to keep the demo's data in (default: a fresh file in a temporary directory)")
	c.Flags().BoolVar(&opts.Script, "script", false, "run the scripted story with no browser, check every step and exit")
	return c
}
