package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/liaison-bot/liaison/internal/pause"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// scenario is one burst.
type scenario struct {
	key       string
	title     string
	channels  int
	items     int
	followUps int
	latency   time.Duration
}

// intake runs the intake benchmarks on engine.
func (r *runner) intake(ctx context.Context, engine string) (IntakeResult, error) {
	res := IntakeResult{Engine: engine}
	r.progress("intake on %s: 4 benchmarks of %v", engine, r.sizes.BenchTime)
	var open opener
	if engine == "postgres" {
		open = postgresOpener(r.opts.Postgres)
	} else {
		dir, err := r.dir("intake-sqlite")
		if err != nil {
			return res, err
		}
		open = sqliteOpener(dir)
	}
	ops, err := runIntake(ctx, open, r.sizes.BenchTime)
	if err != nil {
		res.Error = err.Error()
		return res, fmt.Errorf("intake on %s: %w", engine, err)
	}
	res.RawOpsPerS = ops["raw"]
	res.RawParallelOpsPerS = ops["raw_parallel"]
	res.IntakeOpsPerS = ops["intake"]
	res.IntakeParallelOpsPerS = ops["intake_parallel"]
	res.SerialRatio = ratio(res.IntakeOpsPerS, res.RawOpsPerS)
	res.ConcurrentRatio = ratio(res.IntakeParallelOpsPerS, res.RawParallelOpsPerS)
	res.ConcurrentRatioGoal = goalIntakeRatio
	res.ConcurrentRatioPass = res.ConcurrentRatio >= goalIntakeRatio
	return res, nil
}

// latency measures the latency the bot adds on engine, with no limit and
// no API latency.
func (r *runner) latency(ctx context.Context, engine string) (LatencyResult, error) {
	res := LatencyResult{Engine: engine, Samples: r.sizes.Samples, P99GoalMS: ms(goalP99)}
	fail := func(err error) (LatencyResult, error) {
		res.Error = err.Error()
		return res, fmt.Errorf("added latency on %s: %w", engine, err)
	}
	r.progress("added latency on %s: %d messages one by one", engine, r.sizes.Samples)
	w, err := newWorld(latencyChannels, false, 0)
	if err != nil {
		return fail(err)
	}
	defer w.Close()
	p, cleanup, err := r.startBot(ctx, w, engine, "latency-"+engine)
	if err != nil {
		return fail(err)
	}
	defer cleanup()
	lat, err := measureLatency(ctx, w, r.sizes.Samples, latencySpacing/latencyChannels)
	if serr := p.stop(); err == nil && serr != nil {
		err = serr
	}
	if err != nil {
		return fail(err)
	}
	res.P50MS = ms(percentile(lat, 50))
	res.P99MS = ms(percentile(lat, 99))
	res.MaxMS = ms(percentile(lat, 100))
	res.P99Pass = percentile(lat, 99) <= goalP99
	return res, nil
}

// The added-latency messages go to latencyChannels channels in turn, each
// at most once per latencySpacing: the bot paces its posts to Slack's
// documented limit (about one per second per channel) whatever the fake
// enforces, and a message that waits for its slot measures the pacing,
// not the bot.
const (
	latencyChannels = 20
	latencySpacing  = 2 * time.Second
)

// startBot starts a bot for world w on engine, waits until it is ready
// and connected to both fakes, and returns it with what undoes the start
// (kill it if still running, drop its Postgres schema).
func (r *runner) startBot(ctx context.Context, w *world, engine, name string) (*botProcess, func(), error) {
	dir, err := r.dir(name)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := w.config(filepath.Join(dir, "liaison.db"))
	if err != nil {
		return nil, nil, err
	}
	cfgPath := filepath.Join(dir, "liaison.yaml")
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		return nil, nil, err
	}
	var dsn string
	drop := func() error { return nil }
	if engine == "postgres" {
		if dsn, drop, err = storagetest.NewSchema(ctx, r.opts.Postgres, schemaPrefix); err != nil {
			return nil, nil, err
		}
	}
	p, err := startBot(r.opts.Binary, dir, cfgPath, dsn)
	if err != nil {
		_ = drop()
		return nil, nil, err
	}
	cleanup := func() {
		select {
		case <-p.exited:
		default:
			p.kill()
		}
		if err := drop(); err != nil {
			r.progress("%s: %v", name, err)
		}
	}
	if err := p.waitReady(ctx, readyLimit); err != nil {
		cleanup()
		return nil, nil, err
	}
	if err := connected(ctx, w, true); err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("%w (see %s)", err, p.log.Name())
	}
	if err := caughtUp(ctx, p, w); err != nil {
		cleanup()
		return nil, nil, err
	}
	return p, cleanup, nil
}

// caughtUp waits until the bot has read every watched channel back at its
// start (its log says "backfill" for each): live messages wait for that
// catch-up, which a burst must not measure.
func caughtUp(ctx context.Context, p *botProcess, w *world) error {
	deadline := time.Now().Add(readyLimit)
	for {
		log, err := os.ReadFile(p.log.Name())
		if err != nil {
			return err
		}
		left := 0
		for i := range w.channels {
			if !bytes.Contains(log, []byte("msg=backfill conn=community channel="+discordChannel(i)+" ")) {
				left++
			}
		}
		if left == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the bot had not read back %d watched channel(s) after %v (see %s)", left, readyLimit, p.log.Name())
		}
		if !pause.For(ctx, 50*time.Millisecond) {
			return ctx.Err()
		}
	}
}

// connected waits until a client holds the Discord gateway and, when
// socket is set, a Slack Socket Mode connection.
func connected(ctx context.Context, w *world, socket bool) error {
	deadline := time.Now().Add(30 * time.Second)
	for w.discord.Gateway().Sessions == 0 || (socket && w.slack.Connections() == 0) {
		if time.Now().After(deadline) {
			return fmt.Errorf("not connected to the fakes after 30s (Discord gateway sessions %d, Slack sockets %d)",
				w.discord.Gateway().Sessions, w.slack.Connections())
		}
		if !pause.For(ctx, 50*time.Millisecond) {
			return ctx.Err()
		}
	}
	return nil
}

// burst runs one burst with the bot on engine, or with the naive relay
// when engine is "".
func (r *runner) burst(ctx context.Context, sc scenario, engine string) (BurstResult, error) {
	pl := newPlan(sc.channels, sc.items, sc.followUps)
	b := bounds{}
	if len(pl.items) > 0 {
		b = burstBounds(pl.loads(), slackPostLimit())
	}
	res := BurstResult{
		Scenario: sc.key, Relay: "liaison", Engine: engine, Channels: sc.channels, Items: sc.items, FollowUps: sc.followUps,
		Messages: pl.messages(), APILatencyMS: ms(sc.latency),
		BoundPosts: b.posts, CardsBoundS: b.cards.Seconds(), BoundS: b.all.Seconds(),
		CardsGoalS: (b.cards + goalMargin).Seconds(), AllGoalS: (b.all + goalMargin).Seconds(), Calls429GoalPct: goal429Share * 100,
	}
	if engine == "" {
		res.Relay = "naive"
	}
	name := fmt.Sprintf("%s, %s", sc.key, res.runName())
	fail := func(err error) (BurstResult, error) {
		res.Error = err.Error()
		return res, fmt.Errorf("%s: %w", name, err)
	}
	w, err := newWorld(sc.channels, true, sc.latency)
	if err != nil {
		return fail(err)
	}
	defer w.Close()

	var p *botProcess
	var idleRSS int64
	var cpu0 time.Duration
	if engine != "" {
		var cleanup func()
		if p, cleanup, err = r.startBot(ctx, w, engine, sc.key+"-"+engine); err != nil {
			return fail(err)
		}
		defer cleanup()
		// Idle: started, connected, nothing to do yet.
		if !pause.For(ctx, 2*time.Second) {
			return fail(ctx.Err())
		}
		if idleRSS, _, err = p.memory(); err != nil {
			return fail(err)
		}
		if cpu0, err = p.cpu(); err != nil {
			return fail(err)
		}
	} else {
		relay, stop, err := startNaive(ctx, w)
		if err != nil {
			return fail(err)
		}
		defer func() {
			stop()
			if n := relay.failures(); n > 0 {
				r.progress("%s: the naive relay gave up on %d event(s)", name, n)
			}
		}()
		if err := connected(ctx, w, false); err != nil {
			return fail(err)
		}
	}

	r.progress("%s: posting %d messages", name, pl.messages())
	start, err := pl.post(w)
	if err != nil {
		return fail(err)
	}
	// Twice what one post per message would take, to end a run that
	// keeps making progress too slowly to finish.
	limit := 2*slackPostLimit().duration(pl.busiest()) + time.Duration(pl.messages())*3*sc.latency + 2*time.Minute
	done, err := pl.await(ctx, w.slack, start, r.sizes.Stall, limit, func(v int) {
		r.progress("%s: %d of %d visible after %v", name, v, pl.messages(), time.Since(start).Round(time.Second))
	})
	if err != nil {
		return fail(err)
	}
	if p != nil {
		cpu1, err := p.cpu()
		if err != nil {
			return fail(err)
		}
		_, peak, err := p.memory()
		if err != nil {
			return fail(err)
		}
		res.Process = &ProcessResult{
			Scenario: sc.key, Engine: engine,
			RSSIdleMB: mb(idleRSS), RSSPeakMB: mb(peak),
			CPUS: (cpu1 - cpu0).Seconds(), CPUMSPerMessage: ms(cpu1-cpu0) / float64(pl.messages()),
			RSSIdleGoalMB: mb(goalRSSIdle), RSSPeakGoalMB: mb(goalRSSPeak),
			RSSIdlePass: idleRSS <= goalRSSIdle, RSSPeakPass: peak <= goalRSSPeak,
		}
	}
	if done.IsZero() {
		r.progress("%s: gave up waiting after %v", name, time.Since(start).Round(time.Second))
	} else {
		// Time for a late duplicate to show.
		pause.For(ctx, time.Second)
	}
	fg := pl.figures(pl.take(w.slack), w.slack.Calls(), w.discord.Calls(), start)
	res.Complete = fg.complete
	res.CardsVisibleS, res.AllVisibleS = seconds(fg.cardsVisible), seconds(fg.allVisible)
	res.CardWaitP50S, res.FollowUpWaitP50S = fg.cardWaitP50.Seconds(), fg.noteWaitP50.Seconds()
	res.Posts, res.Calls, res.Calls429, res.Calls429By = fg.posts, fg.calls, fg.calls429, fg.by429
	res.Calls429Pct = share(fg.calls429, fg.calls) * 100
	res.Lost, res.Duplicated, res.Astray = fg.lost, fg.duplicated, fg.astray
	res.CardsPass = within(fg.cardsVisible, b.cards)
	res.AllPass = within(fg.allVisible, b.all)
	res.Calls429Pass = share(fg.calls429, fg.calls) < goal429Share
	res.NothingLostPass = fg.lost == 0 && fg.duplicated == 0
	if p != nil {
		if err := p.stop(); err != nil {
			return fail(err)
		}
	}
	if fg.complete {
		r.progress("%s: done, every message visible after %s", name, fmtSeconds(res.AllVisibleS))
	} else {
		r.progress("%s: done, %d of %d messages never visible", name, fg.lost, pl.messages())
	}
	return res, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func mb(bytes int64) float64 { return float64(bytes) / (1 << 20) }

// seconds is d in seconds, -1 when d is -1 (never).
func seconds(d time.Duration) float64 {
	if d < 0 {
		return -1
	}
	return d.Seconds()
}
