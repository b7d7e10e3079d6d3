// Package bench measures Liaison as a community sees it under a burst:
// the real bot (a `liaison run` process) between a fake public Discord
// guild and a fake internal Slack workspace that enforce the platforms'
// posting limits, with a configurable API latency, next to a naive relay
// that posts one message per event. It also measures intake throughput
// against the raw one-row INSERT, the latency the bot adds to a message
// when nothing is rate limited, and the bot's memory and CPU.
//
// Run drives it all and returns a Report; `liaison bench` prints it.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"
)

// Options of a run.
type Options struct {
	// Binary is the liaison executable the bot runs from.
	Binary string
	// Quick runs a smaller version of every section, in under a minute.
	Quick bool
	// Latency is the API latency of the bursts; nil means none for the
	// one-channel burst and 150 ms for the ten-channel one.
	Latency *time.Duration
	// Postgres is a Postgres URL: every run on it gets a schema of its own,
	// dropped afterwards. Empty runs SQLite only.
	Postgres string
	// Sizes, when set, replace the sizes Quick chooses.
	Sizes *Sizes
	// Keep keeps the bots' logs and databases even when all went well.
	Keep bool
	// Out receives the tables, Progress what is being done.
	Out, Progress io.Writer
}

// Sizes are the sizes of a run.
type Sizes struct {
	Items, FollowUps             int           // the one-channel burst
	SpreadItems, SpreadFollowUps int           // the ten-channel burst
	Channels                     int           // channels of the spread burst
	Samples                      int           // added-latency samples
	BenchTime                    time.Duration // per intake benchmark
	// Stall ends a burst when nothing new became visible for so long.
	Stall time.Duration
	// Concurrent runs the two bursts at the same time, not one after
	// the other.
	Concurrent bool
}

// With returns s with the sizes o sets (those not zero).
func (s Sizes) With(o Sizes) Sizes {
	set := func(dst *int, v int) {
		if v > 0 {
			*dst = v
		}
	}
	set(&s.Items, o.Items)
	set(&s.FollowUps, o.FollowUps)
	set(&s.SpreadItems, o.SpreadItems)
	set(&s.SpreadFollowUps, o.SpreadFollowUps)
	set(&s.Channels, o.Channels)
	set(&s.Samples, o.Samples)
	if o.BenchTime > 0 {
		s.BenchTime = o.BenchTime
	}
	if o.Stall > 0 {
		s.Stall = o.Stall
	}
	return s
}

// FullSizes are the sizes of the figures.
func FullSizes() Sizes {
	return Sizes{
		Items: 200, FollowUps: 800, SpreadItems: 200, SpreadFollowUps: 800, Channels: 10,
		Samples: 200, BenchTime: 2 * time.Second, Stall: 90 * time.Second,
	}
}

// QuickSizes finish in under a minute.
func QuickSizes() Sizes {
	return Sizes{
		Items: 6, FollowUps: 24, SpreadItems: 20, SpreadFollowUps: 80, Channels: 10,
		Samples: 30, BenchTime: 200 * time.Millisecond, Stall: 20 * time.Second,
		Concurrent: true,
	}
}

// spreadLatency is the API latency of the ten-channel burst by default.
const spreadLatency = 150 * time.Millisecond

// readyLimit bounds a bot's start: migrate, connect both platforms.
const readyLimit = time.Minute

// Run runs every section and returns the report, printed to opts.Out as it
// goes. The error reports a run that could not be carried out, or a
// message lost or duplicated; the report holds every figure measured.
func Run(ctx context.Context, opts Options) (*Report, error) {
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	sizes := FullSizes()
	if opts.Quick {
		sizes = QuickSizes()
	}
	if opts.Sizes != nil {
		sizes = *opts.Sizes
	}
	one, spread := time.Duration(0), spreadLatency
	if opts.Latency != nil {
		one, spread = *opts.Latency, *opts.Latency
	}
	engines := []string{"sqlite"}
	if opts.Postgres != "" {
		engines = append(engines, "postgres")
	}
	host, _ := os.Hostname()
	rep := &Report{Parameters: Parameters{
		StartedAt: time.Now().UTC().Truncate(time.Second), Quick: opts.Quick, CustomSizes: opts.Sizes != nil,
		Machine: fmt.Sprintf("%s, %d CPUs, %s/%s", host, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH), GoVersion: runtime.Version(),
		Engines: engines, PostgresRun: opts.Postgres != "",
		SlackPostsPerSecondPerChannel: slackPostsPerSecond, SlackBurst: slackPostBurst,
		DiscordMessagesPerChannel: discordChannelN, DiscordChannelWindowS: discordChannelPer.Seconds(),
		DiscordGlobalPerSecond: discordGlobalN,
		LatencySamples:         sizes.Samples, IntakeBenchTimeS: sizes.BenchTime.Seconds(),
	}}
	if opts.Postgres == "" {
		rep.Notes = append(rep.Notes, "Postgres not run: give --postgres URL or set DATABASE_URL")
	}
	r := &runner{opts: opts, sizes: sizes, rep: rep, keep: opts.Keep}
	work, err := os.MkdirTemp("", "liaison-bench-")
	if err != nil {
		return rep, err
	}
	r.work = work
	var errs []error
	defer func() {
		if r.keep || len(errs) > 0 {
			fmt.Fprintf(opts.Progress, "bench: logs and databases kept in %s\n", work)
			return
		}
		os.RemoveAll(work)
	}()

	fail := func(err error) {
		if err != nil {
			errs = append(errs, err)
			r.keep = true
		}
	}
	printParameters(opts.Out, rep)

	// The quiet sections first, one thing at a time.
	for _, engine := range engines {
		res, err := r.intake(ctx, engine)
		fail(err)
		rep.Intake = append(rep.Intake, res)
	}
	printIntake(opts.Out, rep.Intake, sizes.BenchTime)
	for _, engine := range engines {
		res, err := r.latency(ctx, engine)
		fail(err)
		rep.AddedLatency = append(rep.AddedLatency, res)
	}
	printLatency(opts.Out, rep.AddedLatency)

	scenarios := []scenario{
		{key: "one_channel", title: "Burst, one channel", channels: 1, items: sizes.Items, followUps: sizes.FollowUps, latency: one},
		{key: "ten_channels", title: fmt.Sprintf("Burst, %d channels", sizes.Channels), channels: sizes.Channels,
			items: sizes.SpreadItems, followUps: sizes.SpreadFollowUps, latency: spread},
	}
	for _, sc := range scenarios {
		rep.Parameters.Bursts = append(rep.Parameters.Bursts, BurstParameters{
			Scenario: sc.key, Channels: sc.channels, Items: sc.items, FollowUps: sc.followUps, APILatencyMS: ms(sc.latency),
		})
	}
	// In each burst the bot on every engine and the naive relay run at
	// once, each on fakes of its own: the platforms' limits, not the
	// machine, set their pace.
	results := make([][]BurstResult, len(scenarios))
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, sc := range scenarios {
		runs := append(slices.Clone(engines), "")
		results[i] = make([]BurstResult, len(runs))
		for j, engine := range runs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := r.burst(ctx, sc, engine)
				mu.Lock()
				fail(err)
				mu.Unlock()
				results[i][j] = res
			}()
		}
		if !sizes.Concurrent {
			wg.Wait()
			printBurst(opts.Out, sc, results[i])
		}
	}
	wg.Wait()
	if sizes.Concurrent {
		for i, sc := range scenarios {
			printBurst(opts.Out, sc, results[i])
		}
	}
	for _, rs := range results {
		rep.Bursts = append(rep.Bursts, rs...)
	}
	for _, b := range rep.Bursts {
		if b.Process != nil {
			rep.Process = append(rep.Process, *b.Process)
		}
		if b.Lost > 0 || b.Duplicated > 0 {
			errs = append(errs, fmt.Errorf("%s, %s: %d message(s) lost, %d duplicated", b.Scenario, b.runName(), b.Lost, b.Duplicated))
		}
	}
	printProcess(opts.Out, rep.Process)
	printSummary(opts.Out, rep)
	return rep, errors.Join(errs...)
}

// runner carries a run's options to its sections.
type runner struct {
	opts  Options
	sizes Sizes
	rep   *Report
	work  string // a directory per run under it: config, database, log
	keep  bool   // keep work: something failed

	mu   sync.Mutex
	dirs int
}

func (r *runner) progress(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.opts.Progress, "bench: "+format+"\n", args...)
}

// dir makes a new directory under the run's work directory.
func (r *runner) dir(name string) (string, error) {
	r.mu.Lock()
	r.dirs++
	n := r.dirs
	r.mu.Unlock()
	d := fmt.Sprintf("%s/%02d-%s", r.work, n, name)
	return d, os.MkdirAll(d, 0o700)
}
