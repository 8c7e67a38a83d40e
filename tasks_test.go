package taskchat_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func jsonBody(s string) *strings.Reader { return strings.NewReader(s) }

// taskReq sends a JSON request and decodes a task or an error.
func taskReq(t *testing.T, h http.Handler, method, path, body string, headers ...string) (response, task, errorBody) {
	t.Helper()
	hs := append([]string{"Content-Type", "application/json"}, headers...)
	if body == "" {
		hs = headers
	}
	res := do(t, h, method, path, jsonBody(body), hs...)
	var tk task
	var e errorBody
	if res.Code < 300 && res.Body.Len() > 0 {
		res.json(&tk)
	} else if res.Code >= 400 {
		res.json(&e)
	}
	return res, tk, e
}

func TestTaskAPI(t *testing.T) {
	eachStore(t, func(t *testing.T, env map[string]string) {
		h := newApp(t, env)
		res, a, _ := taskReq(t, h, "POST", "/api/ana/tasks", `{"title":"  Buy milk  ","description":"2 litres"}`)
		if res.Code != http.StatusCreated || a.Title != "Buy milk" || a.Description == nil || *a.Description != "2 litres" || a.Completed || a.UserID != "ana" {
			t.Fatalf("create = %d %+v", res.Code, a)
		}
		_, b, _ := taskReq(t, h, "POST", "/api/ana/tasks/", `{"title":"Pay rent","completed":true,"unknown":"ignored"}`)
		if !b.Completed || b.Description != nil {
			t.Errorf("created with completed, no description = %+v", b)
		}

		// The chat sees the REST task, and REST sees the chat's.
		r := chat(t, h, "ana", "Add a task to call the plumber", nil)
		reply := chat(t, h, "ana", "show my tasks", r.ConversationID)
		if !strings.Contains(reply.Response, "Buy milk") || !strings.Contains(reply.Response, "Pay rent") {
			t.Errorf("the chat does not list the REST tasks: %q", reply.Response)
		}
		ts := tasksOf(t, h, "ana", "all")
		if len(ts) != 3 || ts[2].Title != "Call the plumber" {
			t.Fatalf("tasks = %+v", ts)
		}
		c := ts[2]

		if _, got, _ := taskReq(t, h, "GET", fmt.Sprintf("/api/ana/tasks/%d", a.ID), ""); !reflect.DeepEqual(got, a) {
			t.Errorf("get = %+v, want %+v", got, a)
		}
		// PUT and PATCH change only what they send.
		_, up, _ := taskReq(t, h, "PUT", fmt.Sprintf("/api/ana/tasks/%d", a.ID), `{"title":"Buy oat milk"}`)
		if up.Title != "Buy oat milk" || up.Description == nil || *up.Description != "2 litres" || up.Completed {
			t.Errorf("PUT title = %+v", up)
		}
		_, up, _ = taskReq(t, h, "PATCH", fmt.Sprintf("/api/ana/tasks/%d", a.ID), `{"description":null,"completed":true}`)
		if up.Title != "Buy oat milk" || up.Description != nil || !up.Completed {
			t.Errorf("PATCH description null, completed = %+v", up)
		}
		// complete toggles with no body, sets with {"completed"}; toggle toggles.
		id := fmt.Sprintf("/api/ana/tasks/%d", c.ID)
		for _, step := range []struct {
			method, path, body string
			want               bool
		}{
			{"PATCH", id + "/complete", "", true},
			{"PATCH", id + "/complete", "", false},
			{"PATCH", id + "/complete", `{"completed":true}`, true},
			{"PATCH", id + "/complete", `{"completed":true}`, true},
			{"PATCH", id + "/complete", `{}`, false},
			{"PATCH", id + "/toggle", "", true},
			{"PATCH", id + "/toggle", "", false},
		} {
			res, got, _ := taskReq(t, h, step.method, step.path, step.body)
			if res.Code != http.StatusOK || got.Completed != step.want {
				t.Errorf("%s %s %s = %d completed %v, want %v", step.method, step.path, step.body, res.Code, got.Completed, step.want)
			}
		}
		if res := do(t, h, "DELETE", id, nil); res.Code != http.StatusNoContent || res.Body.Len() != 0 {
			t.Errorf("delete = %d %q", res.Code, res.Body)
		}
		res, _, e := taskReq(t, h, "GET", id, "")
		if res.Code != http.StatusNotFound || e.Code != "task_not_found" {
			t.Errorf("deleted task = %d %+v", res.Code, e)
		}
	})
}

// Every bad task request gets a clear 4xx and writes nothing.
func TestTaskAPIBadInput(t *testing.T) {
	eachStore(t, func(t *testing.T, env map[string]string) {
		h := newApp(t, env)
		_, a, _ := taskReq(t, h, "POST", "/api/bea/tasks", `{"title":"Keep me"}`)
		_, other, _ := taskReq(t, h, "POST", "/api/carl/tasks", `{"title":"Carl's"}`)
		before := tasksOf(t, h, "bea", "all")
		one := fmt.Sprintf("/api/bea/tasks/%d", a.ID)
		for _, tc := range []struct {
			name, method, path, body string
			ctype                    string
			status                   int
			code                     string
		}{
			{"no title", "POST", "/api/bea/tasks", `{"description":"x"}`, "application/json", 422, "invalid_input"},
			{"null title", "POST", "/api/bea/tasks", `{"title":null}`, "application/json", 422, "invalid_input"},
			{"blank title", "POST", "/api/bea/tasks", `{"title":"   "}`, "application/json", 422, "invalid_input"},
			{"long title", "POST", "/api/bea/tasks", `{"title":"` + strings.Repeat("x", 201) + `"}`, "application/json", 422, "invalid_input"},
			{"long description", "POST", "/api/bea/tasks", `{"title":"x","description":"` + strings.Repeat("d", 1001) + `"}`, "application/json", 422, "invalid_input"},
			{"number title", "POST", "/api/bea/tasks", `{"title":5}`, "application/json", 422, "invalid_input"},
			{"string completed", "POST", "/api/bea/tasks", `{"title":"x","completed":"yes"}`, "application/json", 422, "invalid_input"},
			{"NUL title", "POST", "/api/bea/tasks", `{"title":"a\u0000b"}`, "application/json", 422, "invalid_input"},
			{"not JSON", "POST", "/api/bea/tasks", `{title:`, "application/json", 400, "invalid_json"},
			{"an array", "POST", "/api/bea/tasks", `[{"title":"x"}]`, "application/json", 400, "invalid_json"},
			{"form", "POST", "/api/bea/tasks", `title=x`, "application/x-www-form-urlencoded", 415, "unsupported_media_type"},
			{"oversized", "POST", "/api/bea/tasks", `{"title":"x","description":"` + strings.Repeat("d", 70_000) + `"}`, "application/json", 413, "body_too_large"},
			{"blank title on PUT", "PUT", one, `{"title":""}`, "application/json", 422, "invalid_input"},
			{"bad complete body", "PATCH", one + "/complete", `{"completed":"nope"}`, "application/json", 422, "invalid_input"},
			{"complete not JSON", "PATCH", one + "/complete", `done`, "text/plain", 415, "unsupported_media_type"},
			{"another user's task", "PUT", fmt.Sprintf("/api/bea/tasks/%d", other.ID), `{"title":"hijack"}`, "application/json", 404, "task_not_found"},
			{"another user's toggle", "PATCH", fmt.Sprintf("/api/bea/tasks/%d/toggle", other.ID), ``, "", 404, "task_not_found"},
			{"another user's delete", "DELETE", fmt.Sprintf("/api/bea/tasks/%d", other.ID), ``, "", 404, "task_not_found"},
			{"missing task", "GET", "/api/bea/tasks/999999", ``, "", 404, "task_not_found"},
			{"not a task id", "GET", "/api/bea/tasks/abc", ``, "", 404, "task_not_found"},
			{"huge task id", "DELETE", "/api/bea/tasks/99999999999999999999", ``, "", 404, "task_not_found"},
			{"zero task id", "PATCH", "/api/bea/tasks/0/complete", ``, "", 404, "task_not_found"},
			{"bad status", "GET", "/api/bea/tasks?status=done", ``, "", 400, "invalid_status"},
			{"bad completed", "GET", "/api/bea/tasks?completed=maybe", ``, "", 400, "invalid_status"},
			{"bad sort", "GET", "/api/bea/tasks?sort=urgency", ``, "", 400, "invalid_sort"},
			{"bad limit", "GET", "/api/bea/tasks?limit=101", ``, "", 400, "invalid_limit"},
			{"bad cursor", "GET", "/api/bea/tasks?before=x", ``, "", 400, "invalid_before"},
			{"bad key", "POST", "/api/bea/tasks", `{"title":"x"}`, "application/json", 400, "invalid_idempotency_key"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				hs := []string{}
				if tc.ctype != "" {
					hs = append(hs, "Content-Type", tc.ctype)
				}
				if tc.code == "invalid_idempotency_key" {
					hs = append(hs, "Idempotency-Key", strings.Repeat("k", 300))
				}
				res := do(t, h, tc.method, tc.path, jsonBody(tc.body), hs...)
				var e errorBody
				res.json(&e)
				if res.Code != tc.status || e.Code != tc.code || e.Detail == "" {
					t.Errorf("%d %+v, want %d %s", res.Code, e, tc.status, tc.code)
				}
			})
		}
		if after := tasksOf(t, h, "bea", "all"); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("a refused request wrote: %+v, was %+v", after, before)
		}
		if ts := tasksOf(t, h, "carl", "all"); len(ts) != 1 || ts[0].Title != "Carl's" {
			t.Errorf("carl's task changed: %+v", ts)
		}
	})
}

// A page of tasks ends with a Link to the next; following the links visits
// every task once, in order.
func TestTaskPaging(t *testing.T) {
	eachStore(t, func(t *testing.T, env map[string]string) {
		h := newApp(t, env)
		for i := range 7 {
			taskReq(t, h, "POST", "/api/pat/tasks", fmt.Sprintf(`{"title":"Task %c"}`, 'G'-i))
		}
		for _, tc := range []struct {
			query string
			first string
		}{
			{"sort=created", "Task A"}, {"sort=title", "Task A"}, {"", "Task A"}, {"sort=updated", "Task A"},
		} {
			var titles []string
			path := "/api/pat/tasks?limit=3&" + tc.query
			for range 5 {
				res := do(t, h, "GET", path, nil)
				var ts []task
				res.json(&ts)
				for _, x := range ts {
					titles = append(titles, x.Title)
				}
				link := res.Header().Get("Link")
				if link == "" {
					break
				}
				target, _, _ := strings.Cut(strings.TrimPrefix(link, "<"), ">")
				if !strings.HasPrefix(target, "/api/pat/tasks?") || !strings.Contains(target, "limit=3") {
					t.Errorf("Link %q", link)
				}
				path = target
			}
			if len(titles) != 7 || titles[0] != tc.first {
				t.Errorf("%s: pages = %v", tc.query, titles)
			}
		}
		var ts []task
		getJSON(t, h, "/api/pat/tasks?sort=title&completed=false", &ts)
		if len(ts) != 7 || ts[6].Title != "Task G" {
			t.Errorf("by title = %+v", ts)
		}
	})
}

// POST /tasks with an Idempotency-Key creates one task however often it is sent.
func TestTaskCreateIdempotent(t *testing.T) {
	eachStore(t, func(t *testing.T, env map[string]string) {
		h := newApp(t, env)
		var first string
		for i := range 3 {
			res := do(t, h, "POST", "/api/ida/tasks", jsonBody(`{"title":"Once"}`), "Content-Type", "application/json", "Idempotency-Key", "abc")
			if res.Code != http.StatusCreated {
				t.Fatalf("%d %s", res.Code, res.Body)
			}
			if i == 0 {
				first = res.Body.String()
			} else if res.Body.String() != first || res.Header().Get("Idempotent-Replayed") != "true" {
				t.Errorf("replay %d = %s %v", i, res.Body, res.Header())
			}
		}
		if ts := tasksOf(t, h, "ida", "all"); len(ts) != 1 {
			t.Errorf("%d tasks", len(ts))
		}
		res := do(t, h, "POST", "/api/ida/tasks", jsonBody(`{"title":"Other"}`), "Content-Type", "application/json", "Idempotency-Key", "abc")
		var e errorBody
		res.json(&e)
		if res.Code != http.StatusUnprocessableEntity || e.Code != "idempotency_key_reused" {
			t.Errorf("reused key = %d %+v", res.Code, e)
		}
	})
}

// The routes without a user id take it from the token, and say what to
// configure when auth is off.
func TestTokenRoutes(t *testing.T) {
	t.Run("auth off", func(t *testing.T) {
		h := newApp(t, nil)
		for _, p := range []string{"/api/tasks", "/api/conversations", "/api/conversations/latest", "/api/tasks/1"} {
			res := do(t, h, "GET", p, nil)
			var e errorBody
			res.json(&e)
			if res.Code != http.StatusUnauthorized || e.Code != "auth_required" || !strings.Contains(e.Detail, "AUTH_SECRET") ||
				res.Header().Get("WWW-Authenticate") == "" {
				t.Errorf("GET %s = %d %+v", p, res.Code, e)
			}
		}
		res := do(t, h, "POST", "/api/chat", chatBody("Add a task to x", 0), "Content-Type", "application/json")
		if res.Code != http.StatusUnauthorized {
			t.Errorf("POST /api/chat = %d", res.Code)
		}
		if ts := tasksOf(t, h, "anyone", "all"); len(ts) != 0 {
			t.Errorf("a refused request wrote %+v", ts)
		}
	})
	eachStore(t, func(t *testing.T, env map[string]string) {
		env["AUTH_SECRET"] = secret
		h := newApp(t, env)
		tok := signer{method: jwt.SigningMethodHS256, key: []byte(secret)}.sign(t, claimsFor("tina"))
		auth := []string{"Authorization", "Bearer " + tok}
		as := func(method, path, body string) response {
			hs := auth
			if body != "" {
				hs = append([]string{"Content-Type", "application/json"}, auth...)
			}
			return do(t, h, method, path, jsonBody(body), hs...)
		}
		if res := do(t, h, "GET", "/api/tasks", nil); res.Code != http.StatusUnauthorized {
			t.Errorf("no token: %d", res.Code)
		}
		res := as("POST", "/api/tasks", `{"title":"By token"}`)
		var tk task
		res.json(&tk)
		if res.Code != http.StatusCreated || tk.UserID != "tina" {
			t.Fatalf("create = %d %s", res.Code, res.Body)
		}
		// The same task under the path with the token's user id.
		if got := as("GET", fmt.Sprintf("/api/tina/tasks/%d", tk.ID), ""); got.Code != http.StatusOK {
			t.Errorf("path route = %d", got.Code)
		}
		if got := as("PATCH", fmt.Sprintf("/api/tasks/%d/complete", tk.ID), ""); got.Code != http.StatusOK || !strings.Contains(got.Body.String(), `"completed":true`) {
			t.Errorf("complete = %d %s", got.Code, got.Body)
		}
		var list []task
		as("GET", "/api/tasks", "").json(&list)
		if len(list) != 1 || list[0].ID != tk.ID {
			t.Errorf("list = %+v", list)
		}
		var r chatReply
		as("POST", "/api/chat", `{"message":"Add a task to chat by token"}`).json(&r)
		as("POST", "/chat", fmt.Sprintf(`{"message":"show my tasks","conversation_id":%d}`, r.ConversationID)).json(&r)
		if !strings.Contains(r.Response, "Chat by token") {
			t.Errorf("chat by token = %+v", r)
		}
		var convs struct {
			Conversations []conversation `json:"conversations"`
			Data          []conversation `json:"data"`
		}
		as("GET", "/api/conversations", "").json(&convs)
		if len(convs.Conversations) != 1 || len(convs.Data) != 1 || convs.Conversations[0].ID != r.ConversationID {
			t.Errorf("conversations = %+v", convs)
		}
		var msgs struct {
			ConversationID *int64    `json:"conversation_id"`
			Messages       []message `json:"messages"`
			Data           []message `json:"data"`
		}
		as("GET", fmt.Sprintf("/api/conversations/%d/messages", r.ConversationID), "").json(&msgs)
		if msgs.ConversationID == nil || *msgs.ConversationID != r.ConversationID || len(msgs.Messages) != 4 || len(msgs.Data) != 4 {
			t.Errorf("messages = %+v", msgs)
		}
		var latest struct {
			ConversationID *int64    `json:"conversation_id"`
			Messages       []message `json:"messages"`
		}
		as("GET", "/api/conversations/latest", "").json(&latest)
		if latest.ConversationID == nil || *latest.ConversationID != r.ConversationID || len(latest.Messages) != 4 {
			t.Errorf("latest = %+v", latest)
		}
		if got := as("DELETE", "/api/conversations", ""); got.Code != http.StatusNoContent {
			t.Errorf("delete all = %d", got.Code)
		}
		as("GET", "/api/conversations/latest", "").json(&latest)
		if latest.ConversationID != nil || latest.Messages == nil || len(latest.Messages) != 0 {
			t.Errorf("latest after delete = %+v", latest)
		}
		if got := as("DELETE", fmt.Sprintf("/api/tasks/%d", tk.ID), ""); got.Code != http.StatusNoContent {
			t.Errorf("delete = %d", got.Code)
		}
	})
}

// Preflight allows every method the routes have.
func TestCORSMethods(t *testing.T) {
	h := newApp(t, map[string]string{"CORS_ORIGINS": "https://app.example.com"})
	for _, m := range []string{"PUT", "PATCH", "DELETE"} {
		res := do(t, h, "OPTIONS", "/api/u/tasks/1", nil, "Origin", "https://app.example.com", "Access-Control-Request-Method", m)
		if res.Code != http.StatusNoContent || !strings.Contains(res.Header().Get("Access-Control-Allow-Methods"), m) {
			t.Errorf("preflight %s: %d %v", m, res.Code, res.Header())
		}
	}
	res := do(t, h, "GET", "/api/u/tasks", nil, "Origin", "https://app.example.com")
	if !strings.Contains(res.Header().Get("Access-Control-Expose-Headers"), "Link") {
		t.Errorf("Link not exposed: %v", res.Header())
	}
	var raw json.RawMessage
	res.json(&raw)
}

// Priorities and due times on the task routes: set, shown (also as
// due_date), changed, cleared, filtered on and sorted by; bad values are
// refused and write nothing.
func TestTaskPriorityAndDue(t *testing.T) {
	eachStore(t, func(t *testing.T, env map[string]string) {
		h := newApp(t, env)
		tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format("2006-01-02")
		yesterday := time.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02")
		later := time.Now().UTC().Add(50 * time.Hour).Truncate(time.Second).Format(time.RFC3339)
		res, a, _ := taskReq(t, h, "POST", "/api/pd/tasks", `{"title":"Pay rent","priority":"HIGH","due_date":"`+tomorrow+`"}`)
		if res.Code != 201 || a.Priority == nil || *a.Priority != "high" || a.DueAt == nil || *a.DueAt != tomorrow || a.DueDate == nil || *a.DueDate != tomorrow || a.Overdue {
			t.Fatalf("created %d %+v", res.Code, a)
		}
		_, b, _ := taskReq(t, h, "POST", "/api/pd/tasks", `{"title":"Call mom","due_at":"`+later+`"}`)
		_, c, _ := taskReq(t, h, "POST", "/api/pd/tasks", `{"title":"Old bill","priority":"low","due_date":"`+yesterday+`"}`)
		_, d, _ := taskReq(t, h, "POST", "/api/pd/tasks", `{"title":"Someday"}`)
		if b.DueAt == nil || *b.DueAt != later || b.Priority != nil || !c.Overdue || d.DueAt != nil || d.Priority != nil {
			t.Errorf("created %+v / %+v / %+v", b, c, d)
		}
		ids := func(path string) []int64 {
			var ts []task
			getJSON(t, h, path, &ts)
			var out []int64
			for _, x := range ts {
				out = append(out, x.ID)
			}
			return out
		}
		for path, want := range map[string][]int64{
			"/api/pd/tasks?priority=high":                       {a.ID},
			"/api/pd/tasks?overdue=true":                        {c.ID},
			"/api/pd/tasks?due_before=" + tomorrow:              {c.ID},
			"/api/pd/tasks?sort=due":                            {c.ID, a.ID, b.ID, d.ID},
			"/api/pd/tasks?sort=priority":                       {a.ID, c.ID, b.ID, d.ID},
			"/api/pd/tasks?sort=due&limit=2":                    {c.ID, a.ID},
			"/api/pd/tasks?sort=due&before=" + fmt.Sprint(a.ID): {b.ID, d.ID},
		} {
			if got := ids(path); !slices.Equal(got, want) {
				t.Errorf("GET %s = %v, want %v", path, got, want)
			}
		}
		// Where it is already tomorrow, what is due today is overdue.
		today := time.Now().UTC().Format("2006-01-02")
		_, e, _ := taskReq(t, h, "POST", "/api/pd/tasks", `{"title":"Today's","due_date":"`+today+`"}`)
		if e.Overdue {
			t.Errorf("due today, overdue in UTC: %+v", e)
		}
		var ahead, behind []task
		getJSON(t, h, "/api/pd/tasks?overdue=true&time_zone=Pacific/Kiritimati", &ahead)
		getJSON(t, h, "/api/pd/tasks?overdue=true&time_zone=Pacific/Pago_Pago", &behind)
		if time.Now().UTC().Hour() >= 10 && !slices.ContainsFunc(ahead, func(x task) bool { return x.ID == e.ID }) {
			t.Errorf("at UTC+14 a task due today (UTC) is not overdue: %+v", ahead)
		}
		if slices.ContainsFunc(behind, func(x task) bool { return x.ID == e.ID }) {
			t.Errorf("at UTC-11 a task due today is overdue: %+v", behind)
		}
		// The shapes frontends and Python send: JavaScript's toISOString,
		// datetime-local, and a naive isoformat or str(), read in the
		// request's time zone.
		for in, want := range map[string]string{
			"2030-06-01T16:30:00.000Z":   "2030-06-01T16:30:00Z",
			"2030-06-01T18:30":           "2030-06-01T16:30:00Z",
			"2030-06-01T18:30:00.123456": "2030-06-01T16:30:00Z",
			"2030-06-01 18:30:00":        "2030-06-01T16:30:00Z",
		} {
			_, got, _ := taskReq(t, h, "POST", "/api/pdz/tasks", `{"title":"Shaped","due_date":"`+in+`"}`, "X-Time-Zone", "Europe/Paris")
			if got.DueAt == nil || *got.DueAt != want {
				t.Errorf("due_date %q in Paris = %v, want %s", in, got.DueAt, want)
			}
		}
		// Changing one leaves the other; null clears.
		_, got, _ := taskReq(t, h, "PATCH", fmt.Sprintf("/api/pd/tasks/%d", a.ID), `{"priority":"medium"}`)
		if got.Priority == nil || *got.Priority != "medium" || got.DueAt == nil || *got.DueAt != tomorrow {
			t.Errorf("after PATCH priority: %+v", got)
		}
		_, got, _ = taskReq(t, h, "PUT", fmt.Sprintf("/api/pd/tasks/%d", a.ID), `{"due_date":null,"priority":null}`)
		if got.Priority != nil || got.DueAt != nil || got.Title != "Pay rent" {
			t.Errorf("after clearing: %+v", got)
		}
		// Refused, with nothing written.
		for _, bad := range []struct{ method, path, body string }{
			{"POST", "/api/pd/tasks", `{"title":"X","priority":"urgent"}`},
			{"POST", "/api/pd/tasks", `{"title":"X","due_date":"next friday"}`},
			{"POST", "/api/pd/tasks", `{"title":"X","due_date":"2026-02-30"}`},
			{"POST", "/api/pd/tasks", `{"title":"X","priority":3}`},
			{"PATCH", fmt.Sprintf("/api/pd/tasks/%d", b.ID), `{"due_at":"soon"}`},
		} {
			res, _, e := taskReq(t, h, bad.method, bad.path, bad.body)
			if res.Code != 422 || e.Code != "invalid_input" {
				t.Errorf("%s %s %s = %d %+v", bad.method, bad.path, bad.body, res.Code, e)
			}
		}
		for _, bad := range []string{"/api/pd/tasks?priority=urgent", "/api/pd/tasks?due_before=soon", "/api/pd/tasks?overdue=maybe", "/api/pd/tasks?sort=colour", "/api/pd/tasks?time_zone=Mars/Olympus"} {
			if res := do(t, h, "GET", bad, nil); res.Code != 400 {
				t.Errorf("GET %s = %d", bad, res.Code)
			}
		}
		if res := do(t, h, "POST", "/api/pd/tasks", strings.NewReader(`{"title":"X"}`), "Content-Type", "application/json", "X-Time-Zone", "Not/AZone"); res.Code != 400 {
			t.Errorf("bad X-Time-Zone = %d", res.Code)
		}
		if ts := tasksOf(t, h, "pd", "all"); len(ts) != 5 {
			t.Errorf("%d tasks after the refusals", len(ts))
		}
		_, got, _ = taskReq(t, h, "GET", fmt.Sprintf("/api/pd/tasks/%d", b.ID), "")
		if got.DueAt == nil || *got.DueAt != later {
			t.Errorf("the refused PATCH changed it: %+v", got)
		}
	})
}

// TestChatTimeZone: a chat turn reads dates in the person's time zone, from
// the body's time_zone, else the X-Time-Zone header, else UTC; a bad header
// is refused with nothing written.
func TestChatTimeZone(t *testing.T) {
	eachStore(t, func(t *testing.T, env map[string]string) {
		h := newApp(t, env)
		// tomorrow in loc, read before and after the turn (a turn that
		// crosses midnight there may see either).
		tomorrow := func(loc string) []string {
			l, err := time.LoadLocation(loc)
			if err != nil {
				t.Fatal(err)
			}
			return []string{time.Now().In(l).AddDate(0, 0, 1).Format("2006-01-02")}
		}
		for _, tc := range []struct {
			user, body, header, zone string
		}{
			{"tz1", `{"message":"add pay rent due tomorrow","time_zone":"Pacific/Kiritimati"}`, "", "Pacific/Kiritimati"},
			{"tz2", `{"message":"add pay rent due tomorrow"}`, "Pacific/Pago_Pago", "Pacific/Pago_Pago"},
			{"tz3", `{"message":"add pay rent due tomorrow","time_zone":"Pacific/Pago_Pago"}`, "Pacific/Kiritimati", "Pacific/Pago_Pago"},
			{"tz4", `{"message":"add pay rent due tomorrow","time_zone":null}`, "", "UTC"},
		} {
			before := tomorrow(tc.zone)
			headers := []string{"Content-Type", "application/json"}
			if tc.header != "" {
				headers = append(headers, "X-Time-Zone", tc.header)
			}
			if res := do(t, h, "POST", "/api/"+tc.user+"/chat", jsonBody(tc.body), headers...); res.Code != 200 {
				t.Fatalf("%s: %d %s", tc.body, res.Code, res.Body)
			}
			want := append(before, tomorrow(tc.zone)...)
			ts := tasksOf(t, h, tc.user, "all")
			if len(ts) != 1 || ts[0].DueDate == nil || !slices.Contains(want, *ts[0].DueDate) {
				t.Errorf("%s (header %q): tasks %+v, want due %v", tc.body, tc.header, ts, want)
			}
		}
		res := do(t, h, "POST", "/api/tz5/chat", jsonBody(`{"message":"add pay rent due tomorrow"}`), "Content-Type", "application/json", "X-Time-Zone", strings.Repeat("Europe/", 40))
		var e errorBody
		res.json(&e)
		if res.Code != 400 || e.Code != "invalid_time_zone" || strings.Count(e.Detail, "Europe/") > 10 {
			t.Errorf("bad header: %d %+v", res.Code, e)
		}
		if ts := tasksOf(t, h, "tz5", "all"); len(ts) != 0 {
			t.Errorf("written after a refused time zone: %+v", ts)
		}
	})
}
