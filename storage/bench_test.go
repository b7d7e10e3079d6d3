package storage_test

import (
	"context"
	"testing"

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
