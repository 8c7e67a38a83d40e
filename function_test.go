package taskchat_test

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/taskchat/taskchat"
	"github.com/taskchat/taskchat/internal/pgtest"
)

// eachStore runs fn against the in-memory store and against PostgreSQL (a
// fresh database), with the environment that selects each.
func eachStore(t *testing.T, fn func(t *testing.T, env map[string]string)) {
	t.Run("memory", func(t *testing.T) { fn(t, map[string]string{}) })
	t.Run("postgres", func(t *testing.T) {
		fn(t, map[string]string{"DATABASE_URL": pgtest.NewDatabase(t)})
	})
}

// newApp builds the application with exactly the variables in env set.
func newApp(t testing.TB, env map[string]string) *taskchat.App {
	t.Helper()
	return newAppWith(t, env, nil)
}

// newAppWith is newApp with its log also written to w.
func newAppWith(t testing.TB, env map[string]string, w io.Writer) *taskchat.App {
	t.Helper()
	var logs io.Writer = io.Discard
	if tt, ok := t.(*testing.T); ok {
		logs = zerolog.NewTestWriter(tt)
	}
	if w != nil {
		logs = io.MultiWriter(logs, w)
	}
	a := taskchat.New(func(k string) string { return env[k] }, logs)
	t.Cleanup(a.Close)
	return a
}

type response struct {
	*httptest.ResponseRecorder
	t testing.TB
}

// json decodes the body into v, failing the test if it is not JSON.
func (r response) json(v any) {
	r.t.Helper()
	if ct := r.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		r.t.Fatalf("Content-Type = %q, body %s", ct, r.Body)
	}
	if err := json.Unmarshal(r.Body.Bytes(), v); err != nil {
		r.t.Fatalf("body %q: %v", r.Body, err)
	}
}

// do sends one request through h; headers come as name, value pairs.
func do(t testing.TB, h http.Handler, method, path string, body io.Reader, headers ...string) response {
	t.Helper()
	req := httptest.NewRequest(method, path, body)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return response{rec, t}
}

type toolCall struct {
	Tool      string          `json:"tool"`
	Arguments json.RawMessage `json:"arguments"`
	Result    json.RawMessage `json:"result"`
}

type chatReply struct {
	ConversationID int64      `json:"conversation_id"`
	Response       string     `json:"response"`
	Agent          string     `json:"agent"`
	ToolCalls      []toolCall `json:"tool_calls"`
}

// chat sends a message and expects a 200; convID may be nil for a new conversation.
func chat(t testing.TB, h http.Handler, user, msg string, convID any) chatReply {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"message": msg, "conversation_id": convID})
	res := do(t, h, "POST", "/api/"+user+"/chat", bytes.NewReader(body), "Content-Type", "application/json")
	if res.Code != http.StatusOK {
		t.Fatalf("chat %q: %d %s", msg, res.Code, res.Body)
	}
	var r chatReply
	res.json(&r)
	if r.ToolCalls == nil {
		t.Fatalf("tool_calls missing or null: %s", res.Body)
	}
	return r
}

type errorBody struct {
	Detail string `json:"detail"`
	Code   string `json:"code"`
}

type message struct {
	ID        int64      `json:"id"`
	Role      string     `json:"role"`
	Content   string     `json:"content"`
	ToolCalls []toolCall `json:"tool_calls"`
	CreatedAt string     `json:"created_at"`
}

type conversation struct {
	ID           int64  `json:"id"`
	UserID       string `json:"user_id"`
	Title        string `json:"title"`
	MessageCount int    `json:"message_count"`
	CreatedAt    string `json:"created_at"`
	UpdatedAt    string `json:"updated_at"`
}

// messagesPage is a bare array of messages and the cursor of its Link header.
type messagesPage struct {
	Messages   []message
	NextBefore *int64
}

func (p *messagesPage) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, &p.Messages) }
func (p *messagesPage) setNext(n *int64)             { p.NextBefore = n }

// conversationsPage is a bare array of conversations and its Link cursor.
type conversationsPage struct {
	Conversations []conversation
	NextBefore    *int64
}

func (p *conversationsPage) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, &p.Conversations) }
func (p *conversationsPage) setNext(n *int64)             { p.NextBefore = n }

type task struct {
	ID          int64   `json:"id"`
	UserID      string  `json:"user_id"`
	Title       string  `json:"title"`
	Description *string `json:"description"`
	Completed   bool    `json:"completed"`
	Priority    *string `json:"priority"`
	DueAt       *string `json:"due_at"`
	DueDate     *string `json:"due_date"`
	Overdue     bool    `json:"overdue"`
	CreatedAt   string  `json:"created_at"`
	UpdatedAt   string  `json:"updated_at"`
}

// nextCursor reads the before= of a Link: <…>; rel="next" header, or nil.
func nextCursor(t testing.TB, h http.Header) *int64 {
	t.Helper()
	link := h.Get("Link")
	if link == "" {
		return nil
	}
	target, _, ok := strings.Cut(strings.TrimPrefix(link, "<"), `>; rel="next"`)
	u, err := url.Parse(target)
	if !ok || err != nil {
		t.Fatalf("Link header %q", link)
	}
	n, err := strconv.ParseInt(u.Query().Get("before"), 10, 64)
	if err != nil {
		t.Fatalf("Link header %q has no before", link)
	}
	return &n
}

// getJSON fetches path, expects a 200 and decodes it into v; a page type
// also gets its Link header's cursor.
func getJSON(t testing.TB, h http.Handler, path string, v any) {
	t.Helper()
	res := do(t, h, "GET", path, nil)
	if res.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, res.Code, res.Body)
	}
	res.json(v)
	if p, ok := v.(interface{ setNext(*int64) }); ok {
		p.setNext(nextCursor(t, res.Header()))
	}
}

// tasksOf lists a user's tasks, oldest first.
func tasksOf(t testing.TB, h http.Handler, user, status string) []task {
	t.Helper()
	var ts []task
	getJSON(t, h, "/api/"+user+"/tasks?status="+status, &ts)
	slices.SortFunc(ts, func(a, b task) int { return cmp.Compare(a.ID, b.ID) })
	return ts
}

func str(s string) *string { return &s }

func TestChatFlow(t *testing.T) {
	eachStore(t, func(t *testing.T, env map[string]string) {
		h := newApp(t, env)

		r := chat(t, h, "demo", "Add a task to buy groceries", nil)
		if r.Agent != "offline" || r.ConversationID <= 0 || len(r.ToolCalls) != 1 {
			t.Fatalf("first turn = %+v", r)
		}
		c := r.ToolCalls[0]
		var res struct {
			TaskID int64  `json:"task_id"`
			Status string `json:"status"`
			Title  string `json:"title"`
		}
		if err := json.Unmarshal(c.Result, &res); err != nil {
			t.Fatal(err)
		}
		if c.Tool != "add_task" || string(c.Arguments) != `{"title":"Buy groceries"}` || res.Status != "created" || res.Title != "Buy groceries" {
			t.Errorf("tool call = %s %s %s", c.Tool, c.Arguments, c.Result)
		}
		if r.Response != fmt.Sprintf("Added \"Buy groceries\" to your tasks (task %d).", res.TaskID) {
			t.Errorf("response = %q", r.Response)
		}

		// A digit string is accepted as the conversation id, as some frontends send it.
		r2 := chat(t, h, "demo", "Show me all my tasks", fmt.Sprint(r.ConversationID))
		if r2.ConversationID != r.ConversationID || len(r2.ToolCalls) != 1 || r2.ToolCalls[0].Tool != "list_tasks" ||
			!strings.Contains(string(r2.ToolCalls[0].Result), `"title":"Buy groceries"`) || !strings.Contains(r2.Response, "Buy groceries") {
			t.Fatalf("second turn = %+v", r2)
		}
		r3 := chat(t, h, "demo", fmt.Sprintf("mark task %d as done", res.TaskID), r.ConversationID)
		if len(r3.ToolCalls) != 1 || r3.ToolCalls[0].Tool != "complete_task" {
			t.Fatalf("third turn = %+v", r3)
		}

		var page messagesPage
		getJSON(t, h, fmt.Sprintf("/api/demo/conversations/%d/messages", r.ConversationID), &page)
		want := []struct{ role, content string }{
			{"user", "Add a task to buy groceries"}, {"assistant", r.Response},
			{"user", "Show me all my tasks"}, {"assistant", r2.Response},
			{"user", fmt.Sprintf("mark task %d as done", res.TaskID)}, {"assistant", r3.Response},
		}
		if len(page.Messages) != len(want) || page.NextBefore != nil {
			t.Fatalf("messages page = %+v", page)
		}
		for i, m := range page.Messages {
			if m.Role != want[i].role || m.Content != want[i].content || m.ToolCalls == nil {
				t.Errorf("message %d = %+v, want %+v", i, m, want[i])
			}
			if i > 0 && m.ID <= page.Messages[i-1].ID {
				t.Errorf("messages not oldest first: %d after %d", m.ID, page.Messages[i-1].ID)
			}
		}
		if got := page.Messages[1].ToolCalls; len(got) != 1 || got[0].Tool != "add_task" {
			t.Errorf("stored tool calls = %+v", got)
		}

		var one struct {
			Conversation conversation `json:"conversation"`
			Messages     []message    `json:"messages"`
			NextBefore   *int64       `json:"next_before"`
		}
		getJSON(t, h, fmt.Sprintf("/api/demo/conversations/%d", r.ConversationID), &one)
		if one.Conversation.Title != "Add a task to buy groceries" || one.Conversation.MessageCount != 6 || len(one.Messages) != 6 {
			t.Errorf("conversation = %+v", one)
		}
		var list conversationsPage
		getJSON(t, h, "/api/demo/conversations", &list)
		if len(list.Conversations) != 1 || list.Conversations[0].ID != r.ConversationID || list.NextBefore != nil {
			t.Errorf("conversations = %+v", list)
		}
		if ts := tasksOf(t, h, "demo", "completed"); len(ts) != 1 || ts[0].Title != "Buy groceries" || !ts[0].Completed {
			t.Errorf("completed tasks = %+v", ts)
		}
		if ts := tasksOf(t, h, "demo", "pending"); len(ts) != 0 {
			t.Errorf("pending tasks = %+v", ts)
		}

		if res := do(t, h, "DELETE", fmt.Sprintf("/api/demo/conversations/%d", r.ConversationID), nil); res.Code != http.StatusNoContent || res.Body.Len() != 0 {
			t.Fatalf("delete: %d %s", res.Code, res.Body)
		}
		if res := do(t, h, "GET", fmt.Sprintf("/api/demo/conversations/%d/messages", r.ConversationID), nil); res.Code != http.StatusNotFound {
			t.Errorf("messages after delete: %d", res.Code)
		}
		if ts := tasksOf(t, h, "demo", "all"); len(ts) != 1 {
			t.Errorf("deleting a conversation must keep the tasks: %+v", ts)
		}
	})
}

func TestHistoryPaging(t *testing.T) {
	eachStore(t, func(t *testing.T, env map[string]string) {
		h := newApp(t, env)
		first := chat(t, h, "pager", "hello", nil)
		for i := range 11 {
			chat(t, h, "pager", fmt.Sprintf("add task number %d", i), first.ConversationID)
		}
		// 12 turns: 24 messages. Walk them back five at a time.
		var all []message
		path := fmt.Sprintf("/api/pager/conversations/%d/messages?limit=5", first.ConversationID)
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("paging does not end")
			}
			var p messagesPage
			getJSON(t, h, path, &p)
			if len(p.Messages) > 5 {
				t.Fatalf("page of %d", len(p.Messages))
			}
			for i := 1; i < len(p.Messages); i++ {
				if p.Messages[i].ID <= p.Messages[i-1].ID {
					t.Fatal("page not oldest first")
				}
			}
			all = append(p.Messages, all...)
			if p.NextBefore == nil {
				break
			}
			if *p.NextBefore != p.Messages[0].ID {
				t.Errorf("next_before = %d, want the oldest id on the page %d", *p.NextBefore, p.Messages[0].ID)
			}
			path = fmt.Sprintf("/api/pager/conversations/%d/messages?limit=5&before=%d", first.ConversationID, *p.NextBefore)
		}
		if len(all) != 24 || all[0].Content != "hello" || all[23].Role != "assistant" {
			t.Fatalf("walked %d messages, first %+v", len(all), all[0])
		}
		for i := 1; i < len(all); i++ {
			if all[i].ID <= all[i-1].ID {
				t.Fatalf("history out of order at %d", i)
			}
		}

		// Conversations: five, most recently active first, two a page.
		var ids []int64
		for i := range 5 {
			ids = append(ids, chat(t, h, "lister", fmt.Sprintf("conversation %d", i), nil).ConversationID)
		}
		chat(t, h, "lister", "bump", ids[1])
		want := []int64{ids[1], ids[4], ids[3], ids[2], ids[0]}
		var got []int64
		path = "/api/lister/conversations?limit=2"
		for range 5 {
			var p conversationsPage
			getJSON(t, h, path, &p)
			for _, c := range p.Conversations {
				got = append(got, c.ID)
			}
			if p.NextBefore == nil {
				break
			}
			path = fmt.Sprintf("/api/lister/conversations?limit=2&before=%d", *p.NextBefore)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("conversations paged as %v, want %v", got, want)
		}
	})
}

func TestUserIsolation(t *testing.T) {
	eachStore(t, func(t *testing.T, env map[string]string) {
		h := newApp(t, env)
		a := chat(t, h, "alice", "Add a task to buy groceries", nil)
		convPath := fmt.Sprintf("/api/bob/conversations/%d", a.ConversationID)

		for _, tc := range []struct{ method, path, body string }{
			{"GET", convPath, ""},
			{"GET", convPath + "/messages", ""},
			{"DELETE", convPath, ""},
			{"POST", "/api/bob/chat", fmt.Sprintf(`{"message":"Show me all my tasks","conversation_id":%d}`, a.ConversationID)},
		} {
			res := do(t, h, tc.method, tc.path, strings.NewReader(tc.body), "Content-Type", "application/json")
			var e errorBody
			res.json(&e)
			if res.Code != http.StatusNotFound || e.Code != "conversation_not_found" {
				t.Errorf("bob %s %s: %d %+v", tc.method, tc.path, res.Code, e)
			}
		}
		// The same 404 as for an id that does not exist at all.
		missing := do(t, h, "GET", "/api/bob/conversations/999999", nil)
		foreign := do(t, h, "GET", convPath, nil)
		if missing.Code != foreign.Code || missing.Body.String() != foreign.Body.String() {
			t.Errorf("foreign and missing differ: %s vs %s", foreign.Body, missing.Body)
		}

		var bobs conversationsPage
		getJSON(t, h, "/api/bob/conversations", &bobs)
		if len(bobs.Conversations) != 0 {
			t.Errorf("bob sees conversations %+v", bobs)
		}
		if ts := tasksOf(t, h, "bob", "all"); len(ts) != 0 {
			t.Errorf("bob sees tasks %+v", ts)
		}
		var alices messagesPage
		getJSON(t, h, fmt.Sprintf("/api/alice/conversations/%d/messages", a.ConversationID), &alices)
		if len(alices.Messages) != 2 {
			t.Errorf("alice's conversation changed: %+v", alices.Messages)
		}
		// Bob's tools cannot touch Alice's task either.
		taskID := tasksOf(t, h, "alice", "all")[0].ID
		for _, say := range []string{"mark task %d as done", "delete task %d", "rename task %d to hacked"} {
			r := chat(t, h, "bob", fmt.Sprintf(say, taskID), nil)
			if !strings.Contains(r.Response, "couldn't find") {
				t.Errorf("bob %q: %q", say, r.Response)
			}
		}
		if ts := tasksOf(t, h, "alice", "all"); len(ts) != 1 || ts[0].Completed || ts[0].Title != "Buy groceries" {
			t.Errorf("alice's task changed: %+v", ts)
		}
	})
}

func TestBadInput(t *testing.T) {
	eachStore(t, func(t *testing.T, env map[string]string) {
		h := newApp(t, env)
		long := strings.Repeat("x", 4001)
		deep := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
		for i, tc := range []struct {
			name, method, path, ctype, body string
			status                          int
			code                            string
		}{
			{"malformed JSON", "POST", "chat", "application/json", `{"message":`, 400, "invalid_json"},
			{"not an object", "POST", "chat", "application/json", `["hi"]`, 400, "invalid_json"},
			{"two objects", "POST", "chat", "application/json", `{"message":"hi"} {"message":"again"}`, 400, "invalid_json"},
			{"deep nesting", "POST", "chat", "application/json", `{"message":` + deep + `}`, 400, "invalid_json"},
			{"wrong content type", "POST", "chat", "text/plain", `{"message":"hi"}`, 415, "unsupported_media_type"},
			{"no content type", "POST", "chat", "", `{"message":"hi"}`, 415, "unsupported_media_type"},
			{"form post", "POST", "chat", "application/x-www-form-urlencoded", `message=hi`, 415, "unsupported_media_type"},
			{"missing message", "POST", "chat", "application/json", `{"conversation_id":null}`, 422, "invalid_input"},
			{"null message", "POST", "chat", "application/json", `{"message":null}`, 422, "invalid_input"},
			{"number message", "POST", "chat", "application/json", `{"message":42}`, 422, "invalid_input"},
			{"empty message", "POST", "chat", "application/json", `{"message":""}`, 422, "invalid_input"},
			{"blank message", "POST", "chat", "application/json", `{"message":"  \n\t "}`, 422, "invalid_input"},
			{"too long", "POST", "chat", "application/json", `{"message":"` + long + `"}`, 422, "invalid_input"},
			{"NUL byte", "POST", "chat", "application/json", `{"message":"a\u0000b"}`, 422, "invalid_input"},
			{"invalid UTF-8", "POST", "chat", "application/json", "{\"message\":\"caf\xe9\"}", 400, "invalid_utf8"},
			{"oversized body", "POST", "chat", "application/json", `{"message":"hi","pad":"` + strings.Repeat("a", 70<<10) + `"}`, 413, "body_too_large"},
			{"UUID conversation", "POST", "chat", "application/json", `{"message":"hi","conversation_id":"3fa85f64-5717-4562-b3fc-2c963f66afa6"}`, 404, "conversation_not_found"},
			{"unknown conversation", "POST", "chat", "application/json", `{"message":"hi","conversation_id":987654}`, 404, "conversation_not_found"},
			{"negative conversation", "POST", "chat", "application/json", `{"message":"hi","conversation_id":-1}`, 404, "conversation_not_found"},
			{"fractional conversation", "POST", "chat", "application/json", `{"message":"hi","conversation_id":1.5}`, 404, "conversation_not_found"},
			{"huge conversation", "POST", "chat", "application/json", `{"message":"hi","conversation_id":1e400}`, 404, "conversation_not_found"},
			{"boolean conversation", "POST", "chat", "application/json", `{"message":"hi","conversation_id":true}`, 422, "invalid_input"},
			{"object conversation", "POST", "chat", "application/json", `{"message":"hi","conversation_id":{}}`, 422, "invalid_input"},
			{"limit zero", "GET", "conversations?limit=0", "", "", 400, "invalid_limit"},
			{"limit over", "GET", "conversations?limit=101", "", "", 400, "invalid_limit"},
			{"limit negative", "GET", "conversations?limit=-1", "", "", 400, "invalid_limit"},
			{"limit float", "GET", "conversations?limit=1e9", "", "", 400, "invalid_limit"},
			{"limit empty", "GET", "conversations?limit=", "", "", 400, "invalid_limit"},
			{"before text", "GET", "conversations?before=abc", "", "", 400, "invalid_before"},
			{"messages limit", "GET", "conversations/1/messages?limit=500", "", "", 400, "invalid_limit"},
			{"path conversation", "GET", "conversations/abc", "", "", 404, "conversation_not_found"},
			{"delete path conversation", "DELETE", "conversations/abc", "", "", 404, "conversation_not_found"},
			{"task status", "GET", "tasks?status=done", "", "", 400, "invalid_status"},
			{"unknown time zone", "POST", "chat", "application/json", `{"message":"add pay rent due tomorrow","time_zone":"Mars/Olympus"}`, 400, "invalid_time_zone"},
			{"local time zone", "POST", "chat", "application/json", `{"message":"add pay rent due tomorrow","time_zone":"Local"}`, 400, "invalid_time_zone"},
			{"number time zone", "POST", "chat", "application/json", `{"message":"add pay rent due tomorrow","time_zone":9}`, 422, "invalid_input"},
			{"query time zone", "POST", "chat?time_zone=UTC%2B3", "application/json", `{"message":"add pay rent due tomorrow"}`, 400, "invalid_time_zone"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				user := fmt.Sprintf("bad%d", i)
				res := do(t, h, tc.method, "/api/"+user+"/"+tc.path, strings.NewReader(tc.body), "Content-Type", tc.ctype)
				var e errorBody
				res.json(&e)
				if res.Code != tc.status || e.Code != tc.code || len(e.Detail) < 10 {
					t.Errorf("%d %+v, want %d %s with a clear detail", res.Code, e, tc.status, tc.code)
				}
				var convs conversationsPage
				getJSON(t, h, "/api/"+user+"/conversations", &convs)
				if len(convs.Conversations) != 0 || len(tasksOf(t, h, user, "all")) != 0 {
					t.Errorf("something was stored: %+v", convs)
				}
			})
		}

		// The limits themselves are allowed.
		chat(t, h, "edge", strings.Repeat("y", 4000), nil)
		chat(t, h, "edge", "  "+strings.Repeat("é", 4000)+"  ", nil)
		getJSON(t, h, "/api/edge/conversations?limit=100", &conversationsPage{})
		getJSON(t, h, "/api/edge/conversations?limit=1", &conversationsPage{})
	})
}

func TestBadUserID(t *testing.T) {
	h := newApp(t, nil)
	for _, path := range []string{
		"/api/bad$user/tasks",
		"/api/" + strings.Repeat("a", 129) + "/tasks",
		"/api/%2Fetc%2Fpasswd/tasks",
		"/api/white%20space/chat",
		"/api/%00/conversations",
	} {
		method := "GET"
		if strings.HasSuffix(path, "chat") {
			method = "POST"
		}
		res := do(t, h, method, path, strings.NewReader(`{"message":"add a task to x"}`), "Content-Type", "application/json")
		var e errorBody
		res.json(&e)
		if res.Code != http.StatusBadRequest || e.Code != "invalid_user_id" {
			t.Errorf("%s: %d %+v", path, res.Code, e)
		}
	}
	// Every allowed character, at the maximum length.
	ok := strings.Repeat("Az09._@:-", 15)[:128]
	chat(t, h, ok, "add a task to test ids", nil)
	if ts := tasksOf(t, h, ok, "all"); len(ts) != 1 {
		t.Errorf("tasks of %s: %+v", ok, ts)
	}
}

type health struct {
	Status   string   `json:"status"`
	Store    string   `json:"store"`
	Database string   `json:"database"`
	Agent    string   `json:"agent"`
	Auth     string   `json:"auth"`
	Version  string   `json:"version"`
	Problems []string `json:"problems"`
}

func TestDegradation(t *testing.T) {
	t.Run("nothing set", func(t *testing.T) {
		h := newApp(t, nil)
		var hl health
		getJSON(t, h, "/health", &hl)
		if hl.Status != "degraded" || hl.Store != "memory" || hl.Database != "none" || hl.Agent != "offline" || hl.Auth != "off" || hl.Version == "" {
			t.Errorf("health = %+v", hl)
		}
		joined := strings.Join(hl.Problems, "\n")
		for _, want := range []string{"DATABASE_URL", "offline agent", "auth is off"} {
			if !strings.Contains(joined, want) {
				t.Errorf("problems %q lack %q", hl.Problems, want)
			}
		}
		if res := do(t, h, "GET", "/ready", nil); res.Code != http.StatusOK {
			t.Errorf("/ready = %d", res.Code)
		}
		chat(t, h, "u", "add a task to work without configuration", nil)
	})

	t.Run("invalid values", func(t *testing.T) {
		h := newApp(t, map[string]string{
			"HISTORY_WINDOW": "abc", "MAX_MESSAGE_CHARS": "-5", "LOG_LEVEL": "loud",
			"CORS_ORIGINS": "not a url", "PORT": "99999", "LLM_TIMEOUT": "soon",
		})
		var hl health
		getJSON(t, h, "/health", &hl)
		joined := strings.Join(hl.Problems, "\n")
		if hl.Status != "misconfigured" {
			t.Errorf("status = %q", hl.Status)
		}
		for _, name := range []string{"HISTORY_WINDOW", "MAX_MESSAGE_CHARS", "LOG_LEVEL", "CORS_ORIGINS", "PORT", "LLM_TIMEOUT"} {
			if !strings.Contains(joined, name) {
				t.Errorf("problems %q do not name %s", hl.Problems, name)
			}
		}
		for _, value := range []string{"abc", "-5", "loud", "not a url", "99999", "soon"} {
			if strings.Contains(joined, value) {
				t.Errorf("problems %q show the value %q", hl.Problems, value)
			}
		}
		for _, tc := range []struct{ method, path string }{
			{"POST", "/api/u/chat"}, {"GET", "/api/u/conversations"}, {"GET", "/api/u/tasks"},
		} {
			res := do(t, h, tc.method, tc.path, strings.NewReader(`{"message":"hi"}`), "Content-Type", "application/json")
			var e errorBody
			res.json(&e)
			if res.Code != http.StatusServiceUnavailable || e.Code != "misconfigured" || res.Header().Get("Retry-After") == "" {
				t.Errorf("%s %s: %d %+v", tc.method, tc.path, res.Code, e)
			}
		}
		if res := do(t, h, "GET", "/ready", nil); res.Code != http.StatusServiceUnavailable {
			t.Errorf("/ready = %d", res.Code)
		}
		if res := do(t, h, "GET", "/", nil); res.Code != http.StatusOK {
			t.Errorf("/ = %d", res.Code)
		}
	})

	t.Run("aliases", func(t *testing.T) {
		h := newApp(t, map[string]string{"FRONTEND_URL": "https://app.example.com/", "HISTORY_WINDOW": " "})
		res := do(t, h, "GET", "/health", nil, "Origin", "https://app.example.com")
		if got := res.Header().Get("Access-Control-Allow-Origin"); got != "https://app.example.com" {
			t.Errorf("FRONTEND_URL alias: allow-origin %q", got)
		}
		var hl health
		res.json(&hl)
		if hl.Status != "degraded" {
			t.Errorf("a blank variable must mean the default: %+v", hl)
		}
	})

	t.Run("weak auth secret", func(t *testing.T) {
		h := newApp(t, map[string]string{"JWT_SECRET": "short"})
		var hl health
		getJSON(t, h, "/health", &hl)
		if hl.Status != "misconfigured" || !strings.Contains(strings.Join(hl.Problems, " "), "JWT_SECRET") {
			t.Errorf("health = %+v", hl)
		}
	})
}

func TestOperationalRoutes(t *testing.T) {
	h := newApp(t, nil)
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/health", 200}, {"HEAD", "/health", 200}, {"GET", "/api/health", 200},
		{"GET", "/health/", 200}, {"GET", "/ready", 200}, {"GET", "/", 200}, {"HEAD", "/", 200},
		{"GET", "/api/u/tasks/", 200}, {"GET", "/api/u/conversations/", 200},
	} {
		res := do(t, h, tc.method, tc.path, nil)
		if res.Code != tc.status {
			t.Errorf("%s %s = %d %s", tc.method, tc.path, res.Code, res.Body)
		}
		if tc.method == "HEAD" && res.Body.Len() != 0 {
			t.Errorf("HEAD %s has a body", tc.path)
		}
	}

	res := do(t, h, "GET", "/nowhere", nil)
	var e errorBody
	res.json(&e)
	if res.Code != 404 || e.Code != "not_found" {
		t.Errorf("unknown path: %d %+v", res.Code, e)
	}
	res = do(t, h, "GET", "/healthz", nil)
	if res.Code != 404 {
		t.Errorf("/healthz = %d; no route may end in z", res.Code)
	}
	res = do(t, h, "PUT", "/api/u/chat", nil)
	res.json(&e)
	if res.Code != 405 || e.Code != "method_not_allowed" || res.Header().Get("Allow") != "POST" {
		t.Errorf("wrong method: %d %+v Allow=%q", res.Code, e, res.Header().Get("Allow"))
	}
	res = do(t, h, "POST", "/health", nil)
	if res.Code != 405 || !strings.Contains(res.Header().Get("Allow"), "GET") {
		t.Errorf("POST /health: %d Allow=%q", res.Code, res.Header().Get("Allow"))
	}

	res = do(t, h, "GET", "/health", nil, "X-Request-ID", "abc-123")
	if got := res.Header().Get("X-Request-ID"); got != "abc-123" {
		t.Errorf("request id not echoed: %q", got)
	}
	res = do(t, h, "GET", "/health", nil, "X-Request-ID", "bad id\twith <junk>")
	if got := res.Header().Get("X-Request-ID"); len(got) != 32 {
		t.Errorf("bad request id not replaced: %q", got)
	}
	a, b := do(t, h, "GET", "/nowhere", nil), do(t, h, "GET", "/nowhere", nil)
	if a.Header().Get("X-Request-ID") == b.Header().Get("X-Request-ID") {
		t.Error("request ids repeat")
	}
}

// syncBuffer collects log output written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRequestLog(t *testing.T) {
	var logs syncBuffer
	a := taskchat.New(func(string) string { return "" }, &logs)
	t.Cleanup(a.Close)
	start := strings.Count(logs.String(), "\n")
	chat(t, a, "logger", "Add a task to buy secret groceries", nil)

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")[start:]
	if len(lines) != 1 {
		t.Fatalf("want one log line for one request, got %d:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &line); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{"method": "POST", "route": "POST /api/{user_id}/chat", "status": float64(200), "user_id": "logger"} {
		if line[k] != v {
			t.Errorf("log %s = %v, want %v", k, line[k], v)
		}
	}
	if line["request_id"] == nil || line["duration_ms"] == nil {
		t.Errorf("log lacks request_id or duration: %v", line)
	}
	if strings.Contains(logs.String(), "secret") {
		t.Error("the log holds message text")
	}
}

func TestCORS(t *testing.T) {
	preflight := func(h http.Handler, origin string) response {
		return do(t, h, "OPTIONS", "/api/u/chat", nil, "Origin", origin,
			"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type, authorization")
	}
	t.Run("off by default", func(t *testing.T) {
		h := newApp(t, nil)
		res := preflight(h, "https://evil.example")
		if res.Header().Get("Access-Control-Allow-Origin") != "" || res.Header().Get("Access-Control-Allow-Methods") != "" {
			t.Errorf("preflight allowed: %v", res.Header())
		}
		if res := do(t, h, "GET", "/api/u/tasks", nil, "Origin", "https://evil.example"); res.Header().Get("Access-Control-Allow-Origin") != "" {
			t.Error("cross-origin read allowed")
		}
	})
	t.Run("list with wildcard", func(t *testing.T) {
		h := newApp(t, map[string]string{"CORS_ORIGINS": `["https://app.example.com", "https://*.vercel.app"]`})
		for origin, allowed := range map[string]bool{
			"https://app.example.com":      true,
			"https://my-app.vercel.app":    true,
			"https://a.b.vercel.app":       true,
			"https://vercel.app":           false,
			"https://evilvercel.app":       false,
			"http://my-app.vercel.app":     false,
			"https://app.example.com.evil": false,
			"https://other.example.com":    false,
		} {
			res := preflight(h, origin)
			got := res.Header().Get("Access-Control-Allow-Origin")
			if allowed != (got == origin) || res.Code != http.StatusNoContent {
				t.Errorf("%s: %d allow-origin %q, want allowed=%v", origin, res.Code, got, allowed)
			}
			if allowed && (res.Header().Get("Access-Control-Allow-Credentials") != "true" ||
				!strings.Contains(res.Header().Get("Access-Control-Allow-Methods"), "POST") ||
				!strings.Contains(res.Header().Get("Access-Control-Allow-Headers"), "Authorization")) {
				t.Errorf("%s: incomplete preflight answer %v", origin, res.Header())
			}
		}
		res := do(t, h, "GET", "/api/u/tasks", nil, "Origin", "https://my-app.vercel.app")
		if res.Header().Get("Access-Control-Allow-Origin") != "https://my-app.vercel.app" || !strings.Contains(res.Header().Get("Vary"), "Origin") {
			t.Errorf("simple request: %v", res.Header())
		}
	})
	t.Run("any origin never with credentials", func(t *testing.T) {
		h := newApp(t, map[string]string{"ALLOWED_ORIGINS": "*"})
		res := preflight(h, "https://anywhere.example")
		if res.Header().Get("Access-Control-Allow-Origin") != "*" || res.Header().Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("wildcard: %v", res.Header())
		}
	})
}

// TestHandler goes through the exported function-platform entry point: it
// builds the application once from the process environment, so state made
// by one call is there for the next.
func TestHandler(t *testing.T) {
	h := http.HandlerFunc(taskchat.Handler)
	if res := do(t, h, "GET", "/health", nil); res.Code != 200 {
		t.Fatalf("/health = %d", res.Code)
	}
	r := chat(t, h, "handler-user", "Add a task to test the entry point", nil)
	var page messagesPage
	getJSON(t, h, fmt.Sprintf("/api/handler-user/conversations/%d/messages", r.ConversationID), &page)
	if len(page.Messages) != 2 {
		t.Errorf("a second call did not see the first's conversation: %+v", page)
	}
}
