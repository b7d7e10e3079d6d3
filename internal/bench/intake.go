package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/storage"
	"github.com/liaison-bot/liaison/storage/storagebench"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// schemaPrefix names the Postgres schemas of a run: each run on Postgres
// gets one of its own, dropped afterwards.
const schemaPrefix = "liaison_bench_"

// opener opens a fresh, empty database and returns how to close it (and
// drop it, on Postgres).
type opener func(ctx context.Context) (*storage.DB, func(), error)

// sqliteOpener opens each database as a new file under dir.
func sqliteOpener(dir string) opener {
	n := 0
	return func(ctx context.Context) (*storage.DB, func(), error) {
		n++
		path := filepath.Join(dir, fmt.Sprintf("intake-%d.db", n))
		db, err := storage.Open(ctx, path)
		if err != nil {
			return nil, nil, err
		}
		return db, func() {
			db.Close()
			for _, suffix := range []string{"", "-wal", "-shm"} {
				os.Remove(path + suffix)
			}
		}, nil
	}
}

// postgresOpener opens each database as a new schema of base.
func postgresOpener(base string) opener {
	return func(ctx context.Context) (*storage.DB, func(), error) {
		dsn, drop, err := storagetest.NewSchema(ctx, base, schemaPrefix)
		if err != nil {
			return nil, nil, err
		}
		db, err := storage.Open(ctx, dsn)
		if err != nil {
			return nil, nil, errors.Join(err, drop())
		}
		return db, func() {
			db.Close()
			_ = drop()
		}, nil
	}
}

// runIntake runs every intake benchmark for about benchTime each and
// returns their throughputs in operations per second, by name.
func runIntake(ctx context.Context, open opener, benchTime time.Duration) (map[string]float64, error) {
	restore, err := setBenchTime(benchTime)
	if err != nil {
		return nil, err
	}
	defer restore()
	bodies := []struct {
		name string
		body func(*testing.B, *storage.DB)
	}{
		{"raw", storagebench.RawInsert},
		{"raw_parallel", storagebench.RawInsertParallel},
		{"intake", storagebench.Intake},
		{"intake_parallel", storagebench.IntakeParallel},
	}
	out := map[string]float64{}
	for _, ib := range bodies {
		db, closeDB, err := open(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ib.name, err)
		}
		if err := db.Migrate(ctx); err != nil {
			closeDB()
			return nil, fmt.Errorf("%s: migrate: %w", ib.name, err)
		}
		r := testing.Benchmark(func(b *testing.B) { ib.body(b, db) })
		closeDB()
		if r.N == 0 || r.T <= 0 {
			return nil, fmt.Errorf("%s: the benchmark failed (run `go test -run '^$' -bench . ./storage/` to see why)", ib.name)
		}
		out[ib.name] = float64(r.N) / r.T.Seconds()
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// setBenchTime sets how long testing.Benchmark runs a body, which only
// its -test.benchtime flag decides, and returns how to put it back.
func setBenchTime(d time.Duration) (func(), error) {
	testing.Init()
	f := flag.Lookup("test.benchtime")
	if f == nil {
		return nil, errors.New("package testing has no -test.benchtime flag")
	}
	old := f.Value.String()
	if err := f.Value.Set(d.String()); err != nil {
		return nil, fmt.Errorf("benchtime %s: %w", d, err)
	}
	return func() { _ = f.Value.Set(old) }, nil
}
