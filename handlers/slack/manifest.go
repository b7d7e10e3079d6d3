package slack

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/config"
)

// Scope is a bot token scope Liaison's Slack app asks for.
type Scope struct {
	Name    string // "chat:write"
	For     string // what the adapter uses it for
	Without string // what stops working when the token lacks it
}

// Scopes lists every bot scope Liaison needs, and no other: the manifest
// asks for them and `liaison doctor` checks the token has them. They follow
// from the Web API methods the adapter calls and the events it subscribes
// to; auth.test, chat.getPermalink, views.open and views.publish, and the
// app_home_opened event, need none.
//
// Liaison must be a member of every channel the config names, to receive
// its messages and threads and to read its history when it looks for a post
// whose outcome it does not know. chat:write.public is for the one place it
// is not: a message brought in with Send to team from a channel nobody
// watches, whose approved reply is posted there.
func Scopes() []Scope {
	return []Scope{
		{"channels:history", "messages and history of public channels: watched channels, card threads",
			"no message of a public channel reaches Liaison, and drafts typed in card threads are not seen"},
		{"groups:history", "the same in private channels",
			"no message of a private channel reaches Liaison, and drafts typed in card threads are not seen"},
		{"channels:read", "liaison doctor: is the bot in each public channel",
			"liaison doctor cannot check the bot's public channels"},
		{"groups:read", "the same for private channels",
			"liaison doctor cannot check the bot's private channels"},
		{"chat:write", "cards, notes, draft cards, public replies, private notices",
			"Liaison can post nothing"},
		{"chat:write.public", "the public reply to a message brought in with Send to team from a public channel the bot is not in",
			"replies to messages brought in from channels the bot is not in fail until it is invited there"},
		{"chat:write.customize", "replies under the person's name and avatar",
			"public replies carry a signature line instead of the person's name and avatar"},
		{"commands", "the /liaison command and the message shortcuts",
			"/liaison and the message shortcuts do not reach Liaison"},
		{"users:read", "names, titles and avatars of members and staff",
			"people show as user ids, and replies miss the person's Slack name and avatar"},
		{"usergroups:read", "user groups named as approvers or responders",
			"members of user groups named as approvers or responders are refused"},
		{"im:write", "private notices to someone not in the channel",
			"private notices to someone not in the channel are lost"},
		{"files:read", "names and links of files shared in watched channels",
			"shared files may be relayed without their names and links"},
		{"files:write", "the digest's chart",
			"digests cannot post their chart"},
	}
}

// event is a bot event the app subscribes to.
type event struct{ name, why string }

// botEvents are the events Liaison takes. Slack sends message events only
// from channels the bot is a member of.
var botEvents = []event{
	{"message.channels", "messages in public channels the bot is in"},
	{"message.groups", "messages in private channels the bot is in"},
	{"app_home_opened", "someone opens the Home tab"},
}

// Limits of the manifest's fields, from Slack's app manifest reference
// (https://docs.slack.dev/reference/app-manifest) as Slack's Node SDK
// records them (slackapi/node-slack-sdk,
// packages/web-api/src/types/request/manifest.ts): app name 35, its
// description 140, shortcut description 150, command description 2000,
// usage hint 1000. A shortcut's name is limited to 24 characters by Slack's
// app settings, which refuse a longer one. Liaison's own texts fit (the
// tests say so): clipping is only a guard.
const (
	maxAppName          = 35
	maxAppDescription   = 140
	maxShortcutName     = 24
	maxShortcutDesc     = 150
	maxCommandDesc      = 2000
	maxCommandUsageHint = 1000
)

// The app as Slack lists it: its name and description are what people see
// of it, the domain's.
const (
	appName        = bot.AppName
	appDescription = bot.AppDescription
	appColor       = "#2c2d30"
)

// The manifest's structure: field names as in Slack's app manifest
// reference (and slack-go's slack.Manifest, which the tests decode it
// with). Booleans are written even when false, so the reader sees them.
type (
	manifest struct {
		Display  manifestDisplay  `yaml:"display_information"`
		Features manifestFeatures `yaml:"features"`
		OAuth    manifestOAuth    `yaml:"oauth_config"`
		Settings manifestSettings `yaml:"settings"`
	}
	manifestDisplay struct {
		Name            string `yaml:"name"`
		Description     string `yaml:"description"`
		BackgroundColor string `yaml:"background_color"`
	}
	manifestFeatures struct {
		BotUser       manifestBotUser    `yaml:"bot_user"`
		AppHome       manifestAppHome    `yaml:"app_home"`
		SlashCommands []manifestCommand  `yaml:"slash_commands"`
		Shortcuts     []manifestShortcut `yaml:"shortcuts"`
	}
	manifestBotUser struct {
		DisplayName  string `yaml:"display_name"`
		AlwaysOnline bool   `yaml:"always_online"`
	}
	manifestAppHome struct {
		HomeTabEnabled             bool `yaml:"home_tab_enabled"`
		MessagesTabEnabled         bool `yaml:"messages_tab_enabled"`
		MessagesTabReadOnlyEnabled bool `yaml:"messages_tab_read_only_enabled"`
	}
	manifestCommand struct {
		Command      string `yaml:"command"`
		Description  string `yaml:"description"`
		UsageHint    string `yaml:"usage_hint"`
		ShouldEscape bool   `yaml:"should_escape"`
		URL          string `yaml:"url,omitempty"`
	}
	manifestShortcut struct {
		Name        string `yaml:"name"`
		Type        string `yaml:"type"`
		CallbackID  string `yaml:"callback_id"`
		Description string `yaml:"description"`
	}
	manifestOAuth struct {
		Scopes struct {
			Bot []string `yaml:"bot"`
		} `yaml:"scopes"`
	}
	manifestSettings struct {
		EventSubscriptions struct {
			RequestURL string   `yaml:"request_url,omitempty"`
			BotEvents  []string `yaml:"bot_events"`
		} `yaml:"event_subscriptions"`
		Interactivity struct {
			IsEnabled  bool   `yaml:"is_enabled"`
			RequestURL string `yaml:"request_url,omitempty"`
		} `yaml:"interactivity"`
		OrgDeployEnabled     bool `yaml:"org_deploy_enabled"`
		SocketModeEnabled    bool `yaml:"socket_mode_enabled"`
		TokenRotationEnabled bool `yaml:"token_rotation_enabled"`
	}
)

// Manifest returns the Slack app manifest, in YAML, for one Slack
// connection of the config: a Socket Mode app, or in HTTP mode an app whose
// request URLs are under baseURL ("https://liaison.example.com"), where
// `liaison run` serves /slack/<connection>/events, /interactivity and
// /commands. baseURL is required in HTTP mode and refused in Socket Mode.
//
// It is built as data and written by a YAML encoder, which quotes what
// must be quoted, and the tests parse it back; only the how-to header is
// text.
func Manifest(conn config.Connection, baseURL string) ([]byte, error) {
	if conn.Platform != config.Slack {
		return nil, fmt.Errorf("connection %q is a %s connection, not a Slack one", conn.Name, conn.Platform)
	}
	httpMode := conn.Mode == config.ModeHTTP
	var urls requestURLs
	switch {
	case httpMode && baseURL == "":
		return nil, fmt.Errorf("connection %q uses HTTP mode: give the public https:// address Slack sends requests to (--base-url https://liaison.example.com)", conn.Name)
	case httpMode:
		var err error
		if urls, err = requestURLsOf(baseURL, conn.Name); err != nil {
			return nil, err
		}
	case baseURL != "":
		return nil, fmt.Errorf("connection %q uses Socket Mode, which needs no request URLs: leave out the base URL (or set mode: http)", conn.Name)
	}

	var m manifest
	m.Display = manifestDisplay{Name: clipPlain(appName, maxAppName), Description: clipPlain(appDescription, maxAppDescription), BackgroundColor: appColor}
	m.Features.BotUser = manifestBotUser{DisplayName: appName, AlwaysOnline: true}
	m.Features.AppHome = manifestAppHome{HomeTabEnabled: true, MessagesTabEnabled: true, MessagesTabReadOnlyEnabled: true}
	m.Features.SlashCommands = []manifestCommand{{
		Command:      "/" + bot.CommandName,
		Description:  clipPlain(bot.CommandDescription, maxCommandDesc),
		UsageHint:    clipPlain(usageHint(), maxCommandUsageHint),
		ShouldEscape: true,
		URL:          urls.commands,
	}}
	for _, menu := range bot.Menus() {
		// Slack has message shortcuts only: a command on a person runs on
		// a message's author.
		m.Features.Shortcuts = append(m.Features.Shortcuts, manifestShortcut{
			Name: clipPlain(menu.Name, maxShortcutName), Type: "message",
			CallbackID: actionPrefix + string(menu.Action), Description: clipPlain(menu.Description, maxShortcutDesc),
		})
	}
	for _, s := range Scopes() {
		m.OAuth.Scopes.Bot = append(m.OAuth.Scopes.Bot, s.Name)
	}
	for _, e := range botEvents {
		m.Settings.EventSubscriptions.BotEvents = append(m.Settings.EventSubscriptions.BotEvents, e.name)
	}
	m.Settings.EventSubscriptions.RequestURL = urls.events
	m.Settings.Interactivity.IsEnabled = true
	m.Settings.Interactivity.RequestURL = urls.interactivity
	m.Settings.SocketModeEnabled = !httpMode

	var doc yaml.Node
	if err := doc.Encode(&m); err != nil {
		return nil, fmt.Errorf("slack manifest: %w", err)
	}
	annotate(&doc)
	var out bytes.Buffer
	out.WriteString(manifestHeader(conn.Name, baseURL, httpMode))
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("slack manifest: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("slack manifest: %w", err)
	}
	return out.Bytes(), nil
}

// requestURLs are an HTTP-mode app's request URLs; empty in Socket Mode.
type requestURLs struct{ events, interactivity, commands string }

// requestURLsOf builds the request URLs of connection name under base, as
// `liaison run` mounts them: /slack/<name>/events, …/interactivity and
// …/commands. Slack sends requests only to https URLs.
func requestURLsOf(base, name string) (requestURLs, error) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return requestURLs{}, fmt.Errorf("base URL %q is not a URL (want the public https:// address Slack sends requests to, e.g. https://liaison.example.com)", base)
	}
	shown := u.Redacted() // no password in an error
	switch {
	case u.Scheme != "https":
		return requestURLs{}, fmt.Errorf("base URL %q is not https: Slack sends requests only to https:// URLs", shown)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return requestURLs{}, fmt.Errorf("base URL %q has credentials, a query or a fragment (want only https://host, and a path if a proxy adds one)", shown)
	}
	prefix := strings.TrimRight(u.String(), "/") + "/slack/" + url.PathEscape(name)
	return requestURLs{events: prefix + "/events", interactivity: prefix + "/interactivity", commands: prefix + "/commands"}, nil
}

// usageHint lists /liaison's subcommands as they are typed:
// "profile | promote @person | …".
func usageHint() string {
	var parts []string
	for _, sc := range bot.SubCommands() {
		parts = append(parts, strings.TrimPrefix(sc.Usage, "/"+bot.CommandName+" "))
	}
	return strings.Join(parts, " | ")
}

// annotate adds the comments that say why the manifest asks for what it
// asks: each scope's use, each event's, and notes on a few settings.
func annotate(doc *yaml.Node) {
	root := doc
	if root.Kind == yaml.DocumentNode {
		root = root.Content[0]
	}
	if n := yamlPath(root, "features", "slash_commands"); n != nil && len(n.Content) > 0 {
		if esc := yamlKey(n.Content[0], "should_escape"); esc != nil {
			esc.HeadComment = "Escaped mentions arrive as <@U123|name>: the user id Liaison needs."
		}
	}
	if n := yamlKey(yamlPath(root, "features"), "shortcuts"); n != nil {
		n.HeadComment = "Message shortcuts: callback_id is how Liaison knows them."
	}
	if n := yamlKey(yamlPath(root, "features"), "app_home"); n != nil {
		n.HeadComment = "The Home tab shows each person what waits for them; Liaison reads no direct message."
	}
	if n := yamlPath(root, "oauth_config", "scopes", "bot"); n != nil {
		for i, s := range Scopes() {
			if i < len(n.Content) {
				n.Content[i].LineComment = s.For
			}
		}
	}
	if n := yamlPath(root, "settings", "event_subscriptions", "bot_events"); n != nil {
		for i, e := range botEvents {
			if i < len(n.Content) {
				n.Content[i].LineComment = e.why
			}
		}
	}
	if n := yamlKey(yamlPath(root, "settings"), "token_rotation_enabled"); n != nil {
		n.HeadComment = "Liaison's tokens do not expire: rotation would need a refresh it does not do."
	}
}

// yamlPath follows mapping keys from n; nil when one is missing.
func yamlPath(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
				break
			}
		}
		n = next
	}
	return n
}

// yamlKey returns the key node of k in mapping n, where comments about the
// entry go; nil when missing.
func yamlKey(n *yaml.Node, k string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == k {
			return n.Content[i]
		}
	}
	return nil
}

// manifestHeader says how to create the app from the manifest and what to
// do next, in the connection's mode.
func manifestHeader(conn, base string, httpMode bool) string {
	mode := "Socket Mode"
	if httpMode {
		mode = "HTTP mode"
	}
	var b strings.Builder
	line := func(s string) {
		if s == "" {
			b.WriteString("#\n")
			return
		}
		b.WriteString("# " + s + "\n")
	}
	line(fmt.Sprintf("Liaison — Slack app manifest for the connection %s (%s).", conn, mode))
	printed := "liaison slack-manifest --connection " + conn
	if base != "" {
		printed += " --base-url " + base
	}
	line(fmt.Sprintf("Printed by `%s`:", printed))
	line("print it again after changing the config or upgrading Liaison, rather")
	line("than editing it.")
	line("")
	line(`How to use it: at https://api.slack.com/apps choose "Create New App" →`)
	line(`"From an app manifest", pick the workspace, paste this file (YAML tab), then`)
	line(`"Create". For an app created earlier: its App Manifest page, paste, "Save",`)
	line("and reinstall it when Slack asks (new scopes). Afterwards:")
	line(`  1. "Install to Workspace", and copy the Bot User OAuth Token (xoxb-…): the`)
	line("     connection's bot_token.")
	if httpMode {
		line("  2. Basic Information → App Credentials → Signing Secret: the connection's")
		line("     signing_secret. Start Liaison where the URLs below reach it, then verify")
		line("     the Event Subscriptions Request URL in the app's settings (Liaison")
		line("     answers Slack's check itself).")
	} else {
		line(`  2. Basic Information → App-Level Tokens → "Generate Token and Scopes" with`)
		line("     the scope connections:write, and copy it (xapp-…): the connection's")
		line("     app_token (Socket Mode: no public URL needed).")
	}
	line("  3. Invite the bot to every channel it watches or posts cards in")
	line("     (/invite @Liaison): it reads only channels it is a member of.")
	line("  4. Run `liaison doctor`: it checks the tokens, the scopes and the channels.")
	line("Create one app per connection: for a community workspace (public role) and")
	line("an internal one (internal role), create two apps, one in each workspace, each")
	line("from its connection's manifest. An app installed in two workspaces would send")
	line("both workspaces' events over the same socket and URL, and Liaison drops what")
	line("comes from a workspace other than its connection's.")
	if !httpMode {
		line("")
		line("HTTP mode instead of Socket Mode: set mode: http and signing_secret in the")
		line("connection, and print the manifest again with --base-url https://<your host>:")
		line("it then names the URLs Slack sends events, clicks and commands to.")
	}
	return b.String()
}
