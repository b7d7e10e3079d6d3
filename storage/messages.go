package storage

import (
	"cmp"
	"slices"
	"time"

	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/liaison-bot/liaison/bot"
)

const messageColumns = `id, conn, channel, msg_id, item_id, author_id, author_name, author_handle, text,
	attachments, link, mirror_id, created_at, edited_at, deleted_at, forgotten_at, purged_at`

func scanMessage(s scanner) (*bot.Message, error) {
	var m bot.Message
	err := s.Scan(&m.ID, &m.Key.Conn, &m.Key.Channel, &m.Key.ID, zeroIfNull(&m.ItemID),
		&m.AuthorID, &m.AuthorName, &m.AuthorHandle, &m.Text, fromJSON(&m.Attachments), &m.Link, &m.MirrorID,
		(*stamp)(&m.CreatedAt), timeOrNil(&m.EditedAt), timeOrNil(&m.DeletedAt),
		timeOrNil(&m.ForgottenAt), timeOrNil(&m.PurgedAt))
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// InsertMessage relies on the UNIQUE (conn, channel, msg_id) constraint: a
// redelivered message inserts nothing, even when two replicas race.
func (tx *tx) InsertMessage(ctx context.Context, m *bot.Message) (bool, error) {
	attachments, err := jsonOf(m.Attachments)
	if err != nil {
		return false, fmt.Errorf("insert message: %w", err)
	}
	id, ok, err := tx.insert(ctx, `
		INSERT INTO messages (conn, channel, msg_id, item_id, author_id, author_name, author_handle, text,
			attachments, link, mirror_id, created_at, edited_at, deleted_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (conn, channel, msg_id) DO NOTHING
		RETURNING id`,
		m.Key.Conn, m.Key.Channel, m.Key.ID, nullIfZero(m.ItemID), m.AuthorID, m.AuthorName, m.AuthorHandle, m.Text,
		attachments, m.Link, m.MirrorID, at(m.CreatedAt), atOrNull(m.EditedAt), atOrNull(m.DeletedAt))
	if err != nil {
		return false, fmt.Errorf("insert message %s/%s/%s: %w", m.Key.Conn, m.Key.Channel, m.Key.ID, err)
	}
	if ok {
		m.ID = id
	}
	return ok, nil
}

// MessageByKey reads a message the transaction may change: on Postgres its
// item, if any, and then its row stay locked until the transaction ends.
func (tx *tx) MessageByKey(ctx context.Context, k bot.MessageKey) (*bot.Message, error) {
	if err := lockItemOf(ctx, tx, "messages", "conn = ? AND channel = ? AND msg_id = ?", k.Conn, k.Channel, k.ID); err != nil {
		return nil, fmt.Errorf("get message %s/%s/%s: %w", k.Conn, k.Channel, k.ID, err)
	}
	m, err := scanMessage(tx.queryRow(ctx, `
		SELECT `+messageColumns+` FROM messages
		WHERE conn = ? AND channel = ? AND msg_id = ?`+tx.forUpdate(),
		k.Conn, k.Channel, k.ID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("message %s/%s/%s: %w", k.Conn, k.Channel, k.ID, bot.ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("get message %s/%s/%s: %w", k.Conn, k.Channel, k.ID, err)
	}
	return m, nil
}

// MessageByID reads a message the transaction may change, locked like
// MessageByKey.
func (tx *tx) MessageByID(ctx context.Context, id int64) (*bot.Message, error) {
	if err := lockItemOf(ctx, tx, "messages", "id = ?", id); err != nil {
		return nil, fmt.Errorf("get message %d: %w", id, err)
	}
	m, err := scanMessage(tx.queryRow(ctx, `SELECT `+messageColumns+` FROM messages WHERE id = ?`+tx.forUpdate(), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("message %d: %w", id, bot.ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("get message %d: %w", id, err)
	}
	return m, nil
}

func (tx *tx) UpdateMessage(ctx context.Context, m *bot.Message) error {
	attachments, err := jsonOf(m.Attachments)
	if err != nil {
		return fmt.Errorf("update message %d: %w", m.ID, err)
	}
	err = tx.execOne(ctx, bot.ErrNotFound, `
		UPDATE messages
		SET item_id = ?, text = ?, attachments = ?, mirror_id = ?, edited_at = ?, deleted_at = ?
		WHERE id = ?`,
		nullIfZero(m.ItemID), m.Text, attachments, m.MirrorID, atOrNull(m.EditedAt), atOrNull(m.DeletedAt),
		m.ID)
	if err != nil {
		return fmt.Errorf("update message %d: %w", m.ID, err)
	}
	return nil
}

// PurgeMessageText empties the text and attachments of up to limit messages
// received before before, with an id after afterID, that still hold some
// and were neither purged nor forgotten; it marks them purged at now and
// returns them as they now are, in id order. Paging by id reads the table
// once however many pages a purge takes. On Postgres the items of those
// messages are locked first, in the order every transaction locks them
// (see lockItemOf); a message purged meanwhile by another replica is left
// out, since the UPDATE checks its row again.
func (tx *tx) PurgeMessageText(ctx context.Context, before time.Time, afterID int64, limit int, now time.Time) ([]*bot.Message, error) {
	const pick = `SELECT id FROM messages
		WHERE id > ? AND created_at < ? AND purged_at IS NULL AND forgotten_at IS NULL
			AND (text <> '' OR attachments <> '[]')
		ORDER BY id
		LIMIT ?`
	if err := lockItems(ctx, tx, `SELECT item_id FROM messages WHERE id IN (`+pick+`)`, afterID, at(before), limit); err != nil {
		return nil, fmt.Errorf("purge message text: %w", err)
	}
	msgs, err := queryAll(ctx, tx, scanMessage, `
		UPDATE messages SET text = '', attachments = '[]', purged_at = ?
		WHERE id IN (`+pick+`) AND purged_at IS NULL AND forgotten_at IS NULL
		RETURNING `+messageColumns,
		at(now), afterID, at(before), limit)
	if err != nil {
		return nil, fmt.Errorf("purge message text: %w", err)
	}
	slices.SortFunc(msgs, func(a, b *bot.Message) int { return cmp.Compare(a.ID, b.ID) })
	return msgs, nil
}

// LastMessage reads the newest message stored for (conn, channel) by
// platform id order, where catching up with a channel starts: Discord
// snowflakes grow with time, a longer one is newer, and so is a larger one
// of the same length (messages_newest serves the order). It locks nothing.
func (tx *tx) LastMessage(ctx context.Context, conn, channel string) (*bot.Message, error) {
	m, err := scanMessage(tx.queryRow(ctx, `
		SELECT `+messageColumns+` FROM messages
		WHERE conn = ? AND channel = ?
		ORDER BY length(msg_id) DESC, msg_id DESC
		LIMIT 1`, conn, channel))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("last message of %s/%s: %w", conn, channel, bot.ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("last message of %s/%s: %w", conn, channel, err)
	}
	return m, nil
}

// MessagesByMirror reads an item's messages copied into one internal post
// (messages_mirror indexes the few that have a copy).
func (tx *tx) MessagesByMirror(ctx context.Context, itemID int64, mirrorID string) ([]*bot.Message, error) {
	ms, err := queryAll(ctx, tx, scanMessage, `
		SELECT `+messageColumns+` FROM messages
		WHERE mirror_id = ? AND item_id = ?
		ORDER BY id`,
		mirrorID, itemID)
	if err != nil {
		return nil, fmt.Errorf("messages of item %d copied in %s: %w", itemID, mirrorID, err)
	}
	return ms, nil
}
