package bot

import (
	"context"
	"errors"
	"time"
)

// Parked is a message said in the thread of a card Liaison has posted but
// not recorded yet: the post succeeded, its answer was not stored (a crash,
// a lost answer). Such a message cannot be tied to its item, so it is
// kept, and taken in again once the card is known.
type Parked struct {
	ID          int64
	Incoming    Incoming
	CardChannel string // the card channel whose thread it was said in
	At          time.Time
}

const (
	// parkBatch bounds the parked messages taken in per round.
	parkBatch = 100
	// parkedFor is how long a message waits for its card: a card is
	// recorded within minutes, or its job died.
	parkedFor = 24 * time.Hour
)

// parked reports whether a message in an unknown thread of (conn, channel)
// must be parked: only a card channel's threads can be a card's.
func (s *Service) parkable(conn, channel string) bool {
	for _, rt := range s.Router.Routes() {
		if rt.DestConn == conn && rt.DestChannel == channel {
			return true
		}
	}
	return false
}

// ReplayParked takes in again the parked messages whose card is now known;
// the others stay parked. The worker calls it whenever it records a card,
// and when it starts: a read, and a write only for what it takes in.
func (s *Service) ReplayParked(ctx context.Context) error {
	var ps []*Parked
	err := s.Store.View(ctx, func(tx Tx) (err error) {
		ps, err = tx.ParkedMessages(ctx, parkBatch)
		return err
	})
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range ps {
		out, err := s.threadMessage(ctx, p.Incoming)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if out == IntakeParked {
			continue // its card is still not recorded
		}
		s.Log.Info("parked message taken in", "conn", p.Incoming.Conn, "channel", p.Incoming.Channel, "message", p.Incoming.ID, "outcome", out)
		if err := s.Store.InTx(ctx, func(tx Tx) error { return tx.Unpark(ctx, p.ID) }); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// park keeps in, said in an unknown thread of a card channel, and drops
// what waited longer than parkedFor: no card was ever its.
func (s *Service) park(ctx context.Context, tx Tx, in Incoming) error {
	dropped, err := tx.DropParked(ctx, s.Clock().Add(-parkedFor))
	if err != nil {
		return err
	}
	if dropped > 0 {
		s.Log.Warn("parked messages dropped: no card thread was theirs", "count", dropped, "after", parkedFor)
	}
	_, err = tx.Park(ctx, &Parked{Incoming: in, CardChannel: cardChannel(in), At: s.Clock()})
	return err
}
