// Package doctor holds what `liaison doctor` reports: one check of one
// connection, passed or failed, with what to do when it failed. The
// adapters run their platform's checks and return these; the command prints
// them and exits 0 only when every one passed.
package doctor

import (
	"fmt"
	"io"
	"slices"
	"strings"

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

// Use is what the config uses a channel for.
type Use string

const (
	UseWatched Use = "watched"
	UseCards   Use = "cards"
	UseDigest  Use = "digest"
)

// Channel is one channel of a connection with every use the config makes
// of it.
type Channel struct {
	ID   string
	Uses []Use
}

// Each lists the channels once each, watched ones first, each with its uses.
func (c Channels) Each() []Channel {
	var out []Channel
	add := func(id string, use Use) {
		if i := slices.IndexFunc(out, func(ch Channel) bool { return ch.ID == id }); i >= 0 {
			if !slices.Contains(out[i].Uses, use) {
				out[i].Uses = append(out[i].Uses, use)
			}
			return
		}
		out = append(out, Channel{ID: id, Uses: []Use{use}})
	}
	for _, l := range []struct {
		use Use
		ids []string
	}{{UseWatched, c.Watched}, {UseCards, c.Cards}, {UseDigest, c.Digests}} {
		for _, id := range l.ids {
			add(id, l.use)
		}
	}
	return out
}

// Label is the uses, as the checks print them: "watched, cards".
func (ch Channel) Label() string {
	s := make([]string, len(ch.Uses))
	for i, u := range ch.Uses {
		s[i] = string(u)
	}
	return strings.Join(s, ", ")
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
