package taskchat_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/taskchat/taskchat/internal/pgtest"
)

// Bounded by bytes whatever one user has stored.

// seedTasks gives user n pending tasks, the first titled first: through the
// database in one statement when there is one, else through the API.
func seedTasks(t *testing.T, h http.Handler, env map[string]string, user string, n int, first string) {
	t.Helper()
	if dbURL := env["DATABASE_URL"]; dbURL != "" {
		chat(t, h, user, "hello", nil) // the schema is in place
		pgtest.Exec(t, dbURL, `insert into taskchat.tasks (user_id, title) select $1::text, case when i = 1 then $3::text else 'Chore number ' || i end from generate_series(1, $2::int) i`, user, n, first)
		return
	}
	for i := 1; i <= n; i++ {
		title := fmt.Sprintf("Chore number %d", i)
		if i == 1 {
			title = first
		}
		if res, _, e := taskReq(t, h, "POST", "/api/"+user+"/tasks", `{"title":"`+title+`"}`); res.Code != http.StatusCreated {
			t.Fatalf("seed task %d: %d %+v", i, res.Code, e)
		}
	}
}

// list_tasks returns at most 50 tasks and how many there are; the offline
// agent says so, and still finds a task by title beyond the 50.
func TestListTasksBounded(t *testing.T) {
	eachStore(t, func(t *testing.T, env map[string]string) {
		h := newApp(t, env)
		seedTasks(t, h, env, "long", 60, "Call the dentist")
		r := chat(t, h, "long", "show my tasks", nil)
		var res struct {
			Tasks []task `json:"tasks"`
			Total int    `json:"total"`
			More  int    `json:"more"`
		}
		if len(r.ToolCalls) != 1 || json.Unmarshal(r.ToolCalls[0].Result, &res) != nil {
			t.Fatalf("reply = %+v", r)
		}
		if len(res.Tasks) != 50 || res.Total != 60 || res.More != 10 || !strings.Contains(r.Response, "…and 10 more") {
			t.Errorf("list_tasks of 60 tasks: %d shown, total %d, more %d; reply %q", len(res.Tasks), res.Total, res.More, r.Response[:80])
		}
		// The newest 50: task 1, the oldest, is not among them.
		for _, tk := range res.Tasks {
			if tk.Title == "Call the dentist" {
				t.Errorf("the oldest task is among the 50 newest")
			}
		}
		// Up to 50, the result is the plain list it always was.
		r = chat(t, h, "long", "show my completed tasks", nil)
		if string(r.ToolCalls[0].Result) != "[]" {
			t.Errorf("empty completed list = %s", r.ToolCalls[0].Result)
		}
		// A title is looked up beyond the 50 shown.
		r = chat(t, h, "long", "delete the dentist task", nil)
		if !strings.Contains(r.Response, `Deleted task`) || !strings.Contains(r.Response, "Call the dentist") {
			t.Errorf("delete by title beyond the list: %q", r.Response)
		}
		// A title that matches too many to show is asked about, not guessed.
		r = chat(t, h, "long", "delete the chore task", nil)
		if len(tasksOf(t, h, "long", "all")) != 59 || strings.Contains(r.Response, "Deleted") {
			t.Errorf("an ambiguous title over a long list: %q", r.Response)
		}
	})
}

// MAX_TASKS_PER_USER caps a user's tasks: the task route answers 409, the
// agent says the list is full, nothing is added.
func TestTaskLimit(t *testing.T) {
	eachStore(t, func(t *testing.T, env map[string]string) {
		env["MAX_TASKS_PER_USER"] = "3"
		h := newApp(t, env)
		for i := range 3 {
			taskReq(t, h, "POST", "/api/full/tasks", fmt.Sprintf(`{"title":"Task %d"}`, i))
		}
		res, _, e := taskReq(t, h, "POST", "/api/full/tasks", `{"title":"One too many"}`)
		if res.Code != http.StatusConflict || e.Code != "task_limit_reached" || e.Detail == "" {
			t.Errorf("fourth task: %d %+v", res.Code, e)
		}
		r := chat(t, h, "full", "add a task to buy milk", nil)
		if !strings.Contains(r.Response, "list is full") {
			t.Errorf("chat at the limit: %q", r.Response)
		}
		if ts := tasksOf(t, h, "full", "all"); len(ts) != 3 {
			t.Errorf("%d tasks at a limit of 3", len(ts))
		}
		// Another user is not limited by this one.
		if res, _, _ := taskReq(t, h, "POST", "/api/roomy/tasks", `{"title":"Mine"}`); res.Code != http.StatusCreated {
			t.Errorf("another user's task: %d", res.Code)
		}
	})
}

// One message makes at most 20 tool calls, however many it asks for.
func TestToolCallsPerTurnBounded(t *testing.T) {
	h := newApp(t, map[string]string{})
	var parts []string
	for i := 1; i <= 30; i++ {
		parts = append(parts, fmt.Sprintf("add a task to do chore %d", i))
	}
	r := chat(t, h, "greedy", strings.Join(parts, " and "), nil)
	if len(r.ToolCalls) != 20 || !strings.Contains(r.Response, "as much as I do for one message") {
		t.Errorf("%d tool calls; reply ends %q", len(r.ToolCalls), r.Response[max(0, len(r.Response)-120):])
	}
	if n := len(tasksOf(t, h, "greedy", "all")); n != 20 {
		t.Errorf("%d tasks added", n)
	}
}

// Memory stays flat as one user's data grows: a turn that lists the tasks,
// the task page, and a history page of such turns allocate about the same
// for 100 tasks as for 10,000, and answer about as many bytes.
func TestMemoryFlatAsTasksGrow(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 10,000 tasks")
	}
	eachStore(t, func(t *testing.T, env map[string]string) {
		type cost struct{ alloc, bytes uint64 }
		measure := func(n int) cost {
			env := maps(env)
			if env["DATABASE_URL"] != "" {
				env["DATABASE_URL"] = pgtest.NewDatabase(t)
			}
			h := newApp(t, env)
			user := fmt.Sprintf("grow%d", n)
			seedTasks(t, h, env, user, n, "First chore")
			first := chat(t, h, user, "show my tasks", nil)
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			var bytes uint64
			for range 5 {
				res := postChat(t, h, user, fmt.Sprintf(`{"message":"show my tasks","conversation_id":%d}`, first.ConversationID))
				bytes += uint64(res.Body.Len())
				res = do(t, h, "GET", "/api/"+user+"/tasks", nil)
				bytes += uint64(res.Body.Len())
				res = do(t, h, "GET", fmt.Sprintf("/api/%s/conversations/%d/messages?limit=100", user, first.ConversationID), nil)
				bytes += uint64(res.Body.Len())
			}
			runtime.ReadMemStats(&after)
			return cost{alloc: after.TotalAlloc - before.TotalAlloc, bytes: bytes}
		}
		small, big := measure(100), measure(10_000)
		t.Logf("100 tasks: %d bytes allocated, %d answered; 10,000 tasks: %d allocated, %d answered", small.alloc, small.bytes, big.alloc, big.bytes)
		if big.alloc > 2*small.alloc+1<<20 || big.bytes > 2*small.bytes {
			t.Errorf("grows with the user's tasks: 100 tasks %+v, 10,000 tasks %+v", small, big)
		}
	})
}

func maps(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
