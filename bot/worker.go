package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Worker carries out outbox jobs through the platform ports. Several workers,
// in one process or in replicas sharing a Postgres database, can run at once:
// the store leases each job to one of them.
//
// Exactly once: a job that creates a platform message and whose previous
// attempt may have reached the platform (the worker died, or the answer was
// lost) is reconciled with Platform.Find before it is sent again. See
// docs/exactly-once.md.
type Worker struct {
	svc   *Service
	Owner string

	Lease        time.Duration // how long a claimed job is ours; far above CallTimeout
	CallTimeout  time.Duration // one platform call
	Poll         time.Duration // idle wait between claims
	Batch        int
	MaxFailures  int // failures before a job is dead (rate-limit waits are not failures)
	BaseBackoff  time.Duration
	MaxBackoff   time.Duration
	Jitter       func() float64 // in [0,1)
	blockedUntil map[string]time.Time
}

// NewWorker returns a worker named owner (unique per process) with defaults.
func (s *Service) NewWorker(owner string) *Worker {
	return &Worker{
		svc: s, Owner: owner,
		Lease: 2 * time.Minute, CallTimeout: 30 * time.Second, Poll: time.Second, Batch: 16,
		MaxFailures: 8, BaseBackoff: time.Second, MaxBackoff: 5 * time.Minute,
		Jitter: rand.Float64, blockedUntil: map[string]time.Time{},
	}
}

// Run works until ctx is cancelled.
func (w *Worker) Run(ctx context.Context) error {
	for {
		n, err := w.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			w.svc.Log.Error("outbox", "err", err)
		}
		if ctx.Err() != nil {
			return nil
		}
		if n > 0 {
			continue
		}
		t := time.NewTimer(w.Poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-w.svc.kick:
		case <-t.C:
		}
		t.Stop()
	}
}

// RunOnce claims the jobs due now and carries them out, one by one. It
// returns how many it claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	now := w.svc.Clock()
	jobs, err := w.svc.Store.ClaimJobs(ctx, w.Owner, now, w.Lease, w.Batch)
	if err != nil {
		return 0, fmt.Errorf("claim jobs: %w", err)
	}
	for _, j := range jobs {
		if err := w.run(ctx, j); err != nil {
			if ctx.Err() != nil {
				return len(jobs), ctx.Err()
			}
			w.svc.Log.Error("outbox job", "job", j.ID, "kind", j.Kind, "err", err)
		}
	}
	return len(jobs), nil
}

func (w *Worker) run(ctx context.Context, j *OutboxJob) error {
	s := w.svc
	for _, key := range []string{j.Conn + "/" + j.Channel, j.Conn + "/*"} {
		if until, ok := w.blockedUntil[key]; ok && s.Clock().Before(until) {
			return w.retry(ctx, j, JobRetry{At: until, Err: "waiting out a rate limit", Uncertain: j.Uncertain})
		}
	}
	var op *Op
	var skip string
	// Rendering only reads: no row locks are taken.
	err := s.Store.View(ctx, func(tx Tx) (err error) {
		op, skip, err = s.buildOp(ctx, tx, j)
		return err
	})
	if err != nil {
		var se *SendError
		if errors.As(err, &se) && se.Kind == PermanentKind {
			return w.dead(ctx, j, err.Error())
		}
		if errors.Is(err, ErrNotFound) {
			return w.dead(ctx, j, err.Error())
		}
		return w.retry(ctx, j, JobRetry{At: w.backoff(j), Err: err.Error(), Failed: true, Uncertain: j.Uncertain})
	}
	if skip != "" {
		return w.complete(ctx, j, op, Result{}, skip)
	}
	p, ok := s.Platforms[op.Conn]
	if !ok {
		return w.dead(ctx, j, fmt.Sprintf("no connection named %q", op.Conn))
	}
	if j.Uncertain && op.Kind.Creates() {
		cctx, cancel := context.WithTimeout(ctx, w.CallTimeout)
		res, found, err := p.Find(cctx, op)
		cancel()
		if err != nil {
			return w.failed(ctx, j, &reconcileError{err})
		}
		if found {
			s.Log.Info("outbox job reconciled", "job", j.ID, "kind", j.Kind)
			s.Metrics.Job(j.Kind, "reconciled")
			return w.complete(ctx, j, op, res, "")
		}
	}
	cctx, cancel := context.WithTimeout(ctx, w.CallTimeout)
	res, err := p.Send(cctx, op)
	cancel()
	if err != nil {
		return w.failed(ctx, j, err)
	}
	return w.complete(ctx, j, op, res, "")
}

// reconcileError is a failure to look up the outcome of an earlier attempt:
// that attempt stays uncertain whatever this failure was.
type reconcileError struct{ err error }

func (e *reconcileError) Error() string { return "reconcile: " + e.err.Error() }
func (e *reconcileError) Unwrap() error { return e.err }

// failed decides what a failed call means for the job.
func (w *Worker) failed(ctx context.Context, j *OutboxJob, err error) error {
	var re *reconcileError
	reconciling := errors.As(err, &re)
	se := classify(err)
	switch se.Kind {
	case RetryAfterKind:
		w.svc.Metrics.Job(j.Kind, "rate_limited")
		until := w.svc.Clock().Add(se.After)
		key := j.Conn + "/" + j.Channel
		if se.Global {
			key = j.Conn + "/*"
		}
		w.blockedUntil[key] = until
		// A rate limit rejects the call before it happens.
		return w.retry(ctx, j, JobRetry{At: until, Err: err.Error(), Uncertain: j.Uncertain && reconciling})
	case PermanentKind:
		return w.dead(ctx, j, err.Error())
	}
	if j.Attempts+1 >= w.MaxFailures {
		return w.dead(ctx, j, err.Error())
	}
	w.svc.Metrics.Job(j.Kind, "retry")
	uncertain := se.Kind == UnknownOutcome || (reconciling && j.Uncertain)
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

func (w *Worker) retry(ctx context.Context, j *OutboxJob, r JobRetry) error {
	return w.svc.Store.InTx(ctx, func(tx Tx) error {
		return tx.RetryJob(ctx, j.ID, w.Owner, r)
	})
}

func (w *Worker) complete(ctx context.Context, j *OutboxJob, op *Op, res Result, skip string) error {
	s := w.svc
	err := s.Store.InTx(ctx, func(tx Tx) error {
		if err := tx.CompleteJob(ctx, j.ID, w.Owner, jsonOf(res), s.Clock()); err != nil {
			return err
		}
		if skip != "" {
			s.Log.Info("outbox job skipped", "job", j.ID, "kind", j.Kind, "reason", skip)
			return nil
		}
		return s.applyResult(ctx, tx, j, op, res)
	})
	if err == nil {
		s.Metrics.Job(j.Kind, "done")
		s.wake()
	}
	return err
}

// dead gives up on a job. A public operation that cannot be done marks its
// draft failed and says so in the internal thread.
func (w *Worker) dead(ctx context.Context, j *OutboxJob, reason string) error {
	s := w.svc
	s.Log.Warn("outbox job dead", "job", j.ID, "kind", j.Kind, "reason", reason)
	s.Metrics.Job(j.Kind, "dead")
	err := s.Store.InTx(ctx, func(tx Tx) error {
		if err := tx.KillJob(ctx, j.ID, w.Owner, reason, s.Clock()); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, "system", "job.dead", subject("job", j.ID), nil, map[string]any{"kind": j.Kind, "reason": reason}); err != nil {
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
		if err := s.note(ctx, tx, it, msg); err != nil {
			return err
		}
		return s.syncItemStatus(ctx, tx, it)
	})
	if err == nil {
		s.wake()
	}
	return err
}

// applyResult records what the platform returned, in the transaction that
// marks the job done.
func (s *Service) applyResult(ctx context.Context, tx Tx, j *OutboxJob, op *Op, res Result) error {
	switch j.Kind {
	case OpPostCard:
		it, err := tx.Item(ctx, j.ItemID)
		if err != nil {
			return err
		}
		it.CardID, it.CardThread, it.CardLink = res.MessageID, res.ThreadID, res.Link
		if it.CardThread == "" {
			it.CardThread = res.MessageID
		}
		return tx.UpdateItem(ctx, it)
	case OpPostNote:
		if j.MessageID == 0 {
			return nil
		}
		m, err := tx.MessageByID(ctx, j.MessageID)
		if err != nil {
			return err
		}
		m.MirrorID = res.MessageID
		return tx.UpdateMessage(ctx, m)
	case OpPostDraftCard:
		d, err := tx.Draft(ctx, j.DraftID)
		if err != nil {
			return err
		}
		d.CardID = res.MessageID
		return tx.UpdateDraft(ctx, d)
	case OpPublish, OpEditPublic, OpDeletePublic:
		return s.published(ctx, tx, j, op, res)
	}
	return nil
}

func (s *Service) published(ctx context.Context, tx Tx, j *OutboxJob, op *Op, res Result) error {
	d, err := tx.Draft(ctx, j.DraftID)
	if err != nil {
		return err
	}
	it, err := tx.Item(ctx, d.ItemID)
	if err != nil {
		return err
	}
	if err := d.SetState(DraftPublished); err != nil {
		return err
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
			return err
		}
		d.PublicID, d.PublicLink = t.PublicID, t.PublicLink
		if d.Kind == DraftCorrection {
			t.Versions = append(t.Versions, DraftVersion{N: len(t.Versions) + 1, Text: d.Text(), EditorID: writer(d), At: now})
		} else if err := t.SetState(DraftRetracted); err != nil {
			return err
		}
		t.UpdatedAt = now
		if err := tx.UpdateDraft(ctx, t); err != nil {
			return err
		}
		if err := s.updateDraftCard(ctx, tx, it, t); err != nil {
			return err
		}
	}
	if err := tx.UpdateDraft(ctx, d); err != nil {
		return err
	}
	if err := s.updateDraftCard(ctx, tx, it, d); err != nil {
		return err
	}
	author, err := tx.Profile(ctx, d.AuthorID)
	if err != nil {
		return err
	}
	approver, err := reviewWords(ctx, tx, d)
	if err != nil {
		return err
	}
	who := staffName(author)
	if w := writer(d); w != d.AuthorID {
		wp, err := tx.Profile(ctx, w)
		if err != nil {
			return err
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
		return err
	}
	if err := s.audit(ctx, tx, "system", "draft.published", subject("draft", d.ID), nil, map[string]any{"kind": d.Kind, "public_id": d.PublicID, "link": d.PublicLink, "text": op.Post}); err != nil {
		return err
	}
	return s.syncItemStatus(ctx, tx, it)
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
