package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/liaison-bot/liaison/bot"
)

// The rows statistics are computed from (bot/stats_compute.go). Each query
// reads one period's rows through an index of 00009_stats.sql, or what
// waits now; none locks anything. A route filter is a clause added to the
// query, not a condition on a parameter, so that each form is planned for
// what it is.

// onRoute is the clause and arguments that keep the rows of route, whose
// items are aliased i; nothing for every route.
func onRoute(route string) (string, []any) {
	if route == "" {
		return "", nil
	}
	return " AND i.route = ?", []any{route}
}

const statsItemColumns = `i.id, i.route, i.status, i.tags, i.created_at, i.first_answered_at`

func scanStatsItem(s scanner) (*bot.StatsItem, error) {
	var it bot.StatsItem
	err := s.Scan(&it.ID, &it.Route, &it.Status, fromJSON(&it.Tags), (*stamp)(&it.CreatedAt), timeOrNil(&it.FirstAnsweredAt))
	if err != nil {
		return nil, err
	}
	return &it, nil
}

func statsItems(ctx context.Context, tx *tx, query string, args ...any) ([]bot.StatsItem, error) {
	rows, err := queryAll(ctx, tx, scanStatsItem, query, args...)
	if err != nil {
		return nil, err
	}
	out := make([]bot.StatsItem, len(rows))
	for i, r := range rows {
		out[i] = *r
	}
	return out, nil
}

// StatsItems lists the items opened in [from, to), oldest first.
func (tx *tx) StatsItems(ctx context.Context, from, to time.Time, route string) ([]bot.StatsItem, error) {
	clause, args := onRoute(route)
	items, err := statsItems(ctx, tx, `
		SELECT `+statsItemColumns+` FROM items i
		WHERE i.created_at >= ? AND i.created_at < ?`+clause+`
		ORDER BY i.created_at, i.id`,
		append([]any{at(from), at(to)}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("stats: items opened in [%s, %s): %w", from.Format(time.RFC3339), to.Format(time.RFC3339), err)
	}
	return items, nil
}

// StatsWaiting lists the items waiting for a public answer, oldest first.
// The status list is the one of the partial index items_waiting.
func (tx *tx) StatsWaiting(ctx context.Context, route string) ([]bot.StatsItem, error) {
	clause, args := onRoute(route)
	items, err := statsItems(ctx, tx, `
		SELECT `+statsItemColumns+` FROM items i
		WHERE i.status IN `+waitingStatuses+clause+`
		ORDER BY i.created_at, i.id`,
		args...)
	if err != nil {
		return nil, fmt.Errorf("stats: waiting items: %w", err)
	}
	return items, nil
}

// StatsApprovals lists the drafts decided in [from, to) by an approver,
// rejections aside (they record an approver and a decision time too).
func (tx *tx) StatsApprovals(ctx context.Context, from, to time.Time, route string) ([]bot.StatsApproval, error) {
	clause, args := onRoute(route)
	rows, err := tx.query(ctx, `
		SELECT d.id, i.route, d.created_at, d.decided_at
		FROM drafts d JOIN items i ON i.id = d.item_id
		WHERE d.decided_at >= ? AND d.decided_at < ? AND d.approver_id <> 0 AND d.state <> 'rejected'`+clause+`
		ORDER BY d.decided_at, d.id`,
		append([]any{at(from), at(to)}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("stats: approvals: %w", err)
	}
	defer rows.Close()
	var out []bot.StatsApproval
	for rows.Next() {
		var a bot.StatsApproval
		if err := rows.Scan(&a.DraftID, &a.Route, (*stamp)(&a.SubmittedAt), (*stamp)(&a.DecidedAt)); err != nil {
			return nil, fmt.Errorf("stats: approvals: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("stats: approvals: %w", err)
	}
	return out, nil
}

// StatsAwaitingApproval counts the drafts pending or awaiting their signer
// (the partial index drafts_open).
func (tx *tx) StatsAwaitingApproval(ctx context.Context, route string) (int, error) {
	clause, args := onRoute(route)
	var n int
	err := tx.queryRow(ctx, `
		SELECT COUNT(*) FROM drafts d JOIN items i ON i.id = d.item_id
		WHERE d.state IN ('pending', 'awaiting_signer')`+clause,
		args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("stats: drafts awaiting approval: %w", err)
	}
	return n, nil
}

// StatsResponders counts the replies published in [from, to) by their
// signer's public name.
func (tx *tx) StatsResponders(ctx context.Context, from, to time.Time, route string) ([]bot.Count, error) {
	clause, args := onRoute(route)
	rows, err := tx.query(ctx, `
		SELECT COALESCE(p.name, ''), COUNT(*)
		FROM drafts d
		JOIN items i ON i.id = d.item_id
		LEFT JOIN profiles p ON p.id = d.author_id
		WHERE d.kind = 'reply' AND d.published_at >= ? AND d.published_at < ?`+clause+`
		GROUP BY COALESCE(p.name, '')`,
		append([]any{at(from), at(to)}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("stats: responders: %w", err)
	}
	defer rows.Close()
	var out []bot.Count
	for rows.Next() {
		var c bot.Count
		if err := rows.Scan(&c.Name, &c.N); err != nil {
			return nil, fmt.Errorf("stats: responders: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("stats: responders: %w", err)
	}
	return out, nil
}

// StatsMembers counts the members who wrote in [from, to), and those of
// them who wrote before from (anywhere Liaison watches, through
// messages_author). Without a route every message counts, routed or not;
// on a route, only those of its items.
func (tx *tx) StatsMembers(ctx context.Context, from, to time.Time, route string) (members, returning int, err error) {
	join, clause, args := "", "", []any(nil)
	if route != "" {
		join, clause, args = " JOIN items i ON i.id = m.item_id", " AND i.route = ?", []any{route}
	}
	err = tx.queryRow(ctx, `
		SELECT COUNT(*), COALESCE(SUM(CASE WHEN EXISTS (
				SELECT 1 FROM messages o WHERE o.conn = w.conn AND o.author_id = w.author_id AND o.created_at < ?
			) THEN 1 ELSE 0 END), 0)
		FROM (
			SELECT DISTINCT m.conn, m.author_id FROM messages m`+join+`
			WHERE m.created_at >= ? AND m.created_at < ? AND m.author_id <> ''`+clause+`
		) w`,
		append([]any{at(from), at(from), at(to)}, args...)...).Scan(&members, &returning)
	if err != nil {
		return 0, 0, fmt.Errorf("stats: members: %w", err)
	}
	return members, returning, nil
}
