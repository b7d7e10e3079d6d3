package storage

import (
	"context"
	"fmt"

	"github.com/liaison-bot/liaison/bot"
)

// InsertDigest records a period of a digest. UNIQUE (name, period_end)
// makes ON CONFLICT DO NOTHING skip a period recorded already, by another
// replica or before a restart; on Postgres a concurrent insert of the same
// period waits for the first to commit, then skips.
func (tx *tx) InsertDigest(ctx context.Context, d *bot.DigestRun) (bool, error) {
	id, ok, err := tx.insert(ctx, `
		INSERT INTO digests (name, period_start, period_end, job_id, created_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (name, period_end) DO NOTHING
		RETURNING id`,
		d.Name, at(d.PeriodStart), at(d.PeriodEnd), d.JobID, at(d.CreatedAt))
	if err != nil {
		return false, fmt.Errorf("record digest %s ending %s: %w", d.Name, d.PeriodEnd, err)
	}
	if ok {
		d.ID = id
	}
	return ok, nil
}

// SetDigestJob records the job that posts a recorded period.
func (tx *tx) SetDigestJob(ctx context.Context, id, jobID int64) error {
	err := tx.execOne(ctx, fmt.Errorf("digest %d: %w", id, bot.ErrNotFound), `UPDATE digests SET job_id = ? WHERE id = ?`, jobID, id)
	if err != nil {
		return fmt.Errorf("set job of digest %d: %w", id, err)
	}
	return nil
}

// DigestRuns lists up to limit recorded periods of a digest, latest first.
func (tx *tx) DigestRuns(ctx context.Context, name string, limit int) ([]*bot.DigestRun, error) {
	rows, err := tx.query(ctx, `SELECT id, name, period_start, period_end, job_id, created_at FROM digests
		WHERE name = ? ORDER BY period_end DESC LIMIT ?`, name, limit)
	if err != nil {
		return nil, fmt.Errorf("digests %s: %w", name, err)
	}
	defer rows.Close()
	var out []*bot.DigestRun
	for rows.Next() {
		var d bot.DigestRun
		if err := rows.Scan(&d.ID, &d.Name, (*stamp)(&d.PeriodStart), (*stamp)(&d.PeriodEnd), &d.JobID, (*stamp)(&d.CreatedAt)); err != nil {
			return nil, fmt.Errorf("digests %s: %w", name, err)
		}
		out = append(out, &d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("digests %s: %w", name, err)
	}
	return out, nil
}
