package bot_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// committedLate is a store whose transactions do not see a thread's item
// by its thread, as when another replica commits the question between the
// reply's two reads (Postgres, read committed): the item is missing when
// looked up, its first message there a moment later.
type committedLate struct{ bot.Store }

func (s committedLate) InTx(ctx context.Context, fn func(bot.Tx) error) error {
	return s.Store.InTx(ctx, func(tx bot.Tx) error { return fn(itemNotYetSeen{tx}) })
}

type itemNotYetSeen struct{ bot.Tx }

func (t itemNotYetSeen) ItemByThread(ctx context.Context, conn, channel, threadID string) (*bot.Item, error) {
	return nil, fmt.Errorf("item of thread %s: %w", threadID, bot.ErrNotFound)
}

// TestReplyRacingItsQuestion: a reply whose question another replica
// stores while the reply is being taken in joins the question's item; it
// does not open an item of its own.
func TestReplyRacingItsQuestion(t *testing.T) {
	for _, engine := range storagetest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			e := newEnv(t, storagetest.Open(t, engine))
			q := e.post(helpChan, "How do I export my data?")
			e.receive(q, bot.IntakeNew)

			e.svc.Store = committedLate{e.svc.Store}
			reply := e.post(helpChan, "Same question here")
			reply.ThreadID, reply.RootFirst = q.ID, true
			e.receive(reply, bot.IntakeFollowUp)
			if n, err := e.db.RowCount(e.ctx, "items"); err != nil || n != 1 {
				t.Errorf("%d items (%v), want 1", n, err)
			}
		})
	}
}
