package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
)

// cli runs the command line and returns its exit code and output.
func cli(t *testing.T, ctx context.Context, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(ctx, args, &stdout, &stderr, func(k string) string { return env[k] })
	return code, stdout.String(), stderr.String()
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "liaison.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

var exampleEnv = map[string]string{
	"DISCORD_TOKEN": "discord-secret-token", "COMMUNITY_SLACK_BOT_TOKEN": "xoxb-community-secret",
	"COMMUNITY_SLACK_APP_TOKEN": "xapp-community-secret", "SLACK_BOT_TOKEN": "xoxb-internal-secret",
	"SLACK_APP_TOKEN": "xapp-internal-secret",
}

func TestVersionAndUsage(t *testing.T) {
	ctx := context.Background()
	if code, out, _ := cli(t, ctx, nil, "version"); code != exitOK || !strings.HasPrefix(out, "liaison ") {
		t.Fatalf("version: %d %q", code, out)
	}
	if code, _, errOut := cli(t, ctx, nil, "frobnicate"); code != exitUsage || !strings.Contains(errOut, "unknown command") {
		t.Fatalf("unknown command: %d %q", code, errOut)
	}
	if code, _, errOut := cli(t, ctx, nil, "version", "extra"); code != exitUsage || !strings.Contains(errOut, `unknown command "extra"`) {
		t.Fatalf("an argument too many: %d %q", code, errOut)
	}
	if code, out, _ := cli(t, ctx, nil); code != exitOK || !strings.Contains(out, "Available Commands") {
		t.Fatalf("no command: %d %q", code, out)
	}
	if code, _, errOut := cli(t, ctx, nil, "check-config", "--no-such-flag"); code != exitUsage || !strings.Contains(errOut, "unknown flag") {
		t.Fatalf("unknown flag: %d %q", code, errOut)
	}
	for _, sub := range []string{"run", "migrate", "check-config", "version"} {
		if code, out, _ := cli(t, ctx, nil, sub, "--help"); code != exitOK || !strings.Contains(out, "Usage:") {
			t.Fatalf("%s --help: %d %q", sub, code, out)
		}
	}
}

func TestCheckConfig(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		code, out, errOut := cli(t, ctx, exampleEnv, "check-config", "--config", "../../liaison.example.yaml")
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for _, want := range []string{"community-discord", "internal-slack", "billing → internal-slack C0BILLING", "support (default)"} {
			if !strings.Contains(out, want) {
				t.Errorf("summary lacks %q:\n%s", want, out)
			}
		}
		for _, secret := range exampleEnv {
			if strings.Contains(out, secret) {
				t.Fatalf("summary prints a secret")
			}
		}
	})
	t.Run("ErrEveryProblem", func(t *testing.T) {
		p := writeFile(t, `
company: Acme
connections:
  - name: internal
    platform: slak
routes:
  - name: r1
    destination: {connection: nowhere, channel: "#general"}
    aproval: required
`)
		code, _, errOut := cli(t, ctx, nil, "check-config", "--config", p)
		if code != exitUsage {
			t.Fatalf("exit %d, want 2", code)
		}
		for _, key := range []string{"connections[0].platform", "routes[0].aproval", "routes[0].destination.connection"} {
			if !strings.Contains(errOut, key) {
				t.Errorf("errors lack %s:\n%s", key, errOut)
			}
		}
	})
	t.Run("ErrBrokenYAML", func(t *testing.T) {
		p := writeFile(t, "company: [Acme\n")
		code, _, errOut := cli(t, ctx, nil, "check-config", "--config", p)
		if code != exitUsage || !strings.Contains(errOut, "line") {
			t.Fatalf("exit %d: %q", code, errOut)
		}
	})
	t.Run("ErrMissingFile", func(t *testing.T) {
		code, _, errOut := cli(t, ctx, nil, "check-config", "--config", "/does/not/exist.yaml")
		if code != exitUsage || !strings.Contains(errOut, "exist.yaml") {
			t.Fatalf("exit %d: %q", code, errOut)
		}
	})
}

func TestMigrate(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "state.db")
	env := map[string]string{"DB": db}
	for k, v := range exampleEnv {
		env[k] = v
	}
	cfg := strings.Replace(mustRead(t, "../../liaison.example.yaml"), "sqlite_path: ./liaison.db", "sqlite_path: ${DB}", 1)
	p := writeFile(t, cfg)
	code, out, errOut := cli(t, ctx, env, "migrate", "--config", p)
	if code != exitOK || !strings.Contains(out, "sqlite database at schema version") {
		t.Fatalf("migrate: %d %q %q", code, out, errOut)
	}
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("no database file: %v", err)
	}
	// An unreachable Postgres is a runtime error with a clear message.
	env["DATABASE_URL"] = "postgres://liaison:hunter2@127.0.0.1:1/liaison?sslmode=disable"
	code, _, errOut = cli(t, ctx, env, "migrate", "--config", p)
	if code != exitRuntime || !strings.Contains(errOut, "127.0.0.1:1") || strings.Contains(errOut, "hunter2") {
		t.Fatalf("unreachable postgres: %d %q", code, errOut)
	}
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRunAgainstFakes starts `liaison run` on a config that points at a fake
// Discord server (public) and a fake Slack workspace (internal): a member's
// forum post becomes a card in the routed Slack channel.
func TestRunAgainstFakes(t *testing.T) {
	dc, err := discordfake.New(discordfake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dc.Close()
	sl, err := slackfake.New(slackfake.Options{
		Users:    []slackfake.User{{ID: "U0BOB", Name: "bob", RealName: "Bob Stone"}},
		Channels: []slackfake.Channel{{ID: "C0PRODUCT", Name: "product", Members: []string{"U0BOT", "U0BOB"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sl.Close()
	guild := discordfake.DefaultGuild()
	forum := guild.Channels[1].ID
	cfg := fmt.Sprintf(`
company: Acme
database: {sqlite_path: %q}
http: {addr: "127.0.0.1:0"}
connections:
  - name: community
    platform: discord
    role: public
    token: ${DISCORD_TOKEN}
    guild_id: %q
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
    destination: {connection: internal, channel: C0PRODUCT}
    approvers: [U0BOB]
`, filepath.Join(t.TempDir(), "run.db"), guild.ID, dc.URL(), sl.URL(), forum)
	env := map[string]string{
		"DISCORD_TOKEN":   strings.TrimPrefix(dc.BotToken(), "Bot "),
		"SLACK_BOT_TOKEN": sl.BotToken(), "SLACK_APP_TOKEN": sl.AppToken(),
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var stderr syncBuffer
	go func() {
		done <- Main(ctx, []string{"run", "--config", writeFile(t, cfg)}, new(bytes.Buffer), &stderr, func(k string) string { return env[k] })
	}()

	wait, stop := context.WithTimeout(context.Background(), 30*time.Second)
	defer stop()
	if err := dc.WaitFor(wait, func() bool { return dc.Gateway().Connected }); err != nil {
		cancel()
		t.Fatalf("liaison never connected to Discord: %v\n%s", err, stderr.String())
	}
	if _, _, err := dc.OpenForumPost(guild.Members[1].User.ID, forum, "Dark mode?", "Any plans for dark mode? @everyone"); err != nil {
		t.Fatal(err)
	}
	err = sl.WaitFor(wait, func() bool { return len(sl.Messages("C0PRODUCT")) > 0 })
	cancel()
	if err != nil {
		t.Fatalf("no card in Slack: %v\n%s", err, stderr.String())
	}
	card := sl.Messages("C0PRODUCT")[0]
	if !strings.Contains(string(card.Blocks)+card.Text, "dark mode") || len(slackfake.Pings(card)) != 0 {
		t.Fatalf("card = %+v", card)
	}
	select {
	case code := <-done:
		if code != exitOK {
			t.Fatalf("run exited %d:\n%s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("run did not stop after cancel")
	}
}

// syncBuffer is a bytes.Buffer safe to read while the command writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
