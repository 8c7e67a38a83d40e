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

// The conversation and message queries, with the statements of the schema
// in use. Every one filters by user_id; messages are reached through their
// conversation.

func scanConv(row pgx.Row) (Conversation, error) {
	var c Conversation
	err := row.Scan(&c.ID, &c.UserID, &c.Title, &c.MessageCount, &c.CreatedAt, &c.UpdatedAt)
	c.Title = Title(c.Title)
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

// appendArgs gives the append statement's arguments for m.
func appendArgs(userID string, m Message) ([]any, error) {
	calls, err := json.Marshal(cloneCalls(m.ToolCalls))
	if err != nil {
		return nil, fmt.Errorf("encode tool calls: %w", err)
	}
	return []any{userID, m.ConversationID, m.Role, m.Content, string(calls)}, nil
}

// scanAppended reads the append statement's row: the new message's id and
// time, and its conversation as it is afterwards.
func scanAppended(row pgx.Row) (id int64, at time.Time, c Conversation, err error) {
	err = row.Scan(&id, &at, &c.ID, &c.UserID, &c.Title, &c.MessageCount, &c.CreatedAt, &c.UpdatedAt)
	at, c.CreatedAt, c.UpdatedAt = at.UTC(), c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return id, at, c, err
}

// convUserOK reports whether the conversations table can hold userID.
func convUserOK(s *schema, userID string) bool {
	return acceptsUser(s.convs.convUserCast, userID) && acceptsUser(s.convs.msgUserCast, userID)
}

// AppendMessage implements Store.
func (p *Postgres) AppendMessage(ctx context.Context, userID string, m Message) (Message, error) {
	args, err := appendArgs(userID, m)
	if err != nil {
		return Message{}, err
	}
	err = p.write(ctx, func(ctx context.Context, q db, s *schema) error {
		if !convUserOK(s, userID) {
			return pgx.ErrNoRows
		}
		var err error
		m.ID, m.CreatedAt, _, err = scanAppended(q.QueryRow(ctx, s.sql.appendMessage, args...))
		return err
	})
	m.ToolCalls = cloneCalls(m.ToolCalls)
	return m, convNotFound(m.ConversationID, err)
}

// GetConversation implements Store.
func (p *Postgres) GetConversation(ctx context.Context, userID string, id int64) (c Conversation, err error) {
	err = p.read(ctx, func(ctx context.Context, q db, s *schema) error {
		if !convUserOK(s, userID) {
			return pgx.ErrNoRows
		}
		c, err = scanConv(q.QueryRow(ctx, s.sql.getConv, userID, id))
		return err
	})
	return c, convNotFound(id, err)
}

// ListConversations implements Store.
func (p *Postgres) ListConversations(ctx context.Context, userID string, pg Page) (cs []Conversation, err error) {
	err = p.read(ctx, func(ctx context.Context, q db, s *schema) error {
		if !convUserOK(s, userID) {
			cs = []Conversation{}
			return nil
		}
		cs, err = list(ctx, q, scanConv, s.sql.listConvs, userID, pg.Before, pg.Limit)
		return err
	})
	return cs, err
}

// DeleteConversation implements Store.
func (p *Postgres) DeleteConversation(ctx context.Context, userID string, id int64) error {
	err := p.write(ctx, func(ctx context.Context, q db, s *schema) error {
		if !convUserOK(s, userID) {
			return pgx.ErrNoRows
		}
		var n int
		if err := q.QueryRow(ctx, s.sql.deleteConv, userID, id).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return pgx.ErrNoRows
		}
		return nil
	})
	return convNotFound(id, err)
}

// DeleteConversations implements Store.
func (p *Postgres) DeleteConversations(ctx context.Context, userID string) (n int, err error) {
	err = p.write(ctx, func(ctx context.Context, q db, s *schema) error {
		if !convUserOK(s, userID) {
			return nil
		}
		return q.QueryRow(ctx, s.sql.deleteConvs, userID).Scan(&n)
	})
	return n, err
}

func listMessages(ctx context.Context, q db, s *schema, userID string, convID int64, p Page) ([]Message, error) {
	if !convUserOK(s, userID) {
		return []Message{}, convNotFound(convID, pgx.ErrNoRows)
	}
	before := p.Before
	if before == 0 {
		before = math.MaxInt64
	}
	rows, err := q.Query(ctx, s.sql.listMessages, userID, convID, before, p.Limit)
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
	err = p.read(ctx, func(ctx context.Context, q db, s *schema) error {
		ms, err = listMessages(ctx, q, s, userID, convID, pg)
		return err
	})
	return ms, err
}
