package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
	"github.com/liaison-bot/liaison/handlers/slack"
	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
)

// doctorWorld is a Discord guild (public) and an internal Slack workspace
// where the bot is in #product but not in #other, as fakes, and a config
// for them.
type doctorWorld struct {
	dc  *discordfake.Fake
	sl  *slackfake.Fake
	env map[string]string
	db  string
}

func newDoctorWorld(t *testing.T) *doctorWorld {
	t.Helper()
	dc, err := discordfake.New(discordfake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dc.Close)
	var scopes []string
	for _, s := range slack.Scopes() {
		scopes = append(scopes, s.Name)
	}
	sl, err := slackfake.New(slackfake.Options{
		Scopes: scopes,
		Users:  []slackfake.User{{ID: "U0BOB", Name: "bob"}},
		Channels: []slackfake.Channel{
			{ID: "C0PRODUCT", Name: "product", Members: []string{"U0BOT", "U0BOB"}},
			{ID: "C0OTHER", Name: "other", Members: []string{"U0BOB"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sl.Close)
	return &doctorWorld{
		dc: dc, sl: sl,
		env: map[string]string{
			"DISCORD_TOKEN":   strings.TrimPrefix(dc.BotToken(), "Bot "),
			"SLACK_BOT_TOKEN": sl.BotToken(), "SLACK_APP_TOKEN": sl.AppToken(),
		},
		db: filepath.Join(t.TempDir(), "doctor.db"),
	}
}

// config writes a config whose route posts its cards in cardChannel.
func (w *doctorWorld) config(t *testing.T, cardChannel string) string {
	t.Helper()
	guild := discordfake.DefaultGuild()
	return writeFile(t, fmt.Sprintf(`
company: Acme
database: {sqlite_path: %q}
http: {addr: "127.0.0.1:0"}
connections:
  - name: community
    platform: discord
    role: public
    token: ${DISCORD_TOKEN}
    guild_id: %q
    application_id: %q
    api_url: %s
  - name: internal
    platform: slack
    role: internal
    bot_token: ${SLACK_BOT_TOKEN}
    app_token: ${SLACK_APP_TOKEN}
    api_url: %s
sources:
  - {name: help, connection: community, channels: [%q]}
routes:
  - name: product
    default: true
    destination: {connection: internal, channel: %s}
    approvers: [U0BOB]
`, w.db, guild.ID, w.dc.ApplicationID(), w.dc.URL(), w.sl.URL(), guild.Channels[1].ID, cardChannel))
}

// runOnce starts `liaison run` until it has registered its Discord
// commands, as the doctor's remedy says to, and stops it.
func (w *doctorWorld) runOnce(t *testing.T, cfg string) {
	t.Helper()
	guild := discordfake.DefaultGuild()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var stderr syncBuffer
	go func() {
		done <- Main(ctx, []string{"run", "--config", cfg}, new(bytes.Buffer), &stderr, func(k string) string { return w.env[k] })
	}()
	wait, stop := context.WithTimeout(context.Background(), 30*time.Second)
	defer stop()
	err := w.dc.WaitFor(wait, func() bool { return len(w.dc.Commands(guild.ID)) > 0 })
	cancel()
	if err != nil {
		t.Fatalf("liaison run registered no command: %v\n%s", err, stderr.String())
	}
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("run did not stop after cancel")
	}
}

func (w *doctorWorld) doctor(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return cli(t, ctx, w.env, append([]string{"doctor"}, args...)...)
}

var checkLine = regexp.MustCompile(`^(ok  |FAIL) (community|internal): [^:]+: .+$`)

// expectCheckLines checks that every line is a check, or the remedy under
// a failed one, but the last, and returns the checks' lines.
func expectCheckLines(t *testing.T, out string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	var checks []string
	for i, l := range lines[:len(lines)-1] {
		switch {
		case checkLine.MatchString(l):
			checks = append(checks, l)
		case strings.HasPrefix(l, "     → ") && i > 0 && strings.HasPrefix(lines[i-1], "FAIL"):
		default:
			t.Errorf("line %d is neither a check nor a failed check's remedy: %q", i+1, l)
		}
	}
	return checks
}

func TestDoctorCommand(t *testing.T) {
	w := newDoctorWorld(t)
	good := w.config(t, "C0PRODUCT")
	w.runOnce(t, good)

	t.Run("OK", func(t *testing.T) {
		code, out, errOut := w.doctor(t, "--config", good)
		if code != exitOK || errOut != "" {
			t.Fatalf("exit %d, stderr %q:\n%s", code, errOut, out)
		}
		checks := expectCheckLines(t, out)
		if want := fmt.Sprintf("All %d checks passed.\n", len(checks)); !strings.HasSuffix(out, want) {
			t.Errorf("output does not end with %q:\n%s", want, out)
		}
		// Config order: the Discord connection first, then the Slack one.
		var conns []string
		for _, l := range checks {
			if conn := strings.Fields(l)[1]; len(conns) == 0 || conns[len(conns)-1] != conn {
				conns = append(conns, conn)
			}
			if strings.HasPrefix(l, "FAIL") {
				t.Errorf("failed: %s", l)
			}
		}
		if strings.Join(conns, " ") != "community: internal:" {
			t.Errorf("connections checked in the order %v, want community then internal:\n%s", conns, out)
		}
		for _, want := range []string{
			"ok   internal: bot token: valid: bot @liaison",
			"ok   internal: scopes: ",
			"ok   internal: app token: ",
			"ok   internal: channel C0PRODUCT: #product (cards): the bot is a member",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	})

	bad := w.config(t, "C0OTHER")
	t.Run("ErrBotNotInCardChannel", func(t *testing.T) {
		code, out, errOut := w.doctor(t, "--config", bad)
		if code != exitRuntime {
			t.Fatalf("exit %d, want 1:\n%s", code, out)
		}
		checks := expectCheckLines(t, out)
		if !strings.Contains(out, "FAIL internal: channel C0OTHER: #other (cards): the bot is not a member") ||
			!strings.Contains(out, "     → /invite @liaison in #other\n") {
			t.Errorf("the failure and its remedy are not printed:\n%s", out)
		}
		if want := fmt.Sprintf("liaison: 1 of %d checks failed: see the FAIL lines above\n", len(checks)); errOut != want {
			t.Errorf("stderr %q, want %q", errOut, want)
		}
		if strings.Contains(out, "checks passed") {
			t.Errorf("a failed run says the checks passed:\n%s", out)
		}
	})

	t.Run("OnlyOneConnection", func(t *testing.T) {
		code, out, _ := w.doctor(t, "--config", bad, "--connection", "internal")
		if code != exitRuntime || strings.Contains(out, "community:") || !strings.Contains(out, "FAIL internal: channel C0OTHER") {
			t.Fatalf("exit %d, want 1 and only internal's checks:\n%s", code, out)
		}
		code, out, _ = w.doctor(t, "--config", good, "--connection", "internal")
		if code != exitOK || strings.Contains(out, "community:") {
			t.Fatalf("exit %d, want 0 and only internal's checks:\n%s", code, out)
		}
	})

	t.Run("ErrUsage", func(t *testing.T) {
		for _, args := range [][]string{
			{"--config", good, "--connection", "nope"},
			{"--config", good, "--timeout", "0s"},
			{"--config", good, "extra"},
		} {
			code, out, errOut := w.doctor(t, args...)
			if code != exitUsage || out != "" || errOut == "" {
				t.Errorf("doctor %v: exit %d, stdout %q, stderr %q; want 2 and a message", args, code, out, errOut)
			}
		}
	})

	t.Run("ErrTimeout", func(t *testing.T) {
		// Slack takes a minute to answer: the doctor gives up at --timeout.
		w.sl.DelayNext("auth.test", time.Minute)
		start := time.Now()
		code, out, _ := w.doctor(t, "--config", good, "--connection", "internal", "--timeout", "500ms")
		if took := time.Since(start); took > 10*time.Second {
			t.Fatalf("doctor took %s with --timeout 500ms", took)
		}
		if code != exitRuntime || !strings.Contains(out, "FAIL internal: bot token: Slack did not answer auth.test") ||
			!strings.Contains(out, "Stopped after 500ms (--timeout)") {
			t.Fatalf("exit %d, want 1 with the bot token failed and the timeout said:\n%s", code, out)
		}
	})
}
