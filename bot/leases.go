package bot

import (
	"context"
	"fmt"
	"time"
)

// What an adapter needs to keep a live link (a Discord gateway session) on
// one replica only, and to catch up with what it missed while the link was
// down: a lease in the store, and where the stored messages of a channel
// end.

// AcquireLease takes the lease name for owner for ttl from now, or renews
// it, and reports whether owner holds it. While another owner holds it
// unexpired it reports false. Replicas that share a store never hold one
// lease at once, provided their clocks agree to well within ttl.
func (s *Service) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	var ok bool
	err := s.Store.InTx(ctx, func(tx Tx) (err error) {
		ok, err = tx.AcquireLease(ctx, name, owner, s.Clock(), ttl)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("lease %s: %w", name, err)
	}
	return ok, nil
}

// ReleaseLease gives up the lease name if owner holds it, so that another
// replica can take it without waiting for it to expire.
func (s *Service) ReleaseLease(ctx context.Context, name, owner string) error {
	err := s.Store.InTx(ctx, func(tx Tx) error { return tx.ReleaseLease(ctx, name, owner) })
	if err != nil {
		return fmt.Errorf("lease %s: %w", name, err)
	}
	return nil
}

// LastMessage returns the newest message Liaison stored from (conn,
// channel), by platform id order: what an adapter catching up with the
// channel lists from. An error matching ErrNotFound says none was stored.
func (s *Service) LastMessage(ctx context.Context, conn, channel string) (*Message, error) {
	var m *Message
	err := s.Store.View(ctx, func(tx Tx) (err error) {
		m, err = tx.LastMessage(ctx, conn, channel)
		return err
	})
	return m, err
}
