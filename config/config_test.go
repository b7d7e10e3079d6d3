package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// env returns a getenv over a fixed map.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

var exampleEnv = map[string]string{
	"DISCORD_TOKEN":             "MTA5ODc2NTQzMjEwOTg3NjU0Mw.GaBcDe.discord-secret-value",
	"COMMUNITY_SLACK_BOT_TOKEN": "xoxb-1-community-bot-secret",
	"COMMUNITY_SLACK_APP_TOKEN": "xapp-1-community-app-secret",
	"SLACK_BOT_TOKEN":           "xoxb-2-internal-bot-secret",
	"SLACK_APP_TOKEN":           "xapp-2-internal-app-secret",
}

var minimalEnv = map[string]string{
	"SLACK_BOT_TOKEN": "xoxb-123-secret-bot",
	"SLACK_APP_TOKEN": "xapp-123-secret-app",
}

// keys returns the keys of err, which must be Errors.
func keys(t *testing.T, err error) []string {
	t.Helper()
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error is %T (%v), want Errors", err, err)
	}
	k := make([]string, len(errs))
	for i, fe := range errs {
		k[i] = fe.Key
	}
	return k
}

func TestLoadExample(t *testing.T) {
	c, err := Load("../liaison.example.yaml", env(exampleEnv))
	if err != nil {
		t.Fatalf("example does not load:\n%v", err)
	}
	if c.Company != "Acme" || len(c.Connections) != 3 || len(c.Sources) != 3 || len(c.Routes) != 3 || len(c.Profiles) != 2 {
		t.Errorf("unexpected shape: %d connections, %d sources, %d routes, %d profiles",
			len(c.Connections), len(c.Sources), len(c.Routes), len(c.Profiles))
	}
	d := c.Connection("community-discord")
	if d == nil || d.Platform != Discord || d.Role != RolePublic || d.Token.Reveal() != exampleEnv["DISCORD_TOKEN"] {
		t.Errorf("community-discord = %+v", d)
	}
	if s := c.Connection("internal-slack"); s == nil || s.Mode != ModeSocket || s.BotToken.Reveal() != exampleEnv["SLACK_BOT_TOKEN"] {
		t.Errorf("internal-slack = %+v", s)
	}
	if r := c.DefaultRoute(); r == nil || r.Name != "support" {
		t.Errorf("default route = %+v", r)
	}
	if c.Routes[0].SLA != 4*time.Hour || c.Routes[1].Approval != ApprovalTrustedAuto {
		t.Errorf("routes = %+v", c.Routes)
	}
	if c.Retention != 365*24*time.Hour {
		t.Errorf("retention = %v", c.Retention)
	}
	want := time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
	if p := c.ProfileFor("internal-slack", "U0ALICE"); p == nil || !p.ConsentedAt.Equal(want) || !slices.Equal(p.TrustedOn, []string{"product-feedback"}) {
		t.Errorf("Alice = %+v", p)
	}
	if p := c.ProfileFor("internal-slack", "U0BRUNO"); p == nil || len(p.TrustedOn) != 0 || !p.ConsentedAt.IsZero() {
		t.Errorf("Bruno = %+v", p)
	}
}

func TestLoadExampleWithoutEnv(t *testing.T) {
	_, err := Load("../liaison.example.yaml", env(nil))
	got := keys(t, err)
	want := []string{
		"connections[0].token",
		"connections[1].bot_token", "connections[1].app_token",
		"connections[2].bot_token", "connections[2].app_token",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("keys = %q, want %q\n%v", got, want, err)
	}
	if !strings.Contains(err.Error(), "connections[0].token: environment variable DISCORD_TOKEN is not set") {
		t.Errorf("error does not name the variable:\n%v", err)
	}
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load("testdata/minimal.yaml", env(minimalEnv))
	if err != nil {
		t.Fatal(err)
	}
	r := c.Routes[0]
	conn := c.Connections[0]
	for _, tc := range []struct {
		name string
		got  any
		want any
	}{
		{"database.sqlite_path", c.Database.SQLitePath, DefaultSQLitePath},
		{"database.url", c.Database.URL.Reveal(), ""},
		{"http.addr", c.HTTP.Addr, DefaultHTTPAddr},
		{"http.metrics_addr", c.HTTP.MetricsAddr, ""},
		{"http.read_header_timeout", c.HTTP.ReadHeaderTimeout, 5 * time.Second},
		{"http.read_timeout", c.HTTP.ReadTimeout, 10 * time.Second},
		{"http.write_timeout", c.HTTP.WriteTimeout, 15 * time.Second},
		{"http.idle_timeout", c.HTTP.IdleTimeout, time.Minute},
		{"reply_prefix", c.ReplyPrefix, "!reply "},
		{"max_relay_chars", c.MaxRelayChars, 1500},
		{"keep_deleted_text", c.KeepDeletedText, false},
		{"retention", c.Retention, time.Duration(0)},
		{"admin", c.Admin, (*Destination)(nil)},
		{"connections[0].role", conn.Role, RoleBoth},
		{"connections[0].mode", conn.Mode, ModeSocket},
		{"connections[0].backfill", conn.Backfill, time.Duration(0)}, // Discord only
		{"routes[0].approval", r.Approval, ApprovalRequired},
		{"routes[0].sla", r.SLA, 24 * time.Hour},
		{"routes[0].allow_self_approval", r.AllowSelfApproval, false},
	} {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s = %#v, want %#v", tc.name, tc.got, tc.want)
		}
	}
}

func TestLoadReportsEveryError(t *testing.T) {
	_, err := Load("testdata/many_errors.yaml", env(nil))
	got := keys(t, err)
	want := []string{
		"company",
		"http.addr",
		"max_relay_chars",
		"retention",
		"connections[0].name",
		"connections[0].bot_token",
		"connections[0].guild_id",
		"connections[0].app_token",
		"connections[1].platform",
		"connections[2].guild_id",
		"connections[3].signing_secret",
		"sources[0].channels[0]",
		"sources[1].name",
		"sources[1].connection",
		"sources[1].channels",
		"routes[0].sources[1]",
		"routes[0].regexes[0]",
		"routes[0].destination.connection",
		"routes[0].approval",
		"routes[0].sla",
		"routes[1].keywords",
		"routes[1].approvers[0]",
		"routes[2].default",
		"profiles[0].avatar_url",
		"profiles[0].role",
		"profiles[0].identities[0].user_id",
	}
	// The set must be exact; the order is the file's.
	if !reflect.DeepEqual(got, want) {
		t.Errorf("keys:\n got %q\nwant %q\nfull error:\n%v", got, want, err)
	}
	for _, line := range []string{
		`connections[1].platform: "slak" is not a platform (want slack or discord)`,
		`routes[1].approvers[0]: "alice" is not a Slack user or user-group id (want U…, W… or S…)`,
		`sources[1].connection: no connection named "nowhere" (known: Internal Slack, discord, community, internal)`,
		"routes[0].regexes[0]: does not compile: error parsing regexp: missing closing ): `(unclosed` (want an RE2 regular expression)",
		`routes[0].destination.connection: connection "community" has role public; a destination needs a connection with role internal or both`,
		`routes[2].default: only one route may be the default; routes[1] ("rest") already is`,
	} {
		if !strings.Contains(err.Error()+"\n", line+"\n") {
			t.Errorf("missing line %q in:\n%v", line, err)
		}
	}
	for _, secret := range []string{"SeCrEtDiScOrDtOkEn", "SeCrEtSlAcKtOkEn", "user-token"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error text contains the secret %q:\n%v", secret, err)
		}
	}
}

func TestLoadBrokenYAML(t *testing.T) {
	_, err := Load("testdata/bad_syntax.yaml", env(minimalEnv))
	if err == nil {
		t.Fatal("no error")
	}
	var errs Errors
	if errors.As(err, &errs) {
		t.Fatalf("got field errors for a syntax error: %v", err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "testdata/bad_syntax.yaml: invalid YAML: line 5: ") || strings.Contains(msg, "\n") {
		t.Errorf("message = %q, want one line naming the file, line 5 and the problem", msg)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), nil)
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want ErrNotExist", err)
	}
}

func TestUnknownKey(t *testing.T) {
	_, err := Load("testdata/unknown_key.yaml", env(minimalEnv))
	// The typo is reported, and what it hides (approval defaults to
	// required, which needs approvers) as well.
	got := keys(t, err)
	want := []string{"routes[0].aproval", "routes[0].approvers"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("keys = %q, want %q\n%v", got, want, err)
	}
	if !strings.Contains(err.Error(), "routes[0].aproval: unknown key (did you mean approval?)") {
		t.Errorf("message does not name the key and the fix:\n%v", err)
	}
}

func TestDuplicateIdentity(t *testing.T) {
	_, err := Load("testdata/duplicate_identity.yaml", env(minimalEnv))
	if got, want := keys(t, err), []string{"profiles[1].identities[1]"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("keys = %q, want %q\n%v", got, want, err)
	}
	want := `profiles[1].identities[1]: acme-slack user U0ALICE is already in profiles[0] ("Alice Martin"); one person, one profile`
	if err.Error() != want {
		t.Errorf("message:\n got %s\nwant %s", err, want)
	}
}

// minimal is testdata/minimal.yaml with its variables filled in, for
// tests that change one thing.
const minimal = `company: Acme
connections:
  - name: acme-slack
    platform: slack
    bot_token: xoxb-123-secret-bot
    app_token: xapp-123-secret-app
sources:
  - name: help
    connection: acme-slack
    channels: [C0HELP]
routes:
  - name: everything
    default: true
    destination: {connection: acme-slack, channel: C0TEAM}
    approvers: [U0BOSS]
`

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		env  map[string]string
		keys []string // nil: must parse
		msg  string   // a line the error must contain
	}{
		{name: "OK", yaml: minimal},
		{name: "EmptyFile", yaml: "", keys: []string{"company", "connections", "sources", "routes"}},
		{name: "NotAMapping", yaml: "- a\n- b\n", keys: []string{""},
			msg: "the file must be a mapping of keys (company:, connections:, …), got a list"},
		{name: "MissingVariable", yaml: strings.Replace(minimal, "xoxb-123-secret-bot", "${SLACK_BOT_TOKEN}", 1),
			keys: []string{"connections[0].bot_token"},
			msg:  "connections[0].bot_token: environment variable SLACK_BOT_TOKEN is not set"},
		{name: "VariableDefault", yaml: strings.Replace(minimal, "company: Acme", "company: ${COMPANY:-Acme}", 1)},
		{name: "VariableInNumber", yaml: minimal + "max_relay_chars: ${MAX}\n", env: map[string]string{"MAX": "2000"}},
		{name: "BadVariableInNumber", yaml: minimal + "max_relay_chars: ${MAX}\n", env: map[string]string{"MAX": "lots"},
			keys: []string{"max_relay_chars"}, msg: `max_relay_chars: "${MAX}" is not a whole number`},
		{name: "MalformedVariable", yaml: minimal + "reply_prefix: ${not valid}\n", keys: []string{"reply_prefix"}},
		{name: "UnclosedVariable", yaml: minimal + "reply_prefix: ${REPLY\n", keys: []string{"reply_prefix"}},
		{name: "DuplicateKey", yaml: minimal + "company: Other\n", keys: []string{"company"},
			msg: "company: is set twice (first on line 1); keep one"},
		{name: "WrongKind", yaml: minimal + "database: postgres://u:p@h/db\n", keys: []string{"database"},
			msg: "database: want a mapping (key: value lines), got a single value"},
		{name: "ScalarForList", yaml: strings.Replace(minimal, "[C0HELP]", "C0HELP", 1),
			keys: []string{"sources[0].channels"}, msg: "want a list, got a single value; write [C0HELP] for a list of one"},
		{name: "BadBool", yaml: minimal + "keep_deleted_text: maybe\n", keys: []string{"keep_deleted_text"}},
		{name: "BadDuration", yaml: minimal + "retention: 90\n", keys: []string{"retention"},
			msg: `retention: "90" is not a duration (want e.g. 30m, 4h or 90d)`},
		{name: "RoleIsNoSetting", yaml: minimal + "profiles:\n  - name: A\n    role: approver\n    identities: [{connection: acme-slack, user_id: U0A}]\n",
			keys: []string{"profiles[0].role"}, msg: "profiles[0].role: is not a setting: a profile grants nothing. Approvers are named per route (routes[].approvers) and responders per route (routes[].responders)"},
		{name: "TrustIsPerRoute", yaml: minimal + "profiles:\n  - name: A\n    trusted: true\n    identities: [{connection: acme-slack, user_id: U0A}]\n",
			keys: []string{"profiles[0].trusted"}, msg: "profiles[0].trusted: trust is per route: list the routes in trusted_on, e.g. trusted_on: [support]"},
		{name: "TrustedOnUnknownRoute", yaml: minimal + "profiles:\n  - name: A\n    trusted_on: [support, nowhere]\n    identities: [{connection: acme-slack, user_id: U0A}]\n",
			keys: []string{"profiles[0].trusted_on[0]", "profiles[0].trusted_on[1]"}, msg: `profiles[0].trusted_on[1]: no route named "nowhere" (known: everything)`},
		{name: "BadTime", yaml: minimal + "profiles:\n  - name: A\n    consented_at: yesterday\n    identities: [{connection: acme-slack, user_id: U0A}]\n",
			keys: []string{"profiles[0].consented_at"}},
		{name: "ExplicitZeroSLA", yaml: minimal + "    sla: 0s\n", keys: []string{"routes[0].sla"}},
		{name: "EmptyReplyPrefix", yaml: minimal + "reply_prefix: \"\"\n", keys: []string{"reply_prefix"}},
		{name: "NullKeepsDefault", yaml: minimal + "reply_prefix:\nhttp:\n"},
		{name: "AnchorsAndMerge", yaml: minimal + `  - name: billing
    keywords: [invoice]
    <<: &policy
      destination: {connection: acme-slack, channel: C0BILLING}
      approvers: [S0LEADS]
  - name: bugs
    keywords: [bug]
    <<: *policy
    approvers: [U0DEV]
`},
		{name: "UnknownTopLevel", yaml: minimal + "verison: 2\n", keys: []string{"verison"},
			msg: "verison: unknown key (known keys: admin, company, connections, dashboard, database, digests, http, keep_deleted_text, max_relay_chars, profiles, reply_prefix, retention, routes, sources)"},
		{name: "DatabaseURLFromEnv", yaml: minimal, env: map[string]string{"DATABASE_URL": "mysql://u:hunter2@h/db"},
			keys: []string{"database.url"},
			msg:  `database.url: scheme "mysql" is not supported (want postgres://user:password@host:5432/dbname, or leave it empty for SQLite) (set by the DATABASE_URL environment variable)`},
		{name: "HTTPAddrFromEnv", yaml: minimal, env: map[string]string{"LIAISON_HTTP_ADDR": "nope"},
			keys: []string{"http.addr"}},
		{name: "HTTPSettings", yaml: minimal + "http: {metrics_addr: 127.0.0.1:9090, read_timeout: 5s, idle_timeout: 2m}\n"},
		{name: "MetricsAddrBad", yaml: minimal + "http: {metrics_addr: metrics}\n", keys: []string{"http.metrics_addr"},
			msg: `http.metrics_addr: "metrics" is not a host:port address (want e.g. 127.0.0.1:8080 or :8080)`},
		{name: "MetricsAddrIsAddr", yaml: minimal + "http: {addr: 127.0.0.1:8080, metrics_addr: 127.0.0.1:8080}\n", keys: []string{"http.metrics_addr"},
			msg: `http.metrics_addr: "127.0.0.1:8080" clashes with http.addr ("127.0.0.1:8080"): both would listen on the same port (want another port, e.g. 127.0.0.1:9090, or leave metrics_addr out to serve /metrics on http.addr)`},
		{name: "MetricsAddrOnEveryInterface", yaml: minimal + "http: {addr: 127.0.0.1:8080, metrics_addr: \":8080\"}\n", keys: []string{"http.metrics_addr"}},
		{name: "MetricsAddrIsAddrFromEnv", yaml: minimal + "http: {metrics_addr: \":9090\"}\n", env: map[string]string{"LIAISON_HTTP_ADDR": ":9090"},
			keys: []string{"http.metrics_addr"}},
		{name: "MetricsAddrOtherHost", yaml: minimal + "http: {addr: 127.0.0.1:8080, metrics_addr: 10.0.0.5:8080}\n"},
		{name: "ZeroReadTimeout", yaml: minimal + "http: {read_timeout: 0s}\n", keys: []string{"http.read_timeout"},
			msg: "http.read_timeout: must be positive (want e.g. 10s)"},
		{name: "ShortWriteTimeout", yaml: minimal + "http: {write_timeout: 1s}\n", keys: []string{"http.write_timeout"},
			msg: "http.write_timeout: 1s is too short (want at least 3s, e.g. 15s)"},
		{name: "LongIdleTimeout", yaml: minimal + "http: {idle_timeout: 2h}\n", keys: []string{"http.idle_timeout"},
			msg: "http.idle_timeout: 2h lets a slow client hold a connection that long (want at most 10m, e.g. 1m)"},
		{name: "HeaderTimeoutBeyondRead", yaml: minimal + "http: {read_header_timeout: 20s}\n", keys: []string{"http.read_header_timeout"},
			msg: "http.read_header_timeout: 20s is longer than http.read_timeout (10s), which bounds the whole request, headers included (want at most 10s)"},
		{name: "TimeoutNotADuration", yaml: minimal + "http: {read_timeout: 10}\n", keys: []string{"http.read_timeout"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.yaml), env(tc.env))
			if tc.keys == nil {
				if err != nil {
					t.Fatalf("unexpected error:\n%v", err)
				}
				if c == nil {
					t.Fatal("nil config")
				}
				return
			}
			if got := keys(t, err); !reflect.DeepEqual(got, tc.keys) {
				t.Errorf("keys = %q, want %q\n%v", got, tc.keys, err)
			}
			if tc.msg != "" && !strings.Contains(err.Error()+"\n", tc.msg+"\n") {
				t.Errorf("missing %q in:\n%v", tc.msg, err)
			}
		})
	}
}

// TestHTTPSettings: the http keys reach the struct; those left out keep
// their defaults.
func TestHTTPSettings(t *testing.T) {
	c, err := Parse([]byte(minimal+"http:\n  metrics_addr: 127.0.0.1:9090\n  read_timeout: 5s\n  idle_timeout: 2m\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := HTTP{Addr: DefaultHTTPAddr, MetricsAddr: "127.0.0.1:9090",
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 5 * time.Second, WriteTimeout: 15 * time.Second, IdleTimeout: 2 * time.Minute}
	if c.HTTP != want {
		t.Errorf("http = %+v, want %+v", c.HTTP, want)
	}
}

func TestParseAliasBomb(t *testing.T) {
	// 400 routes × 400 keywords from a file of a few kilobytes.
	var b strings.Builder
	b.WriteString("company: Acme\nwords: &k [" + strings.Repeat("w, ", 399) + "w]\n")
	b.WriteString("route: &r {name: r, keywords: *k}\nroutes: [" + strings.Repeat("*r, ", 399) + "*r]\n")
	_, err := Parse([]byte(b.String()), nil)
	want := ": the file expands to too many values (aliases of aliases?); stopped here"
	if got := keys(t, err); len(got) != 1 || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("err = %.500v, want one error ending %q", err, want)
	}
}

func TestParseValues(t *testing.T) {
	t.Run("AnchorsAndMerge", func(t *testing.T) {
		c, err := Parse([]byte(minimal+`  - name: billing
    keywords: [invoice]
    <<: &policy
      destination: {connection: acme-slack, channel: C0BILLING}
      approvers: [S0LEADS]
  - name: bugs
    keywords: [bug]
    <<: *policy
    approvers: [U0DEV]
`), nil)
		if err != nil {
			t.Fatal(err)
		}
		if d := c.Routes[2].Destination; d.Channel != "C0BILLING" || c.Routes[2].Approvers[0] != "U0DEV" {
			t.Errorf("bugs = %+v", c.Routes[2])
		}
	})
	t.Run("Overrides", func(t *testing.T) {
		c, err := Parse([]byte(minimal), env(map[string]string{
			"DATABASE_URL": "postgres://liaison:pw@db:5432/liaison", "LIAISON_HTTP_ADDR": ":9090"}))
		if err != nil {
			t.Fatal(err)
		}
		if c.Database.URL.Reveal() != "postgres://liaison:pw@db:5432/liaison" || c.HTTP.Addr != ":9090" {
			t.Errorf("database = %v, http = %v", c.Database.URL.Reveal(), c.HTTP.Addr)
		}
	})
	t.Run("DiscordBotPrefixStripped", func(t *testing.T) {
		c, err := Parse([]byte(`company: Acme
connections:
  - {name: d, platform: discord, token: "Bot abc.def.ghi", guild_id: "123456789012345678"}
sources: [{name: s, connection: d, channels: ["123456789012345679"]}]
routes: [{name: r, default: true, destination: {connection: d, channel: "123456789012345680"}, approval: none}]
`), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Connections[0].Token.Reveal(); got != "abc.def.ghi" {
			t.Errorf("token = %q", got)
		}
	})
	t.Run("EscapedDollar", func(t *testing.T) {
		c, err := Parse([]byte(minimal+"reply_prefix: \"$${x} $HOME \"\n"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.ReplyPrefix != "${x} $HOME " {
			t.Errorf("reply_prefix = %q", c.ReplyPrefix)
		}
	})
	t.Run("EnvValueIsNotYAML", func(t *testing.T) {
		// A value from the environment is taken as it is, never parsed.
		c, err := Parse([]byte(strings.Replace(minimal, "company: Acme", "company: ${COMPANY}", 1)),
			env(map[string]string{"COMPANY": "Acme: {x: [y]} # not a comment"}))
		if err != nil {
			t.Fatal(err)
		}
		if c.Company != "Acme: {x: [y]} # not a comment" {
			t.Errorf("company = %q", c.Company)
		}
	})
}

// TestSecretsNeverInErrors puts secrets where they do not belong and checks
// no error text shows them.
func TestSecretsNeverInErrors(t *testing.T) {
	const secret = "s3cr3t-VALUE-42"
	for _, tc := range []struct {
		name string
		yaml string
		env  map[string]string
	}{
		{"BadBotToken", strings.Replace(minimal, "xoxb-123-secret-bot", secret, 1), nil},
		{"BadAppToken", strings.Replace(minimal, "xapp-123-secret-app", secret, 1), nil},
		{"BadBotTokenFromEnv", strings.Replace(minimal, "xoxb-123-secret-bot", "${TOK}", 1), map[string]string{"TOK": secret}},
		{"SecretInNumberFromEnv", minimal + "max_relay_chars: ${TOK}\n", map[string]string{"TOK": secret}},
		{"SecretInDurationFromEnv", minimal + "retention: ${TOK}\n", map[string]string{"TOK": secret}},
		{"SecretAsMapping", minimal + "http: " + secret + "\n", nil},
		{"BadDatabaseURL", minimal + "database: {url: 'postgres://u:" + secret + "@h:port/db'}\n", nil},
		{"BadDatabaseURLFromEnv", minimal, map[string]string{"DATABASE_URL": "mysql://u:" + secret + "@h/db"}},
		{"BadDatabaseURLSyntax", minimal, map[string]string{"DATABASE_URL": "postgres://u:" + secret + "@h:port/%zz"}},
		{"DiscordKeyOnSlack", strings.Replace(minimal, "    app_token:", "    token: "+secret+"\n    app_token:", 1), nil},
		{"SlackTokenOnDiscord", `company: Acme
connections:
  - {name: d, platform: discord, token: "xoxb-` + secret + `", bot_token: "` + secret + `", guild_id: "123456789012345678"}
`, nil},
		{"SecretInGuildID", `company: Acme
connections:
  - {name: d, platform: discord, token: "${TOK}", guild_id: "${TOK}"}
`, map[string]string{"TOK": secret + "\"quoted\""}},
		{"SecretInSlackChannel", strings.Replace(minimal, "C0TEAM", "'${TOK}'", 1), map[string]string{"TOK": "xoxb-" + secret}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), env(tc.env))
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error shows the secret:\n%v", err)
			}
			t.Logf("%v", err)
		})
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	c, err := Load("../liaison.example.yaml", env(exampleEnv))
	if err != nil {
		t.Fatal(err)
	}
	c.Database.URL = "postgres://liaison:db-password-secret@db:5432/liaison?sslmode=require"
	yamlOut, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	jsonOut, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var logOut strings.Builder
	slog.New(slog.NewTextHandler(&logOut, nil)).Info("config", "token", c.Connections[0].Token, "conn", c.Connections[1])

	outputs := map[string]string{
		"%v":      fmt.Sprintf("%v", c),
		"%+v":     fmt.Sprintf("%+v", *c),
		"%#v":     fmt.Sprintf("%#v", *c),
		"%s":      fmt.Sprintf("%s", c.Connections[2].BotToken),
		"%q":      fmt.Sprintf("%q", c.Connections[2].BotToken),
		"%x":      fmt.Sprintf("%x", c.Connections[2].BotToken),
		"Print":   fmt.Sprint(c.Connections[0]),
		"yaml":    string(yamlOut),
		"json":    string(jsonOut),
		"slog":    logOut.String(),
		"Summary": c.Summary(),
	}
	for name, out := range outputs {
		for _, secret := range append(mapValues(exampleEnv), "db-password-secret", "sslmode") {
			if strings.Contains(out, secret) {
				t.Errorf("%s output contains a secret:\n%s", name, out)
			}
		}
	}
	if !strings.Contains(outputs["%+v"], "BotToken:[redacted]") {
		t.Errorf("%%+v does not show the secret as redacted:\n%s", outputs["%+v"])
	}
}

func mapValues(m map[string]string) []string {
	var v []string
	for _, s := range m {
		v = append(v, s)
	}
	return v
}

func TestSummary(t *testing.T) {
	c, err := Load("../liaison.example.yaml", env(exampleEnv))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Summary()
	for _, want := range []string{
		"Company: Acme",
		"Database: SQLite ./liaison.db",
		"community-discord  discord  public    guild 1098765432109876543, backfill 1d",
		"internal-slack     slack    internal  socket mode",
		"discord-help      on community-discord  1100000000000000001, 1100000000000000002",
		"1. billing → internal-slack C0BILLING",
		"policy: approval required by U0MARIEFIN, S0BILLINGLEADS; SLA 4h; tags billing",
		"3. support (default) → internal-slack C0SUPPORT",
		"when: no other route matches",
		"Profiles: 2 (1 with written consent on file)",
		"Retention: message text purged after 365d",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
	c.Database.URL = "postgres://liaison:pw@db.internal:5432/liaison?password=x"
	if got := c.databaseSummary(); got != "Postgres postgres://db.internal:5432/liaison" {
		t.Errorf("database summary = %q", got)
	}
}
