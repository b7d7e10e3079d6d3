package config

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Dashboard is the managers' read-only live page, /dashboard. It is off
// unless a token is set: it is never open to anyone who finds the address.
//
//	dashboard:
//	  token: ${LIAISON_DASHBOARD_TOKEN}
//	  addr: 127.0.0.1:8081   # optional: its own listener instead of http.addr
//	  url: https://liaison.example.com/dashboard   # optional: where staff open it
type Dashboard struct {
	Token Secret `yaml:"token"`
	Addr  string `yaml:"addr"`
	// URL is the dashboard's public address, as staff's browsers reach it
	// (behind a proxy, it is not addr): the Slack Home links to it. It
	// never carries the token: the page asks for it.
	URL string `yaml:"url"`
}

// MinDashboardToken is the shortest dashboard token accepted, in
// characters. The token is the dashboard's only lock: there are no
// accounts, so whoever has the address and the token sees the figures,
// and a short one can be guessed by trying.
const MinDashboardToken = 24

// dashboard validates the dashboard section.
func (v *validator) dashboard() {
	d, h := v.c.Dashboard, v.c.HTTP
	tok := string(d.Token)
	switch n := utf8.RuneCountInString(tok); {
	case tok == "":
	case strings.IndexFunc(tok, unicode.IsSpace) >= 0:
		v.add("dashboard.token", "contains a space or a line break (a copied token often ends with one); want the token alone, e.g. the output of `openssl rand -hex 24`")
	case n < MinDashboardToken:
		v.addf("dashboard.token", "is %d characters long; want at least %d, since it is the dashboard's only lock (e.g. the output of `openssl rand -hex 24`)", n, MinDashboardToken)
	}
	v.dashboardURL()
	if d.Addr == "" {
		return
	}
	if tok == "" {
		v.add("dashboard.addr", "is set but dashboard.token is not: without a token the dashboard is off (set dashboard.token, e.g. ${LIAISON_DASHBOARD_TOKEN}, or remove addr)")
		return
	}
	if p := addrProblem(d.Addr); p != "" {
		v.add("dashboard.addr", p)
		return
	}
	for _, other := range []struct{ key, addr string }{{"http.addr", h.Addr}, {"http.metrics_addr", h.MetricsAddr}} {
		if other.addr != "" && addrProblem(other.addr) == "" && sameListener(d.Addr, other.addr) {
			v.addf("dashboard.addr", "%q clashes with %s (%q): both would listen on the same port (want another port, e.g. 127.0.0.1:8081, or leave dashboard.addr out to serve /dashboard on http.addr)", d.Addr, other.key, other.addr)
		}
	}
}

// dashboardURL validates dashboard.url: an absolute http(s) address of a
// dashboard that is on, which gives away no credential. Its messages never
// quote a URL that holds one.
func (v *validator) dashboardURL() {
	d := v.c.Dashboard
	if d.URL == "" {
		return
	}
	const want = "(want the address staff open the dashboard at, e.g. https://liaison.example.com/dashboard)"
	u, err := url.Parse(d.URL)
	tok := strings.TrimSpace(string(d.Token))
	switch {
	case tok != "" && strings.Contains(d.URL, tok):
		v.add("dashboard.url", "contains the dashboard token: the link is shown to everyone in Slack, and the dashboard asks for the token itself "+want)
		return
	case err != nil:
		v.add("dashboard.url", "is not a URL "+want)
		return
	case u.User != nil:
		v.add("dashboard.url", "contains a user name or password: the link is shown to everyone in Slack "+want)
		return
	case u.Query().Has("token"):
		v.add("dashboard.url", "has a token parameter: the link is shown to everyone in Slack, and the dashboard asks for the token itself "+want)
		return
	case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		v.addf("dashboard.url", "%q is not an http(s) URL %s", d.URL, want)
		return
	case tok == "":
		v.add("dashboard.url", "is set but dashboard.token is not: without a token the dashboard is off, and the Home would link to nothing (set dashboard.token, or remove url)")
	}
}
