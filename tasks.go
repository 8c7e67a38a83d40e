package taskchat

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/taskchat/taskchat/internal/dates"
	"github.com/taskchat/taskchat/internal/store"
)

// The Phase II task API: the routes the surveyed frontends' task pages call,
// on the same tasks the chat's tools change.

// taskJSON is a task as the task routes answer it, in the shape the
// surveyed frontends read: description null when there is none.
type taskJSON struct {
	ID          int64   `json:"id"`
	UserID      string  `json:"user_id"`
	Title       string  `json:"title"`
	Description *string `json:"description"`
	Completed   bool    `json:"completed"`
	// Priority is low, medium, high or null.
	Priority *string `json:"priority"`
	// DueAt is a date ("2026-12-04") or a moment in RFC 3339, or null;
	// DueDate is the same, under the name the surveyed frontends read.
	DueAt     *string   `json:"due_at"`
	DueDate   *string   `json:"due_date"`
	Overdue   bool      `json:"overdue"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// clock is the moment and the person's date that overdue is judged by.
type clock struct{ now, today time.Time }

// clockOf is now in the request's time zone (see zoneOf; UTC when none).
func clockOf(r *http.Request) clock {
	loc, _ := zoneOf(r, "")
	now := time.Now()
	return clock{now: now, today: dates.Today(now, loc)}
}

func taskView(t store.Task, c clock) taskJSON {
	v := taskJSON{ID: t.ID, UserID: t.UserID, Title: t.Title, Completed: t.Completed, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
	if t.Description != "" {
		v.Description = &t.Description
	}
	if t.Priority != "" {
		p := string(t.Priority)
		v.Priority = &p
	}
	if t.Due != nil {
		due := t.Due.String()
		v.DueAt, v.DueDate = &due, &due
	}
	v.Overdue = !t.Completed && t.Due.Overdue(c.now, c.today)
	return v
}

func taskViews(ts []store.Task, c clock) []taskJSON {
	out := make([]taskJSON, len(ts))
	for i, t := range ts {
		out[i] = taskView(t, c)
	}
	return out
}

// zoneOf reads the person's time zone: body (a chat body's time_zone),
// else the X-Time-Zone header, else the ?time_zone= query, else UTC.
func zoneOf(r *http.Request, body string) (*time.Location, error) {
	name := body
	if name == "" {
		name = r.Header.Get("X-Time-Zone")
	}
	if name == "" {
		name = r.URL.Query().Get("time_zone")
	}
	loc, err := dates.Location(name)
	if err != nil {
		if len(name) > 64 {
			name = name[:64] + "…"
		}
		return time.UTC, errorf(http.StatusBadRequest, "invalid_time_zone", "The time zone %q is not an IANA time zone name such as Europe/Paris.", name)
	}
	return loc, nil
}

// Task list paging: the page size the routes answer when not asked, and at most.
const (
	defaultTaskLimit = 100
)

var taskSorts = map[string]store.TaskSort{
	"": store.SortCreated, "created": store.SortCreated, "created_at": store.SortCreated,
	"updated": store.SortUpdated, "updated_at": store.SortUpdated, "title": store.SortTitle,
	"due": store.SortDue, "due_at": store.SortDue, "due_date": store.SortDue, "priority": store.SortPriority,
}

// taskQuery reads a task list's ?status= (or ?completed=true|false, as some
// frontends filter), ?sort=, ?limit= and ?before=.
func taskQuery(r *http.Request) (store.TaskQuery, error) {
	q := r.URL.Query()
	f, ok := store.ParseTaskFilter(strings.ToLower(q.Get("status")))
	if !ok {
		return store.TaskQuery{}, errorf(http.StatusBadRequest, "invalid_status", "status must be all, pending or completed.")
	}
	if v := q.Get("completed"); v != "" && q.Get("status") == "" {
		done, err := strconv.ParseBool(v)
		if err != nil {
			return store.TaskQuery{}, errorf(http.StatusBadRequest, "invalid_status", "completed must be true or false.")
		}
		f = store.TasksPending
		if done {
			f = store.TasksCompleted
		}
	}
	sort, ok := taskSorts[strings.ToLower(q.Get("sort"))]
	if !ok {
		return store.TaskQuery{}, errorf(http.StatusBadRequest, "invalid_sort", "sort must be created, updated, title, due or priority.")
	}
	p, err := pageParams(r, defaultTaskLimit)
	if err != nil {
		return store.TaskQuery{}, err
	}
	tq := store.TaskQuery{Filter: f, Sort: sort, Limit: p.Limit, After: p.Before}
	if tq.Priority, ok = store.ParsePriority(q.Get("priority")); !ok {
		return store.TaskQuery{}, errorf(http.StatusBadRequest, "invalid_priority", "priority must be low, medium or high.")
	}
	loc, err := zoneOf(r, "")
	if err != nil {
		return store.TaskQuery{}, err
	}
	if v := q.Get("due_before"); v != "" {
		d, ok := dates.Exact(v, loc)
		if !ok {
			return store.TaskQuery{}, errorf(http.StatusBadRequest, "invalid_due_before", "due_before must be a date (2026-12-04) or an RFC 3339 time.")
		}
		at := d.Start(loc)
		tq.DueBefore = &at
	}
	if v := q.Get("overdue"); v != "" {
		if tq.Overdue, err = strconv.ParseBool(v); err != nil {
			return store.TaskQuery{}, errorf(http.StatusBadRequest, "invalid_overdue", "overdue must be true or false.")
		}
	}
	tq.Now, tq.Zone = time.Now(), loc
	tq.Today = dates.Today(tq.Now, loc)
	return tq, nil
}

// handleListTasks answers a page of the user's tasks as a bare array, with
// the next page in a Link header.
func handleListTasks(tasks store.Tasks) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tq, err := taskQuery(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		limit := tq.Limit
		tq.Limit++
		ts, err := tasks.ListTasks(r.Context(), userOf(r), tq)
		if err != nil {
			writeError(w, r, err)
			return
		}
		ts, next := nextBefore(ts, limit, func(t store.Task) int64 { return t.ID })
		setNextLink(w, r, next)
		encode(w, http.StatusOK, taskViews(ts, clock{now: tq.Now, today: tq.Today}))
	})
}

// taskID reads {task_id}; anything that is not a positive integer names
// no task.
func taskID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("task_id"), 10, 64)
	if err != nil || id < 1 {
		return 0, store.ErrTaskNotFound
	}
	return id, nil
}

// taskFields is a decoded task body: what was sent, nil what was not.
type taskFields struct {
	title       *string
	description *string // "" clears it
	completed   *bool
	priority    *store.Priority // "" clears it
	due         **store.Due     // nil not sent; a nil *Due clears it
}

// decodeTask reads a task body's fields. A field sent as null counts as not
// sent, except description, where null means none.
func decodeTask(body []byte, loc *time.Location) (taskFields, error) {
	var raw struct {
		Title       json.RawMessage `json:"title"`
		Description json.RawMessage `json:"description"`
		Completed   json.RawMessage `json:"completed"`
		Priority    json.RawMessage `json:"priority"`
		DueDate     json.RawMessage `json:"due_date"`
		DueAt       json.RawMessage `json:"due_at"`
	}
	var f taskFields
	if err := decodeObject(body, &raw); err != nil {
		return f, err
	}
	if len(raw.Priority) > 0 {
		var p store.Priority
		var s *string
		ok := json.Unmarshal(raw.Priority, &s) == nil
		if ok && s != nil {
			p, ok = store.ParsePriority(*s)
		}
		if !ok {
			return f, invalidInput("The field \"priority\" must be low, medium, high or null.")
		}
		f.priority = &p
	}
	if due := raw.DueAt; len(due) > 0 || len(raw.DueDate) > 0 {
		if len(due) == 0 {
			due = raw.DueDate
		}
		var s *string
		if json.Unmarshal(due, &s) != nil {
			return f, invalidInput("The field \"due_date\" must be a date (2026-12-04), an RFC 3339 time, or null.")
		}
		var d *store.Due
		if s != nil && strings.TrimSpace(*s) != "" {
			v, ok := dates.Exact(*s, loc)
			if !ok {
				return f, invalidInput("The field \"due_date\" must be a date (2026-12-04), an RFC 3339 time, or null.")
			}
			d = &v
		}
		f.due = &d
	}
	if sent(raw.Title) {
		var s string
		if json.Unmarshal(raw.Title, &s) != nil {
			return f, invalidInput("The field \"title\" must be a string.")
		}
		title, err := store.CleanTitle(s)
		if err != nil {
			return f, invalidInput("The title %s.", err)
		}
		f.title = &title
	}
	if len(raw.Description) > 0 {
		d := ""
		if string(raw.Description) != "null" {
			var s string
			if json.Unmarshal(raw.Description, &s) != nil {
				return f, invalidInput("The field \"description\" must be a string or null.")
			}
			var err error
			if d, err = store.CleanDescription(s); err != nil {
				return f, invalidInput("The description %s.", err)
			}
		}
		f.description = &d
	}
	if sent(raw.Completed) {
		var b bool
		if json.Unmarshal(raw.Completed, &b) != nil {
			return f, invalidInput("The field \"completed\" must be true or false.")
		}
		f.completed = &b
	}
	return f, nil
}

func sent(raw json.RawMessage) bool { return len(raw) > 0 && string(raw) != "null" }

// handleCreateTask creates a task: 201 with the task. With an
// Idempotency-Key, a retry answers the first task again and creates none.
func handleCreateTask(st store.Store, bodyBytes int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, err := idempotencyKey(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		body, err := readJSONBody(w, r, bodyBytes, false)
		if err != nil {
			writeError(w, r, err)
			return
		}
		loc, err := zoneOf(r, "")
		if err != nil {
			writeError(w, r, err)
			return
		}
		f, err := decodeTask(body, loc)
		if err == nil && f.title == nil {
			err = invalidInput("The field \"title\" is required.")
		}
		if err != nil {
			writeError(w, r, err)
			return
		}
		nt := store.NewTask{Title: *f.title}
		if f.description != nil {
			nt.Description = *f.description
		}
		if f.completed != nil {
			nt.Completed = *f.completed
		}
		if f.priority != nil {
			nt.Priority = *f.priority
		}
		if f.due != nil {
			nt.Due = *f.due
		}
		c := clockOf(r)
		user := userOf(r)
		sum := sha256.Sum256(append([]byte("POST tasks\x00"), body...))
		res, replayed, err := st.RunIdempotent(r.Context(), user, key, hex.EncodeToString(sum[:]),
			func(ctx context.Context, tx store.Tasks) (json.RawMessage, error) {
				t, err := tx.AddTask(ctx, user, nt)
				if err != nil {
					return nil, err
				}
				return json.Marshal(taskView(t, c))
			})
		if err != nil {
			writeError(w, r, err)
			return
		}
		if replayed {
			w.Header().Set("Idempotent-Replayed", "true")
		}
		writeJSON(w, http.StatusCreated, append(res, '\n'))
	})
}

// handleGetTask answers one task.
func handleGetTask(tasks store.Tasks) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := taskID(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		t, err := tasks.GetTask(r.Context(), userOf(r), id)
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusOK, taskView(t, clockOf(r)))
	})
}

// handleUpdateTask changes the fields a PUT or PATCH sends; the others stay.
func handleUpdateTask(tasks store.Tasks, bodyBytes int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := taskID(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		body, err := readJSONBody(w, r, bodyBytes, false)
		if err != nil {
			writeError(w, r, err)
			return
		}
		loc, err := zoneOf(r, "")
		if err != nil {
			writeError(w, r, err)
			return
		}
		f, err := decodeTask(body, loc)
		if err != nil {
			writeError(w, r, err)
			return
		}
		p := store.TaskPatch{Title: f.title, Description: f.description, Completed: f.completed, Priority: f.priority}
		if f.due != nil {
			p.SetDue, p.Due = true, *f.due
		}
		patchTask(w, r, tasks, id, p)
	})
}

// handleCompleteTask toggles a task when the body is empty (or names no
// completed), and sets it with {"completed": true|false}.
func handleCompleteTask(tasks store.Tasks, bodyBytes int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := taskID(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		body, err := readJSONBody(w, r, bodyBytes, true)
		if err != nil {
			writeError(w, r, err)
			return
		}
		p := store.TaskPatch{Toggle: true}
		if body != nil {
			f, err := decodeTask(body, time.UTC)
			if err != nil {
				writeError(w, r, err)
				return
			}
			if f.completed != nil {
				p = store.TaskPatch{Completed: f.completed}
			}
		}
		patchTask(w, r, tasks, id, p)
	})
}

// handleToggleTask flips a task between pending and completed.
func handleToggleTask(tasks store.Tasks) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := taskID(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		patchTask(w, r, tasks, id, store.TaskPatch{Toggle: true})
	})
}

func patchTask(w http.ResponseWriter, r *http.Request, tasks store.Tasks, id int64, p store.TaskPatch) {
	t, err := tasks.UpdateTask(r.Context(), userOf(r), id, p)
	if err != nil {
		writeError(w, r, err)
		return
	}
	encode(w, http.StatusOK, taskView(t, clockOf(r)))
}

// handleDeleteTask deletes a task: 204.
func handleDeleteTask(tasks store.Tasks) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := taskID(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if _, err := tasks.DeleteTask(r.Context(), userOf(r), id); err != nil {
			writeError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
