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

// queueAdmission queues the key claim and the rate count of t, as its
// first batch sends them after begin.
func queueAdmission(b *pgx.Batch, s *schema, t Turn, adm *admission) {
	if t.IdempotencyKey != "" {
		b.Queue(s.sql.claimKey, t.UserID, t.IdempotencyKey, t.RequestHash).QueryRow(func(row pgx.Row) error { return row.Scan(&adm.claimed) })
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
	conn, s, err := p.turnConn(ctx)
	if err != nil {
		return Conversation{}, nil, err
	}
	defer conn.Release()
	conv, replay, err := p.startTurn(ctx, conn, s, t)
	if err != nil || replay != nil {
		return conv, replay, err
	}
	if _, err := conn.Exec(ctx, "commit"); err != nil {
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
	queueSetResponse(b, s, t.UserID, t.IdempotencyKey, response)
	return nil
}

func queueSetResponse(b *pgx.Batch, s *schema, userID, key string, response json.RawMessage) {
	if key != "" {
		b.Queue(s.sql.setResponse, userID, key, string(response))
	}
}

// FinishTurn implements Store: one round trip, one implicit transaction.
func (p *Postgres) FinishTurn(ctx context.Context, t Turn, reply Message, response json.RawMessage) error {
	return convNotFound(reply.ConversationID, p.write(ctx, func(ctx context.Context, q db, s *schema) error {
		b := &pgx.Batch{}
		if err := queueFinish(b, s, t, reply, response); err != nil {
			return err
		}
		return q.SendBatch(ctx, b).Close()
	}))
}

// AbandonTurn implements Store.
func (p *Postgres) AbandonTurn(ctx context.Context, t Turn) error {
	if t.IdempotencyKey == "" {
		return nil
	}
	return p.write(ctx, func(ctx context.Context, q db, s *schema) error {
		_, err := q.Exec(ctx, s.sql.releaseKey, t.UserID, t.IdempotencyKey)
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
	if key == "" {
		var res json.RawMessage
		err := p.write(ctx, func(ctx context.Context, q db, s *schema) error {
			var err error
			res, err = fn(ctx, pgTurn{q: q, p: p, s: s})
			return err
		})
		return res, false, err
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	conn, s, err := p.turnConn(ctx)
	if err != nil {
		return nil, false, err
	}
	defer conn.Release()
	t := Turn{UserID: userID, IdempotencyKey: key, RequestHash: hash}
	adm := admission{claimed: true}
	b := &pgx.Batch{}
	b.Queue("begin")
	queueAdmission(b, s, t, &adm)
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return nil, false, p.outcome(ctx, err)
	}
	if !adm.claimed {
		if _, err := conn.Exec(ctx, "rollback"); err != nil {
			return nil, false, p.outcome(ctx, err)
		}
		_, res, err := p.replay(ctx, conn, s, t)
		return res, res != nil, err
	}
	res, err := fn(ctx, pgTurn{q: conn, p: p, s: s})
	if err != nil {
		_, _ = conn.Exec(ctx, "rollback")
		return nil, false, err
	}
	b = &pgx.Batch{}
	queueSetResponse(b, s, userID, key, res)
	b.Queue("commit")
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
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
	ctx, cancel := context.WithTimeout(ctx, turnTimeout)
	defer cancel()
	conn, s, err := p.turnConn(ctx)
	if err != nil {
		return nil, false, err
	}
	defer conn.Release()

	conv, replay, err := p.startTurn(ctx, conn, s, t)
	if err != nil || replay != nil {
		return replay, replay != nil, err
	}
	reply, response, err := fn(ctx, pgTurn{q: conn, p: p, s: s}, conv)
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
		return nil, false, p.outcome(ctx, err)
	}
	return response, false, nil
}

// pgTurn is the TurnTx of RunTurn and RunIdempotent: the queries on the
// unit of work's connection, inside its transaction (or, without a key, on
// the pool). Nothing is retried there: the unit fails or commits whole.
type pgTurn struct {
	q db
	p *Postgres
	s *schema
}

// AddTask implements Tasks.
func (x pgTurn) AddTask(ctx context.Context, userID string, nt NewTask) (Task, error) {
	t, err := addTask(ctx, x.q, x.s, userID, nt, x.p.limits.MaxTasks)
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
