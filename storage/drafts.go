package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/liaison-bot/liaison/bot"
)

const draftColumns = `id, item_id, kind, target, author_id, state, approver_id, reject_reason, card_id,
	public_conn, public_channel, public_id, public_link,
	created_at, updated_at, decided_at, published_at`

func scanDraft(s scanner) (*bot.Draft, error) {
	var d bot.Draft
	err := s.Scan(&d.ID, &d.ItemID, &d.Kind, &d.Target, &d.AuthorID, &d.State, &d.ApproverID, &d.RejectReason, &d.CardID,
		&d.PublicConn, &d.PublicChannel, &d.PublicID, &d.PublicLink,
		(*stamp)(&d.CreatedAt), (*stamp)(&d.UpdatedAt), timeOrNil(&d.DecidedAt), timeOrNil(&d.PublishedAt))
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// CreateDraft inserts d and its versions. A version without a number gets
// its place in the list (1, 2, …).
func (tx *tx) CreateDraft(ctx context.Context, d *bot.Draft) error {
	id, _, err := tx.insert(ctx, `
		INSERT INTO drafts (item_id, kind, target, author_id, state, approver_id, reject_reason, card_id,
			public_conn, public_channel, public_id, public_link,
			created_at, updated_at, decided_at, published_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		RETURNING id`,
		d.ItemID, string(d.Kind), d.Target, d.AuthorID, string(d.State), d.ApproverID, d.RejectReason, d.CardID,
		d.PublicConn, d.PublicChannel, d.PublicID, d.PublicLink,
		at(d.CreatedAt), at(d.UpdatedAt), atOrNull(d.DecidedAt), atOrNull(d.PublishedAt))
	if err != nil {
		return fmt.Errorf("create draft for item %d: %w", d.ItemID, err)
	}
	d.ID = id
	if err := insertDraftVersions(ctx, tx, d, 0); err != nil {
		return fmt.Errorf("create draft %d: %w", d.ID, err)
	}
	return nil
}

// Draft reads a draft the transaction may change: on Postgres its item and
// then its row stay locked until the transaction ends.
func (tx *tx) Draft(ctx context.Context, id int64) (*bot.Draft, error) {
	if err := lockItemOf(ctx, tx, "drafts", "id = ?", id); err != nil {
		return nil, fmt.Errorf("get draft %d: %w", id, err)
	}
	d, err := scanDraft(tx.queryRow(ctx, `SELECT `+draftColumns+` FROM drafts WHERE id = ?`+tx.forUpdate(), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("draft %d: %w", id, bot.ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("get draft %d: %w", id, err)
	}
	if err := loadDraftVersions(ctx, tx, d); err != nil {
		return nil, fmt.Errorf("get draft %d: %w", id, err)
	}
	return d, nil
}

// UpdateDraft writes the mutable fields and appends the versions numbered
// after the last one stored; stored versions are never changed.
func (tx *tx) UpdateDraft(ctx context.Context, d *bot.Draft) error {
	err := tx.execOne(ctx, bot.ErrNotFound, `
		UPDATE drafts
		SET kind = ?, target = ?, author_id = ?, state = ?, approver_id = ?, reject_reason = ?, card_id = ?,
			public_conn = ?, public_channel = ?, public_id = ?, public_link = ?,
			updated_at = ?, decided_at = ?, published_at = ?
		WHERE id = ?`,
		string(d.Kind), d.Target, d.AuthorID, string(d.State), d.ApproverID, d.RejectReason, d.CardID,
		d.PublicConn, d.PublicChannel, d.PublicID, d.PublicLink,
		at(d.UpdatedAt), atOrNull(d.DecidedAt), atOrNull(d.PublishedAt),
		d.ID)
	if err != nil {
		return fmt.Errorf("update draft %d: %w", d.ID, err)
	}
	var last int
	if err := tx.queryRow(ctx, `SELECT COALESCE(MAX(n), 0) FROM draft_versions WHERE draft_id = ?`, d.ID).Scan(&last); err != nil {
		return fmt.Errorf("update draft %d: last version: %w", d.ID, err)
	}
	if err := insertDraftVersions(ctx, tx, d, last); err != nil {
		return fmt.Errorf("update draft %d: %w", d.ID, err)
	}
	return nil
}

func (tx *tx) DraftsByItem(ctx context.Context, itemID int64) ([]*bot.Draft, error) {
	ds, err := queryAll(ctx, tx, scanDraft, `
		SELECT `+draftColumns+` FROM drafts
		WHERE item_id = ?
		ORDER BY id`,
		itemID)
	if err == nil {
		err = loadDraftsVersions(ctx, tx, ds)
	}
	if err != nil {
		return nil, fmt.Errorf("list drafts of item %d: %w", itemID, err)
	}
	return ds, nil
}

func (tx *tx) DraftsByAuthorState(ctx context.Context, authorID int64, state bot.DraftState) ([]*bot.Draft, error) {
	ds, err := queryAll(ctx, tx, scanDraft, `
		SELECT `+draftColumns+` FROM drafts
		WHERE author_id = ? AND state = ?
		ORDER BY created_at, id`,
		authorID, string(state))
	if err == nil {
		err = loadDraftsVersions(ctx, tx, ds)
	}
	if err != nil {
		return nil, fmt.Errorf("list %s drafts of profile %d: %w", state, authorID, err)
	}
	return ds, nil
}

// insertDraftVersions inserts d's versions numbered after last.
func insertDraftVersions(ctx context.Context, tx *tx, d *bot.Draft, last int) error {
	for i := range d.Versions {
		v := &d.Versions[i]
		if v.N == 0 {
			v.N = i + 1
		}
		if v.N <= last {
			continue
		}
		_, err := tx.exec(ctx, `
			INSERT INTO draft_versions (draft_id, n, text, editor_id, at)
			VALUES (?, ?, ?, ?, ?)`,
			d.ID, v.N, v.Text, v.EditorID, at(v.At))
		if err != nil {
			return fmt.Errorf("insert version %d: %w", v.N, err)
		}
	}
	return nil
}

const draftVersionColumns = `draft_id, n, text, editor_id, at`

func scanDraftVersion(s scanner) (draftID int64, v bot.DraftVersion, err error) {
	err = s.Scan(&draftID, &v.N, &v.Text, &v.EditorID, (*stamp)(&v.At))
	return draftID, v, err
}

func loadDraftVersions(ctx context.Context, tx *tx, d *bot.Draft) error {
	return loadDraftsVersions(ctx, tx, []*bot.Draft{d})
}

// loadDraftsVersions reads the versions of several drafts in one query.
func loadDraftsVersions(ctx context.Context, tx *tx, ds []*bot.Draft) error {
	if len(ds) == 0 {
		return nil
	}
	byID := make(map[int64]*bot.Draft, len(ds))
	ids := make([]int64, 0, len(ds))
	for _, d := range ds {
		byID[d.ID] = d
		ids = append(ids, d.ID)
		d.Versions = nil
	}
	q, args, err := sqlx.In(`SELECT `+draftVersionColumns+` FROM draft_versions WHERE draft_id IN (?) ORDER BY draft_id, n`, ids)
	if err != nil {
		return err
	}
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("read versions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		id, v, err := scanDraftVersion(rows)
		if err != nil {
			return fmt.Errorf("read versions: %w", err)
		}
		byID[id].Versions = append(byID[id].Versions, v)
	}
	return rows.Err()
}
