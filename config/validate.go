package config

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Validate checks the whole configuration and returns Errors with every
// problem found, in the order of the file's sections, or nil. Empty
// role, mode, approval and profile role mean their defaults; numbers and
// durations must be set (Parse presets them; code building a Config calls
// ApplyDefaults first).
func (c *Config) Validate() error {
	v := &validator{c: c, conns: map[string]*Connection{}, sources: map[string]int{}}
	for i := range c.Connections {
		conn := &c.Connections[i]
		if _, dup := v.conns[conn.Name]; !dup && conn.Name != "" {
			v.conns[conn.Name] = conn
			v.connNames = append(v.connNames, conn.Name)
		}
	}
	for i, s := range c.Sources {
		if _, dup := v.sources[s.Name]; !dup && s.Name != "" {
			v.sources[s.Name] = i
			v.sourceNames = append(v.sourceNames, s.Name)
		}
	}
	v.general()
	v.connections()
	v.sourceList()
	v.routes()
	v.profiles()
	v.digests()
	v.dashboard()
	scrub(v.errs, c.secrets())
	return v.err()
}

type validator struct {
	list
	c           *Config
	conns       map[string]*Connection // first connection of each name
	connNames   []string
	sources     map[string]int // index of the first source of each name
	sourceNames []string
}

func (v *validator) addf(key, format string, args ...any) {
	v.add(key, fmt.Sprintf(format, args...))
}

func (v *validator) general() {
	c := v.c
	if strings.TrimSpace(c.Company) == "" {
		v.add("company", "required: the company name used in signatures, e.g. Acme")
	} else if p := oneLineProblem(c.Company, 80); p != "" {
		v.add("company", p)
	}

	if c.Database.URL != "" {
		if p := databaseURLProblem(string(c.Database.URL)); p != "" {
			v.add("database.url", p)
		}
	} else if strings.TrimSpace(c.Database.SQLitePath) == "" {
		v.add("database.sqlite_path", "required when database.url is empty (e.g. "+DefaultSQLitePath+")")
	}

	v.http()

	if strings.TrimSpace(c.ReplyPrefix) == "" {
		v.addf("reply_prefix", "must not be empty or blank (want e.g. %q)", DefaultReplyPrefix)
	} else if p := oneLineProblem(c.ReplyPrefix, 32); p != "" {
		v.add("reply_prefix", p)
	}

	if c.MaxRelayChars < 100 || c.MaxRelayChars > 3000 {
		v.addf("max_relay_chars", "%d is out of range (want 100 to 3000)", c.MaxRelayChars)
	}

	if c.Admin != nil {
		v.destination("admin", *c.Admin, true)
	}

	switch r := c.Retention; {
	case r < 0:
		v.add("retention", "must not be negative (want 0 to keep messages forever, or e.g. 90d)")
	case r > 0 && r < 24*time.Hour:
		v.addf("retention", "%s is less than a day (want 0 to keep messages forever, or days like 90d)", human(r))
	}
}

// http checks the listener: its addresses, and timeouts short enough that
// a slow client cannot hold a connection long, long enough for Slack's
// answers (up to 3 seconds).
func (v *validator) http() {
	h := v.c.HTTP
	p := addrProblem(h.Addr)
	if p != "" {
		v.add("http.addr", p)
	}
	if h.MetricsAddr != "" {
		switch mp := addrProblem(h.MetricsAddr); {
		case mp != "":
			v.add("http.metrics_addr", mp)
		case p == "" && sameListener(h.Addr, h.MetricsAddr):
			v.addf("http.metrics_addr", "%q clashes with http.addr (%q): both would listen on the same port (want another port, e.g. 127.0.0.1:9090, or leave metrics_addr out to serve /metrics on http.addr)", h.MetricsAddr, h.Addr)
		}
	}
	for _, t := range []struct {
		key      string
		d, least time.Duration
		example  time.Duration
	}{
		{"http.read_header_timeout", h.ReadHeaderTimeout, time.Second, DefaultHTTPReadHeaderTimeout},
		{"http.read_timeout", h.ReadTimeout, time.Second, DefaultHTTPReadTimeout},
		{"http.write_timeout", h.WriteTimeout, 3 * time.Second, DefaultHTTPWriteTimeout},
		{"http.idle_timeout", h.IdleTimeout, time.Second, DefaultHTTPIdleTimeout},
	} {
		switch {
		case t.d <= 0:
			v.addf(t.key, "must be positive (want e.g. %s)", human(t.example))
		case t.d < t.least:
			v.addf(t.key, "%s is too short (want at least %s, e.g. %s)", human(t.d), human(t.least), human(t.example))
		case t.d > 10*time.Minute:
			v.addf(t.key, "%s lets a slow client hold a connection that long (want at most 10m, e.g. %s)", human(t.d), human(t.example))
		}
	}
	if h.ReadHeaderTimeout > h.ReadTimeout && h.ReadTimeout > 0 {
		v.addf("http.read_header_timeout", "%s is longer than http.read_timeout (%s), which bounds the whole request, headers included (want at most %s)", human(h.ReadHeaderTimeout), human(h.ReadTimeout), human(h.ReadTimeout))
	}
}

// sameListener reports whether listening on a and on b clashes: the same
// port on the same host or on every interface, or the same text (two
// "any free port" addresses written alike are surely a mistake too).
func sameListener(a, b string) bool {
	if a == b {
		return true
	}
	ha, pa, _ := net.SplitHostPort(a)
	hb, pb, _ := net.SplitHostPort(b)
	na, _ := strconv.Atoi(pa)
	nb, _ := strconv.Atoi(pb)
	if na != nb || na == 0 {
		return false
	}
	everywhere := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }
	return everywhere(ha) || everywhere(hb) || strings.EqualFold(ha, hb)
}

func (v *validator) connections() {
	if len(v.c.Connections) == 0 {
		v.add("connections", "at least one connection is required (a Slack workspace or Discord server for Liaison to log in to)")
		return
	}
	first := map[string]int{}
	bots := map[string]int{} // Discord tokens seen, by connection index
	for i, conn := range v.c.Connections {
		key := fmt.Sprintf("connections[%d]", i)
		if tok := discordToken(string(conn.Token)); conn.Platform == Discord && tok != "" {
			// One gateway session per bot: replicas share it under a
			// lease, and a second connection would wait for it forever.
			if j, dup := bots[tok]; dup {
				v.addf(key+".token", "is the token of connections[%d]: a Discord bot has one gateway session, so one connection (give each guild its own bot)", j)
			} else {
				bots[tok] = i
			}
		}
		switch j, dup := first[conn.Name]; {
		case conn.Name == "":
			v.add(key+".name", "required: a short name that sources and routes refer to, e.g. internal-slack")
		case !nameRe.MatchString(conn.Name):
			v.addf(key+".name", "%q is not a valid name (want lowercase letters, digits and -, e.g. internal-slack)", conn.Name)
		case dup:
			v.addf(key+".name", "%q is already the name of connections[%d]", conn.Name, j)
		default:
			first[conn.Name] = i
		}

		switch conn.Platform {
		case "":
			v.add(key+".platform", "required (want slack or discord)")
		case Slack, Discord:
		default:
			v.addf(key+".platform", "%q is not a platform (want slack or discord)", conn.Platform)
		}

		switch conn.Role {
		case "", RolePublic, RoleInternal, RoleBoth:
		default:
			v.addf(key+".role", "%q is not a role (want public, internal or both)", conn.Role)
		}

		switch conn.Platform {
		case Slack:
			v.slack(key, conn)
		case Discord:
			v.discord(key, conn)
		}

		if conn.APIURL != "" {
			if p := baseURLProblem(conn.APIURL); p != "" {
				v.add(key+".api_url", p)
			}
		}
	}
}

func (v *validator) slack(key string, conn Connection) {
	const other = "is a Discord setting, but this connection's platform is slack (remove it)"
	if conn.Token != "" {
		v.add(key+".token", other)
	}
	if conn.GuildID != "" {
		v.add(key+".guild_id", other)
	}
	if conn.ApplicationID != "" {
		v.add(key+".application_id", other)
	}
	if conn.Backfill != 0 {
		v.add(key+".backfill", other)
	}

	if conn.BotToken == "" {
		v.add(key+".bot_token", "required: the bot token (xoxb-…) from the Slack app's OAuth & Permissions page")
	} else if p := slackBotTokenProblem(string(conn.BotToken)); p != "" {
		v.add(key+".bot_token", p)
	}
	if conn.AppToken != "" && !strings.HasPrefix(string(conn.AppToken), "xapp-") {
		v.add(key+".app_token", "is not an app-level token (want a token starting with xapp-)")
	}

	switch conn.Mode {
	case "", ModeSocket:
		if conn.AppToken == "" {
			v.add(key+".app_token", "required in socket mode: an app-level token (xapp-…) with the connections:write scope")
		}
	case ModeHTTP:
		if conn.SigningSecret == "" {
			v.add(key+".signing_secret", "required in http mode: the Signing Secret from the Slack app's Basic Information page")
		}
	default:
		v.addf(key+".mode", "%q is not a mode (want socket or http)", conn.Mode)
	}
}

func (v *validator) discord(key string, conn Connection) {
	const other = "is a Slack setting, but this connection's platform is discord (remove it)"
	if conn.BotToken != "" {
		v.add(key+".bot_token", other)
	}
	if conn.AppToken != "" {
		v.add(key+".app_token", other)
	}
	if conn.SigningSecret != "" {
		v.add(key+".signing_secret", other)
	}
	if conn.Mode != "" {
		v.add(key+".mode", other)
	}

	if conn.Token == "" {
		v.add(key+".token", "required: the bot token from the Discord developer portal (Bot → Token)")
	} else if p := discordTokenProblem(string(conn.Token)); p != "" {
		v.add(key+".token", p)
	}
	if conn.GuildID == "" {
		v.add(key+".guild_id", "required: the Discord server (guild) id, a snowflake of 17 to 20 digits")
	} else if p := snowflakeProblem("guild", conn.GuildID); p != "" {
		v.add(key+".guild_id", p)
	}
	if conn.ApplicationID != "" {
		if p := snowflakeProblem("application", conn.ApplicationID); p != "" {
			v.add(key+".application_id", p)
		}
	}
	switch b := conn.Backfill; {
	case b < 0:
		v.add(key+".backfill", "must not be negative (want how far back to look for messages missed while Liaison was away, e.g. 24h)")
	case b > 0 && b < time.Minute:
		v.addf(key+".backfill", "%s is less than a minute (want e.g. 24h; leave it out for %s)", b, human(DefaultBackfill))
	case b > MaxBackfill:
		v.addf(key+".backfill", "%s is more than %s (a first start takes in everything said that far back; want e.g. 24h)", human(b), human(MaxBackfill))
	}
}

// connection checks a reference to a connection that needs to be used in a
// role (public or internal) and returns it if it can be.
func (v *validator) connection(key, name string, need Role, usage string) *Connection {
	if name == "" {
		v.addf(key, "required (%s)", known("connection", v.connNames))
		return nil
	}
	conn, ok := v.conns[name]
	if !ok {
		v.addf(key, "no connection named %q (%s)", name, known("connection", v.connNames))
		return nil
	}
	if conn.Role != RolePublic && conn.Role != RoleInternal {
		return conn // both, default, or wrong and reported already
	}
	if conn.Role != need {
		v.addf(key, "connection %q has role %s; %s needs a connection with role %s or both", name, conn.Role, usage, need)
		return nil
	}
	return conn
}

// destination checks where cards or notices go: an internal-capable
// connection and a channel id valid on its platform.
func (v *validator) destination(key string, d Destination, dm bool) *Connection {
	if d.Connection == "" && d.Channel == "" {
		v.add(key, "required: {connection: <an internal connection>, channel: <a channel id>}")
		return nil
	}
	conn := v.connection(key+".connection", d.Connection, RoleInternal, "a destination")
	if d.Channel == "" {
		v.add(key+".channel", "required: the id of the channel to post in")
	} else if conn != nil {
		if p := channelProblem(conn.Platform, d.Channel, dm); p != "" {
			v.add(key+".channel", p)
		}
	}
	return conn
}

func (v *validator) sourceList() {
	if len(v.c.Sources) == 0 {
		v.add("sources", "at least one source is required (a public channel for Liaison to watch)")
		return
	}
	first := map[string]int{}
	watched := map[[2]string]int{} // (connection, channel) → source index
	for i, s := range v.c.Sources {
		key := fmt.Sprintf("sources[%d]", i)
		switch j, dup := first[s.Name]; {
		case strings.TrimSpace(s.Name) == "":
			v.add(key+".name", "required: a short name that routes refer to, e.g. discord-help")
		case dup:
			v.addf(key+".name", "%q is already the name of sources[%d]", s.Name, j)
		default:
			first[s.Name] = i
		}
		conn := v.connection(key+".connection", s.Connection, RolePublic, "a source")
		if len(s.Channels) == 0 {
			v.add(key+".channels", "at least one channel id is required")
		}
		for k, ch := range s.Channels {
			ckey := fmt.Sprintf("%s.channels[%d]", key, k)
			if ch == "" {
				v.add(ckey, "must not be empty")
				continue
			}
			if conn == nil {
				continue
			}
			if p := channelProblem(conn.Platform, ch, false); p != "" {
				v.add(ckey, p)
				continue
			}
			w := [2]string{conn.Name, ch}
			if j, dup := watched[w]; dup {
				v.addf(ckey, "channel %q on %s is already watched by sources[%d] (%q)", ch, conn.Name, j, v.c.Sources[j].Name)
				continue
			}
			watched[w] = i
		}
	}
}

func (v *validator) routes() {
	routes := v.c.Routes
	if len(routes) == 0 {
		v.add("routes", "at least one route is required (which internal channel gets what the sources receive)")
		return
	}
	first := map[string]int{}
	defaultRoute := -1
	for i, r := range routes {
		key := fmt.Sprintf("routes[%d]", i)
		switch j, dup := first[r.Name]; {
		case strings.TrimSpace(r.Name) == "":
			v.add(key+".name", "required: a short name shown on cards, e.g. billing")
		case dup:
			v.addf(key+".name", "%q is already the name of routes[%d]", r.Name, j)
		default:
			first[r.Name] = i
		}

		for k, name := range r.Sources {
			if _, ok := v.sources[name]; !ok {
				v.addf(fmt.Sprintf("%s.sources[%d]", key, k), "no source named %q (%s)", name, known("source", v.sourceNames))
			}
		}
		for k, kw := range r.Keywords {
			if strings.TrimSpace(kw) == "" {
				v.add(fmt.Sprintf("%s.keywords[%d]", key, k), "must not be empty")
			}
		}
		for k, expr := range r.Regexes {
			rkey := fmt.Sprintf("%s.regexes[%d]", key, k)
			if expr == "" {
				v.add(rkey, "must not be empty (an empty regexp matches every message)")
			} else if _, err := regexp.Compile(expr); err != nil {
				v.addf(rkey, "does not compile: %v (want an RE2 regular expression)", err)
			}
		}
		for k, tag := range r.Tags {
			if strings.TrimSpace(tag) == "" {
				v.add(fmt.Sprintf("%s.tags[%d]", key, k), "must not be empty")
			}
		}

		conn := v.destination(key+".destination", r.Destination, false)

		switch r.Approval {
		case "", ApprovalRequired, ApprovalTrustedAuto, ApprovalNone:
		default:
			v.addf(key+".approval", "%q is not an approval mode (want required, trusted-auto or none)", r.Approval)
		}
		if len(r.Approvers) == 0 && r.Approval != ApprovalNone {
			approval := r.Approval
			if approval == "" {
				approval = ApprovalRequired
			}
			v.addf(key+".approvers", "at least one approver is required when approval is %s (user or group ids on the destination's platform)", approval)
		}
		for k, id := range r.Responders {
			akey := fmt.Sprintf("%s.responders[%d]", key, k)
			if id == "" {
				v.add(akey, "must not be empty")
			} else if conn != nil {
				if p := approverProblem(conn.Platform, id); p != "" {
					v.add(akey, p)
				}
			}
		}
		for k, id := range r.Approvers {
			akey := fmt.Sprintf("%s.approvers[%d]", key, k)
			if id == "" {
				v.add(akey, "must not be empty")
			} else if conn != nil {
				if p := approverProblem(conn.Platform, id); p != "" {
					v.add(akey, p)
				}
			}
		}

		if r.SLA <= 0 {
			v.add(key+".sla", "must be greater than 0 (want e.g. 4h or 2d)")
		}
		if r.Hours != nil {
			v.hours(key+".hours", r.Hours)
		}

		if r.Default {
			if defaultRoute >= 0 {
				v.addf(key+".default", "only one route may be the default; routes[%d] (%q) already is", defaultRoute, routes[defaultRoute].Name)
			} else {
				defaultRoute = i
			}
			const why = "a default route catches what no other route matches, so it must not have %s"
			if len(r.Keywords) > 0 {
				v.addf(key+".keywords", why, "keywords")
			}
			if len(r.Regexes) > 0 {
				v.addf(key+".regexes", why, "regexes")
			}
		}
	}

	// A non-default route with no condition takes every message, so the
	// routes after it and the default route would never get one.
	for i, r := range routes {
		if r.Default || len(r.Sources) > 0 || len(r.Keywords) > 0 || len(r.Regexes) > 0 {
			continue
		}
		if i < len(routes)-1 || defaultRoute >= 0 {
			v.addf(fmt.Sprintf("routes[%d]", i), "matches every message (no sources, keywords or regexes), so the routes after it and the default route never get one; make it the default route (default: true) or narrow it")
		}
		break
	}
}

func (v *validator) profiles() {
	names := map[string]int{}
	identities := map[Identity]int{}
	for i, p := range v.c.Profiles {
		key := fmt.Sprintf("profiles[%d]", i)
		switch j, dup := names[p.Name]; {
		case strings.TrimSpace(p.Name) == "":
			v.add(key+".name", "required: the name the public sees, e.g. Alice Martin")
		case oneLineProblem(p.Name, 80) != "":
			v.add(key+".name", oneLineProblem(p.Name, 80))
		case dup:
			v.addf(key+".name", "%q is already the name of profiles[%d]; the public could not tell them apart", p.Name, j)
		default:
			names[p.Name] = i
		}
		if pr := oneLineProblem(p.Title, 80); pr != "" {
			v.add(key+".title", pr)
		}
		if pr := oneLineProblem(p.Pronouns, 40); pr != "" {
			v.add(key+".pronouns", pr)
		}
		if p.AvatarURL != "" {
			if pr := httpURLProblem(p.AvatarURL); pr != "" {
				v.add(key+".avatar_url", pr)
			}
		}
		for k, route := range p.TrustedOn {
			if !slices.ContainsFunc(v.c.Routes, func(r Route) bool { return r.Name == route }) {
				var names []string
				for _, r := range v.c.Routes {
					names = append(names, r.Name)
				}
				v.addf(fmt.Sprintf("%s.trusted_on[%d]", key, k), "no route named %q (%s)", route, known("route", names))
			}
		}

		if len(p.Identities) == 0 {
			v.add(key+".identities", "at least one identity is required: {connection: <name>, user_id: <the person's user id there>}")
		}
		for k, id := range p.Identities {
			ikey := fmt.Sprintf("%s.identities[%d]", key, k)
			var conn *Connection
			if id.Connection == "" {
				v.addf(ikey+".connection", "required (%s)", known("connection", v.connNames))
			} else if conn = v.conns[id.Connection]; conn == nil {
				v.addf(ikey+".connection", "no connection named %q (%s)", id.Connection, known("connection", v.connNames))
			}
			switch {
			case id.UserID == "":
				v.add(ikey+".user_id", "required: the person's user id on that connection")
			case conn == nil:
			case userProblem(conn.Platform, id.UserID) != "":
				v.add(ikey+".user_id", userProblem(conn.Platform, id.UserID))
			default:
				if j, dup := identities[id]; dup {
					v.addf(ikey, "%s user %s is already in profiles[%d] (%q); one person, one profile", id.Connection, id.UserID, j, v.c.Profiles[j].Name)
				} else {
					identities[id] = i
				}
			}
		}
	}
}
