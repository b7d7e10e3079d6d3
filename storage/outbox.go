package storage

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/liaison-bot/liaison/bot"
)

// The outbox is a plain table rather than a job-queue library: jobs must be
// written in the caller's transaction on both engines, and the domain needs
// per-key FIFO (order_key), one-of-a-kind jobs (idem_key), coalescing of
// pending updates (coalesce_key) and a lease whose expiry marks the job
// uncertain so the worker reconciles before retrying. Each of those is one
// constraint or one clause here.
//
// States: pending → running (claimed, leased to locked_by until lease_until)
// → done | dead, or back to pending by RetryJob.

const jobColumns = `id, kind, item_id, draft_id, message_id, conn, channel, payload,
	order_key, idem_key, coalesce_key, state, attempts, uncertain, run_at,
	locked_by, locked_at, last_error, result, created_at, done_at`

func scanJob(s scanner) (*bot.OutboxJob, error) {
	var j bot.OutboxJob
	err := s.Scan(&j.ID, &j.Kind, &j.ItemID, &j.DraftID, &j.MessageID, &j.Conn, &j.Channel, &j.Payload,
		&j.OrderKey, zeroIfNull(&j.IdemKey), zeroIfNull(&j.CoalesceKey), &j.State, &j.Attempts, &j.Uncertain, (*stamp)(&j.RunAt),
		&j.LockedBy, timeOrNil(&j.LockedAt), &j.LastError, &j.Result, (*stamp)(&j.CreatedAt), timeOrNil(&j.DoneAt))
	if err != nil {
		return nil, err
	}
	return &j, nil
}

// Enqueue inserts j as a pending job. The UNIQUE idem_key and the unique
// index on coalesce_key among pending jobs make ON CONFLICT DO NOTHING skip
// it; empty keys are stored as NULL, which never collide.
func (tx *tx) Enqueue(ctx context.Context, j *bot.OutboxJob) (bool, error) {
	id, ok, err := tx.insert(ctx, `
		INSERT INTO outbox (kind, item_id, draft_id, message_id, conn, channel, payload,
			order_key, idem_key, coalesce_key, state, run_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)
		ON CONFLICT DO NOTHING
		RETURNING id`,
		string(j.Kind), j.ItemID, j.DraftID, j.MessageID, j.Conn, j.Channel, j.Payload,
		j.OrderKey, nullIfZero(j.IdemKey), nullIfZero(j.CoalesceKey), at(j.RunAt), at(j.CreatedAt))
	if err != nil {
		return false, fmt.Errorf("enqueue %s job: %w", j.Kind, err)
	}
	if ok {
		j.ID, j.State = id, bot.JobPending
	}
	return ok, nil
}

func (tx *tx) Job(ctx context.Context, id int64) (*bot.OutboxJob, error) {
	j, err := scanJob(tx.queryRow(ctx, `SELECT `+jobColumns+` FROM outbox WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("job %d: %w", id, bot.ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("get job %d: %w", id, err)
	}
	return j, nil
}

// ClaimJobs leases runnable jobs in one statement. On Postgres the
// sub-select skips rows another claimer has locked, so replicas share the
// table without ever taking the same job; on SQLite the transaction holds
// the write lock from its start (BEGIN IMMEDIATE), which serialises
// claimers. An expired lease means the worker died, maybe after sending:
// the job comes back uncertain.
func (db *DB) ClaimJobs(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]*bot.OutboxJob, error) {
	if limit <= 0 {
		return nil, nil
	}
	tx, err := db.begin(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("claim jobs: %w", err)
	}
	defer db.prepareAfter(ctx, tx)
	defer tx.tx.Rollback()
	jobs, err := claimJobs(ctx, tx, owner, now, now.Add(lease), limit)
	if err != nil {
		return nil, fmt.Errorf("claim jobs: %w", err)
	}
	if err := tx.commit(); err != nil {
		return nil, fmt.Errorf("claim jobs: %w", err)
	}
	return jobs, nil
}

// claimJobs: a job is runnable when pending and due, or running with an
// expired lease, and no earlier job with its order_key is pending or
// running (per-key FIFO).
func claimJobs(ctx context.Context, tx *tx, owner string, now, until time.Time, limit int) ([]*bot.OutboxJob, error) {
	jobs, err := queryAll(ctx, tx, scanJob, `
		UPDATE outbox
		SET state = 'running', locked_by = ?, locked_at = ?, lease_until = ?,
			uncertain = CASE WHEN state = 'running' THEN TRUE ELSE uncertain END
		WHERE id IN (
			SELECT j.id FROM outbox j
			WHERE j.state IN ('pending', 'running')
			AND ((j.state = 'pending' AND j.run_at <= ?) OR (j.state = 'running' AND j.lease_until <= ?))
			AND NOT EXISTS (
				SELECT 1 FROM outbox e
				WHERE e.order_key = j.order_key AND j.order_key <> '' AND e.id < j.id
				AND e.state IN ('pending', 'running'))
			ORDER BY j.run_at, j.id
			LIMIT ?`+tx.d.skipLocked+`)
		RETURNING `+jobColumns,
		owner, at(now), at(until), at(now), at(now), limit)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(jobs, func(a, b *bot.OutboxJob) int {
		return cmp.Or(a.RunAt.Compare(b.RunAt), cmp.Compare(a.ID, b.ID))
	})
	return jobs, nil
}

func (tx *tx) CompleteJob(ctx context.Context, id int64, owner, result string, now time.Time) error {
	res, err := tx.exec(ctx, `
		UPDATE outbox
		SET state = 'done', result = ?, done_at = ?, lease_until = NULL
		WHERE id = ? AND locked_by = ? AND state = 'running'`,
		result, at(now), id, owner)
	if err := held(ctx, tx, id, owner, res, err); err != nil {
		return fmt.Errorf("complete job %d: %w", id, err)
	}
	return nil
}

// RetryJob puts a job back to pending. Should another pending job hold its
// coalesce key meanwhile (enqueued while this one ran), the retried job
// gives up its key rather than fail: both then run, in order_key order.
func (tx *tx) RetryJob(ctx context.Context, id int64, owner string, r bot.JobRetry) error {
	inc := 0
	if r.Failed {
		inc = 1
	}
	res, err := tx.exec(ctx, `
		UPDATE outbox
		SET state = 'pending', run_at = ?, last_error = ?, attempts = attempts + ?, uncertain = ?,
			locked_by = '', locked_at = NULL, lease_until = NULL,
			coalesce_key = CASE
				WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.coalesce_key = outbox.coalesce_key AND o.state = 'pending')
				THEN NULL ELSE coalesce_key END
		WHERE id = ? AND locked_by = ? AND state = 'running'`,
		at(r.At), r.Err, inc, r.Uncertain, id, owner)
	if err := held(ctx, tx, id, owner, res, err); err != nil {
		return fmt.Errorf("retry job %d: %w", id, err)
	}
	return nil
}

func (tx *tx) KillJob(ctx context.Context, id int64, owner, lastErr string, now time.Time) error {
	res, err := tx.exec(ctx, `
		UPDATE outbox
		SET state = 'dead', last_error = ?, done_at = ?, lease_until = NULL
		WHERE id = ? AND locked_by = ? AND state = 'running'`,
		lastErr, at(now), id, owner)
	if err := held(ctx, tx, id, owner, res, err); err != nil {
		return fmt.Errorf("kill job %d: %w", id, err)
	}
	return nil
}

// held turns the result of an UPDATE … WHERE locked_by = owner AND state =
// 'running' into ECONFLICT when it changed nothing (another worker reclaimed
// the job, or it is finished), or a not-found error when there is no such job.
func held(ctx context.Context, tx *tx, id int64, owner string, res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 1 {
		return nil
	}
	var state, lockedBy string
	err = tx.queryRow(ctx, `SELECT state, locked_by FROM outbox WHERE id = ?`, id).Scan(&state, &lockedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return bot.ErrNotFound
	} else if err != nil {
		return err
	}
	return fmt.Errorf("%s no longer holds it (%s, locked by %q): %w", owner, state, lockedBy,
		bot.Errorf(bot.ECONFLICT, "This job is no longer held by this worker."))
}
