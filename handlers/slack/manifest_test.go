package slack_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"
	"gopkg.in/yaml.v3"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/config"
	"github.com/liaison-bot/liaison/handlers/slack"
)

// parseManifest parses a manifest back into slack-go's slack.Manifest,
// refusing any field that type does not know: the field names are Slack's.
func parseManifest(t *testing.T, out []byte) slackapi.Manifest {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(out))
	dec.KnownFields(true)
	var m slackapi.Manifest
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("the manifest does not parse back: %v\n%s", err, out)
	}
	return m
}

func slackConn(name string, mode config.Mode) config.Connection {
	return config.Connection{Name: name, Platform: config.Slack, Role: config.RoleInternal, Mode: mode}
}

func TestManifestSocketMode(t *testing.T) {
	out, err := slack.Manifest(slackConn("internal-slack", config.ModeSocket), "")
	check(t, err)
	text := string(out)
	if !strings.HasPrefix(text, "# Liaison — Slack app manifest for the connection internal-slack (Socket Mode).\n") ||
		!strings.Contains(text, "`liaison slack-manifest --connection internal-slack`") || !strings.Contains(text, "connections:write") {
		t.Errorf("the header does not say what it is and how to use it:\n%s", text)
	}
	m := parseManifest(t, out)

	if m.Display.Name != "Liaison" || m.Display.Description == "" || utf8.RuneCountInString(m.Display.Name) > 35 || utf8.RuneCountInString(m.Display.Description) > 140 {
		t.Errorf("display_information = %+v (name ≤ 35, description ≤ 140 characters)", m.Display)
	}
	if m.Features.BotUser.DisplayName == "" || !m.Features.BotUser.AlwaysOnline {
		t.Errorf("bot_user = %+v", m.Features.BotUser)
	}
	if h := m.Features.AppHome; !h.HomeTabEnabled || !h.MessagesTabEnabled || !h.MessagesTabReadOnlyEnabled {
		t.Errorf("app_home = %+v, want the Home tab and a read-only Messages tab", h)
	}

	if len(m.Features.SlashCommands) != 1 {
		t.Fatalf("slash_commands = %+v", m.Features.SlashCommands)
	}
	cmd := m.Features.SlashCommands[0]
	if cmd.Command != "/"+bot.CommandName || cmd.Description != bot.CommandDescription || !cmd.ShouldEscape || cmd.Url != "" {
		t.Errorf("slash command = %+v", cmd)
	}
	for _, sc := range bot.SubCommands() {
		if typed := strings.TrimPrefix(sc.Usage, "/liaison "); !strings.Contains(cmd.UsageHint, typed) {
			t.Errorf("usage hint %q lacks %q", cmd.UsageHint, typed)
		}
	}

	menus := bot.Menus()
	if len(m.Features.Shortcuts) != len(menus) {
		t.Fatalf("shortcuts = %+v, want one per menu command %+v", m.Features.Shortcuts, menus)
	}
	for i, menu := range menus {
		s := m.Features.Shortcuts[i]
		if s.Type != slackapi.MessageShortcut || s.CallbackID != actionPrefix+string(menu.Action) {
			t.Errorf("shortcut %d = %+v, want a message shortcut with callback_id %q", i, s, actionPrefix+string(menu.Action))
		}
		// Slack's limits: a shortcut's name up to 24 characters, its
		// description up to 150. The domain's texts fit, uncut.
		if s.Name != menu.Name || utf8.RuneCountInString(s.Name) > 24 {
			t.Errorf("shortcut name %q, want %q within 24 characters", s.Name, menu.Name)
		}
		if s.Description != menu.Description || utf8.RuneCountInString(s.Description) > 150 {
			t.Errorf("shortcut description %q, want %q within 150 characters", s.Description, menu.Description)
		}
	}

	var want []string
	for _, s := range slack.Scopes() {
		want = append(want, s.Name)
		if !strings.Contains(text, "- "+s.Name+" # "+s.For+"\n") {
			t.Errorf("scope %s is not listed with why: %q", s.Name, s.For)
		}
	}
	if !slices.Equal(m.OAuthConfig.Scopes.Bot, want) {
		t.Errorf("bot scopes = %v, want %v", m.OAuthConfig.Scopes.Bot, want)
	}
	// chat:write.public: the reply to a message brought in with Send to
	// team goes to a channel the bot need not be in.
	for _, s := range []string{"chat:write", "chat:write.customize", "chat:write.public", "commands", "channels:history", "groups:history"} {
		if !slices.Contains(want, s) {
			t.Errorf("bot scopes lack %s", s)
		}
	}

	ev := m.Settings.EventSubscriptions
	if ev == nil || !slices.Equal(ev.BotEvents, []string{"message.channels", "message.groups", "app_home_opened"}) || ev.RequestUrl != "" {
		t.Errorf("event_subscriptions = %+v", ev)
	}
	if in := m.Settings.Interactivity; in == nil || !in.IsEnabled || in.RequestUrl != "" {
		t.Errorf("interactivity = %+v, want enabled without a URL", in)
	}
	if !m.Settings.SocketModeEnabled || m.Settings.TokenRotationEnabled || m.Settings.OrgDeployEnabled {
		t.Errorf("settings = %+v, want Socket Mode, no token rotation", m.Settings)
	}
	if strings.Contains(text, "https://") && strings.Contains(text, "request_url") {
		t.Error("a Socket Mode manifest names a request URL")
	}
}

func TestManifestHTTPMode(t *testing.T) {
	for _, tc := range []struct{ base, prefix string }{
		{"https://liaison.example.com", "https://liaison.example.com/slack/community/"},
		{"https://liaison.example.com/", "https://liaison.example.com/slack/community/"},
		{"https://example.com:8443/bots/", "https://example.com:8443/bots/slack/community/"},
	} {
		out, err := slack.Manifest(slackConn("community", config.ModeHTTP), tc.base)
		check(t, err)
		m := parseManifest(t, out)
		if m.Settings.SocketModeEnabled {
			t.Errorf("%s: socket_mode_enabled is true in HTTP mode", tc.base)
		}
		if got := m.Settings.EventSubscriptions.RequestUrl; got != tc.prefix+"events" {
			t.Errorf("%s: events URL %q", tc.base, got)
		}
		if got := m.Settings.Interactivity.RequestUrl; got != tc.prefix+"interactivity" {
			t.Errorf("%s: interactivity URL %q", tc.base, got)
		}
		if got := m.Features.SlashCommands[0].Url; got != tc.prefix+"commands" {
			t.Errorf("%s: command URL %q", tc.base, got)
		}
		if !strings.Contains(string(out), "Signing Secret") || strings.Contains(string(out), "connections:write") {
			t.Errorf("%s: the header does not explain HTTP mode:\n%s", tc.base, out)
		}
	}
}

func TestManifestErrors(t *testing.T) {
	discord := config.Connection{Name: "community-discord", Platform: config.Discord}
	for _, tc := range []struct {
		name string
		conn config.Connection
		base string
		want string
	}{
		{"ErrHTTPModeWithoutBase", slackConn("community", config.ModeHTTP), "", "--base-url https://"},
		{"ErrNotHTTPS", slackConn("community", config.ModeHTTP), "http://liaison.example.com", "not https"},
		{"ErrNotAURL", slackConn("community", config.ModeHTTP), "liaison.example.com", "not a URL"},
		{"ErrQuery", slackConn("community", config.ModeHTTP), "https://liaison.example.com/?x=1", "query"},
		{"ErrCredentials", slackConn("community", config.ModeHTTP), "https://me:pw@liaison.example.com", "credentials"},
		{"ErrBaseInSocketMode", slackConn("internal", config.ModeSocket), "https://liaison.example.com", "Socket Mode"},
		{"ErrNotSlack", discord, "", "not a Slack one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := slack.Manifest(tc.conn, tc.base)
			if err == nil || !strings.Contains(err.Error(), tc.want) || out != nil {
				t.Fatalf("Manifest = %q, %v; want an error saying %q", out, err, tc.want)
			}
			if strings.Contains(err.Error(), "pw@") {
				t.Errorf("the error repeats the credentials: %v", err)
			}
		})
	}
}

func TestScopesTable(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range slack.Scopes() {
		if seen[s.Name] || s.Name == "" || s.For == "" || s.Without == "" {
			t.Errorf("scope %+v: each scope once, with what it is for and what breaks without it", s)
		}
		seen[s.Name] = true
	}
}
