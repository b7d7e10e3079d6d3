// Package storagebench holds the bodies of the intake benchmarks, so that
// `go test -bench` (storage/bench_test.go) and `liaison bench` run the same
// code. Each function takes a freshly opened and migrated database and
// creates what it needs in it; it may be called again on the same database
// (testing.Benchmark runs a body several times to size b.N).
//
// What they measure, one op each:
//
//   - RawInsert: one single-row INSERT into a bare two-column table,
//     committed on its own (autocommit), one after the other. The floor:
//     every durable write costs at least this.
//   - RawInsertParallel: the same from 16 goroutines at once. Postgres
//     commits concurrent connections' writes with one WAL flush; SQLite,
//     one writer, takes them in turn.
//   - Intake: one new public message through bot.Service.Receive: deduped
//     on its key, routed, its item opened, the message stored and its card
//     job enqueued, in one committed transaction.
//   - IntakeParallel: the same with messages arriving from 16 goroutines,
//     as they do from several channels and platforms.
//
// The throughput ratio of intake to the floor is the raw time per op
// divided by the intake time per op.
package storagebench

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/storage"
)

// parallelism times GOMAXPROCS is the number of goroutines of the parallel
// benchmarks: 16 on the 2-vCPU machine BENCHMARKS.md was measured on.
const parallelism = 8

// body is the text of every benchmark message or row: a typical question.
const body = "how do I reset my password?"

// RawInsert measures one single-row INSERT per commit, one after the other.
func RawInsert(b *testing.B, db *storage.DB) {
	next := rawTable(b, db)
	ctx := context.Background()
	for b.Loop() {
		if err := rawInsert(ctx, db, next()); err != nil {
			b.Fatal(err)
		}
	}
}

// RawInsertParallel measures RawInsert from 16 goroutines at once.
func RawInsertParallel(b *testing.B, db *storage.DB) {
	next := rawTable(b, db)
	ctx := context.Background()
	b.SetParallelism(parallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := rawInsert(ctx, db, next()); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// rawTable creates the floor's table, empty, and returns the source of its
// next ids, safe for concurrent use.
func rawTable(b *testing.B, db *storage.DB) func() int64 {
	b.Helper()
	ctx := context.Background()
	for _, q := range []string{`DROP TABLE IF EXISTS bench_raw`, `CREATE TABLE bench_raw (id BIGINT PRIMARY KEY, body TEXT NOT NULL)`} {
		if _, err := db.Exec(ctx, q); err != nil {
			b.Fatalf("create bench_raw: %v", err)
		}
	}
	var id atomic.Int64
	return func() int64 { return id.Add(1) }
}

func rawInsert(ctx context.Context, db *storage.DB, id int64) error {
	if _, err := db.Exec(ctx, `INSERT INTO bench_raw (id, body) VALUES (?, ?)`, id, body); err != nil {
		return fmt.Errorf("insert row %d: %w", id, err)
	}
	return nil
}

// Intake measures the intake of one new public message at a time.
func Intake(b *testing.B, db *storage.DB) {
	svc, next := intake(db)
	ctx := context.Background()
	for b.Loop() {
		if err := receive(ctx, svc, next()); err != nil {
			b.Fatal(err)
		}
	}
}

// IntakeParallel measures Intake with messages arriving from 16 goroutines
// at once.
func IntakeParallel(b *testing.B, db *storage.DB) {
	svc, next := intake(db)
	ctx := context.Background()
	b.SetParallelism(parallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := receive(ctx, svc, next()); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// intake returns a service that routes the benchmark's watched channel to
// an internal one, and the source of new messages for it, safe for
// concurrent use. Message ids carry a prefix of their own per call, so
// that a body run again on the same database takes in new messages only.
func intake(db *storage.DB) (*bot.Service, func() bot.Incoming) {
	router := bot.NewRouter(
		[]bot.Source{{Name: "help", Conn: "community", Channels: []string{"C0HELP"}}},
		[]bot.Route{
			{Name: "billing", Keywords: []string{"invoice"}, DestConn: "internal", DestChannel: "C0BILLING"},
			{Name: "support", Default: true, DestConn: "internal", DestChannel: "C0SUPPORT"},
		})
	svc := bot.NewService(db, nil, router, bot.Settings{Company: "Acme"})
	svc.Log = slog.New(slog.DiscardHandler)
	at := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	prefix := rand.Uint32()
	var seq atomic.Int64
	return svc, func() bot.Incoming {
		return bot.Incoming{
			Conn: "community", Channel: "C0HELP", ID: fmt.Sprintf("%d.%06d", prefix, seq.Add(1)),
			AuthorID: "U0MEMBER", AuthorName: "Mia", Text: body, At: at,
		}
	}
}

func receive(ctx context.Context, svc *bot.Service, in bot.Incoming) error {
	out, err := svc.Receive(ctx, in)
	if err != nil {
		return err
	}
	if out != bot.IntakeNew {
		return fmt.Errorf("receive %s: %s, want %s", in.ID, out, bot.IntakeNew)
	}
	return nil
}
