// Package store holds taskchat's domain types and the Store interface that both
// the in-memory and the PostgreSQL implementations satisfy.
//
// Every method is scoped by user id: a row that belongs to another user is
// indistinguishable from one that does not exist (ErrNotFound), so ids cannot be
// probed.
package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinel errors. Implementations wrap driver errors into these so callers can
// use errors.Is without knowing the backend.
var (
	// ErrNotFound means the row does not exist or belongs to another user.
	// ErrTaskNotFound and ErrConversationNotFound say which kind of row;
	// both are ErrNotFound too.
	ErrNotFound             = errors.New("not found")
	ErrTaskNotFound         = fmt.Errorf("task %w", ErrNotFound)
	ErrConversationNotFound = fmt.Errorf("conversation %w", ErrNotFound)
	// ErrUnavailable means the backing database cannot be reached right now;
	// the request may succeed if retried later.
	ErrUnavailable = errors.New("store unavailable")
	// ErrRateLimited means the user has started as many turns this minute as
	// Turn.RateLimit allows; errors.As gives a *RateLimitError.
	ErrRateLimited = errors.New("rate limited")
	// ErrKeyInUse means a turn with the same idempotency key is still running.
	ErrKeyInUse = errors.New("idempotency key in use")
	// ErrKeyReused means the idempotency key was first used with another request.
	ErrKeyReused = errors.New("idempotency key reused with a different request")
	// ErrSchema means the database's schema could not be made current or
	// does not have the shape taskchat needs; Status says why.
	ErrSchema = errors.New("database schema not ready")
	// ErrUnknownUser means an adopted table's foreign key requires the user
	// to exist in the application's users table, and they do not.
	ErrUnknownUser = errors.New("user not in the database's users table")
	// ErrValueRejected means the database refused a value, e.g. longer than
	// an adopted column allows.
	ErrValueRejected = errors.New("value rejected by the database")
	// ErrAccountNotFound means no account has that email or id.
	ErrAccountNotFound = fmt.Errorf("account %w", ErrNotFound)
	// ErrEmailTaken means an account already has that email.
	ErrEmailTaken = errors.New("email taken")
	// ErrTaskLimit means the user has as many tasks as Limits.MaxTasks allows.
	ErrTaskLimit = errors.New("task limit reached")
	// ErrOutcomeUnknown means a commit's answer was lost and the database
	// could not be asked, in time, whether it happened.
	ErrOutcomeUnknown = errors.New("the outcome of the commit is unknown")
)

// Limits bound what one user may store.
type Limits struct {
	// MaxTasks is the most tasks a user may have (0: no limit); AddTask
	// past it fails with ErrTaskLimit, exactly even when adds race.
	MaxTasks int
}

// RateLimitError says when the user may start a turn again.
type RateLimitError struct {
	Limit      int
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("rate limited: %d turns a minute; retry in %s", e.Limit, e.RetryAfter)
}

// Is makes errors.Is(err, ErrRateLimited) true.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// Rate limits count turns per user in fixed one-minute windows.
const rateWindow = time.Minute

// RateKey is the key an address, an email or another name is counted
// under for a rate limit: kind and name after a "#", which no user id
// holds, so no user's count is ever another's.
func RateKey(kind, name string) string { return "#" + kind + " " + name }

// KeyTTL is how long an idempotency key is remembered; PendingTTL is how
// long a turn that never finished (its process died) holds its key.
const (
	KeyTTL     = 24 * time.Hour
	PendingTTL = 5 * time.Minute
)

// Turn is one chat turn as StartTurn and RunTurn take it.
type Turn struct {
	UserID         string
	ConversationID int64 // 0: start a new conversation
	Content        string
	// RateLimit is how many turns the user may start per minute (0: no
	// limit). A turn over it fails with a *RateLimitError and writes nothing.
	RateLimit int
	// Address and AddressLimit count the turn under the client's address
	// too (0: no limit), for when user ids are anyone's to choose.
	Address      string
	AddressLimit int
	// IdempotencyKey, when set, makes the turn run at most once: a turn with
	// a key whose turn finished writes nothing and replays its response; one
	// whose turn is still running fails with ErrKeyInUse; one first used
	// with another RequestHash fails with ErrKeyReused. Keys last KeyTTL.
	IdempotencyKey string
	RequestHash    string
	// OutcomeKey, for a turn without an IdempotencyKey, names this one
	// attempt (NewOutcomeKey makes one): when the answer to a commit is
	// lost, the store looks the key up to tell whether the turn committed,
	// so an error always means nothing was written. RunTurn and
	// RunIdempotent make their own; StartTurn, FinishTurn and AbandonTurn
	// need the caller's.
	OutcomeKey string
}

// NewOutcomeKey returns a key no other turn has.
func NewOutcomeKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "~" + hex.EncodeToString(b[:])
}

// Roles of a message.
const (
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// TaskFilter selects tasks by completion state.
type TaskFilter string

// Task filters, as the list_tasks tool and the tasks route accept them.
const (
	TasksAll       TaskFilter = "all"
	TasksPending   TaskFilter = "pending"
	TasksCompleted TaskFilter = "completed"
)

// ParseTaskFilter accepts "all", "pending" or "completed"; the empty string means all.
func ParseTaskFilter(s string) (TaskFilter, bool) {
	switch TaskFilter(s) {
	case "", TasksAll:
		return TasksAll, true
	case TasksPending, TasksCompleted:
		return TaskFilter(s), true
	}
	return "", false
}

// TaskSort orders a task list.
type TaskSort string

// Task orders. Ties are broken by id, so every order is total and pages
// never skip or repeat a task.
const (
	SortOldest   TaskSort = "oldest"   // by id, oldest first
	SortCreated  TaskSort = "created"  // newest first
	SortUpdated  TaskSort = "updated"  // most recently changed first
	SortTitle    TaskSort = "title"    // by title, A to Z, ignoring case
	SortDue      TaskSort = "due"      // soonest due first, the undated last
	SortPriority TaskSort = "priority" // high first, then medium, low, none
	// SortRelevant is pending tasks first, then completed ones, each
	// newest first: what a bounded list shows. It takes no After.
	SortRelevant TaskSort = "relevant"
)

// TaskQuery asks for a page of tasks.
type TaskQuery struct {
	Filter TaskFilter
	Sort   TaskSort // "" is SortOldest
	// Limit bounds the page (0: no bound).
	Limit int
	// After is a task id: the page starts after that task in Sort's order
	// (0: from the start). A task the user does not have yields an empty page.
	After int64
	// Contains keeps the tasks whose title holds every one of these, as
	// text, ignoring case.
	Contains []string
	// Priority keeps the tasks of that priority ("": any).
	Priority Priority
	// DueBefore keeps the tasks due before it (nil: any); a task due on a
	// date counts from that date's start in Zone.
	DueBefore *time.Time
	// Zone is the person's time zone (nil: UTC).
	Zone *time.Location
	// Overdue keeps the pending tasks whose due time is past: a time before
	// Now, or a date before Today (the person's date, as UTC midnight).
	Overdue    bool
	Now, Today time.Time
}

// clock is the query's Now and Today, defaulting to the present in UTC.
func (q TaskQuery) clock() (now, today time.Time) {
	now, today = q.Now, q.Today
	if now.IsZero() {
		now = time.Now()
	}
	if today.IsZero() {
		y, m, d := now.UTC().Date()
		today = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	return now, today
}

// dueDay is the date bound of DueBefore, as UTC midnight: a task due on
// a date is due before DueBefore when its date is before it, that is when
// the date starts, in Zone, before DueBefore.
func (q TaskQuery) dueDay() time.Time {
	zone := q.Zone
	if zone == nil {
		zone = time.UTC
	}
	at := q.DueBefore.In(zone)
	y, m, d := at.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	if at.After(time.Date(y, m, d, 0, 0, 0, 0, zone)) {
		day = day.AddDate(0, 0, 1)
	}
	return day
}

// Priority is a task's priority: "low", "medium", "high", or "" for none.
type Priority string

// The priorities, lowest first.
const (
	PriorityLow    Priority = "low"
	PriorityMedium Priority = "medium"
	PriorityHigh   Priority = "high"
)

// ParsePriority accepts low, medium or high in any case; "" is none.
func ParsePriority(s string) (Priority, bool) {
	switch p := Priority(strings.ToLower(strings.TrimSpace(s))); p {
	case "", PriorityLow, PriorityMedium, PriorityHigh:
		return p, true
	}
	return "", false
}

// rank orders priorities high first, none last.
func (p Priority) rank() int {
	switch p {
	case PriorityHigh:
		return 0
	case PriorityMedium:
		return 1
	case PriorityLow:
		return 2
	}
	return 3
}

// Due is when a task is due: a moment, or (DateOnly) a date, held as that
// date's midnight in UTC.
type Due struct {
	At       time.Time
	DateOnly bool
}

// DueDate makes the Due of a civil date.
func DueDate(year int, month time.Month, day int) Due {
	return Due{At: time.Date(year, month, day, 0, 0, 0, 0, time.UTC), DateOnly: true}
}

// String writes the due as the API and the tools carry it: a date
// (2026-12-04), or a moment in RFC 3339, UTC.
func (d Due) String() string {
	if d.DateOnly {
		return d.At.Format("2006-01-02")
	}
	return d.At.UTC().Format(time.RFC3339)
}

// Start is the moment a due begins: the time, or the date's midnight in
// loc (nil: UTC).
func (d Due) Start(loc *time.Location) time.Time {
	if !d.DateOnly {
		return d.At
	}
	if loc == nil {
		loc = time.UTC
	}
	y, m, day := d.At.Date()
	return time.Date(y, m, day, 0, 0, 0, 0, loc)
}

// Overdue reports whether a pending task due so is late at now, for a
// person whose date today is today (as UTC midnight).
func (d *Due) Overdue(now, today time.Time) bool {
	if d == nil {
		return false
	}
	if d.DateOnly {
		return d.At.Before(today)
	}
	return d.At.Before(now)
}

// Task is one to-do item.
type Task struct {
	ID          int64
	UserID      string
	Title       string
	Description string // "" when there is none
	Completed   bool
	Priority    Priority
	Due         *Due // nil when none
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// NewTask is a task to create.
type NewTask struct {
	Title       string
	Description string
	Completed   bool
	Priority    Priority
	Due         *Due
}

// TaskPatch changes a task; nil leaves a field as it is.
type TaskPatch struct {
	Title       *string
	Description *string
	Completed   *bool
	// Toggle flips completed; Completed is then ignored.
	Toggle bool
	// Priority sets the priority; a pointer to "" removes it.
	Priority *Priority
	// SetDue sets the due time to Due; nil removes it.
	SetDue bool
	Due    *Due
}

// Conversation is a chat thread with its derived title and message count.
type Conversation struct {
	ID           int64     `json:"id"`
	UserID       string    `json:"user_id"`
	Title        string    `json:"title"`
	MessageCount int       `json:"message_count"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// ToolCall records one tool invocation of an assistant turn.
type ToolCall struct {
	Tool      string          `json:"tool"`
	Arguments json.RawMessage `json:"arguments"`
	Result    json.RawMessage `json:"result"`
}

// Message is one stored chat message.
type Message struct {
	ID             int64      `json:"id"`
	ConversationID int64      `json:"-"`
	Role           string     `json:"role"`
	Content        string     `json:"content"`
	ToolCalls      []ToolCall `json:"tool_calls"`
	CreatedAt      time.Time  `json:"created_at"`
}

// Page asks for at most Limit rows strictly older than Before (0: from the newest).
type Page struct {
	Limit  int
	Before int64
}

// TitleMaxChars bounds a conversation title derived from its first message.
const TitleMaxChars = 80

// Tasks is one user's to-do list: what the task tools and the task routes
// use, on the store or inside a unit of work. Methods that name a task
// return ErrTaskNotFound (wrapped) if the user has no task id.
type Tasks interface {
	// AddTask creates a task.
	AddTask(ctx context.Context, userID string, t NewTask) (Task, error)
	// GetTask returns one task.
	GetTask(ctx context.Context, userID string, id int64) (Task, error)
	// ListTasks returns a page of the user's tasks.
	ListTasks(ctx context.Context, userID string, q TaskQuery) ([]Task, error)
	// CountTasks counts the user's tasks that q's Filter and Contains
	// select.
	CountTasks(ctx context.Context, userID string, q TaskQuery) (int, error)
	// UpdateTask applies p and returns the task as it is afterwards.
	UpdateTask(ctx context.Context, userID string, id int64, p TaskPatch) (Task, error)
	// DeleteTask removes a task and returns it as it was.
	DeleteTask(ctx context.Context, userID string, id int64) (Task, error)
}

// TurnTx is the unit of work a TurnFunc runs in: the user's tasks and the
// conversation's messages, read and written together with the turn.
type TurnTx interface {
	Tasks
	// ListMessages is Store.ListMessages inside the unit of work.
	ListMessages(ctx context.Context, userID string, convID int64, p Page) ([]Message, error)
}

// Account is a person who signs in with an email and a password.
type Account struct {
	ID           string // as the users table keeps it: a UUID, a number, any text
	Email        string
	Name         string // "" when none
	PasswordHash string // bcrypt, or a legacy SHA-256 hex digest
	CreatedAt    time.Time
}

// NewAccount is an account to create; the store gives it its id.
type NewAccount struct {
	Email, Name, PasswordHash string
}

// Accounts are the sign-in accounts. Emails are compared case-insensitively
// after trimming.
type Accounts interface {
	// CreateAccount returns ErrEmailTaken if an account has the email.
	CreateAccount(ctx context.Context, a NewAccount) (Account, error)
	// AccountByEmail returns ErrAccountNotFound if none has the email.
	AccountByEmail(ctx context.Context, email string) (Account, error)
	// AccountByID returns ErrAccountNotFound if none has the id.
	AccountByID(ctx context.Context, id string) (Account, error)
	// UpgradePassword replaces the account's hash with newHash if it is
	// still oldHash (a legacy hash rewritten after a sign-in), and reports
	// whether it did; a table that cannot hold the new hash keeps the old.
	UpgradePassword(ctx context.Context, id, oldHash, newHash string) (bool, error)
	// Attempt counts one attempt under key (an address or an account) in
	// the current minute and returns a *RateLimitError past limit.
	Attempt(ctx context.Context, key string, limit int) error
}

// Store is the persistence boundary of taskchat.
//
// Implementations must be safe for concurrent use. Timestamps are UTC with
// microsecond precision. Methods return ErrUnavailable (wrapped) when the
// backend cannot be reached, and the not-found errors as documented.
type Store interface {
	Tasks
	Accounts

	// StartTurn admits a turn (rate limit, idempotency key) and stores its
	// user message at the end of conversation t.ConversationID or, when that
	// is 0, in a new conversation titled after the message (see Title). It
	// returns the conversation's id and times as they are afterwards, and
	// for a new conversation its title and count too (an adopted table
	// would have to read the whole conversation for them; GetConversation
	// always has them). For a key whose turn
	// already finished it writes nothing and returns that turn's response as
	// replay. Returns ErrConversationNotFound if the user has no such
	// conversation, and the errors documented on Turn. The caller ends the
	// turn with FinishTurn, or AbandonTurn when it fails.
	StartTurn(ctx context.Context, t Turn) (conv Conversation, replay json.RawMessage, err error)
	// FinishTurn appends the assistant's reply to the turn's conversation and
	// records response for the turn's idempotency key, together.
	FinishTurn(ctx context.Context, t Turn, reply Message, response json.RawMessage) error
	// AbandonTurn releases the idempotency key of a turn that failed after
	// StartTurn, so a retry can run it. The user message stays.
	AbandonTurn(ctx context.Context, t Turn) error
	// RunTurn runs a whole turn as one unit of work: StartTurn, then fn in
	// the unit of work, then FinishTurn with what fn returns. Everything
	// commits together when fn succeeds, and nothing is kept when it fails.
	// A replay runs nothing and returns the first response with replayed true.
	RunTurn(ctx context.Context, t Turn, fn TurnFunc) (response json.RawMessage, replayed bool, err error)
	// RunIdempotent runs fn once per idempotency key: fn's writes and its
	// response commit together, and a later call with the same key writes
	// nothing and returns that response with replayed true. key "" runs fn
	// with no key. The errors are those documented on Turn.
	RunIdempotent(ctx context.Context, userID, key, requestHash string, fn func(ctx context.Context, tx Tasks) (json.RawMessage, error)) (response json.RawMessage, replayed bool, err error)
	// Sweep deletes expired idempotency keys and past rate-limit windows.
	Sweep(ctx context.Context) error

	// GetConversation returns ErrConversationNotFound if the user has no
	// conversation id.
	GetConversation(ctx context.Context, userID string, id int64) (Conversation, error)
	// ListConversations returns a page of conversations, most recently active
	// first. Before is a conversation id: the page starts after that
	// conversation in the same order; an unknown Before yields an empty page.
	ListConversations(ctx context.Context, userID string, p Page) ([]Conversation, error)
	// DeleteConversation removes a conversation and its messages.
	// Returns ErrConversationNotFound if the user has no conversation id.
	DeleteConversation(ctx context.Context, userID string, id int64) error
	// DeleteConversations removes all the user's conversations and their
	// messages, and says how many there were.
	DeleteConversations(ctx context.Context, userID string) (int, error)
	// AppendMessage stores a message at the end of a conversation and marks
	// the conversation active. Returns ErrConversationNotFound if the user
	// has no conversation m.ConversationID.
	AppendMessage(ctx context.Context, userID string, m Message) (Message, error)
	// ListMessages returns a page of a conversation's messages, newest first.
	// Returns ErrConversationNotFound if the user has no conversation convID.
	ListMessages(ctx context.Context, userID string, convID int64, p Page) ([]Message, error)

	// Ping reports whether the backend answers.
	Ping(ctx context.Context) error
	// Ready reports whether requests can be served: the backend answers and
	// its schema is current.
	Ready(ctx context.Context) error
	// Status says, without any I/O, which existing tables the store adopted
	// and what keeps it from being fully healthy.
	Status() Status
	// Close releases the store's resources.
	Close()
}

// Status is what a store reports about itself for /health.
type Status struct {
	// Adopted lists the existing tables the store serves in place, e.g.
	// "public.tasks".
	Adopted []string
	// Problems are sentences for the operator: what was not adopted and
	// why, what failed and how to fix it.
	Problems []string
}

// TurnFunc answers a turn inside RunTurn: tx is the unit of work, conv the
// conversation with the user message already stored. It returns the
// assistant message to store and the response to replay for the turn's
// idempotency key.
type TurnFunc func(ctx context.Context, tx TurnTx, conv Conversation) (reply Message, response json.RawMessage, err error)

// Title derives a conversation title from its first message.
func Title(firstMessage string) string {
	r := []rune(firstMessage)
	var b []rune
	space := false
	for _, c := range r {
		if c == '\n' || c == '\r' || c == '\t' || c == ' ' {
			space = len(b) > 0
			continue
		}
		if space {
			b = append(b, ' ')
			space = false
		}
		b = append(b, c)
	}
	if len(b) > TitleMaxChars {
		b = append(b[:TitleMaxChars-1], '…')
	}
	return string(b)
}

// Now is the store clock: UTC with the microsecond precision PostgreSQL keeps.
func Now() time.Time {
	return time.Now().UTC().Truncate(time.Microsecond)
}
