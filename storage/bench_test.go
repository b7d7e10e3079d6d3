package storage_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// Run with, for both engines:
//
//	TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	  go test -run '^$' -bench . ./storage/
//
// BenchmarkRawInsert on the 2-vCPU dev container (AMD EPYC, local disk,
// Postgres 15 on the same machine, default fsync settings on both):
// sqlite 140–190µs/op, postgres 300–340µs/op. Both are dominated by the
// commit's fsync.

// BenchmarkRawInsert is the floor the store's own writes compare to: one
// single-row INSERT, committed on its own, into a bare table of the
// benchmark's fresh database.
func BenchmarkRawInsert(b *testing.B) {
	for _, engine := range storagetest.Engines(b) {
		b.Run(engine, func(b *testing.B) {
			db := storagetest.Open(b, engine)
			ctx := context.Background()
			if _, err := db.Exec(ctx, `CREATE TABLE bench_raw (id BIGINT PRIMARY KEY, body TEXT NOT NULL)`); err != nil {
				b.Fatal(err)
			}
			var id int64
			for b.Loop() {
				id++
				if _, err := db.Exec(ctx, `INSERT INTO bench_raw (id, body) VALUES (?, ?)`, id, "how do I reset my password?"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkIntake is the store's share of the intake path: one public
// message goes through bot.Service.Receive — deduped, stored, routed, its
// item opened, its card job enqueued and an audit event appended — in one
// committed transaction per op. Compare with BenchmarkRawInsert.
func BenchmarkIntake(b *testing.B) {
	for _, engine := range storagetest.Engines(b) {
		b.Run(engine, func(b *testing.B) {
			db := storagetest.Open(b, engine)
			router := bot.NewRouter(
				[]bot.Source{{Name: "help", Conn: "community", Channels: []string{"C0HELP"}}},
				[]bot.Route{
					{Name: "billing", Keywords: []string{"invoice"}, DestConn: "internal", DestChannel: "C0BILLING"},
					{Name: "support", Default: true, DestConn: "internal", DestChannel: "C0SUPPORT"},
				})
			svc := bot.NewService(db, nil, router, bot.Settings{Company: "Acme"})
			svc.Log = slog.New(slog.DiscardHandler)
			ctx := context.Background()
			at := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
			var n int
			for b.Loop() {
				n++
				out, err := svc.Receive(ctx, bot.Incoming{
					Conn: "community", Channel: "C0HELP", ID: fmt.Sprintf("1732525200.%06d", n),
					AuthorID: "U0MEMBER", AuthorName: "Mia", Text: "how do I reset my password?", At: at,
				})
				if err != nil || out != bot.IntakeNew {
					b.Fatalf("receive: %v %v", out, err)
				}
			}
		})
	}
}

// BenchmarkIntakeParallel is BenchmarkIntake with messages arriving from
// several goroutines at once, as they do from several channels and
// platforms: SQLite commits them in groups, Postgres in parallel.
func BenchmarkIntakeParallel(b *testing.B) {
	for _, engine := range storagetest.Engines(b) {
		b.Run(engine, func(b *testing.B) {
			db := storagetest.Open(b, engine)
			router := bot.NewRouter(
				[]bot.Source{{Name: "help", Conn: "community", Channels: []string{"C0HELP"}}},
				[]bot.Route{{Name: "support", Default: true, DestConn: "internal", DestChannel: "C0SUPPORT"}})
			svc := bot.NewService(db, nil, router, bot.Settings{Company: "Acme"})
			svc.Log = slog.New(slog.DiscardHandler)
			ctx := context.Background()
			at := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
			var seq atomic.Int64
			b.SetParallelism(8) // 16 goroutines on 2 cores
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := seq.Add(1)
					out, err := svc.Receive(ctx, bot.Incoming{
						Conn: "community", Channel: "C0HELP", ID: fmt.Sprintf("1732525200.%06d", n),
						AuthorID: "U0MEMBER", AuthorName: "Mia", Text: "how do I reset my password?", At: at,
					})
					if err != nil || out != bot.IntakeNew {
						b.Errorf("receive: %v %v", out, err)
						return
					}
				}
			})
		})
	}
}
