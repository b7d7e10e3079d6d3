package config

import (
	"reflect"
	"strings"
	"testing"
)

// TestDashboardURL: dashboard.url is the http(s) address the Home links
// to, of a dashboard that is on; it never carries a credential, and an
// error about it never shows one.
func TestDashboardURL(t *testing.T) {
	const token = "f3a9c2e1d4b5a6978877665544332211"
	for _, tc := range []struct {
		name  string
		token Secret
		url   string
		bad   bool
		msg   string
	}{
		{"Unset", token, "", false, ""},
		{"HTTPS", token, "https://liaison.example.com/dashboard", false, ""},
		{"HTTPWithPort", token, "http://10.0.0.5:8081/dashboard", false, ""},
		{"OtherQuery", token, "https://liaison.example.com/dashboard?theme=dark", false, ""},
		{"WithoutToken", "", "https://liaison.example.com/dashboard", true,
			"dashboard.url: is set but dashboard.token is not: without a token the dashboard is off"},
		{"NotHTTP", token, "ftp://liaison.example.com/dashboard", true,
			`dashboard.url: "ftp://liaison.example.com/dashboard" is not an http(s) URL (want the address staff open the dashboard at`},
		{"Relative", token, "/dashboard", true, "is not an http(s) URL"},
		{"NoHost", token, "https:///dashboard", true, "is not an http(s) URL"},
		{"Unparsable", token, "https://liaison.example.com/%zz", true, "dashboard.url: is not a URL"},
		{"TokenParameter", token, "https://liaison.example.com/dashboard?token=whatever", true,
			"dashboard.url: has a token parameter: the link is shown to everyone in Slack"},
		{"TheToken", token, "https://liaison.example.com/dashboard/" + token, true,
			"dashboard.url: contains the dashboard token"},
		{"Password", token, "https://admin:hunter2hunter2@liaison.example.com/dashboard", true,
			"dashboard.url: contains a user name or password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			c.Dashboard.Token, c.Dashboard.URL = tc.token, tc.url
			err := c.Validate()
			if !tc.bad {
				if err != nil {
					t.Fatalf("unexpected error:\n%v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error, want one on dashboard.url")
			}
			if got := keys(t, err); !reflect.DeepEqual(got, []string{"dashboard.url"}) {
				t.Errorf("keys = %q, want dashboard.url only\n%v", got, err)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("missing %q in:\n%v", tc.msg, err)
			}
			for _, secret := range []string{token, "hunter2hunter2", "whatever"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error shows %q:\n%v", secret, err)
				}
			}
		})
	}
}

// TestDashboardURLFromFile: the key as written in a file.
func TestDashboardURLFromFile(t *testing.T) {
	c, err := Parse([]byte(minimal+"dashboard:\n  token: ${DASH}\n  url: https://liaison.example.com/dashboard\n"), env(map[string]string{
		"SLACK_BOT_TOKEN": minimalEnv["SLACK_BOT_TOKEN"], "SLACK_APP_TOKEN": minimalEnv["SLACK_APP_TOKEN"], "DASH": "s3cr3t-dashboard-VALUE-0123456789",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Dashboard.URL != "https://liaison.example.com/dashboard" {
		t.Errorf("dashboard.url = %q", c.Dashboard.URL)
	}
}
