package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Memory is a Store that keeps everything in process memory. It behaves like
// the PostgreSQL store (same ids, ordering and errors) but loses its data when
// the process ends. One mutex guards all state; InTx holds it for the whole
// unit of work and undoes the work's writes if it fails.
type Memory struct {
	mu     sync.Mutex
	data   memData
	closed bool
}

type memData struct {
	nextTask, nextConv, nextMsg int64
	activity                    int64 // orders conversations by last activity; never reused
	tasks                       map[int64]memTask
	convs                       map[int64]*memConv
}

type memTask struct {
	user string
	Task
}

type memConv struct {
	user     string
	activity int64
	Conversation
	msgs []Message // ascending ids
}

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{data: memData{
		tasks: make(map[int64]memTask),
		convs: make(map[int64]*memConv),
	}}
}

var _ Store = (*Memory)(nil)

// memTx is the Store handed to an InTx callback: it runs on the locked data and
// records how to undo each write.
type memTx struct {
	d    *memData
	undo []func()
}

func (m *Memory) do(ctx context.Context, fn func(tx *memTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return fmt.Errorf("memory store closed: %w", ErrUnavailable)
	}
	tx := &memTx{d: &m.data}
	if err := fn(tx); err != nil {
		tx.rollback()
		return err
	}
	return nil
}

func (tx *memTx) rollback() {
	for i := len(tx.undo) - 1; i >= 0; i-- {
		tx.undo[i]()
	}
	tx.undo = nil
}

// AddTask implements Store.
func (m *Memory) AddTask(ctx context.Context, userID, title, description string) (t Task, err error) {
	err = m.do(ctx, func(tx *memTx) error { t, err = tx.AddTask(ctx, userID, title, description); return err })
	return t, err
}

// ListTasks implements Store.
func (m *Memory) ListTasks(ctx context.Context, userID string, f TaskFilter) (ts []Task, err error) {
	err = m.do(ctx, func(tx *memTx) error { ts, err = tx.ListTasks(ctx, userID, f); return err })
	return ts, err
}

// CompleteTask implements Store.
func (m *Memory) CompleteTask(ctx context.Context, userID string, id int64) (t Task, err error) {
	err = m.do(ctx, func(tx *memTx) error { t, err = tx.CompleteTask(ctx, userID, id); return err })
	return t, err
}

// DeleteTask implements Store.
func (m *Memory) DeleteTask(ctx context.Context, userID string, id int64) (t Task, err error) {
	err = m.do(ctx, func(tx *memTx) error { t, err = tx.DeleteTask(ctx, userID, id); return err })
	return t, err
}

// UpdateTask implements Store.
func (m *Memory) UpdateTask(ctx context.Context, userID string, id int64, p TaskPatch) (t Task, err error) {
	err = m.do(ctx, func(tx *memTx) error { t, err = tx.UpdateTask(ctx, userID, id, p); return err })
	return t, err
}

// StartTurn implements Store.
func (m *Memory) StartTurn(ctx context.Context, userID string, convID int64, content string) (c Conversation, err error) {
	err = m.do(ctx, func(tx *memTx) error { c, err = tx.StartTurn(ctx, userID, convID, content); return err })
	return c, err
}

// RunTurn implements Store: the memory store is locked for the whole turn, and
// the turn's writes are undone if fn fails.
func (m *Memory) RunTurn(ctx context.Context, userID string, convID int64, content string, fn TurnFunc) (c Conversation, err error) {
	err = m.do(ctx, func(tx *memTx) error { c, err = tx.RunTurn(ctx, userID, convID, content, fn); return err })
	return c, err
}

// GetConversation implements Store.
func (m *Memory) GetConversation(ctx context.Context, userID string, id int64) (c Conversation, err error) {
	err = m.do(ctx, func(tx *memTx) error { c, err = tx.GetConversation(ctx, userID, id); return err })
	return c, err
}

// ListConversations implements Store.
func (m *Memory) ListConversations(ctx context.Context, userID string, p Page) (cs []Conversation, err error) {
	err = m.do(ctx, func(tx *memTx) error { cs, err = tx.ListConversations(ctx, userID, p); return err })
	return cs, err
}

// DeleteConversation implements Store.
func (m *Memory) DeleteConversation(ctx context.Context, userID string, id int64) error {
	return m.do(ctx, func(tx *memTx) error { return tx.DeleteConversation(ctx, userID, id) })
}

// AppendMessage implements Store.
func (m *Memory) AppendMessage(ctx context.Context, userID string, msg Message) (out Message, err error) {
	err = m.do(ctx, func(tx *memTx) error { out, err = tx.AppendMessage(ctx, userID, msg); return err })
	return out, err
}

// ListMessages implements Store.
func (m *Memory) ListMessages(ctx context.Context, userID string, convID int64, p Page) (ms []Message, err error) {
	err = m.do(ctx, func(tx *memTx) error { ms, err = tx.ListMessages(ctx, userID, convID, p); return err })
	return ms, err
}

// Ping implements Store.
func (m *Memory) Ping(ctx context.Context) error {
	return m.do(ctx, func(*memTx) error { return nil })
}

// Close implements Store. Later calls fail with ErrUnavailable.
func (m *Memory) Close() {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
}

func (tx *memTx) AddTask(_ context.Context, userID, title, description string) (Task, error) {
	tx.d.nextTask++
	now := Now()
	t := Task{ID: tx.d.nextTask, Title: title, Description: description, CreatedAt: now, UpdatedAt: now}
	tx.d.tasks[t.ID] = memTask{user: userID, Task: t}
	tx.undo = append(tx.undo, func() { delete(tx.d.tasks, t.ID); tx.d.nextTask-- })
	return t, nil
}

func (tx *memTx) ListTasks(_ context.Context, userID string, f TaskFilter) ([]Task, error) {
	out := []Task{}
	for _, t := range tx.d.tasks {
		if t.user != userID || (f == TasksPending && t.Completed) || (f == TasksCompleted && !t.Completed) {
			continue
		}
		out = append(out, t.Task)
	}
	slices.SortFunc(out, func(a, b Task) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// change applies fn to the user's task id and records how to undo it.
func (tx *memTx) change(userID string, id int64, fn func(t *Task)) (Task, error) {
	old, ok := tx.d.tasks[id]
	if !ok || old.user != userID {
		return Task{}, fmt.Errorf("task %d: %w", id, ErrNotFound)
	}
	t := old
	fn(&t.Task)
	t.UpdatedAt = Now()
	tx.d.tasks[id] = t
	tx.undo = append(tx.undo, func() { tx.d.tasks[id] = old })
	return t.Task, nil
}

func (tx *memTx) CompleteTask(_ context.Context, userID string, id int64) (Task, error) {
	return tx.change(userID, id, func(t *Task) { t.Completed = true })
}

func (tx *memTx) UpdateTask(_ context.Context, userID string, id int64, p TaskPatch) (Task, error) {
	return tx.change(userID, id, func(t *Task) {
		if p.Title != nil {
			t.Title = *p.Title
		}
		if p.Description != nil {
			t.Description = *p.Description
		}
	})
}

func (tx *memTx) DeleteTask(_ context.Context, userID string, id int64) (Task, error) {
	old, ok := tx.d.tasks[id]
	if !ok || old.user != userID {
		return Task{}, fmt.Errorf("task %d: %w", id, ErrNotFound)
	}
	delete(tx.d.tasks, id)
	tx.undo = append(tx.undo, func() { tx.d.tasks[id] = old })
	return old.Task, nil
}

func (tx *memTx) StartTurn(ctx context.Context, userID string, convID int64, content string) (Conversation, error) {
	if convID == 0 {
		c := tx.createConversation(userID, content)
		convID = c.ID
	}
	m, err := tx.AppendMessage(ctx, userID, Message{ConversationID: convID, Role: RoleUser, Content: content})
	if err != nil {
		return Conversation{}, err
	}
	return tx.d.convs[m.ConversationID].Conversation, nil
}

func (tx *memTx) RunTurn(ctx context.Context, userID string, convID int64, content string, fn TurnFunc) (Conversation, error) {
	conv, err := tx.StartTurn(ctx, userID, convID, content)
	if err != nil {
		return Conversation{}, err
	}
	reply, err := fn(ctx, tx, conv)
	if err != nil {
		return Conversation{}, err
	}
	reply.ConversationID = conv.ID
	if _, err := tx.AppendMessage(ctx, userID, reply); err != nil {
		return Conversation{}, err
	}
	return tx.d.convs[conv.ID].Conversation, nil
}

func (tx *memTx) createConversation(userID, first string) Conversation {
	tx.d.nextConv++
	tx.d.activity++
	now := Now()
	c := &memConv{user: userID, activity: tx.d.activity, Conversation: Conversation{
		ID: tx.d.nextConv, Title: Title(first), CreatedAt: now, UpdatedAt: now,
	}}
	tx.d.convs[c.ID] = c
	tx.undo = append(tx.undo, func() { delete(tx.d.convs, c.ID); tx.d.nextConv--; tx.d.activity-- })
	return c.Conversation
}

func (tx *memTx) conv(userID string, id int64) (*memConv, error) {
	c, ok := tx.d.convs[id]
	if !ok || c.user != userID {
		return nil, fmt.Errorf("conversation %d: %w", id, ErrNotFound)
	}
	return c, nil
}

func (tx *memTx) GetConversation(_ context.Context, userID string, id int64) (Conversation, error) {
	c, err := tx.conv(userID, id)
	if err != nil {
		return Conversation{}, err
	}
	return c.Conversation, nil
}

func (tx *memTx) ListConversations(_ context.Context, userID string, p Page) ([]Conversation, error) {
	after := int64(1<<63 - 1)
	if p.Before != 0 {
		cur, err := tx.conv(userID, p.Before)
		if err != nil {
			return []Conversation{}, nil
		}
		after = cur.activity
	}
	var page []*memConv
	for _, c := range tx.d.convs {
		if c.user == userID && c.activity < after {
			page = append(page, c)
		}
	}
	slices.SortFunc(page, func(a, b *memConv) int { return cmp.Compare(b.activity, a.activity) })
	out := make([]Conversation, 0, min(len(page), p.Limit))
	for _, c := range page[:min(len(page), p.Limit)] {
		out = append(out, c.Conversation)
	}
	return out, nil
}

func (tx *memTx) DeleteConversation(_ context.Context, userID string, id int64) error {
	c, err := tx.conv(userID, id)
	if err != nil {
		return err
	}
	delete(tx.d.convs, id)
	tx.undo = append(tx.undo, func() { tx.d.convs[id] = c })
	return nil
}

func (tx *memTx) AppendMessage(_ context.Context, userID string, m Message) (Message, error) {
	c, err := tx.conv(userID, m.ConversationID)
	if err != nil {
		return Message{}, err
	}
	tx.d.nextMsg++
	m.ID = tx.d.nextMsg
	m.CreatedAt = Now()
	m.ToolCalls = cloneCalls(m.ToolCalls)
	m.Content = strings.Clone(m.Content)
	old, oldActivity := c.Conversation, c.activity
	tx.d.activity++
	c.activity = tx.d.activity
	c.msgs = append(c.msgs, m)
	c.MessageCount++
	c.UpdatedAt = m.CreatedAt
	tx.undo = append(tx.undo, func() {
		c.msgs = c.msgs[:len(c.msgs)-1]
		c.Conversation, c.activity = old, oldActivity
		tx.d.nextMsg--
		tx.d.activity--
	})
	return m, nil
}

func (tx *memTx) ListMessages(_ context.Context, userID string, convID int64, p Page) ([]Message, error) {
	c, err := tx.conv(userID, convID)
	if err != nil {
		return nil, err
	}
	end := len(c.msgs)
	if p.Before != 0 {
		end, _ = slices.BinarySearchFunc(c.msgs, p.Before, func(m Message, id int64) int { return cmp.Compare(m.ID, id) })
	}
	out := make([]Message, 0, min(end, p.Limit))
	for i := end - 1; i >= 0 && len(out) < p.Limit; i-- {
		m := c.msgs[i]
		m.ToolCalls = cloneCalls(m.ToolCalls)
		out = append(out, m)
	}
	return out, nil
}

func (tx *memTx) Ping(context.Context) error { return nil }

func (tx *memTx) Close() {}

func cloneCalls(in []ToolCall) []ToolCall {
	out := make([]ToolCall, len(in))
	for i, c := range in {
		out[i] = ToolCall{Tool: c.Tool, Arguments: slices.Clone(c.Arguments), Result: slices.Clone(c.Result)}
	}
	return out
}
