package app_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/liaison-bot/liaison/cmd/liaison/app"
	"github.com/liaison-bot/liaison/config"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// TestLogsHideConfiguredSecrets: whatever Liaison logs through the logger
// the composition root builds, no configured credential shows — the tokens,
// the signing secret, the database URL and its password — even when a
// message or an error quotes one.
func TestLogsHideConfiguredSecrets(t *testing.T) {
	const (
		discordToken = "discord-bot-token-value"
		slackBot     = "xoxb-111-222-slackbotvalue"
		slackApp     = "xapp-1-A1-333-slackappvalue"
		password     = "pg-s3cret-pw"
	)
	for _, engine := range storagetest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			env := map[string]string{"DISCORD": discordToken, "SLACK_BOT": slackBot, "SLACK_APP": slackApp,
				"DB_PATH": filepath.Join(t.TempDir(), "l.db")}
			var secrets []string
			if engine == "postgres" {
				u, err := url.Parse(storagetest.DSN(t, engine))
				if err != nil {
					t.Fatal(err)
				}
				// The test server trusts local connections: the password is
				// carried, never checked.
				u.User = url.UserPassword(u.User.Username(), password)
				env["DB_URL"] = u.String()
				secrets = append(secrets, password, u.String())
			}
			cfg, err := config.Parse([]byte(`
company: Acme
database: {url: "${DB_URL:-}", sqlite_path: "${DB_PATH}"}
connections:
  - {name: community, platform: discord, role: public, token: "${DISCORD}", guild_id: "2100000000000000001"}
  - {name: staff, platform: slack, role: internal, bot_token: "${SLACK_BOT}", app_token: "${SLACK_APP}"}
sources:
  - {name: community, connection: community, channels: ["2100000000000000010"]}
routes:
  - {name: team, default: true, destination: {connection: staff, channel: C0123456789}, approval: none}
`), func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			var buf syncBuffer
			a, err := app.Open(context.Background(), cfg, app.Options{Log: slog.New(slog.NewTextHandler(&buf, nil))})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			secrets = append(secrets, discordToken, slackBot, slackApp)
			for _, s := range secrets {
				a.Service.Log.Error("quoting "+s, "err", fmt.Errorf("call with %s failed", s), "value", s, "auth", "Bot "+s)
			}
			out := buf.String()
			for _, s := range secrets {
				if strings.Contains(out, s) {
					t.Errorf("%q is in the logs:\n%s", s, out)
				}
			}
			if strings.Count(out, "[redacted]") < 4*len(secrets) {
				t.Errorf("logs:\n%s\nwant every quoted secret redacted", out)
			}
		})
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
