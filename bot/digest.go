package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// A digest posts, on a schedule, a period's figures and a chart in an
// internal channel. Whoever runs the schedule (every replica does) calls
// ScheduleDigest when a firing time passes; the period's row in the store
// is unique, so that the period is posted once however many replicas, or
// restarts, fire it. The post_digest job computes the figures when it runs,
// outside any transaction of the worker's (Stats reads in one of its own).

// DigestSpec is a digest as the configuration declares it.
type DigestSpec struct {
	Name    string
	Conn    string // where it is posted: an internal connection
	Channel string
	// Routes are the routes whose figures it gives, each on its own; none
	// means every route together.
	Routes   []string
	Location *time.Location // days are cut in it; UTC when nil
}

// DigestRun is one period of a digest, recorded once.
type DigestRun struct {
	ID          int64
	Name        string
	PeriodStart time.Time
	PeriodEnd   time.Time
	JobID       int64 // the post_digest job; 0 until it is enqueued
	CreatedAt   time.Time
}

// DigestPost is a digest as it is posted.
type DigestPost struct {
	Title string // unique per digest and period
	Text  string // the figures, plain text the adapters escape
	// Chart is a PNG image, nil when there is none; ChartName is its file
	// name, unique per digest and period, and ChartAlt describes it for
	// those who cannot see it.
	Chart     []byte
	ChartName string
	ChartAlt  string
}

// DigestKey is the key of a digest's period: one job, and one post, per key.
func DigestKey(name string, end time.Time) string {
	return fmt.Sprintf("liaison-digest-%s-%d", name, end.Unix())
}

// digestPayload is what a post_digest job carries.
type digestPayload struct {
	Name   string    `json:"name"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Routes []string  `json:"routes,omitempty"`
	TZ     string    `json:"tz"`
}

// ScheduleDigest records the period [start, end) of d and enqueues its
// post, in one transaction. It reports false, writing nothing, when that
// period of d is recorded already: another replica, or this one before a
// restart, scheduled it.
func (s *Service) ScheduleDigest(ctx context.Context, d DigestSpec, start, end time.Time) (bool, error) {
	switch {
	case d.Name == "" || d.Conn == "" || d.Channel == "":
		return false, Errorf(EINVALID, "A digest needs a name and a destination.")
	case !end.After(start):
		return false, Errorf(EINVALID, "A digest's period must end after it starts.")
	}
	loc := d.Location
	if loc == nil {
		loc = time.UTC
	}
	start, end = start.UTC().Truncate(time.Microsecond), end.UTC().Truncate(time.Microsecond)
	var fresh bool
	err := s.inTx(ctx, func(tx Tx) error {
		run := &DigestRun{Name: d.Name, PeriodStart: start, PeriodEnd: end, CreatedAt: s.Clock()}
		ok, err := tx.InsertDigest(ctx, run)
		if err != nil || !ok {
			return err
		}
		j := &OutboxJob{
			Kind: OpPostDigest, Conn: d.Conn, Channel: d.Channel,
			OrderKey: "digest:" + d.Name, IdemKey: DigestKey(d.Name, end),
			Payload: jsonOf(digestPayload{Name: d.Name, From: start, To: end, Routes: d.Routes, TZ: loc.String()}),
		}
		if err := s.enqueue(ctx, tx, j); err != nil {
			return err
		}
		if j.ID == 0 {
			return nil // its job exists, its record was lost: posted already
		}
		if err := tx.SetDigestJob(ctx, run.ID, j.ID); err != nil {
			return err
		}
		fresh = true
		return s.audit(ctx, tx, "system", "digest.schedule", subject("digest", run.ID), nil,
			map[string]any{"name": d.Name, "from": start, "to": end, "job": j.ID})
	})
	if err != nil {
		return false, fmt.Errorf("schedule digest %s ending %s: %w", d.Name, end.Format(time.RFC3339), err)
	}
	return fresh, nil
}

// renderDigest computes the figures of a post_digest job and fills in op.
// It reads in transactions of its own: the worker calls it outside its
// rendering transaction.
func (s *Service) renderDigest(ctx context.Context, j *OutboxJob, op *Op) error {
	var p digestPayload
	if err := json.Unmarshal([]byte(j.Payload), &p); err != nil {
		return Permanent(fmt.Errorf("job %d payload: %w", j.ID, err))
	}
	loc, err := time.LoadLocation(p.TZ)
	if err != nil || p.Name == "" || !p.To.After(p.From) {
		return Permanent(fmt.Errorf("job %d: not a digest's period (%q, %s – %s, %q)", j.ID, p.Name, p.From, p.To, p.TZ))
	}
	op.Key, op.After = DigestKey(p.Name, p.To), j.CreatedAt
	scopes := p.Routes
	if len(scopes) == 0 {
		scopes = []string{""}
	}
	var reports []*StatsReport
	for _, route := range scopes {
		r, err := s.Stats(ctx, StatsQuery{From: p.From, To: p.To, Route: route}, loc)
		if err != nil {
			return err
		}
		reports = append(reports, r)
	}
	op.Digest = s.digestPost(p, loc, reports)
	return nil
}

// digestPost words a digest: its title, the figures of each report, and
// a chart of them all.
func (s *Service) digestPost(p digestPayload, loc *time.Location, reports []*StatsReport) *DigestPost {
	period := digestPeriod(p.From, p.To, loc)
	d := &DigestPost{Title: fmt.Sprintf("📊 Digest %s · %s", p.Name, period)}
	var parts []string
	for _, r := range reports {
		parts = append(parts, strings.TrimSpace(FormatStats(r))) // each names its route
	}
	d.Text = strings.Join(parts, "\n\n")
	if s.Charts == nil {
		return d
	}
	all := mergeReports(reports)
	chart, err := s.Charts(all)
	if err != nil {
		// The figures are worth posting without their chart.
		s.Log.Error("digest chart", "digest", p.Name, "err", err)
		return d
	}
	end := p.To.In(loc)
	stamp := end.Format("2006-01-02")
	if p.To.Sub(p.From) < 24*time.Hour {
		stamp += end.Format("-1504") // several periods end that day
	}
	d.Chart, d.ChartName = chart, fmt.Sprintf("liaison-%s-%s.png", p.Name, stamp)
	d.ChartAlt = fmt.Sprintf("Chart of the digest %s, %s: items in and answered each day, and the median time to a first public answer.", p.Name, period)
	if in, answered := all.Current.ItemsIn, all.Current.Answered; in > 0 {
		d.ChartAlt += fmt.Sprintf(" %d items in, %d answered.", in, answered)
	}
	return d
}

// digestPeriod says which period a digest covers, in its time zone: days
// when it runs from midnight to midnight, else days and times.
func digestPeriod(from, to time.Time, loc *time.Location) string {
	from, to = from.In(loc), to.In(loc)
	zone := ""
	if loc != time.UTC {
		zone = " (" + loc.String() + ")"
	}
	midnight := func(t time.Time) bool { return t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 }
	if midnight(from) && midnight(to) {
		last := to.AddDate(0, 0, -1)
		if last.Equal(from) || last.Before(from) {
			return from.Format("Mon 2 Jan 2006") + zone
		}
		return from.Format("Mon 2 Jan") + " – " + last.Format("Mon 2 Jan 2006") + zone
	}
	return from.Format("Mon 2 Jan 15:04") + " – " + to.Format("Mon 2 Jan 2006 15:04") + zone
}

// mergeReports adds up the reports of several routes for one chart: the
// items in and answered of each day add up; a day's time to first answer
// is the routes' medians weighted by how many items each answered (the
// text gives each route's exact median).
func mergeReports(reports []*StatsReport) *StatsReport {
	if len(reports) == 1 {
		return reports[0]
	}
	first := reports[0]
	cur := &Stats{Query: StatsQuery{From: first.Current.Query.From, To: first.Current.Query.To}}
	cur.Days = slices.Clone(first.Current.Days)
	weights := make([]float64, len(cur.Days))
	for i := range cur.Days {
		cur.Days[i] = Day{Date: cur.Days[i].Date}
	}
	for _, r := range reports {
		cur.ItemsIn += r.Current.ItemsIn
		cur.Answered += r.Current.Answered
		for i, d := range r.Current.Days {
			if i >= len(cur.Days) || !d.Date.Equal(cur.Days[i].Date) {
				continue // same period, same days: cannot happen
			}
			cur.Days[i].In += d.In
			cur.Days[i].Answered += d.Answered
			if d.FirstAnswer > 0 && d.Answered > 0 {
				w := float64(d.Answered)
				total := weights[i] + w
				cur.Days[i].FirstAnswer = time.Duration((float64(cur.Days[i].FirstAnswer)*weights[i] + float64(d.FirstAnswer)*w) / total)
				weights[i] = total
			}
		}
	}
	return &StatsReport{Current: cur, Location: first.Location}
}

// DigestRuns lists up to limit recorded periods of a digest, latest first.
func (s *Service) DigestRuns(ctx context.Context, name string, limit int) ([]*DigestRun, error) {
	var runs []*DigestRun
	err := s.Store.View(ctx, func(tx Tx) (err error) {
		runs, err = tx.DigestRuns(ctx, name, limit)
		return err
	})
	return runs, err
}
