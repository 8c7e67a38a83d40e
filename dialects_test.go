package taskchat_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// Each preset against a fake of its provider that answers with the bytes
// the provider sends and refuses what the provider refuses.

// lastRequest is the request the fake model is answering now.
func lastRequest(f *fakeModel) received {
	rs := f.requests()
	return rs[len(rs)-1]
}

// refuse answers a provider's error in its own shape.
func refuse(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprint(w, body)
}

// walk calls fn on every object in v.
func walk(v any, fn func(map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		fn(x)
		for _, e := range x {
			walk(e, fn)
		}
	case []any:
		for _, e := range x {
			walk(e, fn)
		}
	}
}

// geminiRules refuses, as Gemini's OpenAI endpoint does, schema keywords it
// does not know, and a tool call sent back without the thought signature it
// came with.
func geminiRules(f *fakeModel, w http.ResponseWriter) bool {
	req := lastRequest(f)
	bad := ""
	walk(req.body["tools"], func(m map[string]any) {
		for _, k := range []string{"additionalProperties", "minLength", "maxLength", "default"} {
			if _, ok := m[k]; ok {
				bad = k
			}
		}
	})
	if bad != "" {
		refuse(w, 400, `[{"error":{"code":400,"message":"Invalid JSON payload received. Unknown name \"`+bad+`\" at 'tools[0].function_declarations[0].parameters': Cannot find field.","status":"INVALID_ARGUMENT"}}]`)
		return false
	}
	for _, m := range messagesSent(f.t, req) {
		calls, _ := m["tool_calls"].([]any)
		for _, c := range calls {
			sig := fmt.Sprint(c.(map[string]any)["extra_content"])
			if !strings.Contains(sig, "thought_signature:sig-123") {
				refuse(w, 400, `[{"error":{"code":400,"message":"Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly.","status":"INVALID_ARGUMENT"}}]`)
				return false
			}
		}
	}
	return true
}

func TestDialectGemini(t *testing.T) {
	var f *fakeModel
	f = newFakeModel(t,
		func(w http.ResponseWriter, r *http.Request) {
			if !geminiRules(f, w) {
				return
			}
			completion(map[string]any{"role": "assistant", "tool_calls": []any{map[string]any{
				"id": "function-call-1", "type": "function",
				"function":      map[string]any{"name": "add_task", "arguments": `{"title":"Buy milk"}`},
				"extra_content": map[string]any{"google": map[string]any{"thought_signature": "sig-123"}},
			}}}, "tool_calls")(w, r)
		},
		func(w http.ResponseWriter, r *http.Request) {
			if !geminiRules(f, w) {
				return
			}
			text("Added \"Buy milk\" as task 1.")(w, r)
		},
	)
	h, logs := llmApp(t, f, "LLM_PROVIDER", "gemini", "LLM_API_KEY", "", "GEMINI_API_KEY", "gm-test-key")
	r := chat(t, h, "gem", "add a task to buy milk", nil)
	if r.Agent != "llm" || r.Response != `Added "Buy milk" as task 1.` || len(r.ToolCalls) != 1 {
		t.Fatalf("reply = %+v\n%s", r, logs)
	}
	if ts := tasksOf(t, h, "gem", "all"); len(ts) != 1 || ts[0].Title != "Buy milk" {
		t.Errorf("tasks = %+v", ts)
	}
	// The schemas still say what they can: types, descriptions, enums, required.
	tools := fmt.Sprint(f.requests()[0].body["tools"])
	for _, want := range []string{"required:[title]", "enum:[all pending completed]", "type:integer"} {
		if !strings.Contains(tools, want) {
			t.Errorf("the Gemini tools lost %q: %s", want, tools)
		}
	}
}

// The Hugging Face router with gpt-oss (and DeepSeek-style models) answer
// with reasoning; Groq, one of the router's backends, refuses it sent back.
func TestDialectReasoningNeverEchoed(t *testing.T) {
	noReasoning := func(f *fakeModel, w http.ResponseWriter) bool {
		for i, m := range messagesSent(f.t, lastRequest(f)) {
			for _, k := range []string{"reasoning_content", "reasoning", "reasoning_details"} {
				if _, ok := m[k]; ok {
					refuse(w, 400, fmt.Sprintf(`{"error":{"message":"'messages.%d' : for 'role:assistant' the following must be satisfied[('messages.%d' : property '%s' is unsupported)]","type":"invalid_request_error"}}`, i, i, k))
					return false
				}
			}
		}
		return true
	}
	var f *fakeModel
	f = newFakeModel(t,
		func(w http.ResponseWriter, r *http.Request) {
			completion(map[string]any{"role": "assistant", "content": nil,
				"reasoning_content": "The user wants a task. I will call add_task.", "reasoning": "The user wants a task.",
				"tool_calls": []any{map[string]any{"id": "call_a1", "type": "function",
					"function": map[string]any{"name": "add_task", "arguments": `{"title":"Call the bank"}`}}}}, "tool_calls")(w, r)
		},
		func(w http.ResponseWriter, r *http.Request) {
			if noReasoning(f, w) {
				text("Done: task 1, Call the bank.")(w, r)
			}
		},
	)
	h, logs := llmApp(t, f, "LLM_PROVIDER", "huggingface")
	r := chat(t, h, "think", "add a task to call the bank", nil)
	if r.Agent != "llm" || len(r.ToolCalls) != 1 || len(tasksOf(t, h, "think", "all")) != 1 {
		t.Errorf("reply = %+v\n%s", r, logs)
	}
}

// Small models write the call into the text, in several shapes: each runs
// once, as a real call; markup that is none of them falls back and is
// never shown.
func TestDialectToolCallsAsText(t *testing.T) {
	for _, tc := range []struct{ name, content string }{
		{"name and parameters", `{"name": "add_task", "parameters": {"title": "Buy milk"}}`},
		{"function object", `{"type": "function", "function": {"name": "add_task", "arguments": "{\"title\": \"Buy milk\"}"}}`},
		{"in a fence", "```json\n{\"name\": \"add_task\", \"arguments\": {\"title\": \"Buy milk\"}}\n```"},
		{"hermes", `<tool_call>{"name": "add_task", "arguments": {"title": "Buy milk"}}</tool_call>`},
		{"mistral", `[TOOL_CALLS][{"name": "add_task", "arguments": {"title": "Buy milk"}}]`},
		{"harmony", `<|channel|>commentary to=functions.add_task <|constrain|>json<|message|>{"title":"Buy milk"}<|call|>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f *fakeModel
			f = newFakeModel(t,
				text(tc.content),
				func(w http.ResponseWriter, r *http.Request) {
					// The call went back as a call, and its result with its id.
					msgs := messagesSent(f.t, lastRequest(f))
					call, result := msgs[len(msgs)-2], msgs[len(msgs)-1]
					calls, _ := call["tool_calls"].([]any)
					if len(calls) != 1 || result["role"] != "tool" || result["tool_call_id"] != calls[0].(map[string]any)["id"] {
						refuse(w, 400, `{"error":{"message":"tool result without its call"}}`)
						return
					}
					text("Added Buy milk.")(w, r)
				},
			)
			h, logs := llmApp(t, f, "LLM_PROVIDER", "ollama", "LLM_API_KEY", "")
			r := chat(t, h, "texty", "please add buy milk", nil)
			if r.Agent != "llm" || r.Response != "Added Buy milk." || len(r.ToolCalls) != 1 {
				t.Errorf("reply = %+v\n%s", r, logs)
			}
			if ts := tasksOf(t, h, "texty", "all"); len(ts) != 1 || ts[0].Title != "Buy milk" {
				t.Errorf("tasks = %+v", ts)
			}
		})
	}
	for _, tc := range []struct{ name, content string }{
		{"analysis channel", `<|channel|>analysis<|message|>The user wants milk. I should call a tool.<|end|>`},
		{"unknown tool", `{"name": "drop_everything", "parameters": {}}`},
		{"arguments not an object", `{"name": "add_task", "parameters": "Buy milk"}`},
	} {
		t.Run("falls back: "+tc.name, func(t *testing.T) {
			f := newFakeModel(t, text(tc.content))
			h, logs := llmApp(t, f, "LLM_PROVIDER", "ollama", "LLM_API_KEY", "")
			r := chat(t, h, "markup", "add a task to buy milk", nil)
			if r.Agent != "offline" || strings.Contains(r.Response, "<|") || strings.Contains(r.Response, `"name"`) {
				t.Errorf("reply = %+v", r)
			}
			if ts := tasksOf(t, h, "markup", "all"); len(ts) != 1 {
				t.Errorf("tasks = %+v", ts)
			}
			if !strings.Contains(logs.String(), "tool call as text") {
				t.Errorf("the log does not say why:\n%s", logs)
			}
		})
	}
}

// llama.cpp and TGI give arguments as an object, not a string.
func TestDialectArgumentsAsObject(t *testing.T) {
	f := newFakeModel(t,
		completion(map[string]any{"role": "assistant", "tool_calls": []any{map[string]any{"id": "1", "type": "function",
			"function": map[string]any{"name": "add_task", "arguments": map[string]any{"title": "Buy milk"}}}}}, "tool_calls"),
		text("Added."),
	)
	h, logs := llmApp(t, f)
	r := chat(t, h, "obj", "add a task to buy milk", nil)
	if r.Agent != "llm" || len(r.ToolCalls) != 1 || string(r.ToolCalls[0].Arguments) != `{"title":"Buy milk"}` {
		t.Errorf("reply = %+v\n%s", r, logs)
	}
	if ts := tasksOf(t, h, "obj", "all"); len(ts) != 1 {
		t.Errorf("tasks = %+v", ts)
	}
}

// Error bodies of every shape are read, and the log names the provider's
// own message — without the key or the person's words, even when the
// provider quotes them.
func TestDialectErrorBodies(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
		code             int
	}{
		{"a list (Gemini)", `[{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT"}}]`, "HTTP 400: API key not valid", 400},
		{"an object", `{"error":{"message":"The model gpt-x does not exist","type":"invalid_request_error","code":"model_not_found"}}`, "HTTP 404: The model gpt-x does not exist", 404},
		{"a string", `{"error":"rate limited upstream"}`, "HTTP 402: rate limited upstream", 402},
		{"detail (Hugging Face)", `{"detail":"Model not supported by provider"}`, "HTTP 400: Model not supported by provider", 400},
		{"text", `upstream connect error`, "HTTP 502: upstream connect error", 502},
		{"in a 200 (OpenRouter)", `{"error":{"message":"Provider returned error","code":502}}`, "HTTP 200: Provider returned error", 200},
		{"quoting the key and the message", `{"error":{"message":"Key sk-test-key rejected for request 'Add a task to buy groceries'"}}`, "Key [redacted] rejected", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeModel(t, func(w http.ResponseWriter, r *http.Request) { refuse(w, tc.code, tc.body) })
			h, logs := llmApp(t, f)
			r := chat(t, h, "errs", "Add a task to buy groceries", nil)
			if r.Agent != "offline" || len(tasksOf(t, h, "errs", "all")) != 1 {
				t.Errorf("reply = %+v", r)
			}
			log := logs.String()
			if !strings.Contains(log, tc.want) {
				t.Errorf("the log does not name the provider's message %q:\n%s", tc.want, log)
			}
			if strings.Contains(log, "sk-test-key") || strings.Contains(log, "groceries") {
				t.Errorf("the log holds the key or the message:\n%s", log)
			}
		})
	}
}

// A Gemini 3 model's request as it is sent: no keyword Gemini refuses.
func TestDialectGeminiSchemas(t *testing.T) {
	f := newFakeModel(t, text("Hi!"))
	h, _ := llmApp(t, f, "LLM_PROVIDER", "gemini")
	chat(t, h, "gs", "hello", nil)
	raw, _ := json.Marshal(f.requests()[0].body["tools"])
	for _, k := range []string{"additionalProperties", "minLength", "maxLength", `"default"`} {
		if strings.Contains(string(raw), k) {
			t.Errorf("the Gemini tools carry %s: %s", k, raw)
		}
	}
	g := newFakeModel(t, text("Hi!"))
	h, _ = llmApp(t, g)
	chat(t, h, "gs", "hello", nil)
	if raw, _ := json.Marshal(g.requests()[0].body["tools"]); !strings.Contains(string(raw), "additionalProperties") {
		t.Errorf("OpenAI's tools lost additionalProperties: %s", raw)
	}
}
