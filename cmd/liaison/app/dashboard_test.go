package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/liaison-bot/liaison/cmd/liaison/app"
	"github.com/liaison-bot/liaison/config"
	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
)

// TestDashboardWiring: the config's dashboard section decides whether and
// where /dashboard is served, and its figures come from the store.
func TestDashboardWiring(t *testing.T) {
	const token = "wiring-test-token-0123456789"
	f, err := discordfake.New(discordfake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g := discordfake.DefaultGuild()
	for _, tc := range []struct {
		name      string
		dashboard string
		onMain    int // status of /dashboard with the token on http.addr
		onOwn     int // on the dashboard's own listener; 0: there is none
	}{
		{"Off", "", http.StatusNotFound, 0},
		{"OnHTTPAddr", "dashboard: {token: '${DASH}'}\n", http.StatusOK, 0},
		{"OwnAddr", "dashboard: {token: '${DASH}', addr: 127.0.0.1:0}\nhttp: {addr: 127.0.0.1:18080}\n", http.StatusNotFound, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Parse([]byte(fmt.Sprintf(`
company: Acme
database: {sqlite_path: %q}
connections:
  - {name: community, platform: discord, role: both, token: "${TOKEN}", guild_id: %q, api_url: %q}
sources:
  - {name: general, connection: community, channels: [%q]}
routes:
  - {name: team, default: true, destination: {connection: community, channel: %q}, approval: none}
`, filepath.Join(t.TempDir(), "l.db"), g.ID, f.URL(), g.Channels[0].ID, g.Channels[1].ID)+tc.dashboard),
				func(k string) string {
					return map[string]string{"TOKEN": strings.TrimPrefix(f.BotToken(), "Bot "), "DASH": token}[k]
				})
			if err != nil {
				t.Fatal(err)
			}
			a, err := app.Open(context.Background(), cfg, app.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			get := func(h http.Handler, path string) (int, string) {
				r := httptest.NewRequest(http.MethodGet, path, nil)
				r.Header.Set("Authorization", "Bearer "+token)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				return rec.Code, rec.Body.String()
			}
			if code, _ := get(a.Web.Handler(), "/dashboard"); code != tc.onMain {
				t.Errorf("/dashboard on http.addr = %d, want %d", code, tc.onMain)
			}
			if tc.onOwn != 0 {
				if code, _ := get(a.Web.DashboardHandler(), "/dashboard"); code != tc.onOwn {
					t.Errorf("/dashboard on dashboard.addr = %d, want %d", code, tc.onOwn)
				}
			}
			if tc.onMain == http.StatusOK || tc.onOwn == http.StatusOK {
				code, body := get(a.Web.DashboardHandler(), "/dashboard/data.json?days=7")
				if code != http.StatusOK || !strings.Contains(body, `"items_in":0`) || !strings.Contains(body, `"route":"team"`) {
					t.Errorf("data.json = %d %s, want the (empty) store's figures with the route team", code, body)
				}
			}
		})
	}
}
