// Package storage implements bot.Store with sqlx on SQLite (the embedded
// default, a file next to the binary) and on Postgres (what several replicas
// share), with embedded goose migrations for each engine.
//
// One file per aggregate holds its queries, SQL inline next to the function
// that runs it. The few places where the two engines differ are gathered in
// dialect.go.
package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"  // registers "postgres"
	_ "modernc.org/sqlite" // registers "sqlite"

	"github.com/liaison-bot/liaison/bot"
)

// DB is a Liaison database, SQLite or Postgres.
type DB struct {
	db     *sqlx.DB
	d      *dialect
	name   string     // the database as errors show it, password redacted
	stmts  *stmtCache // prepared once, reused by every transaction
	group  *committer // SQLite: commits concurrent transactions together
	intake *batcher   // Postgres: opens concurrent items in one statement
}

var _ bot.Store = (*DB)(nil)

// openTimeout bounds the first connection when the caller's context has no
// deadline, so that an unreachable host fails Open instead of hanging.
const openTimeout = 15 * time.Second

// Open connects to the database dsn names: a postgres:// or postgresql:// URL
// selects Postgres; anything else is a SQLite file path or file: URI. It
// checks the database is reachable but does not migrate it (see Migrate and
// CheckSchema).
func Open(ctx context.Context, dsn string) (*DB, error) {
	if strings.TrimSpace(dsn) == "" {
		return nil, errors.New("open database: no database given (want a SQLite file path or a postgres:// URL)")
	}
	var (
		d       *dialect
		connStr string
		name    string
	)
	if isPostgres(dsn) {
		d, connStr, name = &postgres, dsn, redact(dsn)
	} else {
		d, connStr, name = &sqlite, sqliteDSN(dsn), dsn
	}
	db, err := sqlx.Open(d.driver, connStr)
	if err != nil {
		return nil, fmt.Errorf("open %s database %s: %w", d.engine, name, err)
	}
	d.configure(db)

	pctx := ctx
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		pctx, cancel = context.WithTimeout(ctx, openTimeout)
		defer cancel()
	}
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s database %s: %w", d.engine, name, err)
	}
	store := &DB{db: db, d: d, name: name, stmts: newStmtCache(db)}
	if d.groupCommit {
		store.startGroupCommit()
	}
	if d.batchIntake {
		store.intake = &batcher{}
	}
	return store, nil
}

func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// redact hides the password of a database URL, in its user part or in a
// password parameter.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		// Do not echo what could not be parsed: it may hold a password.
		return "(unparsable database URL)"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// Engine is "sqlite" or "postgres".
func (db *DB) Engine() string { return db.d.engine }

// String names the database for logs, password redacted.
func (db *DB) String() string { return db.d.engine + " " + db.name }

// Ping checks the database answers, for readiness probes.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s database %s: %w", db.d.engine, db.name, err)
	}
	return nil
}

// Close closes the database.
func (db *DB) Close() error {
	if db.group != nil {
		db.group.stop()
	}
	db.stmts.close()
	return db.db.Close()
}

// InTx runs fn in one transaction, committed when fn returns nil and rolled
// back otherwise (or if fn panics).
func (db *DB) InTx(ctx context.Context, fn func(bot.Tx) error) error {
	if db.group != nil {
		return db.groupInTx(ctx, fn)
	}
	return db.run(ctx, nil, fn)
}

// readOnly begins a transaction that may not write and whose reads lock
// nothing.
var readOnly = &sql.TxOptions{ReadOnly: true}

// View runs fn in a read-only transaction. On Postgres its reads take no
// row locks; on SQLite, where reads take none anyway and the one
// connection is the committer's, it runs like InTx.
func (db *DB) View(ctx context.Context, fn func(bot.Tx) error) error {
	if db.group != nil {
		return db.groupInTx(ctx, fn)
	}
	return db.run(ctx, readOnly, fn)
}

// inTx runs fn in a transaction begun at once (SQLite's committer).
func (db *DB) inTx(ctx context.Context, opts *sql.TxOptions, fn func(bot.Tx) error) error {
	tx, err := db.begin(ctx, opts)
	if err != nil {
		return err
	}
	defer db.prepareAfter(ctx, tx)
	defer tx.tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.commit()
}

// run runs fn in a transaction begun at its first statement (Postgres): a
// transaction whose first statement is OpenItem joins a batch instead (see
// openInBatch), and one that runs no statement costs nothing.
func (db *DB) run(ctx context.Context, opts *sql.TxOptions, fn func(bot.Tx) error) (err error) {
	t := &tx{d: db.d, stmts: db.stmts, readOnly: opts != nil && opts.ReadOnly, db: db, ctx: ctx, opts: opts}
	defer db.prepareAfter(ctx, t)
	done := false
	defer func() {
		if !done { // fn panicked: undo, and let the panic go on
			t.end(errPanicked)
		}
	}()
	err = fn(t)
	done = true
	return t.end(err)
}

var errPanicked = errors.New("transaction panicked")

// ready begins the transaction before its first statement: on a
// connection of its own, or, after a batched OpenItem, in its batch's
// transaction (see session.acquire).
func (tx *tx) ready() error {
	switch {
	case tx.tx != nil:
		return nil
	case tx.joined != nil:
		return tx.joined.acquire(tx)
	}
	t, err := tx.db.db.BeginTxx(tx.ctx, tx.opts)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	tx.tx, tx.own = t, true
	return nil
}

// end ends a transaction run began: committed when err is nil, rolled
// back otherwise.
func (tx *tx) end(err error) error {
	switch {
	case tx.joined != nil:
		return tx.joined.leave(tx, err)
	case !tx.own:
		return err // no statement ran
	case err != nil:
		tx.tx.Rollback()
		return err
	}
	return tx.commit()
}

// prepareAfter prepares, once tx has ended, the queries it ran unprepared.
// A failure only means they run unprepared again next time.
func (db *DB) prepareAfter(ctx context.Context, tx *tx) {
	if len(tx.unprepared) > 0 {
		_ = db.stmts.prepare(context.WithoutCancel(ctx), tx.unprepared)
	}
}

func (db *DB) begin(ctx context.Context, opts *sql.TxOptions) (*tx, error) {
	t, err := db.db.BeginTxx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("begin transaction: %w", err)
	}
	return &tx{tx: t, d: db.d, stmts: db.stmts, readOnly: opts != nil && opts.ReadOnly}, nil
}

// tx implements bot.Tx; its methods live in the file of their aggregate.
type tx struct {
	tx         *sqlx.Tx
	d          *dialect
	stmts      *stmtCache
	readOnly   bool     // a View: reads lock nothing
	unprepared []string // queries to prepare once the transaction ends

	// A transaction run begins at its first statement (see ready), with
	// these; own is set once it has.
	db   *DB
	ctx  context.Context
	opts *sql.TxOptions
	own  bool
	// joined: the batch this transaction's OpenItem ran in, whose
	// transaction it is now part of; holds: it runs statements there, in
	// a savepoint of its own; opened: the rows the batch inserted for it.
	joined *session
	holds  bool
	opened *opened
}

// errRow is the row of a query that could not run.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// forUpdate ends a SELECT of a row the transaction may change: the
// dialect's row lock, or nothing in a read-only transaction.
func (tx *tx) forUpdate() string {
	if tx.readOnly {
		return ""
	}
	return tx.d.forUpdate
}

var _ bot.Tx = (*tx)(nil)

func (tx *tx) commit() error {
	if err := tx.tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", conflict(err))
	}
	return nil
}

// Exec runs one statement outside the store's API, committed on its own,
// with ? placeholders: for benchmarks' own tables, and for tests that build
// what the API cannot (a forged schema version).
func (db *DB) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return db.db.ExecContext(ctx, db.db.Rebind(query), args...)
}

// tables are Liaison's tables, as RowCount knows them.
var tables = []string{"items", "messages", "drafts", "draft_versions", "profiles", "profile_identities", "route_trust", "audit_events", "outbox", "notices", "parked", "digests", "home_viewers"}

// RowCount counts the rows of one of Liaison's tables: for diagnostics, and
// for tests that show a refused action wrote nothing.
func (db *DB) RowCount(ctx context.Context, table string) (int64, error) {
	if !slices.Contains(tables, table) {
		return 0, fmt.Errorf("count rows: %q is not a Liaison table", table)
	}
	var n int64
	if err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		return 0, fmt.Errorf("count rows of %s: %w", table, err)
	}
	return n, nil
}
