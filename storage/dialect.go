package storage

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

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
// locking, pool settings, migrations, the version-table check, how
// concurrent transactions share a commit (group.go) and the intake
// statement differ, and each driver reports a unique violation its own way.

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
	// groupCommit: run transactions through the committer; batchIntake:
	// run concurrent OpenItems as one statement (group.go).
	groupCommit bool
	batchIntake bool
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
	openItem:    openItemInTurn,
	groupCommit: true,

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
	openItem:    openItemBatched,
	engine:      "postgres",
	driver:      "postgres",
	goose:       goose.DialectPostgres,
	dir:         "migrations/postgres",
	forUpdate:   " FOR UPDATE",
	skipLocked:  " FOR UPDATE SKIP LOCKED",
	batchIntake: true,

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

// openItemBatched is Tx.OpenItem on Postgres. As the first statement of a
// transaction it joins a batch (see openInBatch); otherwise it runs alone,
// in the transaction, as a batch of one.
func openItemBatched(ctx context.Context, tx *tx, it *bot.Item, m *bot.Message, j *bot.OutboxJob) (bool, error) {
	r := &openReq{ctx: ctx, it: it, m: m, j: j}
	if tx.tx == nil && tx.joined == nil && !tx.readOnly && tx.db != nil && tx.db.intake != nil {
		return tx.db.openInBatch(tx, r)
	}
	if err := openItems(ctx, tx, []*openReq{r}); err != nil {
		return false, err
	}
	return r.ok, nil
}

// openItems stores items, each with its first message and its first job,
// in one statement, a chain of INSERTs in a WITH over the rows as arrays:
// one round trip and one prepared statement however many there are. The
// message goes first, so that a message whose key exists (a redelivery)
// stores nothing at all: that request's ok is false. Ids come from the
// items' sequence up front, so each row's message names its item; the
// foreign key is checked at the statement's end, once the items are in.
// The job's order key is bot.ItemOrderKey of the new item's id. One
// request alone takes the same path with plain parameters (openItem):
// reading arrays makes a statement of one row about half as slow again.
func openItems(ctx context.Context, tx *tx, reqs []*openReq) error {
	if len(reqs) == 1 {
		return openItem(ctx, tx, reqs[0])
	}
	n := len(reqs)
	var (
		text    = make([][]string, 32) // the text columns, in the order of the statement's arrays
		times   = make([][]string, 5)  // item created, updated; message created; job run, created
		answer  = make([]sql.NullString, n)
		assign  = make(pq.Int64Array, n)
		stampOf = func(t time.Time) string { v, _ := at(t).Value(); return v.(string) }
	)
	for i := range text {
		text[i] = make([]string, n)
	}
	for i := range times {
		times[i] = make([]string, n)
	}
	for k, r := range reqs {
		it, m, j := r.it, r.m, r.j
		tags, err := jsonOf(it.Tags)
		if err != nil {
			return fmt.Errorf("open item: %w", err)
		}
		attachments, err := jsonOf(m.Attachments)
		if err != nil {
			return fmt.Errorf("open item: %w", err)
		}
		for i, v := range []string{
			it.Conn, it.Channel, it.ThreadID, it.ThreadChannel, it.RootChannel, it.RootMsgID, it.Link,
			it.AuthorID, it.AuthorName, it.AuthorHandle, it.Route, tags, string(it.Status),
			it.CardConn, it.CardChannel, it.CardID, it.CardThread, it.CardLink,
			m.Key.Conn, m.Key.Channel, m.Key.ID, m.AuthorID, m.AuthorName, m.AuthorHandle, m.Text, attachments, m.Link, m.MirrorID,
			string(j.Kind), j.Conn, j.Channel, j.Payload,
		} {
			text[i][k] = v
		}
		for i, t := range []time.Time{it.CreatedAt, it.UpdatedAt, m.CreatedAt, j.RunAt, j.CreatedAt} {
			times[i][k] = stampOf(t)
		}
		if it.FirstAnsweredAt != nil {
			answer[k] = sql.NullString{String: stampOf(*it.FirstAnsweredAt), Valid: true}
		}
		assign[k] = it.Assignee
	}
	args := []any{}
	for _, col := range text[:13] {
		args = append(args, pq.StringArray(col))
	}
	args = append(args, assign)
	for _, col := range text[13:18] {
		args = append(args, pq.StringArray(col))
	}
	args = append(args, pq.StringArray(times[0]), pq.StringArray(times[1]), pq.GenericArray{A: answer})
	for _, col := range text[18:28] {
		args = append(args, pq.StringArray(col))
	}
	args = append(args, pq.StringArray(times[2]))
	for _, col := range text[28:32] {
		args = append(args, pq.StringArray(col))
	}
	args = append(args, pq.StringArray(times[3]), pq.StringArray(times[4]))

	rows, err := tx.query(ctx, `
		WITH input AS (
			SELECT u.*, nextval((SELECT pg_get_serial_sequence('items', 'id')::regclass)) AS item_id
			FROM unnest(
				?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[],
				?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::bigint[],
				?::text[], ?::text[], ?::text[], ?::text[], ?::text[],
				?::timestamptz[], ?::timestamptz[], ?::timestamptz[],
				?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[],
				?::text[], ?::text[], ?::text[], ?::timestamptz[],
				?::text[], ?::text[], ?::text[], ?::text[], ?::timestamptz[], ?::timestamptz[]
			) WITH ORDINALITY AS u (conn, channel, thread_id, thread_channel, root_channel, root_msg_id, link,
				author_id, author_name, author_handle, route, tags, status, assignee,
				card_conn, card_channel, card_id, card_thread, card_link,
				created_at, updated_at, first_answered_at,
				m_conn, m_channel, m_msg_id, m_author_id, m_author_name, m_author_handle, m_text,
				m_attachments, m_link, m_mirror_id, m_created_at,
				j_kind, j_conn, j_channel, j_payload, j_run_at, j_created_at, ord)
		), m AS (
			INSERT INTO messages (conn, channel, msg_id, item_id, author_id, author_name, author_handle, text,
				attachments, link, mirror_id, created_at)
			SELECT m_conn, m_channel, m_msg_id, item_id, m_author_id, m_author_name, m_author_handle, m_text,
				m_attachments, m_link, m_mirror_id, m_created_at
			FROM input ORDER BY ord
			ON CONFLICT (conn, channel, msg_id) DO NOTHING
			RETURNING id, item_id
		), it AS (
			INSERT INTO items (id, conn, channel, thread_id, thread_channel, root_channel, root_msg_id, link,
				author_id, author_name, author_handle, route, tags, status, assignee,
				card_conn, card_channel, card_id, card_thread, card_link,
				created_at, updated_at, first_answered_at)
			OVERRIDING SYSTEM VALUE
			SELECT item_id, conn, channel, thread_id, thread_channel, root_channel, root_msg_id, link,
				author_id, author_name, author_handle, route, tags, status, assignee,
				card_conn, card_channel, card_id, card_thread, card_link,
				created_at, updated_at, first_answered_at
			FROM input WHERE item_id IN (SELECT item_id FROM m) ORDER BY ord
		), j AS (
			INSERT INTO outbox (kind, item_id, conn, channel, payload, order_key, state, run_at, created_at)
			SELECT j_kind, item_id, j_conn, j_channel, j_payload, 'item:' || item_id, 'pending', j_run_at, j_created_at
			FROM input WHERE item_id IN (SELECT item_id FROM m) ORDER BY ord
			RETURNING id, item_id
		)
		SELECT input.ord, input.item_id, m.id, j.id
		FROM input JOIN m ON m.item_id = input.item_id JOIN j ON j.item_id = input.item_id`,
		args...)
	if err != nil {
		return fmt.Errorf("open items: %w", conflict(err))
	}
	defer rows.Close()
	for rows.Next() {
		var ord, itemID, msgID, jobID int64
		if err := rows.Scan(&ord, &itemID, &msgID, &jobID); err != nil {
			return fmt.Errorf("open items: %w", err)
		}
		r := reqs[ord-1]
		r.ok = true
		r.it.ID = itemID
		r.m.ID, r.m.ItemID = msgID, itemID
		r.j.ID, r.j.ItemID, r.j.OrderKey, r.j.State = jobID, itemID, bot.ItemOrderKey(itemID), bot.JobPending
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("open items: %w", conflict(err))
	}
	return nil
}

// openItem is openItems for one request.
func openItem(ctx context.Context, tx *tx, r *openReq) error {
	it, m, j := r.it, r.m, r.j
	tags, err := jsonOf(it.Tags)
	if err != nil {
		return fmt.Errorf("open item: %w", err)
	}
	attachments, err := jsonOf(m.Attachments)
	if err != nil {
		return fmt.Errorf("open item: %w", err)
	}
	var itemID, msgID, jobID int64
	err = tx.queryRow(ctx, `
		WITH m AS (
			INSERT INTO messages (conn, channel, msg_id, item_id, author_id, author_name, author_handle, text,
				attachments, link, mirror_id, created_at)
			VALUES (?, ?, ?, nextval((SELECT pg_get_serial_sequence('items', 'id')::regclass)), ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (conn, channel, msg_id) DO NOTHING
			RETURNING id, item_id
		), it AS (
			INSERT INTO items (id, conn, channel, thread_id, thread_channel, root_channel, root_msg_id, link,
				author_id, author_name, author_handle, route, tags, status, assignee,
				card_conn, card_channel, card_id, card_thread, card_link,
				created_at, updated_at, first_answered_at)
			OVERRIDING SYSTEM VALUE
			SELECT m.item_id, ?::text, ?::text, ?::text, ?::text, ?::text, ?::text, ?::text,
				?::text, ?::text, ?::text, ?::text, ?::text, ?::text, ?::bigint,
				?::text, ?::text, ?::text, ?::text, ?::text,
				?::timestamptz, ?::timestamptz, ?::timestamptz
			FROM m
		), j AS (
			INSERT INTO outbox (kind, item_id, conn, channel, payload, order_key, state, run_at, created_at)
			SELECT ?::text, m.item_id, ?::text, ?::text, ?::text, 'item:' || m.item_id, 'pending', ?::timestamptz, ?::timestamptz
			FROM m
			RETURNING id
		)
		SELECT m.item_id, m.id, j.id FROM m, j`,
		m.Key.Conn, m.Key.Channel, m.Key.ID, m.AuthorID, m.AuthorName, m.AuthorHandle, m.Text, attachments, m.Link, m.MirrorID, at(m.CreatedAt),
		it.Conn, it.Channel, it.ThreadID, it.ThreadChannel, it.RootChannel, it.RootMsgID, it.Link,
		it.AuthorID, it.AuthorName, it.AuthorHandle, it.Route, tags, string(it.Status), it.Assignee,
		it.CardConn, it.CardChannel, it.CardID, it.CardThread, it.CardLink,
		at(it.CreatedAt), at(it.UpdatedAt), atOrNull(it.FirstAnsweredAt),
		string(j.Kind), j.Conn, j.Channel, j.Payload, at(j.RunAt), at(j.CreatedAt),
	).Scan(&itemID, &msgID, &jobID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // the message's key exists
	}
	if err != nil {
		return fmt.Errorf("open item: %w", conflict(err))
	}
	r.ok = true
	it.ID = itemID
	m.ID, m.ItemID = msgID, itemID
	j.ID, j.ItemID, j.OrderKey, j.State = jobID, itemID, bot.ItemOrderKey(itemID), bot.JobPending
	return nil
}
