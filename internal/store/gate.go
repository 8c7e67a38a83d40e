package store

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Near the database's connection limit (a small plan, a role's CONNECTION
// LIMIT, other clients holding connections), opening one more connection
// fails with "too many connections" although the pool's open ones are
// healthy. The gate then lowers how many connections requests ask for to
// what the pool holds, for a while, so requests wait their turn for an
// open connection instead of failing — and the open ones are never thrown
// away.

// shrinkFor is how long a lowered connection count lasts before the pool
// may try to grow again.
const shrinkFor = 30 * time.Second

// gate bounds the connections requests use at once: a slot per connection.
type gate struct {
	slots  chan struct{}
	parked atomic.Int64 // slots held back by shrink
}

func newGate(n int) *gate {
	g := &gate{slots: make(chan struct{}, n)}
	for range n {
		g.slots <- struct{}{}
	}
	return g
}

// enter takes a slot, waiting while all are in use.
func (g *gate) enter(ctx context.Context) error {
	select {
	case <-g.slots:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *gate) leave() { g.slots <- struct{}{} }

// shrink holds back slots, as they come free, so that at most n stay in
// use, for d.
func (g *gate) shrink(n int, d time.Duration) {
	k := int64(cap(g.slots)-n) - g.parked.Load()
	if k <= 0 {
		return
	}
	g.parked.Add(k)
	go func() {
		defer g.parked.Add(-k)
		timer := time.NewTimer(d)
		defer timer.Stop()
		held := int64(0)
		defer func() {
			for range held {
				g.slots <- struct{}{}
			}
		}()
		for held < k {
			select {
			case <-g.slots:
				held++
			case <-timer.C:
				return
			}
		}
		<-timer.C
	}()
}

// lease is a pool connection taken through the gate.
type lease struct {
	*pgxpool.Conn
	g *gate
}

// Release returns the connection to the pool and its slot to the gate.
func (c *lease) Release() {
	c.Conn.Release()
	c.g.leave()
}

// acquire takes a connection for one unit of work. When a new connection
// cannot be opened for the server's connection limit while the pool holds
// open ones, it waits for one of those.
func (p *Postgres) acquire(ctx context.Context) (*lease, error) {
	for {
		if err := p.gate.enter(ctx); err != nil {
			return nil, p.outcome(ctx, fmt.Errorf("waiting for a database connection: %w", err))
		}
		c, err := p.pool.Acquire(ctx)
		if err == nil {
			return &lease{Conn: c, g: p.gate}, nil
		}
		p.gate.leave()
		open := int(p.pool.Stat().TotalConns())
		if !atConnectionLimit(err) || open == 0 || ctx.Err() != nil {
			return nil, p.outcome(ctx, err)
		}
		p.log.Warn().Int("connections", open).Msg("the database refuses more connections: waiting for the open ones")
		p.gate.shrink(open, shrinkFor)
	}
}

// atConnectionLimit reports a connection refused because the server, the
// database or the role has as many connections as it allows.
func atConnectionLimit(err error) bool {
	pgErr, ok := errors.AsType[*pgconn.PgError](err)
	return ok && pgErr.Code == "53300"
}
