package storage

import (
	"time"

	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"

	"github.com/liaison-bot/liaison/bot"
)

const itemColumns = `id, conn, channel, thread_id, thread_channel, root_channel, root_msg_id, link,
	author_id, author_name, route, tags, status, assignee,
	card_conn, card_channel, card_id, card_thread, card_link,
	created_at, updated_at, first_answered_at`

func scanItem(s scanner) (*bot.Item, error) {
	var it bot.Item
	err := s.Scan(&it.ID, &it.Conn, &it.Channel, &it.ThreadID, &it.ThreadChannel, &it.RootChannel, &it.RootMsgID, &it.Link,
		&it.AuthorID, &it.AuthorName, &it.Route, fromJSON(&it.Tags), &it.Status, &it.Assignee,
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
			author_id, author_name, route, tags, status, assignee,
			card_conn, card_channel, card_id, card_thread, card_link,
			created_at, updated_at, first_answered_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		RETURNING id`,
		it.Conn, it.Channel, it.ThreadID, it.ThreadChannel, it.RootChannel, it.RootMsgID, it.Link,
		it.AuthorID, it.AuthorName, it.Route, tags, string(it.Status), it.Assignee,
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
	it, err := scanItem(tx.queryRow(ctx, `SELECT `+itemColumns+` FROM items WHERE id = ?`+tx.d.forUpdate, id))
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
			author_id = ?, author_name = ?, route = ?, tags = ?, status = ?, assignee = ?,
			card_conn = ?, card_channel = ?, card_id = ?, card_thread = ?, card_link = ?,
			updated_at = ?, first_answered_at = ?
		WHERE id = ?`,
		it.Conn, it.Channel, it.ThreadID, it.ThreadChannel, it.RootChannel, it.RootMsgID, it.Link,
		it.AuthorID, it.AuthorName, it.Route, tags, string(it.Status), it.Assignee,
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
		LIMIT 1`+tx.d.forUpdate,
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
func (tx *tx) ItemByCardThread(ctx context.Context, conn, thread string) (*bot.Item, error) {
	it, err := scanItem(tx.queryRow(ctx, `
		SELECT `+itemColumns+` FROM items
		WHERE card_conn = ? AND card_thread = ? AND card_thread <> ''
		ORDER BY id
		LIMIT 1`+tx.d.forUpdate,
		conn, thread))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("item with card thread %s/%s: %w", conn, thread, bot.ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("get item with card thread %s/%s: %w", conn, thread, err)
	}
	return it, nil
}

// ItemsByAuthor lists a member's items, newest first; limit <= 0 means all.
func (tx *tx) ItemsByAuthor(ctx context.Context, conn, authorID string, limit int) ([]*bot.Item, error) {
	if limit <= 0 {
		limit = math.MaxInt32
	}
	items, err := queryAll(ctx, tx, scanItem, `
		SELECT `+itemColumns+` FROM items
		WHERE conn = ? AND author_id = ?
		ORDER BY created_at DESC, id DESC
		LIMIT ?`,
		conn, authorID, limit)
	if err != nil {
		return nil, fmt.Errorf("list items of %s/%s: %w", conn, authorID, err)
	}
	return items, nil
}

// lockItemOf locks the item a draft or message belongs to, before the
// caller locks that row itself. Every transaction thus takes row locks item
// first, whatever order the domain reads in (draft then item when
// approving, item then draft when rendering a job), and two transactions
// never wait on each other in opposite orders. It does nothing where reads
// take no locks (SQLite).
func lockItemOf(ctx context.Context, tx *tx, table, where string, args ...any) error {
	if tx.d.forUpdate == "" {
		return nil
	}
	var id int64
	err := tx.queryRow(ctx, `SELECT id FROM items WHERE id = (SELECT item_id FROM `+table+` WHERE `+where+`)`+tx.d.forUpdate,
		args...).Scan(&id)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("lock item: %w", err)
	}
	return nil
}

// UnansweredItems lists items still waiting for a public answer (new,
// claimed, drafting, awaiting approval) that were opened before before,
// oldest first.
func (tx *tx) UnansweredItems(ctx context.Context, before time.Time, limit int) ([]*bot.Item, error) {
	items, err := queryAll(ctx, tx, scanItem, `
		SELECT `+itemColumns+` FROM items
		WHERE status IN ('new', 'claimed', 'drafting', 'awaiting_approval') AND created_at < ?
		ORDER BY created_at, id
		LIMIT ?`,
		at(before), limit)
	if err != nil {
		return nil, fmt.Errorf("list unanswered items: %w", err)
	}
	return items, nil
}

// OpenItem stores a new item, its first message and its first job. On
// Postgres the three inserts are one statement (one round trip instead of
// three); elsewhere they run one after the other. When the message's key
// exists it reports false and the caller must roll back: the item may have
// been inserted.
func (tx *tx) OpenItem(ctx context.Context, it *bot.Item, m *bot.Message, j *bot.OutboxJob) (bool, error) {
	if !tx.d.writableCTE {
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
	tags, err := jsonOf(it.Tags)
	if err != nil {
		return false, fmt.Errorf("open item: %w", err)
	}
	attachments, err := jsonOf(m.Attachments)
	if err != nil {
		return false, fmt.Errorf("open item: %w", err)
	}
	// The job's order key is bot.ItemOrderKey of the new item's id.
	var itemID int64
	var msgID, jobID sql.NullInt64
	err = tx.queryRow(ctx, `
		WITH it AS (
			INSERT INTO items (conn, channel, thread_id, thread_channel, root_channel, root_msg_id, link,
				author_id, author_name, route, tags, status, assignee,
				card_conn, card_channel, card_id, card_thread, card_link,
				created_at, updated_at, first_answered_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			RETURNING id
		), m AS (
			INSERT INTO messages (conn, channel, msg_id, item_id, author_id, author_name, text,
				attachments, link, mirror_id, created_at)
			SELECT ?::text, ?::text, ?::text, it.id, ?::text, ?::text, ?::text, ?::text, ?::text, ?::text, ?::timestamptz FROM it
			ON CONFLICT (conn, channel, msg_id) DO NOTHING
			RETURNING id, item_id
		), j AS (
			INSERT INTO outbox (kind, item_id, conn, channel, payload, order_key, state, run_at, created_at)
			SELECT ?::text, m.item_id, ?::text, ?::text, ?::text, 'item:' || m.item_id, 'pending', ?::timestamptz, ?::timestamptz FROM m
			RETURNING id
		)
		SELECT it.id, m.id, j.id FROM it LEFT JOIN m ON TRUE LEFT JOIN j ON TRUE`,
		it.Conn, it.Channel, it.ThreadID, it.ThreadChannel, it.RootChannel, it.RootMsgID, it.Link,
		it.AuthorID, it.AuthorName, it.Route, tags, string(it.Status), it.Assignee,
		it.CardConn, it.CardChannel, it.CardID, it.CardThread, it.CardLink,
		at(it.CreatedAt), at(it.UpdatedAt), atOrNull(it.FirstAnsweredAt),
		m.Key.Conn, m.Key.Channel, m.Key.ID, m.AuthorID, m.AuthorName, m.Text, attachments, m.Link, m.MirrorID, at(m.CreatedAt),
		string(j.Kind), j.Conn, j.Channel, j.Payload, at(j.RunAt), at(j.CreatedAt),
	).Scan(&itemID, &msgID, &jobID)
	if err != nil {
		return false, fmt.Errorf("open item: %w", conflict(err))
	}
	it.ID = itemID
	if !msgID.Valid {
		return false, nil
	}
	m.ID, m.ItemID = msgID.Int64, itemID
	j.ID, j.ItemID, j.OrderKey, j.State = jobID.Int64, itemID, bot.ItemOrderKey(itemID), bot.JobPending
	return true, nil
}
