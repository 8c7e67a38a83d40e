package agent

import "testing"

func TestTextToolCalls(t *testing.T) {
	for _, tc := range []struct {
		text   string
		calls  int
		markup bool
	}{
		{`{"name": "add_task", "parameters": {"title": "Buy milk"}}`, 1, true},
		{`[{"name": "add_task", "arguments": {"title": "A"}}, {"name": "list_tasks", "arguments": {}}]`, 2, true},
		{`{"tool_calls": [{"type": "function", "function": {"name": "complete_task", "arguments": "{\"task_id\": 3}"}}]}`, 1, true},
		{"<tool_call>\n{\"name\": \"delete_task\", \"arguments\": {\"task_id\": 2}}\n</tool_call>", 1, true},
		{`<|start|>assistant<|channel|>commentary to=functions.list_tasks <|constrain|>json<|message|>{"status":"pending"}<|call|>`, 1, true},
		// Not calls, and markup: never shown.
		{`{"name": "rm_rf", "parameters": {}}`, 0, true},
		{`<|channel|>final<|message|>Done.`, 0, true},
		{`<tool_call>{"name": "add_task", "arguments": "oops"}</tool_call>`, 0, true},
		// Answers for a person.
		{"Here are your tasks:\n- [ ] 1. Buy milk\n- [x] 2. Call mom", 0, false},
		{`I added "Buy {milk}" as task 4.`, 0, false},
		{`Sure! Say "add a task to …" and I'll do it.`, 0, false},
	} {
		calls, ok := textToolCalls(tc.text)
		if len(calls) != tc.calls || ok != (tc.calls > 0) {
			t.Errorf("%q: %d calls (ok %v), want %d", tc.text, len(calls), ok, tc.calls)
		}
		if got := looksLikeMarkup(tc.text); got != tc.markup {
			t.Errorf("%q: markup = %v", tc.text, got)
		}
	}
}

func TestErrorOf(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"error":{"message":"bad model","type":"x"}}`, "bad model"},
		{`[{"error":{"code":400,"message":"Unknown name","status":"INVALID_ARGUMENT"}}]`, "Unknown name"},
		{`{"error":"plain"}`, "plain"},
		{`{"detail":"Model not supported"}`, "Model not supported"},
		{`{"message":"Too many requests"}`, "Too many requests"},
		{`Bad Gateway`, "Bad Gateway"},
	} {
		if got := errorOf(400, []byte(tc.body)).message; got != tc.want {
			t.Errorf("%s: %q, want %q", tc.body, got, tc.want)
		}
	}
}
