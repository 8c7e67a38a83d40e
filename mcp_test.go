package taskchat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/taskchat/taskchat/internal/agent"
)

// headerTransport adds headers to every request an MCP client sends.
type headerTransport map[string]string

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range h {
		r.Header.Set(k, v)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// mcpSession connects the SDK's own client to endpoint, with headers.
func mcpSession(t *testing.T, endpoint string, headers map[string]string) (*mcp.ClientSession, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "taskchat-test", Version: "1"}, nil)
	s, err := client.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint: endpoint, HTTPClient: &http.Client{Transport: headerTransport(headers)}, MaxRetries: -1,
	}, nil)
	if err == nil {
		t.Cleanup(func() { _ = s.Close() })
	}
	return s, err
}

// callTool calls a tool and returns its text (the tool's JSON result) and
// whether it was a tool error.
func callTool(t *testing.T, s *mcp.ClientSession, name string, args any) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(res.Content) != 1 {
		t.Fatalf("%s: %d content items", name, len(res.Content))
	}
	text, ok := res.Content[0].(*mcp.TextContent)
	if !ok {
		t.Fatalf("%s: content %T", name, res.Content[0])
	}
	return text.Text, res.IsError
}

// sameJSON reports whether a and b hold the same JSON value.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("not JSON: %s", a)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("not JSON: %s", b)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

// TestMCPTools: the SDK's client lists the five tools, with the chat's
// names, descriptions and schemas, and calls each; the tasks are the
// chat's and the task API's, and another user's are not found.
func TestMCPTools(t *testing.T) {
	eachStore(t, func(t *testing.T, env map[string]string) {
		h := newApp(t, env)
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		s, err := mcpSession(t, srv.URL+"/api/ana/mcp", map[string]string{"X-Time-Zone": "Pacific/Kiritimati"})
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		if info := s.InitializeResult(); info.ServerInfo.Name != "taskchat" || info.Capabilities.Tools == nil || info.Instructions == "" {
			t.Errorf("initialize: %+v", info)
		}

		ctx := context.Background()
		list, err := s.ListTools(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		specs := agent.Specs()
		if len(list.Tools) != len(specs) {
			t.Fatalf("%d tools listed, want %d", len(list.Tools), len(specs))
		}
		for _, spec := range specs {
			i := slices.IndexFunc(list.Tools, func(tl *mcp.Tool) bool { return tl.Name == spec.Name })
			if i < 0 {
				t.Errorf("%s not listed", spec.Name)
				continue
			}
			schema, _ := json.Marshal(list.Tools[i].InputSchema)
			if list.Tools[i].Description != spec.Description || !sameJSON(t, schema, spec.InputSchema) {
				t.Errorf("%s listed as %q %s, want the chat's %q %s", spec.Name, list.Tools[i].Description, schema, spec.Description, spec.InputSchema)
			}
			if strings.Contains(string(schema), "user_id") {
				t.Errorf("%s's schema names user_id: %s", spec.Name, schema)
			}
		}

		// Each tool, and its result as the chat's tools give it.
		kiritimati := mustZone(t, "Pacific/Kiritimati")
		before := time.Now().In(kiritimati).AddDate(0, 0, 1).Format("2006-01-02")
		added, failed := callTool(t, s, "add_task", map[string]any{"title": "Buy milk", "priority": "high", "due_date": "tomorrow"})
		after := time.Now().In(kiritimati).AddDate(0, 0, 1).Format("2006-01-02")
		var a struct {
			TaskID int64  `json:"task_id"`
			Status string `json:"status"`
			DueAt  string `json:"due_at"`
		}
		if json.Unmarshal([]byte(added), &a); failed || a.Status != "created" || a.TaskID == 0 {
			t.Fatalf("add_task: %s (error %v)", added, failed)
		}
		if a.DueAt != before && a.DueAt != after {
			t.Errorf("tomorrow read as %s, not in the connection's time zone (%s)", a.DueAt, after)
		}
		callTool(t, s, "add_task", map[string]any{"title": "Walk the dog"})
		ts := tasksOf(t, h, "ana", "all")
		if len(ts) != 2 || ts[0].Title != "Buy milk" || ts[0].Priority == nil || *ts[0].Priority != "high" {
			t.Fatalf("the task API sees %+v", ts)
		}
		listed, failed := callTool(t, s, "list_tasks", map[string]any{"status": "pending"})
		reply := chat(t, h, "ana", "what's pending?", nil)
		if failed || len(reply.ToolCalls) != 1 || reply.ToolCalls[0].Tool != "list_tasks" || !sameJSON(t, []byte(listed), reply.ToolCalls[0].Result) {
			t.Errorf("list_tasks over MCP = %s; the chat's = %+v", listed, reply.ToolCalls)
		}
		id := map[string]any{"task_id": a.TaskID}
		if out, failed := callTool(t, s, "update_task", map[string]any{"task_id": a.TaskID, "title": "Buy oat milk", "priority": "none"}); failed || !strings.Contains(out, `"status":"updated"`) {
			t.Errorf("update_task: %s", out)
		}
		if out, failed := callTool(t, s, "complete_task", id); failed || !strings.Contains(out, `"status":"completed"`) {
			t.Errorf("complete_task: %s", out)
		}
		if got := tasksOf(t, h, "ana", "all")[0]; got.Title != "Buy oat milk" || !got.Completed || got.Priority != nil {
			t.Errorf("after update and complete: %+v", got)
		}

		// Another user's task is not found, and stays as it is.
		bob, err := mcpSession(t, srv.URL+"/api/bob/mcp", nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"delete_task", "update_task", "complete_task"} {
			args := map[string]any{"task_id": a.TaskID, "title": "Mine now"}
			if name != "update_task" {
				args = id
			}
			if out, failed := callTool(t, bob, name, args); !failed || !strings.Contains(out, "not found") {
				t.Errorf("bob's %s of ana's task: %s (error %v)", name, out, failed)
			}
		}
		if out, _ := callTool(t, bob, "list_tasks", nil); out != "[]" {
			t.Errorf("bob lists %s", out)
		}

		// Tool errors are results with isError; an unknown tool is the
		// protocol's error.
		if out, failed := callTool(t, s, "add_task", map[string]any{"title": "  "}); !failed || !strings.Contains(out, "error") {
			t.Errorf("an empty title: %s (error %v)", out, failed)
		}
		if out, failed := callTool(t, s, "add_task", map[string]any{"title": "X", "due_date": "yesterday"}); !failed || !strings.Contains(out, "past") {
			t.Errorf("a past due date: %s (error %v)", out, failed)
		}
		if _, err := s.CallTool(ctx, &mcp.CallToolParams{Name: "drop_tables", Arguments: map[string]any{}}); err == nil || !strings.Contains(err.Error(), "unknown tool") {
			t.Errorf("an unknown tool: %v", err)
		}
		if out, failed := callTool(t, s, "delete_task", id); failed || !strings.Contains(out, `"status":"deleted"`) {
			t.Errorf("delete_task: %s", out)
		}
		if ts := tasksOf(t, h, "ana", "all"); len(ts) != 1 || ts[0].Title != "Walk the dog" {
			t.Errorf("after delete: %+v", ts)
		}
	})
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// rpc posts one raw JSON-RPC body to the MCP endpoint.
// headers replace the defaults of the same name.
func rpc(t *testing.T, h http.Handler, path, body string, headers ...string) response {
	t.Helper()
	hs := headers
	for _, d := range [][2]string{{"Content-Type", "application/json"}, {"Accept", "application/json, text/event-stream"}, {"Mcp-Protocol-Version", "2025-06-18"}} {
		if !slices.Contains(headers, d[0]) {
			hs = append(hs, d[0], d[1])
		}
	}
	return do(t, h, "POST", path, strings.NewReader(body), hs...)
}

// TestMCPAuth: with auth on, the user is the token's exactly as the API
// verifies it, and a 401 says where to sign in when AUTH_ISSUER is set;
// with auth off, /mcp names the URL to use.
func TestMCPAuth(t *testing.T) {
	issuer := "https://auth.example.com"
	h := newApp(t, map[string]string{"AUTH_SECRET": secret, "AUTH_ISSUER": issuer})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	sign := func(c jwt.MapClaims) string {
		c["iss"] = issuer
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(secret))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	ana := sign(claimsFor("ana"))
	expired := sign(jwt.MapClaims{"sub": "ana", "exp": time.Now().Add(-time.Hour).Unix()})

	s, err := mcpSession(t, srv.URL+"/mcp", map[string]string{"Authorization": "Bearer " + ana})
	if err != nil {
		t.Fatalf("connect with a token: %v", err)
	}
	callTool(t, s, "add_task", map[string]any{"title": "Signed in"})
	if ts := tasksWithToken(t, h, "ana", ana); len(ts) != 1 || ts[0].Title != "Signed in" {
		t.Errorf("ana's tasks: %+v", ts)
	}
	s2, err := mcpSession(t, srv.URL+"/api/ana/mcp", map[string]string{"Authorization": "Bearer " + ana})
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := callTool(t, s2, "list_tasks", nil); !strings.Contains(out, "Signed in") {
		t.Errorf("the path route with the token's own user: %s", out)
	}

	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	for _, tc := range []struct {
		name, path string
		headers    []string
		status     int
		code       string
	}{
		{"no token", "/mcp", nil, 401, "unauthorized"},
		{"expired token", "/mcp", []string{"Authorization", "Bearer " + expired}, 401, "invalid_token"},
		{"garbage token", "/mcp", []string{"Authorization", "Bearer abc.def.ghi"}, 401, "invalid_token"},
		{"another user's path", "/api/bob/mcp", []string{"Authorization", "Bearer " + ana}, 403, "forbidden"},
		{"no token on the path route", "/api/ana/mcp", nil, 401, "unauthorized"},
	} {
		res := rpc(t, h, tc.path, init, tc.headers...)
		var e errorBody
		res.json(&e)
		if res.Code != tc.status || e.Code != tc.code {
			t.Errorf("%s: %d %+v, want %d %s", tc.name, res.Code, e, tc.status, tc.code)
		}
		if tc.status == 401 {
			want := fmt.Sprintf(`resource_metadata="http://example.com/.well-known/oauth-protected-resource%s"`, tc.path)
			if ch := res.Header().Get("WWW-Authenticate"); !strings.HasPrefix(ch, "Bearer ") || !strings.Contains(ch, want) {
				t.Errorf("%s: WWW-Authenticate %q, want %s", tc.name, ch, want)
			}
		}
	}
	if _, err := mcpSession(t, srv.URL+"/mcp", nil); err == nil {
		t.Error("the SDK's client connected without a token")
	}

	// The protected-resource metadata (RFC 9728) names the issuer.
	for _, path := range []string{"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"} {
		var meta struct {
			Resource             string   `json:"resource"`
			AuthorizationServers []string `json:"authorization_servers"`
			BearerMethods        []string `json:"bearer_methods_supported"`
		}
		getJSON(t, h, path, &meta)
		if meta.Resource != "http://example.com/mcp" || !slices.Equal(meta.AuthorizationServers, []string{issuer}) || !slices.Equal(meta.BearerMethods, []string{"header"}) {
			t.Errorf("%s: %+v", path, meta)
		}
	}

	// Auth off: the user is in the path; /mcp says which URL to use.
	off := newApp(t, nil)
	res := rpc(t, off, "/mcp", init)
	var e errorBody
	res.json(&e)
	if res.Code != 401 || e.Code != "auth_required" || !strings.Contains(e.Detail, "/api/{user_id}/mcp") {
		t.Errorf("/mcp with auth off: %d %+v", res.Code, e)
	}
	if res := do(t, off, "GET", "/.well-known/oauth-protected-resource", nil); res.Code != 404 {
		t.Errorf("metadata without AUTH_ISSUER: %d", res.Code)
	}
}

// TestMCPBadInput: what the protocol refuses gets the protocol's error,
// what every route refuses gets the same 4xx as there, and nothing is
// written either way.
func TestMCPBadInput(t *testing.T) {
	eachStore(t, func(t *testing.T, env map[string]string) {
		h := newApp(t, env)
		call := `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"add_task","arguments":{"title":"Should not exist"}}}`
		for _, tc := range []struct {
			name, body string
			headers    []string
			status     int
			rpcCode    int    // a JSON-RPC error code, or 0
			code       string // a taskchat error code, or ""
		}{
			{"malformed JSON", `{"jsonrpc":"2.0","id":1,"method":"tools/ca`, nil, 400, -32700, ""},
			{"a batch", "[" + call + "]", nil, 400, -32600, ""},
			{"an unsupported method", `{"jsonrpc":"2.0","id":1,"method":"tasks/teleport","params":{}}`, nil, 200, -32601, ""},
			{"a method for what taskchat has none of", `{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"x"}}`, nil, 200, -32601, ""},
			{"an unknown tool", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"drop_tables","arguments":{}}}`, nil, 200, -32602, ""},
			{"not JSON-RPC", `{"hello":"world"}`, nil, 400, -32600, ""},
			{"a string", `"tools/call"`, nil, 400, -32600, ""},
			{"wrong content type", call, []string{"Content-Type", "text/plain"}, 415, 0, "unsupported_media_type"},
			{"compressed", call, []string{"Content-Encoding", "gzip"}, 415, 0, "unsupported_encoding"},
			{"oversized", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add_task","arguments":{"title":"x","pad":"` + strings.Repeat("a", 70<<10) + `"}}}`, nil, 413, 0, "body_too_large"},
			{"bad idempotency key", call, []string{"Idempotency-Key", strings.Repeat("k", 300)}, 400, 0, "invalid_idempotency_key"},
			{"bad time zone", call, []string{"X-Time-Zone", "Mars/Olympus"}, 400, 0, "invalid_time_zone"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := rpc(t, h, "/api/bad/mcp", tc.body, tc.headers...)
				if res.Code != tc.status {
					t.Errorf("status %d, want %d: %s", res.Code, tc.status, res.Body)
				}
				var body struct {
					Code  string `json:"code"`
					Error *struct {
						Code    int    `json:"code"`
						Message string `json:"message"`
					} `json:"error"`
				}
				_ = json.Unmarshal(res.Body.Bytes(), &body)
				switch {
				case tc.rpcCode != 0 && (body.Error == nil || body.Error.Code != tc.rpcCode || body.Error.Message == ""):
					t.Errorf("JSON-RPC error %+v, want code %d: %s", body.Error, tc.rpcCode, res.Body)
				case tc.code != "" && body.Code != tc.code:
					t.Errorf("code %q, want %q: %s", body.Code, tc.code, res.Body)
				}
				if ts := tasksOf(t, h, "bad", "all"); len(ts) != 0 {
					t.Errorf("written: %+v", ts)
				}
			})
		}
		if res := do(t, h, "GET", "/api/bad/mcp", nil); res.Code != 405 || !strings.Contains(res.Header().Get("Allow"), "POST") {
			t.Errorf("GET: %d %q", res.Code, res.Header().Get("Allow"))
		}
	})
}

// TestMCPLimits: tool calls count against the chat's rate limit; an
// Idempotency-Key replays a call instead of running it again; each call is
// logged once, with its tool and how it ended and never its arguments.
func TestMCPLimits(t *testing.T) {
	eachStore(t, func(t *testing.T, env map[string]string) {
		env["CHAT_RATE_LIMIT"] = "3"
		var logs syncBuffer
		h := newAppWith(t, env, &logs)
		add := func(key, title string) response {
			hs := []string{}
			if key != "" {
				hs = append(hs, "Idempotency-Key", key)
			}
			return rpc(t, h, "/api/lim/mcp", `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"add_task","arguments":{"title":"`+title+`"}}}`, hs...)
		}
		first := add("retry-1", "Secret plans")
		again := add("retry-1", "Secret plans")
		if first.Code != 200 || again.Body.String() != first.Body.String() || len(tasksOf(t, h, "lim", "all")) != 1 {
			t.Errorf("a retry with the same key: %s / %s; %d tasks", first.Body, again.Body, len(tasksOf(t, h, "lim", "all")))
		}
		if res := add("retry-1", "Other plans"); !strings.Contains(res.Body.String(), "Idempotency-Key was used for another") {
			t.Errorf("the key reused for another call: %s", res.Body)
		}
		// Three calls ran (the replay and the refused reuse ran nothing,
		// but were counted): the next is refused as a tool error.
		res := add("", "Fourth")
		var out struct {
			Result mcp.CallToolResult `json:"result"`
		}
		if err := json.Unmarshal(res.Body.Bytes(), &out); err != nil || !out.Result.IsError || !strings.Contains(fmt.Sprint(out.Result.Content[0].(*mcp.TextContent).Text), "Too many tool calls") {
			t.Errorf("past the limit: %s", res.Body)
		}
		if ts := tasksOf(t, h, "lim", "all"); len(ts) != 1 {
			t.Errorf("%d tasks after the refusals", len(ts))
		}
		var lines []map[string]any
		for _, l := range strings.Split(logs.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil && m["route"] == "POST /api/{user_id}/mcp" {
				lines = append(lines, m)
			}
		}
		var statuses []string
		for _, m := range lines {
			if m["tool"] != "add_task" || m["user_id"] != "lim" || m["mcp_method"] != "tools/call" {
				t.Errorf("log line %v", m)
			}
			statuses = append(statuses, fmt.Sprint(m["tool_status"]))
		}
		if want := []string{"ok", "replayed", "failed", "rate_limited"}; !slices.Equal(statuses, want) {
			t.Errorf("logged statuses %v, want %v", statuses, want)
		}
		if strings.Contains(logs.String(), "Secret plans") {
			t.Error("the log holds a tool argument")
		}
	})
}
