package demo

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/liaison-bot/liaison/internal/browsertest"
)

// expected are the dashboard's figures of the demo's history, worked out
// from the history itself: what the page must show after it was played
// through the fakes, the adapters, the domain and the store.
type expected struct {
	items, answered, unanswered, awaiting, pastSLANow int
	within, late                                      int
	histogram                                         [5]int // < 1 h, 1–4 h, 4–24 h, 1–3 d, > 3 d
	responders                                        map[string]int
}

func historyFigures() expected {
	e := expected{responders: map[string]int{}}
	names := map[string]string{aliceID: "Alice Martin", danaID: "Dana Lee"}
	for _, it := range history {
		e.items++
		sla := 24 * time.Hour // support
		if it.forum {
			sla = 48 * time.Hour // product-feedback
		}
		if it.drafter == "" || it.approveAfter == 0 {
			e.unanswered++
			if it.drafter != "" {
				e.awaiting++
			}
			if it.ago > sla {
				e.pastSLANow++
				e.late++
			}
			continue
		}
		e.answered++
		e.responders[names[it.drafter]]++
		wait := it.draftAfter + it.approveAfter
		if wait <= sla {
			e.within++
		} else {
			e.late++
		}
		switch {
		case wait < time.Hour:
			e.histogram[0]++
		case wait < 4*time.Hour:
			e.histogram[1]++
		case wait < 24*time.Hour:
			e.histogram[2]++
		case wait < 72*time.Hour:
			e.histogram[3]++
		default:
			e.histogram[4]++
		}
	}
	return e
}

// TestBrowserDashboard opens the managers' dashboard from the demo page's
// link, after the demo played its history, in headless Chromium: the
// charts are drawn, and what the page shows is what the history made. It
// leaves a screenshot in the test's artifact directory (docs/dashboard.png
// is one).
func TestBrowserDashboard(t *testing.T) {
	browsertest.Need(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	base := startDemo(t, ctx, Options{})
	bctx := browsertest.New(t, ctx, 1400, 1000)
	sctx, scancel := context.WithTimeout(bctx, 45*time.Second)
	defer scancel()

	drawn := `(() => {
		if (typeof Chart === 'undefined') return false;
		return ['chart-days', 'chart-first-answer', 'chart-sla', 'chart-responders'].every((id) => {
			const c = Chart.getChart(id);
			if (!c || !c.data.datasets.some((d) => d.data.some((v) => v > 0))) return false;
			const cv = document.getElementById(id);
			const px = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
			return px.some((v) => v !== 0);
		});
	})()`
	err := chromedp.Do(sctx,
		chromedp.Navigate(base),
		chromedp.WaitVisible(chromedp.CSS(`a.dashboard-link`)),
		// The link opens a tab; the test follows it in this one.
		chromedp.Navigate(base+"/open-dashboard"),
		chromedp.WaitVisible(chromedp.CSS(`#dashboard[data-loaded]`)),
		chromedp.Poll[chromedp.Void](drawn, chromedp.WithPollingInterval(50*time.Millisecond)),
	)
	browsertest.Screenshot(t, bctx, chromedp.FullScreenshot(100), "dashboard.png")
	if err != nil {
		t.Fatalf("open the dashboard and wait for the charts: %v", err)
	}

	want := historyFigures()
	if want.items != 19 || want.answered != 15 || want.within+want.late == 0 {
		t.Fatalf("the history is not the one this test knows: %+v", want)
	}
	compliance := fmt.Sprintf("%d%%", int(math.Round(100*float64(want.within)/float64(want.within+want.late))))
	for sel, text := range map[string]string{
		"#q-unanswered": fmt.Sprint(want.unanswered),
		"#q-approval":   fmt.Sprint(want.awaiting),
		"#q-past-sla":   fmt.Sprint(want.pastSLANow),
		"#p-items":      fmt.Sprint(want.items),
		"#p-answered":   fmt.Sprint(want.answered),
		"#p-sla":        compliance,
		"#p-sla-counts": fmt.Sprintf("%d in time, %d late", want.within, want.late),
		"#p-members":    "4",
		"#p-approval-n": fmt.Sprintf("%d drafts approved", want.answered),
		"#oldest tr:nth-child(1) td:nth-child(2)": "support",
		"#oldest tr:nth-child(1) td:nth-child(3)": "Our invoice shows the wrong VAT number.",
	} {
		got, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Errorf("%s: %v", sel, err)
		} else if strings.TrimSpace(got) != text {
			t.Errorf("%s shows %q, want %q", sel, got, text)
		}
	}
	type charts struct {
		Histogram  []int    `json:"histogram"`
		Responders []string `json:"responders"`
		Replies    []int    `json:"replies"`
		In         int      `json:"in"`
		Answered   int      `json:"answered"`
		URL        string   `json:"url"`
	}
	got, err := chromedp.Run(sctx, chromedp.Evaluate[charts](`(() => {
		const days = Chart.getChart('chart-days').data.datasets;
		const sum = (ds) => ds.reduce((n, d) => n + d.data.reduce((m, v) => m + v, 0), 0);
		const resp = Chart.getChart('chart-responders').data;
		return {
			histogram: Chart.getChart('chart-first-answer').data.datasets[0].data,
			responders: resp.labels,
			replies: resp.datasets[0].data,
			in: sum(days.filter((d) => d.stack === 'in')),
			answered: sum(days.filter((d) => d.label === 'answered')),
			url: location.href,
		};
	})()`))
	if err != nil {
		t.Fatalf("read the charts: %v", err)
	}
	if fmt.Sprint(got.Histogram) != fmt.Sprint(want.histogram[:]) {
		t.Errorf("time to first answer = %v, want %v", got.Histogram, want.histogram)
	}
	if got.In != want.items || got.Answered != want.answered {
		t.Errorf("the days chart counts %d items in and %d answered, want %d and %d", got.In, got.Answered, want.items, want.answered)
	}
	if len(got.Responders) != 2 || got.Replies[0] != want.responders[got.Responders[0]] || got.Replies[1] != want.responders[got.Responders[1]] {
		t.Errorf("responders %q with %v replies, want %v", got.Responders, got.Replies, want.responders)
	}
	if got.URL != base+"/dashboard" {
		t.Errorf("the dashboard's address is %q, want %s/dashboard (the token out of it)", got.URL, base)
	}
}
