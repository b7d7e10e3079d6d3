package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/liaison-bot/liaison/bot"
)

// The audit export reads; nothing here writes or locks.

// AuditItemIDs lists the items opened or changed at or after since, in id
// order from the first id after afterID, so that an export pages through
// them in short transactions.
func (tx *tx) AuditItemIDs(ctx context.Context, since time.Time, afterID int64, limit int) ([]int64, error) {
	rows, err := tx.query(ctx, `
		SELECT id FROM items
		WHERE id > ? AND (created_at >= ? OR updated_at >= ?)
		ORDER BY id
		LIMIT ?`,
		afterID, at(since), at(since), limit)
	if err != nil {
		return nil, fmt.Errorf("list items since %s: %w", since.Format(time.RFC3339), err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("list items since %s: %w", since.Format(time.RFC3339), err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list items since %s: %w", since.Format(time.RFC3339), err)
	}
	return ids, nil
}

// ItemMessages lists the public messages of the items with ids in
// [first, last], by item, oldest first. An export reads a page of items'
// messages at once: no index serves messages by item (intake would pay
// for it on every message), so each call reads the table once.
func (tx *tx) ItemMessages(ctx context.Context, first, last int64) ([]*bot.Message, error) {
	msgs, err := queryAll(ctx, tx, scanMessage, `
		SELECT `+messageColumns+` FROM messages
		WHERE item_id >= ? AND item_id <= ?
		ORDER BY item_id, created_at, id`,
		first, last)
	if err != nil {
		return nil, fmt.Errorf("messages of items %d to %d: %w", first, last, err)
	}
	return msgs, nil
}
