package taskchat_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskchat/taskchat"
	"github.com/taskchat/taskchat/internal/pgtest"
)

// fakeModel is an OpenAI-compatible Chat Completions server that answers from
// a script, in the real wire format, and records what it received.
type fakeModel struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	script   []http.HandlerFunc
	received []received
}

type received struct {
	auth string
	body map[string]any
	raw  string
}

func newFakeModel(t *testing.T, script ...http.HandlerFunc) *fakeModel {
	f := &fakeModel{t: t, script: script}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "POST" || r.URL.Path != "/chat/completions" {
			t.Errorf("model got %s %s", r.Method, r.URL.Path)
			http.NotFound(w, r)
			return
		}
		var raw strings.Builder
		var body map[string]any
		if err := json.NewDecoder(io.TeeReader(r.Body, &raw)).Decode(&body); err != nil {
			t.Errorf("model got a body that is not JSON: %v", err)
		}
		f.mu.Lock()
		f.received = append(f.received, received{auth: r.Header.Get("Authorization"), body: body, raw: raw.String()})
		var next http.HandlerFunc
		if len(f.script) > 0 {
			next, f.script = f.script[0], f.script[1:]
		}
		f.mu.Unlock()
		if next == nil {
			t.Errorf("model called more often than scripted")
			http.Error(w, "unscripted", http.StatusInternalServerError)
			return
		}
		next(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeModel) requests() []received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]received{}, f.received...)
}

// completion answers with one assistant message in the wire format.
func completion(message map[string]any, finish string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": "chatcmpl-test", "object": "chat.completion", "created": 1764115200, "model": "test-model",
			"choices": []any{map[string]any{"index": 0, "finish_reason": finish, "message": message, "logprobs": nil}},
			"usage":   map[string]any{"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
		})
	}
}

func text(s string) http.HandlerFunc {
	return completion(map[string]any{"role": "assistant", "content": s, "refusal": nil}, "stop")
}

// calls answers with tool calls, each a name and its arguments string.
func calls(pairs ...string) http.HandlerFunc {
	var tcs []any
	for i := 0; i+1 < len(pairs); i += 2 {
		tcs = append(tcs, map[string]any{
			"id": fmt.Sprintf("call_%d", i/2), "type": "function",
			"function": map[string]any{"name": pairs[i], "arguments": pairs[i+1]},
		})
	}
	return completion(map[string]any{"role": "assistant", "content": nil, "tool_calls": tcs}, "tool_calls")
}

func status(code int, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"error":{"message":"scripted %d","type":"server_error","code":null,"param":null}}`, code)
	}
}

// hang answers only when the client gives up.
func hang(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

func llmApp(t *testing.T, f *fakeModel, extra ...string) (*taskchat.App, *syncBuffer) {
	t.Helper()
	env := map[string]string{"LLM_API_KEY": "sk-test-key", "LLM_BASE_URL": f.srv.URL, "LLM_MODEL": "test-model", "LLM_TIMEOUT": "2s"}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	logs := &syncBuffer{}
	a := taskchat.New(func(k string) string { return env[k] }, logs)
	t.Cleanup(a.Close)
	return a, logs
}

func messagesSent(t *testing.T, r received) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, m := range r.body["messages"].([]any) {
		out = append(out, m.(map[string]any))
	}
	return out
}

func TestLLMOneToolCall(t *testing.T) {
	f := newFakeModel(t,
		calls("add_task", `{"title":"Buy groceries"}`),
		text("Added “Buy groceries” to your tasks (task 1)."),
	)
	h, _ := llmApp(t, f)
	r := chat(t, h, "llm", "Add a task to buy groceries", nil)
	if r.Agent != "llm" || r.Response != "Added “Buy groceries” to your tasks (task 1)." {
		t.Errorf("reply = %+v", r)
	}
	if len(r.ToolCalls) != 1 || r.ToolCalls[0].Tool != "add_task" || string(r.ToolCalls[0].Arguments) != `{"title":"Buy groceries"}` ||
		!strings.Contains(string(r.ToolCalls[0].Result), `"status":"created"`) {
		t.Errorf("tool calls = %+v", r.ToolCalls)
	}
	if ts := tasksOf(t, h, "llm", "all"); len(ts) != 1 || ts[0].Title != "Buy groceries" {
		t.Errorf("tasks = %+v", ts)
	}

	reqs := f.requests()
	if len(reqs) != 2 {
		t.Fatalf("model called %d times, want 2", len(reqs))
	}
	first := reqs[0]
	if first.auth != "Bearer sk-test-key" || first.body["model"] != "test-model" {
		t.Errorf("first request: auth %q model %v", first.auth, first.body["model"])
	}
	tools, _ := first.body["tools"].([]any)
	var names []string
	for _, tl := range tools {
		names = append(names, tl.(map[string]any)["function"].(map[string]any)["name"].(string))
	}
	if strings.Join(names, ",") != "add_task,list_tasks,complete_task,delete_task,update_task" {
		t.Errorf("tools sent = %v", names)
	}
	toolsJSON, _ := json.Marshal(first.body["tools"])
	if strings.Contains(string(toolsJSON), "user_id") {
		t.Errorf("a tool schema mentions user_id: %s", toolsJSON)
	}
	msgs := messagesSent(t, first)
	if len(msgs) != 2 || msgs[0]["role"] != "system" || !strings.Contains(fmt.Sprint(msgs[0]["content"]), "list_tasks first") ||
		msgs[1]["role"] != "user" || msgs[1]["content"] != "Add a task to buy groceries" {
		t.Errorf("first request messages = %v", msgs)
	}
	msgs = messagesSent(t, reqs[1])
	if len(msgs) != 4 || msgs[2]["role"] != "assistant" || msgs[3]["role"] != "tool" || msgs[3]["tool_call_id"] != "call_0" ||
		!strings.Contains(fmt.Sprint(msgs[3]["content"]), `"task_id":1`) {
		t.Errorf("second request messages = %v", msgs)
	}

	var page messagesPage
	getJSON(t, h, fmt.Sprintf("/api/llm/conversations/%d/messages", r.ConversationID), &page)
	if len(page.Messages) != 2 || page.Messages[1].Content != r.Response || len(page.Messages[1].ToolCalls) != 1 {
		t.Errorf("stored = %+v", page.Messages)
	}
}

func TestLLMParallelCallsAndHistory(t *testing.T) {
	f := newFakeModel(t,
		calls("add_task", `{"title":"Buy milk"}`, "add_task", `{"title":"Team meeting","description":"Room 4"}`),
		text("Added both."),
		calls("list_tasks", `{"status":"all"}`),
		calls("delete_task", `{"task_id":2}`),
		text("Deleted task 2, “Team meeting”."),
	)
	h, _ := llmApp(t, f)
	r := chat(t, h, "par", "Add buy milk and a team meeting in room 4", nil)
	if len(r.ToolCalls) != 2 || !strings.Contains(string(r.ToolCalls[0].Result), `"task_id":1`) ||
		!strings.Contains(string(r.ToolCalls[1].Result), `"task_id":2`) {
		t.Fatalf("parallel calls = %+v", r.ToolCalls)
	}
	if ts := tasksOf(t, h, "par", "all"); len(ts) != 2 || ts[1].Description == nil || *ts[1].Description != "Room 4" {
		t.Errorf("tasks = %+v", ts)
	}

	// A two-step turn: list, then delete the one the model picked.
	r2 := chat(t, h, "par", "Delete the meeting task", r.ConversationID)
	if r2.Agent != "llm" || len(r2.ToolCalls) != 2 || r2.ToolCalls[0].Tool != "list_tasks" || r2.ToolCalls[1].Tool != "delete_task" {
		t.Fatalf("two-step turn = %+v", r2)
	}
	if ts := tasksOf(t, h, "par", "all"); len(ts) != 1 || ts[0].Title != "Buy milk" {
		t.Errorf("tasks after delete = %+v", ts)
	}
	// The second turn sent the stored conversation as context.
	msgs := messagesSent(t, f.requests()[2])
	var roles, contents []string
	for _, m := range msgs {
		roles = append(roles, fmt.Sprint(m["role"]))
		contents = append(contents, fmt.Sprint(m["content"]))
	}
	if strings.Join(roles, ",") != "system,user,assistant,user" || contents[2] != "Added both." || contents[3] != "Delete the meeting task" {
		t.Errorf("history sent = %v %v", roles, contents)
	}
}

func TestLLMToolErrorGoesBackToTheModel(t *testing.T) {
	f := newFakeModel(t,
		calls("complete_task", `{"task_id":99}`),
		text("I couldn't find task 99."),
	)
	h, _ := llmApp(t, f)
	r := chat(t, h, "err", "finish task 99", nil)
	if r.Agent != "llm" || r.Response != "I couldn't find task 99." {
		t.Errorf("reply = %+v", r)
	}
	msgs := messagesSent(t, f.requests()[1])
	if got := fmt.Sprint(msgs[len(msgs)-1]["content"]); got != `{"error":"task 99 not found"}` {
		t.Errorf("tool result sent back = %s", got)
	}
}

func TestLLMRetriesBusyThenSucceeds(t *testing.T) {
	f := newFakeModel(t, status(http.StatusTooManyRequests, "Retry-After", "0"), text("Hello! What shall I add?"))
	h, _ := llmApp(t, f)
	r := chat(t, h, "busy", "hi", nil)
	if r.Agent != "llm" || r.Response != "Hello! What shall I add?" || len(f.requests()) != 2 {
		t.Errorf("reply = %+v after %d model calls", r, len(f.requests()))
	}
}

func TestLLMFallsBackToOffline(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	for _, tc := range []struct {
		name   string
		script []http.HandlerFunc
		reason string
		url    string
	}{
		{name: "malformed arguments", script: []http.HandlerFunc{calls("add_task", `{"title": "Buy gro`)}, reason: "not a JSON object"},
		{name: "unknown tool", script: []http.HandlerFunc{calls("add_task", `{"title":"x"}`, "drop_everything", `{}`)}, reason: "unknown tool"},
		{name: "server error", script: []http.HandlerFunc{status(http.StatusInternalServerError)}, reason: "HTTP 500"},
		{name: "bad request", script: []http.HandlerFunc{status(http.StatusBadRequest)}, reason: "HTTP 400"},
		{name: "hang", script: []http.HandlerFunc{hang}, reason: "timed out"},
		{name: "no choices", script: []http.HandlerFunc{func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[]}`)
		}}, reason: "no choices"},
		{name: "loop exhausted", script: []http.HandlerFunc{
			calls("list_tasks", `{}`), calls("list_tasks", `{}`), calls("list_tasks", `{}`),
			calls("list_tasks", `{}`), calls("list_tasks", `{}`), calls("list_tasks", `{}`),
		}, reason: "no answer after 6 model calls"},
		{name: "server down", url: down.URL, reason: "could not be reached"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeModel(t, tc.script...)
			extra := []string{"LLM_TIMEOUT", "300ms"}
			if tc.url != "" {
				// A refused connection is not retried: the fallback is immediate
				// even with a long timeout.
				extra = []string{"LLM_TIMEOUT", "30s", "LLM_BASE_URL", tc.url}
			}
			h, logs := llmApp(t, f, extra...)
			r := chat(t, h, "fb", "Add a task to buy groceries", nil)
			if r.Agent != "offline" || !strings.HasPrefix(r.Response, `Added "Buy groceries"`) {
				t.Errorf("reply = %+v", r)
			}
			last := r.ToolCalls[len(r.ToolCalls)-1]
			if last.Tool != "add_task" || string(last.Arguments) != `{"title":"Buy groceries"}` {
				t.Errorf("tool calls = %+v", r.ToolCalls)
			}
			// Nothing the broken model asked for ran: one task, the offline one.
			if ts := tasksOf(t, h, "fb", "all"); len(ts) != 1 || ts[0].Title != "Buy groceries" {
				t.Errorf("tasks = %+v", ts)
			}
			log := logs.String()
			if !strings.Contains(log, "LLM failed") || !strings.Contains(log, tc.reason) {
				t.Errorf("the log does not say why (%q):\n%s", tc.reason, log)
			}
			if strings.Contains(log, "groceries") || strings.Contains(log, "sk-test-key") {
				t.Errorf("the log holds message text or the key:\n%s", log)
			}
		})
	}
}

func TestLLMFailsAfterActing(t *testing.T) {
	// The model added a task, then broke: the offline agent must not add it again.
	f := newFakeModel(t, calls("add_task", `{"title":"Buy groceries"}`), status(http.StatusBadGateway))
	h, _ := llmApp(t, f)
	r := chat(t, h, "half", "Add a task to buy groceries", nil)
	if len(r.ToolCalls) != 1 || !strings.Contains(r.Response, `created task 1 "Buy groceries"`) {
		t.Errorf("reply = %+v", r)
	}
	if ts := tasksOf(t, h, "half", "all"); len(ts) != 1 {
		t.Errorf("the task was added %d times", len(ts))
	}
}

func TestLLMProviderSettings(t *testing.T) {
	f := newFakeModel(t, text("hi"), text("hi"))
	t.Run("a provider key alone turns the LLM on", func(t *testing.T) {
		h := newApp(t, map[string]string{"GROQ_API_KEY": "gsk-test", "LLM_BASE_URL": f.srv.URL})
		if hl := healthOf(t, h); hl.Agent != "llm" || strings.Contains(strings.Join(hl.Problems, " "), "offline agent") {
			t.Errorf("health = %+v", hl)
		}
		chat(t, h, "p", "hello", nil)
		if got := f.requests()[0]; got.auth != "Bearer gsk-test" || got.body["model"] != "openai/gpt-oss-120b" {
			t.Errorf("sent auth %q model %v", got.auth, got.body["model"])
		}
	})
	t.Run("LLM_PROVIDER picks that provider's key", func(t *testing.T) {
		h := newApp(t, map[string]string{
			"LLM_PROVIDER": "openrouter", "OPENAI_API_KEY": "sk-wrong", "OPENROUTER_API_KEY": "sk-or-test",
			"LLM_BASE_URL": f.srv.URL, "LLM_MODEL": "some/model",
		})
		chat(t, h, "p", "hello", nil)
		if got := f.requests()[1]; got.auth != "Bearer sk-or-test" || got.body["model"] != "some/model" {
			t.Errorf("sent auth %q model %v", got.auth, got.body["model"])
		}
	})
	// Each provider's key variable alone is enough, as the README says; the
	// key goes to that provider with its default model.
	for keyVar, model := range map[string]string{
		"OPENAI_API_KEY": "gpt-6-luna", "HF_TOKEN": "openai/gpt-oss-120b", "GEMINI_API_KEY": "gemini-3.5-flash-lite",
		"GROQ_API_KEY": "openai/gpt-oss-120b", "OPENROUTER_API_KEY": "openai/gpt-6-luna",
	} {
		t.Run(keyVar+" alone", func(t *testing.T) {
			f := newFakeModel(t, text("hi"))
			h := newApp(t, map[string]string{keyVar: "key-" + keyVar, "LLM_BASE_URL": f.srv.URL})
			if hl := healthOf(t, h); hl.Agent != "llm" {
				t.Fatalf("health = %+v", hl)
			}
			if r := chat(t, h, "p", "hello", nil); r.Agent != "llm" {
				t.Errorf("reply = %+v", r)
			}
			if got := f.requests()[0]; got.auth != "Bearer key-"+keyVar || got.body["model"] != model {
				t.Errorf("sent auth %q model %v, want key-%s and %s", got.auth, got.body["model"], keyVar, model)
			}
		})
	}
	t.Run("no key, no LLM", func(t *testing.T) {
		if hl := healthOf(t, newApp(t, map[string]string{"LLM_MODEL": "x"})); hl.Agent != "offline" {
			t.Errorf("health = %+v", hl)
		}
	})
	t.Run("bad provider", func(t *testing.T) {
		if hl := healthOf(t, newApp(t, map[string]string{"LLM_PROVIDER": "skynet"})); hl.Status != "misconfigured" {
			t.Errorf("health = %+v", hl)
		}
	})
}

func TestLLMOnPostgres(t *testing.T) {
	f := newFakeModel(t,
		calls("add_task", `{"title":"Buy groceries"}`), text("Added task 1."),
		status(http.StatusInternalServerError),
	)
	h, _ := llmApp(t, f, "DATABASE_URL", pgtest.NewDatabase(t))
	r := chat(t, h, "pgllm", "Add a task to buy groceries", nil)
	if r.Agent != "llm" || len(r.ToolCalls) != 1 {
		t.Fatalf("reply = %+v", r)
	}
	r2 := chat(t, h, "pgllm", "What's pending?", r.ConversationID)
	if r2.Agent != "offline" || !strings.Contains(r2.Response, "Buy groceries") {
		t.Errorf("fallback turn = %+v", r2)
	}
	var page messagesPage
	getJSON(t, h, fmt.Sprintf("/api/pgllm/conversations/%d/messages", r.ConversationID), &page)
	if len(page.Messages) != 4 || page.Messages[1].Content != "Added task 1." || page.Messages[2].Content != "What's pending?" {
		t.Errorf("stored = %+v", page.Messages)
	}
}

// BenchmarkLLMTurn measures what the LLM agent adds to a turn beyond the
// model's own time: a fake model on loopback that answers at once, one tool
// call and one final answer per turn, on the memory store.
func BenchmarkLLMTurn(b *testing.B) {
	var n atomic.Int64
	model := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if n.Add(1)%2 == 1 {
			calls("add_task", `{"title":"Buy groceries"}`)(w, r)
			return
		}
		text("Added it.")(w, r)
	}))
	b.Cleanup(model.Close)
	env := map[string]string{"LLM_API_KEY": "k", "LLM_BASE_URL": model.URL, "LLM_MODEL": "m", "LOG_LEVEL": "warn", "CHAT_RATE_LIMIT": "0"}
	h := taskchat.New(func(k string) string { return env[k] }, io.Discard)
	b.Cleanup(h.Close)
	conv := chat(b, h, "bench", "hello", nil).ConversationID
	n.Store(0)
	var lat latencies
	for b.Loop() {
		chatTurn(b, h, "bench", conv, &lat)
	}
	lat.report(b, "turns/s")
}

// The safety rules hold for a model's calls where the server can tell: a
// delete of one of several tasks the person's words match, or of anything
// when they asked for many at once, is refused back to the model, and
// nothing changes.
func TestLLMSafetyRules(t *testing.T) {
	for _, tc := range []struct {
		name, say, call string
		refused         bool
	}{
		{"ambiguous title", "delete the email task", `{"task_id":1}`, true},
		{"ambiguous title, completed", "mark the email task done", `{"task_id":2}`, true},
		{"bulk delete", "clear my finished tasks", `{"task_id":3}`, true},
		{"the number typed", "delete task 1", `{"task_id":1}`, false},
		{"a title that matches one", "delete the rent task", `{"task_id":3}`, false},
		{"words the parser does not know", "bin the one for the landlord", `{"task_id":3}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tool := "delete_task"
			if strings.Contains(tc.say, "done") {
				tool = "complete_task"
			}
			f := newFakeModel(t, calls(tool, tc.call), text("Done."))
			h, _ := llmApp(t, f)
			for _, title := range []string{"Email Bob", "Email Alice", "Pay the rent"} {
				taskReq(t, h, "POST", "/api/safe/tasks", `{"title":"`+title+`"}`)
			}
			chat(t, h, "safe", tc.say, nil)
			msgs := messagesSent(t, f.requests()[1])
			result := fmt.Sprint(msgs[len(msgs)-1]["content"])
			left := tasksOf(t, h, "safe", "all")
			changed := len(left) != 3 || slices.ContainsFunc(left, func(x task) bool { return x.Completed })
			if tc.refused {
				if !strings.Contains(result, "refused") || changed {
					t.Errorf("%q then %s%s: result %s, tasks %+v", tc.say, tool, tc.call, result, left)
				}
				if strings.Contains(tc.say, "email") && (!strings.Contains(result, `1 \"Email Bob\"`) || !strings.Contains(result, `2 \"Email Alice\"`)) {
					t.Errorf("the refusal names no candidates: %s", result)
				}
				return
			}
			if strings.Contains(result, "error") || !changed {
				t.Errorf("%q then %s%s: result %s, tasks %+v", tc.say, tool, tc.call, result, left)
			}
		})
	}
}

// The model's context is built to a byte budget: a long conversation of
// long answers sends the newest messages that fit, not the last twenty
// whatever their size; a model's flood of tool calls runs 20 of them.
func TestLLMContextAndCallsBounded(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	offline := newApp(t, map[string]string{"DATABASE_URL": dbURL})
	for i := range 60 {
		taskReq(t, offline, "POST", "/api/ctx/tasks", fmt.Sprintf(`{"title":"A task with a longish title, number %d of many"}`, i))
	}
	first := chat(t, offline, "ctx", "show my tasks", nil)
	for range 20 {
		chat(t, offline, "ctx", "show my tasks", first.ConversationID)
	}

	var flood []string
	for i := range 30 {
		flood = append(flood, "add_task", fmt.Sprintf(`{"title":"Flood %d"}`, i))
	}
	f := newFakeModel(t, calls(flood...), text("Added them."))
	h, _ := llmApp(t, f, "DATABASE_URL", dbURL)
	r := chat(t, h, "ctx", "what did I just ask?", first.ConversationID)
	reqs := f.requests()
	if size := len(reqs[0].raw); size > 40<<10 {
		t.Errorf("the prompt of a long conversation is %d bytes", size)
	}
	msgs := messagesSent(t, reqs[0])
	if last := msgs[len(msgs)-1]; last["role"] != "user" || last["content"] != "what did I just ask?" {
		t.Errorf("the prompt does not end with the message: %v", last)
	}
	if len(msgs) > 22 || len(msgs) < 4 {
		t.Errorf("%d messages sent", len(msgs))
	}
	if len(r.ToolCalls) != 20 {
		t.Errorf("%d of the model's 30 calls recorded", len(r.ToolCalls))
	}
	added := 0
	for _, tk := range tasksOf(t, h, "ctx", "all") {
		if strings.HasPrefix(tk.Title, "Flood") {
			added++
		}
	}
	if added != 20 {
		t.Errorf("%d of the model's 30 adds ran", added)
	}
	results := messagesSent(t, reqs[1])
	if last := fmt.Sprint(results[len(results)-1]["content"]); !strings.Contains(last, "at most 20 tool calls") {
		t.Errorf("the 30th call's result = %s", last)
	}
}

// TestLLMTimeZone: the system prompt tells the model the person's date and
// zone, and a due date the model passes in words is read in that zone.
func TestLLMTimeZone(t *testing.T) {
	f := newFakeModel(t,
		calls("add_task", `{"title":"Pay rent","priority":"high","due_date":"tomorrow"}`),
		text("Added “Pay rent”, due tomorrow."),
	)
	h, _ := llmApp(t, f)
	zone, _ := time.LoadLocation("Pacific/Kiritimati")
	before := time.Now().In(zone)
	res := do(t, h, "POST", "/api/llmtz/chat", strings.NewReader(`{"message":"add pay rent, high priority, due tomorrow","time_zone":"Pacific/Kiritimati"}`), "Content-Type", "application/json")
	if res.Code != 200 {
		t.Fatalf("chat: %d %s", res.Code, res.Body)
	}
	after := time.Now().In(zone)
	system := fmt.Sprint(messagesSent(t, f.requests()[0])[0]["content"])
	if !strings.Contains(system, "Pacific/Kiritimati") || !strings.Contains(system, "UTC+14:00") ||
		!strings.Contains(system, before.Format("2006-01-02")) && !strings.Contains(system, after.Format("2006-01-02")) {
		t.Errorf("system prompt does not say the person's date and zone:\n%s", system)
	}
	ts := tasksOf(t, h, "llmtz", "all")
	want := []string{before.AddDate(0, 0, 1).Format("2006-01-02"), after.AddDate(0, 0, 1).Format("2006-01-02")}
	if len(ts) != 1 || ts[0].Priority == nil || *ts[0].Priority != "high" || ts[0].DueDate == nil || !slices.Contains(want, *ts[0].DueDate) {
		t.Errorf("tasks = %+v, want high priority due %v", ts, want)
	}
}
