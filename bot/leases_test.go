package bot_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/bot/mock"
	"github.com/liaison-bot/liaison/storage"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// TestLeaseHandOver: one owner at a time; the other takes over once the
// holder stops renewing (its lease expired) or releases it.
func TestLeaseHandOver(t *testing.T) {
	ctx := context.Background()
	storagetest.ForEachEngine(t, func(t *testing.T, db *storage.DB) {
		clock := mock.NewClock(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))
		svc := bot.NewService(db, nil, bot.NewRouter(nil, nil), bot.Settings{})
		svc.Clock = clock.Now
		const ttl = 10 * time.Second
		try := func(owner string) bool {
			t.Helper()
			ok, err := svc.AcquireLease(ctx, "gateway", owner, ttl)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !try("a") || try("b") {
			t.Fatal("want a to hold the lease and b refused")
		}
		clock.Advance(ttl - time.Second)
		if !try("a") {
			t.Fatal("a could not renew")
		}
		clock.Advance(ttl - time.Second)
		if try("b") {
			t.Fatal("b took a lease renewed a second before its expiry")
		}
		clock.Advance(time.Second) // a stopped renewing: expired
		if !try("b") || try("a") {
			t.Fatal("want b to take over the expired lease, and a refused")
		}
		if err := svc.ReleaseLease(ctx, "gateway", "b"); err != nil {
			t.Fatal(err)
		}
		if !try("a") {
			t.Fatal("a could not take a released lease")
		}
	})
}

// TestLastStoredMessage: the newest stored message of a channel, or ErrNotFound.
func TestLastStoredMessage(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, "sqlite"))
	if _, err := e.svc.LastMessage(e.ctx, publicConn, helpChan); !errors.Is(err, bot.ErrNotFound) {
		t.Fatalf("LastMessage of an empty channel = %v, want ErrNotFound", err)
	}
	for _, id := range []string{"1300000000000000001", "1300000000000000003", "1300000000000000002"} {
		if _, err := e.svc.Receive(e.ctx, bot.Incoming{Conn: publicConn, Channel: helpChan, ID: id, AuthorID: member, Text: "hello " + id}); err != nil {
			t.Fatal(err)
		}
	}
	m, err := e.svc.LastMessage(e.ctx, publicConn, helpChan)
	if err != nil || m.Key.ID != "1300000000000000003" {
		t.Fatalf("LastMessage = %+v, %v; want message 1300000000000000003", m, err)
	}
}
