package storage

import (
	"context"
	"fmt"
	"sync"

	"github.com/jmoiron/sqlx"
)

// stmtCache holds the store's statements, prepared on the database (and so
// on each connection as it first runs them) and rebound to its placeholders.
type stmtCache struct {
	db *sqlx.DB
	mu sync.Mutex
	m  map[string]*sqlx.Stmt
}

func newStmtCache(db *sqlx.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sqlx.Stmt{}}
}

// get returns the prepared statement for query, or nil when it has not
// been prepared yet.
func (c *stmtCache) get(query string) *sqlx.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[query]
}

// prepare prepares queries not cached yet. It must run outside any
// transaction (on SQLite the one connection is the transaction's), and
// holds no lock while it waits for a connection.
func (c *stmtCache) prepare(ctx context.Context, queries []string) error {
	for _, q := range queries {
		if c.get(q) != nil {
			continue
		}
		st, err := c.db.PreparexContext(ctx, c.db.Rebind(q))
		if err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
		c.mu.Lock()
		if _, ok := c.m[q]; ok {
			st.Close() // prepared meanwhile by another transaction's end
		} else {
			c.m[q] = st
		}
		c.mu.Unlock()
	}
	return nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.m {
		st.Close()
		delete(c.m, q)
	}
}
