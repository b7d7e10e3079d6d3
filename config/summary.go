package config

import (
	"fmt"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"
)

// Summary describes the configuration for humans (liaison check-config):
// the store, the connections, what is watched, where it goes and under
// which policy. It never contains a secret: tokens are shown as set or not,
// and the database URL as scheme, host and database only.
func (c *Config) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Company: %s\n", c.Company)
	fmt.Fprintf(&b, "Database: %s\n", c.databaseSummary())
	fmt.Fprintf(&b, "HTTP: %s\n", c.HTTP.Addr)
	fmt.Fprintf(&b, "Reply prefix: %q, relayed text up to %d characters\n", c.ReplyPrefix, c.MaxRelayChars)
	if c.Retention == 0 {
		fmt.Fprintf(&b, "Retention: message text kept forever")
	} else {
		fmt.Fprintf(&b, "Retention: message text purged after %s", human(c.Retention))
	}
	if c.KeepDeletedText {
		b.WriteString("; deleted messages keep their internal copy\n")
	} else {
		b.WriteString("; deleted messages leave a note\n")
	}
	if c.Admin != nil {
		fmt.Fprintf(&b, "Admin notices: %s %s\n", c.Admin.Connection, c.Admin.Channel)
	} else {
		b.WriteString("Admin notices: none\n")
	}

	fmt.Fprintf(&b, "\nConnections (%d):\n", len(c.Connections))
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for _, conn := range c.Connections {
		var detail string
		switch conn.Platform {
		case Slack:
			mode := conn.Mode
			if mode == "" {
				mode = ModeSocket
			}
			detail = fmt.Sprintf("%s mode", mode)
		case Discord:
			detail = "guild " + conn.GuildID
			if conn.Backfill > 0 {
				detail += ", backfill " + human(conn.Backfill)
			}
		}
		if conn.APIURL != "" {
			detail += ", API " + apiURLSummary(conn.APIURL)
		}
		role := conn.Role
		if role == "" {
			role = RoleBoth
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", conn.Name, conn.Platform, role, detail, credentials(conn))
	}
	tw.Flush()

	fmt.Fprintf(&b, "\nSources (%d):\n", len(c.Sources))
	tw = tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for _, s := range c.Sources {
		fmt.Fprintf(tw, "  %s\ton %s\t%s\n", s.Name, s.Connection, strings.Join(s.Channels, ", "))
	}
	tw.Flush()

	fmt.Fprintf(&b, "\nRoutes (%d, first match wins):\n", len(c.Routes))
	for i, r := range c.Routes {
		name := r.Name
		if r.Default {
			name += " (default)"
		}
		fmt.Fprintf(&b, "  %d. %s → %s %s\n", i+1, name, r.Destination.Connection, r.Destination.Channel)
		var when []string
		if len(r.Sources) > 0 {
			when = append(when, "sources "+strings.Join(r.Sources, ", "))
		}
		if len(r.Keywords) > 0 {
			when = append(when, "keywords "+strings.Join(r.Keywords, ", "))
		}
		if len(r.Regexes) > 0 {
			when = append(when, "regexes "+strings.Join(r.Regexes, "  "))
		}
		switch {
		case len(when) > 0:
			fmt.Fprintf(&b, "     when: %s\n", strings.Join(when, "; "))
		case r.Default:
			b.WriteString("     when: no other route matches\n")
		default:
			b.WriteString("     when: every message\n")
		}
		approval := r.Approval
		if approval == "" {
			approval = ApprovalRequired
		}
		policy := "approval " + string(approval)
		if len(r.Approvers) > 0 {
			policy += " by " + strings.Join(r.Approvers, ", ")
		}
		if r.AllowSelfApproval {
			policy += " (self-approval allowed)"
		}
		fmt.Fprintf(&b, "     policy: %s; SLA %s", policy, human(r.SLA))
		if len(r.Tags) > 0 {
			fmt.Fprintf(&b, "; tags %s", strings.Join(r.Tags, ", "))
		}
		b.WriteString("\n")
	}

	consented := 0
	for _, p := range c.Profiles {
		if !p.ConsentedAt.IsZero() {
			consented++
		}
	}
	fmt.Fprintf(&b, "\nProfiles: %d (%d with written consent on file)\n", len(c.Profiles), consented)
	return b.String()
}

// databaseSummary names the store without user, password or parameters.
func (c *Config) databaseSummary() string {
	if c.Database.URL == "" {
		return "SQLite " + c.Database.SQLitePath
	}
	u, err := url.Parse(string(c.Database.URL))
	if err != nil {
		return "Postgres"
	}
	return fmt.Sprintf("Postgres %s://%s%s", u.Scheme, u.Host, u.Path)
}

// apiURLSummary shows a platform's base URL without the password it may
// carry (a proxy's credentials in its user part).
func apiURLSummary(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// credentials says which secrets are set, never what they are.
func credentials(conn Connection) string {
	var set []string
	for _, s := range []struct {
		name string
		v    Secret
	}{
		{"bot token", conn.BotToken},
		{"app token", conn.AppToken},
		{"signing secret", conn.SigningSecret},
		{"token", conn.Token},
	} {
		if s.v.IsSet() {
			set = append(set, s.name)
		}
	}
	if len(set) == 0 {
		return "no credentials"
	}
	return strings.Join(set, ", ") + " set"
}

// human writes a duration briefly: "90d", "4h", "1h30m".
func human(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
