package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/liaison-bot/liaison/bot"
)

// People's Homes: who opened theirs (home_viewers, one row a person and
// connection, replaced at each opening), and the lists a Home shows. The
// lists are read for rendering and lock nothing.

// SaveHomeViewer inserts or replaces what is known of a person who opened
// their Home: the primary key (conn, user_id) keeps one row each.
func (tx *tx) SaveHomeViewer(ctx context.Context, v *bot.HomeViewer) error {
	groups, err := jsonOf(v.Groups)
	if err != nil {
		return fmt.Errorf("record the Home of %s/%s: %w", v.Conn, v.UserID, err)
	}
	_, err = tx.exec(ctx, `
		INSERT INTO home_viewers (conn, user_id, group_ids, opened_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (conn, user_id) DO UPDATE SET group_ids = excluded.group_ids, opened_at = excluded.opened_at`,
		v.Conn, v.UserID, groups, at(v.OpenedAt))
	if err != nil {
		return fmt.Errorf("record the Home of %s/%s: %w", v.Conn, v.UserID, err)
	}
	return nil
}

const homeViewerColumns = `conn, user_id, group_ids, opened_at`

func scanHomeViewer(s scanner) (*bot.HomeViewer, error) {
	var v bot.HomeViewer
	if err := s.Scan(&v.Conn, &v.UserID, fromJSON(&v.Groups), (*stamp)(&v.OpenedAt)); err != nil {
		return nil, err
	}
	return &v, nil
}

// HomeViewer reads what was recorded of a person who opened their Home.
func (tx *tx) HomeViewer(ctx context.Context, conn, userID string) (*bot.HomeViewer, error) {
	v, err := scanHomeViewer(tx.queryRow(ctx, `SELECT `+homeViewerColumns+` FROM home_viewers WHERE conn = ? AND user_id = ?`, conn, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("Home of %s/%s: %w", conn, userID, bot.ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("get the Home of %s/%s: %w", conn, userID, err)
	}
	return v, nil
}

// HomeViewers lists the people who opened their Home on conn since since
// (home_viewers_opened).
func (tx *tx) HomeViewers(ctx context.Context, conn string, since time.Time) ([]*bot.HomeViewer, error) {
	vs, err := queryAll(ctx, tx, scanHomeViewer, `
		SELECT `+homeViewerColumns+` FROM home_viewers WHERE conn = ? AND opened_at >= ?`,
		conn, at(since))
	if err != nil {
		return nil, fmt.Errorf("list the Homes opened on %s: %w", conn, err)
	}
	return vs, nil
}

// AssignedItems reads a page of a person's items waiting for an answer,
// and counts them all (items_assigned).
func (tx *tx) AssignedItems(ctx context.Context, profileID int64, limit int) ([]*bot.Item, int, error) {
	items, err := queryAll(ctx, tx, scanItem, `
		SELECT `+itemColumns+` FROM items
		WHERE assignee = ? AND assignee <> 0 AND status IN `+waitingStatuses+`
		ORDER BY id
		LIMIT ?`,
		profileID, limit)
	var total int
	if err == nil {
		err = tx.queryRow(ctx, `SELECT COUNT(*) FROM items WHERE assignee = ? AND assignee <> 0 AND status IN `+waitingStatuses, profileID).Scan(&total)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("list the items assigned to profile %d: %w", profileID, err)
	}
	return items, total, nil
}

// DraftsToReview reads the drafts pending or failed (drafts_review) whose
// item is on one of routes.
func (tx *tx) DraftsToReview(ctx context.Context, routes []string, limit int) ([]*bot.Draft, error) {
	if len(routes) == 0 || limit <= 0 {
		return nil, nil
	}
	q, args, err := sqlx.In(`
		SELECT `+draftColumns+` FROM drafts
		WHERE state IN ('pending', 'failed')
		AND EXISTS (SELECT 1 FROM items i WHERE i.id = drafts.item_id AND i.route IN (?))
		ORDER BY id
		LIMIT ?`, routes, limit)
	var ds []*bot.Draft
	if err == nil {
		ds, err = queryAll(ctx, tx, scanDraft, q, args...)
	}
	if err == nil {
		err = loadDraftsVersions(ctx, tx, ds)
	}
	if err != nil {
		return nil, fmt.Errorf("list the drafts to review on %v: %w", routes, err)
	}
	return ds, nil
}

// draftsOf are the ids of the drafts a profile signs (drafts_author_state)
// or proposed, its first version being theirs (draft_versions_proposer).
const draftsOf = `
	SELECT id FROM drafts WHERE author_id = ?
	UNION
	SELECT draft_id FROM draft_versions WHERE n = 1 AND editor_id = ?`

// DraftsOf reads a page of the drafts a profile signs or proposed, newest
// first, and counts them all.
func (tx *tx) DraftsOf(ctx context.Context, profileID int64, limit int) ([]*bot.Draft, int, error) {
	ds, err := queryAll(ctx, tx, scanDraft, `
		SELECT `+draftColumns+` FROM drafts
		WHERE id IN (`+draftsOf+`)
		ORDER BY id DESC
		LIMIT ?`,
		profileID, profileID, limit)
	var total int
	if err == nil {
		err = tx.queryRow(ctx, `SELECT COUNT(*) FROM (`+draftsOf+`) AS mine`, profileID, profileID).Scan(&total)
	}
	if err == nil {
		err = loadDraftsVersions(ctx, tx, ds)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("list the drafts of profile %d: %w", profileID, err)
	}
	return ds, total, nil
}
