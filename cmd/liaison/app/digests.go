package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/config"
	"github.com/liaison-bot/liaison/internal/chart"
)

// Digests fires the configured digests on their schedules. Every replica
// runs it: when a firing time passes, each asks the domain to schedule the
// period that ends then, and the store lets one of them (bot.ScheduleDigest).
// It reads the time from the service's clock, so that tests can move it.
type Digests struct {
	// Tick is how often the clock is read: a digest is scheduled within a
	// Tick of its firing time.
	Tick time.Duration

	svc   *bot.Service
	log   *slog.Logger
	plans []*digestPlan
}

type digestPlan struct {
	spec  bot.DigestSpec
	sched cron.Schedule
	next  time.Time // the next firing to schedule; zero until the first look
}

// CatchUp bounds how late a firing that no replica saw (all were stopped)
// is still posted, once one starts: within a day, or within the period
// when it is shorter. A weekly digest missed on Monday morning is posted
// when Liaison starts that day, not on Thursday.
const CatchUp = 24 * time.Hour

// newDigests plans the digests of cfg, and has the worker draw their
// charts.
func newDigests(cfg *config.Config, svc *bot.Service, log *slog.Logger) (*Digests, error) {
	svc.Charts = chart.PNG
	d := &Digests{Tick: 15 * time.Second, svc: svc, log: log}
	for i, c := range cfg.Digests {
		sched, loc, err := c.Plan()
		if err != nil {
			return nil, fmt.Errorf("digests[%d] %s: %w", i, c.Name, err)
		}
		d.plans = append(d.plans, &digestPlan{sched: sched, spec: bot.DigestSpec{
			Name: c.Name, Conn: c.Destination.Connection, Channel: c.Destination.Channel,
			Routes: c.Routes, Location: loc,
		}})
	}
	return d, nil
}

// Run schedules the digests' firings until ctx ends: at once the latest
// firing missed while no replica ran, if recent enough (see CatchUp),
// then each firing as its time passes.
func (d *Digests) Run(ctx context.Context) error {
	if len(d.plans) == 0 {
		return nil
	}
	t := time.NewTicker(d.Tick)
	defer t.Stop()
	for {
		d.fire(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// fire schedules, for each digest whose next firing has passed, the
// period ending at its latest firing. A failure is tried again at the
// next tick.
func (d *Digests) fire(ctx context.Context) {
	now := d.svc.Clock()
	for _, p := range d.plans {
		if !p.next.IsZero() && now.Before(p.next) {
			continue
		}
		loc := p.spec.Location
		last := previousFiring(p.sched, now.Add(time.Nanosecond), loc) // at or before now
		start := previousFiring(p.sched, last, loc)
		if last.IsZero() || start.IsZero() {
			p.next = p.sched.Next(now.In(loc)).UTC()
			continue
		}
		if late := now.Sub(last); late >= min(CatchUp, last.Sub(start)) {
			if p.next.IsZero() {
				d.log.Info("digest not caught up: its last firing is too long ago", "digest", p.spec.Name, "fired", last, "late", late.Round(time.Second).String())
			} else {
				d.log.Warn("digest firing missed: the clock jumped past it", "digest", p.spec.Name, "fired", last, "late", late.Round(time.Second).String())
			}
			p.next = p.sched.Next(now.In(loc)).UTC()
			continue
		}
		ok, err := d.svc.ScheduleDigest(ctx, p.spec, start, last)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Error("digest", "digest", p.spec.Name, "period_end", last, "err", err)
			}
			continue
		}
		if ok {
			d.log.Info("digest period scheduled", "digest", p.spec.Name, "from", start, "to", last)
		} else {
			d.log.Info("digest period already scheduled", "digest", p.spec.Name, "from", start, "to", last)
		}
		p.next = p.sched.Next(now.In(loc)).UTC()
	}
}

// maxLookBack bounds how far back previousFiring looks: further than any
// five-field schedule's longest gap (29 February, eight years apart
// around 2100).
const maxLookBack = 9 * 366 * 24 * time.Hour

// previousFiring returns the latest firing of s strictly before t, in
// UTC, computed in loc; zero when s fired in none of the years before t.
// cron has no Prev: it looks back from t over a window it doubles until
// one firing falls in it, then walks forward to the last one before t.
func previousFiring(s cron.Schedule, t time.Time, loc *time.Location) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	t = t.In(loc)
	for back := time.Minute; back <= maxLookBack; back *= 2 {
		f := s.Next(t.Add(-back))
		if f.IsZero() || !f.Before(t) {
			continue
		}
		for {
			n := s.Next(f)
			if n.IsZero() || !n.Before(t) {
				return f.UTC()
			}
			f = n
		}
	}
	return time.Time{}
}
