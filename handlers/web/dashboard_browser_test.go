package web_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/liaison-bot/liaison/handlers/web"
	"github.com/liaison-bot/liaison/internal/browsertest"
)

// console collects what the page writes to the console until the test
// ends: a CSP violation or a script error shows up there.
func console(t *testing.T, bctx context.Context) func() []string {
	t.Helper()
	if err := chromedp.Do(bctx); err != nil { // start the browser, so the subscription sees the page from its start
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(bctx)
	var (
		mu   sync.Mutex
		msgs []string
		done = make(chan struct{})
	)
	seq := chromedp.Console(ctx)
	go func() {
		defer close(done)
		for m, err := range seq {
			if err != nil {
				return
			}
			mu.Lock()
			msgs = append(msgs, fmt.Sprintf("%s %s: %s (%s)", m.Type, m.Source, m.Text, m.URL))
			mu.Unlock()
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), msgs...)
	}
}

// TestDashboardBrowser signs in to the dashboard in headless Chromium with
// the sign-in form, waits for the four charts to be drawn from the
// figures, and checks the figures on the page against the source's, text
// from the database shown as text. The page must run with its Content
// Security Policy without a single violation or script error. It leaves a
// screenshot in the test's artifact directory (docs/dashboard.png is one).
func TestDashboardBrowser(t *testing.T) {
	browsertest.Need(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv, _ := newDashboard(t, web.Options{Addr: "127.0.0.1:0"}, &fakeSource{}, dashToken)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)

	bctx := browsertest.New(t, ctx, 1400, 1000)
	messages := console(t, bctx)
	sctx, scancel := context.WithTimeout(bctx, 30*time.Second)
	defer scancel()

	charts := `['chart-days', 'chart-first-answer', 'chart-sla', 'chart-responders']`
	drawn := `(() => {
		if (typeof Chart === 'undefined') return false;
		return ` + charts + `.every((id) => {
			const c = Chart.getChart(id);
			if (!c || !c.data.datasets.some((d) => d.data.some((v) => v > 0))) return false;
			const cv = document.getElementById(id);
			if (cv.width === 0 || cv.height === 0) return false;
			const px = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
			return px.some((v) => v !== 0);
		});
	})()`
	err := chromedp.Do(sctx,
		chromedp.Navigate(ts.URL+"/dashboard"),
		chromedp.WaitVisible(chromedp.CSS(`#token`)),
		chromedp.SendKeys(chromedp.CSS(`#token`), dashToken),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#dashboard[data-loaded]`)),
		chromedp.Poll[chromedp.Void](drawn, chromedp.WithPollingInterval(50*time.Millisecond)),
	)
	browsertest.Screenshot(t, bctx, chromedp.FullScreenshot(100), "dashboard.png")
	if err != nil {
		t.Fatalf("sign in and wait for the charts: %v\nconsole: %q", err, messages())
	}

	// What a manager reads, against the fake source's figures.
	for sel, want := range map[string]string{
		"#q-unanswered":       "4",
		"#q-approval":         "2",
		"#q-past-sla":         "1",
		"#p-items":            "42",
		"#p-items-prev":       "previous 30 days: 30",
		"#p-answered":         "35",
		"#p-answered-share":   "83% of items in",
		"#p-first-answer":     "2 h 30 min",
		"#p-first-answer-p90": "90% within 20 h",
		"#p-sla":              "86%",
		"#p-sla-counts":       "30 in time, 5 late",
		"#p-approval":         "40 min",
		"#p-members":          "18",
		"#oldest td.summary":  hostileSummary,
		"#routes tr:nth-child(2) td:nth-child(1)": "support",
		"#routes tr:nth-child(2) td:nth-child(2)": "21",
		"#routes tr:nth-child(2) td:nth-child(6)": "75%",
	} {
		got, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Errorf("%s: %v", sel, err)
		} else if strings.TrimSpace(got) != want {
			t.Errorf("%s shows %q, want %q", sel, got, want)
		}
	}

	// The charts hold the figures: days by route, the distribution, the
	// responders (a name with markup in it drawn as text).
	got, err := chromedp.Run(sctx, chromedp.Evaluate[chartState](`(() => {
		const days = Chart.getChart('chart-days').data;
		return {
			dayLabels: days.datasets.map((d) => d.label),
			support: days.datasets.find((d) => d.label === 'support').data,
			histogram: Chart.getChart('chart-first-answer').data.datasets[0].data,
			responders: Chart.getChart('chart-responders').data.labels,
			sla: Chart.getChart('chart-sla').data.datasets[0].data,
			links: [...document.querySelectorAll('#oldest a')].map((a) => a.getAttribute('href')),
			images: document.querySelectorAll('main img, main b').length,
			cookie: document.cookie,
			url: location.href,
		};
	})()`))
	if err != nil {
		t.Fatalf("read the charts: %v", err)
	}
	if strings.Join(got.DayLabels, ",") != "product-feedback,support,answered" {
		t.Errorf("the days chart has the datasets %q, want product-feedback, support, answered", got.DayLabels)
	}
	if len(got.Support) != 30 || got.Support[0] != 1 || got.Support[1] != 2 || got.Support[2] != 3 {
		t.Errorf("support per day = %v, want 30 days of 1, 2, 3, …", got.Support)
	}
	if fmt.Sprint(got.Histogram) != "[2 2 1 1 1]" {
		t.Errorf("time to first answer = %v, want [2 2 1 1 1]", got.Histogram)
	}
	if strings.Join(got.Responders, "|") != "Alice Martin|"+hostileName {
		t.Errorf("responders = %q", got.Responders)
	}
	if fmt.Sprint(got.SLA) != "[86 75 75]" {
		t.Errorf("SLA compliance = %v, want all routes 86, each route 75", got.SLA)
	}
	if strings.Join(got.Links, ",") != "https://discord.com/channels/1/2/3" {
		t.Errorf("links of the oldest item = %q, want only its public message (the javascript: card link dropped)", got.Links)
	}
	if got.Images != 0 {
		t.Errorf("markup from the database became %d elements", got.Images)
	}
	if got.Cookie != "" {
		t.Errorf("the page's script can read the cookie %q; it must be HttpOnly", got.Cookie)
	}
	if got.URL != ts.URL+"/dashboard" {
		t.Errorf("after sign-in the address is %q, want %s/dashboard", got.URL, ts.URL)
	}
	// The sign-in form is served with 401, and says so.
	signInForm := "status of 401 (Unauthorized) (" + ts.URL + "/dashboard)"
	for _, m := range messages() {
		if strings.HasSuffix(m, signInForm) {
			continue
		}
		if strings.HasPrefix(m, "error") || strings.HasPrefix(m, "exception") || strings.Contains(m, "Content Security Policy") {
			t.Errorf("console: %s", m)
		}
	}
}

// chartState is what the browser test reads of the page.
type chartState struct {
	DayLabels  []string  `json:"dayLabels"`
	Support    []float64 `json:"support"`
	Histogram  []float64 `json:"histogram"`
	Responders []string  `json:"responders"`
	SLA        []float64 `json:"sla"`
	Links      []string  `json:"links"`
	Images     int       `json:"images"`
	Cookie     string    `json:"cookie"`
	URL        string    `json:"url"`
}
