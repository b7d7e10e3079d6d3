package storage_test

import (
	"testing"

	"github.com/liaison-bot/liaison/storage"
	"github.com/liaison-bot/liaison/storage/storagebench"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// Run with, for both engines (BENCHMARKS.md records the figures):
//
//	TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	  go test -run '^$' -bench . -benchtime=2s -count=3 ./storage/
//
// The bodies live in storagebench, which `liaison bench` runs too; its
// package comment says what each one measures.

// BenchmarkRawInsert is the floor: one single-row INSERT per commit.
func BenchmarkRawInsert(b *testing.B) { perEngine(b, storagebench.RawInsert) }

// BenchmarkRawInsertParallel is the floor from 16 goroutines at once.
func BenchmarkRawInsertParallel(b *testing.B) { perEngine(b, storagebench.RawInsertParallel) }

// BenchmarkIntake is one new public message through bot.Service.Receive.
func BenchmarkIntake(b *testing.B) { perEngine(b, storagebench.Intake) }

// BenchmarkIntakeParallel is BenchmarkIntake from 16 goroutines at once.
func BenchmarkIntakeParallel(b *testing.B) { perEngine(b, storagebench.IntakeParallel) }

// perEngine runs body on each engine, on a fresh database each time the
// benchmark runs it.
func perEngine(b *testing.B, body func(*testing.B, *storage.DB)) {
	for _, engine := range storagetest.Engines(b) {
		b.Run(engine, func(b *testing.B) {
			body(b, storagetest.Open(b, engine))
		})
	}
}
