package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestDashboard(t *testing.T) {
	const token = "f3a9c2e1d4b5a6978877665544332211" // 32 characters
	for _, tc := range []struct {
		name   string
		change func(d *Dashboard, h *HTTP)
		keys   []string
		msg    string
	}{
		{"Off", func(d *Dashboard, h *HTTP) {}, nil, ""},
		{"OnHTTPAddr", func(d *Dashboard, h *HTTP) { d.Token = token }, nil, ""},
		{"OwnAddr", func(d *Dashboard, h *HTTP) { d.Token, d.Addr = token, "127.0.0.1:8081" }, nil, ""},
		{"ShortestToken", func(d *Dashboard, h *HTTP) { d.Token = Secret(strings.Repeat("k", MinDashboardToken)) }, nil, ""},
		{"ShortToken", func(d *Dashboard, h *HTTP) { d.Token = "hunter2-hunter2-hunter2" }, []string{"dashboard.token"},
			"dashboard.token: is 23 characters long; want at least 24, since it is the dashboard's only lock (e.g. the output of `openssl rand -hex 24`)"},
		{"ShortTokenInCharacters", func(d *Dashboard, h *HTTP) { d.Token = Secret(strings.Repeat("é", 23)) }, []string{"dashboard.token"},
			"dashboard.token: is 23 characters long"},
		{"TrailingNewline", func(d *Dashboard, h *HTTP) { d.Token = token + "\n" }, []string{"dashboard.token"},
			"dashboard.token: contains a space or a line break (a copied token often ends with one); want the token alone, e.g. the output of `openssl rand -hex 24`"},
		{"InnerSpace", func(d *Dashboard, h *HTTP) { d.Token = "correct horse battery staple" }, []string{"dashboard.token"}, ""},
		{"AddrWithoutToken", func(d *Dashboard, h *HTTP) { d.Addr = "127.0.0.1:8081" }, []string{"dashboard.addr"},
			"dashboard.addr: is set but dashboard.token is not: without a token the dashboard is off (set dashboard.token, e.g. ${LIAISON_DASHBOARD_TOKEN}, or remove addr)"},
		{"BadAddr", func(d *Dashboard, h *HTTP) { d.Token, d.Addr = token, "dashboard" }, []string{"dashboard.addr"},
			`dashboard.addr: "dashboard" is not a host:port address (want e.g. 127.0.0.1:8080 or :8080)`},
		{"AddrIsHTTPAddr", func(d *Dashboard, h *HTTP) { d.Token, d.Addr = token, DefaultHTTPAddr }, []string{"dashboard.addr"},
			`dashboard.addr: "127.0.0.1:8080" clashes with http.addr ("127.0.0.1:8080"): both would listen on the same port (want another port, e.g. 127.0.0.1:8081, or leave dashboard.addr out to serve /dashboard on http.addr)`},
		{"AddrOnEveryInterface", func(d *Dashboard, h *HTTP) { d.Token, d.Addr = token, ":8080" }, []string{"dashboard.addr"}, ""},
		{"AddrIsMetricsAddr", func(d *Dashboard, h *HTTP) { d.Token, d.Addr, h.MetricsAddr = token, "127.0.0.1:9090", "0.0.0.0:9090" },
			[]string{"dashboard.addr"}, `dashboard.addr: "127.0.0.1:9090" clashes with http.metrics_addr ("0.0.0.0:9090")`},
		{"AddrOtherHostSamePort", func(d *Dashboard, h *HTTP) { d.Token, d.Addr = token, "10.0.0.5:8080" }, nil, ""},
		{"BadHTTPAddrNoClash", func(d *Dashboard, h *HTTP) { d.Token, d.Addr, h.Addr = token, "127.0.0.1:8081", "nope" }, []string{"http.addr"}, ""},
		{"TokenAndAddrBad", func(d *Dashboard, h *HTTP) { d.Token, d.Addr = "short", "nowhere" }, []string{"dashboard.token", "dashboard.addr"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.change(&c.Dashboard, &c.HTTP)
			err := c.Validate()
			if tc.keys == nil {
				if err != nil {
					t.Fatalf("unexpected error:\n%v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want errors on %q", tc.keys)
			}
			if got := keys(t, err); !reflect.DeepEqual(got, tc.keys) {
				t.Errorf("keys = %q, want %q\n%v", got, tc.keys, err)
			}
			if tc.msg != "" && !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("missing %q in:\n%v", tc.msg, err)
			}
			if tok := string(c.Dashboard.Token); len(tok) > 8 && strings.Contains(err.Error(), strings.TrimSpace(tok)) {
				t.Errorf("the error shows the token:\n%v", err)
			}
		})
	}
}

// TestDashboardFromFile: the section as written in a file, its token from
// the environment and never in an error.
func TestDashboardFromFile(t *testing.T) {
	const secret = "s3cr3t-dashboard-VALUE-0123456789"
	c, err := Parse([]byte(minimal+"dashboard:\n  token: ${DASH}\n  addr: 127.0.0.1:8081\n"), env(map[string]string{
		"SLACK_BOT_TOKEN": minimalEnv["SLACK_BOT_TOKEN"], "SLACK_APP_TOKEN": minimalEnv["SLACK_APP_TOKEN"], "DASH": secret,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Dashboard.Token.Reveal() != secret || c.Dashboard.Addr != "127.0.0.1:8081" {
		t.Errorf("dashboard = %+v", c.Dashboard)
	}
	_, err = Parse([]byte(minimal+"dashboard:\n  token: ${DASH}\n  addr: 127.0.0.1:8080\n"), env(map[string]string{
		"SLACK_BOT_TOKEN": minimalEnv["SLACK_BOT_TOKEN"], "SLACK_APP_TOKEN": minimalEnv["SLACK_APP_TOKEN"], "DASH": "tiny " + secret,
	}))
	if err == nil {
		t.Fatal("no error for a token with a space and a clashing addr")
	}
	if got := keys(t, err); !reflect.DeepEqual(got, []string{"dashboard.token", "dashboard.addr"}) {
		t.Errorf("keys = %q\n%v", got, err)
	}
	if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "tiny") {
		t.Errorf("the error shows the token:\n%v", err)
	}
}
