package storage

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/lib/pq"

	"github.com/liaison-bot/liaison/bot"
)

// Group commit. A commit costs a WAL write and a flush to disk whatever it
// holds, and on Postgres round trips besides. Each engine shares it among
// concurrent transactions its own way, so that a transaction that fails
// still rolls back alone, and a quiet bot pays nothing for it.
//
// SQLite has one writer: transactions that arrive while one is running are
// run together, one after the other in one real transaction, each in its
// own savepoint, and committed once.
//
// Postgres runs transactions in parallel, on connections of their own,
// each begun at its first statement. There a round trip costs as much as a
// small statement, and new messages, which come in bursts, cost three (BEGIN,
// OpenItem, COMMIT) and a flush each. A transaction whose first statement
// is OpenItem (a new item: Service.Receive) therefore joins a batch: the
// OpenItems of every transaction waiting at that point run as one
// statement, in one real transaction that commits once all of those
// transactions have ended (see session).

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
	exec := func(q string) error {
		if _, err := tx.tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("group commit: %w", err)
		}
		return nil
	}
	// One savepoint name serves the whole group: released once a
	// transaction succeeded and set again for the next one in the same
	// call; rolled back to, and so still set, once one failed.
	if err := exec("SAVEPOINT g"); err != nil {
		deliver(err)
		return
	}
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			results[i].err = err
			continue
		}
		func() {
			defer func() { results[i].panic = recover() }()
			results[i].err = r.fn(tx)
		}()
		if results[i].err == nil && results[i].panic == nil {
			if err := exec("RELEASE g; SAVEPOINT g"); err != nil {
				deliver(err)
				return
			}
			continue
		}
		if err := exec("ROLLBACK TO g"); err != nil {
			deliver(err)
			return
		}
	}
	deliver(tx.commit())
}

// openReq is an OpenItem waiting for its batch, and then its outcome.
type openReq struct {
	ctx   context.Context
	it    *bot.Item
	m     *bot.Message
	j     *bot.OutboxJob
	ok    bool // stored; false: the message's key exists
	err   error
	s     *session      // the batch's transaction, once the request is in one
	turn  chan struct{} // closed when it is to lead the next batch
	reply chan struct{} // closed once its outcome is set
}

// batcher gathers OpenItems. No goroutine of its own runs batches: the
// transaction that finds none running leads one, with whatever waits at
// the time and arrives while its transaction begins, then passes the lead
// to the first that waits. Alone, a transaction thus opens its item in its
// own goroutine.
type batcher struct {
	mu      sync.Mutex
	leading bool       // a batch is being gathered or run
	queue   []*openReq // waiting for the next batch
}

// openInBatch runs r, the first statement of t, in a batch; t is part of
// that batch's transaction from then on.
func (db *DB) openInBatch(t *tx, r *openReq) (bool, error) {
	b := db.intake
	r.turn, r.reply = make(chan struct{}), make(chan struct{})
	b.mu.Lock()
	if b.leading {
		b.queue = append(b.queue, r)
		b.mu.Unlock()
		select {
		case <-r.reply:
		case <-r.turn:
			db.lead(r)
		}
	} else {
		b.leading = true
		b.mu.Unlock()
		db.lead(r)
	}
	if r.s != nil {
		t.joined = r.s
		if r.ok {
			t.opened = &opened{item: r.it.ID, message: r.m.ID, job: r.j.ID}
		}
	}
	return r.ok, r.err
}

// lead runs a batch of first and the requests waiting, and passes the
// lead on.
func (db *DB) lead(first *openReq) {
	b := db.intake
	ctx := context.Background()
	t, err := db.begin(ctx, nil)
	b.mu.Lock()
	n := min(len(b.queue), maxGroup-1)
	batch := append([]*openReq{first}, b.queue[:n]...)
	b.queue = b.queue[n:]
	b.mu.Unlock()

	later := db.runBatch(ctx, t, err, batch)

	b.mu.Lock()
	b.queue = append(later, b.queue...)
	if len(b.queue) > 0 {
		close(b.queue[0].turn)
		b.queue = b.queue[1:]
	} else {
		b.leading = false
	}
	b.mu.Unlock()
}

// firstOfEachKey keeps one request per message key in a batch and puts
// off the others to the next: a redelivery is a duplicate only of a
// message whose transaction succeeds, which is known once it has ended.
func firstOfEachKey(batch []*openReq) (now, later []*openReq) {
	seen := make(map[bot.MessageKey]bool, len(batch))
	for _, r := range batch {
		if seen[r.m.Key] {
			later = append(later, r)
			continue
		}
		seen[r.m.Key] = true
		now = append(now, r)
	}
	return now, later
}

// session is the transaction of a batch, shared by the transactions whose
// OpenItem it ran. It commits once every one of them has ended, in the
// goroutine of the last: the rows of one that failed are deleted first,
// which is what rolling it back would have done, since nothing else can
// see them. One that runs more statements after its OpenItem runs them in
// the session, alone, in a savepoint of its own.
type session struct {
	db      *DB
	tx      *tx
	mu      sync.Mutex // held by the member running statements in tx
	state   sync.Mutex // guards what follows
	members int        // members whose transaction has not ended
	undo    []opened   // rows of members that failed
	broken  error      // tx can no longer be committed
	done    chan struct{}
	err     error // the commit's outcome, once done is closed
}

// opened names the rows a batch inserted for one request.
type opened struct{ item, message, job int64 }

// runBatch runs batch in t, begun with err, and sets each request's
// outcome. It returns the requests put off to the next batch.
func (db *DB) runBatch(ctx context.Context, t *tx, err error, batch []*openReq) (later []*openReq) {
	batch, later = firstOfEachKey(batch)
	live := batch[:0:0]
	for _, r := range batch {
		if r.err = err; r.err == nil {
			r.err = r.ctx.Err()
		}
		if r.err != nil {
			close(r.reply)
			continue
		}
		live = append(live, r)
	}
	if err != nil {
		return later
	}
	if len(live) == 0 {
		t.tx.Rollback()
		return later
	}
	s := &session{db: db, members: len(live), done: make(chan struct{})}
	if err := s.open(ctx, t, live); err != nil {
		for _, r := range live {
			r.ok, r.err = false, err
			close(r.reply)
		}
		return later
	}
	for _, r := range live {
		r.s = s
		close(r.reply)
	}
	return later
}

// open runs the batch's statement in t, which becomes the session's
// transaction. Should the statement fail, Postgres refuses any other until
// a rollback: the batch then runs again one request at a time, each in a
// savepoint, so that a request's error is its own.
func (s *session) open(ctx context.Context, t *tx, reqs []*openReq) error {
	db := s.db
	err := openItems(ctx, t, reqs)
	if err == nil {
		s.tx = t
		return nil
	}
	t.tx.Rollback()
	db.prepareAfter(ctx, t)
	if len(reqs) == 1 {
		return err
	}
	if t, err = db.begin(ctx, nil); err != nil {
		return err
	}
	for _, r := range reqs {
		if _, err := t.tx.ExecContext(ctx, "SAVEPOINT o"); err != nil {
			t.tx.Rollback()
			return fmt.Errorf("open items: %w", err)
		}
		r.err = openItems(ctx, t, []*openReq{r})
		end := "RELEASE o"
		if r.err != nil {
			r.ok, end = false, "ROLLBACK TO o"
		}
		if _, err := t.tx.ExecContext(ctx, end); err != nil {
			t.tx.Rollback()
			return fmt.Errorf("open items: %w", err)
		}
	}
	s.tx = t
	return nil
}

// acquire gives t the session's transaction for statements after its
// OpenItem, until t ends.
func (s *session) acquire(t *tx) error {
	s.mu.Lock()
	if _, err := s.tx.tx.ExecContext(context.Background(), "SAVEPOINT m"); err != nil {
		s.mu.Unlock()
		return fmt.Errorf("savepoint: %w", err)
	}
	t.tx, t.holds = s.tx.tx, true
	return nil
}

// leave ends t's part in the session: kept when err is nil, undone
// otherwise. A kept one waits for the session's commit, and reports it.
func (s *session) leave(t *tx, err error) error {
	ctx := context.Background()
	if t.holds {
		if err == nil {
			// Postgres refuses RELEASE after a statement of t failed,
			// which fn may have ignored: t then fails, as its COMMIT would.
			if _, rerr := t.tx.ExecContext(ctx, "RELEASE m"); rerr != nil {
				err = fmt.Errorf("commit: %w", rerr)
			}
		}
		if err != nil {
			if _, rerr := t.tx.ExecContext(ctx, "ROLLBACK TO m"); rerr != nil {
				s.state.Lock()
				s.broken = cmp.Or(s.broken, fmt.Errorf("roll back a transaction of the batch: %w", rerr))
				s.state.Unlock()
			}
		}
		t.tx, t.holds = nil, false
		s.mu.Unlock()
	}
	s.state.Lock()
	if err != nil && t.opened != nil {
		s.undo = append(s.undo, *t.opened)
	}
	s.members--
	last := s.members == 0
	s.state.Unlock()
	if last {
		s.err = s.commit(ctx)
		s.tx.tx.Rollback() // a commit that failed may have left it open
		s.db.prepareAfter(ctx, s.tx)
		close(s.done)
	}
	if err != nil {
		return err
	}
	<-s.done
	return s.err
}

// commit deletes the rows of the members that failed and commits the rest.
func (s *session) commit(ctx context.Context) error {
	if s.broken != nil {
		return s.broken
	}
	if len(s.undo) > 0 {
		var items, messages, jobs pq.Int64Array
		for _, o := range s.undo {
			items, messages, jobs = append(items, o.item), append(messages, o.message), append(jobs, o.job)
		}
		_, err := s.tx.exec(ctx, `
			WITH j AS (DELETE FROM outbox WHERE id = ANY (?::bigint[])),
				m AS (DELETE FROM messages WHERE id = ANY (?::bigint[]))
			DELETE FROM items WHERE id = ANY (?::bigint[])`,
			jobs, messages, items)
		if err != nil {
			return fmt.Errorf("roll back a transaction of the batch: %w", err)
		}
	}
	return s.tx.commit()
}
