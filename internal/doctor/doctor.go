// Package doctor holds what `liaison doctor` reports: one check of one
// connection, passed or failed, with what to do when it failed. The
// adapters run their platform's checks and return these; the command prints
// them and exits 0 only when every one passed.
package doctor

import (
	"fmt"
	"io"
	"slices"

	"github.com/liaison-bot/liaison/config"
)

// Check is the outcome of one check.
type Check struct {
	Conn   string // the connection's name in the config
	Name   string // what was checked: "token", "scopes", "member of C0123"
	OK     bool
	Detail string // what was found: "valid, bot @liaison in Acme"
	Remedy string // what to do when it failed; "" when it passed
}

// Channels are the channels of one connection the config uses.
type Channels struct {
	Watched []string // sources' channels
	Cards   []string // routes' destinations and the admin channel
	Digests []string // digests' channels (a chart is posted there)
}

// ChannelsOf lists the channels the config uses on the connection named
// conn, each once, in config order.
func ChannelsOf(c *config.Config, conn string) Channels {
	var out Channels
	add := func(list *[]string, ch string) {
		if ch != "" && !slices.Contains(*list, ch) {
			*list = append(*list, ch)
		}
	}
	for _, s := range c.Sources {
		if s.Connection == conn {
			for _, ch := range s.Channels {
				add(&out.Watched, ch)
			}
		}
	}
	for _, r := range c.Routes {
		if r.Destination.Connection == conn {
			add(&out.Cards, r.Destination.Channel)
		}
	}
	if c.Admin != nil && c.Admin.Connection == conn {
		add(&out.Cards, c.Admin.Channel)
	}
	for _, d := range c.Digests {
		if d.Destination.Connection == conn {
			add(&out.Digests, d.Destination.Channel)
		}
	}
	return out
}

// Print writes one line per check, and under a failed one what to do.
// It reports whether every check passed.
func Print(w io.Writer, checks []Check) bool {
	all := true
	for _, c := range checks {
		mark := "ok  "
		if !c.OK {
			mark, all = "FAIL", false
		}
		fmt.Fprintf(w, "%s %s: %s: %s\n", mark, c.Conn, c.Name, c.Detail)
		if !c.OK && c.Remedy != "" {
			fmt.Fprintf(w, "     → %s\n", c.Remedy)
		}
	}
	return all
}
