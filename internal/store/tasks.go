package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// The task queries, run on the pool by Postgres and on a turn's connection
// by pgTurn, with the statements of the schema in use. Every one filters by
// user_id.

func scanTask(row pgx.Row) (Task, error) {
	var t Task
	var prio *string
	var due *time.Time
	var dateOnly bool
	err := row.Scan(&t.ID, &t.UserID, &t.Title, &t.Description, &t.Completed, &prio, &due, &dateOnly, &t.CreatedAt, &t.UpdatedAt)
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	if prio != nil {
		t.Priority = Priority(*prio)
	}
	if due != nil {
		t.Due = &Due{At: due.UTC(), DateOnly: dateOnly}
	}
	return t, err
}

// dueArgs are a due time's parameters: the moment (nil: none) and whether
// it is a date.
func dueArgs(d *Due) (any, bool) {
	if d == nil {
		return nil, false
	}
	return d.At, d.DateOnly
}

// priorityArg is a priority's parameter (nil: none).
func priorityArg(p Priority) any {
	if p == "" {
		return nil
	}
	return string(p)
}

// taskRow runs a statement that returns one task, naming the task when
// there is none.
func taskRow(ctx context.Context, q db, id int64, sql string, args ...any) (Task, error) {
	t, err := scanTask(q.QueryRow(ctx, sql, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		err = fmt.Errorf("task %d: %w", id, ErrTaskNotFound)
	}
	return t, err
}

// addTask inserts a task unless the user has max tasks (0: no limit): one
// statement, whose counter row serializes the user's adds. When it adds
// nothing, it is sent once more — a first add may have lost the race to
// make the user's counter row — and then the user's tasks are counted
// afresh, in case the counter drifted (tasks deleted by another application
// on an adopted table), and it is tried a last time if there is room. inTx
// says q is inside a transaction; otherwise the recount makes its own.
func addTask(ctx context.Context, q db, s *schema, userID string, t NewTask, max int, inTx bool) (Task, error) {
	if !acceptsUser(s.tasks.userCast, userID) {
		return Task{}, fmt.Errorf("user id %q for %s: %w", userID, s.tasks.table, ErrUnknownUser)
	}
	at, only := dueArgs(t.Due)
	args := []any{userID, t.Title, t.Description, t.Completed, max, priorityArg(t.Priority), at, only}
	task, err := scanTask(q.QueryRow(ctx, s.sql.addTask, args...))
	if max == 0 || !errors.Is(err, pgx.ErrNoRows) {
		return task, err
	}
	if task, err = scanTask(q.QueryRow(ctx, s.sql.addTask, args...)); !errors.Is(err, pgx.ErrNoRows) {
		return task, err
	}
	n, err := recount(ctx, q, s, userID, inTx)
	if err != nil {
		return Task{}, err
	}
	if n < max {
		task, err = scanTask(q.QueryRow(ctx, s.sql.addTask, args...))
	}
	if n >= max || errors.Is(err, pgx.ErrNoRows) {
		return Task{}, fmt.Errorf("%w: %d tasks", ErrTaskLimit, max)
	}
	return task, err
}

// recount sets the user's task count from their tasks, exactly: under the
// counter row's lock, so every add in flight has ended and is counted.
func recount(ctx context.Context, q db, s *schema, userID string, inTx bool) (int, error) {
	var n int
	b := &pgx.Batch{}
	if !inTx {
		b.Queue("begin")
	}
	b.Queue(s.sql.lockCount, userID)
	b.Queue(s.sql.recountTasks, userID).QueryRow(func(row pgx.Row) error { return row.Scan(&n) })
	if !inTx {
		b.Queue("commit")
	}
	return n, q.SendBatch(ctx, b).Close()
}

// likeAll makes title words LIKE patterns that find them anywhere, case
// folded; the database compares them with lower(title).
func likeAll(words []string) []string {
	out := make([]string, len(words))
	esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	for i, w := range words {
		out[i] = "%" + esc.Replace(strings.ToLower(w)) + "%"
	}
	return out
}

func filterOf(tq TaskQuery) string {
	if tq.Filter == "" {
		return string(TasksAll)
	}
	return string(tq.Filter)
}

func countTasks(ctx context.Context, q db, s *schema, userID string, tq TaskQuery) (int, error) {
	if !acceptsUser(s.tasks.userCast, userID) {
		return 0, nil
	}
	var n int
	err := q.QueryRow(ctx, s.sql.countTasks, append([]any{userID, filterOf(tq)}, selection(tq)...)...).Scan(&n)
	return n, err
}

func getTask(ctx context.Context, q db, s *schema, userID string, id int64) (Task, error) {
	if !acceptsUser(s.tasks.userCast, userID) {
		return Task{}, fmt.Errorf("task %d: %w", id, ErrTaskNotFound)
	}
	return taskRow(ctx, q, id, s.sql.getTask, userID, id)
}

func listTasks(ctx context.Context, q db, s *schema, userID string, tq TaskQuery) ([]Task, error) {
	if !acceptsUser(s.tasks.userCast, userID) {
		return []Task{}, nil
	}
	sql, ok := s.sql.listTasks[tq.Sort]
	if !ok {
		sql = s.sql.listTasks[SortOldest]
	}
	return list(ctx, q, scanTask, sql, append([]any{userID, filterOf(tq), tq.After, tq.Limit}, selection(tq)...)...)
}

// selection are the parameters of what a list or count selects beyond the
// filter: the title's words, a priority, a due bound, overdue, now, today,
// and the due bound's date.
func selection(tq TaskQuery) []any {
	var before, day any
	if tq.DueBefore != nil {
		before, day = *tq.DueBefore, tq.dueDay()
	}
	now, today := tq.clock()
	return []any{likeAll(tq.Contains), string(tq.Priority), before, tq.Overdue, now, today, day}
}

func updateTask(ctx context.Context, q db, s *schema, userID string, id int64, p TaskPatch) (Task, error) {
	if !acceptsUser(s.tasks.userCast, userID) {
		return Task{}, fmt.Errorf("task %d: %w", id, ErrTaskNotFound)
	}
	var prio any
	if p.Priority != nil {
		prio = priorityArg(*p.Priority)
	}
	at, only := dueArgs(p.Due)
	return taskRow(ctx, q, id, s.sql.updateTask, userID, id, p.Title, p.Description, p.Completed, p.Toggle,
		p.Priority != nil, prio, p.SetDue, at, only)
}

func deleteTask(ctx context.Context, q db, s *schema, userID string, id int64) (Task, error) {
	if !acceptsUser(s.tasks.userCast, userID) {
		return Task{}, fmt.Errorf("task %d: %w", id, ErrTaskNotFound)
	}
	return taskRow(ctx, q, id, s.sql.deleteTask, userID, id)
}

// AddTask implements Store.
func (p *Postgres) AddTask(ctx context.Context, userID string, nt NewTask) (t Task, err error) {
	err = p.write(ctx, func(ctx context.Context, q db, s *schema) error {
		t, err = addTask(ctx, q, s, userID, nt, p.limits.MaxTasks, false)
		return err
	})
	return t, err
}

// CountTasks implements Store.
func (p *Postgres) CountTasks(ctx context.Context, userID string, tq TaskQuery) (n int, err error) {
	err = p.read(ctx, func(ctx context.Context, q db, s *schema) error {
		n, err = countTasks(ctx, q, s, userID, tq)
		return err
	})
	return n, err
}

// GetTask implements Store.
func (p *Postgres) GetTask(ctx context.Context, userID string, id int64) (t Task, err error) {
	err = p.read(ctx, func(ctx context.Context, q db, s *schema) error {
		t, err = getTask(ctx, q, s, userID, id)
		return err
	})
	return t, err
}

// ListTasks implements Store.
func (p *Postgres) ListTasks(ctx context.Context, userID string, tq TaskQuery) (ts []Task, err error) {
	err = p.read(ctx, func(ctx context.Context, q db, s *schema) error {
		ts, err = listTasks(ctx, q, s, userID, tq)
		return err
	})
	return ts, err
}

// UpdateTask implements Store.
func (p *Postgres) UpdateTask(ctx context.Context, userID string, id int64, patch TaskPatch) (t Task, err error) {
	err = p.write(ctx, func(ctx context.Context, q db, s *schema) error {
		t, err = updateTask(ctx, q, s, userID, id, patch)
		return err
	})
	return t, err
}

// DeleteTask implements Store.
func (p *Postgres) DeleteTask(ctx context.Context, userID string, id int64) (t Task, err error) {
	err = p.write(ctx, func(ctx context.Context, q db, s *schema) error {
		t, err = deleteTask(ctx, q, s, userID, id)
		return err
	})
	return t, err
}
