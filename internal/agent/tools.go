// Package agent holds the five task tools and the agents that call them: the
// offline agent, a deterministic parser that needs nothing configured.
package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/taskchat/taskchat/internal/store"
)

// Tool names, as the LLM sees them and as responses record them.
const (
	ToolAddTask      = "add_task"
	ToolListTasks    = "list_tasks"
	ToolCompleteTask = "complete_task"
	ToolDeleteTask   = "delete_task"
	ToolUpdateTask   = "update_task"
)

// Limits on what the tools store.
const (
	MaxTitleChars       = 200
	MaxDescriptionChars = 2000
)

// Toolbox runs the task tools for one user and records every call in order.
// The user id is fixed when the Toolbox is made: no argument can change it.
type Toolbox struct {
	store  store.Store
	userID string
	calls  []store.ToolCall
}

// NewToolbox returns the tools scoped to userID on s.
func NewToolbox(s store.Store, userID string) *Toolbox {
	return &Toolbox{store: s, userID: userID}
}

// Calls returns the calls made so far, in order; never nil.
func (tb *Toolbox) Calls() []store.ToolCall {
	return append([]store.ToolCall{}, tb.calls...)
}

// TaskID accepts a JSON number or a string of digits, as models send both.
type TaskID int64

// UnmarshalJSON implements json.Unmarshaler.
func (id *TaskID) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return fmt.Errorf("task_id must be a positive integer, got %s", b)
	}
	*id = TaskID(n)
	return nil
}

// Tool argument shapes.
type (
	addArgs struct {
		Title       string `json:"title"`
		Description string `json:"description,omitempty"`
	}
	listArgs struct {
		Status string `json:"status,omitempty"`
	}
	idArgs struct {
		TaskID TaskID `json:"task_id"`
	}
	updateArgs struct {
		TaskID      TaskID  `json:"task_id"`
		Title       *string `json:"title,omitempty"`
		Description *string `json:"description,omitempty"`
	}
)

// Tool result shapes.
type (
	taskResult struct {
		TaskID int64  `json:"task_id"`
		Status string `json:"status"`
		Title  string `json:"title"`
	}
	listItem struct {
		ID        int64  `json:"id"`
		Title     string `json:"title"`
		Completed bool   `json:"completed"`
	}
	errorResult struct {
		Error string `json:"error"`
	}
)

// toolError is a failure the model or the person should hear about (bad
// arguments, no such task); it becomes an {"error": …} result, not an HTTP error.
type toolError string

func (e toolError) Error() string { return string(e) }

// Call runs the named tool with JSON arguments and records it. A tool-level
// failure (unknown tool, bad arguments, missing task) is returned as an
// {"error": …} result with a nil error; the error is non-nil only when the
// store failed, which aborts the turn.
func (tb *Toolbox) Call(ctx context.Context, name string, args json.RawMessage) (json.RawMessage, error) {
	if len(args) == 0 || string(args) == "null" {
		args = json.RawMessage(`{}`)
	}
	res, err := tb.run(ctx, name, args)
	var te toolError
	switch {
	case errors.As(err, &te):
		res = errorResult{Error: te.Error()}
	case errors.Is(err, store.ErrNotFound):
		res = errorResult{Error: "task not found"}
	case err != nil:
		return nil, err
	}
	out, err := json.Marshal(res)
	if err != nil {
		return nil, fmt.Errorf("encode %s result: %w", name, err)
	}
	if !json.Valid(args) {
		// Keep the stored record valid JSON whatever a model sent.
		args, _ = json.Marshal(string(args))
	}
	tb.calls = append(tb.calls, store.ToolCall{Tool: name, Arguments: args, Result: out})
	return out, nil
}

func decodeArgs(name string, raw json.RawMessage, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return toolError(fmt.Sprintf("invalid arguments for %s: %v", name, err))
	}
	return nil
}

func cleanText(what, s string, max int, required bool) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case required && s == "":
		return "", toolError(what + " must not be empty")
	case !utf8.ValidString(s) || strings.ContainsRune(s, 0):
		return "", toolError(what + " must be valid text")
	case utf8.RuneCountInString(s) > max:
		return "", toolError(fmt.Sprintf("%s must be at most %d characters", what, max))
	}
	return s, nil
}

func (tb *Toolbox) run(ctx context.Context, name string, raw json.RawMessage) (any, error) {
	switch name {
	case ToolAddTask:
		var a addArgs
		if err := decodeArgs(name, raw, &a); err != nil {
			return nil, err
		}
		title, err := cleanText("title", a.Title, MaxTitleChars, true)
		if err != nil {
			return nil, err
		}
		desc, err := cleanText("description", a.Description, MaxDescriptionChars, false)
		if err != nil {
			return nil, err
		}
		t, err := tb.store.AddTask(ctx, tb.userID, title, desc)
		if err != nil {
			return nil, err
		}
		return taskResult{TaskID: t.ID, Status: "created", Title: t.Title}, nil

	case ToolListTasks:
		var a listArgs
		if err := decodeArgs(name, raw, &a); err != nil {
			return nil, err
		}
		f, ok := store.ParseTaskFilter(a.Status)
		if !ok {
			return nil, toolError(`status must be "all", "pending" or "completed"`)
		}
		ts, err := tb.store.ListTasks(ctx, tb.userID, f)
		if err != nil {
			return nil, err
		}
		items := make([]listItem, len(ts))
		for i, t := range ts {
			items[i] = listItem{ID: t.ID, Title: t.Title, Completed: t.Completed}
		}
		return items, nil

	case ToolCompleteTask, ToolDeleteTask:
		var a idArgs
		if err := decodeArgs(name, raw, &a); err != nil {
			return nil, err
		}
		if a.TaskID == 0 {
			return nil, toolError("task_id is required")
		}
		op, status := tb.store.CompleteTask, "completed"
		if name == ToolDeleteTask {
			op, status = tb.store.DeleteTask, "deleted"
		}
		t, err := op(ctx, tb.userID, int64(a.TaskID))
		if err != nil {
			return nil, notFound(a.TaskID, err)
		}
		return taskResult{TaskID: t.ID, Status: status, Title: t.Title}, nil

	case ToolUpdateTask:
		var a updateArgs
		if err := decodeArgs(name, raw, &a); err != nil {
			return nil, err
		}
		if a.TaskID == 0 {
			return nil, toolError("task_id is required")
		}
		if a.Title == nil && a.Description == nil {
			return nil, toolError("give a new title, a new description, or both")
		}
		var p store.TaskPatch
		if a.Title != nil {
			title, err := cleanText("title", *a.Title, MaxTitleChars, true)
			if err != nil {
				return nil, err
			}
			p.Title = &title
		}
		if a.Description != nil {
			desc, err := cleanText("description", *a.Description, MaxDescriptionChars, false)
			if err != nil {
				return nil, err
			}
			p.Description = &desc
		}
		t, err := tb.store.UpdateTask(ctx, tb.userID, int64(a.TaskID), p)
		if err != nil {
			return nil, notFound(a.TaskID, err)
		}
		return taskResult{TaskID: t.ID, Status: "updated", Title: t.Title}, nil
	}
	return nil, toolError(fmt.Sprintf("unknown tool %q", name))
}

func notFound(id TaskID, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return toolError(fmt.Sprintf("task %d not found", id))
	}
	return err
}
