package storage

import (
	"time"

	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/liaison-bot/liaison/bot"
)

const itemColumns = `id, conn, channel, thread_id, thread_channel, root_channel, root_msg_id, link,
	author_id, author_name, author_handle, route, tags, status, assignee,
	card_conn, card_channel, card_id, card_thread, card_link,
	created_at, updated_at, first_answered_at`

func scanItem(s scanner) (*bot.Item, error) {
	var it bot.Item
	err := s.Scan(&it.ID, &it.Conn, &it.Channel, &it.ThreadID, &it.ThreadChannel, &it.RootChannel, &it.RootMsgID, &it.Link,
		&it.AuthorID, &it.AuthorName, &it.AuthorHandle, &it.Route, fromJSON(&it.Tags), &it.Status, &it.Assignee,
		&it.CardConn, &it.CardChannel, &it.CardID, &it.CardThread, &it.CardLink,
		(*stamp)(&it.CreatedAt), (*stamp)(&it.UpdatedAt), timeOrNil(&it.FirstAnsweredAt))
	if err != nil {
		return nil, err
	}
	return &it, nil
}

func (tx *tx) CreateItem(ctx context.Context, it *bot.Item) error {
	tags, err := jsonOf(it.Tags)
	if err != nil {
		return fmt.Errorf("create item: %w", err)
	}
	id, _, err := tx.insert(ctx, `
		INSERT INTO items (conn, channel, thread_id, thread_channel, root_channel, root_msg_id, link,
			author_id, author_name, author_handle, route, tags, status, assignee,
			card_conn, card_channel, card_id, card_thread, card_link,
			created_at, updated_at, first_answered_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		RETURNING id`,
		it.Conn, it.Channel, it.ThreadID, it.ThreadChannel, it.RootChannel, it.RootMsgID, it.Link,
		it.AuthorID, it.AuthorName, it.AuthorHandle, it.Route, tags, string(it.Status), it.Assignee,
		it.CardConn, it.CardChannel, it.CardID, it.CardThread, it.CardLink,
		at(it.CreatedAt), at(it.UpdatedAt), atOrNull(it.FirstAnsweredAt))
	if err != nil {
		return fmt.Errorf("create item: %w", err)
	}
	it.ID = id
	return nil
}

// Item reads an item the transaction may change: on Postgres the row stays
// locked until the transaction ends.
func (tx *tx) Item(ctx context.Context, id int64) (*bot.Item, error) {
	it, err := scanItem(tx.queryRow(ctx, `SELECT `+itemColumns+` FROM items WHERE id = ?`+tx.forUpdate(), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("item %d: %w", id, bot.ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("get item %d: %w", id, err)
	}
	return it, nil
}

func (tx *tx) UpdateItem(ctx context.Context, it *bot.Item) error {
	tags, err := jsonOf(it.Tags)
	if err != nil {
		return fmt.Errorf("update item %d: %w", it.ID, err)
	}
	err = tx.execOne(ctx, bot.ErrNotFound, `
		UPDATE items
		SET conn = ?, channel = ?, thread_id = ?, thread_channel = ?, root_channel = ?, root_msg_id = ?, link = ?,
			author_id = ?, author_name = ?, author_handle = ?, route = ?, tags = ?, status = ?, assignee = ?,
			card_conn = ?, card_channel = ?, card_id = ?, card_thread = ?, card_link = ?,
			updated_at = ?, first_answered_at = ?
		WHERE id = ?`,
		it.Conn, it.Channel, it.ThreadID, it.ThreadChannel, it.RootChannel, it.RootMsgID, it.Link,
		it.AuthorID, it.AuthorName, it.AuthorHandle, it.Route, tags, string(it.Status), it.Assignee,
		it.CardConn, it.CardChannel, it.CardID, it.CardThread, it.CardLink,
		at(it.UpdatedAt), atOrNull(it.FirstAnsweredAt),
		it.ID)
	if err != nil {
		return fmt.Errorf("update item %d: %w", it.ID, err)
	}
	return nil
}

// ItemByThread returns the first item opened in the thread, locked like Item.
func (tx *tx) ItemByThread(ctx context.Context, conn, channel, threadID string) (*bot.Item, error) {
	it, err := scanItem(tx.queryRow(ctx, `
		SELECT `+itemColumns+` FROM items
		WHERE conn = ? AND channel = ? AND thread_id = ?
		ORDER BY id
		LIMIT 1`+tx.forUpdate(),
		conn, channel, threadID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("item in thread %s/%s/%s: %w", conn, channel, threadID, bot.ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("get item in thread %s/%s/%s: %w", conn, channel, threadID, err)
	}
	return it, nil
}

// ItemByCardThread returns the item discussed in an internal thread, locked
// like Item.
func (tx *tx) ItemByCardThread(ctx context.Context, conn, channel, thread string) (*bot.Item, error) {
	it, err := scanItem(tx.queryRow(ctx, `
		SELECT `+itemColumns+` FROM items
		WHERE card_conn = ? AND card_channel = ? AND card_thread = ? AND card_thread <> ''
		ORDER BY id
		LIMIT 1`+tx.forUpdate(),
		conn, channel, thread))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("item with card thread %s/%s/%s: %w", conn, channel, thread, bot.ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("get item with card thread %s/%s/%s: %w", conn, channel, thread, err)
	}
	return it, nil
}

// lockItemOf locks the item a draft or message belongs to, before the
// caller locks that row itself. Every transaction thus takes row locks item
// first, whatever order the domain reads in (draft then item when
// approving, item then draft when rendering a job), and two transactions
// never wait on each other in opposite orders. It does nothing where reads
// take no locks (SQLite).
func lockItemOf(ctx context.Context, tx *tx, table, where string, args ...any) error {
	if tx.forUpdate() == "" {
		return nil
	}
	var id int64
	err := tx.queryRow(ctx, `SELECT id FROM items WHERE id = (SELECT item_id FROM `+table+` WHERE `+where+`)`+tx.forUpdate(),
		args...).Scan(&id)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("lock item: %w", err)
	}
	return nil
}

// waitingStatuses are the statuses of an item waiting for a public answer,
// as the partial indexes items_waiting and items_assigned list them.
const waitingStatuses = `('new', 'claimed', 'drafting', 'awaiting_approval')`

// UnansweredItems lists items still waiting for a public answer (new,
// claimed, drafting, awaiting approval) that were opened before before, in
// id order from the first id after afterID: a caller pages through them
// all, however many wait. The status list matches the partial index
// items_waiting, so a page reads waiting items only.
func (tx *tx) UnansweredItems(ctx context.Context, before time.Time, afterID int64, limit int) ([]*bot.Item, error) {
	items, err := queryAll(ctx, tx, scanItem, `
		SELECT `+itemColumns+` FROM items
		WHERE status IN `+waitingStatuses+` AND id > ? AND created_at < ?
		ORDER BY id
		LIMIT ?`,
		afterID, at(before), limit)
	if err != nil {
		return nil, fmt.Errorf("list unanswered items: %w", err)
	}
	return items, nil
}

// OpenItem stores a new item, its first message and its first job, in
// the way the engine does fastest (see dialect.openItem). When the message's
// key exists it reports false and the caller must roll back: the item may
// have been inserted.
func (tx *tx) OpenItem(ctx context.Context, it *bot.Item, m *bot.Message, j *bot.OutboxJob) (bool, error) {
	return tx.d.openItem(ctx, tx, it, m, j)
}

// openItemInTurn inserts the item, then its message, then its job.
func openItemInTurn(ctx context.Context, tx *tx, it *bot.Item, m *bot.Message, j *bot.OutboxJob) (bool, error) {
	if err := tx.CreateItem(ctx, it); err != nil {
		return false, err
	}
	m.ItemID, j.ItemID, j.OrderKey = it.ID, it.ID, bot.ItemOrderKey(it.ID)
	if ok, err := tx.InsertMessage(ctx, m); err != nil || !ok {
		return false, err
	}
	_, err := tx.Enqueue(ctx, j)
	return err == nil, err
}

// MemberHistory lists a member's items opened before item before, newest
// first, with the text of each one's first message. It only reads, and
// locks nothing: it serves rendering.
func (tx *tx) MemberHistory(ctx context.Context, conn, authorID string, before int64, limit int) ([]bot.HistoryEntry, error) {
	rows, err := tx.query(ctx, `
		SELECT i.id, i.status, i.created_at, COALESCE(m.text, '')
		FROM items i
		LEFT JOIN messages m ON m.conn = i.conn
			AND m.channel = CASE WHEN i.root_channel <> '' THEN i.root_channel ELSE i.channel END
			AND m.msg_id = i.root_msg_id
		WHERE i.conn = ? AND i.author_id = ? AND i.id < ?
		ORDER BY i.created_at DESC, i.id DESC
		LIMIT ?`,
		conn, authorID, before, limit)
	if err != nil {
		return nil, fmt.Errorf("history of %s/%s: %w", conn, authorID, err)
	}
	defer rows.Close()
	var out []bot.HistoryEntry
	for rows.Next() {
		var h bot.HistoryEntry
		if err := rows.Scan(&h.ItemID, &h.Status, (*stamp)(&h.At), &h.Snippet); err != nil {
			return nil, fmt.Errorf("history of %s/%s: %w", conn, authorID, err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history of %s/%s: %w", conn, authorID, err)
	}
	return out, nil
}
