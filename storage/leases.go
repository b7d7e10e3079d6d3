package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// AcquireLease is one statement, atomic on both engines: it inserts the
// lease, or, on the primary key's conflict, takes it over only when owner
// already holds it or it has expired. A conflict the WHERE refuses updates
// nothing and returns no row.
func (tx *tx) AcquireLease(ctx context.Context, name, owner string, now time.Time, ttl time.Duration) (bool, error) {
	if name == "" || owner == "" || ttl <= 0 {
		return false, fmt.Errorf("acquire lease %q for %q: want a name, an owner and a positive ttl", name, owner)
	}
	var holder string
	err := tx.queryRow(ctx, `
		INSERT INTO leases (name, owner, expires) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires = excluded.expires
		WHERE leases.owner = excluded.owner OR leases.expires <= ?
		RETURNING owner`,
		name, owner, at(now.Add(ttl)), at(now)).Scan(&holder)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("acquire lease %q for %q: %w", name, owner, err)
	}
	return holder == owner, nil
}

// ReleaseLease gives up a lease owner holds, so that another can take it at
// once; a lease held by someone else is left alone.
func (tx *tx) ReleaseLease(ctx context.Context, name, owner string) error {
	if _, err := tx.exec(ctx, `DELETE FROM leases WHERE name = ? AND owner = ?`, name, owner); err != nil {
		return fmt.Errorf("release lease %q for %q: %w", name, owner, err)
	}
	return nil
}
