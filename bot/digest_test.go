package bot_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/bot/mock"
	"github.com/liaison-bot/liaison/storage"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

const leadsCh = "C0LEADS"

// The week the digests here cover, Monday 9:00 to Monday 9:00 UTC, and
// when they run.
var (
	digestFrom = time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)
	digestTo   = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	digestNow  = digestTo.Add(30 * time.Second)
)

// seedDigest writes the week's items: in it, product's A (answered in
// 2h), B (1h) and E (waiting) and support's C (30m) and D (waiting); P
// the week before, F just after. All: 5 in, 3 answered; product 3 and 2,
// support 2 and 1.
func seedDigest(t *testing.T, db *storage.DB) {
	t.Helper()
	ctx := context.Background()
	hour := func(day, h, m int) time.Time { return time.Date(2026, 11, day, h, m, 0, 0, time.UTC) }
	for _, s := range []struct {
		name, route string
		created     time.Time
		answered    time.Duration // 0: waiting
	}{
		{"A", "product", hour(16, 10, 0), 2 * time.Hour},
		{"B", "product", hour(18, 15, 0), time.Hour},
		{"C", "support", hour(18, 9, 30), 30 * time.Minute},
		{"D", "support", hour(20, 11, 0), 0},
		{"E", "product", hour(22, 23, 0), 0},
		{"P", "product", hour(12, 8, 0), time.Hour},
		{"F", "product", digestTo, 0},
	} {
		it := &bot.Item{Conn: publicConn, Channel: helpChan, ThreadID: "m" + s.name, RootMsgID: "m" + s.name,
			Link: "https://discord.test/m/" + s.name, AuthorID: "member-" + s.name, AuthorName: "Member " + s.name,
			Route: s.route, Status: bot.ItemNew, CardConn: staffConn, CardChannel: productCh, CreatedAt: s.created, UpdatedAt: s.created}
		if s.answered > 0 {
			at := s.created.Add(s.answered)
			it.Status, it.FirstAnsweredAt = bot.ItemAnswered, &at
		}
		if err := db.InTx(ctx, func(tx bot.Tx) error { return tx.CreateItem(ctx, it) }); err != nil {
			t.Fatalf("seed item %s: %v", s.name, err)
		}
	}
}

// digestPlatform is an internal connection that keeps the digests posted
// in it, and can lose the answer to a post that went out.
type digestPlatform struct {
	*mock.Platform
	mu    sync.Mutex
	posts []bot.Op
	sends int
	finds int
	lose  int // the next posts go out, but their answers are lost
}

func newDigestPlatform() *digestPlatform {
	return &digestPlatform{Platform: mock.New(bot.KindSlack, true)}
}

func (p *digestPlatform) Send(ctx context.Context, op *bot.Op) (bot.Result, error) {
	if op.Kind != bot.OpPostDigest {
		return p.Platform.Send(ctx, op)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sends++
	if op.Digest == nil {
		return bot.Result{}, bot.Permanent(errors.New("no digest"))
	}
	p.posts = append(p.posts, *op)
	id := fmt.Sprintf("d%d", len(p.posts))
	if p.lose > 0 {
		p.lose--
		return bot.Result{}, errors.New("connection reset by peer")
	}
	return bot.Result{MessageID: id}, nil
}

func (p *digestPlatform) Find(ctx context.Context, op *bot.Op) (bot.Result, bool, error) {
	if op.Kind != bot.OpPostDigest {
		return p.Platform.Find(ctx, op)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finds++
	for i, posted := range p.posts {
		if posted.Key == op.Key {
			return bot.Result{MessageID: fmt.Sprintf("d%d", i+1)}, true, nil
		}
	}
	return bot.Result{}, false, nil
}

func (p *digestPlatform) digests() []bot.Op {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.posts)
}

// digestEnv is Liaison with an internal connection for digests, at
// digestNow.
type digestEnv struct {
	t      *testing.T
	ctx    context.Context
	db     *storage.DB
	svc    *bot.Service
	staff  *digestPlatform
	clock  *mock.Clock
	worker *bot.Worker
	charts []*bot.StatsReport
}

func newDigestEnv(t *testing.T, db *storage.DB) *digestEnv {
	t.Helper()
	e := &digestEnv{t: t, ctx: context.Background(), db: db, staff: newDigestPlatform(), clock: mock.NewClock(digestNow)}
	e.svc = digestService(db, e.staff, e.clock)
	e.svc.Charts = func(r *bot.StatsReport) ([]byte, error) {
		e.charts = append(e.charts, r)
		return []byte("\x89PNG chart of " + r.Current.Query.To.Format(time.RFC3339)), nil
	}
	e.worker = e.svc.NewWorker("digest-worker")
	e.worker.Jitter = func() float64 { return 0 }
	return e
}

// digestService is a replica of Liaison on db, posting in staff.
func digestService(db bot.Store, staff bot.Platform, clock *mock.Clock) *bot.Service {
	routes := []bot.Route{
		{Name: "product", Keywords: []string{"pricing"}, DestConn: staffConn, DestChannel: productCh, Policy: bot.Policy{SLA: 4 * time.Hour}},
		{Name: "support", Default: true, DestConn: staffConn, DestChannel: supportCh},
	}
	svc := bot.NewService(db, map[string]bot.Platform{staffConn: staff}, bot.NewRouter(nil, routes), bot.Settings{Company: "Acme"})
	svc.Clock = clock.Now
	return svc
}

func weekly(routes ...string) bot.DigestSpec {
	return bot.DigestSpec{Name: "weekly", Conn: staffConn, Channel: leadsCh, Routes: routes, Location: time.UTC}
}

func (e *digestEnv) schedule(d bot.DigestSpec, from, to time.Time) bool {
	e.t.Helper()
	ok, err := e.svc.ScheduleDigest(e.ctx, d, from, to)
	if err != nil {
		e.t.Fatalf("schedule digest: %v", err)
	}
	return ok
}

func (e *digestEnv) drain(w *bot.Worker) {
	e.t.Helper()
	for range 20 {
		n, err := w.RunOnce(e.ctx)
		if err != nil {
			e.t.Fatalf("worker: %v", err)
		}
		if n == 0 {
			return
		}
	}
	e.t.Fatal("outbox never drained")
}

// report is what Stats says of a period now, as the digest should.
func (e *digestEnv) report(route string, loc *time.Location) *bot.StatsReport {
	e.t.Helper()
	r, err := e.svc.Stats(e.ctx, bot.StatsQuery{From: digestFrom, To: digestTo, Route: route}, loc)
	if err != nil {
		e.t.Fatalf("stats: %v", err)
	}
	return r
}

func (e *digestEnv) job(name string) *bot.OutboxJob {
	e.t.Helper()
	runs, err := e.svc.DigestRuns(e.ctx, name, 1)
	if err != nil || len(runs) == 0 {
		e.t.Fatalf("digest %s runs: %v, %v", name, runs, err)
	}
	var j *bot.OutboxJob
	if err := e.db.View(e.ctx, func(tx bot.Tx) (err error) {
		j, err = tx.Job(e.ctx, runs[0].JobID)
		return err
	}); err != nil {
		e.t.Fatalf("job of digest %s: %v", name, err)
	}
	return j
}

// TestDigestFigures: a week's digest posts, once, the figures Stats gives
// of that week, word for word as /liaison stats says them, with a chart
// of its days.
func TestDigestFigures(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newDigestEnv(t, db)
		seedDigest(t, db)
		if !e.schedule(weekly(), digestFrom, digestTo) {
			t.Fatal("the first firing scheduled nothing")
		}
		if e.schedule(weekly(), digestFrom, digestTo) {
			t.Fatal("the same period was scheduled twice")
		}
		e.drain(e.worker)

		posts := e.staff.digests()
		if len(posts) != 1 {
			t.Fatalf("%d digests posted, want 1", len(posts))
		}
		op := posts[0]
		if op.Conn != staffConn || op.Channel != leadsCh || op.Key != bot.DigestKey("weekly", digestTo) {
			t.Errorf("digest posted on %s/%s with key %q", op.Conn, op.Channel, op.Key)
		}
		d := op.Digest
		if want := bot.FormatStats(e.report("", time.UTC)); d.Text != want {
			t.Errorf("digest text:\n%s\nwant what /liaison stats says:\n%s", d.Text, want)
		}
		for _, want := range []string{"Last 7 days", "all routes", "• Items in: 5 (+4 vs previous 7 days)", "• Answered: 3, 60%", "Waiting now: 3 unanswered"} {
			if !strings.Contains(d.Text, want) {
				t.Errorf("digest text lacks %q:\n%s", want, d.Text)
			}
		}
		if d.Title != "📊 Digest weekly · Mon 16 Nov 09:00 – Mon 23 Nov 2026 09:00" {
			t.Errorf("title = %q", d.Title)
		}

		// The chart is drawn from the same figures, one bar pair a day.
		if len(e.charts) != 1 {
			t.Fatalf("%d charts drawn, want 1", len(e.charts))
		}
		var in, answered []int
		for _, day := range e.charts[0].Current.Days {
			in, answered = append(in, day.In), append(answered, day.Answered)
		}
		// The week touches eight days, from Monday to Monday.
		if want := []int{1, 0, 2, 0, 1, 0, 1, 0}; !slices.Equal(in, want) {
			t.Errorf("items in per day = %v, want %v", in, want)
		}
		if want := []int{1, 0, 2, 0, 0, 0, 0, 0}; !slices.Equal(answered, want) {
			t.Errorf("answered per day = %v, want %v", answered, want)
		}
		if string(d.Chart) != "\x89PNG chart of 2026-11-23T09:00:00Z" || d.ChartName != "liaison-weekly-2026-11-23.png" {
			t.Errorf("chart %q named %q", d.Chart, d.ChartName)
		}
		if !strings.Contains(d.ChartAlt, "5 items in, 3 answered") {
			t.Errorf("chart description = %q", d.ChartAlt)
		}
		if j := e.job("weekly"); j.State != bot.JobDone || j.IdemKey != bot.DigestKey("weekly", digestTo) {
			t.Errorf("digest job = %+v, want done under the period's key", j)
		}
	})
}

// TestDigestPerRoute: a digest of named routes gives each route's figures
// in turn, days cut in its time zone, and one chart adding them up.
func TestDigestPerRoute(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newDigestEnv(t, db)
		seedDigest(t, db)
		paris, err := time.LoadLocation("Europe/Paris")
		if err != nil {
			t.Fatal(err)
		}
		d := weekly("product", "support")
		d.Location = paris
		e.schedule(d, digestFrom, digestTo)
		e.drain(e.worker)

		posts := e.staff.digests()
		if len(posts) != 1 {
			t.Fatalf("%d digests posted, want 1", len(posts))
		}
		text := posts[0].Digest.Text
		want := bot.FormatStats(e.report("product", paris)) + "\n\n" + bot.FormatStats(e.report("support", paris))
		if text != want {
			t.Errorf("digest text:\n%s\nwant each route's figures:\n%s", text, want)
		}
		for _, want := range []string{"route product\n• Items in: 3 (", "• Answered: 2, 67%", "route support\n• Items in: 2 (", "• Answered: 1, 50%"} {
			if !strings.Contains(text, want) {
				t.Errorf("digest text lacks %q:\n%s", want, text)
			}
		}
		if title := posts[0].Digest.Title; !strings.HasSuffix(title, "(Europe/Paris)") {
			t.Errorf("title %q does not say the time zone", title)
		}
		if len(e.charts) != 1 {
			t.Fatalf("%d charts drawn, want one for both routes", len(e.charts))
		}
		c := e.charts[0]
		if c.Current.ItemsIn != 5 || c.Current.Answered != 3 || c.Location.String() != "Europe/Paris" {
			t.Errorf("chart of %d items in, %d answered, in %v; want both routes' 5 and 3, in Paris", c.Current.ItemsIn, c.Current.Answered, c.Location)
		}
		var in []int
		for _, day := range c.Current.Days {
			in = append(in, day.In)
		}
		// E, 23:00 UTC on the 22nd, is on the 23rd in Paris.
		if want := []int{1, 0, 2, 0, 1, 0, 0, 1}; !slices.Equal(in, want) {
			t.Errorf("items in per Paris day = %v, want %v", in, want)
		}
		// On the 18th product answered B in 1h, support C in 30m.
		if got := c.Current.Days[2].FirstAnswer; got != 45*time.Minute {
			t.Errorf("time to first answer on the 18th = %s, want 45m, the routes' medians weighted by answers", got)
		}
	})
}

// TestDigestOnceAcrossReplicas: replicas on one database firing the same
// period at once schedule it once and post it once; a replica that starts
// afterwards and catches up on that firing posts nothing.
func TestDigestOnceAcrossReplicas(t *testing.T) {
	for _, engine := range storagetest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			dsn := storagetest.DSN(t, engine)
			var dbs []*storage.DB
			for range 2 {
				db, err := storage.Open(ctx, dsn)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				if err := db.Migrate(ctx); err != nil {
					t.Fatal(err)
				}
				dbs = append(dbs, db)
			}
			seedDigest(t, dbs[0])
			staff := newDigestPlatform()
			clock := mock.NewClock(digestNow)
			var replicas []*bot.Service
			for _, db := range dbs {
				replicas = append(replicas, digestService(db, staff, clock))
			}

			var (
				wg        sync.WaitGroup
				mu        sync.Mutex
				scheduled int
			)
			start := make(chan struct{})
			for i := range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					ok, err := replicas[i%2].ScheduleDigest(ctx, weekly(), digestFrom, digestTo)
					if err != nil {
						t.Errorf("replica %d: %v", i%2, err)
					}
					if ok {
						mu.Lock()
						scheduled++
						mu.Unlock()
					}
				}()
			}
			close(start)
			wg.Wait()
			if scheduled != 1 {
				t.Fatalf("the period was scheduled %d times, want once", scheduled)
			}

			for i, svc := range replicas {
				wg.Add(1)
				go func() {
					defer wg.Done()
					w := svc.NewWorker(fmt.Sprintf("replica-%d", i))
					for range 5 {
						if _, err := w.RunOnce(ctx); err != nil {
							t.Errorf("replica %d worker: %v", i, err)
						}
					}
				}()
			}
			wg.Wait()

			// A restart at the firing time catches up on it: nothing new.
			restarted := digestService(dbs[1], staff, clock)
			if ok, err := restarted.ScheduleDigest(ctx, weekly(), digestFrom, digestTo); ok || err != nil {
				t.Errorf("a restarted replica scheduled the period again: %v, %v", ok, err)
			}
			if _, err := restarted.NewWorker("restarted").RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
			if n := len(staff.digests()); n != 1 {
				t.Errorf("%d digests posted, want 1", n)
			}
			runs, err := restarted.DigestRuns(ctx, "weekly", 10)
			if err != nil || len(runs) != 1 {
				t.Errorf("digest runs = %v, %v; want one", runs, err)
			}
		})
	}
}

// TestDigestLostAnswer: a post whose answer was lost is looked for before
// it is tried again, and found: one post.
func TestDigestLostAnswer(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newDigestEnv(t, db)
		e.staff.lose = 1
		e.schedule(weekly(), digestFrom, digestTo)
		e.drain(e.worker)
		if j := e.job("weekly"); j.State != bot.JobPending || !j.Uncertain {
			t.Fatalf("after a lost answer the job is %s, uncertain %v; want pending, uncertain", j.State, j.Uncertain)
		}
		e.clock.Advance(time.Minute)
		e.drain(e.worker)
		if n := len(e.staff.digests()); n != 1 {
			t.Errorf("%d digests posted, want 1", n)
		}
		if e.staff.sends != 1 || e.staff.finds != 1 {
			t.Errorf("%d sends and %d look-ups, want the first send, then one look-up that found it", e.staff.sends, e.staff.finds)
		}
		if j := e.job("weekly"); j.State != bot.JobDone {
			t.Errorf("job is %s, want done", j.State)
		}
	})
}

// TestDigestChartOptional: without a chart maker, or when it fails, the
// figures are posted alone.
func TestDigestChartOptional(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newDigestEnv(t, db)
		e.svc.Log = slog.New(slog.NewTextHandler(io.Discard, nil)) // the failing chart is logged
		e.svc.Charts = nil
		week := 7 * 24 * time.Hour
		e.schedule(weekly(), digestFrom.Add(-week), digestFrom)
		e.drain(e.worker)
		e.svc.Charts = func(*bot.StatsReport) ([]byte, error) { return nil, errors.New("no fonts") }
		e.schedule(weekly(), digestFrom, digestTo)
		e.drain(e.worker)
		posts := e.staff.digests()
		if len(posts) != 2 {
			t.Fatalf("%d digests posted, want 2", len(posts))
		}
		for _, p := range posts {
			if p.Digest.Chart != nil || p.Digest.ChartName != "" || !strings.Contains(p.Digest.Text, "• Items in: 0") {
				t.Errorf("digest = %+v, want the figures without a chart", p.Digest)
			}
		}
	})
}

// TestScheduleDigestRefuses: a digest without a name or destination, or a
// period that does not move forward, is refused and writes nothing.
func TestScheduleDigestRefuses(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newDigestEnv(t, db)
		from, to := digestFrom, digestTo
		noDest := weekly()
		noDest.Channel = ""
		noName := weekly()
		noName.Name = ""
		for name, tc := range map[string]struct {
			d        bot.DigestSpec
			from, to time.Time
		}{
			"no destination": {noDest, from, to},
			"no name":        {noName, from, to},
			"backwards":      {weekly(), to, from},
			"empty":          {weekly(), to, to},
		} {
			ok, err := e.svc.ScheduleDigest(e.ctx, tc.d, tc.from, tc.to)
			if ok || bot.ErrorCode(err) != bot.EINVALID {
				t.Errorf("%s: %v, %v; want an invalid-input error", name, ok, err)
			}
		}
		for _, table := range []string{"digests", "outbox", "audit_events"} {
			if n, err := db.RowCount(e.ctx, table); err != nil || n != 0 {
				t.Errorf("%d rows in %s (%v), want none", n, table, err)
			}
		}
	})
}

// TestDigestBadPayload: a post_digest job whose period cannot be read is
// given up at once, posting nothing.
func TestDigestBadPayload(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newDigestEnv(t, db)
		e.svc.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
		now := e.clock.Now()
		var ids []int64
		for _, payload := range []string{
			`{"name":7}`, // not a name
			`{"name":"weekly","from":"2026-11-23T09:00:00Z","to":"2026-11-16T09:00:00Z","tz":"UTC"}`,          // backwards
			`{"name":"weekly","from":"2026-11-16T09:00:00Z","to":"2026-11-23T09:00:00Z","tz":"Mars/Olympus"}`, // no such zone
		} {
			j := &bot.OutboxJob{Kind: bot.OpPostDigest, Conn: staffConn, Channel: leadsCh, Payload: payload, OrderKey: "digest:" + payload,
				State: bot.JobPending, RunAt: now, CreatedAt: now}
			if err := db.InTx(e.ctx, func(tx bot.Tx) error { _, err := tx.Enqueue(e.ctx, j); return err }); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, j.ID)
		}
		e.drain(e.worker)
		for _, id := range ids {
			var j *bot.OutboxJob
			if err := db.View(e.ctx, func(tx bot.Tx) (err error) { j, err = tx.Job(e.ctx, id); return err }); err != nil {
				t.Fatal(err)
			}
			if j.State != bot.JobDead || j.Attempts != 0 {
				t.Errorf("job %d (%s) is %s after %d attempts, want dead at once", id, j.Payload, j.State, j.Attempts)
			}
		}
		if n := len(e.staff.digests()); n != 0 || e.staff.sends != 0 {
			t.Errorf("%d digests posted, want none", n)
		}
	})
}
