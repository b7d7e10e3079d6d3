package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/handlers/web"
)

const dashToken = "dash-0123456789abcdef-TOKEN-xyz"

// The figures the fake source reports, and the texts a member or a
// staff member wrote that reach the page.
const (
	hostileSummary = `<img src=x onerror="alert(1)"> Mia & co: "export?"`
	hostileName    = `<b>Bob</b> Stone`
)

// fakeSource reports hand-built figures and records what it was asked.
type fakeSource struct {
	mu      sync.Mutex
	queries []bot.StatsQuery
	locs    []*time.Location
	err     error
}

func (f *fakeSource) Routes() []string { return []string{"product-feedback", "support"} }

func (f *fakeSource) Stats(ctx context.Context, q bot.StatsQuery, loc *time.Location) (*bot.StatsReport, error) {
	f.mu.Lock()
	f.queries = append(f.queries, q)
	f.locs = append(f.locs, loc)
	err := f.err
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return sampleReport(q, loc), nil
}

func (f *fakeSource) asked() []bot.StatsQuery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.queries)
}

// sampleReport is the report of q: all routes (Route "") or one. Day i
// of the period has i%4 items of product-feedback and 1+i%3 of support.
func sampleReport(q bot.StatsQuery, loc *time.Location) *bot.StatsReport {
	var days []bot.Day
	for i, d := 0, q.From; d.Before(q.To); i, d = i+1, d.AddDate(0, 0, 1) {
		pf, sup := i%4, 1+i%3
		day := bot.Day{Date: d, FirstAnswer: 2 * time.Hour}
		switch q.Route {
		case "product-feedback":
			day.In, day.Answered = pf, pf/2
		case "support":
			day.In, day.Answered = sup, sup
		default:
			day.In, day.Answered = pf+sup, pf/2+sup
		}
		days = append(days, day)
	}
	cur := &bot.Stats{
		Query: q, ItemsIn: 42, Answered: 35,
		FirstAnswer:         bot.Spread{N: 7, Median: 150 * time.Minute, P90: 20 * time.Hour},
		FirstAnswerBusiness: bot.Spread{N: 7, Median: time.Hour, P90: 8 * time.Hour},
		FirstAnswers:        []time.Duration{30 * time.Minute, 45 * time.Minute, 2 * time.Hour, 3 * time.Hour, 5 * time.Hour, 30 * time.Hour, 80 * time.Hour},
		Approval:            bot.Spread{N: 12, Median: 40 * time.Minute, P90: 3 * time.Hour},
		PastSLA:             5, WithinSLA: 30,
		TopTags: []bot.Count{{Name: "feedback", N: 20}},
		Members: 18, Returning: 7,
		Responders: []bot.Count{{Name: "Alice Martin", N: 20}, {Name: hostileName, N: 15}},
		Days:       days,
	}
	queue := bot.Queue{Unanswered: 4, AwaitingApproval: 2, PastSLA: 1, Oldest: []bot.Waiting{{
		ItemID: 7, Route: "support", Summary: hostileSummary, Since: time.Now().Add(-50 * time.Hour),
		Link: "https://discord.com/channels/1/2/3", CardLink: "javascript:alert(1)",
	}}}
	if q.Route != "" {
		cur.ItemsIn, cur.Answered, cur.WithinSLA, cur.PastSLA = 21, 14, 9, 3
		cur.FirstAnswers = cur.FirstAnswers[:2]
		queue = bot.Queue{Unanswered: 2, PastSLA: 1}
	}
	return &bot.StatsReport{
		Current:  cur,
		Previous: &bot.Stats{Query: q.Previous(), ItemsIn: 30, Answered: 20, WithinSLA: 0, PastSLA: 0},
		Queue:    queue,
		Location: loc,
	}
}

// newDashboard returns a server whose dashboard reads src.
func newDashboard(t *testing.T, o web.Options, src web.DashboardSource, token string) (*web.Server, *logBuffer) {
	t.Helper()
	var logs logBuffer
	srv := web.NewServer(o, pinger{}, web.NewMetrics())
	srv.Log = slog.New(slog.NewTextHandler(&logs, nil))
	srv.Dashboard(src, token)
	return srv, &logs
}

// do sends a request to h and returns the response, its body read.
func do(t *testing.T, h http.Handler, r *http.Request) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	res := rec.Result()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

func bearer(r *http.Request, token string) *http.Request {
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

func withCookie(r *http.Request, c *http.Cookie) *http.Request {
	r.AddCookie(c)
	return r
}

func TestDashboardOffWithoutToken(t *testing.T) {
	src := &fakeSource{}
	srv, _ := newDashboard(t, web.Options{Addr: "127.0.0.1:0"}, src, "")
	for _, path := range []string{"/dashboard", "/dashboard?token=", "/dashboard/data.json", "/dashboard/app.js", "/dashboard/chart.js", "/dashboard/app.css"} {
		res, _ := do(t, srv.Handler(), bearer(httptest.NewRequest(http.MethodGet, path, nil), ""))
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s without a configured token = %d, want 404", path, res.StatusCode)
		}
	}
	if q := src.asked(); len(q) != 0 {
		t.Errorf("the source was asked %d times", len(q))
	}
}

// TestDashboardRefuses: no credentials, a wrong token (in the address, the
// form, a bearer header) or a forged cookie get 401, the sign-in form and
// not a figure; nothing is computed.
func TestDashboardRefuses(t *testing.T) {
	src := &fakeSource{}
	srv, logs := newDashboard(t, web.Options{Addr: "127.0.0.1:0"}, src, dashToken)
	h := srv.Handler()
	const wrong = "not-the-token-but-long-enough-1234"
	form := func(token string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/dashboard/sign-in", strings.NewReader(url.Values{"token": {token}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
	for _, tc := range []struct {
		name  string
		req   *http.Request
		wrong bool // the form says the token is wrong
	}{
		{"Nothing", httptest.NewRequest(http.MethodGet, "/dashboard", nil), false},
		{"WrongTokenInURL", httptest.NewRequest(http.MethodGet, "/dashboard?token="+wrong, nil), true},
		{"EmptyTokenInURL", httptest.NewRequest(http.MethodGet, "/dashboard?token=", nil), true},
		{"TokenPrefix", httptest.NewRequest(http.MethodGet, "/dashboard?token="+dashToken[:20], nil), true},
		{"WrongTokenInForm", form(wrong), true},
		{"WrongBearer", bearer(httptest.NewRequest(http.MethodGet, "/dashboard", nil), wrong), false},
		{"BasicAuth", func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/dashboard", nil)
			r.SetBasicAuth("admin", dashToken)
			return r
		}(), false},
		{"ForgedCookie", withCookie(httptest.NewRequest(http.MethodGet, "/dashboard", nil), &http.Cookie{Name: "liaison_dashboard", Value: "99999999999.AAAA"}), false},
		{"TokenAsCookie", withCookie(httptest.NewRequest(http.MethodGet, "/dashboard", nil), &http.Cookie{Name: "liaison_dashboard", Value: dashToken}), false},
		{"ScriptWithoutSignIn", httptest.NewRequest(http.MethodGet, "/dashboard/app.js", nil), false},
		{"ChartWithoutSignIn", httptest.NewRequest(http.MethodGet, "/dashboard/chart.js", nil), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := do(t, h, tc.req)
			if res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status = %d, want 401\n%s", res.StatusCode, body)
			}
			if len(res.Cookies()) != 0 {
				t.Errorf("a refused request got a cookie: %v", res.Cookies())
			}
			if !strings.Contains(body, `<form method="post" action="/dashboard/sign-in">`) || !strings.Contains(body, `name="token"`) {
				t.Errorf("no sign-in form in:\n%s", body)
			}
			if said := strings.Contains(body, "not the dashboard's"); said != tc.wrong {
				t.Errorf("the form says the token is wrong: %v, want %v", said, tc.wrong)
			}
			for _, figure := range []string{"Alice Martin", "Mia", "chart-days", "q-unanswered", wrong, dashToken[:20]} {
				if strings.Contains(body, figure) {
					t.Errorf("the refusal shows %q", figure)
				}
			}
			checkHeaders(t, res)
		})
	}
	res, body := do(t, h, httptest.NewRequest(http.MethodGet, "/dashboard/data.json", nil))
	if res.StatusCode != http.StatusUnauthorized || strings.Contains(body, "items_in") || !strings.Contains(res.Header.Get("Content-Type"), "json") {
		t.Errorf("data.json without credentials = %d %q, want 401 and no figure", res.StatusCode, body)
	}
	if q := src.asked(); len(q) != 0 {
		t.Errorf("figures were computed for refused requests: %v", q)
	}
	// The style is the sign-in form's: served to anyone.
	if res, _ := do(t, h, httptest.NewRequest(http.MethodGet, "/dashboard/app.css", nil)); res.StatusCode != http.StatusOK {
		t.Errorf("app.css = %d, want 200", res.StatusCode)
	}
	lines := logs.lines("wrong token")
	if len(lines) != 1 {
		t.Errorf("log lines about wrong tokens: %q, want one (sampled)", lines)
	}
	for _, l := range lines {
		if strings.Contains(l, wrong) {
			t.Errorf("the log shows the wrong token: %s", l)
		}
	}
}

// checkHeaders: every dashboard answer is kept out of caches and frames,
// and lets the page run only its own code.
func checkHeaders(t *testing.T, res *http.Response) {
	t.Helper()
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %s", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "http") {
		t.Errorf("Content-Security-Policy %q allows more than the page's own files", csp)
	}
	for h, want := range map[string]string{"Cache-Control": "no-store", "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"} {
		if got := res.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
}

// TestDashboardBearer: the token as a bearer token opens the page, its
// files and the figures.
func TestDashboardBearer(t *testing.T) {
	src := &fakeSource{}
	srv, _ := newDashboard(t, web.Options{Addr: "127.0.0.1:0"}, src, dashToken)
	for path, want := range map[string]struct{ ctype, has string }{
		"/dashboard":           {"text/html", `<canvas id="chart-days"`},
		"/dashboard?days=90":   {"text/html", `<a href="/dashboard?days=90" aria-current="page">90 days</a>`},
		"/dashboard/data.json": {"application/json", `"items_in":42`},
		"/dashboard/app.js":    {"text/javascript", "textContent"},
		"/dashboard/chart.js":  {"text/javascript", "Chart.js v" + web.ChartJSVersion},
	} {
		res, body := do(t, srv.Handler(), bearer(httptest.NewRequest(http.MethodGet, path, nil), dashToken))
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), want.ctype) || !strings.Contains(body, want.has) {
			t.Errorf("GET %s = %d %s, want 200 %s with %q", path, res.StatusCode, res.Header.Get("Content-Type"), want.ctype, want.has)
		}
		checkHeaders(t, res)
		if strings.Contains(body, dashToken) {
			t.Errorf("GET %s shows the token", path)
		}
	}
	// The page has no inline script or style, and loads nothing from elsewhere.
	_, page := do(t, srv.Handler(), bearer(httptest.NewRequest(http.MethodGet, "/dashboard", nil), dashToken))
	for _, bad := range []string{"<script>", "style=", "onclick", "http://", "https://", "innerHTML"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page contains %q", bad)
		}
	}
	for _, want := range []string{`<script src="/dashboard/chart.js" defer></script>`, `<script src="/dashboard/app.js" defer></script>`, `data-days="30"`, `data-refresh="30"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	_, js := do(t, srv.Handler(), bearer(httptest.NewRequest(http.MethodGet, "/dashboard/app.js", nil), dashToken))
	if strings.Contains(js, "innerHTML") || strings.Contains(js, "insertAdjacentHTML") || strings.Contains(js, "document.write") {
		t.Error("app.js writes markup; it must write text only")
	}
}

// TestDashboardSignIn: ?token= or the form sets a cookie holding an HMAC,
// not the token, and sends the browser on without the token in the
// address; the cookie then opens the page and the figures, until sign-out.
func TestDashboardSignIn(t *testing.T) {
	src := &fakeSource{}
	srv, _ := newDashboard(t, web.Options{Addr: "127.0.0.1:0"}, src, dashToken)
	h := srv.Handler()

	signIns := map[string]*http.Request{
		"URL":  httptest.NewRequest(http.MethodGet, "/dashboard?days=7&token="+url.QueryEscape(dashToken), nil),
		"Form": httptest.NewRequest(http.MethodPost, "/dashboard/sign-in", strings.NewReader(url.Values{"token": {dashToken}}.Encode())),
	}
	signIns["Form"].Header.Set("Content-Type", "application/x-www-form-urlencoded")
	wantLocation := map[string]string{"URL": "/dashboard?days=7", "Form": "/dashboard"}
	for name, req := range signIns {
		t.Run(name, func(t *testing.T) {
			res, body := do(t, h, req)
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != wantLocation[name] {
				t.Fatalf("sign-in = %d to %q, want 303 to %q", res.StatusCode, res.Header.Get("Location"), wantLocation[name])
			}
			checkHeaders(t, res)
			cookies := res.Cookies()
			if len(cookies) != 1 {
				t.Fatalf("cookies = %v, want one", cookies)
			}
			c := cookies[0]
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure || c.Path != "/dashboard" || c.MaxAge <= 0 {
				t.Errorf("cookie = %+v, want HttpOnly, SameSite=Strict, not Secure over plain HTTP, Path /dashboard, a lifetime", c)
			}
			for _, s := range []string{c.Value, c.Raw, body, res.Header.Get("Location")} {
				if strings.Contains(s, dashToken) || strings.Contains(s, url.QueryEscape(dashToken)) {
					t.Errorf("the token is echoed back: %q", s)
				}
			}
			for path, want := range map[string]string{"/dashboard": `id="chart-days"`, "/dashboard/data.json": `"items_in":42`, "/dashboard/app.js": "textContent"} {
				res, body := do(t, h, withCookie(httptest.NewRequest(http.MethodGet, path, nil), c))
				if res.StatusCode != http.StatusOK || !strings.Contains(body, want) {
					t.Errorf("GET %s with the cookie = %d, want 200 with %q", path, res.StatusCode, want)
				}
			}
			// A wrong bearer token is refused even beside a good cookie.
			if res, _ := do(t, h, bearer(withCookie(httptest.NewRequest(http.MethodGet, "/dashboard", nil), c), "wrong")); res.StatusCode != http.StatusUnauthorized {
				t.Errorf("a wrong bearer token beside the cookie = %d, want 401", res.StatusCode)
			}
		})
	}

	t.Run("SecureBehindTLSProxy", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, "/dashboard?token="+url.QueryEscape(dashToken), nil)
		r.Header.Set("X-Forwarded-Proto", "https")
		res, _ := do(t, h, r)
		if cs := res.Cookies(); len(cs) != 1 || !cs[0].Secure {
			t.Errorf("cookies behind a TLS proxy = %v, want one, Secure", cs)
		}
		r = httptest.NewRequest(http.MethodGet, "https://liaison.example/dashboard?token="+url.QueryEscape(dashToken), nil)
		res, _ = do(t, h, r)
		if cs := res.Cookies(); len(cs) != 1 || !cs[0].Secure {
			t.Errorf("cookies over TLS = %v, want one, Secure", cs)
		}
	})

	t.Run("OtherTokensCookie", func(t *testing.T) {
		// A cookie of another token (the token was changed) is refused.
		other, _ := newDashboard(t, web.Options{Addr: "127.0.0.1:0"}, src, "another-token-of-enough-length-42")
		res, _ := do(t, other.Handler(), httptest.NewRequest(http.MethodGet, "/dashboard?token=another-token-of-enough-length-42", nil))
		c := res.Cookies()[0]
		if res, _ := do(t, h, withCookie(httptest.NewRequest(http.MethodGet, "/dashboard", nil), c)); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("another token's cookie = %d, want 401", res.StatusCode)
		}
	})

	t.Run("SignOut", func(t *testing.T) {
		res, _ := do(t, h, httptest.NewRequest(http.MethodPost, "/dashboard/sign-out", nil))
		cs := res.Cookies()
		if res.StatusCode != http.StatusSeeOther || len(cs) != 1 || cs[0].Name != "liaison_dashboard" || cs[0].MaxAge >= 0 || cs[0].Value != "" {
			t.Errorf("sign-out = %d %v, want 303 and the cookie cleared", res.StatusCode, cs)
		}
	})
}

// dataOf fetches data.json at path with the token and decodes it.
func dataOf(t *testing.T, h http.Handler, path string) (code int, raw string, d map[string]any) {
	t.Helper()
	res, body := do(t, h, bearer(httptest.NewRequest(http.MethodGet, path, nil), dashToken))
	if res.StatusCode == http.StatusOK {
		if err := json.Unmarshal([]byte(body), &d); err != nil {
			t.Fatalf("data.json is not JSON: %v\n%s", err, body)
		}
	}
	return res.StatusCode, body, d
}

// at walks a decoded JSON value: at(d, "queue", "oldest", 0, "route").
func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// TestDashboardData: data.json carries the source's figures, overall and
// by route, for the period asked, cut in the browser's time zone.
func TestDashboardData(t *testing.T) {
	src := &fakeSource{}
	srv, _ := newDashboard(t, web.Options{Addr: "127.0.0.1:0"}, src, dashToken)
	h := srv.Handler()
	before := time.Now()
	code, raw, d := dataOf(t, h, "/dashboard/data.json?tz=Europe/Paris")
	if code != http.StatusOK {
		t.Fatalf("data.json = %d %s", code, raw)
	}
	paris, _ := time.LoadLocation("Europe/Paris")

	// The source was asked for the last 30 days, all routes then each.
	qs := src.asked()
	if len(qs) != 3 || qs[0].Route != "" || qs[1].Route != "product-feedback" || qs[2].Route != "support" {
		t.Fatalf("queries = %+v, want all routes, then product-feedback, then support", qs)
	}
	now := time.Now().In(paris)
	from := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, paris).AddDate(0, 0, -29)
	if !qs[0].From.Equal(from) || qs[0].To.Before(before) || qs[0].To.After(time.Now()) || qs[0].From.Location().String() != "Europe/Paris" {
		t.Errorf("period = [%s, %s), want [%s, now)", qs[0].From, qs[0].To, from)
	}
	if loc := src.locs[0]; loc.String() != "Europe/Paris" {
		t.Errorf("days cut in %s, want Europe/Paris", loc)
	}

	for _, tc := range []struct {
		path []any
		want any
	}{
		{[]any{"days"}, 30.0},
		{[]any{"time_zone"}, "Europe/Paris"},
		{[]any{"overall", "items_in"}, 42.0},
		{[]any{"overall", "answered"}, 35.0},
		{[]any{"overall", "answered_share"}, 35.0 / 42},
		{[]any{"overall", "first_answer", "median_seconds"}, 9000.0},
		{[]any{"overall", "first_answer", "p90_seconds"}, 72000.0},
		{[]any{"overall", "first_answer_business", "median_seconds"}, 3600.0},
		{[]any{"overall", "approval", "n"}, 12.0},
		{[]any{"overall", "within_sla"}, 30.0},
		{[]any{"overall", "past_sla"}, 5.0},
		{[]any{"overall", "sla_compliance"}, 30.0 / 35},
		{[]any{"overall", "members"}, 18.0},
		{[]any{"overall", "returning"}, 7.0},
		{[]any{"overall", "top_tags", 0, "name"}, "feedback"},
		{[]any{"previous", "items_in"}, 30.0},
		{[]any{"previous", "sla_compliance"}, nil}, // no item decided: no share, not 0%
		{[]any{"queue", "unanswered"}, 4.0},
		{[]any{"queue", "awaiting_approval"}, 2.0},
		{[]any{"queue", "past_sla"}, 1.0},
		{[]any{"queue", "oldest", 0, "item_id"}, 7.0},
		{[]any{"queue", "oldest", 0, "route"}, "support"},
		{[]any{"queue", "oldest", 0, "summary"}, hostileSummary},
		{[]any{"queue", "oldest", 0, "link"}, "https://discord.com/channels/1/2/3"},
		{[]any{"queue", "oldest", 0, "card_link"}, ""}, // a javascript: link is dropped
		{[]any{"responders", 0, "name"}, "Alice Martin"},
		{[]any{"responders", 1, "name"}, hostileName},
		{[]any{"responders", 1, "n"}, 15.0},
		{[]any{"first_answer_histogram", 0, "label"}, "< 1 h"},
		{[]any{"first_answer_histogram", 4, "label"}, "> 3 d"},
		{[]any{"routes", 0, "route"}, "product-feedback"},
		{[]any{"routes", 1, "route"}, "support"},
		{[]any{"routes", 1, "current", "items_in"}, 21.0},
		{[]any{"routes", 1, "current", "sla_compliance"}, 0.75},
		{[]any{"routes", 1, "queue", "unanswered"}, 2.0},
		{[]any{"routes", 1, "first_answer_histogram", 0, "n"}, 2.0},
		{[]any{"daily", 0, "date"}, from.Format(time.DateOnly)},
		{[]any{"daily", 29, "date"}, now.Format(time.DateOnly)},
		{[]any{"daily", 5, "in"}, 1.0 + 3},
		{[]any{"daily", 5, "first_answer_median_seconds"}, 7200.0},
		{[]any{"daily", 5, "routes", "product-feedback", "in"}, 1.0},
		{[]any{"daily", 5, "routes", "support", "in"}, 3.0},
		{[]any{"daily", 5, "routes", "support", "answered"}, 3.0},
	} {
		if got := at(d, tc.path...); got != tc.want {
			t.Errorf("%v = %#v, want %#v", tc.path, got, tc.want)
		}
	}
	var hist []float64
	for _, b := range at(d, "first_answer_histogram").([]any) {
		hist = append(hist, at(b, "n").(float64))
	}
	if !slices.Equal(hist, []float64{2, 2, 1, 1, 1}) {
		t.Errorf("histogram = %v, want [2 2 1 1 1] (<1h, 1–4h, 4–24h, 1–3d, >3d)", hist)
	}
	if n := len(at(d, "daily").([]any)); n != 30 {
		t.Errorf("%d days, want 30", n)
	}
	if w := at(d, "queue", "oldest", 0, "waiting_seconds").(float64); w < 50*3600-60 || w > 50*3600+60 {
		t.Errorf("waiting_seconds = %v, want 50h", w)
	}
	// Text from the database is data: the encoder escapes what could be
	// taken for markup.
	if strings.Contains(raw, "<img") || strings.Contains(raw, "<b>") {
		t.Errorf("data.json carries raw markup:\n%s", raw)
	}
}

func TestDashboardDataPeriods(t *testing.T) {
	src := &fakeSource{}
	srv, _ := newDashboard(t, web.Options{Addr: "127.0.0.1:0"}, src, dashToken)
	for _, tc := range []struct {
		query string
		code  int
		days  int
		zone  string
	}{
		{"", 200, 30, "UTC"},
		{"?days=7", 200, 7, "UTC"},
		{"?days=90&tz=America/New_York", 200, 90, "America/New_York"},
		{"?tz=Mars/Olympus_Mons", 200, 30, "UTC"},
		{"?tz=../../etc/passwd", 200, 30, "UTC"},
		{"?days=5", 400, 0, ""},
		{"?days=all", 400, 0, ""},
		{"?days=-7", 400, 0, ""},
	} {
		code, raw, d := dataOf(t, srv.Handler(), "/dashboard/data.json"+tc.query)
		if code != tc.code {
			t.Errorf("%s: %d %s, want %d", tc.query, code, raw, tc.code)
			continue
		}
		if code != 200 {
			if !strings.Contains(raw, "days must be 7, 30 or 90") {
				t.Errorf("%s: the refusal says %s", tc.query, raw)
			}
			continue
		}
		if got := at(d, "days"); got != float64(tc.days) || len(at(d, "daily").([]any)) != tc.days || at(d, "time_zone") != tc.zone {
			t.Errorf("%s: days %v, %d daily, zone %v; want %d, %s", tc.query, got, len(at(d, "daily").([]any)), at(d, "time_zone"), tc.days, tc.zone)
		}
	}
}

// TestDashboardSourceFails: the page says the figures could not be
// computed, and only the log says why (the error may name the database).
func TestDashboardSourceFails(t *testing.T) {
	src := &fakeSource{err: errors.New("dial tcp db.internal:5432: connection refused")}
	srv, logs := newDashboard(t, web.Options{Addr: "127.0.0.1:0"}, src, dashToken)
	code, raw, _ := dataOf(t, srv.Handler(), "/dashboard/data.json")
	if code != http.StatusInternalServerError || strings.Contains(raw, "db.internal") || !strings.Contains(raw, "could not be computed") {
		t.Errorf("data.json with a failing source = %d %s", code, raw)
	}
	if len(logs.lines("db.internal")) != 1 {
		t.Errorf("the log does not say why")
	}
}

// TestDashboardOwnAddress: with DashboardAddr, the dashboard is served
// there and only there.
func TestDashboardOwnAddress(t *testing.T) {
	srv, _ := newDashboard(t, web.Options{Addr: "127.0.0.1:0", DashboardAddr: "127.0.0.1:0"}, &fakeSource{}, dashToken)
	ln, dln := listen(t), listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ServeDashboardOn(ctx, ln, dln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	get := func(base, path, token string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "http://"+base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := get(dln.Addr().String(), "/dashboard/data.json", dashToken); code != http.StatusOK {
		t.Errorf("data.json on the dashboard's address = %d, want 200", code)
	}
	if code := get(dln.Addr().String(), "/dashboard", "wrong"); code != http.StatusUnauthorized {
		t.Errorf("a wrong token on the dashboard's address = %d, want 401", code)
	}
	for _, path := range []string{"/dashboard", "/dashboard/data.json"} {
		if code := get(ln.Addr().String(), path, dashToken); code != http.StatusNotFound {
			t.Errorf("%s on the main address = %d, want 404", path, code)
		}
	}
	if code := get(ln.Addr().String(), "/healthz", ""); code != http.StatusOK {
		t.Errorf("healthz on the main address = %d", code)
	}
	if code := get(dln.Addr().String(), "/metrics", ""); code != http.StatusNotFound {
		t.Errorf("/metrics on the dashboard's address = %d, want 404", code)
	}
}
