// Package config loads Liaison's YAML configuration, fills in environment
// variables and defaults, and validates it. Every problem is reported at once,
// each naming the key it is about, what is wrong and what would be right:
//
//	routes[1].approvers[0]: "alice" is not a Slack user or user-group id (want U…, W… or S…)
//
// Secrets (tokens, the database URL) are of type Secret, which never prints
// its value; error messages never contain one either.
package config

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Defaults for keys that may be left out.
const (
	DefaultSQLitePath    = "./liaison.db"
	DefaultHTTPAddr      = "127.0.0.1:8080"
	DefaultReplyPrefix   = "!reply "
	DefaultMaxRelayChars = 1500
	DefaultSLA           = 24 * time.Hour
	// DefaultBackfill is how far back a Discord connection looks, at start
	// and after a reconnect, for messages it missed.
	DefaultBackfill = 24 * time.Hour
	// MaxBackfill bounds it: a first start takes in everything said that
	// far back.
	MaxBackfill = 30 * 24 * time.Hour
)

// Config is the whole configuration file.
type Config struct {
	// Company is the name in signatures: "Alice Martin · Acme".
	Company  string   `yaml:"company"`
	Database Database `yaml:"database"`
	HTTP     HTTP     `yaml:"http"`
	// ReplyPrefix turns an internal thread message into a draft ("!reply ").
	ReplyPrefix string `yaml:"reply_prefix"`
	// MaxRelayChars is where relayed text is truncated (with a link).
	MaxRelayChars int `yaml:"max_relay_chars"`
	// KeepDeletedText keeps the internal copy of a deleted public message;
	// otherwise it is replaced by a note.
	KeepDeletedText bool `yaml:"keep_deleted_text"`
	// Admin is where "no route for channel X" notices go; nil if not set.
	Admin *Destination `yaml:"admin"`
	// Retention is how long message text is kept; 0 keeps it forever.
	Retention   time.Duration `yaml:"retention"`
	Connections []Connection  `yaml:"connections"`
	Sources     []Source      `yaml:"sources"`
	// Routes in order: the first that matches wins; the Default route
	// catches what none matches.
	Routes   []Route   `yaml:"routes"`
	Profiles []Profile `yaml:"profiles"`
	// Digests post the statistics on a schedule.
	Digests []Digest `yaml:"digests"`
	// Dashboard is the managers' live page; off without a token.
	Dashboard Dashboard `yaml:"dashboard"`
}

// Database selects the store: Postgres if URL is set, else SQLite.
type Database struct {
	URL        Secret `yaml:"url"`
	SQLitePath string `yaml:"sqlite_path"`
}

// HTTP is the listener for health, readiness, /metrics and Slack HTTP mode.
type HTTP struct {
	Addr string `yaml:"addr"`
	// MetricsAddr, if set, serves /metrics there alone, and not on Addr,
	// which Slack HTTP mode may need exposed.
	MetricsAddr string `yaml:"metrics_addr"`
	// How long a client may take to send a request's headers, the whole
	// request, to be answered (from the end of the headers), and how long
	// a kept-alive connection may wait for its next request.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	ReadTimeout       time.Duration `yaml:"read_timeout"`
	WriteTimeout      time.Duration `yaml:"write_timeout"`
	IdleTimeout       time.Duration `yaml:"idle_timeout"`
}

// Defaults of the HTTP timeouts. Slack wants an HTTP-mode answer within
// 3 seconds and its requests are small: a client slower than this is
// broken or hostile.
const (
	DefaultHTTPReadHeaderTimeout = 5 * time.Second
	DefaultHTTPReadTimeout       = 10 * time.Second
	DefaultHTTPWriteTimeout      = 15 * time.Second
	DefaultHTTPIdleTimeout       = 60 * time.Second
)

// applyDefaults fills in the keys of the http section left empty.
func (h *HTTP) applyDefaults() {
	d := defaultHTTP()
	h.Addr = cmp.Or(h.Addr, d.Addr)
	h.ReadHeaderTimeout = cmp.Or(h.ReadHeaderTimeout, d.ReadHeaderTimeout)
	h.ReadTimeout = cmp.Or(h.ReadTimeout, d.ReadTimeout)
	h.WriteTimeout = cmp.Or(h.WriteTimeout, d.WriteTimeout)
	h.IdleTimeout = cmp.Or(h.IdleTimeout, d.IdleTimeout)
}

// defaultHTTP is the http section left out.
func defaultHTTP() HTTP {
	return HTTP{
		Addr:              DefaultHTTPAddr,
		ReadHeaderTimeout: DefaultHTTPReadHeaderTimeout,
		ReadTimeout:       DefaultHTTPReadTimeout,
		WriteTimeout:      DefaultHTTPWriteTimeout,
		IdleTimeout:       DefaultHTTPIdleTimeout,
	}
}

// Platform is the chat platform of a connection.
type Platform string

const (
	Slack   Platform = "slack"
	Discord Platform = "discord"
)

// Role says what a connection is used for.
type Role string

const (
	RolePublic   Role = "public"   // watched community spaces; public replies
	RoleInternal Role = "internal" // team channels: cards, threads, approvals
	RoleBoth     Role = "both"
)

// Mode is how a Slack connection receives events.
type Mode string

const (
	ModeSocket Mode = "socket" // Socket Mode (needs an app token)
	ModeHTTP   Mode = "http"   // Events API over HTTP (needs the signing secret)
)

// Approval is a route's publishing policy.
type Approval string

const (
	// ApprovalRequired: every draft needs an approver's approval.
	ApprovalRequired Approval = "required"
	// ApprovalTrustedAuto: trusted responders publish directly, others need approval.
	ApprovalTrustedAuto Approval = "trusted-auto"
	// ApprovalNone: drafts are published without approval.
	ApprovalNone Approval = "none"
)

// Connection is one bot login on one Slack workspace or Discord guild.
// Slack keys: BotToken, AppToken, SigningSecret, Mode. Discord keys: Token,
// GuildID, ApplicationID, Backfill. APIURL may be set on either.
type Connection struct {
	Name     string   `yaml:"name"`
	Platform Platform `yaml:"platform"`
	Role     Role     `yaml:"role"`

	BotToken      Secret `yaml:"bot_token"`      // xoxb-…
	AppToken      Secret `yaml:"app_token"`      // xapp-…, socket mode
	SigningSecret Secret `yaml:"signing_secret"` // http mode
	Mode          Mode   `yaml:"mode"`

	Token         Secret `yaml:"token"` // Discord bot token, without "Bot "
	GuildID       string `yaml:"guild_id"`
	ApplicationID string `yaml:"application_id"`
	// Backfill is how far back a Discord connection reads its watched
	// channels, at every start and after every reconnect, for what was said
	// while it was away: from the last message it stored there, but never
	// further back than this (DefaultBackfill when left out).
	Backfill time.Duration `yaml:"backfill"`

	// APIURL points the connection at another server speaking the
	// platform's API: its base URL, the same on both platforms
	// ("https://slack.com", "https://discord.com", a local fake's
	// "http://127.0.0.1:9000"). Empty means the platform itself.
	APIURL string `yaml:"api_url"`
}

// Public reports whether sources may watch this connection.
func (c *Connection) Public() bool { return c.Role == RolePublic || c.Role == RoleBoth || c.Role == "" }

// Internal reports whether cards may be posted on this connection.
func (c *Connection) Internal() bool {
	return c.Role == RoleInternal || c.Role == RoleBoth || c.Role == ""
}

// Source is a watched public place: channels on one connection.
type Source struct {
	Name       string   `yaml:"name"`
	Connection string   `yaml:"connection"`
	Channels   []string `yaml:"channels"`
}

// Destination is a channel on a connection.
type Destination struct {
	Connection string `yaml:"connection"`
	Channel    string `yaml:"channel"`
}

// Route sends matching items to an internal channel under a policy.
type Route struct {
	Name string `yaml:"name"`
	// Sources limits the route to these source names; empty means any.
	Sources []string `yaml:"sources"`
	// Keywords are case-insensitive words; Regexes are RE2. With neither,
	// the route matches every message of its sources.
	Keywords    []string    `yaml:"keywords"`
	Regexes     []string    `yaml:"regexes"`
	Tags        []string    `yaml:"tags"`
	Destination Destination `yaml:"destination"`
	Approval    Approval    `yaml:"approval"`
	// Approvers are ids on the destination's platform: Slack users (U…,
	// W…) or user groups (S…); Discord users or roles.
	Approvers []string `yaml:"approvers"`
	// Responders, when set, are the only people (ids as for approvers)
	// who, with the approvers, may act on the route's items. Set them when
	// people outside the team can read the destination channel.
	Responders        []string      `yaml:"responders"`
	AllowSelfApproval bool          `yaml:"allow_self_approval"`
	SLA               time.Duration `yaml:"sla"`
	// Hours, when set, make the SLA count business time only.
	Hours   *Hours `yaml:"hours"`
	Default bool   `yaml:"default"`
}

// Profile is a staff member as the public sees them.
type Profile struct {
	Name      string `yaml:"name"`
	Title     string `yaml:"title"`
	AvatarURL string `yaml:"avatar_url"`
	Pronouns  string `yaml:"pronouns"`
	// TrustedOn names the routes on which the person's drafts publish
	// without review when the route is trusted-auto.
	TrustedOn []string `yaml:"trusted_on"`
	// ConsentedAt is when written consent was given; zero if consent is to
	// be given in the app.
	ConsentedAt time.Time  `yaml:"consented_at"`
	Identities  []Identity `yaml:"identities"`
}

// Identity is a staff member's user id on a connection.
type Identity struct {
	Connection string `yaml:"connection"`
	UserID     string `yaml:"user_id"`
}

// Environment variables that override the file.
const (
	EnvDatabaseURL = "DATABASE_URL"
	EnvHTTPAddr    = "LIAISON_HTTP_ADDR"
)

// Load reads the file at path and parses it as Parse does. getenv (usually
// os.Getenv) supplies ${VAR} values and the overrides.
func Load(path string, getenv func(string) string) (*Config, error) {
	return load(path, getenv, false)
}

// Parse decodes a YAML configuration, replaces ${VAR} and ${VAR:-default}
// in values with getenv's answers (write $${ for a literal ${), applies the
// DATABASE_URL and LIAISON_HTTP_ADDR overrides, validates, and returns the
// configuration with every default filled in.
//
// Broken YAML gives one error naming the line. Anything else wrong gives
// Errors: unknown keys, values of the wrong type, unset variables and every
// validation problem, in document order.
func Parse(data []byte, getenv func(string) string) (*Config, error) {
	return parse(data, getenv, false)
}

// LoadSetup reads the file at path as Load does, for the commands that
// help create the apps (slack-manifest, discord-invite): those run before
// the tokens exist, so a credential that is missing or not yet valid is no
// error. Every other problem is.
func LoadSetup(path string, getenv func(string) string) (*Config, error) {
	return load(path, getenv, true)
}

// load is Load, or LoadSetup when setup is set.
func load(path string, getenv func(string) string, setup bool) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := parse(data, getenv, setup)
	if err != nil {
		var errs Errors
		if errors.As(err, &errs) {
			return nil, errs
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// secretKey reports whether an error's key is a credential's.
func secretKey(key string) bool {
	if key == "database.url" || key == "dashboard.token" {
		return true
	}
	for _, k := range []string{".bot_token", ".app_token", ".signing_secret", ".token"} {
		if strings.HasPrefix(key, "connections[") && strings.HasSuffix(key, k) {
			return true
		}
	}
	return false
}

func parse(data []byte, getenv func(string) string, setup bool) (*Config, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("invalid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}

	c := &Config{
		Database:      Database{SQLitePath: DefaultSQLitePath},
		HTTP:          defaultHTTP(),
		ReplyPrefix:   DefaultReplyPrefix,
		MaxRelayChars: DefaultMaxRelayChars,
	}
	d := newDecoder(getenv)
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		d.value("", doc.Content[0], reflect.ValueOf(c).Elem())
	}

	if d.nodes > maxNodes {
		return nil, d.errs[len(d.errs)-1:]
	}

	overridden := map[string]string{}
	if v := getenv(EnvDatabaseURL); v != "" {
		c.Database.URL = Secret(v)
		overridden["database.url"] = EnvDatabaseURL
	}
	if v := getenv(EnvHTTPAddr); v != "" {
		c.HTTP.Addr = v
		overridden["http.addr"] = EnvHTTPAddr
	}

	errs := d.errs
	var verrs Errors
	if errors.As(c.Validate(), &verrs) {
		for _, fe := range verrs {
			if covered(fe.Key, d.errs) {
				continue
			}
			if env, ok := overridden[fe.Key]; ok {
				fe.Message += " (set by the " + env + " environment variable)"
			}
			errs = append(errs, fe)
		}
	}
	if setup {
		errs = slices.DeleteFunc(errs, func(e *FieldError) bool { return secretKey(e.Key) })
	}
	if len(errs) > 0 {
		sortByLine(errs, d.lines)
		d.unquote(errs)
		scrub(errs, c.secrets())
		return nil, errs
	}
	c.ApplyDefaults()
	return c, nil
}

// ApplyDefaults fills in what was left empty. Parse calls it after
// validation; a Config built in code should call it before Validate.
func (c *Config) ApplyDefaults() {
	if c.Database.URL == "" && c.Database.SQLitePath == "" {
		c.Database.SQLitePath = DefaultSQLitePath
	}
	c.HTTP.applyDefaults()
	if c.ReplyPrefix == "" {
		c.ReplyPrefix = DefaultReplyPrefix
	}
	if c.MaxRelayChars == 0 {
		c.MaxRelayChars = DefaultMaxRelayChars
	}
	for i := range c.Connections {
		conn := &c.Connections[i]
		if conn.Role == "" {
			conn.Role = RoleBoth
		}
		if conn.Platform == Slack && conn.Mode == "" {
			conn.Mode = ModeSocket
		}
		if conn.Platform == Discord && conn.Backfill == 0 {
			conn.Backfill = DefaultBackfill
		}
		conn.Token = Secret(discordToken(string(conn.Token)))
	}
	for i := range c.Routes {
		r := &c.Routes[i]
		if r.Approval == "" {
			r.Approval = ApprovalRequired
		}
		if r.SLA == 0 {
			r.SLA = DefaultSLA
		}
	}
}

// discordToken strips the "Bot " prefix the Discord API wants in the
// Authorization header, which people often paste along with the token.
func discordToken(s string) string {
	s = strings.TrimSpace(s)
	if s == "Bot" {
		return ""
	}
	return strings.TrimSpace(strings.TrimPrefix(s, "Bot "))
}

// Connection returns the connection named name, or nil.
func (c *Config) Connection(name string) *Connection {
	for i := range c.Connections {
		if c.Connections[i].Name == name {
			return &c.Connections[i]
		}
	}
	return nil
}

// Source returns the source named name, or nil.
func (c *Config) Source(name string) *Source {
	for i := range c.Sources {
		if c.Sources[i].Name == name {
			return &c.Sources[i]
		}
	}
	return nil
}

// DefaultRoute returns the route with default: true, or nil.
func (c *Config) DefaultRoute() *Route {
	for i := range c.Routes {
		if c.Routes[i].Default {
			return &c.Routes[i]
		}
	}
	return nil
}

// ProfileFor returns the profile with the given user id on a connection,
// or nil.
func (c *Config) ProfileFor(connection, userID string) *Profile {
	for i := range c.Profiles {
		for _, id := range c.Profiles[i].Identities {
			if id.Connection == connection && id.UserID == userID {
				return &c.Profiles[i]
			}
		}
	}
	return nil
}

// secrets lists every secret value in c, for scrubbing messages.
func (c *Config) secrets() []string {
	s := []string{string(c.Database.URL), string(c.Dashboard.Token)}
	for _, conn := range c.Connections {
		s = append(s, string(conn.BotToken), string(conn.AppToken), string(conn.SigningSecret),
			string(conn.Token), discordToken(string(conn.Token)))
	}
	return s
}

const redacted = "[redacted]"

// Secret is a credential. It prints as "[redacted]" with every fmt verb, in
// slog, and when marshalled to YAML, JSON or text, so logging or printing a
// Config never shows one. Reveal returns the value for the one place that
// needs it: the SDK or driver.
type Secret string

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether the secret has a value.
func (s Secret) IsSet() bool { return s != "" }

// String returns "[redacted]", or "" if the secret is empty.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return fmt.Sprintf("config.Secret(%q)", s.String()) }

// Format keeps every fmt verb (%s, %v, %q, %x, …) from printing the value.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, s.GoString())
		return
	}
	fmt.Fprint(f, s.String())
}

// LogValue keeps slog from printing the value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText keeps encoders (YAML, JSON) from writing the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
