package bot_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/bot/mock"
	"github.com/liaison-bot/liaison/storage"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// waitLimit bounds every wait for another goroutine: a test fails rather
// than hangs.
const waitLimit = 10 * time.Second

// slowPlatform is a public connection whose first publication is a slow
// call: it starts, then waits for the test to let it through, to land it
// without an answer (the process died), or for its context to end.
type slowPlatform struct {
	*mock.Platform
	started chan *bot.Op  // the slow call began
	release chan struct{} // let it through: it lands and answers
	land    chan struct{} // it landed, and its answer never comes back
	revive  chan struct{} // after land: the call returns, failed
	mu      sync.Mutex
	slowed  bool
}

func newSlowPlatform(p *mock.Platform) *slowPlatform {
	return &slowPlatform{Platform: p, started: make(chan *bot.Op, 1), release: make(chan struct{}),
		land: make(chan struct{}), revive: make(chan struct{})}
}

func (p *slowPlatform) Send(ctx context.Context, op *bot.Op) (bot.Result, error) {
	p.mu.Lock()
	slow := op.Kind == bot.OpPublish && !p.slowed
	p.slowed = p.slowed || slow
	p.mu.Unlock()
	if !slow {
		return p.Platform.Send(ctx, op)
	}
	p.started <- op
	select {
	case <-p.release:
		return p.Platform.Send(ctx, op)
	case <-p.land: // landed meanwhile (landWithoutAnswer)
		<-p.revive
		return bot.Result{}, errors.New("connection reset")
	case <-ctx.Done():
		return bot.Result{}, ctx.Err()
	}
}

// landWithoutAnswer lands the slow call op: the post appears, and the
// call's answer never comes back.
func (p *slowPlatform) landWithoutAnswer(t *testing.T, op *bot.Op) {
	t.Helper()
	if _, err := p.Platform.Send(context.Background(), op); err != nil {
		t.Fatal(err)
	}
	close(p.land)
}

// spyStore counts lease renewals, and can be killed: then every call of
// its worker hangs, as in a process stopped with kill -9, until revived.
type spyStore struct {
	bot.Store
	mu      sync.Mutex
	extends int
	killed  chan struct{}
	revived chan struct{}
}

func newSpyStore(s bot.Store) *spyStore {
	return &spyStore{Store: s, killed: make(chan struct{}), revived: make(chan struct{})}
}

var errKilled = errors.New("the process was killed")

func (s *spyStore) dead() error {
	select {
	case <-s.killed:
		<-s.revived
		return errKilled
	default:
		return nil
	}
}

func (s *spyStore) InTx(ctx context.Context, fn func(bot.Tx) error) error {
	if err := s.dead(); err != nil {
		return err
	}
	return s.Store.InTx(ctx, fn)
}

func (s *spyStore) View(ctx context.Context, fn func(bot.Tx) error) error {
	if err := s.dead(); err != nil {
		return err
	}
	return s.Store.View(ctx, fn)
}

func (s *spyStore) ClaimJobs(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int, skip bot.Skip) ([]*bot.OutboxJob, error) {
	if err := s.dead(); err != nil {
		return nil, err
	}
	return s.Store.ClaimJobs(ctx, owner, now, lease, limit, skip)
}

func (s *spyStore) ExtendJobLease(ctx context.Context, id int64, owner string, until time.Time) error {
	if err := s.dead(); err != nil {
		return err
	}
	err := s.Store.ExtendJobLease(ctx, id, owner, until)
	s.mu.Lock()
	s.extends++
	s.mu.Unlock()
	return err
}

func (s *spyStore) ReleaseJobs(ctx context.Context, owner string) (int, error) {
	if err := s.dead(); err != nil {
		return 0, err
	}
	return s.Store.ReleaseJobs(ctx, owner)
}

func (s *spyStore) renewals() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.extends
}

// awaitRenewals lets the worker renew its leases n more times, as it would
// while time passes. It only waits, within a bound: a worker that renews
// nothing is caught by what the test checks next.
func (s *spyStore) awaitRenewals(n int) {
	until := s.renewals() + n
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && s.renewals() < until; {
		time.Sleep(time.Millisecond)
	}
}

// replica is a second Liaison process on the same database, the same
// routes and the same clock as e, whose public connection is slow.
type replica struct {
	svc    *bot.Service
	worker *bot.Worker
	store  *spyStore
	pub    *slowPlatform
}

func (e *env) replica(owner string) *replica {
	r := &replica{store: newSpyStore(e.db), pub: newSlowPlatform(e.pub)}
	r.svc = bot.NewService(r.store, map[string]bot.Platform{publicConn: r.pub, staffConn: e.staff}, e.svc.Router, e.svc.Settings)
	r.svc.Clock = e.clock.Now
	r.worker = r.svc.NewWorker(owner)
	r.worker.Jitter = func() float64 { return 0 }
	r.worker.Heartbeat = time.Millisecond
	return r
}

// runOnce runs one round of the replica's worker in the background; the
// channel is closed when it returns.
func (r *replica) runOnce(t *testing.T) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.worker.RunOnce(context.Background())
	}()
	t.Cleanup(func() { wait(t, done, "the replica's worker") })
	return done
}

func wait(t *testing.T, done <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(waitLimit):
		t.Fatalf("%s did not finish", what)
	}
}

func started(t *testing.T, p *slowPlatform) *bot.Op {
	t.Helper()
	select {
	case op := <-p.started:
		return op
	case <-time.After(waitLimit):
		t.Fatal("the slow call never started")
		return nil
	}
}

// pricingItem opens another item on the product route and returns it.
func (e *env) pricingItem(text string) *bot.Item {
	e.t.Helper()
	e.receive(e.post(helpChan, text), bot.IntakeNew)
	e.drain()
	posts := e.staff.Posts(productCh)
	for i := len(posts) - 1; i >= 0; i-- {
		if posts[i].Card != nil {
			return e.item(posts[i].Card.ItemID)
		}
	}
	e.t.Fatal("no card")
	return nil
}

// drafted has Alice draft text on item.
func (e *env) drafted(it *bot.Item, text string) *bot.Draft {
	e.t.Helper()
	d, err := e.createDraft(alice, it.ID, text)
	if err != nil {
		e.t.Fatal(err)
	}
	e.drain()
	return d
}

// approved has Bob approve d: its publication is then due.
func (e *env) approved(d *bot.Draft) *bot.Draft {
	e.t.Helper()
	if err := e.act(bob, bot.ActApprove, d.ID); err != nil {
		e.t.Fatal(err)
	}
	return d
}

// repliesSaying counts the public replies whose text has sub.
func (e *env) repliesSaying(sub string) int {
	n := 0
	for _, p := range e.publicPosts(helpChan) {
		if strings.Contains(p.Text, sub) {
			n++
		}
	}
	return n
}

func (e *env) publishJobs(draftID int64) []*bot.OutboxJob {
	e.t.Helper()
	var jobs []*bot.OutboxJob
	if err := e.db.View(e.ctx, func(tx bot.Tx) (err error) {
		jobs, err = tx.PublishJobs(e.ctx, draftID)
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return jobs
}

// TestHeartbeatKeepsTheLeaseOfASlowCall: a publication's call outlasts the
// worker's lease; the worker keeps renewing it while the call runs, so a
// second worker does not take the job over and publish it again.
func TestHeartbeatKeepsTheLeaseOfASlowCall(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		it, _ := e.askPricing()
		d := e.approved(e.drafted(it, "The answer"))
		a := e.replica("a")
		a.worker.Lease = 20 * time.Second
		done := a.runOnce(t)
		started(t, a.pub)

		e.clock.Advance(25 * time.Second) // past the lease the call began with
		a.store.awaitRenewals(2)
		e.drain() // another worker, meanwhile
		close(a.pub.release)
		wait(t, done, "the slow worker")
		e.drain()

		if n := len(e.publicPosts(helpChan)); n != 1 {
			t.Fatalf("published %d times, want once", n)
		}
		if n := e.pub.Sends(bot.OpPublish); n != 1 {
			t.Fatalf("%d publish calls, want 1", n)
		}
		if got := e.draft(d.ID); got.State != bot.DraftPublished {
			t.Fatalf("draft is %s, want published", got.State)
		}
	})
}

// TestLeaseRenewedBeforeEachCall: a worker claims two publications; the
// first one's call is slow, and the second one's lease lapses meanwhile.
// Another worker takes the second over and publishes it; the first worker,
// its lease lost, then leaves it alone instead of publishing it again.
func TestLeaseRenewedBeforeEachCall(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		one, _ := e.askPricing()
		two := e.pricingItem("and the pricing for schools?")
		d1, d2 := e.drafted(one, "Answer one"), e.drafted(two, "Answer two")
		e.approved(d1)
		e.approved(d2)
		a := e.replica("a")
		a.worker.Lease, a.worker.Batch = 20*time.Second, 2
		done := a.runOnce(t)
		if op := started(t, a.pub); !strings.Contains(op.Post.Reply, "Answer one") {
			t.Fatalf("the slow call publishes %q", op.Post.Reply)
		}

		e.clock.Advance(25 * time.Second)
		a.store.awaitRenewals(2)
		e.drain() // publishes the second answer, whose lease lapsed
		if n := e.repliesSaying("Answer two"); n != 1 {
			t.Fatalf("the other worker published the second answer %d times, want once", n)
		}
		close(a.pub.release)
		wait(t, done, "the slow worker")
		e.drain()

		if n1, n2 := e.repliesSaying("Answer one"), e.repliesSaying("Answer two"); n1 != 1 || n2 != 1 {
			t.Fatalf("published the first answer %d times and the second %d times, want once each", n1, n2)
		}
		if n := e.pub.Sends(bot.OpPublish); n != 2 {
			t.Fatalf("%d publish calls, want 2", n)
		}
	})
}

// TestRestartResumesWithinTheLease: a worker dies (kill -9) during a
// publication's call, which lands without an answer. Half a minute later a
// worker (a replica, or the restarted process) takes the job over, finds
// the post and completes the job, without publishing twice.
func TestRestartResumesWithinTheLease(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		it, _ := e.askPricing()
		d := e.approved(e.drafted(it, "The answer"))
		a := e.replica("a")
		// No renewal between its first and the kill: on Postgres a claim
		// passes over a row being renewed (SKIP LOCKED), and would only
		// take the job at the next poll.
		a.worker.Heartbeat = time.Hour
		a.runOnce(t)
		op := started(t, a.pub)
		close(a.store.killed)
		a.pub.landWithoutAnswer(t, op)
		t.Cleanup(func() { close(a.store.revived); close(a.pub.revive) })

		e.clock.Advance(30 * time.Second)
		e.drain()
		if got := e.draft(d.ID); got.State != bot.DraftPublished {
			t.Fatalf("30 s after the worker died, the draft is %s, want published", got.State)
		}
		if n := len(e.publicPosts(helpChan)); n != 1 {
			t.Fatalf("published %d times, want once", n)
		}
		if e.pub.Finds() == 0 || e.pub.Sends(bot.OpPublish) != 1 {
			t.Fatalf("%d look-ups, %d publish calls: want the post found, not sent again", e.pub.Finds(), e.pub.Sends(bot.OpPublish))
		}
	})
}

// TestGracefulStop: the worker is stopped (SIGTERM) during a publication's
// call. The call finishes within the grace period and is recorded; the job
// it did not start is left pending, not uncertain, and runs at once
// elsewhere, without a look-up.
func TestGracefulStop(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		one, _ := e.askPricing()
		two := e.pricingItem("and the pricing for schools?")
		d1, d2 := e.drafted(one, "Answer one"), e.drafted(two, "Answer two")
		e.approved(d1)
		e.approved(d2)
		a := e.replica("a")
		a.worker.Concurrency = 1 // the second publication waits for the first
		ctx, stop := context.WithCancel(context.Background())
		stopped := make(chan struct{})
		go func() {
			defer close(stopped)
			a.worker.Run(ctx)
		}()
		t.Cleanup(func() { stop(); wait(t, stopped, "the stopping worker") })
		started(t, a.pub)
		stop()
		close(a.pub.release)
		wait(t, stopped, "the stopping worker")

		if got := e.draft(d1.ID); got.State != bot.DraftPublished || e.repliesSaying("Answer one") != 1 {
			t.Fatalf("the publication in flight: draft %s, %d replies; want published once", got.State, e.repliesSaying("Answer one"))
		}
		jobs := e.publishJobs(d2.ID)
		if len(jobs) != 1 || jobs[0].State != bot.JobPending || jobs[0].LockedBy != "" || jobs[0].Uncertain {
			t.Fatalf("the job claimed but not started: %+v; want pending, unlocked, certain", jobs[0])
		}
		e.drain()
		if e.repliesSaying("Answer two") != 1 || e.pub.Finds() != 0 {
			t.Fatalf("after the stop: %d second answers, %d look-ups; want one, none", e.repliesSaying("Answer two"), e.pub.Finds())
		}
	})
}

// TestGraceExpires: a call outlasts the grace period; the worker gives up
// on it, keeps the job uncertain (the call may have landed) and stops. The
// next worker looks before it publishes.
func TestGraceExpires(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		it, _ := e.askPricing()
		d := e.approved(e.drafted(it, "The answer"))
		a := e.replica("a")
		a.worker.Grace = 20 * time.Millisecond
		ctx, stop := context.WithCancel(context.Background())
		stopped := make(chan struct{})
		go func() {
			defer close(stopped)
			a.worker.Run(ctx)
		}()
		t.Cleanup(func() { stop(); wait(t, stopped, "the stopping worker") })
		started(t, a.pub)
		stop()
		wait(t, stopped, "the stopping worker")

		jobs := e.publishJobs(d.ID)
		if len(jobs) != 1 || jobs[0].State != bot.JobPending || jobs[0].LockedBy != "" || !jobs[0].Uncertain {
			t.Fatalf("the job whose call was cut short: %+v; want pending, unlocked, uncertain", jobs[0])
		}
		e.clock.Advance(time.Minute)
		e.drain()
		if e.draft(d.ID).State != bot.DraftPublished || len(e.publicPosts(helpChan)) != 1 || e.pub.Finds() != 1 {
			t.Fatalf("after the stop: draft %s, %d replies, %d look-ups; want published once after one look-up",
				e.draft(d.ID).State, len(e.publicPosts(helpChan)), e.pub.Finds())
		}
	})
}

// lookup is the public connection with a look-up that fails as told, and
// that records what it was asked.
type lookup struct {
	*mock.Platform
	mu  sync.Mutex
	err error
	ops []bot.Op
}

func (p *lookup) Find(ctx context.Context, op *bot.Op) (bot.Result, bool, error) {
	p.mu.Lock()
	p.ops = append(p.ops, *op)
	err := p.err
	p.mu.Unlock()
	if err != nil {
		return bot.Result{}, false, err
	}
	return p.Platform.Find(ctx, op)
}

func (p *lookup) failWith(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.err = err
}

func (p *lookup) asked() []bot.Op {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]bot.Op(nil), p.ops...)
}

// TestRepublishReconcilesEarlierAttempts: a publication lands but its
// answer is lost, and Liaison cannot list the channel to check: the job
// dies, and the thread says Liaison could not tell whether it went out.
// An approver approves it again; the new attempt looks for every earlier
// one (same key, listing from the first attempt) and finds the post: the
// reply is public once.
func TestRepublishReconcilesEarlierAttempts(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"PermanentLookupError", bot.Permanent(errors.New("missing access"))},
		{"LookupFailsUntilDead", errors.New("connection refused")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
				e := newEnv(t, db)
				e.worker.MaxFailures = 3
				pub := &lookup{Platform: e.pub}
				e.svc.Platforms[publicConn] = pub
				it, card := e.askPricing()
				d, _ := e.createDraft(alice, it.ID, "The answer")
				e.drain()
				firstAttempt := e.clock.Now()
				e.pub.FailNext(mock.Failure{Kind: bot.OpPublish, Err: errors.New("connection reset"), Applied: true})
				if err := e.act(bob, bot.ActApprove, d.ID); err != nil {
					t.Fatal(err)
				}
				pub.failWith(tc.err)
				for range 5 {
					e.drain()
					e.clock.Advance(10 * time.Minute)
				}
				if got := e.draft(d.ID); got.State != bot.DraftFailed {
					t.Fatalf("draft is %s, want failed", got.State)
				}
				var told bool
				for _, p := range e.staff.Thread(productCh, card.ID) {
					told = told || strings.Contains(p.Text, "could not tell whether")
				}
				if !told {
					t.Fatal("the thread was not told that Liaison could not tell whether the reply went out")
				}

				pub.failWith(nil)
				e.clock.Advance(time.Hour)
				if err := e.act(bob, bot.ActApprove, d.ID); err != nil {
					t.Fatal(err)
				}
				e.drain()
				if n := len(e.publicPosts(helpChan)); n != 1 {
					t.Fatalf("published %d times, want once", n)
				}
				if n := e.pub.Sends(bot.OpPublish); n != 1 {
					t.Fatalf("%d publish calls, want 1: the re-approval must find the first post", n)
				}
				got := e.draft(d.ID)
				if got.State != bot.DraftPublished || got.PublicID != e.publicPosts(helpChan)[0].ID {
					t.Fatalf("draft = %s, public id %q; want published as the post that landed", got.State, got.PublicID)
				}
				asked := pub.asked()
				if len(asked) == 0 {
					t.Fatal("no look-up")
				}
				key := fmt.Sprintf("liaison-draft-%d", d.ID)
				for _, op := range asked {
					if op.Key != key || !op.After.Equal(firstAttempt) {
						t.Fatalf("looked up key %q after %v; want %q after the first attempt, %v", op.Key, op.After, key, firstAttempt)
					}
				}
			})
		})
	}
}

// observed records latencies and log lines.
type observed struct {
	bot.Metrics
	mu        sync.Mutex
	latencies map[string][]time.Duration
	records   []slog.Record
}

func (o *observed) Latency(step string, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.latencies[step] = append(o.latencies[step], d)
}

func (o *observed) Enabled(context.Context, slog.Level) bool { return true }
func (o *observed) Handle(_ context.Context, r slog.Record) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.records = append(o.records, r.Clone())
	return nil
}
func (o *observed) WithAttrs([]slog.Attr) slog.Handler { return o }
func (o *observed) WithGroup(string) slog.Handler      { return o }

// line returns the attributes of the first log line msg, or nil.
func (o *observed) line(msg string) map[string]string {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, r := range o.records {
		if r.Message != msg {
			continue
		}
		attrs := map[string]string{}
		r.Attrs(func(a slog.Attr) bool {
			attrs[a.Key] = a.Value.String()
			return true
		})
		return attrs
	}
	return nil
}

// TestPublicationObserved: a card's latency runs from the member's message,
// a publication's from its approval; the publication's log line names the
// job, draft, item, link and connection, and never the words.
func TestPublicationObserved(t *testing.T) {
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		o := &observed{Metrics: bot.NoMetrics, latencies: map[string][]time.Duration{}}
		e.svc.Metrics, e.svc.Log = o, slog.New(o)
		e.receive(e.post(helpChan, "what is the pricing for teams?"), bot.IntakeNew)
		e.clock.Advance(3 * time.Second)
		e.drain()
		_, it := e.card(productCh)
		d, _ := e.createDraft(alice, it.ID, "Secret words of the reply")
		e.drain()
		if err := e.act(bob, bot.ActApprove, d.ID); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(2 * time.Second)
		e.drain()

		o.mu.Lock()
		cards, pubs := o.latencies[bot.LatencyEventToCard], o.latencies[bot.LatencyApprovalToPublic]
		o.mu.Unlock()
		if len(cards) != 1 || cards[0] != 3*time.Second {
			t.Errorf("event-to-card latencies %v, want [3s]", cards)
		}
		if len(pubs) != 1 || pubs[0] != 2*time.Second {
			t.Errorf("approval-to-public latencies %v, want [2s]", pubs)
		}
		got := e.draft(d.ID)
		line := o.line("draft published")
		want := map[string]string{"draft": fmt.Sprint(d.ID), "item": fmt.Sprint(it.ID), "link": got.PublicLink, "conn": publicConn}
		for k, v := range want {
			if line[k] != v {
				t.Errorf("log line %q: %s=%q, want %q (line %v)", "draft published", k, line[k], v, line)
			}
		}
		if line["job"] == "" {
			t.Errorf("log line %v names no job", line)
		}
		o.mu.Lock()
		defer o.mu.Unlock()
		for _, r := range o.records {
			r.Attrs(func(a slog.Attr) bool {
				if strings.Contains(a.Value.String(), "Secret words") {
					t.Errorf("log line %q shows the reply's words (%s)", r.Message, a.Key)
				}
				return true
			})
		}
	})
}
