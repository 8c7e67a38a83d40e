package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
)

// The conversation and message queries. Every one filters by user_id;
// messages are reached through their conversation.

const (
	convColumns  = `id, title, message_count, created_at, updated_at`
	convColumnsC = `c.id, c.title, c.message_count, c.created_at, c.updated_at`
)

func scanConv(row pgx.Row) (Conversation, error) {
	var c Conversation
	err := row.Scan(&c.ID, &c.Title, &c.MessageCount, &c.CreatedAt, &c.UpdatedAt)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c, err
}

// convNotFound names conversation id in a not-found error.
func convNotFound(id int64, err error) error {
	if errors.Is(err, ErrNotFound) || errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("conversation %d: %w", id, ErrConversationNotFound)
	}
	return err
}

// appendSQL stores a message at the end of a conversation and marks the
// conversation active, in one statement; no row means no such conversation.
const appendSQL = `with c as (
	update conversations set message_count = message_count + 1, updated_at = clock_timestamp(),
		activity = nextval('conversation_activity_seq')
	where id = $2 and user_id = $1
	returning ` + convColumns + `
), m as (
	insert into messages (conversation_id, role, content, tool_calls, created_at)
	select id, $3, $4, $5, updated_at from c returning id, created_at
)
select m.id, m.created_at, ` + convColumnsC + ` from c, m`

// appendArgs gives appendSQL's arguments for m.
func appendArgs(userID string, m Message) ([]any, error) {
	calls, err := json.Marshal(cloneCalls(m.ToolCalls))
	if err != nil {
		return nil, fmt.Errorf("encode tool calls: %w", err)
	}
	return []any{userID, m.ConversationID, m.Role, m.Content, string(calls)}, nil
}

// scanAppended reads appendSQL's row: the new message's id and time, and
// its conversation as it is afterwards.
func scanAppended(row pgx.Row) (id int64, at time.Time, c Conversation, err error) {
	err = row.Scan(&id, &at, &c.ID, &c.Title, &c.MessageCount, &c.CreatedAt, &c.UpdatedAt)
	at, c.CreatedAt, c.UpdatedAt = at.UTC(), c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return id, at, c, err
}

// AppendMessage implements Store.
func (p *Postgres) AppendMessage(ctx context.Context, userID string, m Message) (Message, error) {
	args, err := appendArgs(userID, m)
	if err != nil {
		return Message{}, err
	}
	err = p.write(ctx, func(ctx context.Context, q db) error {
		var err error
		m.ID, m.CreatedAt, _, err = scanAppended(q.QueryRow(ctx, appendSQL, args...))
		return err
	})
	m.ToolCalls = cloneCalls(m.ToolCalls)
	return m, convNotFound(m.ConversationID, err)
}

const getConvSQL = `select ` + convColumns + ` from conversations where id = $2 and user_id = $1`

// GetConversation implements Store.
func (p *Postgres) GetConversation(ctx context.Context, userID string, id int64) (c Conversation, err error) {
	err = p.read(ctx, func(ctx context.Context, q db) error {
		c, err = scanConv(q.QueryRow(ctx, getConvSQL, userID, id))
		return err
	})
	return c, convNotFound(id, err)
}

// The cursor's activity is looked up once (an InitPlan), so the page is a
// range scan of conversations_user_activity_idx whatever the history's size.
const listConvSQL = `select ` + convColumns + ` from conversations
where user_id = $1 and activity < case when $2::bigint = 0 then 9223372036854775807
	else coalesce((select activity from conversations where id = $2 and user_id = $1), -1) end
order by activity desc limit $3`

// ListConversations implements Store.
func (p *Postgres) ListConversations(ctx context.Context, userID string, pg Page) (cs []Conversation, err error) {
	err = p.read(ctx, func(ctx context.Context, q db) error {
		cs, err = list(ctx, q, scanConv, listConvSQL, userID, pg.Before, pg.Limit)
		return err
	})
	return cs, err
}

const deleteConvSQL = `delete from conversations where id = $2 and user_id = $1`

// DeleteConversation implements Store.
func (p *Postgres) DeleteConversation(ctx context.Context, userID string, id int64) error {
	err := p.write(ctx, func(ctx context.Context, q db) error {
		tag, err := q.Exec(ctx, deleteConvSQL, userID, id)
		if err == nil && tag.RowsAffected() == 0 {
			err = pgx.ErrNoRows
		}
		return err
	})
	return convNotFound(id, err)
}

// A page of messages, and whether the conversation is the user's, in one
// query: no row means no such conversation, one row of nulls an empty page.
const listMessagesSQL = `select m.id, m.role, m.content, m.tool_calls, m.created_at
from conversations c
left join lateral (
	select id, role, content, tool_calls, created_at from messages
	where conversation_id = c.id and id < $3 order by id desc limit $4
) m on true
where c.id = $2 and c.user_id = $1`

func listMessages(ctx context.Context, q db, userID string, convID int64, p Page) ([]Message, error) {
	before := p.Before
	if before == 0 {
		before = math.MaxInt64
	}
	rows, err := q.Query(ctx, listMessagesSQL, userID, convID, before, p.Limit)
	if err != nil {
		return []Message{}, err
	}
	ms := []Message{}
	found := false
	var id *int64
	var role, content *string
	var calls []byte
	var at *time.Time
	_, err = pgx.ForEachRow(rows, []any{&id, &role, &content, &calls, &at}, func() error {
		found = true
		if id == nil {
			return nil
		}
		m := Message{ID: *id, ConversationID: convID, Role: *role, Content: *content, CreatedAt: at.UTC()}
		if err := json.Unmarshal(calls, &m.ToolCalls); err != nil {
			return fmt.Errorf("decode tool calls of message %d: %w", m.ID, err)
		}
		if m.ToolCalls == nil {
			m.ToolCalls = []ToolCall{}
		}
		ms = append(ms, m)
		return nil
	})
	if err == nil && !found {
		err = convNotFound(convID, pgx.ErrNoRows)
	}
	return ms, err
}

// ListMessages implements Store.
func (p *Postgres) ListMessages(ctx context.Context, userID string, convID int64, pg Page) (ms []Message, err error) {
	err = p.read(ctx, func(ctx context.Context, q db) error {
		ms, err = listMessages(ctx, q, userID, convID, pg)
		return err
	})
	return ms, err
}
