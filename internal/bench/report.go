package bench

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is every figure of a run, with its parameters. Names carry
// their units.
type Report struct {
	Parameters   Parameters      `json:"parameters"`
	Intake       []IntakeResult  `json:"intake"`
	AddedLatency []LatencyResult `json:"added_latency"`
	Bursts       []BurstResult   `json:"bursts"`
	Process      []ProcessResult `json:"process"`
	Notes        []string        `json:"notes,omitempty"`
}

// Parameters say what was run, where and with which limits.
type Parameters struct {
	StartedAt   time.Time `json:"started_at"`
	Quick       bool      `json:"quick"`
	CustomSizes bool      `json:"custom_sizes"`
	Machine     string    `json:"machine"`
	GoVersion   string    `json:"go_version"`
	Engines     []string  `json:"engines"`
	PostgresRun bool      `json:"postgres_run"`

	SlackPostsPerSecondPerChannel float64 `json:"slack_posts_per_s_per_channel"`
	SlackBurst                    int     `json:"slack_burst_posts"`
	DiscordMessagesPerChannel     int     `json:"discord_messages_per_channel_window"`
	DiscordChannelWindowS         float64 `json:"discord_channel_window_s"`
	DiscordGlobalPerSecond        int     `json:"discord_global_requests_per_s"`

	LatencySamples   int               `json:"added_latency_samples"`
	IntakeBenchTimeS float64           `json:"intake_benchtime_s"`
	Bursts           []BurstParameters `json:"bursts"`
}

// BurstParameters describe one burst.
type BurstParameters struct {
	Scenario     string  `json:"scenario"`
	Channels     int     `json:"channels"`
	Items        int     `json:"items"`
	FollowUps    int     `json:"follow_ups"`
	APILatencyMS float64 `json:"api_latency_ms"`
}

// IntakeResult is the intake section on one engine.
type IntakeResult struct {
	Engine                string  `json:"engine"`
	RawOpsPerS            float64 `json:"raw_insert_ops_per_s"`
	IntakeOpsPerS         float64 `json:"intake_ops_per_s"`
	SerialRatio           float64 `json:"intake_to_raw_serial_ratio"`
	RawParallelOpsPerS    float64 `json:"raw_insert_concurrent_ops_per_s"`
	IntakeParallelOpsPerS float64 `json:"intake_concurrent_ops_per_s"`
	ConcurrentRatio       float64 `json:"intake_to_raw_concurrent_ratio"`
	ConcurrentRatioGoal   float64 `json:"intake_to_raw_concurrent_ratio_goal_min"`
	ConcurrentRatioPass   bool    `json:"intake_to_raw_concurrent_ratio_pass"`
	Error                 string  `json:"error,omitempty"`
}

// LatencyResult is the added-latency section on one engine.
type LatencyResult struct {
	Engine    string  `json:"engine"`
	Samples   int     `json:"samples"`
	P50MS     float64 `json:"p50_ms"`
	P99MS     float64 `json:"p99_ms"`
	MaxMS     float64 `json:"max_ms"`
	P99GoalMS float64 `json:"p99_goal_max_ms"`
	P99Pass   bool    `json:"p99_pass"`
	Error     string  `json:"error,omitempty"`
}

// BurstResult is one burst with one relay: the bot on an engine, or the
// naive relay.
type BurstResult struct {
	Scenario     string  `json:"scenario"`
	Relay        string  `json:"relay"`            // "liaison" or "naive"
	Engine       string  `json:"engine,omitempty"` // the bot's
	Channels     int     `json:"channels"`
	Items        int     `json:"items"`
	FollowUps    int     `json:"follow_ups"`
	Messages     int     `json:"messages"`
	APILatencyMS float64 `json:"api_latency_ms"`

	Complete bool `json:"complete"`
	// From the burst's start; -1 when some never became visible.
	CardsVisibleS    float64        `json:"cards_visible_s"`
	AllVisibleS      float64        `json:"all_visible_s"`
	CardWaitP50S     float64        `json:"card_wait_p50_s"`      // each card from its message's post
	FollowUpWaitP50S float64        `json:"follow_up_wait_p50_s"` // each follow-up from its post
	Posts            int            `json:"posts"`                // successful chat.postMessage calls
	Calls            int            `json:"calls"`                // every API call to either platform
	Calls429         int            `json:"calls_429"`
	Calls429Pct      float64        `json:"calls_429_pct"`
	Calls429By       map[string]int `json:"calls_429_by_method"` // Slack method or Discord route
	Lost             int            `json:"lost_messages"`
	Duplicated       int            `json:"duplicated_messages"`
	Astray           int            `json:"follow_ups_astray"` // shown outside their card's thread

	BoundPosts      int     `json:"bound_posts"` // in the busiest channel
	CardsBoundS     float64 `json:"cards_bound_s"`
	BoundS          float64 `json:"bound_s"`
	CardsGoalS      float64 `json:"cards_goal_max_s"`
	AllGoalS        float64 `json:"all_goal_max_s"`
	Calls429GoalPct float64 `json:"calls_429_goal_max_pct"`
	CardsPass       bool    `json:"cards_pass"`
	AllPass         bool    `json:"all_pass"`
	Calls429Pass    bool    `json:"calls_429_pass"`
	NothingLostPass bool    `json:"nothing_lost_or_duplicated_pass"`

	Process *ProcessResult `json:"-"`
	Error   string         `json:"error,omitempty"`
}

func (b BurstResult) runName() string {
	if b.Relay == "naive" {
		return "naive relay"
	}
	return "liaison on " + b.Engine
}

// ProcessResult is the bot process's memory and CPU over one burst.
type ProcessResult struct {
	Scenario        string  `json:"scenario"`
	Engine          string  `json:"engine"`
	RSSIdleMB       float64 `json:"rss_idle_mb"`
	RSSPeakMB       float64 `json:"rss_peak_mb"`
	CPUS            float64 `json:"cpu_s"`
	CPUMSPerMessage float64 `json:"cpu_ms_per_message"`
	RSSIdleGoalMB   float64 `json:"rss_idle_goal_max_mb"`
	RSSPeakGoalMB   float64 `json:"rss_peak_goal_max_mb"`
	RSSIdlePass     bool    `json:"rss_idle_pass"`
	RSSPeakPass     bool    `json:"rss_peak_pass"`
}

// WriteJSON writes the report to path.
func (r *Report) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// Printing: a section is a table whose columns are the runs and whose
// rows are the figures; a goal's row says PASS or FAIL per run.

func table(w io.Writer, title string, head []string, rows [][]string) {
	fmt.Fprintf(w, "\n%s\n", title)
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	fmt.Fprintf(tw, "  %s\t\n", strings.Join(head, "\t"))
	for _, row := range rows {
		fmt.Fprintf(tw, "  %s\t\n", strings.Join(row, "\t"))
	}
	tw.Flush()
}

func verdict(pass bool) string {
	if pass {
		return "PASS"
	}
	return "FAIL"
}

func fmtSeconds(s float64) string {
	if s < 0 {
		return "never"
	}
	return fmt.Sprintf("%.1f s", s)
}

// fmtCounts lists counts by name, most first: "chat.postMessage 3, chat.update 1".
func fmtCounts(m map[string]int) string {
	if len(m) == 0 {
		return "-"
	}
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(m[b]-m[a], strings.Compare(a, b)) })
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func fmtOps(v float64) string { return fmt.Sprintf("%.0f ops/s", v) }

func printParameters(w io.Writer, rep *Report) {
	p := rep.Parameters
	mode := "full"
	switch {
	case p.CustomSizes:
		mode = "sizes set by hand"
	case p.Quick:
		mode = "--quick"
	}
	fmt.Fprintf(w, "liaison bench (%s) on %s, %s, %s\n", mode, p.Machine, p.GoVersion, p.StartedAt.Format(time.RFC3339))
	fmt.Fprintf(w, "Limits on the fakes: Slack %g post/s per channel (burst %d), other methods by their tier; Discord %d messages per %gs per channel, %d requests/s global.\n",
		p.SlackPostsPerSecondPerChannel, p.SlackBurst, p.DiscordMessagesPerChannel, p.DiscordChannelWindowS, p.DiscordGlobalPerSecond)
	for _, n := range rep.Notes {
		fmt.Fprintln(w, n)
	}
}

func printIntake(w io.Writer, rs []IntakeResult, benchTime time.Duration) {
	head := []string{""}
	for _, r := range rs {
		head = append(head, r.Engine)
	}
	rows := [][]string{
		{"raw one-row INSERT, serial"}, {"intake, serial"}, {"intake ÷ raw, serial"},
		{"raw one-row INSERT, concurrent"}, {"intake, concurrent"}, {"intake ÷ raw, concurrent"},
		{fmt.Sprintf("  goal ≥ %.1f", goalIntakeRatio)},
	}
	for _, r := range rs {
		if r.Error != "" {
			for i := range rows {
				rows[i] = append(rows[i], "error")
			}
			continue
		}
		rows[0] = append(rows[0], fmtOps(r.RawOpsPerS))
		rows[1] = append(rows[1], fmtOps(r.IntakeOpsPerS))
		rows[2] = append(rows[2], fmt.Sprintf("%.2f", r.SerialRatio))
		rows[3] = append(rows[3], fmtOps(r.RawParallelOpsPerS))
		rows[4] = append(rows[4], fmtOps(r.IntakeParallelOpsPerS))
		rows[5] = append(rows[5], fmt.Sprintf("%.2f", r.ConcurrentRatio))
		rows[6] = append(rows[6], verdict(r.ConcurrentRatioPass))
	}
	table(w, fmt.Sprintf("1. Intake (storagebench, %v per benchmark, a fresh database each)", benchTime), head, rows)
}

func printLatency(w io.Writer, rs []LatencyResult) {
	head := []string{""}
	n := 0
	for _, r := range rs {
		head = append(head, r.Engine)
		n = r.Samples
	}
	rows := [][]string{{"p50"}, {"p99"}, {fmt.Sprintf("  goal ≤ %.0f ms", ms(goalP99))}, {"max"}}
	for _, r := range rs {
		if r.Error != "" {
			for i := range rows {
				rows[i] = append(rows[i], "error")
			}
			continue
		}
		rows[0] = append(rows[0], fmt.Sprintf("%.1f ms", r.P50MS))
		rows[1] = append(rows[1], fmt.Sprintf("%.1f ms", r.P99MS))
		rows[2] = append(rows[2], verdict(r.P99Pass))
		rows[3] = append(rows[3], fmt.Sprintf("%.1f ms", r.MaxMS))
	}
	table(w, fmt.Sprintf("2. Added latency: gateway dispatch → card request at Slack; %d messages one by one, no limits, no API latency", n), head, rows)
}

func printBurst(w io.Writer, sc scenario, rs []BurstResult) {
	if len(rs) == 0 {
		return
	}
	head := []string{""}
	for _, r := range rs {
		head = append(head, r.runName())
	}
	b := rs[0]
	rows := [][]string{
		{"every card visible"},
		{fmt.Sprintf("  goal ≤ %s (cards ÷ limit + 5 s)", fmtSeconds(b.CardsGoalS))},
		{"every message visible"},
		{fmt.Sprintf("  goal ≤ %s (bound + 5 s)", fmtSeconds(b.AllGoalS))},
		{"card wait, median"},
		{"follow-up wait, median"},
		{"posts made"},
		{"calls (both platforms)"},
		{"calls answered 429"},
		{"  by method"},
		{fmt.Sprintf("  goal < %.0f %%", goal429Share*100)},
		{"lost / duplicated"},
		{"  goal none"},
	}
	for _, r := range rs {
		if r.Error != "" && r.Calls == 0 {
			for i := range rows {
				rows[i] = append(rows[i], "error")
			}
			continue
		}
		rows[0] = append(rows[0], fmtSeconds(r.CardsVisibleS))
		rows[1] = append(rows[1], verdict(r.CardsPass))
		rows[2] = append(rows[2], fmtSeconds(r.AllVisibleS))
		rows[3] = append(rows[3], verdict(r.AllPass))
		rows[4] = append(rows[4], fmtSeconds(r.CardWaitP50S))
		rows[5] = append(rows[5], fmtSeconds(r.FollowUpWaitP50S))
		rows[6] = append(rows[6], fmt.Sprint(r.Posts))
		rows[7] = append(rows[7], fmt.Sprint(r.Calls))
		rows[8] = append(rows[8], fmt.Sprintf("%d (%.1f %%)", r.Calls429, r.Calls429Pct))
		rows[9] = append(rows[9], fmtCounts(r.Calls429By))
		rows[10] = append(rows[10], verdict(r.Calls429Pass))
		rows[11] = append(rows[11], fmt.Sprintf("%d / %d", r.Lost, r.Duplicated))
		rows[12] = append(rows[12], verdict(r.NothingLostPass))
	}
	n := "3"
	if sc.channels > 1 {
		n = "4"
	}
	title := fmt.Sprintf("%s. %s: %d messages (%d new items, then %d follow-ups) into %d watched channel(s), each routed to its own Slack channel; API latency %v.\n"+
		"   Bound %s: %s posts that cannot be avoided (a card per item, one thread post per item with follow-ups) in the busiest channel ÷ %g post/s.\n"+
		"   The naive relay (5.) posts once per message, one call at a time, and sleeps Retry-After on a 429.",
		n, sc.title, b.Messages, b.Items, b.FollowUps, sc.channels, sc.latency, fmtSeconds(b.BoundS),
		fmt.Sprint(b.BoundPosts), float64(slackPostsPerSecond))
	table(w, title, head, rows)
	var bot, naive *BurstResult
	for i := range rs {
		switch {
		case rs[i].Relay == "naive":
			naive = &rs[i]
		case bot == nil:
			bot = &rs[i]
		}
	}
	if bot != nil && naive != nil && bot.AllVisibleS > 0 && naive.AllVisibleS > 0 {
		fmt.Fprintf(w, "  liaison on %s made every message visible %.2f× as fast as the naive relay.\n", bot.Engine, naive.AllVisibleS/bot.AllVisibleS)
	}
}

func printProcess(w io.Writer, rs []ProcessResult) {
	if len(rs) == 0 {
		return
	}
	head := []string{""}
	for _, r := range rs {
		head = append(head, r.Scenario+", "+r.Engine)
	}
	rows := [][]string{
		{"RSS idle (ready, before the burst)"}, {fmt.Sprintf("  goal ≤ %.0f MB", mb(goalRSSIdle))},
		{"RSS peak (VmHWM at the burst's end)"}, {fmt.Sprintf("  goal ≤ %.0f MB", mb(goalRSSPeak))},
		{"CPU time over the burst"}, {"CPU time per message"},
	}
	for _, r := range rs {
		rows[0] = append(rows[0], fmt.Sprintf("%.1f MB", r.RSSIdleMB))
		rows[1] = append(rows[1], verdict(r.RSSIdlePass))
		rows[2] = append(rows[2], fmt.Sprintf("%.1f MB", r.RSSPeakMB))
		rows[3] = append(rows[3], verdict(r.RSSPeakPass))
		rows[4] = append(rows[4], fmt.Sprintf("%.2f s", r.CPUS))
		rows[5] = append(rows[5], fmt.Sprintf("%.2f ms", r.CPUMSPerMessage))
	}
	table(w, "6. The bot process (liaison run): memory and CPU", head, rows)
}

// printSummary counts the goals met by the bot.
func printSummary(w io.Writer, rep *Report) {
	met, all := 0, 0
	count := func(pass bool) {
		all++
		if pass {
			met++
		}
	}
	for _, r := range rep.Intake {
		count(r.Error == "" && r.ConcurrentRatioPass)
	}
	for _, r := range rep.AddedLatency {
		count(r.Error == "" && r.P99Pass)
	}
	for _, r := range rep.Bursts {
		if r.Relay != "liaison" {
			continue
		}
		ok := r.Error == ""
		if r.Scenario == "one_channel" {
			count(ok && r.CardsPass)
		}
		count(ok && r.AllPass)
		count(ok && r.Calls429Pass)
		count(ok && r.NothingLostPass)
	}
	for _, r := range rep.Process {
		count(r.RSSIdlePass)
		count(r.RSSPeakPass)
	}
	fmt.Fprintf(w, "\nGoals met by liaison: %d of %d.\n", met, all)
}
