package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// The task queries, run on the pool by Postgres and on a turn's connection
// by pgTurn. Every one filters by user_id.

const taskColumns = `id, title, description, completed, created_at, updated_at`

func scanTask(row pgx.Row) (Task, error) {
	var t Task
	err := row.Scan(&t.ID, &t.Title, &t.Description, &t.Completed, &t.CreatedAt, &t.UpdatedAt)
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	return t, err
}

const (
	addTaskSQL   = `insert into tasks (user_id, title, description) values ($1, $2, $3) returning ` + taskColumns
	listTasksSQL = `select ` + taskColumns + ` from tasks
where user_id = $1 and ($2::text = 'all' or completed = ($2::text = 'completed'))
order by id`
	completeTaskSQL = `update tasks set completed = true, updated_at = clock_timestamp()
where id = $2 and user_id = $1 returning ` + taskColumns
	deleteTaskSQL = `delete from tasks where id = $2 and user_id = $1 returning ` + taskColumns
	updateTaskSQL = `update tasks set title = coalesce($3::text, title), description = coalesce($4::text, description),
updated_at = clock_timestamp() where id = $2 and user_id = $1 returning ` + taskColumns
)

func addTask(ctx context.Context, q db, userID, title, description string) (Task, error) {
	return scanTask(q.QueryRow(ctx, addTaskSQL, userID, title, description))
}

func listTasks(ctx context.Context, q db, userID string, f TaskFilter) ([]Task, error) {
	return list(ctx, q, scanTask, listTasksSQL, userID, string(f))
}

// changeTask runs a statement that returns the task it changed, naming the
// task when there is none.
func changeTask(ctx context.Context, q db, id int64, sql string, args ...any) (Task, error) {
	t, err := scanTask(q.QueryRow(ctx, sql, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		err = fmt.Errorf("task %d: %w", id, ErrTaskNotFound)
	}
	return t, err
}

func completeTask(ctx context.Context, q db, userID string, id int64) (Task, error) {
	return changeTask(ctx, q, id, completeTaskSQL, userID, id)
}

func deleteTask(ctx context.Context, q db, userID string, id int64) (Task, error) {
	return changeTask(ctx, q, id, deleteTaskSQL, userID, id)
}

func updateTask(ctx context.Context, q db, userID string, id int64, p TaskPatch) (Task, error) {
	return changeTask(ctx, q, id, updateTaskSQL, userID, id, p.Title, p.Description)
}

// AddTask implements Store.
func (p *Postgres) AddTask(ctx context.Context, userID, title, description string) (t Task, err error) {
	err = p.write(ctx, func(ctx context.Context, q db) error {
		t, err = addTask(ctx, q, userID, title, description)
		return err
	})
	return t, err
}

// ListTasks implements Store.
func (p *Postgres) ListTasks(ctx context.Context, userID string, f TaskFilter) (ts []Task, err error) {
	err = p.read(ctx, func(ctx context.Context, q db) error {
		ts, err = listTasks(ctx, q, userID, f)
		return err
	})
	return ts, err
}

// CompleteTask implements Store.
func (p *Postgres) CompleteTask(ctx context.Context, userID string, id int64) (t Task, err error) {
	err = p.write(ctx, func(ctx context.Context, q db) error {
		t, err = completeTask(ctx, q, userID, id)
		return err
	})
	return t, err
}

// DeleteTask implements Store.
func (p *Postgres) DeleteTask(ctx context.Context, userID string, id int64) (t Task, err error) {
	err = p.write(ctx, func(ctx context.Context, q db) error {
		t, err = deleteTask(ctx, q, userID, id)
		return err
	})
	return t, err
}

// UpdateTask implements Store.
func (p *Postgres) UpdateTask(ctx context.Context, userID string, id int64, patch TaskPatch) (t Task, err error) {
	err = p.write(ctx, func(ctx context.Context, q db) error {
		t, err = updateTask(ctx, q, userID, id, patch)
		return err
	})
	return t, err
}
