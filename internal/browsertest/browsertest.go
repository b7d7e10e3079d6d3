// Package browsertest drives a headless Chromium for the tests that check
// pages in a real browser (the demo, the dashboard).
package browsertest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is Debian's chromium package; .ci/run installs it.
const ChromiumPath = "/usr/bin/chromium"

// Need skips the test without Chromium, except in CI, where it must be
// there.
func Need(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the browser test needs Chromium at %s (apt-get install -y chromium): %v", ChromiumPath, err)
		}
		t.Skipf("no Chromium at %s (apt-get install -y chromium); skipping the browser test", ChromiumPath)
	}
}

// New starts a headless Chromium with a window of width×height for the
// test, until it ends, and returns its context.
func New(t *testing.T, ctx context.Context, width, height int) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(ChromiumPath),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	}
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	return bctx
}

// Screenshot takes a screenshot with shoot and leaves it in the test's
// artifact directory as name; it reports whether it could.
func Screenshot(t *testing.T, bctx context.Context, shoot chromedp.Action[[]byte], name string) bool {
	t.Helper()
	shot, err := chromedp.Run(bctx, shoot)
	if err != nil {
		t.Errorf("screenshot: %v", err)
		return false
	}
	path := filepath.Join(t.ArtifactDir(), name)
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Errorf("save the screenshot: %v", err)
		return false
	}
	t.Logf("screenshot: %s", path)
	return true
}
