package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dg "github.com/bwmarrin/discordgo"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/cmd/liaison/app"
	"github.com/liaison-bot/liaison/config"
	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
)

// TestReadyzReportsConnections: while Discord refuses to register
// /liaison, /readyz answers 503 and names the connection and why; Liaison
// tries again and, once registered, is ready.
func TestReadyzReportsConnections(t *testing.T) {
	f, err := discordfake.New(discordfake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Inject(discordfake.Fault{Method: "PUT", PathPrefix: "/applications/", Status: http.StatusForbidden, Code: 50001})
	g := discordfake.DefaultGuild()
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
company: Acme
database: {sqlite_path: %q}
connections:
  - {name: community, platform: discord, role: both, token: "${TOKEN}", guild_id: %q, api_url: %q}
sources:
  - {name: general, connection: community, channels: [%q]}
routes:
  - {name: team, default: true, destination: {connection: community, channel: %q}, approval: none}
`, filepath.Join(t.TempDir(), "l.db"), g.ID, f.URL(), g.Channels[0].ID, g.Channels[1].ID)),
		func(k string) string { return map[string]string{"TOKEN": strings.TrimPrefix(f.BotToken(), "Bot ")}[k] })
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Open(ctx, cfg, app.Options{
		Listener: ln, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Discord: func(_ string, s *dg.Session) { s.LogLevel = -1 },
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		a.Close()
	}()

	readyz := func() (int, string) {
		resp, err := http.Get("http://" + ln.Addr().String() + "/readyz")
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	var refused bool
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, body := readyz()
		if code == http.StatusServiceUnavailable && strings.Contains(body, "connection community") && strings.Contains(body, "Missing Access") {
			refused = true
		}
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready after the registration was retried: %d %q", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !refused {
		t.Fatal("/readyz never said the connection was not ready while Discord refused /liaison")
	}
	if n, want := len(f.Commands(g.ID)), 1+len(bot.Menus()); n != want {
		t.Fatalf("%d commands registered, want %d: /liaison and the menu commands", n, want)
	}
}

// TestStartWithConflictingProfiles: the config links two accounts that
// already have separate profiles. Liaison still starts, keeps both, and
// says so in the log and in check-config's comparison.
func TestStartWithConflictingProfiles(t *testing.T) {
	db := filepath.Join(t.TempDir(), "l.db")
	parse := func(profiles string) *config.Config {
		t.Helper()
		cfg, err := config.Parse([]byte(fmt.Sprintf(`
company: Acme
database: {sqlite_path: %q}
connections:
  - {name: community, platform: discord, role: both, token: "x.y.z", guild_id: "2100000000000000001", api_url: "http://127.0.0.1:1"}
sources:
  - {name: general, connection: community, channels: ["2100000000000000002"]}
routes:
  - {name: team, default: true, destination: {connection: community, channel: "2100000000000000003"}, approval: none}
profiles:
%s`, db, profiles)), nil)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	open := func(cfg *config.Config, log io.Writer) {
		t.Helper()
		a, err := app.Open(context.Background(), cfg, app.Options{Log: slog.New(slog.NewTextHandler(log, nil))})
		if err != nil {
			t.Fatalf("start: %v", err)
		}
		a.Close()
	}
	open(parse(`
  - {name: Alice Martin, identities: [{connection: community, user_id: "2100000000000000010"}]}
  - {name: Alice M, identities: [{connection: community, user_id: "2100000000000000011"}]}
`), io.Discard)
	linked := parse(`
  - {name: Alice Martin, identities: [{connection: community, user_id: "2100000000000000010"}, {connection: community, user_id: "2100000000000000011"}]}
`)
	var log strings.Builder
	open(linked, &log)
	if !strings.Contains(log.String(), "config profile conflict") || !strings.Contains(log.String(), "separate profiles") {
		t.Errorf("the start-up log does not report the conflict:\n%s", log.String())
	}
	report, err := app.ProfileDrift(context.Background(), linked)
	if err != nil || len(report.Conflicts) != 1 {
		t.Errorf("check-config's comparison = %+v, %v; want the conflict", report, err)
	}
}
