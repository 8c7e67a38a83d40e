package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// A chat turn on PostgreSQL. Its first round trip admits the turn and stores
// the user message; RunTurn keeps that transaction open for the tools and
// ends it with the assistant message, StartTurn commits it at once.

// startNewTurnSQL stores the user message in a new conversation: the
// conversation and the message in one round trip.
const startNewTurnSQL = `with c as (
	insert into conversations (user_id, title, message_count) values ($1, $2, 1)
	returning ` + convColumns + `
), m as (
	insert into messages (conversation_id, role, content, created_at)
	select id, 'user', $3, updated_at from c returning id
)
select ` + convColumnsC + ` from c, m`

// startTurnQuery is the statement that stores the turn's user message.
func startTurnQuery(t Turn) (string, []any) {
	if t.ConversationID == 0 {
		return startNewTurnSQL, []any{t.UserID, Title(t.Content), t.Content}
	}
	return appendSQL, []any{t.UserID, t.ConversationID, RoleUser, t.Content, "[]"}
}

func scanStart(t Turn, row pgx.Row) (Conversation, error) {
	if t.ConversationID == 0 {
		return scanConv(row)
	}
	_, _, c, err := scanAppended(row)
	return c, err
}

// Admission statements, sent in the turn's first batch after begin.
const (
	// claimKeySQL takes the key, or takes over one that expired or whose
	// turn died; a live key is not claimed. A concurrent claim of the same
	// key waits here until the first turn commits or rolls back.
	claimKeySQL = `with claim as (
	insert into idempotency_keys (user_id, key, request_hash) values ($1, $2, $3)
	on conflict (user_id, key) do update set request_hash = excluded.request_hash, response = null, created_at = now()
	where idempotency_keys.created_at < now() - interval '24 hours'
		or (idempotency_keys.response is null and idempotency_keys.created_at < now() - interval '5 minutes')
	returning 1
)
select exists (select 1 from claim)`
	readKeySQL = `select request_hash, response from idempotency_keys where user_id = $1 and key = $2`
	// countTurnSQL counts the turn in the current minute (dropping the
	// user's past windows) and says how long until the next one.
	countTurnSQL = `with past as (
	delete from chat_rate where user_id = $1 and window_start < date_trunc('minute', now())
)
insert into chat_rate (user_id, window_start, turns) values ($1, date_trunc('minute', now()), 1)
on conflict (user_id, window_start) do update set turns = chat_rate.turns + 1
returning turns, extract(epoch from date_trunc('minute', now()) + interval '1 minute' - now())::float8`
	setResponseSQL = `update idempotency_keys set response = $3 where user_id = $1 and key = $2`
	releaseKeySQL  = `delete from idempotency_keys where user_id = $1 and key = $2 and response is null`
)

// turnConn takes a connection of its own for a turn's transaction, once the
// schema is current. A connection released inside a transaction (after an
// error) is destroyed by the pool, and the server rolls the transaction back.
func (p *Postgres) turnConn(ctx context.Context) (*pgxpool.Conn, error) {
	if err := p.Migrate(ctx); err != nil {
		return nil, err
	}
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return nil, p.outcome(ctx, err)
	}
	return conn, nil
}

// admission is what the turn's first batch found out.
type admission struct {
	claimed bool    // the idempotency key is this turn's (true without a key)
	turns   int     // turns counted this minute, this one included
	wait    float64 // seconds until the next rate window
}

// startTurn sends a turn's first round trip on conn — begin, the key claim,
// the rate count and the user message — and leaves the transaction open
// when it returns a conversation. Otherwise it has rolled back, and returns
// the replay or the error that refused the turn.
func (p *Postgres) startTurn(ctx context.Context, conn *pgxpool.Conn, t Turn) (Conversation, json.RawMessage, error) {
	adm := admission{claimed: true}
	var conv Conversation
	b := &pgx.Batch{}
	b.Queue("begin")
	if t.IdempotencyKey != "" {
		b.Queue(claimKeySQL, t.UserID, t.IdempotencyKey, t.RequestHash).QueryRow(func(row pgx.Row) error { return row.Scan(&adm.claimed) })
	}
	if t.RateLimit > 0 {
		b.Queue(countTurnSQL, t.UserID).QueryRow(func(row pgx.Row) error { return row.Scan(&adm.turns, &adm.wait) })
	}
	sql, args := startTurnQuery(t)
	b.Queue(sql, args...).QueryRow(func(row pgx.Row) (err error) {
		conv, err = scanStart(t, row)
		return err
	})
	err := conn.SendBatch(ctx, b).Close()
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return Conversation{}, nil, p.outcome(ctx, err)
	}
	overLimit := adm.turns > t.RateLimit
	if !adm.claimed || overLimit || err != nil {
		if _, rbErr := conn.Exec(ctx, "rollback"); rbErr != nil {
			return Conversation{}, nil, p.outcome(ctx, rbErr)
		}
	}
	switch {
	case !adm.claimed:
		return p.replay(ctx, conn, t)
	case overLimit:
		return Conversation{}, nil, &RateLimitError{Limit: t.RateLimit, RetryAfter: time.Duration(adm.wait * float64(time.Second))}
	case err != nil:
		return Conversation{}, nil, convNotFound(t.ConversationID, err)
	}
	return conv, nil, nil
}

// replay reads the turn that holds t's idempotency key: its response when
// it finished, or why t cannot run.
func (p *Postgres) replay(ctx context.Context, conn *pgxpool.Conn, t Turn) (Conversation, json.RawMessage, error) {
	var hash string
	var response []byte
	if err := conn.QueryRow(ctx, readKeySQL, t.UserID, t.IdempotencyKey).Scan(&hash, &response); err != nil {
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
	conn, err := p.turnConn(ctx)
	if err != nil {
		return Conversation{}, nil, err
	}
	defer conn.Release()
	conv, replay, err := p.startTurn(ctx, conn, t)
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
func queueFinish(b *pgx.Batch, t Turn, reply Message, response json.RawMessage) error {
	args, err := appendArgs(t.UserID, reply)
	if err != nil {
		return err
	}
	b.Queue(appendSQL, args...).QueryRow(func(row pgx.Row) error {
		_, _, _, err := scanAppended(row)
		return err
	})
	if t.IdempotencyKey != "" {
		b.Queue(setResponseSQL, t.UserID, t.IdempotencyKey, string(response))
	}
	return nil
}

// FinishTurn implements Store: one round trip, one implicit transaction.
func (p *Postgres) FinishTurn(ctx context.Context, t Turn, reply Message, response json.RawMessage) error {
	b := &pgx.Batch{}
	if err := queueFinish(b, t, reply, response); err != nil {
		return err
	}
	return convNotFound(reply.ConversationID, p.write(ctx, func(ctx context.Context, q db) error {
		return q.SendBatch(ctx, b).Close()
	}))
}

// AbandonTurn implements Store.
func (p *Postgres) AbandonTurn(ctx context.Context, t Turn) error {
	if t.IdempotencyKey == "" {
		return nil
	}
	return p.write(ctx, func(ctx context.Context, q db) error {
		_, err := q.Exec(ctx, releaseKeySQL, t.UserID, t.IdempotencyKey)
		return err
	})
}

// Sweep implements Store.
func (p *Postgres) Sweep(ctx context.Context) error {
	return p.write(ctx, func(ctx context.Context, q db) error {
		_, err := q.Exec(ctx, `delete from idempotency_keys where created_at < now() - interval '24 hours'`)
		if err == nil {
			_, err = q.Exec(ctx, `delete from chat_rate where window_start < date_trunc('minute', now())`)
		}
		return err
	})
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
	conn, err := p.turnConn(ctx)
	if err != nil {
		return nil, false, err
	}
	defer conn.Release()

	conv, replay, err := p.startTurn(ctx, conn, t)
	if err != nil || replay != nil {
		return replay, replay != nil, err
	}
	reply, response, err := fn(ctx, pgTurn{conn: conn, p: p}, conv)
	if err != nil {
		_, _ = conn.Exec(ctx, "rollback")
		return nil, false, err
	}
	reply.ConversationID = conv.ID
	b := &pgx.Batch{}
	if err := queueFinish(b, t, reply, response); err != nil {
		return nil, false, err
	}
	b.Queue("commit")
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return nil, false, p.outcome(ctx, err)
	}
	return response, false, nil
}

// pgTurn is the TurnTx of RunTurn: the queries on the turn's connection,
// inside its transaction. Nothing is retried there: the transaction is the
// unit that fails or commits.
type pgTurn struct {
	conn *pgxpool.Conn
	p    *Postgres
}

// AddTask implements Tasks.
func (x pgTurn) AddTask(ctx context.Context, userID, title, description string) (Task, error) {
	t, err := addTask(ctx, x.conn, userID, title, description)
	return t, x.p.outcome(ctx, err)
}

// ListTasks implements Tasks.
func (x pgTurn) ListTasks(ctx context.Context, userID string, f TaskFilter) ([]Task, error) {
	ts, err := listTasks(ctx, x.conn, userID, f)
	return ts, x.p.outcome(ctx, err)
}

// CompleteTask implements Tasks.
func (x pgTurn) CompleteTask(ctx context.Context, userID string, id int64) (Task, error) {
	t, err := completeTask(ctx, x.conn, userID, id)
	return t, x.p.outcome(ctx, err)
}

// DeleteTask implements Tasks.
func (x pgTurn) DeleteTask(ctx context.Context, userID string, id int64) (Task, error) {
	t, err := deleteTask(ctx, x.conn, userID, id)
	return t, x.p.outcome(ctx, err)
}

// UpdateTask implements Tasks.
func (x pgTurn) UpdateTask(ctx context.Context, userID string, id int64, patch TaskPatch) (Task, error) {
	t, err := updateTask(ctx, x.conn, userID, id, patch)
	return t, x.p.outcome(ctx, err)
}

// ListMessages implements TurnTx.
func (x pgTurn) ListMessages(ctx context.Context, userID string, convID int64, pg Page) ([]Message, error) {
	ms, err := listMessages(ctx, x.conn, userID, convID, pg)
	return ms, x.p.outcome(ctx, err)
}
