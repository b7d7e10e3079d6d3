package storage

import "context"

// QueryInt runs a query returning one integer.
func (db *DB) QueryInt(ctx context.Context, query string, args ...any) (int64, error) {
	var n int64
	err := db.db.QueryRowContext(ctx, db.db.Rebind(query), args...).Scan(&n)
	return n, err
}

// MigrateTo applies the migrations up to version and no further, to build
// a database as an earlier Liaison left it.
func (db *DB) MigrateTo(ctx context.Context, version int64) error {
	p, err := db.provider()
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, version)
	return err
}
