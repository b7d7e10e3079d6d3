package slack_test

import (
	"context"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/config"
	"github.com/liaison-bot/liaison/handlers/slack"
	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
	"github.com/liaison-bot/liaison/internal/doctor"
)

// neededScopes are the scopes of slack.Scopes, as an app created from the
// manifest has them.
func neededScopes() []string {
	var out []string
	for _, s := range slack.Scopes() {
		out = append(out, s.Name)
	}
	return out
}

// doctorFake is a workspace where the bot is in #help (public) and
// #staff (private); #product is public without the bot, #secret private
// without it.
func doctorFake(t *testing.T, edit func(*slackfake.Options)) *slackfake.Fake {
	t.Helper()
	o := slackfake.Options{
		Scopes: neededScopes(),
		Users:  []slackfake.User{{ID: "U0ALICE", Name: "alice"}},
		Channels: []slackfake.Channel{
			{ID: "C0HELP", Name: "help", Members: []string{"U0BOT", "U0ALICE"}},
			{ID: "G0STAFF", Name: "staff", Private: true, Members: []string{"U0BOT", "U0ALICE"}},
			{ID: "C0PRODUCT", Name: "product", Members: []string{"U0ALICE"}},
			{ID: "G0SECRET", Name: "secret", Private: true, Members: []string{"U0ALICE"}},
		},
	}
	if edit != nil {
		edit(&o)
	}
	f, err := slackfake.New(o)
	check(t, err)
	t.Cleanup(f.Close)
	return f
}

func doctorConn(f *slackfake.Fake) config.Connection {
	return config.Connection{
		Name: "internal", Platform: config.Slack, Role: config.RoleBoth, Mode: config.ModeSocket,
		BotToken: config.Secret(f.BotToken()), AppToken: config.Secret(f.AppToken()), APIURL: f.URL(),
	}
}

func runDoctor(t *testing.T, conn config.Connection, need doctor.Channels) []doctor.Check {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	checks := slack.Doctor(ctx, conn, need)
	for _, c := range checks {
		for _, secret := range []config.Secret{conn.BotToken, conn.AppToken, conn.SigningSecret} {
			if secret.IsSet() && strings.Contains(c.Detail+c.Remedy, secret.Reveal()) {
				t.Fatalf("check %q prints a secret: %+v", c.Name, c)
			}
		}
		if c.Conn != conn.Name || (c.OK && c.Remedy != "") || (!c.OK && c.Remedy == "") {
			t.Errorf("check %+v: want the connection's name, and a remedy exactly when it failed", c)
		}
	}
	return checks
}

func checkNames(checks []doctor.Check) []string {
	var out []string
	for _, c := range checks {
		out = append(out, c.Name)
	}
	return out
}

func checkNamed(t *testing.T, checks []doctor.Check, name string) doctor.Check {
	t.Helper()
	i := slices.IndexFunc(checks, func(c doctor.Check) bool { return c.Name == name })
	if i < 0 {
		t.Fatalf("no check %q in %v", name, checkNames(checks))
	}
	return checks[i]
}

// expectOnlyFailures fails the test unless exactly the named checks failed.
func expectOnlyFailures(t *testing.T, checks []doctor.Check, names ...string) {
	t.Helper()
	for _, c := range checks {
		if c.OK == slices.Contains(names, c.Name) {
			t.Errorf("check %q: ok=%v, want ok=%v (%s)", c.Name, c.OK, !c.OK, c.Detail)
		}
	}
}

func expectIn(t *testing.T, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s %q lacks %q", what, s, w)
		}
	}
}

func TestDoctor(t *testing.T) {
	need := doctor.Channels{Watched: []string{"C0HELP"}, Cards: []string{"G0STAFF", "C0HELP"}}

	t.Run("OK", func(t *testing.T) {
		f := doctorFake(t, nil)
		checks := runDoctor(t, doctorConn(f), need)
		if got, want := checkNames(checks), []string{"bot token", "scopes", "app token", "channel C0HELP", "channel G0STAFF"}; !slices.Equal(got, want) {
			t.Fatalf("checks %v, want %v", got, want)
		}
		expectOnlyFailures(t, checks)
		expectIn(t, "token detail", checkNamed(t, checks, "bot token").Detail, "@liaison", "U0BOT", "T0FAKE")
		expectIn(t, "channel detail", checkNamed(t, checks, "channel C0HELP").Detail, "#help (watched, cards): the bot is a member")
		expectIn(t, "channel detail", checkNamed(t, checks, "channel G0STAFF").Detail, "#staff (cards)")
		// The app token was tried, and no socket was opened.
		if f.Connects() != 0 || !slices.ContainsFunc(f.Calls(), func(c slackfake.Call) bool {
			return c.Method == "apps.connections.open" && c.TokenType == "app" && c.Error == ""
		}) {
			t.Errorf("apps.connections.open not called with the app token, or a socket was dialled (%d)", f.Connects())
		}
	})

	t.Run("ErrMissingScopes", func(t *testing.T) {
		f := doctorFake(t, func(o *slackfake.Options) {
			o.Scopes = slices.DeleteFunc(neededScopes(), func(s string) bool { return s == "chat:write.customize" || s == "commands" })
		})
		checks := runDoctor(t, doctorConn(f), need)
		expectOnlyFailures(t, checks, "scopes")
		c := checkNamed(t, checks, "scopes")
		expectIn(t, "scopes detail", c.Detail,
			"chat:write.customize (public replies carry a signature line instead of the person's name and avatar)",
			"commands (/liaison and the message shortcuts do not reach Liaison)")
		if strings.Contains(c.Detail, "chat:write (") || strings.Contains(c.Detail, "users:read") {
			t.Errorf("scopes detail names a granted scope: %s", c.Detail)
		}
		expectIn(t, "scopes remedy", c.Remedy, "OAuth & Permissions", "liaison slack-manifest --connection internal", "reinstall")
	})

	t.Run("ErrInvalidBotToken", func(t *testing.T) {
		f := doctorFake(t, nil)
		conn := doctorConn(f)
		conn.BotToken = "xoxb-not-the-right-one"
		checks := runDoctor(t, conn, need)
		// Without a working bot token, scopes and channels cannot be checked.
		if got, want := checkNames(checks), []string{"bot token", "app token"}; !slices.Equal(got, want) {
			t.Fatalf("checks %v, want %v", got, want)
		}
		expectOnlyFailures(t, checks, "bot token")
		c := checks[0]
		expectIn(t, "token detail", c.Detail, "invalid_auth", "not checked")
		expectIn(t, "token remedy", c.Remedy, "reinstall", "Bot User OAuth Token")
	})

	t.Run("ErrRevokedBotToken", func(t *testing.T) {
		f := doctorFake(t, nil)
		f.FailNext("auth.test", "token_revoked")
		checks := runDoctor(t, doctorConn(f), need)
		expectOnlyFailures(t, checks, "bot token")
		expectIn(t, "token detail", checks[0].Detail, "token_revoked")
		expectIn(t, "token remedy", checks[0].Remedy, "Bot User OAuth Token")
	})

	t.Run("ErrInvalidAppToken", func(t *testing.T) {
		f := doctorFake(t, nil)
		conn := doctorConn(f)
		conn.AppToken = "xapp-not-the-right-one"
		checks := runDoctor(t, conn, need)
		expectOnlyFailures(t, checks, "app token")
		c := checkNamed(t, checks, "app token")
		expectIn(t, "app token detail", c.Detail, "invalid_auth")
		expectIn(t, "app token remedy", c.Remedy, "App-Level Tokens", "connections:write", "app_token")
	})

	t.Run("ErrBotTokenAsAppToken", func(t *testing.T) {
		f := doctorFake(t, nil)
		conn := doctorConn(f)
		conn.AppToken = conn.BotToken
		checks := runDoctor(t, conn, need)
		expectOnlyFailures(t, checks, "app token")
		expectIn(t, "app token detail", checkNamed(t, checks, "app token").Detail, "not an app-level token")
	})

	t.Run("ErrNotMember", func(t *testing.T) {
		f := doctorFake(t, nil)
		checks := runDoctor(t, doctorConn(f), doctor.Channels{Watched: []string{"C0PRODUCT"}, Cards: []string{"C0HELP", "C0PRODUCT"}})
		expectOnlyFailures(t, checks, "channel C0PRODUCT")
		c := checkNamed(t, checks, "channel C0PRODUCT")
		expectIn(t, "channel detail", c.Detail, "#product (watched, cards): the bot is not a member", "thread")
		expectIn(t, "channel remedy", c.Remedy, "/invite @liaison")

		checks = runDoctor(t, doctorConn(f), doctor.Channels{Watched: []string{"C0PRODUCT"}})
		expectIn(t, "watched channel detail", checkNamed(t, checks, "channel C0PRODUCT").Detail, "#product (watched)", "no message")
	})

	t.Run("ErrChannelMissing", func(t *testing.T) {
		f := doctorFake(t, nil)
		checks := runDoctor(t, doctorConn(f), doctor.Channels{Watched: []string{"C0NOPE"}, Cards: []string{"G0SECRET"}})
		expectOnlyFailures(t, checks, "channel C0NOPE", "channel G0SECRET")
		for _, name := range []string{"channel C0NOPE", "channel G0SECRET"} {
			c := checkNamed(t, checks, name)
			expectIn(t, name+" detail", c.Detail, "): the channel does not exist or the bot cannot see it")
			expectIn(t, name+" remedy", c.Remedy, "channel id", "/invite @liaison")
		}
	})

	t.Run("ErrArchived", func(t *testing.T) {
		f := doctorFake(t, nil)
		check(t, f.Archive("G0STAFF"))
		checks := runDoctor(t, doctorConn(f), need)
		expectOnlyFailures(t, checks, "channel G0STAFF")
		c := checkNamed(t, checks, "channel G0STAFF")
		expectIn(t, "channel detail", c.Detail, "#staff", "archived")
		expectIn(t, "channel remedy", c.Remedy, "unarchive")
	})

	t.Run("ErrChannelsUnreadable", func(t *testing.T) {
		f := doctorFake(t, func(o *slackfake.Options) {
			o.Scopes = slices.DeleteFunc(neededScopes(), func(s string) bool { return s == "groups:read" })
		})
		checks := runDoctor(t, doctorConn(f), need)
		expectOnlyFailures(t, checks, "scopes", "channel G0STAFF")
		expectIn(t, "channel detail", checkNamed(t, checks, "channel G0STAFF").Detail, "not checked", "groups:read")
	})

	t.Run("RateLimitWaitedOut", func(t *testing.T) {
		f := doctorFake(t, nil)
		f.FailNext("conversations.info", "ratelimited") // 429, Retry-After: 1
		checks := runDoctor(t, doctorConn(f), doctor.Channels{Watched: []string{"C0HELP"}})
		expectOnlyFailures(t, checks)
	})

	t.Run("HTTPMode", func(t *testing.T) {
		f := doctorFake(t, nil)
		conn := doctorConn(f)
		conn.Mode, conn.AppToken, conn.SigningSecret = config.ModeHTTP, "", "shh-its-a-secret"
		checks := runDoctor(t, conn, need)
		if got, want := checkNames(checks), []string{"bot token", "scopes", "signing secret", "channel C0HELP", "channel G0STAFF"}; !slices.Equal(got, want) {
			t.Fatalf("checks %v, want %v", got, want)
		}
		expectOnlyFailures(t, checks)
		if slices.ContainsFunc(f.Calls(), func(c slackfake.Call) bool { return c.Method == "apps.connections.open" }) {
			t.Error("HTTP mode called apps.connections.open")
		}

		conn.SigningSecret = ""
		checks = runDoctor(t, conn, need)
		expectOnlyFailures(t, checks, "signing secret")
		expectIn(t, "signing secret remedy", checkNamed(t, checks, "signing secret").Remedy, "Signing Secret", "signing_secret")
	})

	t.Run("ErrUnreachable", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		check(t, err)
		addr := ln.Addr().String()
		ln.Close() // nothing listens there now
		conn := config.Connection{
			Name: "internal", Platform: config.Slack, Mode: config.ModeSocket,
			BotToken: "xoxb-some-token", AppToken: "xapp-some-token", APIURL: "http://" + addr,
		}
		start := time.Now()
		checks := runDoctor(t, conn, need)
		if got, want := checkNames(checks), []string{"bot token", "app token"}; !slices.Equal(got, want) {
			t.Fatalf("checks %v, want %v", got, want)
		}
		expectOnlyFailures(t, checks, "bot token", "app token")
		expectIn(t, "token detail", checks[0].Detail, "did not answer")
		expectIn(t, "token remedy", checks[0].Remedy, "api_url http://"+addr)
		if time.Since(start) > 10*time.Second {
			t.Errorf("an unreachable API took %s", time.Since(start))
		}
	})

	t.Run("ErrTimeout", func(t *testing.T) {
		f := doctorFake(t, nil)
		f.DelayNext("auth.test", time.Minute)
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		checks := slack.Doctor(ctx, doctorConn(f), need)
		if time.Since(start) > 5*time.Second {
			t.Fatalf("the doctor outlived its context: %s", time.Since(start))
		}
		expectOnlyFailures(t, checks, "bot token", "app token")
	})
}
