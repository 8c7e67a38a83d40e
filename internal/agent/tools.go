// Package agent holds the five task tools and the agents that call them: the
// offline agent, a deterministic parser that needs nothing configured, and
// the LLM agent, which lets a model call the same tools.
package agent

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

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

// Limits on what the tools store: the task routes' own.
const (
	MaxTitleChars       = store.MaxTitleChars
	MaxDescriptionChars = store.MaxDescriptionChars
)

// tool is one task tool: what a model is told about it and how a call with
// JSON arguments runs. The table below is the one list of tools; the LLM's
// schemas, the check of a model's tool calls and Toolbox.Call all read it.
type tool struct {
	name        string
	description string
	params      map[string]any // JSON Schema of the arguments; never user_id
	run         func(ctx context.Context, tb *Toolbox, raw json.RawMessage) (any, error)
}

var tools = []tool{
	{ToolAddTask, "Add a task to the user's to-do list.",
		object(map[string]any{"title": titleSchema, "description": descSchema}, "title"),
		decoded((*Toolbox).addTask)},
	{ToolListTasks, "List the user's tasks, optionally only pending or only completed ones.",
		object(map[string]any{"status": map[string]any{"type": "string", "enum": []string{"all", "pending", "completed"}, "default": "all"}}),
		decoded((*Toolbox).listTasks)},
	{ToolCompleteTask, "Mark a task as completed.",
		object(map[string]any{"task_id": taskIDSchema}, "task_id"),
		decoded((*Toolbox).completeTask)},
	{ToolDeleteTask, "Delete a task.",
		object(map[string]any{"task_id": taskIDSchema}, "task_id"),
		decoded((*Toolbox).deleteTask)},
	{ToolUpdateTask, "Change a task's title, description, or both.",
		object(map[string]any{"task_id": taskIDSchema, "title": titleSchema, "description": descSchema}, "task_id"),
		decoded((*Toolbox).updateTask)},
}

// Schemas of the arguments the tools share.
var (
	taskIDSchema = map[string]any{"type": "integer", "minimum": 1, "description": "The task's number, as list_tasks returns it."}
	titleSchema  = map[string]any{"type": "string", "minLength": 1, "maxLength": MaxTitleChars, "description": "A short title."}
	descSchema   = map[string]any{"type": "string", "maxLength": MaxDescriptionChars, "description": "Optional details."}
)

func object(props map[string]any, required ...string) map[string]any {
	if required == nil {
		required = []string{}
	}
	return map[string]any{"type": "object", "properties": props, "required": required, "additionalProperties": false}
}

// toolNamed finds a tool in the table.
func toolNamed(name string) (tool, bool) {
	for _, t := range tools {
		if t.name == name {
			return t, true
		}
	}
	return tool{}, false
}

// decoded adapts a typed tool method to JSON arguments.
func decoded[A, R any](op func(*Toolbox, context.Context, A) (R, error)) func(context.Context, *Toolbox, json.RawMessage) (any, error) {
	return func(ctx context.Context, tb *Toolbox, raw json.RawMessage) (any, error) {
		var a A
		if err := json.Unmarshal(raw, &a); err != nil {
			return nil, &ToolError{Kind: InvalidArguments, Message: fmt.Sprintf("invalid arguments: %v", err)}
		}
		return op(tb, ctx, a)
	}
}

// ToolErrorKind says what went wrong with a tool call.
type ToolErrorKind int

// Kinds of tool errors.
const (
	// InvalidArguments: the arguments are missing, malformed or out of range.
	InvalidArguments ToolErrorKind = iota
	// TaskNotFound: the user has no task with that id.
	TaskNotFound
	// UnknownTool: no tool has that name.
	UnknownTool
	// Refused: the call breaks a safety rule (see guard.go) and did not run.
	Refused
	// TaskLimit: the user has as many tasks as they may keep.
	TaskLimit
	// CallLimit: the turn has made as many tool calls as a turn may.
	CallLimit
)

// ToolError is a failure the model or the person should hear about (bad
// arguments, no such task); it becomes an {"error": …} result, not an HTTP
// error.
type ToolError struct {
	Kind    ToolErrorKind
	TaskID  int64 // for TaskNotFound
	Message string
}

func (e *ToolError) Error() string { return e.Message }

func invalid(format string, args ...any) *ToolError {
	return &ToolError{Kind: InvalidArguments, Message: fmt.Sprintf(format, args...)}
}

// Toolbox runs the task tools for one user and records every call in order.
// The user id is fixed when the Toolbox is made: no argument can change it.
type Toolbox struct {
	tasks  store.Tasks
	userID string
	calls  []store.ToolCall
	kept   int    // bytes of calls
	guard  *guard // checks a model's calls against its turn's message; nil for the offline agent
}

// Bounds on one turn's tool calls, whatever a message or a model asks:
// past MaxCalls a call does not run (nor is it recorded), and past
// MaxRecordedBytes a call's result is recorded as omitted, so a stored
// turn stays small.
const (
	MaxCalls         = 20
	MaxRecordedBytes = 64 << 10
)

// errCallLimit is the tool error of a call past MaxCalls.
var errCallLimit = &ToolError{Kind: CallLimit, Message: fmt.Sprintf("a turn makes at most %d tool calls; ask the user to send the rest in another message", MaxCalls)}

// omitted is the recorded result of a call past MaxRecordedBytes.
var omitted = json.RawMessage(`{"omitted":"this turn's tool results are too large to keep"}`)

// NewToolbox returns the tools scoped to userID on tasks.
func NewToolbox(tasks store.Tasks, userID string) *Toolbox {
	return &Toolbox{tasks: tasks, userID: userID}
}

// Calls returns the calls made so far, in order; never nil.
func (tb *Toolbox) Calls() []store.ToolCall {
	return append([]store.ToolCall{}, tb.calls...)
}

// Call runs the named tool with JSON arguments and records it. A tool-level
// failure (unknown tool, bad arguments, missing task) is returned as an
// {"error": …} result with a nil error; the error is non-nil only when the
// store failed, which aborts the turn.
func (tb *Toolbox) Call(ctx context.Context, name string, args json.RawMessage) (json.RawMessage, error) {
	if len(tb.calls) >= MaxCalls {
		return json.Marshal(errorResult{Error: errCallLimit.Message})
	}
	if len(args) == 0 || string(args) == "null" {
		args = json.RawMessage(`{}`)
	}
	var res any
	var err error
	if t, ok := toolNamed(name); ok {
		err = tb.check(ctx, name, args)
		if err == nil {
			res, err = t.run(ctx, tb, args)
		}
	} else {
		err = &ToolError{Kind: UnknownTool, Message: fmt.Sprintf("unknown tool %q", name)}
	}
	return tb.record(name, args, res, err)
}

// check runs the guard, if any, on a call that names a task.
func (tb *Toolbox) check(ctx context.Context, name string, args json.RawMessage) error {
	if tb.guard == nil {
		return nil
	}
	var a struct {
		TaskID TaskID `json:"task_id"`
	}
	if json.Unmarshal(args, &a) != nil {
		return nil // the tool itself says what is wrong with the arguments
	}
	return tb.guard.check(ctx, tb, name, int64(a.TaskID))
}

// call runs a typed tool method for the offline agent and records it as
// Call would. A *ToolError comes back as the error, for the agent to word.
func call[A, R any](ctx context.Context, tb *Toolbox, name string, op func(*Toolbox, context.Context, A) (R, error), args A) (R, error) {
	if len(tb.calls) >= MaxCalls {
		var zero R
		return zero, errCallLimit
	}
	res, err := op(tb, ctx, args)
	raw, merr := json.Marshal(args)
	if merr != nil {
		return res, merr
	}
	if _, rerr := tb.record(name, raw, res, err); rerr != nil {
		return res, rerr
	}
	return res, err
}

// record keeps a call and returns its JSON result: the result, or
// {"error": …} for a tool error. A store failure is returned as it is, and
// nothing is recorded.
func (tb *Toolbox) record(name string, args json.RawMessage, res any, err error) (json.RawMessage, error) {
	if te, ok := errors.AsType[*ToolError](err); ok {
		res = errorResult{Error: te.Message}
	} else if err != nil {
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
	kept := out
	if tb.kept+len(args)+len(out) > MaxRecordedBytes {
		kept = omitted
	}
	tb.kept += len(args) + len(kept)
	tb.calls = append(tb.calls, store.ToolCall{Tool: name, Arguments: args, Result: kept})
	return out, nil
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

// cleanTitle and cleanDescription apply the task routes' rules to a tool's
// arguments, as tool errors.
func cleanTitle(s string) (string, error) {
	t, err := store.CleanTitle(s)
	if err != nil {
		return "", invalid("title %s", err)
	}
	return t, nil
}

func cleanDescription(s string) (string, error) {
	d, err := store.CleanDescription(s)
	if err != nil {
		return "", invalid("description %s", err)
	}
	return d, nil
}

// taskNotFound turns the store's not-found into the tool error for id.
func taskNotFound(id TaskID, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return &ToolError{Kind: TaskNotFound, TaskID: int64(id), Message: fmt.Sprintf("task %d not found", id)}
	}
	return err
}

func (tb *Toolbox) addTask(ctx context.Context, a addArgs) (taskResult, error) {
	title, err := cleanTitle(a.Title)
	if err != nil {
		return taskResult{}, err
	}
	desc, err := cleanDescription(a.Description)
	if err != nil {
		return taskResult{}, err
	}
	t, err := tb.tasks.AddTask(ctx, tb.userID, store.NewTask{Title: title, Description: desc})
	if errors.Is(err, store.ErrTaskLimit) {
		return taskResult{}, &ToolError{Kind: TaskLimit, Message: "the user has as many tasks as one person may keep; completed or old tasks must be deleted before adding more"}
	}
	if err != nil {
		return taskResult{}, err
	}
	return taskResult{TaskID: t.ID, Status: "created", Title: t.Title}, nil
}

// MaxListed is the most tasks list_tasks returns: whatever a user has
// stored, a result, the turn that stores it and the prompt that carries it
// stay small.
const MaxListed = 50

// listResult is what list_tasks returns: the tasks as a list, or, when
// there are more than MaxListed, the most relevant of them (pending first,
// then the newest) with how many there are in all.
type listResult struct {
	Tasks []listItem
	Total int
}

// More is how many tasks the result leaves out.
func (r listResult) More() int { return r.Total - len(r.Tasks) }

// MarshalJSON implements json.Marshaler: a list, as the tool always
// returned, unless some are left out.
func (r listResult) MarshalJSON() ([]byte, error) {
	if r.More() <= 0 {
		return json.Marshal(r.Tasks)
	}
	return json.Marshal(struct {
		Tasks []listItem `json:"tasks"`
		Total int        `json:"total"`
		More  int        `json:"more"`
	}{r.Tasks, r.Total, r.More()})
}

func (tb *Toolbox) listTasks(ctx context.Context, a listArgs) (listResult, error) {
	f, ok := store.ParseTaskFilter(a.Status)
	if !ok {
		return listResult{}, invalid(`status must be "all", "pending" or "completed"`)
	}
	items, more, err := tb.find(ctx, store.TaskQuery{Filter: f})
	if err != nil {
		return listResult{}, err
	}
	res := listResult{Tasks: items, Total: len(items)}
	if more {
		if res.Total, err = tb.tasks.CountTasks(ctx, tb.userID, store.TaskQuery{Filter: f}); err != nil {
			return listResult{}, err
		}
	}
	return res, nil
}

// find reads the most relevant MaxListed tasks q selects, shown pending
// first, each group oldest first, and whether there are more.
func (tb *Toolbox) find(ctx context.Context, q store.TaskQuery) ([]listItem, bool, error) {
	q.Sort, q.Limit = store.SortRelevant, MaxListed+1
	ts, err := tb.tasks.ListTasks(ctx, tb.userID, q)
	if err != nil {
		return nil, false, err
	}
	more := len(ts) > MaxListed
	ts = ts[:min(len(ts), MaxListed)]
	items := make([]listItem, len(ts))
	for i, t := range ts {
		items[i] = listItem{ID: t.ID, Title: t.Title, Completed: t.Completed}
	}
	slices.SortFunc(items, func(a, b listItem) int {
		if a.Completed != b.Completed {
			if a.Completed {
				return 1
			}
			return -1
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return items, more, nil
}

// searchTasks finds the tasks whose titles hold every one of words, for
// title lookups on a list longer than list_tasks shows; more says there
// were more than MaxListed.
func (tb *Toolbox) searchTasks(ctx context.Context, words []string) (items []listItem, more bool, err error) {
	return tb.find(ctx, store.TaskQuery{Contains: words})
}

func (tb *Toolbox) completeTask(ctx context.Context, a idArgs) (taskResult, error) {
	if a.TaskID == 0 {
		return taskResult{}, invalid("task_id is required")
	}
	done := true
	t, err := tb.tasks.UpdateTask(ctx, tb.userID, int64(a.TaskID), store.TaskPatch{Completed: &done})
	if err != nil {
		return taskResult{}, taskNotFound(a.TaskID, err)
	}
	return taskResult{TaskID: t.ID, Status: "completed", Title: t.Title}, nil
}

func (tb *Toolbox) deleteTask(ctx context.Context, a idArgs) (taskResult, error) {
	if a.TaskID == 0 {
		return taskResult{}, invalid("task_id is required")
	}
	t, err := tb.tasks.DeleteTask(ctx, tb.userID, int64(a.TaskID))
	if err != nil {
		return taskResult{}, taskNotFound(a.TaskID, err)
	}
	return taskResult{TaskID: t.ID, Status: "deleted", Title: t.Title}, nil
}

func (tb *Toolbox) updateTask(ctx context.Context, a updateArgs) (taskResult, error) {
	if a.TaskID == 0 {
		return taskResult{}, invalid("task_id is required")
	}
	if a.Title == nil && a.Description == nil {
		return taskResult{}, invalid("give a new title, a new description, or both")
	}
	var p store.TaskPatch
	if a.Title != nil {
		title, err := cleanTitle(*a.Title)
		if err != nil {
			return taskResult{}, err
		}
		p.Title = &title
	}
	if a.Description != nil {
		desc, err := cleanDescription(*a.Description)
		if err != nil {
			return taskResult{}, err
		}
		p.Description = &desc
	}
	t, err := tb.tasks.UpdateTask(ctx, tb.userID, int64(a.TaskID), p)
	if err != nil {
		return taskResult{}, taskNotFound(a.TaskID, err)
	}
	return taskResult{TaskID: t.ID, Status: "updated", Title: t.Title}, nil
}
