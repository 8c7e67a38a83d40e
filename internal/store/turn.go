package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// A chat turn on PostgreSQL. Its first round trip admits the turn and stores
// the user message; RunTurn keeps that transaction open for the tools and
// ends it with the assistant message, StartTurn commits it at once.

// startTurnQuery is the statement that stores the turn's user message.
func startTurnQuery(s *schema, t Turn) (string, []any) {
	if t.ConversationID == 0 {
		return s.sql.startNew, []any{t.UserID, Title(t.Content), t.Content}
	}
	return s.sql.appendMessage, []any{t.UserID, t.ConversationID, RoleUser, t.Content, "[]"}
}

func scanStart(t Turn, row pgx.Row) (Conversation, error) {
	if t.ConversationID == 0 {
		return scanConv(row)
	}
	_, _, c, err := scanAppended(row)
	return c, err
}

// turnConn takes a connection of its own for a turn's transaction, once the
// schema is current. A connection released inside a transaction (after an
// error) is destroyed by the pool, and the server rolls the transaction back.
func (p *Postgres) turnConn(ctx context.Context) (*lease, *schema, error) {
	s, err := p.schemaNow(ctx)
	if err != nil {
		return nil, nil, err
	}
	c, err := p.acquire(ctx)
	if err != nil {
		return nil, nil, err
	}
	return c, s, nil
}

// opened takes a connection for a unit of work and runs its first round
// trip there. Connections are handed out unpinged, so one that died since
// it was last used is found out here: the round trip is sent again, once,
// on another. That is safe because a first round trip commits nothing.
func (p *Postgres) opened(ctx context.Context, first func(*lease, *schema) error) (*lease, *schema, error) {
	for attempt := 0; ; attempt++ {
		c, s, err := p.turnConn(ctx)
		if err != nil {
			return nil, nil, err
		}
		err = first(c, s)
		if err == nil {
			return c, s, nil
		}
		c.Release()
		if attempt > 0 || ctx.Err() != nil || !errors.Is(err, ErrUnavailable) || !connectionDied(err) {
			return nil, nil, err
		}
	}
}

// admission is what the turn's first batch found out.
type admission struct {
	claimed   bool    // the idempotency key is this turn's (true without a key)
	turns     int     // turns counted this minute, this one included
	addrTurns int     // the same, for the client's address
	wait      float64 // seconds until the next rate window
}

// startTurn sends a turn's first round trip on conn — begin, the key claim,
// the rate count and the user message — and leaves the transaction open
// when it returns a conversation. Otherwise it has rolled back, and returns
// the replay or the error that refused the turn.
func (p *Postgres) startTurn(ctx context.Context, conn *lease, s *schema, t Turn) (Conversation, json.RawMessage, error) {
	if !convUserOK(s, t.UserID) {
		if t.ConversationID != 0 {
			return Conversation{}, nil, convNotFound(t.ConversationID, pgx.ErrNoRows)
		}
		return Conversation{}, nil, fmt.Errorf("user id %q for %s: %w", t.UserID, s.convs.conv, ErrUnknownUser)
	}
	adm := admission{claimed: true}
	var conv Conversation
	b := &pgx.Batch{}
	b.Queue("begin")
	queueAdmission(b, s, t, &adm)
	sql, args := startTurnQuery(s, t)
	b.Queue(sql, args...).QueryRow(func(row pgx.Row) (err error) {
		conv, err = scanStart(t, row)
		return err
	})
	err := conn.SendBatch(ctx, b).Close()
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return Conversation{}, nil, p.outcome(ctx, err)
	}
	overLimit := adm.turns > t.RateLimit || adm.addrTurns > t.AddressLimit
	if !adm.claimed || overLimit || err != nil {
		if _, rbErr := conn.Exec(ctx, "rollback"); rbErr != nil {
			return Conversation{}, nil, p.outcome(ctx, rbErr)
		}
	}
	switch {
	case !adm.claimed:
		return p.replay(ctx, conn, s, t)
	case adm.turns > t.RateLimit:
		return Conversation{}, nil, &RateLimitError{Limit: t.RateLimit, RetryAfter: secondsOf(adm.wait)}
	case overLimit:
		return Conversation{}, nil, &RateLimitError{Limit: t.AddressLimit, RetryAfter: secondsOf(adm.wait)}
	case err != nil:
		return Conversation{}, nil, convNotFound(t.ConversationID, err)
	}
	return conv, nil, nil
}

// keyOf is the key a turn is known by in the keys table: the client's
// idempotency key, or else its own outcome key, with no request hash.
func keyOf(t Turn) (key, hash string) {
	if t.IdempotencyKey != "" {
		return t.IdempotencyKey, t.RequestHash
	}
	return t.OutcomeKey, ""
}

// withOutcomeKey gives a turn without keys an outcome key of its own.
func withOutcomeKey(t Turn) Turn {
	if t.IdempotencyKey == "" && t.OutcomeKey == "" {
		t.OutcomeKey = NewOutcomeKey()
	}
	return t
}

// queueAdmission queues the key claim (and the turn's lock, which its
// transaction then holds to the end), and the rate counts of t, as its
// first batch sends them after begin.
func queueAdmission(b *pgx.Batch, s *schema, t Turn, adm *admission) {
	if key, hash := keyOf(t); key != "" {
		b.Queue(s.sql.claimKey, t.UserID, key, hash).QueryRow(func(row pgx.Row) error { return row.Scan(&adm.claimed) })
		b.Queue(s.sql.lockTurn, t.UserID, key)
	}
	if t.RateLimit > 0 {
		b.Queue(s.sql.countTurn, t.UserID).QueryRow(func(row pgx.Row) error { return row.Scan(&adm.turns, &adm.wait) })
	}
	if t.AddressLimit > 0 {
		b.Queue(s.sql.countTurn, RateKey("chat", t.Address)).QueryRow(func(row pgx.Row) error { return row.Scan(&adm.addrTurns, &adm.wait) })
	}
}

// replay reads the turn that holds t's idempotency key: its response when
// it finished, or why t cannot run.
func (p *Postgres) replay(ctx context.Context, conn *lease, s *schema, t Turn) (Conversation, json.RawMessage, error) {
	var hash string
	var response []byte
	if err := conn.QueryRow(ctx, s.sql.readKey, t.UserID, t.IdempotencyKey).Scan(&hash, &response); err != nil {
		if errors.Is(err, pgx.ErrNoRows) { // released between the two statements
			return Conversation{}, nil, ErrKeyInUse
		}
		return Conversation{}, nil, p.outcome(ctx, err)
	}
	switch {
	case hash != t.RequestHash:
		return Conversation{}, nil, ErrKeyReused
	case response == nil:
		return Conversation{}, nil, ErrKeyInUse
	}
	return Conversation{}, response, nil
}

// StartTurn implements Store: one round trip to admit the turn and store the
// user message, and one to commit.
func (p *Postgres) StartTurn(ctx context.Context, t Turn) (Conversation, json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	var conv Conversation
	var replay json.RawMessage
	conn, _, err := p.opened(ctx, func(c *lease, s *schema) (err error) {
		conv, replay, err = p.startTurn(ctx, c, s, t)
		return err
	})
	if err != nil {
		return Conversation{}, nil, err
	}
	defer conn.Release()
	if replay != nil {
		return conv, replay, nil
	}
	if _, err := conn.Exec(ctx, "commit"); err != nil {
		if key, hash := keyOf(t); key != "" && !isAnswer(err) {
			// The user message is stored if its key is.
			found, _, serr := p.settle(ctx, t.UserID, key, hash, err)
			switch {
			case serr != nil:
				return Conversation{}, nil, serr
			case found:
				return conv, nil, nil
			}
		}
		return Conversation{}, nil, p.outcome(ctx, err)
	}
	return conv, nil, nil
}

// queueFinish queues the statements that end a turn: the assistant message
// and the response its idempotency key replays.
func queueFinish(b *pgx.Batch, s *schema, t Turn, reply Message, response json.RawMessage) error {
	args, err := appendArgs(t.UserID, reply)
	if err != nil {
		return err
	}
	b.Queue(s.sql.appendMessage, args...).QueryRow(func(row pgx.Row) error {
		_, _, _, err := scanAppended(row)
		return err
	})
	key, _ := keyOf(t)
	queueSetResponse(b, s, t.UserID, key, response)
	return nil
}

func queueSetResponse(b *pgx.Batch, s *schema, userID, key string, response json.RawMessage) {
	if key != "" {
		b.Queue(s.sql.setResponse, userID, key, string(response))
	}
}

// FinishTurn implements Store. Without a key, one round trip, one implicit
// transaction. With one, two: the turn's lock first, then the reply, the
// response and commit, so a commit whose answer is lost can be settled.
func (p *Postgres) FinishTurn(ctx context.Context, t Turn, reply Message, response json.RawMessage) error {
	key, hash := keyOf(t)
	if key == "" {
		return convNotFound(reply.ConversationID, p.write(ctx, func(ctx context.Context, q db, s *schema) error {
			b := &pgx.Batch{}
			if err := queueFinish(b, s, t, reply, response); err != nil {
				return err
			}
			return q.SendBatch(ctx, b).Close()
		}))
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	// The model's answer is known and the tools have run: a failure that
	// wrote nothing is worth one more try on a fresh connection.
	retry, err := p.finishOnce(ctx, t, key, hash, reply, response)
	if retry {
		_, err = p.finishOnce(ctx, t, key, hash, reply, response)
	}
	return convNotFound(reply.ConversationID, err)
}

// finishOnce tries FinishTurn once; retry says its failure certainly wrote
// nothing and the database did not refuse it.
func (p *Postgres) finishOnce(ctx context.Context, t Turn, key, hash string, reply Message, response json.RawMessage) (retry bool, err error) {
	conn, s, err := p.turnConn(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Release()
	b := &pgx.Batch{}
	b.Queue("begin")
	b.Queue(s.sql.lockTurn, t.UserID, key)
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return !isAnswer(err), p.outcome(ctx, err) // no commit was sent
	}
	b = &pgx.Batch{}
	if err := queueFinish(b, s, t, reply, response); err != nil {
		_, _ = conn.Exec(ctx, "rollback")
		return false, err
	}
	b.Queue("commit")
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		if isAnswer(err) {
			return false, p.outcome(ctx, err)
		}
		found, res, serr := p.settle(ctx, t.UserID, key, hash, err)
		switch {
		case serr != nil:
			return false, serr
		case found && res != nil:
			return false, nil
		}
		return true, p.outcome(ctx, err)
	}
	return false, nil
}

// AbandonTurn implements Store.
func (p *Postgres) AbandonTurn(ctx context.Context, t Turn) error {
	key, _ := keyOf(t)
	if key == "" {
		return nil
	}
	return p.write(ctx, func(ctx context.Context, q db, s *schema) error {
		_, err := q.Exec(ctx, s.sql.releaseKey, t.UserID, key)
		return err
	})
}

// Sweep implements Store.
func (p *Postgres) Sweep(ctx context.Context) error {
	return p.write(ctx, func(ctx context.Context, q db, s *schema) error {
		_, err := q.Exec(ctx, s.sql.sweep)
		return err
	})
}

// RunIdempotent implements Store: with a key, three round trips — begin and
// the key claim, fn's statements, the response and commit — and without
// one, fn alone on the pool.
func (p *Postgres) RunIdempotent(ctx context.Context, userID, key, hash string, fn func(context.Context, Tasks) (json.RawMessage, error)) (json.RawMessage, bool, error) {
	t := withOutcomeKey(Turn{UserID: userID, IdempotencyKey: key, RequestHash: hash})
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	adm := admission{claimed: true}
	conn, s, err := p.opened(ctx, func(c *lease, s *schema) error {
		adm = admission{claimed: true}
		b := &pgx.Batch{}
		b.Queue("begin")
		queueAdmission(b, s, t, &adm)
		return p.outcome(ctx, c.SendBatch(ctx, b).Close())
	})
	if err != nil {
		return nil, false, err
	}
	defer conn.Release()
	if !adm.claimed {
		if _, err := conn.Exec(ctx, "rollback"); err != nil {
			return nil, false, p.outcome(ctx, err)
		}
		_, res, err := p.replay(ctx, conn, s, t)
		return res, res != nil, err
	}
	res, err := fn(ctx, pgTurn{q: conn, p: p, s: s, inTx: true})
	if err != nil {
		_, _ = conn.Exec(ctx, "rollback")
		return nil, false, err
	}
	b := &pgx.Batch{}
	k, h := keyOf(t)
	queueSetResponse(b, s, userID, k, res)
	b.Queue("commit")
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		if !isAnswer(err) {
			if found, stored, serr := p.settle(ctx, userID, k, h, err); serr != nil || found && stored != nil {
				return stored, false, serr
			}
		}
		return nil, false, p.outcome(ctx, err)
	}
	return res, false, nil
}

// RunTurn implements Store: a turn of the offline agent takes three round
// trips (four when a task is looked up by title) and one commit:
//
//	begin + key claim + rate count + the user message   (one batch)
//	the tools fn calls                                   (one each)
//	the assistant message + key's response + commit     (one batch)
func (p *Postgres) RunTurn(ctx context.Context, t Turn, fn TurnFunc) (json.RawMessage, bool, error) {
	t = withOutcomeKey(t)
	ctx, cancel := context.WithTimeout(ctx, turnTimeout)
	defer cancel()
	var conv Conversation
	var replay json.RawMessage
	conn, s, err := p.opened(ctx, func(c *lease, s *schema) (err error) {
		conv, replay, err = p.startTurn(ctx, c, s, t)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	defer conn.Release()
	if replay != nil {
		return replay, true, nil
	}
	reply, response, err := fn(ctx, pgTurn{q: conn, p: p, s: s, inTx: true}, conv)
	if err != nil {
		_, _ = conn.Exec(ctx, "rollback")
		return nil, false, err
	}
	reply.ConversationID = conv.ID
	b := &pgx.Batch{}
	if err := queueFinish(b, s, t, reply, response); err != nil {
		return nil, false, err
	}
	b.Queue("commit")
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		if key, hash := keyOf(t); !isAnswer(err) {
			if found, stored, serr := p.settle(ctx, t.UserID, key, hash, err); serr != nil || found && stored != nil {
				return stored, false, serr
			}
		}
		return nil, false, p.outcome(ctx, err)
	}
	return response, false, nil
}

// settleTimeout bounds how long settle keeps asking.
const settleTimeout = 10 * time.Second

// settle finds out whether the turn keyed key committed, when the answer
// to its commit was lost (cause): on a connection of its own it waits for
// the turn's lock — which the turn's transaction held from its first round
// trip until it ended — and then reads the key: found, with the response
// the turn stored. It keeps asking while the database does not answer, up
// to settleTimeout, and then gives ErrOutcomeUnknown.
func (p *Postgres) settle(ctx context.Context, userID, key, hash string, cause error) (bool, json.RawMessage, error) {
	_ = p.outcome(ctx, cause) // drops the dead connections first
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	wait := 50 * time.Millisecond
	for {
		found, response, err := p.readSettled(ctx, userID, key, hash)
		if err == nil {
			p.log.Warn().Err(cause).Bool("committed", found).Msg("a commit's answer was lost; its outcome was looked up")
			return found, response, nil
		}
		select {
		case <-time.After(wait):
			wait = min(2*wait, time.Second)
			continue
		case <-ctx.Done():
		}
		p.log.Error().Err(cause).AnErr("lookup", err).Msg("a commit's answer was lost, and whether it happened could not be found out")
		return false, nil, fmt.Errorf("%w: %w", ErrOutcomeUnknown, cause)
	}
}

func (p *Postgres) readSettled(ctx context.Context, userID, key, hash string) (bool, json.RawMessage, error) {
	s, err := p.schemaNow(ctx)
	if err != nil {
		return false, nil, err
	}
	c, err := p.acquire(ctx)
	if err != nil {
		return false, nil, err
	}
	defer c.Release()
	found := true
	var gotHash string
	var response []byte
	b := &pgx.Batch{}
	b.Queue("begin")
	b.Queue("set local lock_timeout = '3s'")
	b.Queue(s.sql.lockTurn, userID, key)
	b.Queue(s.sql.readKey, userID, key).QueryRow(func(row pgx.Row) error {
		err := row.Scan(&gotHash, &response)
		if errors.Is(err, pgx.ErrNoRows) {
			found = false
			return nil
		}
		return err
	})
	b.Queue("commit")
	if err := c.SendBatch(ctx, b).Close(); err != nil {
		return false, nil, err
	}
	if found && gotHash != hash {
		return false, nil, nil // the key is another request's
	}
	return found, response, nil
}

// pgTurn is the TurnTx of RunTurn and RunIdempotent: the queries on the
// unit of work's connection, inside its transaction (or, without a key, on
// the pool). Nothing is retried there: the unit fails or commits whole.
type pgTurn struct {
	q    db
	p    *Postgres
	s    *schema
	inTx bool
}

// AddTask implements Tasks.
func (x pgTurn) AddTask(ctx context.Context, userID string, nt NewTask) (Task, error) {
	t, err := addTask(ctx, x.q, x.s, userID, nt, x.p.limits.MaxTasks, x.inTx)
	return t, x.p.outcome(ctx, err)
}

// CountTasks implements Tasks.
func (x pgTurn) CountTasks(ctx context.Context, userID string, tq TaskQuery) (int, error) {
	n, err := countTasks(ctx, x.q, x.s, userID, tq)
	return n, x.p.outcome(ctx, err)
}

// GetTask implements Tasks.
func (x pgTurn) GetTask(ctx context.Context, userID string, id int64) (Task, error) {
	t, err := getTask(ctx, x.q, x.s, userID, id)
	return t, x.p.outcome(ctx, err)
}

// ListTasks implements Tasks.
func (x pgTurn) ListTasks(ctx context.Context, userID string, tq TaskQuery) ([]Task, error) {
	ts, err := listTasks(ctx, x.q, x.s, userID, tq)
	return ts, x.p.outcome(ctx, err)
}

// UpdateTask implements Tasks.
func (x pgTurn) UpdateTask(ctx context.Context, userID string, id int64, patch TaskPatch) (Task, error) {
	t, err := updateTask(ctx, x.q, x.s, userID, id, patch)
	return t, x.p.outcome(ctx, err)
}

// DeleteTask implements Tasks.
func (x pgTurn) DeleteTask(ctx context.Context, userID string, id int64) (Task, error) {
	t, err := deleteTask(ctx, x.q, x.s, userID, id)
	return t, x.p.outcome(ctx, err)
}

// ListMessages implements TurnTx.
func (x pgTurn) ListMessages(ctx context.Context, userID string, convID int64, pg Page) ([]Message, error) {
	ms, err := listMessages(ctx, x.q, x.s, userID, convID, pg)
	return ms, x.p.outcome(ctx, err)
}

// secondsOf turns the database's seconds into a duration.
func secondsOf(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
