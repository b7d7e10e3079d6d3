// Package storagetest opens fresh, migrated, isolated Liaison databases for
// tests, on SQLite always and on Postgres when TEST_DATABASE_URL is set:
//
//	TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable go test ./...
//
// Each Postgres database is a schema of its own in that database, so tests
// and packages running in parallel never see each other's rows.
package storagetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/lib/pq" // registers "postgres"

	"github.com/liaison-bot/liaison/storage"
)

// EnvURL names the variable that holds the Postgres URL tests may use.
const EnvURL = "TEST_DATABASE_URL"

// Engines lists the engines to test against: "sqlite", and "postgres" when
// TEST_DATABASE_URL is set.
func Engines(tb testing.TB) []string {
	tb.Helper()
	if os.Getenv(EnvURL) != "" {
		return []string{"sqlite", "postgres"}
	}
	return []string{"sqlite"}
}

// ForEachEngine runs fn as a subtest per engine, each with a fresh database.
func ForEachEngine(t *testing.T, fn func(t *testing.T, db *storage.DB)) {
	t.Helper()
	for _, engine := range Engines(t) {
		t.Run(engine, func(t *testing.T) {
			fn(t, Open(t, engine))
		})
	}
}

// Open returns a fresh, migrated database on engine, removed when the test
// ends. On Postgres it fails the test (never skips it) when
// TEST_DATABASE_URL is unset or unreachable.
func Open(tb testing.TB, engine string) *storage.DB {
	tb.Helper()
	db := OpenUnmigrated(tb, engine)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := db.Migrate(ctx); err != nil {
		tb.Fatalf("storagetest: %v", err)
	}
	return db
}

// OpenUnmigrated is Open without the migration: an empty database.
func OpenUnmigrated(tb testing.TB, engine string) *storage.DB {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := storage.Open(ctx, DSN(tb, engine))
	if err != nil {
		tb.Fatalf("storagetest: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// DSN returns where a fresh, empty database on engine is, as a config names
// it: a SQLite file path, or a Postgres URL whose schema is the test's own.
// It is removed when the test ends.
func DSN(tb testing.TB, engine string) string {
	tb.Helper()
	switch engine {
	case "sqlite":
		return filepath.Join(tb.TempDir(), "liaison.db")
	case "postgres":
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		return freshSchema(tb, ctx)
	}
	tb.Fatalf("storagetest: unknown engine %q (want sqlite or postgres)", engine)
	return ""
}

// freshSchema creates a schema of its own for tb in the TEST_DATABASE_URL
// database, drops it when tb ends, and returns a URL whose connections all
// use it.
func freshSchema(tb testing.TB, ctx context.Context) string {
	tb.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		tb.Fatalf("storagetest: postgres needs %s (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)", EnvURL)
	}
	dsn, drop, err := NewSchema(ctx, base, "t_")
	if err != nil {
		tb.Fatalf("storagetest: %s: %v", EnvURL, err)
	}
	// Runs after the test's own Close (cleanups run last-in first-out).
	tb.Cleanup(func() {
		if err := drop(); err != nil {
			tb.Errorf("storagetest: %v", err)
		}
	})
	return dsn
}

// NewSchema creates a schema, named prefix and random hex, in the Postgres
// database base names, and returns a URL whose connections all use it
// (lib/pq sends search_path as a start-up parameter of every connection of
// the pool) and a function that drops it. `liaison bench` uses it too.
func NewSchema(ctx context.Context, base, prefix string) (dsn string, drop func() error, err error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", nil, errors.New("the Postgres URL is not a postgres:// URL")
	}
	b := make([]byte, 8)
	rand.Read(b)
	schema := prefix + hex.EncodeToString(b)

	admin, err := sql.Open("postgres", base)
	if err != nil {
		return "", nil, fmt.Errorf("open %s: %w", u.Redacted(), err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		return "", nil, fmt.Errorf("create schema in %s: %w", u.Redacted(), err)
	}
	drop = func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin, err := sql.Open("postgres", base)
		if err != nil {
			return fmt.Errorf("drop schema %s: %w", schema, err)
		}
		defer admin.Close()
		if _, err := admin.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			return fmt.Errorf("drop schema %s: %w", schema, err)
		}
		return nil
	}

	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}
