package storage

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"
)

// SchemaError says the database schema does not match this Liaison.
type SchemaError struct {
	Current int64 // version in the database; 0 when never migrated
	Latest  int64 // newest version this Liaison knows
}

func (e *SchemaError) Error() string {
	switch {
	case e.Current > e.Latest:
		return fmt.Sprintf("database schema version %d is newer than this liaison knows (%d): upgrade liaison", e.Current, e.Latest)
	case e.Current == 0:
		return fmt.Sprintf("database is not migrated (schema version 0, this liaison needs %d): run liaison migrate", e.Latest)
	}
	return fmt.Sprintf("database schema version %d is older than this liaison needs (%d): run liaison migrate", e.Current, e.Latest)
}

// Migrate brings the schema up to date. It refuses, changing nothing, a
// database migrated by a newer Liaison. On Postgres an advisory lock keeps
// replicas that start together from migrating at once.
func (db *DB) Migrate(ctx context.Context) error {
	current, latest, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if current > latest {
		return fmt.Errorf("migrate %s database %s: %w", db.d.engine, db.name, &SchemaError{current, latest})
	}
	if current == latest {
		return nil
	}
	opts, err := db.d.migrateLock(ctx, db.db.DB)
	if err != nil {
		return fmt.Errorf("migrate %s database %s: %w", db.d.engine, db.name, err)
	}
	p, err := db.provider(opts...)
	if err != nil {
		return err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate %s database %s: %w", db.d.engine, db.name, err)
	}
	for _, r := range results {
		slog.InfoContext(ctx, "database migrated", "engine", db.d.engine, "version", r.Source.Version, "duration", r.Duration)
	}
	return nil
}

// SchemaVersion reports the schema version of the database (0 when it was
// never migrated) and the newest this Liaison knows. It changes nothing.
func (db *DB) SchemaVersion(ctx context.Context) (current, latest int64, err error) {
	p, err := db.provider()
	if err != nil {
		return 0, 0, err
	}
	for _, s := range p.ListSources() {
		latest = max(latest, s.Version)
	}
	current, err = db.currentVersion(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("read schema version of %s database %s: %w", db.d.engine, db.name, err)
	}
	return current, latest, nil
}

// CheckSchema fails, with what to do about it, unless the database is
// migrated to exactly the version this Liaison knows.
func (db *DB) CheckSchema(ctx context.Context) error {
	current, latest, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if current != latest {
		return fmt.Errorf("%s database %s: %w", db.d.engine, db.name, &SchemaError{current, latest})
	}
	return nil
}

func (db *DB) provider(opts ...goose.ProviderOption) (*goose.Provider, error) {
	opts = append(opts, goose.WithDisableGlobalRegistry(true))
	p, err := goose.NewProvider(db.d.goose, db.db.DB, db.d.migrationsFS(), opts...)
	if err != nil {
		return nil, fmt.Errorf("load %s migrations: %w", db.d.engine, err)
	}
	return p, nil
}

// currentVersion reads goose's version table without creating it, as goose
// itself would.
func (db *DB) currentVersion(ctx context.Context) (int64, error) {
	store, err := database.NewStore(db.d.goose, goose.DefaultTablename)
	if err != nil {
		return 0, err
	}
	var exists bool
	if err := db.db.QueryRowContext(ctx, db.d.versionTableExists).Scan(&exists); err != nil {
		return 0, err
	}
	if !exists {
		return 0, nil
	}
	v, err := store.GetLatestVersion(ctx, db.db.DB)
	if errors.Is(err, database.ErrVersionNotFound) {
		return 0, nil
	}
	return v, err
}

func newPostgresLocker(schema string) (lock.SessionLocker, error) {
	id := int64(crc32.ChecksumIEEE([]byte("liaison-migrate:" + schema)))
	return lock.NewPostgresSessionLocker(lock.WithLockID(id), lock.WithLockTimeout(1, 300))
}
