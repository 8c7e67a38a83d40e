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
	"time"

	"github.com/taskchat/taskchat/internal/dates"
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
		object(map[string]any{"title": titleSchema, "description": descSchema, "priority": prioritySchema, "due_date": dueSchema}, "title"),
		decoded((*Toolbox).addTask)},
	{ToolListTasks, "List the user's tasks, optionally only pending or completed ones, of one priority, due before a time, or overdue. Each task says its priority, when it is due and whether it is overdue.",
		object(map[string]any{
			"status":     map[string]any{"type": "string", "enum": []string{"all", "pending", "completed"}, "default": "all"},
			"priority":   map[string]any{"type": "string", "enum": []string{"low", "medium", "high"}, "description": "Only tasks of this priority."},
			"due_before": map[string]any{"type": "string", "description": "Only tasks due before this date (YYYY-MM-DD) or time (RFC 3339)."},
			"overdue":    map[string]any{"type": "boolean", "description": "Only pending tasks whose due time has passed."},
		}),
		decoded((*Toolbox).listTasks)},
	{ToolCompleteTask, "Mark a task as completed.",
		object(map[string]any{"task_id": taskIDSchema}, "task_id"),
		decoded((*Toolbox).completeTask)},
	{ToolDeleteTask, "Delete a task.",
		object(map[string]any{"task_id": taskIDSchema}, "task_id"),
		decoded((*Toolbox).deleteTask)},
	{ToolUpdateTask, "Change a task's title, description, priority or due date (at least one).",
		object(map[string]any{"task_id": taskIDSchema, "title": titleSchema, "description": descSchema,
			"priority": updPrioritySchema, "due_date": updDueSchema}, "task_id"),
		decoded((*Toolbox).updateTask)},
}

// Schemas of the arguments the tools share.
var (
	taskIDSchema      = map[string]any{"type": "integer", "minimum": 1, "description": "The task's number, as list_tasks returns it."}
	titleSchema       = map[string]any{"type": "string", "minLength": 1, "maxLength": MaxTitleChars, "description": "A short title."}
	descSchema        = map[string]any{"type": "string", "maxLength": MaxDescriptionChars, "description": "Optional details."}
	prioritySchema    = map[string]any{"type": "string", "enum": []string{"low", "medium", "high"}, "description": "Optional priority."}
	dueSchema         = map[string]any{"type": "string", "description": "Optional: when it is due, as a date (YYYY-MM-DD) or a date and time (RFC 3339, or YYYY-MM-DDTHH:MM in the user's time zone). Words such as \"tomorrow\" or \"next Monday 9am\" are read in the user's time zone too."}
	updPrioritySchema = map[string]any{"type": "string", "enum": []string{"low", "medium", "high", "none"}, "description": "The new priority; none removes it."}
	updDueSchema      = map[string]any{"type": "string", "description": "The new due date or time, as for add_task; none removes it."}
)

func object(props map[string]any, required ...string) map[string]any {
	if required == nil {
		required = []string{}
	}
	return map[string]any{"type": "object", "properties": props, "required": required, "additionalProperties": false}
}

// ToolSpec is what a client is told about a tool: the table's name,
// description and the JSON Schema of its arguments (never user_id).
type ToolSpec struct {
	Name        string
	Description string
	InputSchema json.RawMessage
}

// Specs lists the tools of the table, in order, for clients other than the
// LLM agent (the MCP server).
func Specs() []ToolSpec {
	out := make([]ToolSpec, 0, len(tools))
	for _, t := range tools {
		schema, err := json.Marshal(t.params)
		if err != nil {
			panic(fmt.Sprintf("tool %s: schema: %v", t.name, err)) // the table is fixed data
		}
		out = append(out, ToolSpec{Name: t.name, Description: t.description, InputSchema: schema})
	}
	return out
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
	now    time.Time      // the turn's moment (zero: the clock's)
	zone   *time.Location // the person's time zone (nil: UTC)
	calls  []store.ToolCall
	kept   int    // bytes of calls
	guard  *guard // checks a model's calls against its turn's message; nil for the offline agent
	watch  func(Event)
}

// Watch makes fn see every call as it starts and ends, and returns tb.
func (tb *Toolbox) Watch(fn func(Event)) *Toolbox {
	tb.watch = fn
	return tb
}

// started tells the watcher a call is about to run and returns its id.
func (tb *Toolbox) started(name string, args json.RawMessage) string {
	id := fmt.Sprintf("call_%d", len(tb.calls)+1)
	if tb.watch != nil {
		tb.watch(Event{Kind: ToolStarted, CallID: id, Tool: name, Args: args})
	}
	return id
}

// ended tells the watcher how a call ended.
func (tb *Toolbox) ended(id, name string, result json.RawMessage, failed bool) {
	if tb.watch != nil {
		tb.watch(Event{Kind: ToolEnded, CallID: id, Tool: name, Result: result, Failed: failed})
	}
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

// At sets the moment and the person's time zone the tools read dates and
// judge overdue tasks in (by default the clock's, in UTC), and returns tb.
func (tb *Toolbox) At(now time.Time, zone *time.Location) *Toolbox {
	tb.now, tb.zone = now, zone
	return tb
}

// clock is the turn's moment, the person's zone and their date today.
func (tb *Toolbox) clock() (time.Time, *time.Location, time.Time) {
	now, zone := tb.now, tb.zone
	if now.IsZero() {
		now = time.Now()
	}
	if zone == nil {
		zone = time.UTC
	}
	return now, zone, dates.Today(now, zone)
}

// today tells a model the person's date, time and zone, which due dates
// are read in.
func (tb *Toolbox) today() string {
	now, zone, _ := tb.clock()
	local := now.In(zone)
	return fmt.Sprintf("Now, for the user: %s, %s (time zone %s, UTC%s).",
		local.Format("Monday 2006-01-02"), local.Format("15:04"), zone, local.Format("-07:00"))
}

// dueOf reads a due date a tool was given: exact forms, or words. An
// unreadable or past one is a tool error that says why.
func (tb *Toolbox) dueOf(s string) (*store.Due, error) {
	now, zone, _ := tb.clock()
	d, _, err := dates.Parse(s, now, zone)
	switch {
	case errors.Is(err, dates.ErrPast):
		return nil, invalid("due_date %q is in the past; ask the user for a date to come", s)
	case err != nil:
		return nil, invalid("due_date %q is not a date taskchat can read: give YYYY-MM-DD or an RFC 3339 time", s)
	}
	return &d, nil
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
	out, _, err := tb.Run(ctx, name, args)
	return out, err
}

// Run is Call that also says whether the result is a tool error (an
// {"error": …} result), as an MCP client is told with isError.
func (tb *Toolbox) Run(ctx context.Context, name string, args json.RawMessage) (result json.RawMessage, failed bool, err error) {
	if len(tb.calls) >= MaxCalls {
		out, err := json.Marshal(errorResult{Error: errCallLimit.Message})
		return out, true, err
	}
	if len(args) == 0 || string(args) == "null" {
		args = json.RawMessage(`{}`)
	}
	var res any
	id := tb.started(name, args)
	if t, ok := toolNamed(name); ok {
		err = tb.check(ctx, name, args)
		if err == nil {
			res, err = t.run(ctx, tb, args)
		}
	} else {
		err = &ToolError{Kind: UnknownTool, Message: fmt.Sprintf("unknown tool %q", name)}
	}
	_, failed = errors.AsType[*ToolError](err)
	result, err = tb.record(name, args, res, err)
	if err == nil {
		tb.ended(id, name, result, failed)
	}
	return result, failed, err
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
	raw, merr := json.Marshal(args)
	if merr != nil {
		var zero R
		return zero, merr
	}
	id := tb.started(name, raw)
	res, err := op(tb, ctx, args)
	out, rerr := tb.record(name, raw, res, err)
	if rerr != nil {
		return res, rerr
	}
	_, failed := errors.AsType[*ToolError](err)
	tb.ended(id, name, out, failed)
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
		Priority    string `json:"priority,omitempty"`
		DueDate     string `json:"due_date,omitempty"`
	}
	listArgs struct {
		Status    string `json:"status,omitempty"`
		Priority  string `json:"priority,omitempty"`
		DueBefore string `json:"due_before,omitempty"`
		Overdue   bool   `json:"overdue,omitempty"`
	}
	idArgs struct {
		TaskID TaskID `json:"task_id"`
	}
	updateArgs struct {
		TaskID      TaskID  `json:"task_id"`
		Title       *string `json:"title,omitempty"`
		Description *string `json:"description,omitempty"`
		Priority    *string `json:"priority,omitempty"`
		DueDate     *string `json:"due_date,omitempty"`
	}
)

// Tool result shapes.
type (
	taskResult struct {
		TaskID   int64   `json:"task_id"`
		Status   string  `json:"status"`
		Title    string  `json:"title"`
		Priority string  `json:"priority,omitempty"`
		DueAt    *string `json:"due_at,omitempty"`
	}
	listItem struct {
		ID        int64   `json:"id"`
		Title     string  `json:"title"`
		Completed bool    `json:"completed"`
		Priority  *string `json:"priority"`
		DueAt     *string `json:"due_at"`
		Overdue   bool    `json:"overdue,omitempty"`
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
	nt := store.NewTask{Title: title, Description: desc}
	var ok bool
	if nt.Priority, ok = store.ParsePriority(a.Priority); !ok {
		return taskResult{}, invalid(`priority must be "low", "medium" or "high"`)
	}
	if strings.TrimSpace(a.DueDate) != "" {
		if nt.Due, err = tb.dueOf(a.DueDate); err != nil {
			return taskResult{}, err
		}
	}
	t, err := tb.tasks.AddTask(ctx, tb.userID, nt)
	if errors.Is(err, store.ErrTaskLimit) {
		return taskResult{}, &ToolError{Kind: TaskLimit, Message: "the user has as many tasks as one person may keep; completed or old tasks must be deleted before adding more"}
	}
	if err != nil {
		return taskResult{}, err
	}
	return resultOf(t, "created"), nil
}

// resultOf is a task as a tool's result names it.
func resultOf(t store.Task, status string) taskResult {
	return taskResult{TaskID: t.ID, Status: status, Title: t.Title, Priority: string(t.Priority), DueAt: dueText(t.Due)}
}

// dueText writes a due time (see store.Due.String), or nil for none.
func dueText(d *store.Due) *string {
	if d == nil {
		return nil
	}
	s := d.String()
	return &s
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
	q := store.TaskQuery{Filter: f, Overdue: a.Overdue}
	if q.Priority, ok = store.ParsePriority(a.Priority); !ok {
		return listResult{}, invalid(`priority must be "low", "medium" or "high"`)
	}
	if strings.TrimSpace(a.DueBefore) != "" {
		now, zone, _ := tb.clock()
		d, _, err := dates.Read(a.DueBefore, now, zone) // a bound may be past
		if err != nil {
			return listResult{}, invalid("due_before %q is not a date taskchat can read: give YYYY-MM-DD or an RFC 3339 time", a.DueBefore)
		}
		at := d.Start(zone)
		q.DueBefore, q.Zone = &at, zone
	}
	items, more, err := tb.find(ctx, q)
	if err != nil {
		return listResult{}, err
	}
	res := listResult{Tasks: items, Total: len(items)}
	if more {
		if res.Total, err = tb.tasks.CountTasks(ctx, tb.userID, q); err != nil {
			return listResult{}, err
		}
	}
	return res, nil
}

// find reads the most relevant MaxListed tasks q selects, shown pending
// first, each group oldest first, and whether there are more.
func (tb *Toolbox) find(ctx context.Context, q store.TaskQuery) ([]listItem, bool, error) {
	q.Sort, q.Limit = store.SortRelevant, MaxListed+1
	q.Now, _, q.Today = tb.clock()
	ts, err := tb.tasks.ListTasks(ctx, tb.userID, q)
	if err != nil {
		return nil, false, err
	}
	more := len(ts) > MaxListed
	ts = ts[:min(len(ts), MaxListed)]
	items := make([]listItem, len(ts))
	for i, t := range ts {
		items[i] = listItem{ID: t.ID, Title: t.Title, Completed: t.Completed, DueAt: dueText(t.Due),
			Overdue: !t.Completed && t.Due.Overdue(q.Now, q.Today)}
		if t.Priority != "" {
			p := string(t.Priority)
			items[i].Priority = &p
		}
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
	if a.Title == nil && a.Description == nil && a.Priority == nil && a.DueDate == nil {
		return taskResult{}, invalid("give a new title, description, priority or due_date")
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
	if a.Priority != nil {
		v := strings.ToLower(strings.TrimSpace(*a.Priority))
		if v == "none" {
			v = ""
		}
		pr, ok := store.ParsePriority(v)
		if !ok {
			return taskResult{}, invalid(`priority must be "low", "medium", "high" or "none"`)
		}
		p.Priority = &pr
	}
	if a.DueDate != nil {
		p.SetDue = true
		if v := strings.ToLower(strings.TrimSpace(*a.DueDate)); v != "" && v != "none" {
			var err error
			if p.Due, err = tb.dueOf(*a.DueDate); err != nil {
				return taskResult{}, err
			}
		}
	}
	t, err := tb.tasks.UpdateTask(ctx, tb.userID, int64(a.TaskID), p)
	if err != nil {
		return taskResult{}, taskNotFound(a.TaskID, err)
	}
	return resultOf(t, "updated"), nil
}
