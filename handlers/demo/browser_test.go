package demo

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/liaison-bot/liaison/internal/browsertest"
)

// TestBrowser drives the demo page in headless Chromium: Mia opens a forum
// post, Alice drafts a reply in the Reply publicly form, Bob approves it,
// and the reply appears in the public channel view under Alice's name. It
// leaves a screenshot in the test's artifact directory.
func TestBrowser(t *testing.T) {
	browsertest.Need(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	// No history: the story's card is the only one.
	base := startDemo(t, ctx, Options{noHistory: true})
	bctx := browsertest.New(t, ctx, 1600, 1100)

	const (
		title  = "Export dashboards to CSV?"
		ask    = "Hi @everyone! Is there a way to export my dashboards to CSV?"
		answer = "Thanks Mia! CSV export ships in the next release. Until then, Share, then Download data, gives you a CSV of each chart."
	)
	const reply = `#dbody .dmsg[data-webhook="true"]`
	// The story has its own deadline, so that a screenshot can still be
	// taken when it fails.
	sctx, scancel := context.WithTimeout(bctx, 45*time.Second)
	defer scancel()
	type step struct {
		what string
		do   chromedp.Action[chromedp.Void]
	}
	story := []step{
		{"load the page", chromedp.Navigate(base)},
		{"Mia opens a post in the feedback forum", chromedp.Steps(
			click(`button[data-person="mia"]`),
			click(`button[data-dtab="feedback"]`),
			chromedp.SendKeys(chromedp.CSS(`#new-post-title`), title),
			chromedp.SendKeys(chromedp.CSS(`#new-post-text`), ask),
			click(`#new-post-submit`),
			chromedp.WaitVisible(chromedp.CSS(`#dbody .post-head h2`)),
		)},
		{"Alice drafts a reply in the Reply publicly form", chromedp.Steps(
			click(`button[data-person="alice"]`),
			click(`#sbody button[data-action="liaison_reply"]`),
			chromedp.WaitVisible(chromedp.CSS(`#modal textarea`)),
			chromedp.SendKeys(chromedp.CSS(`#modal textarea`), answer),
			click(`#modal-submit`),
			chromedp.WaitNotPresent(chromedp.CSS(`#modal`)),
		)},
		{"Bob approves the draft", chromedp.Steps(
			click(`button[data-person="bob"]`),
			click(`#sbody button[data-action="liaison_approve"]`),
		)},
		{"the reply appears in Mia's post, and the card says who answered", chromedp.Steps(
			chromedp.WaitVisible(chromedp.CSS(reply)),
			chromedp.Poll[chromedp.Void](`document.querySelector("#sbody").textContent.includes("Answered publicly by")`),
		)},
	}
	var err error
	for _, st := range story {
		if err = chromedp.Do(sctx, st.do); err != nil {
			err = fmt.Errorf("%s: %w", st.what, err)
			break
		}
	}
	var author, text, pings string
	if err == nil {
		author, err = chromedp.Run(sctx, chromedp.Text(chromedp.CSS(reply+` .author`)))
	}
	if err == nil {
		text, err = chromedp.Run(sctx, chromedp.Text(chromedp.CSS(reply+` .text`)))
	}
	if err == nil {
		pings, err = chromedp.Run(sctx, chromedp.Text(chromedp.CSS(reply+` .pings`)))
	}
	browsertest.Screenshot(t, bctx, chromedp.CaptureScreenshot(), "demo.png")
	if err != nil {
		t.Fatalf("the story in the browser: %v", err)
	}
	if author != "Alice Martin · Acme" {
		t.Errorf("the public reply is signed %q, want %q", author, "Alice Martin · Acme")
	}
	if !strings.HasPrefix(text, "@Mia ") || !strings.Contains(text, "CSV export ships in the next release") {
		t.Errorf("the public reply reads %q, want a mention of Mia, then Alice's answer", text)
	}
	if !strings.Contains(pings, "notifies @Mia") || strings.Contains(pings, "everyone") {
		t.Errorf("the public reply %q, want it to notify only Mia", pings)
	}
}

// startDemo runs the demo with opts on a free port until the test ends
// and returns the page's URL.
func startDemo(t *testing.T, ctx context.Context, opts Options) string {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	urls := make(chan string, 1)
	done := make(chan error, 1)
	var logs bytes.Buffer // slog serialises the writes; read once Run returned
	opts.Addr, opts.Log, opts.Ready = "127.0.0.1:0", &logs, func(u string) { urls <- u }
	go func() {
		done <- Run(ctx, opts)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo.Run: %v", err)
		}
		if logs.Len() > 0 {
			t.Log("Liaison's warnings:\n" + logs.String())
		}
	})
	select {
	case u := <-urls:
		return u
	case err := <-done:
		done <- err
		t.Fatalf("the demo stopped before it was ready: %v", err)
	case <-ctx.Done():
		t.Fatal("the demo was not ready in time")
	}
	return ""
}

// click clicks the first element matching sel once it is there and
// enabled. The page redraws on every change, so the element is looked up
// and clicked in one step, in the page.
func click(sel string) chromedp.Action[chromedp.Void] {
	js := fmt.Sprintf(`(() => { const el = document.querySelector(%q); if (!el || el.disabled) return false; el.click(); return true; })()`, sel)
	return chromedp.Poll[chromedp.Void](js, chromedp.WithPollingInterval(50*time.Millisecond))
}
