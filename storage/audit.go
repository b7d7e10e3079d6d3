package storage

import (
	"context"
	"fmt"

	"github.com/liaison-bot/liaison/bot"
)

// Audit events are only ever appended: there is no update or delete here.

func (tx *tx) AppendAudit(ctx context.Context, e *bot.AuditEvent) error {
	id, _, err := tx.insert(ctx, `
		INSERT INTO audit_events (at, actor, action, subject, before_json, after_json)
		VALUES (?, ?, ?, ?, ?, ?)
		RETURNING id`,
		at(e.At), e.Actor, e.Action, e.Subject, e.Before, e.After)
	if err != nil {
		return fmt.Errorf("append audit event %s %s: %w", e.Action, e.Subject, err)
	}
	e.ID = id
	return nil
}

// AuditFor lists the events about subject in the order they happened.
func (tx *tx) AuditFor(ctx context.Context, subject string) ([]*bot.AuditEvent, error) {
	es, err := queryAll(ctx, tx, scanAuditEvent, `
		SELECT id, at, actor, action, subject, before_json, after_json
		FROM audit_events
		WHERE subject = ?
		ORDER BY id`,
		subject)
	if err != nil {
		return nil, fmt.Errorf("list audit events of %s: %w", subject, err)
	}
	return es, nil
}

func scanAuditEvent(s scanner) (*bot.AuditEvent, error) {
	var e bot.AuditEvent
	if err := s.Scan(&e.ID, (*stamp)(&e.At), &e.Actor, &e.Action, &e.Subject, &e.Before, &e.After); err != nil {
		return nil, err
	}
	return &e, nil
}
