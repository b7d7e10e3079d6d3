package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/liaison-bot/liaison/internal/pause"
)

// Worker carries out outbox jobs through the platform ports. Several workers,
// in one process or in replicas sharing a Postgres database, can run at once:
// the store leases each job to one of them.
//
// A lease is short (Lease), so that the jobs of a worker that died are
// taken over soon; a worker renews the lease of a job as it starts, before
// each platform call, and every Heartbeat while the job runs, so that a call
// may outlast the lease. A worker that no longer holds a job's lease leaves
// the job alone, and a call whose lease cannot be kept is cancelled before
// the lease lapses.
//
// Exactly once: a job that creates a platform message and whose previous
// attempt may have reached the platform (the worker died, or the answer was
// lost) is reconciled with Platform.Find before it is sent again; so is
// every attempt to publish a draft after its first. See
// docs/exactly-once.md.
type Worker struct {
	svc   *Service
	Owner string

	Lease       time.Duration // how long a job stays ours without renewal
	Heartbeat   time.Duration // how often the running job's lease is renewed; well under Lease
	CallTimeout time.Duration // one platform call; may exceed Lease
	Grace       time.Duration // how long a stopping worker lets the call in flight finish
	Poll        time.Duration // idle wait between claims
	Batch       int           // jobs claimed at once
	MaxFailures int           // failures before a job is dead (rate-limit waits are not failures)
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	Jitter      func() float64 // in [0,1)
	// Concurrency bounds the jobs Run carries out at once: calls to
	// different channels go in parallel, while an item's jobs keep their
	// order (OrderKey).
	Concurrency int
	// MaxSlotWait is the longest a claimed job waits for its rate-limit
	// slot; one that would wait longer goes back to pending until then.
	MaxSlotWait time.Duration

	waits waitLog

	mu       sync.Mutex
	inFlight map[string]int // posts running, by channel bucket: one at a time keeps a channel's order
}

// NewWorker returns a worker named owner (unique per process) with defaults.
func (s *Service) NewWorker(owner string) *Worker {
	return &Worker{
		svc: s, Owner: owner,
		Lease: 20 * time.Second, Heartbeat: 5 * time.Second, CallTimeout: 30 * time.Second, Grace: 10 * time.Second,
		Poll: time.Second, Batch: 1, MaxFailures: 8, BaseBackoff: time.Second, MaxBackoff: 5 * time.Minute,
		Jitter: rand.Float64, Concurrency: 8, MaxSlotWait: 2 * time.Second,
	}
}

// recordTimeout bounds writing down what became of a job. Recording is not
// cancelled with the worker: a call that happened must not be forgotten.
const recordTimeout = 10 * time.Second

// Run works until ctx is cancelled, carrying out up to Concurrency jobs at
// once, each when its rate-limit slot comes. Then it lets the calls in
// flight finish for up to Grace and records their outcome, puts the jobs it
// claimed but did not start back to pending, and returns.
func (w *Worker) Run(ctx context.Context) error {
	work, cancel := w.outlive(ctx)
	defer cancel()
	w.replayParked(ctx) // a card recorded just before a stop
	slots := make(chan struct{}, max(w.Concurrency, 1))
	finished := make(chan struct{}, 1)
	var running sync.WaitGroup
	for ctx.Err() == nil {
		claimed := 0
		var free time.Time
		for len(slots) < cap(slots) && ctx.Err() == nil {
			var j *OutboxJob
			var err error
			j, free, err = w.claim(ctx)
			if err != nil {
				if ctx.Err() == nil {
					w.svc.Log.Error("outbox", "err", err)
				}
				break
			}
			if j == nil {
				break
			}
			claimed++
			slots <- struct{}{}
			running.Add(1)
			go func() {
				defer running.Done()
				defer func() {
					w.landed(j)
					<-slots
					select {
					case finished <- struct{}{}:
					default:
					}
				}()
				if err := w.run(work, j); err != nil {
					w.svc.Log.Error("outbox job", "conn", j.Conn, "job", j.ID, "kind", j.Kind, "err", err)
				}
			}()
		}
		if ctx.Err() != nil || (claimed > 0 && len(slots) < cap(slots)) {
			continue
		}
		if free.IsZero() {
			w.svc.Pacer.Forget() // idle: buckets that hold nothing back go
		}
		wait := w.Poll
		if !free.IsZero() {
			wait = min(wait, max(free.Sub(w.svc.Clock()), time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-w.svc.kick:
		case <-finished:
		case <-t.C:
		}
		t.Stop()
	}
	running.Wait()
	rctx, stop := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer stop()
	n, err := w.svc.Store.ReleaseJobs(rctx, w.Owner)
	if err != nil {
		// Their leases lapse instead, and they come back uncertain.
		w.svc.Log.Error("outbox: release claimed jobs", "err", err)
	}
	w.svc.Log.Info("outbox worker stopped", "owner", w.Owner, "released", n)
	return nil
}

// claim leases the most urgent job whose rate-limit buckets have a slot
// free. With none it returns nil and when the first busy bucket frees
// (zero when none is busy).
func (w *Worker) claim(ctx context.Context) (j *OutboxJob, free time.Time, err error) {
	skip, free := w.skip()
	jobs, err := w.svc.Store.ClaimJobs(ctx, w.Owner, w.svc.Clock(), w.Lease, 1, skip)
	if err != nil {
		return nil, free, fmt.Errorf("claim jobs: %w", err)
	}
	if len(jobs) == 0 {
		return nil, free, nil
	}
	j = jobs[0]
	w.flying(j)
	return j, free, nil
}

// flying notes that j's post is under way, so that the next post in its
// channel waits for it: posts in one channel go out in the order claimed.
func (w *Worker) flying(j *OutboxJob) {
	if !j.Kind.Creates() {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.inFlight == nil {
		w.inFlight = map[string]int{}
	}
	w.inFlight[ChannelBucket(j.Conn, j.Channel)]++
}

// landed ends what flying started.
func (w *Worker) landed(j *OutboxJob) {
	if !j.Kind.Creates() {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	key := ChannelBucket(j.Conn, j.Channel)
	if w.inFlight[key]--; w.inFlight[key] <= 0 {
		delete(w.inFlight, key)
	}
}

// skip lists the buckets with no slot free now or a post under way, and
// when the first busy one frees.
func (w *Worker) skip() (Skip, time.Time) {
	var skip Skip
	w.mu.Lock()
	for key := range w.inFlight {
		skip.Channels = append(skip.Channels, key)
	}
	w.mu.Unlock()
	var free time.Time
	for name, p := range w.svc.Platforms {
		l := limitsOf(p)
		channels, all, f := w.svc.Pacer.Busy(name, l.Post, l.Global)
		for _, c := range channels {
			skip.Channels = append(skip.Channels, ChannelBucket(name, c))
		}
		if all {
			skip.Conns = append(skip.Conns, name)
		}
		if !f.IsZero() && (free.IsZero() || f.Before(free)) {
			free = f
		}
	}
	return skip, free
}

// limitsOf is what a platform says of its limits; none when it says nothing.
func limitsOf(p Platform) Limits {
	if pp, ok := p.(Paced); ok {
		return pp.Limits()
	}
	return Limits{}
}

// limits are conn's limits; none for a connection not known.
func (w *Worker) limits(conn string) Limits {
	if p, ok := w.svc.Platforms[conn]; ok {
		return limitsOf(p)
	}
	return Limits{}
}

// buckets are the rate-limit buckets j's call falls into: its own
// (bucketOf) and its connection's.
func (w *Worker) buckets(j *OutboxJob) map[string]Limit {
	l := w.limits(j.Conn)
	b := map[string]Limit{GlobalBucket(j.Conn): l.Global}
	if key, lim := bucketOf(j, l); key != "" {
		b[key] = lim
	}
	return b
}

// bucketOf is the bucket of j's call besides its connection's, at its pace
// in l: the Homes' for a Home, the connection's edits for a call that
// changes or deletes a message (held by a 429 only), its channel's posts
// for one that creates a message; "" for a post with no channel.
func bucketOf(j *OutboxJob, l Limits) (string, Limit) {
	switch {
	case j.Kind == OpPublishHome:
		return HomeBucket(j.Conn), l.Home
	case !j.Kind.Creates():
		return EditBucket(j.Conn), Limit{}
	case j.Channel != "":
		return ChannelBucket(j.Conn, j.Channel), l.Post
	}
	return "", Limit{}
}

// pace takes j's slot in its buckets, right before its call so that the
// platform sees the calls spaced as they were reserved, and waits for it.
// A slot further than MaxSlotWait sends j back to pending until then
// (done is true).
func (w *Worker) pace(ctx context.Context, j *OutboxJob) (done bool, err error) {
	b := w.buckets(j)
	at, by := w.svc.Pacer.Reserve(b)
	d := at.Sub(w.svc.Clock())
	w.waits.saw(w.svc, j, b, by, at)
	if d <= 0 {
		return false, nil
	}
	if d > w.MaxSlotWait {
		return true, w.retry(ctx, j, JobRetry{At: at, Err: "waiting for its rate-limit slot", Uncertain: j.Uncertain})
	}
	if !pause.For(ctx, d) {
		return true, w.lost(j, context.Cause(ctx))
	}
	return false, nil
}

// outlive returns a context that ends Grace after ctx does, or when cancel
// is called: platform calls run under it, so that a stop lets them finish.
func (w *Worker) outlive(ctx context.Context) (context.Context, context.CancelFunc) {
	work, cancel := context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		select {
		case <-ctx.Done():
		case <-work.Done():
			return
		}
		t := time.NewTimer(w.Grace)
		defer t.Stop()
		select {
		case <-t.C:
			cancel()
		case <-work.Done():
		}
	}()
	return work, cancel
}

// RunOnce claims the jobs due now and carries them out, one by one, each
// in its rate-limit slot. It returns how many it claimed. Jobs it claimed
// but did not start when ctx ended are left to their leases (Run releases
// them).
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	skip, _ := w.skip()
	jobs, err := w.svc.Store.ClaimJobs(ctx, w.Owner, w.svc.Clock(), w.Lease, w.Batch, skip)
	if err != nil {
		return 0, fmt.Errorf("claim jobs: %w", err)
	}
	for _, j := range jobs {
		if ctx.Err() != nil {
			return len(jobs), ctx.Err()
		}
		if err := w.run(ctx, j); err != nil {
			w.svc.Log.Error("outbox job", "conn", j.Conn, "job", j.ID, "kind", j.Kind, "err", err)
		}
	}
	return len(jobs), nil
}

func (w *Worker) run(ctx context.Context, j *OutboxJob) error {
	s := w.svc
	// The job may have waited in a batch: it is ours only if its lease
	// still is.
	l, err := w.hold(ctx, j)
	if err != nil {
		return w.lost(j, err)
	}
	defer l.stop()
	ctx = l.ctx
	if err := w.merge(ctx, j); err != nil {
		if ctx.Err() != nil {
			return w.lost(j, context.Cause(ctx))
		}
		// Sent alone instead.
		s.Log.Warn("outbox follow-ups not merged", "conn", j.Conn, "job", j.ID, "err", err)
	}

	var (
		op      *Op
		skip    string
		earlier []*OutboxJob
	)
	// Rendering only reads: no row locks are taken.
	err = s.Store.View(ctx, func(tx Tx) (err error) {
		op, skip, err = s.buildOp(ctx, tx, j)
		if err != nil || skip != "" || j.Kind != OpPublish {
			return err
		}
		earlier, err = tx.PublishJobs(ctx, j.DraftID)
		return err
	})
	if err == nil && skip == "" && j.Kind == OpPostDigest {
		err = s.renderDigest(ctx, j, op) // reads in transactions of its own
	}
	if err != nil {
		if ctx.Err() != nil {
			return w.lost(j, context.Cause(ctx)) // not the job's failure
		}
		var se *SendError
		if errors.As(err, &se) && se.Kind == PermanentKind || errors.Is(err, ErrNotFound) {
			return w.dead(ctx, j, err.Error(), w.doubt(j))
		}
		return w.retry(ctx, j, JobRetry{At: w.backoff(j), Err: err.Error(), Failed: true, Uncertain: j.Uncertain})
	}
	if skip != "" {
		return w.complete(ctx, j, op, Result{}, skip)
	}
	if j.Kind == OpPublish && publishAttempt(op, j, earlier) {
		// An earlier attempt may have gone out: look before posting.
		j.Uncertain = true
	}
	p, ok := s.Platforms[op.Conn]
	if !ok {
		return w.dead(ctx, j, fmt.Sprintf("no connection named %q", op.Conn), w.doubt(j))
	}
	if j.Uncertain && op.Kind.Creates() {
		if err := l.ensure(); err != nil {
			return w.lost(j, err)
		}
		cctx, cancel := context.WithTimeout(ctx, w.CallTimeout)
		res, found, err := p.Find(cctx, op)
		cancel()
		if err != nil {
			return w.failed(ctx, j, &reconcileError{err})
		}
		s.Log.Info("outbox job reconciled", "conn", j.Conn, "job", j.ID, "kind", j.Kind, "found", found)
		if found {
			s.Metrics.Job(j.Kind, "reconciled")
			return w.complete(ctx, j, op, res, "")
		}
		j.Uncertain = false // the platform shows it did not happen
	}
	if done, err := w.pace(ctx, j); done {
		return err
	}
	if err := l.ensure(); err != nil {
		return w.lost(j, err)
	}
	cctx, cancel := context.WithTimeout(ctx, w.CallTimeout)
	res, err := p.Send(cctx, op)
	cancel()
	if err != nil {
		return w.failed(ctx, j, err)
	}
	return w.complete(ctx, j, op, res, "")
}

// publishKey is the key of every attempt to publish a draft: whichever
// attempt landed, a later one finds it.
func publishKey(draftID int64) string { return fmt.Sprintf("liaison-draft-%d", draftID) }

// publishAttempt keys op as every attempt to publish j's draft, and has it
// looked for since the first of them (earlier: the draft's publish jobs).
// It reports whether an attempt came before j.
func publishAttempt(op *Op, j *OutboxJob, earlier []*OutboxJob) bool {
	op.Key, op.After = publishKey(j.DraftID), j.CreatedAt
	again := false
	for _, e := range earlier {
		if e.ID < j.ID {
			again = true
		}
		if e.CreatedAt.Before(op.After) {
			op.After = e.CreatedAt
		}
	}
	return again
}

// lost ends a job this worker may no longer touch, or no longer run:
// another worker holds it (or it is finished), and reconciles whatever this
// one did; or its lease could not be renewed, or the worker's grace ended,
// and the lease lapses (Run releases it first when it can).
func (w *Worker) lost(j *OutboxJob, err error) error {
	switch {
	case errors.Is(err, ErrJobLost):
		w.svc.Log.Warn("outbox job taken over by another worker", "conn", j.Conn, "job", j.ID, "kind", j.Kind)
		return nil
	case errors.Is(err, errLeaseLost):
		return nil // said when it happened
	}
	return fmt.Errorf("job %d left unfinished: %w", j.ID, err)
}

// errLeaseLost ends a job's calls when its lease could not be renewed in
// time.
var errLeaseLost = errors.New("the job's lease could not be renewed in time")

// lease keeps one job's lease while the worker runs it.
type lease struct {
	w   *Worker
	j   *OutboxJob
	ctx context.Context // ends when the lease is lost, or the worker's grace
	end context.CancelCauseFunc

	mu    sync.Mutex
	until time.Time // the lease is ours until then, at least
	done  chan struct{}
}

// hold makes sure of j's lease and keeps renewing it every Heartbeat until
// stop.
func (w *Worker) hold(ctx context.Context, j *OutboxJob) (*lease, error) {
	l := &lease{w: w, j: j, done: make(chan struct{})}
	if j.LockedAt != nil {
		l.until = j.LockedAt.Add(w.Lease) // what the claim set
	}
	l.ctx, l.end = context.WithCancelCause(ctx)
	if err := l.ensure(); err != nil {
		l.end(err)
		return nil, err
	}
	go l.beat()
	return l, nil
}

// ensure renews the lease unless it was set moments ago (by the claim, or
// a renewal): nobody else can have taken a job whose lease runs for almost
// all of Lease, and each renewal is a write.
func (l *lease) ensure() error {
	if err := context.Cause(l.ctx); err != nil {
		return err
	}
	l.mu.Lock()
	left := l.until.Sub(l.w.svc.Clock())
	l.mu.Unlock()
	if left > l.w.Lease-l.w.heartbeat()/5 {
		return nil
	}
	return l.renew()
}

// renew moves the lease to Lease from now.
func (l *lease) renew() error {
	if err := context.Cause(l.ctx); err != nil {
		return err
	}
	until := l.w.svc.Clock().Add(l.w.Lease)
	ctx, cancel := context.WithTimeout(l.ctx, l.w.Lease)
	defer cancel()
	if err := l.w.svc.Store.ExtendJobLease(ctx, l.j.ID, l.w.Owner, until); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if until.After(l.until) {
		l.until = until
	}
	return nil
}

// beat renews the lease every Heartbeat. A lease another worker took ends
// the job's calls at once; one that cannot be renewed ends them before it
// lapses, so that no call runs on a lease another worker may take.
func (l *lease) beat() {
	defer close(l.done)
	t := time.NewTicker(l.w.heartbeat())
	defer t.Stop()
	for {
		select {
		case <-l.ctx.Done():
			return
		case <-t.C:
		}
		err := l.renew()
		if err == nil || l.ctx.Err() != nil {
			continue
		}
		if errors.Is(err, ErrJobLost) {
			l.end(err)
			return
		}
		l.mu.Lock()
		until := l.until
		l.mu.Unlock()
		if !l.w.svc.Clock().Add(l.w.heartbeat()).Before(until) {
			l.w.svc.Log.Warn("outbox job lease not renewed: its calls are cancelled", "conn", l.j.Conn, "job", l.j.ID, "kind", l.j.Kind, "err", err)
			l.end(errLeaseLost)
			return
		}
	}
}

// heartbeat is Heartbeat, or a quarter of the lease when unset.
func (w *Worker) heartbeat() time.Duration {
	if w.Heartbeat > 0 {
		return w.Heartbeat
	}
	return max(w.Lease/4, time.Millisecond)
}

// stop ends the heartbeat.
func (l *lease) stop() {
	l.end(nil)
	<-l.done
}

// reconcileError is a failure to look up the outcome of an earlier attempt:
// that attempt stays uncertain whatever this failure was.
type reconcileError struct{ err error }

func (e *reconcileError) Error() string { return "reconcile: " + e.err.Error() }
func (e *reconcileError) Unwrap() error { return e.err }

// outcome is what a job that dies leaves behind.
type outcome int

const (
	notDone outcome = iota // it did not take effect
	unknown                // it may have: Liaison could not tell
)

// doubt is what is known of a job that dies before any call of its own.
func (w *Worker) doubt(j *OutboxJob) outcome {
	if j.Uncertain {
		return unknown
	}
	return notDone
}

// failed decides what a failed call means for the job.
func (w *Worker) failed(ctx context.Context, j *OutboxJob, err error) error {
	var re *reconcileError
	reconciling := errors.As(err, &re)
	se := classify(err)
	// Could not tell: the call may have taken effect, or a look-up did not
	// say whether an earlier one did.
	uncertain := se.Kind == UnknownOutcome || (reconciling && j.Uncertain)
	o := notDone
	if uncertain {
		o = unknown
	}
	switch se.Kind {
	case RetryAfterKind:
		w.svc.Metrics.Job(j.Kind, "rate_limited")
		until := w.svc.Clock().Add(se.After)
		w.limited(j, se, until)
		// A rate limit rejects the call before it happens.
		return w.retry(ctx, j, JobRetry{At: until, Err: err.Error(), Uncertain: j.Uncertain && reconciling})
	case PermanentKind:
		return w.dead(ctx, j, err.Error(), o)
	}
	if j.Attempts+1 >= w.MaxFailures {
		return w.dead(ctx, j, err.Error(), o)
	}
	w.svc.Metrics.Job(j.Kind, "retry")
	return w.retry(ctx, j, JobRetry{At: w.backoff(j), Err: err.Error(), Failed: true, Uncertain: uncertain})
}

// backoff is exponential in the failures so far, with jitter in [d/2, d).
func (w *Worker) backoff(j *OutboxJob) time.Time {
	d := w.BaseBackoff << min(j.Attempts, 20)
	if d > w.MaxBackoff || d <= 0 {
		d = w.MaxBackoff
	}
	d = d/2 + time.Duration(w.Jitter()*float64(d/2))
	return w.svc.Clock().Add(d)
}

// record is the context a job's outcome is written under: it outlives a
// stop, within recordTimeout.
func record(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
}

func (w *Worker) retry(ctx context.Context, j *OutboxJob, r JobRetry) error {
	ctx, cancel := record(ctx)
	defer cancel()
	err := w.svc.Store.InTx(ctx, func(tx Tx) error {
		return tx.RetryJob(ctx, j.ID, w.Owner, r)
	})
	if errors.Is(err, ErrJobLost) {
		return w.lost(j, err)
	} else if err != nil {
		return err
	}
	attempt := j.Attempts
	if r.Failed {
		attempt++
	}
	w.svc.Log.Info("outbox job retry", "conn", j.Conn, "job", j.ID, "kind", j.Kind, "attempt", attempt,
		"next", r.At, "uncertain", r.Uncertain, "reason", r.Err)
	return nil
}

func (w *Worker) complete(ctx context.Context, j *OutboxJob, op *Op, res Result, skip string) error {
	s := w.svc
	ctx, cancel := record(ctx)
	defer cancel()
	var eff effect
	err := s.Store.InTx(ctx, func(tx Tx) (err error) {
		if err := tx.CompleteJob(ctx, j.ID, w.Owner, jsonOf(res), s.Clock()); err != nil {
			return err
		}
		if skip != "" {
			return nil
		}
		eff, err = s.applyResult(ctx, tx, j, op, res)
		return err
	})
	if errors.Is(err, ErrJobLost) {
		return w.lost(j, err)
	} else if err != nil {
		return err
	}
	s.Metrics.Job(j.Kind, "done")
	now := s.Clock()
	switch {
	case skip != "":
		s.Log.Info("outbox job skipped", "conn", j.Conn, "job", j.ID, "kind", j.Kind, "reason", skip)
	case j.Kind == OpPostCard && !eff.since.IsZero():
		s.Metrics.Latency(LatencyEventToCard, now.Sub(eff.since))
	case j.Kind == OpPublish || j.Kind == OpEditPublic || j.Kind == OpDeletePublic:
		// The job was written when the draft was approved (or its signer
		// accepted the words).
		s.Metrics.Latency(LatencyApprovalToPublic, now.Sub(j.CreatedAt))
		s.Log.Info("draft published", "conn", j.Conn, "job", j.ID, "kind", j.Kind, "draft", j.DraftID, "item", j.ItemID, "link", eff.link)
	}
	if j.Kind == OpPostCard && skip == "" {
		w.replayParked(ctx)
	}
	s.wake()
	return nil
}

// replayParked takes in what staff said in a card's thread before the card
// was recorded.
func (w *Worker) replayParked(ctx context.Context) {
	if err := w.svc.ReplayParked(ctx); err != nil && ctx.Err() == nil {
		w.svc.Log.Error("outbox: parked messages", "err", err)
	}
}

// dead gives up on a job. A public operation that cannot be done marks its
// draft failed and says so in the internal thread: that it was not
// published, or, when an attempt may have gone out, that Liaison could not
// tell.
func (w *Worker) dead(ctx context.Context, j *OutboxJob, reason string, o outcome) error {
	s := w.svc
	ctx, cancel := record(ctx)
	defer cancel()
	err := s.Store.InTx(ctx, func(tx Tx) error {
		if err := tx.KillJob(ctx, j.ID, w.Owner, reason, s.Clock()); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, "system", "job.dead", subject("job", j.ID), nil, map[string]any{"kind": j.Kind, "reason": reason, "outcome_unknown": o == unknown}); err != nil {
			return err
		}
		switch j.Kind {
		case OpPublish, OpEditPublic, OpDeletePublic:
		default:
			return nil
		}
		d, err := tx.Draft(ctx, j.DraftID)
		if err != nil {
			return err
		}
		if d.SetState(DraftFailed) != nil {
			return nil // no longer approved: nothing to report
		}
		it, err := s.saveDraft(ctx, tx, d)
		if err != nil {
			return err
		}
		msg := fmt.Sprintf("Draft #%d could not be published: %s. An approver can approve it again to retry.", d.ID, Sanitize(reason))
		if o == unknown && j.Kind == OpPublish {
			msg = fmt.Sprintf("Draft #%d could not be published for sure: Liaison could not tell whether it went out (%s). An approver can approve it again: Liaison then looks for it first, and posts it only if it is not there.", d.ID, Sanitize(reason))
		}
		if err := s.note(ctx, tx, it, msg); err != nil {
			return err
		}
		return s.syncItemStatus(ctx, tx, it)
	})
	if errors.Is(err, ErrJobLost) {
		return w.lost(j, err)
	} else if err != nil {
		return err
	}
	s.Log.Warn("outbox job dead", "conn", j.Conn, "job", j.ID, "kind", j.Kind, "attempts", j.Attempts, "outcome_unknown", o == unknown, "reason", reason)
	s.Metrics.Job(j.Kind, "dead")
	s.wake()
	return nil
}

// effect is what completing a job changed that is worth observing.
type effect struct {
	link  string    // the public post
	since time.Time // a card: when its message was written, on its platform
}

// applyResult records what the platform returned, in the transaction that
// marks the job done.
func (s *Service) applyResult(ctx context.Context, tx Tx, j *OutboxJob, op *Op, res Result) (effect, error) {
	switch j.Kind {
	case OpPostCard:
		it, err := tx.Item(ctx, j.ItemID)
		if err != nil {
			return effect{}, err
		}
		it.CardID, it.CardThread, it.CardLink = res.MessageID, res.ThreadID, res.Link
		if it.CardThread == "" {
			it.CardThread = res.MessageID
		}
		if err := tx.UpdateItem(ctx, it); err != nil {
			return effect{}, err
		}
		m, err := tx.MessageByKey(ctx, MessageKey{Conn: it.Conn, Channel: rootChannel(it), ID: it.RootMsgID})
		if errors.Is(err, ErrNotFound) {
			return effect{}, nil // forgotten meanwhile: no latency to observe
		} else if err != nil {
			return effect{}, err
		}
		return effect{since: m.CreatedAt}, nil
	case OpPostNote:
		if j.MessageID == 0 {
			return effect{}, nil
		}
		p, err := payloadOf(j)
		if err != nil {
			return effect{}, err
		}
		ms, err := mergedMessages(ctx, tx, j, p)
		if err != nil {
			return effect{}, err
		}
		for _, m := range ms {
			m.MirrorID = res.MessageID
			if err := tx.UpdateMessage(ctx, m); err != nil {
				return effect{}, err
			}
		}
		return effect{}, nil
	case OpPostDraftCard:
		d, err := tx.Draft(ctx, j.DraftID)
		if err != nil {
			return effect{}, err
		}
		d.CardID = res.MessageID
		return effect{}, tx.UpdateDraft(ctx, d)
	case OpPublish, OpEditPublic, OpDeletePublic:
		link, err := s.published(ctx, tx, j, op, res)
		return effect{link: link}, err
	}
	return effect{}, nil
}

// published records a draft's publication and returns its public link.
func (s *Service) published(ctx context.Context, tx Tx, j *OutboxJob, op *Op, res Result) (string, error) {
	d, err := tx.Draft(ctx, j.DraftID)
	if err != nil {
		return "", err
	}
	it, err := tx.Item(ctx, d.ItemID)
	if err != nil {
		return "", err
	}
	if err := d.SetState(DraftPublished); err != nil {
		return "", err
	}
	now := s.Clock()
	d.PublishedAt, d.UpdatedAt = &now, now
	switch d.Kind {
	case DraftReply:
		d.PublicID, d.PublicLink = res.MessageID, res.Link
		if it.FirstAnsweredAt == nil {
			it.FirstAnsweredAt = &now
		}
	case DraftCorrection, DraftRetraction:
		t, err := tx.Draft(ctx, d.Target)
		if err != nil {
			return "", err
		}
		d.PublicID, d.PublicLink = t.PublicID, t.PublicLink
		if d.Kind == DraftCorrection {
			t.Versions = append(t.Versions, DraftVersion{N: len(t.Versions) + 1, Text: d.Text(), EditorID: writer(d), At: now})
		} else if err := t.SetState(DraftRetracted); err != nil {
			return "", err
		}
		t.UpdatedAt = now
		if err := tx.UpdateDraft(ctx, t); err != nil {
			return "", err
		}
		if err := s.updateDraftCard(ctx, tx, it, t); err != nil {
			return "", err
		}
	}
	if err := tx.UpdateDraft(ctx, d); err != nil {
		return "", err
	}
	if err := s.updateDraftCard(ctx, tx, it, d); err != nil {
		return "", err
	}
	author, err := tx.Profile(ctx, d.AuthorID)
	if err != nil {
		return "", err
	}
	approver, err := reviewWords(ctx, tx, d)
	if err != nil {
		return "", err
	}
	who := staffName(author)
	if w := writer(d); w != d.AuthorID {
		wp, err := tx.Profile(ctx, w)
		if err != nil {
			return "", err
		}
		if d.Kind == DraftRetraction {
			who = staffName(wp)
		} else {
			who = fmt.Sprintf("%s, signed by %s who accepted the words", staffName(wp), staffName(author))
		}
	}
	var note string
	switch d.Kind {
	case DraftReply:
		note = fmt.Sprintf("Answered publicly by %s (%s): %s", who, approver, res.Link)
	case DraftCorrection:
		note = fmt.Sprintf("The public reply was corrected by %s (%s): %s", who, approver, d.PublicLink)
	case DraftRetraction:
		note = fmt.Sprintf("The public reply was removed by %s (%s).", who, approver)
	}
	if res.Fallback {
		note += "\n" + fallbackNote(author, res)
	}
	if err := s.note(ctx, tx, it, note); err != nil {
		return "", err
	}
	if err := s.audit(ctx, tx, "system", "draft.published", subject("draft", d.ID), nil, map[string]any{"kind": d.Kind, "public_id": d.PublicID, "link": d.PublicLink, "text": op.Post}); err != nil {
		return "", err
	}
	return d.PublicLink, s.syncItemStatus(ctx, tx, it)
}

// ResultOf decodes a done job's result.
func ResultOf(j *OutboxJob) (Result, error) {
	var r Result
	if j.Result == "" {
		return r, nil
	}
	err := json.Unmarshal([]byte(j.Result), &r)
	return r, err
}

// reviewWords says how a published draft was reviewed.
func reviewWords(ctx context.Context, tx Tx, d *Draft) (string, error) {
	switch {
	case d.ApproverID == 0:
		return "no review needed", nil
	case d.ApproverID == writer(d) && d.ApproverID == d.AuthorID:
		return "self-approved", nil
	}
	a, err := tx.Profile(ctx, d.ApproverID)
	if err != nil {
		return "", err
	}
	return "approved by " + staffName(a), nil
}
