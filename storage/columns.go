package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// How Go values map to columns, the same way on both engines.

// timeFormat writes times in UTC, fixed width to the microsecond: SQLite
// keeps them as TEXT and compares them correctly as strings; Postgres parses
// them into TIMESTAMPTZ. The domain's times (UTC, truncated to microseconds)
// come back exactly as they went in.
const timeFormat = "2006-01-02T15:04:05.000000Z07:00"

// stamp is a time column.
type stamp time.Time

func (t stamp) Value() (driver.Value, error) {
	return time.Time(t).UTC().Truncate(time.Microsecond).Format(timeFormat), nil
}

func (t *stamp) Scan(src any) error {
	switch v := src.(type) {
	case time.Time: // Postgres
		*t = stamp(v.UTC())
		return nil
	case string: // SQLite
		return t.parse(v)
	case []byte:
		return t.parse(string(v))
	}
	return fmt.Errorf("cannot read %T as a time", src)
}

func (t *stamp) parse(s string) error {
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("read time: %w", err)
	}
	*t = stamp(v.UTC())
	return nil
}

// at is a time argument.
func at(t time.Time) stamp { return stamp(t) }

// atOrNull is a nullable time argument.
func atOrNull(t *time.Time) any {
	if t == nil {
		return nil
	}
	return stamp(*t)
}

// timeOrNil scans a nullable time column into *p.
func timeOrNil(p **time.Time) sql.Scanner { return nullStamp{p} }

type nullStamp struct{ p **time.Time }

func (n nullStamp) Scan(src any) error {
	if src == nil {
		*n.p = nil
		return nil
	}
	var s stamp
	if err := s.Scan(src); err != nil {
		return err
	}
	t := time.Time(s)
	*n.p = &t
	return nil
}

// nullIfZero stores the zero value as NULL: empty keys that must not collide
// in a UNIQUE index, 0 for "no row" in a foreign key.
func nullIfZero[T comparable](v T) any {
	var zero T
	if v == zero {
		return nil
	}
	return v
}

// zeroIfNull scans a nullable column into *p, NULL as the zero value.
func zeroIfNull[T any](p *T) sql.Scanner { return nullable[T]{p} }

type nullable[T any] struct{ p *T }

func (n nullable[T]) Scan(src any) error {
	var v sql.Null[T]
	if err := v.Scan(src); err != nil {
		return err
	}
	*n.p = v.V
	return nil
}

// jsonOf encodes a list as a JSON text column; an empty list is "[]".
func jsonOf[T any](v []T) (string, error) {
	if len(v) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// fromJSON scans a JSON list column into *p, an empty list as nil.
func fromJSON[T any](p *[]T) sql.Scanner { return jsonList[T]{p} }

type jsonList[T any] struct{ p *[]T }

func (j jsonList[T]) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("cannot read %T as JSON", src)
	}
	var list []T
	if len(b) > 0 {
		if err := json.Unmarshal(b, &list); err != nil {
			return fmt.Errorf("read JSON column: %w", err)
		}
	}
	if len(list) == 0 {
		list = nil
	}
	*j.p = list
	return nil
}

// Statement helpers: every query is written with ? placeholders and goes
// through Rebind here; unique violations come back as ECONFLICT.

func (tx *tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := tx.ready(); err != nil {
		return nil, err
	}
	if st := tx.stmt(ctx, query); st != nil {
		res, err := st.ExecContext(ctx, args...)
		return res, conflict(err)
	}
	res, err := tx.tx.ExecContext(ctx, tx.tx.Rebind(query), args...)
	return res, conflict(err)
}

// execOne runs a statement that must change exactly one row; none is
// notFound.
func (tx *tx) execOne(ctx context.Context, notFound error, query string, args ...any) error {
	res, err := tx.exec(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound
	}
	return nil
}

func (tx *tx) queryRow(ctx context.Context, query string, args ...any) scanner {
	if err := tx.ready(); err != nil {
		return errRow{err}
	}
	if st := tx.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return tx.tx.QueryRowContext(ctx, tx.tx.Rebind(query), args...)
}

func (tx *tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if err := tx.ready(); err != nil {
		return nil, err
	}
	if st := tx.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return tx.tx.QueryContext(ctx, tx.tx.Rebind(query), args...)
}

// stmt returns query prepared, for this transaction, or nil the first time
// the query runs; it is then prepared once the transaction ends. Parsing
// the same SQL again is a large part of a small write's CPU on SQLite, and
// a round trip on Postgres.
func (tx *tx) stmt(ctx context.Context, query string) *sql.Stmt {
	if st := tx.stmts.get(query); st != nil {
		return tx.tx.StmtContext(ctx, st.Stmt)
	}
	tx.unprepared = append(tx.unprepared, query)
	return nil
}

// insert runs an INSERT … RETURNING id. ok is false when ON CONFLICT DO
// NOTHING skipped the row.
func (tx *tx) insert(ctx context.Context, query string, args ...any) (id int64, ok bool, err error) {
	err = tx.queryRow(ctx, query, args...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, conflict(err)
	}
	return id, true, nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// queryAll reads every row of a query with scan.
func queryAll[T any](ctx context.Context, tx *tx, scan func(scanner) (*T, error), query string, args ...any) ([]*T, error) {
	rows, err := tx.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
