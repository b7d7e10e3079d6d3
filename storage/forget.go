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

// Forgetting a member: their rows stay, so that what was counted still
// counts, but what they wrote and their names are erased, and the messages
// are marked (forgotten_at) so that neither an edit nor a retention purge
// touches them again.

// MemberItems lists the items a member opened on conn, in id order. It
// locks nothing.
func (tx *tx) MemberItems(ctx context.Context, conn, authorID string) ([]*bot.Item, error) {
	items, err := queryAll(ctx, tx, scanItem, `
		SELECT `+itemColumns+` FROM items
		WHERE conn = ? AND author_id = ?
		ORDER BY id`,
		conn, authorID)
	if err != nil {
		return nil, fmt.Errorf("items of %s/%s: %w", conn, authorID, err)
	}
	return items, nil
}

// ForgetMember erases the text, attachments, name and handle of the
// member's messages on conn not erased yet, and their name and handle on the
// items they opened; it records the member as forgotten at now by by. It
// returns the messages it erased, as they now are, in id order. On
// Postgres the items those messages belong to are locked first, in the
// order every transaction locks them (see lockItemOf).
func (tx *tx) ForgetMember(ctx context.Context, conn, authorID, by string, now time.Time) ([]*bot.Message, error) {
	err := lockItems(ctx, tx, `
		SELECT item_id FROM messages WHERE conn = ? AND author_id = ?
		UNION SELECT id FROM items WHERE conn = ? AND author_id = ?`,
		conn, authorID, conn, authorID)
	if err != nil {
		return nil, fmt.Errorf("forget %s/%s: %w", conn, authorID, err)
	}
	msgs, err := queryAll(ctx, tx, scanMessage, `
		UPDATE messages
		SET text = '', attachments = '[]', author_name = '', author_handle = '', forgotten_at = ?
		WHERE conn = ? AND author_id = ? AND forgotten_at IS NULL
		RETURNING `+messageColumns,
		at(now), conn, authorID)
	if err != nil {
		return nil, fmt.Errorf("forget the messages of %s/%s: %w", conn, authorID, err)
	}
	slices.SortFunc(msgs, func(a, b *bot.Message) int { return cmp.Compare(a.ID, b.ID) })
	if _, err := tx.exec(ctx, `
		UPDATE items SET author_name = '', author_handle = ''
		WHERE conn = ? AND author_id = ? AND (author_name <> '' OR author_handle <> '')`,
		conn, authorID); err != nil {
		return nil, fmt.Errorf("forget the items of %s/%s: %w", conn, authorID, err)
	}
	if _, err := tx.exec(ctx, `
		INSERT INTO forgotten_members (conn, author_id, forgotten_at, forgotten_by)
		VALUES (?, ?, ?, ?)
		ON CONFLICT (conn, author_id) DO UPDATE
		SET forgotten_at = excluded.forgotten_at, forgotten_by = excluded.forgotten_by`,
		conn, authorID, at(now), by); err != nil {
		return nil, fmt.Errorf("record %s/%s as forgotten: %w", conn, authorID, err)
	}
	return msgs, nil
}

// MemberForgotten reports when a member was last forgotten; nil when never.
func (tx *tx) MemberForgotten(ctx context.Context, conn, authorID string) (*time.Time, error) {
	var t stamp
	err := tx.queryRow(ctx, `SELECT forgotten_at FROM forgotten_members WHERE conn = ? AND author_id = ?`,
		conn, authorID).Scan(&t)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("read whether %s/%s was forgotten: %w", conn, authorID, err)
	}
	v := time.Time(t)
	return &v, nil
}

// lockItems locks, where reads lock (Postgres), the items whose ids the
// sub-select itemIDs lists, in id order: before the caller changes their
// messages, so that it takes row locks in the order every transaction does.
func lockItems(ctx context.Context, tx *tx, itemIDs string, args ...any) error {
	if tx.forUpdate() == "" {
		return nil
	}
	rows, err := tx.query(ctx, `SELECT id FROM items WHERE id IN (`+itemIDs+`) ORDER BY id`+tx.forUpdate(), args...)
	if err != nil {
		return fmt.Errorf("lock items: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("lock items: %w", err)
	}
	return nil
}
