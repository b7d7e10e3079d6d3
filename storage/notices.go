package storage

import (
	"context"
	"fmt"
	"time"
)

// FirstNotice records key and reports whether it was new: the primary key
// makes "say it once" hold across replicas.
func (tx *tx) FirstNotice(ctx context.Context, key string, now time.Time) (bool, error) {
	res, err := tx.exec(ctx, `INSERT INTO notices (key, at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, key, at(now))
	if err != nil {
		return false, fmt.Errorf("record notice %q: %w", key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("record notice %q: %w", key, err)
	}
	return n == 1, nil
}
