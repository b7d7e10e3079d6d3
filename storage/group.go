package storage

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/liaison-bot/liaison/bot"
)

// Group commit (SQLite). SQLite has one writer and a commit costs a WAL
// write and an fsync, whatever it holds. Transactions that arrive while one
// is running are therefore run together, each in its own savepoint, and
// committed once: a transaction that fails rolls back to its savepoint and
// alone; the others commit. Alone, a transaction runs as it would without
// the group, so a quiet bot pays nothing for it.

// maxGroup bounds the transactions committed together.
const maxGroup = 64

var errClosed = errors.New("database is closed")

type groupReq struct {
	ctx  context.Context
	fn   func(bot.Tx) error
	done chan groupResult
}

type groupResult struct {
	err   error
	panic any // a panic in fn, raised again in the caller's goroutine
}

type committer struct {
	reqs   chan *groupReq
	closed chan struct{}
	once   sync.Once
	wg     sync.WaitGroup
}

func (db *DB) startGroupCommit() {
	c := &committer{reqs: make(chan *groupReq), closed: make(chan struct{})}
	db.group = c
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			var first *groupReq
			select {
			case first = <-c.reqs:
			case <-c.closed:
				return
			}
			batch := []*groupReq{first}
		more:
			for len(batch) < maxGroup {
				select {
				case r := <-c.reqs:
					batch = append(batch, r)
				default:
					break more
				}
			}
			db.runGroup(batch)
		}
	}()
}

func (c *committer) stop() {
	c.once.Do(func() { close(c.closed) })
	c.wg.Wait()
}

// groupInTx hands fn to the committer and waits for its outcome.
func (db *DB) groupInTx(ctx context.Context, fn func(bot.Tx) error) error {
	r := &groupReq{ctx: ctx, fn: fn, done: make(chan groupResult, 1)}
	select {
	case db.group.reqs <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-db.group.closed:
		return errClosed
	}
	res := <-r.done
	if res.panic != nil {
		panic(res.panic)
	}
	return res.err
}

func (db *DB) runGroup(batch []*groupReq) {
	if len(batch) == 1 {
		r := batch[0]
		var res groupResult
		func() {
			defer func() { res.panic = recover() }()
			res.err = db.inTx(r.ctx, nil, r.fn)
		}()
		r.done <- res
		return
	}
	results := make([]groupResult, len(batch))
	deliver := func(all error) {
		for i, r := range batch {
			if all != nil && results[i].err == nil && results[i].panic == nil {
				results[i].err = all
			}
			r.done <- results[i]
		}
	}
	ctx := context.Background()
	tx, err := db.begin(ctx, nil)
	if err != nil {
		deliver(err)
		return
	}
	defer db.prepareAfter(ctx, tx)
	defer tx.tx.Rollback()
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			results[i].err = err
			continue
		}
		sp := fmt.Sprintf("g%d", i)
		if _, err := tx.tx.ExecContext(ctx, "SAVEPOINT "+sp); err != nil {
			deliver(fmt.Errorf("group commit: %w", err))
			return
		}
		func() {
			defer func() { results[i].panic = recover() }()
			results[i].err = r.fn(tx)
		}()
		if results[i].err != nil || results[i].panic != nil {
			if _, err := tx.tx.ExecContext(ctx, "ROLLBACK TO "+sp); err != nil {
				deliver(fmt.Errorf("group commit: %w", err))
				return
			}
		}
		if _, err := tx.tx.ExecContext(ctx, "RELEASE "+sp); err != nil {
			deliver(fmt.Errorf("group commit: %w", err))
			return
		}
	}
	deliver(tx.commit())
}
