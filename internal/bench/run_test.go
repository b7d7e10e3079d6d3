package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// buildLiaison builds the liaison binary the bot runs from, once per test
// binary; LIAISON_BENCH_BIN names one already built.
func buildLiaison(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("LIAISON_BENCH_BIN"); bin != "" {
		return bin
	}
	bin := filepath.Join(t.TempDir(), "liaison")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/liaison-bot/liaison/cmd/liaison").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestRunSmoke runs every section at a tiny size, on SQLite, and checks
// that the figures make sense: every message visible once, posts made,
// times in order, memory and CPU read.
func TestRunSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds liaison and runs it for about twenty seconds")
	}
	bin := buildLiaison(t)
	var out, progress bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := Run(ctx, Options{
		Binary: bin,
		Sizes: &Sizes{
			Items: 3, FollowUps: 6, SpreadItems: 4, SpreadFollowUps: 8, Channels: 2,
			Samples: 5, BenchTime: 20 * time.Millisecond, Stall: 20 * time.Second, Concurrent: true,
		},
		Out: &out, Progress: &progress,
	})
	t.Logf("output:\n%s", out.String())
	if err != nil {
		t.Fatalf("Run: %v\nprogress:\n%s", err, progress.String())
	}

	if len(rep.Intake) != 1 {
		t.Fatalf("%d intake results, want 1 (SQLite)", len(rep.Intake))
	}
	in := rep.Intake[0]
	for name, v := range map[string]float64{"raw": in.RawOpsPerS, "raw concurrent": in.RawParallelOpsPerS, "intake": in.IntakeOpsPerS, "intake concurrent": in.IntakeParallelOpsPerS} {
		if v <= 0 {
			t.Errorf("intake: %s at %v ops/s, want > 0", name, v)
		}
	}
	if in.SerialRatio <= 0 || in.ConcurrentRatio <= 0 {
		t.Errorf("intake ratios %v and %v, want > 0", in.SerialRatio, in.ConcurrentRatio)
	}

	if len(rep.AddedLatency) != 1 {
		t.Fatalf("%d added-latency results, want 1", len(rep.AddedLatency))
	}
	lat := rep.AddedLatency[0]
	if lat.Samples != 5 || lat.P50MS <= 0 || lat.P99MS < lat.P50MS || lat.MaxMS < lat.P99MS || lat.MaxMS > 10_000 {
		t.Errorf("added latency %+v: want 5 samples, 0 < p50 ≤ p99 ≤ max < 10s", lat)
	}

	if len(rep.Bursts) != 4 {
		t.Fatalf("%d burst results, want 4 (liaison and the naive relay, in each burst)", len(rep.Bursts))
	}
	for _, b := range rep.Bursts {
		name := b.Scenario + ", " + b.runName()
		if !b.Complete || b.Lost != 0 || b.Duplicated != 0 || !b.NothingLostPass {
			t.Errorf("%s: complete %v, lost %d, duplicated %d; want every message visible once", name, b.Complete, b.Lost, b.Duplicated)
		}
		if b.Posts <= 0 || b.Calls < b.Posts {
			t.Errorf("%s: %d posts in %d calls; want posts > 0, calls ≥ posts", name, b.Posts, b.Calls)
		}
		if b.CardsVisibleS < 0 || b.AllVisibleS < b.CardsVisibleS {
			t.Errorf("%s: cards visible after %vs, all after %vs; want 0 ≤ cards ≤ all", name, b.CardsVisibleS, b.AllVisibleS)
		}
		if b.BoundS <= 0 || b.AllGoalS != b.BoundS+goalMargin.Seconds() {
			t.Errorf("%s: bound %vs, goal %vs; want bound > 0, goal = bound + 5s", name, b.BoundS, b.AllGoalS)
		}
		// The naive relay posts once per message.
		if b.Relay == "naive" && b.Posts != b.Messages {
			t.Errorf("%s: %d posts for %d messages, want one each", name, b.Posts, b.Messages)
		}
	}
	if rep.Bursts[1].Relay != "naive" || rep.Bursts[2].APILatencyMS != ms(spreadLatency) {
		t.Errorf("bursts: %s then %s with %vms API latency; want the naive relay second, the spread burst at %v", rep.Bursts[0].runName(), rep.Bursts[1].runName(), rep.Bursts[2].APILatencyMS, spreadLatency)
	}

	if len(rep.Process) != 2 {
		t.Fatalf("%d process results, want 2 (one per burst of liaison)", len(rep.Process))
	}
	for _, p := range rep.Process {
		if p.RSSIdleMB <= 1 || p.RSSPeakMB < p.RSSIdleMB || p.CPUMSPerMessage <= 0 {
			t.Errorf("process %s: idle %vMB, peak %vMB, %vms CPU per message; want idle > 1MB, peak ≥ idle, CPU > 0", p.Scenario, p.RSSIdleMB, p.RSSPeakMB, p.CPUMSPerMessage)
		}
	}

	for _, want := range []string{"1. Intake", "2. Added latency", "3. Burst, one channel", "4. Burst, 2 channels", "naive relay", "6. The bot process", "Postgres not run", "Goals met by liaison"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the output lacks %q", want)
		}
	}

	path := filepath.Join(t.TempDir(), "bench.json")
	if err := rep.WriteJSON(path); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("the JSON does not read back: %v", err)
	}
	for _, key := range []string{"parameters", "intake", "added_latency", "bursts", "process"} {
		if _, ok := doc[key]; !ok {
			t.Errorf("the JSON lacks %q", key)
		}
	}
	for _, key := range []string{`"all_visible_s"`, `"p99_ms"`, `"rss_peak_mb"`, `"intake_to_raw_concurrent_ratio"`, `"calls_429_pct"`} {
		if !bytes.Contains(raw, []byte(key)) {
			t.Errorf("the JSON lacks %s", key)
		}
	}
}
