package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestIDValidators(t *testing.T) {
	for _, tc := range []struct {
		name  string
		check func(string) bool
		good  []string
		bad   []string
	}{
		{"SlackUser", isSlackUser,
			[]string{"U0ALICE", "U024BE7LH", "W012A3CDE", "U12"},
			[]string{"", "U1", "u024be7lh", "alice", "@alice", "S0LEADS", "C0HELP", "U024 BE7", "U024-BE7"}},
		{"SlackGroup", isSlackGroup,
			[]string{"S0LEADS", "S0614TZR7", "S12"},
			[]string{"", "S1", "s0leads", "U0ALICE", "@leads"}},
		{"SlackChannel", isSlackChannel,
			[]string{"C0HELP", "C024BE91L", "G0PRIVATE", "D0DIRECT"},
			[]string{"", "C1", "c024be91l", "#help", "help", "U0ALICE", "C024BE91L "}},
		{"Snowflake", isSnowflake,
			[]string{"80351110224678912", "123456789012345678", "1100000000000000001", "18446744073709551615"},
			[]string{"", "1234567890123456", "123456789012345678901", "18446744073709551616", "99999999999999999999",
				"12345678901234567a", "-12345678901234567", " 123456789012345678", "<@123456789012345678>"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, s := range tc.good {
				if !tc.check(s) {
					t.Errorf("%q rejected", s)
				}
			}
			for _, s := range tc.bad {
				if tc.check(s) {
					t.Errorf("%q accepted", s)
				}
			}
		})
	}
}

func TestProblems(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  string
		want string // "" for a good value
	}{
		{"SlackChannel", channelProblem(Slack, "C0HELP", false), ""},
		{"SlackChannelDMNotAllowed", channelProblem(Slack, "D0DM", false), `"D0DM" is not a Slack channel id (want C… or G…)`},
		{"SlackChannelDMAllowed", channelProblem(Slack, "D0DM", true), ""},
		{"SlackChannelName", channelProblem(Slack, "#help", false),
			`"#help" is not a Slack channel id (want C… or G…); use the id shown at the bottom of the channel details, not the name`},
		{"SlackChannelSnowflake", channelProblem(Slack, "1100000000000000001", false), `"1100000000000000001" is not a Slack channel id (want C… or G…)`},
		{"DiscordChannel", channelProblem(Discord, "1100000000000000001", false), ""},
		{"DiscordChannelSlackID", channelProblem(Discord, "C0HELP", false), `"C0HELP" is not a Discord channel id (want a snowflake: 17 to 20 digits)`},
		{"SlackUser", userProblem(Slack, "W0ALICE"), ""},
		{"SlackUserGroup", userProblem(Slack, "S0LEADS"), `"S0LEADS" is not a Slack user id (want U… or W…)`},
		{"SlackUserName", userProblem(Slack, "@alice"), `"@alice" is not a Slack user id (want U… or W…); use Copy member ID from the profile, not the name`},
		{"DiscordUser", userProblem(Discord, "80351110224678912"), ""},
		{"DiscordUserBad", userProblem(Discord, "alice#1234"), `"alice#1234" is not a Discord user id (want a snowflake: 17 to 20 digits)`},
		{"SlackApproverUser", approverProblem(Slack, "U0MANAGER"), ""},
		{"SlackApproverGroup", approverProblem(Slack, "S0LEADS"), ""},
		{"SlackApproverBad", approverProblem(Slack, "alice"), `"alice" is not a Slack user or user-group id (want U…, W… or S…)`},
		{"SlackApproverChannel", approverProblem(Slack, "C0HELP"), `"C0HELP" is not a Slack user or user-group id (want U…, W… or S…)`},
		{"DiscordApprover", approverProblem(Discord, "1100000000000000010"), ""},
		{"DiscordApproverBad", approverProblem(Discord, "U0MANAGER"), `"U0MANAGER" is not a Discord user or role id (want a snowflake: 17 to 20 digits)`},
		{"Guild", snowflakeProblem("guild", "123456789012345678"), ""},
		{"GuildBad", snowflakeProblem("guild", "12345"), `"12345" is not a Discord guild id (want a snowflake: 17 to 20 digits)`},
		{"APIURL", baseURLProblem("http://127.0.0.1:9000"), ""},
		{"APIURLSlash", baseURLProblem("https://slack.com/"), ""},
		{"APIURLWithAPIPath", baseURLProblem("http://127.0.0.1:9000/api/"), `"http://127.0.0.1:9000/api/" has a path: api_url is the platform's base URL, without /api/ (want e.g. https://slack.com, https://discord.com or http://127.0.0.1:9000)`},
		{"APIURLNoScheme", baseURLProblem("127.0.0.1:9000"), `"127.0.0.1:9000" is not an http(s) URL (want e.g. https://example.com/…)`},
		{"AvatarURL", httpURLProblem("https://acme.example/a.png"), ""},
		{"AvatarURLFTP", httpURLProblem("ftp://acme.example/a.png"), `"ftp://acme.example/a.png" is not an http(s) URL (want e.g. https://example.com/…)`},
		{"Addr", addrProblem("127.0.0.1:8080"), ""},
		{"AddrPortOnly", addrProblem(":8080"), ""},
		{"AddrIPv6", addrProblem("[::1]:8080"), ""},
		{"AddrNoPort", addrProblem("localhost"), `"localhost" is not a host:port address (want e.g. 127.0.0.1:8080 or :8080)`},
		{"AddrBadPort", addrProblem("localhost:99999"), `"localhost:99999" is not a host:port address (want e.g. 127.0.0.1:8080 or :8080)`},
		{"DatabaseURL", databaseURLProblem("postgres://u:p@db:5432/liaison?sslmode=disable"), ""},
		{"DatabaseURLPostgresql", databaseURLProblem("postgresql://db/liaison"), ""},
		{"DatabaseURLMySQL", databaseURLProblem("mysql://u:p@db/x"),
			`scheme "mysql" is not supported (want postgres://user:password@host:5432/dbname, or leave it empty for SQLite)`},
		{"DatabaseURLKeyValue", databaseURLProblem("host=db user=u password=p"),
			`is not a postgres:// URL (want postgres://user:password@host:5432/dbname, or leave it empty for SQLite)`},
		{"BotToken", slackBotTokenProblem("xoxb-1-2-abc"), ""},
		{"BotTokenApp", slackBotTokenProblem("xapp-1-abc"), "is an app-level token (xapp-…); put it in app_token and set the bot token (xoxb-…) here"},
		{"BotTokenUser", slackBotTokenProblem("xoxp-1-abc"), "is a user token (xoxp-…); Liaison needs the bot token (xoxb-…) from OAuth & Permissions"},
		{"BotTokenOther", slackBotTokenProblem("abc"), "is not a Slack bot token (want a token starting with xoxb-)"},
		{"DiscordToken", discordTokenProblem("MTA.GaB.xyz"), ""},
		{"DiscordTokenBotPrefix", discordTokenProblem("Bot MTA.GaB.xyz"), ""},
		{"DiscordTokenOnlyPrefix", discordTokenProblem("Bot "), `is empty after removing the "Bot " prefix (want the bot token from the Discord developer portal)`},
		{"DiscordTokenSlack", discordTokenProblem("xoxb-1-2"), "is a Slack token; want the Discord bot token from the Discord developer portal"},
		{"OneLine", oneLineProblem("Alice Martin", 80), ""},
		{"OneLineNewline", oneLineProblem("Alice\nMartin", 80), "must be one line"},
		{"OneLineLong", oneLineProblem(strings.Repeat("é", 81), 80), "is 81 characters long (at most 80)"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, tc.got, tc.want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{"4h", 4 * time.Hour, true},
		{"1h30m", 90 * time.Minute, true},
		{"90d", 90 * 24 * time.Hour, true},
		{"0d", 0, true},
		{" 2d ", 48 * time.Hour, true},
		{"90", 0, false},
		{"d", 0, false},
		{"1.5d", 0, false},
		{"-1d", 0, false},
		{"1d12h", 0, false},
		{"forever", 0, false},
	} {
		got, err := parseDuration(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestExpand(t *testing.T) {
	getenv := env(map[string]string{"A": "alpha", "B": "", "TOKEN": "xoxb-1"})
	for _, tc := range []struct {
		in      string
		want    string
		missing []string
		err     bool
	}{
		{in: "plain", want: "plain"},
		{in: "${A}", want: "alpha"},
		{in: "x-${A}-y", want: "x-alpha-y"},
		{in: "${A}${TOKEN}", want: "alphaxoxb-1"},
		{in: "${B:-fallback}", want: "fallback"},
		{in: "${NOPE:-}", want: ""},
		{in: "${NOPE:-a b:c}", want: "a b:c"},
		{in: "${A:-unused}", want: "alpha"},
		{in: "${NOPE}", missing: []string{"NOPE"}},
		{in: "${B}", missing: []string{"B"}},
		{in: "${X}/${Y}", missing: []string{"X", "Y"}},
		{in: "$${A}", want: "${A}"},
		{in: "$A and $", want: "$A and $"},
		{in: "pa$$word", want: "pa$$word"},
		{in: "${A", err: true},
		{in: "${}", err: true},
		{in: "${1A}", err: true},
		{in: "${A-B}", err: true},
	} {
		got, missing, err := expand(tc.in, getenv)
		if (err != nil) != tc.err {
			t.Errorf("expand(%q): err = %v, want error %v", tc.in, err, tc.err)
			continue
		}
		if err == nil && (got != tc.want && tc.missing == nil || !reflect.DeepEqual(missing, tc.missing)) {
			t.Errorf("expand(%q) = %q, missing %q; want %q, missing %q", tc.in, got, missing, tc.want, tc.missing)
		}
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"name", "approval", "approvers", "allow_self_approval", "sla", "bot_token"}
	for in, want := range map[string]string{
		"aproval":           " (did you mean approval?)",
		"approver":          " (did you mean approvers?)",
		"botToken":          " (did you mean bot_token?)",
		"allowSelfApproval": " (did you mean allow_self_approval?)",
		"zzzzzz":            " (known keys: allow_self_approval, approval, approvers, bot_token, name, sla)",
	} {
		if got := suggest(in, known); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

// base returns a valid Config built in code, as a test in another package
// might, with two connections: a public Discord and an internal Slack.
func base() *Config {
	c := &Config{
		Company: "Acme",
		Connections: []Connection{
			{Name: "discord", Platform: Discord, Role: RolePublic, Token: "MTA.GaB.xyz", GuildID: "123456789012345678"},
			{Name: "slack", Platform: Slack, Role: RoleInternal, BotToken: "xoxb-1", AppToken: "xapp-1"},
		},
		Sources: []Source{{Name: "help", Connection: "discord", Channels: []string{"1100000000000000001"}}},
		Routes: []Route{
			{Name: "billing", Keywords: []string{"invoice"}, Destination: Destination{"slack", "C0BILLING"}, Approvers: []string{"S0LEADS"}},
			{Name: "rest", Default: true, Destination: Destination{"slack", "C0REST"}, Approvers: []string{"U0BOSS"}},
		},
		Profiles: []Profile{{Name: "Alice Martin", Identities: []Identity{{"slack", "U0ALICE"}}}},
	}
	c.ApplyDefaults()
	return c
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(c *Config)
		keys   []string
		msg    string
	}{
		{"OK", func(c *Config) {}, nil, ""},
		{"NoConnections", func(c *Config) { c.Connections = nil },
			[]string{"connections", "sources[0].connection", "routes[0].destination.connection", "routes[1].destination.connection", "profiles[0].identities[0].connection"},
			`sources[0].connection: no connection named "discord" (no connection is defined)`},

		// Routes.
		{"SecondDefault", func(c *Config) { c.Routes[0].Default, c.Routes[0].Keywords = true, nil },
			[]string{"routes[1].default"}, `routes[1].default: only one route may be the default; routes[0] ("billing") already is`},
		{"DefaultWithKeywords", func(c *Config) { c.Routes[1].Keywords = []string{"x"} },
			[]string{"routes[1].keywords"}, "routes[1].keywords: a default route catches what no other route matches, so it must not have keywords"},
		{"DefaultWithRegexes", func(c *Config) { c.Routes[1].Regexes = []string{"x"} }, []string{"routes[1].regexes"}, ""},
		{"DefaultWithSources", func(c *Config) { c.Routes[1].Sources = []string{"help"} }, nil, ""},
		{"NoDefault", func(c *Config) { c.Routes[1].Default = false }, nil, ""},
		{"CatchAllFirst", func(c *Config) { c.Routes[0].Keywords = nil }, []string{"routes[0]"},
			"routes[0]: matches every message (no sources, keywords or regexes), so the routes after it and the default route never get one; make it the default route (default: true) or narrow it"},
		{"CatchAllLastWithoutDefault", func(c *Config) { c.Routes[1].Default = false; c.Routes[0].Keywords = []string{"x"} }, nil, ""},
		{"SourcesOnlyIsNotCatchAll", func(c *Config) { c.Routes[0].Keywords, c.Routes[0].Sources = nil, []string{"help"} }, nil, ""},
		{"UnknownSource", func(c *Config) { c.Routes[0].Sources = []string{"help", "forum"} }, []string{"routes[0].sources[1]"},
			`routes[0].sources[1]: no source named "forum" (known: help)`},
		{"BadRegexp", func(c *Config) { c.Routes[0].Regexes = []string{`\bok\b`, `a(?<x>b`} }, []string{"routes[0].regexes[1]"}, ""},
		{"PerlRegexp", func(c *Config) { c.Routes[0].Regexes = []string{`(?=lookahead)`} }, []string{"routes[0].regexes[0]"}, ""},
		{"EmptyKeyword", func(c *Config) { c.Routes[0].Keywords = []string{" "} }, []string{"routes[0].keywords[0]"}, ""},
		{"NoApprovers", func(c *Config) { c.Routes[0].Approvers = nil }, []string{"routes[0].approvers"}, ""},
		{"NoApproversTrustedAuto", func(c *Config) { c.Routes[0].Approvers, c.Routes[0].Approval = nil, ApprovalTrustedAuto }, []string{"routes[0].approvers"},
			"routes[0].approvers: at least one approver is required when approval is trusted-auto (user or group ids on the destination's platform)"},
		{"NoApproversNone", func(c *Config) { c.Routes[0].Approvers, c.Routes[0].Approval = nil, ApprovalNone }, nil, ""},
		{"Responders", func(c *Config) { c.Routes[0].Responders = []string{"U0ALICE", "S0TEAM"} }, nil, ""},
		{"ResponderByName", func(c *Config) { c.Routes[0].Responders = []string{"U0ALICE", "@team"} }, []string{"routes[0].responders[1]"},
			`routes[0].responders[1]: "@team" is not a Slack user or user-group id (want U…, W… or S…); use the member or group id, not the name`},
		{"EmptyResponder", func(c *Config) { c.Routes[0].Responders = []string{""} }, []string{"routes[0].responders[0]"}, ""},
		{"ApproverOfOtherPlatform", func(c *Config) { c.Routes[0].Approvers = []string{"1100000000000000010"} }, []string{"routes[0].approvers[0]"}, ""},
		{"DiscordApprover", func(c *Config) {
			c.Connections[0].Role = RoleBoth
			c.Routes[0].Destination = Destination{"discord", "1100000000000000002"}
			c.Routes[0].Approvers = []string{"1100000000000000010"}
		}, nil, ""},
		{"DestinationOnPublicConnection", func(c *Config) { c.Routes[0].Destination.Connection = "discord" }, []string{"routes[0].destination.connection"},
			`routes[0].destination.connection: connection "discord" has role public; a destination needs a connection with role internal or both`},
		{"NoDestination", func(c *Config) { c.Routes[0].Destination = Destination{} }, []string{"routes[0].destination"}, ""},
		{"DestinationDM", func(c *Config) { c.Routes[0].Destination.Channel = "D0DM" }, []string{"routes[0].destination.channel"}, ""},
		{"ZeroSLA", func(c *Config) { c.Routes[0].SLA = 0 }, []string{"routes[0].sla"}, ""},
		{"DuplicateRoute", func(c *Config) { c.Routes[1].Name = "billing" }, []string{"routes[1].name"}, ""},
		{"NoRoutes", func(c *Config) { c.Routes = nil }, []string{"routes"}, ""},

		// Connections and sources.
		{"SlackInHTTPMode", func(c *Config) {
			c.Connections[1].Mode, c.Connections[1].SigningSecret, c.Connections[1].AppToken = ModeHTTP, "s", ""
		}, nil, ""},
		{"SlackHTTPNoSecret", func(c *Config) { c.Connections[1].Mode = ModeHTTP }, []string{"connections[1].signing_secret"}, ""},
		{"SlackBadMode", func(c *Config) { c.Connections[1].Mode = "rtm" }, []string{"connections[1].mode"},
			`connections[1].mode: "rtm" is not a mode (want socket or http)`},
		{"SlackWithGuild", func(c *Config) { c.Connections[1].GuildID = "123456789012345678" }, []string{"connections[1].guild_id"},
			"connections[1].guild_id: is a Discord setting, but this connection's platform is slack (remove it)"},
		{"DiscordWithMode", func(c *Config) { c.Connections[0].Mode = ModeSocket }, []string{"connections[0].mode"},
			"connections[0].mode: is a Slack setting, but this connection's platform is discord (remove it)"},
		{"DiscordNoGuild", func(c *Config) { c.Connections[0].GuildID = "" }, []string{"connections[0].guild_id"}, ""},
		{"DiscordBadApplication", func(c *Config) { c.Connections[0].ApplicationID = "app" }, []string{"connections[0].application_id"}, ""},
		{"DiscordAPIURL", func(c *Config) { c.Connections[0].APIURL = "http://127.0.0.1:9001" }, nil, ""},
		{"DiscordBackfill", func(c *Config) { c.Connections[0].Backfill = 72 * time.Hour }, nil, ""},
		{"DiscordNegativeBackfill", func(c *Config) { c.Connections[0].Backfill = -time.Hour }, []string{"connections[0].backfill"},
			"connections[0].backfill: must not be negative (want how far back to look for messages missed while Liaison was away, e.g. 24h)"},
		{"DiscordShortBackfill", func(c *Config) { c.Connections[0].Backfill = 30 * time.Second }, []string{"connections[0].backfill"},
			"connections[0].backfill: 30s is less than a minute (want e.g. 24h; leave it out for 1d)"},
		{"DiscordLongBackfill", func(c *Config) { c.Connections[0].Backfill = 31 * 24 * time.Hour }, []string{"connections[0].backfill"},
			"connections[0].backfill: 31d is more than 30d (a first start takes in everything said that far back; want e.g. 24h)"},
		{"DiscordBotTwice", func(c *Config) {
			c.Connections = append(c.Connections, Connection{Name: "discord2", Platform: Discord, Role: RoleInternal, Token: "Bot MTA.GaB.xyz", GuildID: "223456789012345678"})
		}, []string{"connections[2].token"},
			"connections[2].token: is the token of connections[0]: a Discord bot has one gateway session, so one connection (give each guild its own bot)"},
		{"SlackWithBackfill", func(c *Config) { c.Connections[1].Backfill = time.Hour }, []string{"connections[1].backfill"},
			"connections[1].backfill: is a Discord setting, but this connection's platform is slack (remove it)"},
		{"SlackAPIURLWithPath", func(c *Config) { c.Connections[1].APIURL = "http://127.0.0.1:9001/api/" }, []string{"connections[1].api_url"}, ""},
		{"BadName", func(c *Config) { c.Connections[1].Name = "Slack" }, []string{"connections[1].name", "routes[0].destination.connection", "routes[1].destination.connection", "profiles[0].identities[0].connection"}, ""},
		{"DuplicateConnection", func(c *Config) { c.Connections[1].Name = "discord" }, []string{"connections[1].name",
			"routes[0].destination.connection", "routes[1].destination.connection", "profiles[0].identities[0].connection"}, ""},
		{"BadRole", func(c *Config) { c.Connections[0].Role = "external" }, []string{"connections[0].role"}, ""},
		{"SourceOnInternalConnection", func(c *Config) { c.Sources[0].Connection = "slack" }, []string{"sources[0].connection"},
			`sources[0].connection: connection "slack" has role internal; a source needs a connection with role public or both`},
		{"SourceWatchedTwice", func(c *Config) {
			c.Sources = append(c.Sources, Source{Name: "again", Connection: "discord", Channels: []string{"1100000000000000001"}})
		}, []string{"sources[1].channels[0]"}, `sources[1].channels[0]: channel "1100000000000000001" on discord is already watched by sources[0] ("help")`},
		{"NoSources", func(c *Config) { c.Sources = nil }, []string{"sources"}, ""},
		{"AdminOK", func(c *Config) { c.Admin = &Destination{"slack", "D0ADMIN"} }, nil, ""},
		{"AdminBad", func(c *Config) { c.Admin = &Destination{"discord", "C0ADMIN"} }, []string{"admin.connection"}, ""},
		{"AdminNoChannel", func(c *Config) { c.Admin = &Destination{Connection: "slack"} }, []string{"admin.channel"}, ""},
		{"Postgres", func(c *Config) { c.Database.URL = "postgres://u:p@db/liaison" }, nil, ""},
		{"NoSQLitePath", func(c *Config) { c.Database.SQLitePath = "" }, []string{"database.sqlite_path"}, ""},
		{"ShortRetention", func(c *Config) { c.Retention = 90 * time.Minute }, []string{"retention"}, ""},
		{"NegativeRetention", func(c *Config) { c.Retention = -time.Hour }, []string{"retention"}, ""},

		// Profiles.
		{"DuplicateIdentity", func(c *Config) {
			c.Profiles = append(c.Profiles, Profile{Name: "Alice M.", Identities: []Identity{{"slack", "U0ALICE"}}})
		}, []string{"profiles[1].identities[0]"}, ""},
		{"SameUserOnTwoConnections", func(c *Config) {
			c.Connections[0].Role = RoleBoth
			c.Profiles[0].Identities = append(c.Profiles[0].Identities, Identity{"discord", "80351110224678912"})
			c.Profiles = append(c.Profiles, Profile{Name: "Bruno", Identities: []Identity{{"slack", "U0BRUNO"}}})
		}, nil, ""},
		{"DuplicateProfileName", func(c *Config) {
			c.Profiles = append(c.Profiles, Profile{Name: "Alice Martin", Identities: []Identity{{"slack", "U0OTHER"}}})
		}, []string{"profiles[1].name"}, ""},
		{"ProfileDiscordIDOnSlack", func(c *Config) { c.Profiles[0].Identities[0].UserID = "80351110224678912" }, []string{"profiles[0].identities[0].user_id"}, ""},
		{"ProfileNoIdentity", func(c *Config) { c.Profiles[0].Identities = nil }, []string{"profiles[0].identities"}, ""},
		{"ProfileLongName", func(c *Config) { c.Profiles[0].Name = strings.Repeat("A", 81) }, []string{"profiles[0].name"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.change(c)
			err := c.Validate()
			if tc.keys == nil {
				if err != nil {
					t.Fatalf("unexpected error:\n%v", err)
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
