package taskchat_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

func TestHostileInput(t *testing.T) {
	eachStore(t, func(t *testing.T, env map[string]string) {
		h := newApp(t, env)

		// Odd paths and user ids: a clear 4xx, never a redirect or a 500.
		for _, p := range []string{
			"/api/../tasks", "/api/./tasks", "/api//tasks", "/api/u/../../health",
			"/api/%2F/tasks", "/api/a%00b/tasks", "/api/" + strings.Repeat("x", 5000) + "/tasks",
			"/api/u/conversations/99999999999999999999999", "/api/u/conversations/-1/messages",
		} {
			res := do(t, h, "GET", p, nil)
			if res.Code < 400 || res.Code > 499 {
				t.Errorf("GET %s = %d %s", p, res.Code, res.Body)
				continue
			}
			var e errorBody
			res.json(&e)
			if e.Detail == "" || e.Code == "" {
				t.Errorf("GET %s: no clear error: %s", p, res.Body)
			}
		}

		// Dot segments are refused sent encoded, too.
		for _, p := range []string{"/api/%2E%2E/tasks", "/api/%2e/tasks", "/api/%2e%2E/conversations", "/api/u/tasks/%2e%2e"} {
			if res := do(t, h, "GET", p, nil); res.Code != http.StatusBadRequest {
				t.Errorf("GET %s = %d %s", p, res.Code, res.Body)
			}
		}

		// SQL and markup are data: stored and returned verbatim.
		evil := `Robert'); DROP TABLE tasks;-- <script>alert(1)</script> \u0027 %s $1`
		r := chat(t, h, "evil", "Add a task to "+evil, nil)
		if len(r.ToolCalls) != 1 || !strings.Contains(r.Response, "Robert'); DROP TABLE tasks;--") {
			t.Fatalf("reply = %+v", r)
		}
		ts := tasksOf(t, h, "evil", "all")
		if len(ts) != 1 || ts[0].Title != "Robert'); DROP TABLE tasks;-- <script>alert(1)</script> \\u0027 %s $1" {
			t.Errorf("stored tasks = %+v", ts)
		}
		var page messagesPage
		getJSON(t, h, fmt.Sprintf("/api/evil/conversations/%d/messages", r.ConversationID), &page)
		if page.Messages[0].Content != "Add a task to "+evil {
			t.Errorf("stored message = %q", page.Messages[0].Content)
		}
		var convs conversationsPage
		getJSON(t, h, "/api/evil/conversations?limit=1", &convs)
		if !strings.Contains(convs.Conversations[0].Title, "DROP TABLE") {
			t.Errorf("title = %q", convs.Conversations[0].Title)
		}
		getJSON(t, h, "/api/evil/tasks?status="+url.QueryEscape("all"), &[]task{})
		if res := do(t, h, "GET", "/api/evil/tasks?status="+url.QueryEscape("all' OR '1'='1"), nil); res.Code != 400 {
			t.Errorf("injected status: %d", res.Code)
		}
		if res := do(t, h, "GET", "/api/evil/conversations?before="+url.QueryEscape("1 OR 1=1"), nil); res.Code != 400 {
			t.Errorf("injected cursor: %d", res.Code)
		}

		// Huge and odd numbers, and limits.
		for _, q := range []string{"limit=-1", "limit=1e9", "limit=9999999999999999999999", "limit=0x10", "before=0", "before=-5", "before=1.5"} {
			if res := do(t, h, "GET", "/api/evil/conversations?"+q, nil); res.Code != 400 {
				t.Errorf("?%s = %d", q, res.Code)
			}
		}
		if res := postChat(t, h, "evil", `{"message":"hi","conversation_id":0001}`); res.Code != 400 {
			t.Errorf("a number with leading zeros is not JSON: %d", res.Code)
		}
		for _, id := range []string{"1e400", "-0", "9223372036854775808", `"9223372036854775807"`, `"0x10"`, `"1 OR 1=1"`} {
			res := postChat(t, h, "evil", `{"message":"hi","conversation_id":`+id+`}`)
			if res.Code != 404 {
				t.Errorf("conversation_id %s = %d %s", id, res.Code, res.Body)
			}
		}
	})
}

// TestIsolationAudit acts as user B, with B's own valid token, on every data
// route against user A's conversation, messages and tasks, and checks that
// nothing leaks and nothing of A's changes.
func TestIsolationAudit(t *testing.T) {
	eachStore(t, func(t *testing.T, env map[string]string) {
		env["AUTH_SECRET"] = secret
		h := newApp(t, env)
		tok := func(u string) string {
			return signer{method: jwt.SigningMethodHS256, key: []byte(secret)}.sign(t, claimsFor(u))
		}
		as := func(u, method, path, body string) response {
			return do(t, h, method, path, strings.NewReader(body), "Content-Type", "application/json", "Authorization", "Bearer "+tok(u))
		}

		// A's world.
		res := as("alice", "POST", "/api/alice/chat", `{"message":"Add a task to see the doctor"}`)
		var first chatReply
		res.json(&first)
		as("alice", "POST", "/api/alice/chat", fmt.Sprintf(`{"message":"Add a task to call mom","conversation_id":%d}`, first.ConversationID))
		var tasks []task
		as("alice", "GET", "/api/alice/tasks", "").json(&tasks)
		taskID := tasks[0].ID
		snapshot := func() string {
			var b strings.Builder
			for _, p := range []string{"/api/alice/tasks", "/api/alice/conversations",
				fmt.Sprintf("/api/alice/conversations/%d", first.ConversationID),
				fmt.Sprintf("/api/alice/conversations/%d/messages", first.ConversationID)} {
				b.WriteString(as("alice", "GET", p, "").Body.String())
			}
			return b.String()
		}
		before := snapshot()

		conv := fmt.Sprint(first.ConversationID)
		fill := func(pattern, user string) string {
			return strings.NewReplacer("{user_id}", user, "{conversation_id}", conv, "{task_id}", fmt.Sprint(taskID)).Replace(pattern)
		}
		ops := map[string]bool{"GET /health": true, "GET /api/health": true, "GET /ready": true, "GET /{$}": true, "GET /openapi.json": true,
			"GET /.well-known/oauth-protected-resource": true, "GET /.well-known/oauth-protected-resource/mcp": true}
		covered := 0
		for _, pattern := range h.Routes() {
			if ops[pattern] || strings.Contains(pattern, "/auth/") {
				continue // not data routes; the account routes have their own tests
			}
			covered++
			method, path, _ := strings.Cut(pattern, " ")
			body := ""
			switch {
			case strings.HasSuffix(path, "/chat"):
				body = fmt.Sprintf(`{"message":"Show me all my tasks","conversation_id":%s}`, conv)
			case strings.HasSuffix(path, "/mcp"):
				body = fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"complete_task","arguments":{"task_id":%d}}}`, taskID)
			case method == "POST" || method == "PUT" || method == "PATCH":
				body = `{"title":"hacked","completed":true}`
			}
			if strings.Contains(path, "{user_id}") {
				// B's token on A's path: refused outright.
				if res := as("bob", method, fill(path, "alice"), body); res.Code != http.StatusForbidden {
					t.Errorf("bob %s on alice's path: %d %s", pattern, res.Code, res.Body)
				}
			}
			// B's own path (or B's token alone), naming A's conversation or
			// task: as if it did not exist.
			res := as("bob", method, fill(path, "bob"), body)
			var e errorBody
			switch {
			case strings.Contains(path, "{conversation_id}") || strings.HasSuffix(path, "/chat"):
				res.json(&e)
				if res.Code != http.StatusNotFound || e.Code != "conversation_not_found" {
					t.Errorf("bob %s with alice's conversation: %d %s", pattern, res.Code, res.Body)
				}
			case strings.Contains(path, "{task_id}"):
				res.json(&e)
				if res.Code != http.StatusNotFound || e.Code != "task_not_found" {
					t.Errorf("bob %s with alice's task: %d %s", pattern, res.Code, res.Body)
				}
			case strings.HasSuffix(path, "/mcp"):
				// The tools over MCP: alice's task is not found, an error
				// of the tool.
				if res.Code != http.StatusOK || !strings.Contains(res.Body.String(), `"isError":true`) || !strings.Contains(res.Body.String(), "not found") {
					t.Errorf("bob %s with alice's task: %d %s", pattern, res.Code, res.Body)
				}
			default:
				if res.Code >= 300 || strings.Contains(res.Body.String(), "doctor") || strings.Contains(res.Body.String(), "mom") {
					t.Errorf("bob %s leaks or fails: %d %s", pattern, res.Code, res.Body)
				}
			}
		}
		if covered < 28 {
			t.Errorf("audited %d data routes, want every one", covered)
		}
		// B's tools, given A's task id.
		for _, say := range []string{"mark task %d as done", "delete task %d", "rename task %d to hacked", "change the description of task %d to hacked"} {
			var r chatReply
			as("bob", "POST", "/api/bob/chat", fmt.Sprintf(`{"message":%q}`, fmt.Sprintf(say, taskID))).json(&r)
			if !strings.Contains(r.Response, "couldn't find") || strings.Contains(r.Response, "doctor") {
				t.Errorf("bob %q: %q", say, r.Response)
			}
		}
		var mine chatReply
		as("bob", "POST", "/api/bob/chat", `{"message":"Show me all my tasks"}`).json(&mine)
		if strings.Contains(mine.Response, "doctor") || strings.Contains(string(mine.ToolCalls[0].Result), "doctor") {
			t.Errorf("bob's list shows alice's tasks: %+v", mine)
		}
		if after := snapshot(); after != before {
			t.Errorf("alice's data changed:\nbefore %s\nafter  %s", before, after)
		}
	})
}
