package store

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Memory is a Store that keeps everything in process memory. It behaves like
// the PostgreSQL store (same ids, ordering and errors) but loses its data when
// the process ends. One mutex guards all state; each call, and RunTurn's whole
// turn, holds it for one unit of work and undoes the work's writes if it fails.
type Memory struct {
	mu     sync.Mutex
	data   memData
	closed bool
}

// NewMemoryWith returns an empty in-memory store with limits.
func NewMemoryWith(l Limits) *Memory {
	m := NewMemory()
	m.data.limits = l
	return m
}

type memData struct {
	nextTask, nextConv, nextMsg int64
	activity                    int64 // orders conversations by last activity; never reused
	tasks                       map[int64]Task
	owned                       map[string]map[int64]bool // each user's task ids, so a list costs one user's tasks
	convs                       map[int64]*memConv
	rates                       map[string]memRate
	keys                        map[memKey]memIdem
	accounts                    map[string]Account // by id
	accountSeq                  int64
	limits                      Limits
}

// memRate counts a user's turns in the current window.
type memRate struct {
	window time.Time
	turns  int
}

type memKey struct{ user, key string }

// memIdem is an idempotency key's record; response is nil while its turn runs.
type memIdem struct {
	hash     string
	response []byte
	created  time.Time
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
		tasks:    make(map[int64]Task),
		owned:    make(map[string]map[int64]bool),
		convs:    make(map[int64]*memConv),
		rates:    make(map[string]memRate),
		keys:     make(map[memKey]memIdem),
		accounts: make(map[string]Account),
	}}
}

var _ Store = (*Memory)(nil)

// memTx is one unit of work on the locked data (the TurnTx of RunTurn): it
// records how to undo each write, so a failed unit leaves nothing behind.
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
func (m *Memory) AddTask(ctx context.Context, userID string, nt NewTask) (t Task, err error) {
	err = m.do(ctx, func(tx *memTx) error { t, err = tx.AddTask(ctx, userID, nt); return err })
	return t, err
}

// GetTask implements Store.
func (m *Memory) GetTask(ctx context.Context, userID string, id int64) (t Task, err error) {
	err = m.do(ctx, func(tx *memTx) error { t, err = tx.GetTask(ctx, userID, id); return err })
	return t, err
}

// ListTasks implements Store.
func (m *Memory) ListTasks(ctx context.Context, userID string, q TaskQuery) (ts []Task, err error) {
	err = m.do(ctx, func(tx *memTx) error { ts, err = tx.ListTasks(ctx, userID, q); return err })
	return ts, err
}

// CountTasks implements Store.
func (m *Memory) CountTasks(ctx context.Context, userID string, q TaskQuery) (n int, err error) {
	err = m.do(ctx, func(tx *memTx) error { n, err = tx.CountTasks(ctx, userID, q); return err })
	return n, err
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
func (m *Memory) StartTurn(ctx context.Context, t Turn) (c Conversation, replay json.RawMessage, err error) {
	err = m.do(ctx, func(tx *memTx) error { c, replay, err = tx.StartTurn(ctx, t); return err })
	return c, replay, err
}

// FinishTurn implements Store.
func (m *Memory) FinishTurn(ctx context.Context, t Turn, reply Message, response json.RawMessage) error {
	return m.do(ctx, func(tx *memTx) error { return tx.FinishTurn(ctx, t, reply, response) })
}

// AbandonTurn implements Store.
func (m *Memory) AbandonTurn(ctx context.Context, t Turn) error {
	return m.do(ctx, func(tx *memTx) error { return tx.AbandonTurn(ctx, t) })
}

// RunTurn implements Store: the memory store is locked for the whole turn, and
// the turn's writes are undone if fn fails. A concurrent duplicate of a turn
// waits for the lock and then replays.
func (m *Memory) RunTurn(ctx context.Context, t Turn, fn TurnFunc) (res json.RawMessage, replayed bool, err error) {
	err = m.do(ctx, func(tx *memTx) error { res, replayed, err = tx.RunTurn(ctx, t, fn); return err })
	return res, replayed, err
}

// RunIdempotent implements Store: the store is locked for the whole call,
// and fn's writes are undone if it fails.
func (m *Memory) RunIdempotent(ctx context.Context, userID, key, hash string, fn func(context.Context, Tasks) (json.RawMessage, error)) (res json.RawMessage, replayed bool, err error) {
	err = m.do(ctx, func(tx *memTx) error {
		t := Turn{UserID: userID, IdempotencyKey: key, RequestHash: hash}
		if res, err = tx.admit(t); err != nil || res != nil {
			replayed = res != nil
			return err
		}
		if res, err = fn(ctx, tx); err != nil {
			return err
		}
		tx.setResponse(t, res)
		return nil
	})
	return res, replayed, err
}

// Sweep implements Store.
func (m *Memory) Sweep(ctx context.Context) error {
	return m.do(ctx, func(tx *memTx) error { return tx.Sweep(ctx) })
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

// DeleteConversations implements Store.
func (m *Memory) DeleteConversations(ctx context.Context, userID string) (n int, err error) {
	err = m.do(ctx, func(tx *memTx) error { n, err = tx.DeleteConversations(ctx, userID); return err })
	return n, err
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

// CreateAccount implements Store.
func (m *Memory) CreateAccount(ctx context.Context, na NewAccount) (a Account, err error) {
	err = m.do(ctx, func(tx *memTx) error {
		if _, ok := tx.accountByEmail(na.Email); ok {
			return ErrEmailTaken
		}
		tx.d.accountSeq++
		a = Account{ID: memAccountID(tx.d.accountSeq), Email: strings.TrimSpace(na.Email), Name: na.Name,
			PasswordHash: na.PasswordHash, CreatedAt: Now()}
		tx.d.accounts[a.ID] = a
		return nil
	})
	return a, err
}

// memAccountID is a UUID-shaped id, as the surveyed backends give accounts.
func memAccountID(n int64) string {
	return fmt.Sprintf("00000000-0000-4000-8000-%012x", n)
}

func (tx *memTx) accountByEmail(email string) (Account, bool) {
	for _, a := range tx.d.accounts {
		if strings.EqualFold(a.Email, strings.TrimSpace(email)) {
			return a, true
		}
	}
	return Account{}, false
}

// AccountByEmail implements Store.
func (m *Memory) AccountByEmail(ctx context.Context, email string) (a Account, err error) {
	err = m.do(ctx, func(tx *memTx) error {
		var ok bool
		if a, ok = tx.accountByEmail(email); !ok {
			return ErrAccountNotFound
		}
		return nil
	})
	return a, err
}

// AccountByID implements Store.
func (m *Memory) AccountByID(ctx context.Context, id string) (a Account, err error) {
	err = m.do(ctx, func(tx *memTx) error {
		var ok bool
		if a, ok = tx.d.accounts[id]; !ok {
			return ErrAccountNotFound
		}
		return nil
	})
	return a, err
}

// UpgradePassword implements Store.
func (m *Memory) UpgradePassword(ctx context.Context, id, oldHash, newHash string) (done bool, err error) {
	err = m.do(ctx, func(tx *memTx) error {
		if a, ok := tx.d.accounts[id]; ok && a.PasswordHash == oldHash {
			a.PasswordHash = newHash
			tx.d.accounts[id] = a
			done = true
		}
		return nil
	})
	return done, err
}

// Attempt implements Store.
func (m *Memory) Attempt(ctx context.Context, key string, limit int) error {
	return m.do(ctx, func(tx *memTx) error { return tx.count(key, limit) })
}

// Status implements Store: memory adopts nothing; the app reports that
// it keeps nothing across restarts.
func (m *Memory) Status() Status { return Status{} }

// Ready implements Store: memory is ready whenever it is open.
func (m *Memory) Ready(ctx context.Context) error { return m.Ping(ctx) }

// Close implements Store. Later calls fail with ErrUnavailable.
func (m *Memory) Close() {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
}

func (tx *memTx) AddTask(ctx context.Context, userID string, nt NewTask) (Task, error) {
	if max := tx.d.limits.MaxTasks; max > 0 {
		if n, _ := tx.CountTasks(ctx, userID, TaskQuery{}); n >= max {
			return Task{}, fmt.Errorf("%w: %d tasks", ErrTaskLimit, max)
		}
	}
	tx.d.nextTask++
	now := Now()
	t := Task{ID: tx.d.nextTask, UserID: userID, Title: nt.Title, Description: nt.Description,
		Completed: nt.Completed, Priority: nt.Priority, Due: cloneDue(nt.Due), CreatedAt: now, UpdatedAt: now}
	tx.d.tasks[t.ID] = t
	tx.own(userID, t.ID, true)
	tx.undo = append(tx.undo, func() { delete(tx.d.tasks, t.ID); tx.own(userID, t.ID, false); tx.d.nextTask-- })
	return t, nil
}

func cloneDue(d *Due) *Due {
	if d == nil {
		return nil
	}
	c := *d
	c.At = c.At.UTC().Truncate(time.Microsecond)
	return &c
}

// own records, or forgets, that userID has task id.
func (tx *memTx) own(userID string, id int64, has bool) {
	ids := tx.d.owned[userID]
	if ids == nil {
		ids = map[int64]bool{}
		tx.d.owned[userID] = ids
	}
	if has {
		ids[id] = true
	} else {
		delete(ids, id)
	}
}

func (tx *memTx) GetTask(_ context.Context, userID string, id int64) (Task, error) {
	return tx.task(userID, id)
}

func (tx *memTx) task(userID string, id int64) (Task, error) {
	t, ok := tx.d.tasks[id]
	if !ok || t.UserID != userID {
		return Task{}, fmt.Errorf("task %d: %w", id, ErrTaskNotFound)
	}
	return t, nil
}

// taskOrder compares two tasks in a sort's order, ties broken by id as
// the PostgreSQL store breaks them.
func taskOrder(sort TaskSort) func(a, b Task) int {
	switch sort {
	case SortCreated:
		return func(a, b Task) int { return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID)) }
	case SortUpdated:
		return func(a, b Task) int { return cmp.Or(b.UpdatedAt.Compare(a.UpdatedAt), cmp.Compare(b.ID, a.ID)) }
	case SortTitle:
		return func(a, b Task) int {
			return cmp.Or(strings.Compare(strings.ToLower(a.Title), strings.ToLower(b.Title)), cmp.Compare(a.ID, b.ID))
		}
	case SortDue:
		return func(a, b Task) int {
			far := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
			at := func(t Task) time.Time {
				if t.Due == nil {
					return far
				}
				return t.Due.At
			}
			return cmp.Or(at(a).Compare(at(b)), cmp.Compare(a.ID, b.ID))
		}
	case SortPriority:
		return func(a, b Task) int {
			return cmp.Or(cmp.Compare(a.Priority.rank(), b.Priority.rank()), cmp.Compare(a.ID, b.ID))
		}
	case SortRelevant:
		return func(a, b Task) int {
			pending := func(t Task) int {
				if t.Completed {
					return 1
				}
				return 0
			}
			return cmp.Or(cmp.Compare(pending(a), pending(b)), cmp.Compare(b.ID, a.ID))
		}
	}
	return func(a, b Task) int { return cmp.Compare(a.ID, b.ID) }
}

func (tx *memTx) ListTasks(_ context.Context, userID string, q TaskQuery) ([]Task, error) {
	order := taskOrder(q.Sort)
	after, hasAfter := tx.d.tasks[q.After]
	if q.After != 0 && (!hasAfter || after.UserID != userID || q.Sort == SortRelevant) {
		return []Task{}, nil
	}
	// With a limit, only the page is kept as the tasks are scanned, so a
	// page costs the same however many tasks there are.
	out := []Task{}
	for id := range tx.d.owned[userID] {
		t := tx.d.tasks[id]
		if !selects(q, userID, t) || q.After != 0 && order(t, after) <= 0 {
			continue
		}
		if q.Limit <= 0 {
			out = append(out, t)
			continue
		}
		if len(out) == q.Limit {
			if order(t, out[len(out)-1]) >= 0 {
				continue
			}
			out = out[:len(out)-1]
		}
		i, _ := slices.BinarySearchFunc(out, t, order)
		out = slices.Insert(out, i, t)
	}
	if q.Limit <= 0 {
		slices.SortFunc(out, order)
	}
	return out, nil
}

func (tx *memTx) CountTasks(_ context.Context, userID string, q TaskQuery) (int, error) {
	if (q.Filter == "" || q.Filter == TasksAll) && len(q.Contains) == 0 && q.Priority == "" && q.DueBefore == nil && !q.Overdue {
		return len(tx.d.owned[userID]), nil
	}
	n := 0
	for id := range tx.d.owned[userID] {
		if selects(q, userID, tx.d.tasks[id]) {
			n++
		}
	}
	return n, nil
}

// selects reports whether q's user, Filter and Contains keep t.
func selects(q TaskQuery, userID string, t Task) bool {
	if t.UserID != userID || (q.Filter == TasksPending && t.Completed) || (q.Filter == TasksCompleted && !t.Completed) {
		return false
	}
	if q.Priority != "" && t.Priority != q.Priority ||
		q.DueBefore != nil && (t.Due == nil || !t.Due.DateOnly && !t.Due.At.Before(*q.DueBefore) || t.Due.DateOnly && !t.Due.At.Before(q.dueDay())) ||
		q.Overdue && (t.Completed || !t.Due.Overdue(q.clock())) {
		return false
	}
	if len(q.Contains) == 0 {
		return true
	}
	title := strings.ToLower(t.Title)
	for _, w := range q.Contains {
		if !strings.Contains(title, strings.ToLower(w)) {
			return false
		}
	}
	return true
}

func (tx *memTx) UpdateTask(_ context.Context, userID string, id int64, p TaskPatch) (Task, error) {
	old, err := tx.task(userID, id)
	if err != nil {
		return Task{}, err
	}
	t := old
	if p.Title != nil {
		t.Title = *p.Title
	}
	if p.Description != nil {
		t.Description = *p.Description
	}
	switch {
	case p.Toggle:
		t.Completed = !t.Completed
	case p.Completed != nil:
		t.Completed = *p.Completed
	}
	if p.Priority != nil {
		t.Priority = *p.Priority
	}
	if p.SetDue {
		t.Due = cloneDue(p.Due)
	}
	t.UpdatedAt = Now()
	tx.d.tasks[id] = t
	tx.undo = append(tx.undo, func() { tx.d.tasks[id] = old })
	return t, nil
}

func (tx *memTx) DeleteTask(_ context.Context, userID string, id int64) (Task, error) {
	old, err := tx.task(userID, id)
	if err != nil {
		return Task{}, err
	}
	delete(tx.d.tasks, id)
	tx.own(userID, id, false)
	tx.undo = append(tx.undo, func() { tx.d.tasks[id] = old; tx.own(userID, id, true) })
	return old, nil
}

// admit applies the turn's idempotency key and rate limit. A non-nil replay
// means the turn already ran.
func (tx *memTx) admit(t Turn) (replay json.RawMessage, err error) {
	now := time.Now()
	if t.IdempotencyKey != "" {
		k := memKey{t.UserID, t.IdempotencyKey}
		old, ok := tx.d.keys[k]
		live := ok && now.Sub(old.created) < KeyTTL && (old.response != nil || now.Sub(old.created) < PendingTTL)
		switch {
		case live && old.hash != t.RequestHash:
			return nil, ErrKeyReused
		case live && old.response != nil:
			return slices.Clone(old.response), nil
		case live:
			return nil, ErrKeyInUse
		}
		tx.d.keys[k] = memIdem{hash: t.RequestHash, created: now}
		tx.undo = append(tx.undo, func() {
			if ok {
				tx.d.keys[k] = old
			} else {
				delete(tx.d.keys, k)
			}
		})
	}
	if t.RateLimit > 0 {
		if err := tx.count(t.UserID, t.RateLimit); err != nil {
			return nil, err
		}
	}
	if t.AddressLimit > 0 {
		if err := tx.count(RateKey("chat", t.Address), t.AddressLimit); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

// count counts one event under key in the current window, refusing it past
// limit.
func (tx *memTx) count(key string, limit int) error {
	now := time.Now()
	window := now.Truncate(rateWindow)
	old := tx.d.rates[key]
	r := old
	if !r.window.Equal(window) {
		r = memRate{window: window}
	}
	if r.turns >= limit {
		return &RateLimitError{Limit: limit, RetryAfter: window.Add(rateWindow).Sub(now)}
	}
	r.turns++
	tx.d.rates[key] = r
	tx.undo = append(tx.undo, func() { tx.d.rates[key] = old })
	return nil
}

func (tx *memTx) StartTurn(ctx context.Context, t Turn) (Conversation, json.RawMessage, error) {
	replay, err := tx.admit(t)
	if err != nil || replay != nil {
		return Conversation{}, replay, err
	}
	convID := t.ConversationID
	if convID == 0 {
		convID = tx.createConversation(t.UserID, t.Content).ID
	}
	m, err := tx.AppendMessage(ctx, t.UserID, Message{ConversationID: convID, Role: RoleUser, Content: t.Content})
	if err != nil {
		return Conversation{}, nil, err
	}
	return tx.d.convs[m.ConversationID].Conversation, nil, nil
}

func (tx *memTx) FinishTurn(ctx context.Context, t Turn, reply Message, response json.RawMessage) error {
	if _, err := tx.AppendMessage(ctx, t.UserID, reply); err != nil {
		return err
	}
	tx.setResponse(t, response)
	return nil
}

// setResponse records the response t's idempotency key replays.
func (tx *memTx) setResponse(t Turn, response json.RawMessage) {
	k := memKey{t.UserID, t.IdempotencyKey}
	if old, ok := tx.d.keys[k]; ok && t.IdempotencyKey != "" {
		e := old
		e.response = slices.Clone(response)
		tx.d.keys[k] = e
		tx.undo = append(tx.undo, func() { tx.d.keys[k] = old })
	}
}

func (tx *memTx) AbandonTurn(_ context.Context, t Turn) error {
	k := memKey{t.UserID, t.IdempotencyKey}
	if old, ok := tx.d.keys[k]; ok && old.response == nil {
		delete(tx.d.keys, k)
		tx.undo = append(tx.undo, func() { tx.d.keys[k] = old })
	}
	return nil
}

func (tx *memTx) RunTurn(ctx context.Context, t Turn, fn TurnFunc) (json.RawMessage, bool, error) {
	conv, replay, err := tx.StartTurn(ctx, t)
	if err != nil {
		return nil, false, err
	}
	if replay != nil {
		return replay, true, nil
	}
	reply, response, err := fn(ctx, tx, conv)
	if err != nil {
		return nil, false, err
	}
	reply.ConversationID = conv.ID
	if err := tx.FinishTurn(ctx, t, reply, response); err != nil {
		return nil, false, err
	}
	return response, false, nil
}

func (tx *memTx) Sweep(context.Context) error {
	now := time.Now()
	for k, e := range tx.d.keys {
		if now.Sub(e.created) >= KeyTTL {
			delete(tx.d.keys, k)
		}
	}
	for u, r := range tx.d.rates {
		if now.Sub(r.window) >= rateWindow {
			delete(tx.d.rates, u)
		}
	}
	return nil
}

func (tx *memTx) createConversation(userID, first string) Conversation {
	tx.d.nextConv++
	tx.d.activity++
	now := Now()
	c := &memConv{user: userID, activity: tx.d.activity, Conversation: Conversation{
		ID: tx.d.nextConv, UserID: userID, Title: Title(first), CreatedAt: now, UpdatedAt: now,
	}}
	tx.d.convs[c.ID] = c
	tx.undo = append(tx.undo, func() { delete(tx.d.convs, c.ID); tx.d.nextConv--; tx.d.activity-- })
	return c.Conversation
}

func (tx *memTx) conv(userID string, id int64) (*memConv, error) {
	c, ok := tx.d.convs[id]
	if !ok || c.user != userID {
		return nil, fmt.Errorf("conversation %d: %w", id, ErrConversationNotFound)
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

func (tx *memTx) DeleteConversations(_ context.Context, userID string) (int, error) {
	n := 0
	for id, c := range tx.d.convs {
		if c.user == userID {
			delete(tx.d.convs, id)
			tx.undo = append(tx.undo, func() { tx.d.convs[id] = c })
			n++
		}
	}
	return n, nil
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

func cloneCalls(in []ToolCall) []ToolCall {
	out := make([]ToolCall, len(in))
	for i, c := range in {
		out[i] = ToolCall{Tool: c.Tool, Arguments: slices.Clone(c.Arguments), Result: slices.Clone(c.Result)}
	}
	return out
}
