package storagetest

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// Dump returns every row of every table of the database dsn names (as DSN
// returns it: a SQLite file path or a Postgres URL with its own schema), as
// text: a "== table" line per table, then one line per row, each column as
// name=value. Tests search it for what must never be stored, a token say.
// It reads through a connection of its own, so the database may be in use.
func Dump(tb testing.TB, dsn string) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	driver, list := "sqlite", `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		driver, list = "postgres", `SELECT table_name FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`
	} else {
		dsn = "file:" + dsn + "?mode=ro&_pragma=busy_timeout(5000)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		tb.Fatalf("storagetest: dump: %v", err)
	}
	defer db.Close()
	tables, err := column(ctx, db, list)
	if err != nil {
		tb.Fatalf("storagetest: dump: list tables: %v", err)
	}
	if len(tables) == 0 {
		tb.Fatalf("storagetest: dump: no tables in the database")
	}
	var b strings.Builder
	for _, t := range tables {
		fmt.Fprintf(&b, "== %s\n", t)
		if err := dumpTable(ctx, db, t, &b); err != nil {
			tb.Fatalf("storagetest: dump %s: %v", t, err)
		}
	}
	return b.String()
}

func column(ctx context.Context, db *sql.DB, query string) ([]string, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func dumpTable(ctx context.Context, db *sql.DB, table string, b *strings.Builder) error {
	// The name comes from the database's own catalogue; quoting keeps any
	// name working.
	rows, err := db.QueryContext(ctx, `SELECT * FROM "`+strings.ReplaceAll(table, `"`, `""`)+`"`)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var lines []string
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		var line strings.Builder
		for i, c := range cols {
			if i > 0 {
				line.WriteByte(' ')
			}
			fmt.Fprintf(&line, "%s=%s", c, text(vals[i]))
		}
		lines = append(lines, line.String())
	}
	if err := rows.Err(); err != nil {
		return err
	}
	slices.Sort(lines) // engines return rows in their own order
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return nil
}

func text(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case []byte:
		return string(v)
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}
