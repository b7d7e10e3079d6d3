package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/liaison-bot/liaison/bot"
)

// Park stores p unless its message is parked already; it reports whether
// it stored it.
func (tx *tx) Park(ctx context.Context, p *bot.Parked) (bool, error) {
	payload, err := json.Marshal(p.Incoming)
	if err != nil {
		return false, fmt.Errorf("park %s/%s: %w", p.Incoming.Channel, p.Incoming.ID, err)
	}
	res, err := tx.exec(ctx, `INSERT INTO parked (conn, channel, msg_id, card_channel, thread, payload, at) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (conn, channel, msg_id) DO NOTHING`,
		p.Incoming.Conn, p.Incoming.Channel, p.Incoming.ID, p.CardChannel, p.Incoming.ThreadID, string(payload), at(p.At))
	if err != nil {
		return false, fmt.Errorf("park %s/%s: %w", p.Incoming.Channel, p.Incoming.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("park %s/%s: %w", p.Incoming.Channel, p.Incoming.ID, err)
	}
	return n == 1, nil
}

// ParkedMessages lists up to limit parked messages whose card is now
// known, oldest first.
func (tx *tx) ParkedMessages(ctx context.Context, limit int) ([]*bot.Parked, error) {
	rows, err := tx.query(ctx, `SELECT p.id, p.card_channel, p.payload, p.at FROM parked p
		WHERE EXISTS (SELECT 1 FROM items i WHERE i.card_conn = p.conn AND i.card_channel = p.card_channel AND i.card_thread = p.thread)
		ORDER BY p.id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("parked messages: %w", err)
	}
	defer rows.Close()
	var out []*bot.Parked
	for rows.Next() {
		var (
			p       bot.Parked
			payload string
			t       stamp
		)
		if err := rows.Scan(&p.ID, &p.CardChannel, &payload, &t); err != nil {
			return nil, fmt.Errorf("parked messages: %w", err)
		}
		if err := json.Unmarshal([]byte(payload), &p.Incoming); err != nil {
			return nil, fmt.Errorf("parked message %d: %w", p.ID, err)
		}
		p.At = time.Time(t)
		out = append(out, &p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("parked messages: %w", err)
	}
	return out, nil
}

// Unpark removes a parked message.
func (tx *tx) Unpark(ctx context.Context, id int64) error {
	if _, err := tx.exec(ctx, `DELETE FROM parked WHERE id = ?`, id); err != nil {
		return fmt.Errorf("unpark %d: %w", id, err)
	}
	return nil
}

// DropParked removes the messages parked before before; it reports how many.
func (tx *tx) DropParked(ctx context.Context, before time.Time) (int64, error) {
	res, err := tx.exec(ctx, `DELETE FROM parked WHERE at < ?`, at(before))
	if err != nil {
		return 0, fmt.Errorf("drop parked messages: %w", err)
	}
	return res.RowsAffected()
}
