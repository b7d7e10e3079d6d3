package storage

import (
	"context"
	"errors"
	"sync"

	"github.com/liaison-bot/liaison/bot"
)

// OpenRequest is one OpenItem of a batch that RunOpenBatch runs, and how
// its transaction ends once the batch has run.
type OpenRequest struct {
	Item    *bot.Item
	Message *bot.Message
	Job     *bot.OutboxJob
	Fail    bool // the transaction fails after its OpenItem

	OK  bool  // stored
	Err error // the OpenItem's error, or the transaction's outcome
}

// RunOpenBatch runs reqs as one batch (Postgres), as if each were the
// first statement of a transaction that then ends as Fail says, and
// reports each outcome once the batch has committed. It returns how many
// requests were put off to the next batch, which it does not run.
func (db *DB) RunOpenBatch(ctx context.Context, reqs []*OpenRequest) (later int) {
	batch := make([]*openReq, len(reqs))
	for i, r := range reqs {
		batch[i] = &openReq{ctx: ctx, it: r.Item, m: r.Message, j: r.Job, reply: make(chan struct{})}
	}
	t, err := db.begin(ctx, nil)
	put := db.runBatch(ctx, t, err, batch)
	var wg sync.WaitGroup
	for i, b := range batch {
		if isLater(put, b) {
			continue
		}
		<-b.reply
		reqs[i].OK, reqs[i].Err = b.ok, b.err
		if b.s == nil {
			continue
		}
		t := &tx{joined: b.s}
		if b.ok {
			t.opened = &opened{item: b.it.ID, message: b.m.ID, job: b.j.ID}
		}
		var end error
		if reqs[i].Fail {
			end = errors.New("failed on purpose")
		}
		wg.Go(func() {
			if err := b.s.leave(t, end); err != nil && reqs[i].Err == nil {
				reqs[i].Err = err
			}
		})
	}
	wg.Wait()
	return len(put)
}

func isLater(later []*openReq, r *openReq) bool {
	for _, l := range later {
		if l == r {
			return true
		}
	}
	return false
}
