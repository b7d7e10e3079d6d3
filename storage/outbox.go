package storage

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
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
// the job comes back uncertain. The jobs skip names are left alone.
func (db *DB) ClaimJobs(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int, skip bot.Skip) ([]*bot.OutboxJob, error) {
	if limit <= 0 {
		return nil, nil
	}
	var jobs []*bot.OutboxJob
	err := db.worker(ctx, func(tx *tx) (err error) {
		jobs, err = claimJobs(ctx, tx, owner, now, now.Add(lease), limit, skip)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim jobs: %w", err)
	}
	return jobs, nil
}

// worker runs one of the worker's own statements in a transaction of its
// own, outside group commit: a claim or a lease renewal must not wait for,
// or fail with, the domain's transactions.
func (db *DB) worker(ctx context.Context, fn func(*tx) error) error {
	tx, err := db.begin(ctx, nil)
	if err != nil {
		return err
	}
	defer db.prepareAfter(ctx, tx)
	defer tx.tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.commit()
}

// ExtendJobLease moves the lease of a job owner holds to until. The WHERE
// is the check: a job another worker reclaimed, or that is finished, changes
// nothing and is a conflict. A lease that lapsed but that nobody took is
// still owner's, and is renewed: nobody else can have run the job.
func (db *DB) ExtendJobLease(ctx context.Context, id int64, owner string, until time.Time) error {
	err := db.worker(ctx, func(tx *tx) error {
		res, err := tx.exec(ctx, `
			UPDATE outbox SET lease_until = ?
			WHERE id = ? AND locked_by = ? AND state = 'running'`,
			at(until), id, owner)
		return held(ctx, tx, id, owner, res, err)
	})
	if err != nil {
		return fmt.Errorf("extend lease of job %d: %w", id, err)
	}
	return nil
}

// ReleaseJobs puts every job owner holds back to pending, as they were
// before it claimed them: due at the same time, uncertain only if they
// were. One row at a time, so that each gives up its coalesce key as
// RetryJob does should another pending job hold it.
func (db *DB) ReleaseJobs(ctx context.Context, owner string) (int, error) {
	n := 0
	err := db.worker(ctx, func(tx *tx) error {
		n = 0
		rows, err := tx.query(ctx, `SELECT id FROM outbox WHERE locked_by = ? AND state = 'running' ORDER BY id`, owner)
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range ids {
			res, err := tx.exec(ctx, `
				UPDATE outbox
				SET state = 'pending', locked_by = '', locked_at = NULL, lease_until = NULL,
					coalesce_key = CASE
						WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.coalesce_key = outbox.coalesce_key AND o.state = 'pending')
						THEN NULL ELSE coalesce_key END
				WHERE id = ? AND locked_by = ? AND state = 'running'`,
				id, owner)
			if err := held(ctx, tx, id, owner, res, err); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("release the jobs of %s: %w", owner, err)
	}
	return n, nil
}

// OutboxStats counts the live jobs due by now (pending or running) and
// says how long the oldest of them has been due.
func (db *DB) OutboxStats(ctx context.Context, now time.Time) (due int, oldestDue time.Duration, err error) {
	var oldest *time.Time
	err = db.db.QueryRowContext(ctx, db.db.Rebind(`
		SELECT COUNT(*), MIN(run_at) FROM outbox
		WHERE state IN ('pending', 'running') AND run_at <= ?`), at(now)).Scan(&due, timeOrNil(&oldest))
	if err != nil {
		return 0, 0, fmt.Errorf("outbox stats: %w", err)
	}
	if oldest != nil && now.After(*oldest) {
		oldestDue = now.Sub(*oldest)
	}
	return due, oldestDue, nil
}

// claimJobs: a job is runnable when pending and due, or running with an
// expired lease, and no earlier job with its order_key is pending or
// running (per-key FIFO). The most urgent go first (priorityOrder), and
// the jobs skip names wait.
func claimJobs(ctx context.Context, tx *tx, owner string, now, until time.Time, limit int, skip bot.Skip) ([]*bot.OutboxJob, error) {
	where, args := skipClause(skip)
	args = append([]any{owner, at(now), at(until), at(now), at(now)}, args...)
	args = append(args, limit)
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
				AND e.state IN ('pending', 'running'))`+where+`
			ORDER BY `+priorityOrder+`, j.run_at, j.id
			LIMIT ?`+tx.d.skipLocked+`)
		RETURNING `+jobColumns,
		args...)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(jobs, func(a, b *bot.OutboxJob) int {
		return cmp.Or(cmp.Compare(a.Kind.Priority(), b.Kind.Priority()), a.RunAt.Compare(b.RunAt), cmp.Compare(a.ID, b.ID))
	})
	return jobs, nil
}

// priorityOrder ranks a job j by bot.OpKind.Priority, in SQL.
var priorityOrder = func() string {
	var b strings.Builder
	b.WriteString("CASE j.kind")
	for _, k := range bot.OpKinds {
		fmt.Fprintf(&b, " WHEN '%s' THEN %d", k, k.Priority())
	}
	fmt.Fprintf(&b, " ELSE %d END", bot.PriorityRefresh)
	return b.String()
}()

// creatingKinds lists, in SQL, the kinds that create a message: those a
// channel's posting limit paces.
var creatingKinds = func() string {
	var ks []string
	for _, k := range bot.OpKinds {
		if k.Creates() {
			ks = append(ks, "'"+string(k)+"'")
		}
	}
	return "(" + strings.Join(ks, ", ") + ")"
}()

// skipClause is the claim's condition leaving alone what skip names.
func skipClause(skip bot.Skip) (string, []any) {
	var b strings.Builder
	var args []any
	if len(skip.Channels) > 0 {
		b.WriteString("\n\t\t\tAND NOT (j.kind IN " + creatingKinds + " AND j.conn || '/' || j.channel IN (" + marks(len(skip.Channels)) + "))")
		for _, c := range skip.Channels {
			args = append(args, c)
		}
	}
	if len(skip.Conns) > 0 {
		b.WriteString("\n\t\t\tAND j.conn NOT IN (" + marks(len(skip.Conns)) + ")")
		for _, c := range skip.Conns {
			args = append(args, c)
		}
	}
	return b.String(), args
}

// marks is n comma-separated placeholders.
func marks(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// FollowingJobs lists the pending jobs after id in orderKey, in order.
func (tx *tx) FollowingJobs(ctx context.Context, orderKey string, id int64, limit int) ([]*bot.OutboxJob, error) {
	jobs, err := queryAll(ctx, tx, scanJob, `
		SELECT `+jobColumns+` FROM outbox
		WHERE order_key = ? AND id > ? AND state IN ('pending', 'running')
		ORDER BY id
		LIMIT ?`,
		orderKey, id, limit)
	if err != nil {
		return nil, fmt.Errorf("jobs after %d in %s: %w", id, orderKey, err)
	}
	// A running one ends the run: nothing after it is pending in order.
	for i, j := range jobs {
		if j.State != bot.JobPending {
			return jobs[:i], nil
		}
	}
	return jobs, nil
}

// MergeJobs marks ids done as part of into, which owner holds, and gives
// into its payload.
func (tx *tx) MergeJobs(ctx context.Context, into int64, owner, payload string, ids []int64, now time.Time) error {
	res, err := tx.exec(ctx, `
		UPDATE outbox SET payload = ?
		WHERE id = ? AND locked_by = ? AND state = 'running'`,
		payload, into, owner)
	if err := held(ctx, tx, into, owner, res, err); err != nil {
		return fmt.Errorf("merge into job %d: %w", into, err)
	}
	result := fmt.Sprintf(`{"merged_into":%d}`, into)
	for _, id := range ids {
		res, err := tx.exec(ctx, `
			UPDATE outbox SET state = 'done', result = ?, done_at = ?
			WHERE id = ? AND state = 'pending'`,
			result, at(now), id)
		if err != nil {
			return fmt.Errorf("merge job %d into %d: %w", id, into, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("merge job %d into %d: %w", id, into, err)
		} else if n != 1 {
			return fmt.Errorf("merge job %d into %d: it is no longer pending: %w", id, into, bot.ErrJobLost)
		}
	}
	return nil
}

// PublishJobs lists every publish job a draft has had, oldest first,
// whatever became of each. The literal kind lets the query use the partial
// index outbox_publish, which only publish jobs pay for.
func (tx *tx) PublishJobs(ctx context.Context, draftID int64) ([]*bot.OutboxJob, error) {
	jobs, err := queryAll(ctx, tx, scanJob, `
		SELECT `+jobColumns+` FROM outbox
		WHERE draft_id = ? AND kind = 'publish'
		ORDER BY id`,
		draftID)
	if err != nil {
		return nil, fmt.Errorf("publish jobs of draft %d: %w", draftID, err)
	}
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
// 'running' into bot.ErrJobLost (ECONFLICT) when it changed nothing (another
// worker reclaimed the job, or it is finished), or a not-found error when
// there is no such job.
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
	return fmt.Errorf("%s no longer holds it (%s, locked by %q): %w", owner, state, lockedBy, bot.ErrJobLost)
}
