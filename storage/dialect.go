package storage

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
	"github.com/pressly/goose/v3"
	modsqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/liaison-bot/liaison/bot"
)

// Everything that differs between the engines is here. Queries are written
// once, with ? placeholders (sqlx's Rebind turns them into $n for Postgres),
// RETURNING and ON CONFLICT DO NOTHING, which both engines support; only row
// locking, pool settings, migrations, the version-table check and the
// intake statement differ, and each driver reports a unique violation its
// own way.

//go:embed migrations
var migrations embed.FS

type dialect struct {
	engine string // "sqlite" or "postgres", as Engine reports it
	driver string // database/sql driver name
	goose  goose.Dialect
	dir    string // migrations for this engine, in the migrations FS

	// forUpdate ends a SELECT of a row the transaction may change (Item*,
	// Draft, Message*). Postgres locks the row until the transaction ends,
	// so that a read-check-write in one InTx is serialised across replicas
	// as it is on SQLite, where every transaction holds the write lock from
	// its start. See lockItemOf for the order locks are taken in.
	forUpdate string
	// skipLocked ends the sub-select that picks jobs to claim, so that
	// concurrent claimers on Postgres pass over each other's rows.
	skipLocked string
	// openItem stores a new item, its first message and its first job
	// (Tx.OpenItem).
	openItem func(ctx context.Context, tx *tx, it *bot.Item, m *bot.Message, j *bot.OutboxJob) (bool, error)
	// versionTableExists is a query that reports whether goose's version
	// table exists, without creating it.
	versionTableExists string

	configure func(*sqlx.DB)
}

var sqlite = dialect{
	engine: "sqlite",
	driver: "sqlite",
	goose:  goose.DialectSQLite3,
	dir:    "migrations/sqlite",
	// Three statements cost SQLite no round trips: it runs in the process.
	openItem: openItemInTurn,

	versionTableExists: `SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'goose_db_version')`,
	// SQLite allows one writer at a time. One connection makes the
	// goroutines of this process queue in database/sql's pool instead of
	// sleeping in SQLite's busy handler, so no write can fail with
	// SQLITE_BUSY however many goroutines write. Measured with 2000
	// read-then-write transactions: one connection ≈400µs each at 4, 16
	// and 64 goroutines, none failed; a pool of 8 with BEGIN IMMEDIATE
	// 420–630µs, and failures whenever a wait outlasts busy_timeout; a pool
	// with deferred transactions failed 90% of them. busy_timeout and BEGIN
	// IMMEDIATE still cover another process on the same file (liaison
	// migrate, the sqlite3 shell).
	configure: func(db *sqlx.DB) {
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxLifetime(0) // keep ":memory:" alive
		db.SetConnMaxIdleTime(0)
	},
}

var postgres = dialect{
	openItem:   openItemInOneStatement,
	engine:     "postgres",
	driver:     "postgres",
	goose:      goose.DialectPostgres,
	dir:        "migrations/postgres",
	forUpdate:  " FOR UPDATE",
	skipLocked: " FOR UPDATE SKIP LOCKED",

	versionTableExists: `SELECT to_regclass('goose_db_version') IS NOT NULL`,
	configure: func(db *sqlx.DB) {
		db.SetMaxOpenConns(10)
		db.SetMaxIdleConns(10)
	},
}

// sqliteParams: WAL so readers of other processes do not block the writer;
// foreign keys on; wait up to 5s for another process's lock; and take the
// write lock at BEGIN, so that a transaction that reads then writes never
// fails to upgrade its lock (which busy_timeout cannot help with).
const sqliteParams = "_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_txlock=immediate"

// sqliteDSN adds Liaison's connection parameters to a file path or file: URI.
func sqliteDSN(dsn string) string {
	if strings.Contains(dsn, "?") {
		return dsn + "&" + sqliteParams
	}
	return dsn + "?" + sqliteParams
}

// migrationsFS is the engine's migration directory.
func (d *dialect) migrationsFS() fs.FS {
	sub, err := fs.Sub(migrations, d.dir)
	if err != nil {
		panic(err) // the directory is embedded: cannot happen
	}
	return sub
}

// migrateLock returns the goose option that keeps two replicas from
// migrating at once. The Postgres advisory lock is keyed by schema, so that
// tests migrating many schemas in parallel do not wait on each other.
func (d *dialect) migrateLock(ctx context.Context, db *sql.DB) ([]goose.ProviderOption, error) {
	if d.goose != goose.DialectPostgres {
		return nil, nil
	}
	var schema string
	if err := db.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return nil, fmt.Errorf("read current schema: %w", err)
	}
	l, err := newPostgresLocker(schema)
	if err != nil {
		return nil, err
	}
	return []goose.ProviderOption{goose.WithSessionLocker(l)}, nil
}

// conflict turns a unique-constraint violation into ECONFLICT and leaves
// other errors alone.
func conflict(err error) error {
	if err == nil || !isUniqueViolation(err) {
		return err
	}
	return fmt.Errorf("%w: %w", bot.Errorf(bot.ECONFLICT, "That already exists."), err)
}

func isUniqueViolation(err error) bool {
	if pq.As(err, pqerror.UniqueViolation) != nil {
		return true
	}
	var se *modsqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// openItemInOneStatement is Tx.OpenItem on Postgres: the item, its message
// and its job in one statement, a chain of INSERTs in a WITH. Intake then
// costs three round trips (BEGIN, this, COMMIT) instead of five: measured
// with BenchmarkIntake (BENCHMARKS.md), 740 µs a message in three
// statements, 505 µs in one.
func openItemInOneStatement(ctx context.Context, tx *tx, it *bot.Item, m *bot.Message, j *bot.OutboxJob) (bool, error) {
	tags, err := jsonOf(it.Tags)
	if err != nil {
		return false, fmt.Errorf("open item: %w", err)
	}
	attachments, err := jsonOf(m.Attachments)
	if err != nil {
		return false, fmt.Errorf("open item: %w", err)
	}
	// The job's order key is bot.ItemOrderKey of the new item's id.
	var itemID int64
	var msgID, jobID sql.NullInt64
	err = tx.queryRow(ctx, `
		WITH it AS (
			INSERT INTO items (conn, channel, thread_id, thread_channel, root_channel, root_msg_id, link,
				author_id, author_name, author_handle, route, tags, status, assignee,
				card_conn, card_channel, card_id, card_thread, card_link,
				created_at, updated_at, first_answered_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			RETURNING id
		), m AS (
			INSERT INTO messages (conn, channel, msg_id, item_id, author_id, author_name, author_handle, text,
				attachments, link, mirror_id, created_at)
			SELECT ?::text, ?::text, ?::text, it.id, ?::text, ?::text, ?::text, ?::text, ?::text, ?::text, ?::text, ?::timestamptz FROM it
			ON CONFLICT (conn, channel, msg_id) DO NOTHING
			RETURNING id, item_id
		), j AS (
			INSERT INTO outbox (kind, item_id, conn, channel, payload, order_key, state, run_at, created_at)
			SELECT ?::text, m.item_id, ?::text, ?::text, ?::text, 'item:' || m.item_id, 'pending', ?::timestamptz, ?::timestamptz FROM m
			RETURNING id
		)
		SELECT it.id, m.id, j.id FROM it LEFT JOIN m ON TRUE LEFT JOIN j ON TRUE`,
		it.Conn, it.Channel, it.ThreadID, it.ThreadChannel, it.RootChannel, it.RootMsgID, it.Link,
		it.AuthorID, it.AuthorName, it.AuthorHandle, it.Route, tags, string(it.Status), it.Assignee,
		it.CardConn, it.CardChannel, it.CardID, it.CardThread, it.CardLink,
		at(it.CreatedAt), at(it.UpdatedAt), atOrNull(it.FirstAnsweredAt),
		m.Key.Conn, m.Key.Channel, m.Key.ID, m.AuthorID, m.AuthorName, m.AuthorHandle, m.Text, attachments, m.Link, m.MirrorID, at(m.CreatedAt),
		string(j.Kind), j.Conn, j.Channel, j.Payload, at(j.RunAt), at(j.CreatedAt),
	).Scan(&itemID, &msgID, &jobID)
	if err != nil {
		return false, fmt.Errorf("open item: %w", conflict(err))
	}
	it.ID = itemID
	if !msgID.Valid {
		return false, nil
	}
	m.ID, m.ItemID = msgID.Int64, itemID
	j.ID, j.ItemID, j.OrderKey, j.State = jobID.Int64, itemID, bot.ItemOrderKey(itemID), bot.JobPending
	return true, nil
}
