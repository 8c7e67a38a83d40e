package taskchat_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taskchat/taskchat"
	"github.com/taskchat/taskchat/internal/pgtest"
)

// sseEvent is one server-sent event: its name ("" for data-only events)
// and its data.
type sseEvent struct {
	name, data string
}

// readEvents reads server-sent events until the stream ends; comments are
// returned with the name ":".
func readEvents(t *testing.T, r io.Reader) []sseEvent {
	t.Helper()
	var out []sseEvent
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	var cur sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.name != "" || cur.data != "" {
				out = append(out, cur)
			}
			cur = sseEvent{}
		case strings.HasPrefix(line, ":"):
			out = append(out, sseEvent{name: ":", data: strings.TrimSpace(line[1:])})
		case strings.HasPrefix(line, "event: "):
			cur.name = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			cur.data += line[len("data: "):]
		default:
			t.Errorf("a line that is not server-sent events: %q", line)
		}
	}
	return out
}

func names(evs []sseEvent) []string {
	var out []string
	for _, e := range evs {
		if e.name != ":" {
			out = append(out, e.name)
		}
	}
	return out
}

// streamChat posts a chat message asking for an event stream.
func streamChat(t *testing.T, h http.Handler, user, body string, headers ...string) (response, []sseEvent) {
	t.Helper()
	res := do(t, h, "POST", "/api/"+user+"/chat", strings.NewReader(body), append([]string{"Content-Type", "application/json", "Accept", "text/event-stream"}, headers...)...)
	if res.Code != 200 || !strings.HasPrefix(res.Header().Get("Content-Type"), "text/event-stream") {
		return res, nil
	}
	return res, readEvents(t, strings.NewReader(res.Body.String()))
}

// withoutTimes drops the created_at of stored messages, the one thing two
// identical turns store differently.
func withoutTimes(t *testing.T, raw string) string {
	t.Helper()
	return regexp.MustCompile(`"created_at":"[^"]*"`).ReplaceAllString(raw, "")
}

// freshEnv is env with a database of its own, when env has one.
func freshEnv(t *testing.T, env map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range env {
		out[k] = v
	}
	if _, ok := env["DATABASE_URL"]; ok {
		out["DATABASE_URL"] = pgtest.NewDatabase(t)
	}
	return out
}

// TestStreamOffline: a streamed offline turn tells the tool calls and the
// reply as events and ends with exactly the JSON a plain request gets; it
// stores exactly what a plain turn stores.
func TestStreamOffline(t *testing.T) {
	eachStore(t, func(t *testing.T, env map[string]string) {
		streamed, plain := newApp(t, env), newApp(t, freshEnv(t, env))
		msg := `{"message":"add milk, high priority, and show my tasks"}`
		res, evs := streamChat(t, streamed, "s", msg)
		if res.Code != 200 || res.Header().Get("Cache-Control") != "no-cache" {
			t.Fatalf("%d %v: %s", res.Code, res.Header(), res.Body)
		}
		want := []string{"start", "tool_call", "tool_result", "tool_call", "tool_result"}
		got := names(evs)
		if len(got) < len(want)+2 || !slices.Equal(got[:len(want)], want) || got[len(got)-1] != "done" {
			t.Fatalf("events %v", got)
		}
		var text strings.Builder
		for _, e := range evs[len(want) : len(evs)-1] {
			var d struct{ Delta string }
			if e.name != "text" || json.Unmarshal([]byte(e.data), &d) != nil {
				t.Fatalf("between the tools and done: %+v", e)
			}
			text.WriteString(d.Delta)
		}
		var call struct {
			ID        string          `json:"id"`
			Tool      string          `json:"tool"`
			Arguments json.RawMessage `json:"arguments"`
		}
		var result struct {
			ID     string          `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  bool            `json:"error"`
		}
		_ = json.Unmarshal([]byte(evs[1].data), &call)
		_ = json.Unmarshal([]byte(evs[2].data), &result)
		if call.Tool != "add_task" || !sameJSON(t, call.Arguments, []byte(`{"title":"Milk","priority":"high"}`)) || result.ID != call.ID || result.Error || !strings.Contains(string(result.Result), `"created"`) {
			t.Errorf("first call %+v, result %+v", call, result)
		}

		p := postChat(t, plain, "s", msg)
		done := evs[len(evs)-1].data
		if p.Code != 200 || !sameJSON(t, []byte(done), p.Body.Bytes()) {
			t.Errorf("done = %s\nplain = %s", done, p.Body)
		}
		var d chatReply
		_ = json.Unmarshal([]byte(done), &d)
		if text.String() != d.Response {
			t.Errorf("the text events say %q, the reply is %q", text.String(), d.Response)
		}
		a := do(t, streamed, "GET", "/api/s/conversations/1/messages", nil).Body.String()
		b := do(t, plain, "GET", "/api/s/conversations/1/messages", nil).Body.String()
		if withoutTimes(t, a) != withoutTimes(t, b) {
			t.Errorf("stored differently:\nstreamed %s\nplain    %s", a, b)
		}
		if got, want := tasksOf(t, streamed, "s", "all"), tasksOf(t, plain, "s", "all"); len(got) != 1 || len(want) != 1 || got[0].Title != want[0].Title {
			t.Errorf("tasks %+v / %+v", got, want)
		}
		// An Accept that refuses event streams gets the plain answer.
		if res := postChat(t, plain, "q", `{"message":"hi"}`, "Accept", "text/event-stream;q=0, application/json"); !strings.HasPrefix(res.Header().Get("Content-Type"), "application/json") {
			t.Errorf("q=0: %s", res.Header().Get("Content-Type"))
		}
	})
}

// TestStreamRefusals: what is refused before a turn begins is answered as
// a plain request is — its status, JSON, nothing written — not as a stream.
func TestStreamRefusals(t *testing.T) {
	eachStore(t, func(t *testing.T, env map[string]string) {
		env["CHAT_RATE_LIMIT"] = "1"
		h := newApp(t, env)
		for _, tc := range []struct {
			body   string
			status int
			code   string
		}{
			{`{"message":"hi","conversation_id":4242}`, 404, "conversation_not_found"},
			{`{"message":""}`, 422, "invalid_input"},
			{`{"message":"hi","time_zone":"Mars/Olympus"}`, 400, "invalid_time_zone"},
			{`{"id":"x","messages":[]}`, 422, "invalid_input"},
			{`{"id":"x","messages":[{"id":"a","role":"assistant","parts":[{"type":"text","text":"hi"}]}]}`, 422, "invalid_input"},
			{`{"id":"x","messages":[{"id":"u","role":"user","parts":[{"type":"text","text":"   "}]}]}`, 422, "invalid_input"},
			{`{"id":"x","messages":"add milk"}`, 400, "invalid_json"},
		} {
			res, _ := streamChat(t, h, "refused", tc.body)
			var e errorBody
			res.json(&e)
			if res.Code != tc.status || e.Code != tc.code || strings.HasPrefix(res.Header().Get("Content-Type"), "text/event-stream") {
				t.Errorf("%s: %d %s %+v", tc.body, res.Code, res.Header().Get("Content-Type"), e)
			}
		}
		streamChat(t, h, "limited", `{"message":"add milk"}`)
		res, _ := streamChat(t, h, "limited", `{"message":"add bread"}`)
		if res.Code != 429 || res.Header().Get("Retry-After") == "" {
			t.Errorf("past the rate limit: %d %v", res.Code, res.Header())
		}
		if ts := tasksOf(t, h, "refused", "all"); len(ts) != 0 || len(tasksOf(t, h, "limited", "all")) != 1 {
			t.Errorf("written: %+v", ts)
		}
	})
}

// TestStreamReplay: an Idempotency-Key replays a finished turn as the same
// stream, and runs nothing again.
func TestStreamReplay(t *testing.T) {
	eachStore(t, func(t *testing.T, env map[string]string) {
		h := newApp(t, env)
		_, first := streamChat(t, h, "rp", `{"message":"add milk and bread"}`, "Idempotency-Key", "k-1")
		res, again := streamChat(t, h, "rp", `{"message":"add milk and bread"}`, "Idempotency-Key", "k-1")
		if len(first) == 0 || !slices.Equal(names(first)[:5], names(again)[:5]) || again[len(again)-1].name != "done" ||
			!sameJSON(t, []byte(first[len(first)-1].data), []byte(again[len(again)-1].data)) {
			t.Errorf("first %v\nagain %v", first, again)
		}
		for i := 1; i < 5; i++ {
			if first[i].data != again[i].data {
				t.Errorf("event %d: %s / %s", i, first[i].data, again[i].data)
			}
		}
		if ts := tasksOf(t, h, "rp", "all"); len(ts) != 2 || res.Code != 200 {
			t.Errorf("%d tasks after the replay", len(ts))
		}
		// A plain request with the key gets the same answer as JSON.
		p := postChat(t, h, "rp", `{"message":"add milk and bread"}`, "Idempotency-Key", "k-1")
		if p.Header().Get("Idempotent-Replayed") != "true" || !sameJSON(t, p.Body.Bytes(), []byte(first[len(first)-1].data)) {
			t.Errorf("plain replay: %s", p.Body)
		}
	})
}

// uiChunkKeys are the fields each UI message stream chunk may have (the
// AI SDK's schema is strict: an unknown field fails the stream).
var uiChunkKeys = map[string][]string{
	"start":                 {"type", "messageId", "messageMetadata"},
	"start-step":            {"type"},
	"text-start":            {"type", "id"},
	"text-delta":            {"type", "id", "delta"},
	"text-end":              {"type", "id"},
	"tool-input-available":  {"type", "toolCallId", "toolName", "input", "dynamic"},
	"tool-output-available": {"type", "toolCallId", "output", "dynamic"},
	"tool-output-error":     {"type", "toolCallId", "errorText", "dynamic"},
	"finish-step":           {"type"},
	"finish":                {"type", "messageMetadata"},
	"error":                 {"type", "errorText"},
}

// uiChunks checks a UI message stream and returns its chunks.
func uiChunks(t *testing.T, res response) []map[string]any {
	t.Helper()
	if res.Code != 200 || res.Header().Get("X-Vercel-AI-UI-Message-Stream") != "v1" || !strings.HasPrefix(res.Header().Get("Content-Type"), "text/event-stream") {
		t.Fatalf("%d %v: %s", res.Code, res.Header(), res.Body)
	}
	evs := readEvents(t, strings.NewReader(res.Body.String()))
	if len(evs) == 0 || evs[len(evs)-1].data != "[DONE]" {
		t.Fatalf("the stream does not end with [DONE]: %v", evs)
	}
	var out []map[string]any
	for _, e := range evs[:len(evs)-1] {
		if e.name != "" {
			t.Errorf("a named event in a UI message stream: %+v", e)
		}
		var c map[string]any
		if err := json.Unmarshal([]byte(e.data), &c); err != nil {
			t.Fatalf("chunk %s: %v", e.data, err)
		}
		allowed, ok := uiChunkKeys[fmt.Sprint(c["type"])]
		if !ok {
			t.Errorf("unknown chunk type: %s", e.data)
		}
		for k := range c {
			if !slices.Contains(allowed, k) {
				t.Errorf("chunk %s has a field the protocol does not: %s", c["type"], k)
			}
		}
		out = append(out, c)
	}
	return out
}

func chunkTypes(cs []map[string]any) []string {
	var out []string
	for _, c := range cs {
		out = append(out, fmt.Sprint(c["type"]))
	}
	return out
}

// TestStreamUIChat: useChat's request body is answered in the AI SDK's UI
// message stream; the next request, whose messages hold the assistant
// message taskchat streamed, continues the same conversation.
func TestStreamUIChat(t *testing.T) {
	eachStore(t, func(t *testing.T, env map[string]string) {
		h := newApp(t, env)
		u1 := `{"id":"u1","role":"user","parts":[{"type":"text","text":"add a task to buy milk"}]}`
		res := do(t, h, "POST", "/api/ui/chat", strings.NewReader(`{"id":"Xy7chat","messages":[`+u1+`],"trigger":"submit-message"}`), "Content-Type", "application/json")
		cs := uiChunks(t, res)
		want := []string{"start", "start-step", "tool-input-available", "tool-output-available", "text-start", "text-delta", "text-end", "finish-step", "finish"}
		if got := chunkTypes(cs); !slices.Equal(got, want) {
			t.Fatalf("chunks %v, want %v", got, want)
		}
		msgID, _ := cs[0]["messageId"].(string)
		meta, _ := cs[0]["messageMetadata"].(map[string]any)
		if !strings.HasPrefix(msgID, "tc-") || meta["conversation_id"] == nil || cs[2]["toolName"] != "add_task" || cs[2]["toolCallId"] != cs[3]["toolCallId"] ||
			!strings.Contains(fmt.Sprint(cs[5]["delta"]), `Added "Buy milk"`) {
			t.Errorf("chunks %v", cs)
		}
		conv := meta["conversation_id"]

		// The second turn: the history as useChat keeps it.
		a1 := fmt.Sprintf(`{"id":%q,"role":"assistant","parts":[{"type":"text","text":"Added"}]}`, msgID)
		u2 := `{"id":"u2","role":"user","parts":[{"type":"text","text":"mark it as done"}]}`
		cs = uiChunks(t, do(t, h, "POST", "/api/ui/chat", strings.NewReader(`{"id":"Xy7chat","messages":[`+u1+`,`+a1+`,`+u2+`],"trigger":"submit-message"}`), "Content-Type", "application/json"))
		if m, _ := cs[0]["messageMetadata"].(map[string]any); m["conversation_id"] != conv || cs[2]["toolName"] != "complete_task" {
			t.Errorf("the second turn: %v", cs)
		}
		// A tool error is a tool-output-error.
		u3 := `{"id":"u3","role":"user","parts":[{"type":"text","text":"delete task 99"}]}`
		cs = uiChunks(t, do(t, h, "POST", "/api/ui/chat", strings.NewReader(fmt.Sprintf(`{"id":"%v","messages":[%s]}`, conv, u3)), "Content-Type", "application/json"))
		if m, _ := cs[0]["messageMetadata"].(map[string]any); m["conversation_id"] != conv || !slices.Contains(chunkTypes(cs), "tool-output-error") {
			t.Errorf("a numeric chat id, a tool error: %v", cs)
		}
		var convs conversationsPage
		getJSON(t, h, "/api/ui/conversations", &convs)
		if len(convs.Conversations) != 1 || convs.Conversations[0].MessageCount != 6 {
			t.Errorf("conversations %+v", convs.Conversations)
		}
		if ts := tasksOf(t, h, "ui", "all"); len(ts) != 1 || !ts[0].Completed {
			t.Errorf("tasks %+v", ts)
		}
	})
}

// streamedModel answers as Chat Completions' event stream: one chunk per
// delta, then one with the finish reason, then [DONE].
func streamedModel(finish string, deltas ...map[string]any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		chunk := func(delta map[string]any, reason any) {
			b, _ := json.Marshal(map[string]any{"id": "chatcmpl-s", "object": "chat.completion.chunk", "created": 1764115200, "model": "test-model",
				"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": reason}}})
			fmt.Fprintf(w, "data: %s\n\n", b)
			w.(http.Flusher).Flush()
		}
		for _, d := range deltas {
			chunk(d, nil)
		}
		chunk(map[string]any{}, finish)
		fmt.Fprint(w, "data: [DONE]\n\n")
	}
}

// streamedText streams a reply in pieces.
func streamedText(pieces ...string) http.HandlerFunc {
	deltas := []map[string]any{{"role": "assistant", "content": ""}}
	for _, p := range pieces {
		deltas = append(deltas, map[string]any{"content": p})
	}
	return streamedModel("stop", deltas...)
}

// streamedCall streams one tool call: its id, name and what the provider
// attaches in the first piece, the arguments split over the rest.
func streamedCall(id, name string, extra map[string]any, argPieces ...string) http.HandlerFunc {
	first := map[string]any{"index": 0, "id": id, "type": "function", "function": map[string]any{"name": name, "arguments": ""}}
	for k, v := range extra {
		first[k] = v
	}
	deltas := []map[string]any{{"role": "assistant", "content": nil, "tool_calls": []any{first}}}
	for _, p := range argPieces {
		deltas = append(deltas, map[string]any{"tool_calls": []any{map[string]any{"index": 0, "function": map[string]any{"arguments": p}}}})
	}
	return streamedModel("tool_calls", deltas...)
}

// TestStreamLLM: the model is called with streaming on; tool-call deltas
// split across chunks are put together (what a provider attaches kept for
// the next request); the reply's deltas reach the client as they come;
// done is the plain answer, and the rows are a plain turn's.
func TestStreamLLM(t *testing.T) {
	sig := map[string]any{"extra_content": map[string]any{"google": map[string]any{"thought_signature": "c2lnbmF0dXJl"}}}
	f := newFakeModel(t,
		streamedCall("call_a", "add_task", sig, `{"ti`, `tle":"Buy`, ` milk"}`),
		streamedText("Added ", `"Buy milk" `, "(task 1)."),
	)
	h, _ := llmApp(t, f)
	_, evs := streamChat(t, h, "sl", `{"message":"Add a task to buy milk"}`)
	if got := names(evs); !slices.Equal(got, []string{"start", "tool_call", "tool_result", "text", "text", "text", "done"}) {
		t.Fatalf("events %v: %v", got, evs)
	}
	var call struct {
		Arguments json.RawMessage `json:"arguments"`
		Tool      string          `json:"tool"`
	}
	_ = json.Unmarshal([]byte(evs[1].data), &call)
	if call.Tool != "add_task" || !sameJSON(t, call.Arguments, []byte(`{"title":"Buy milk"}`)) {
		t.Errorf("tool_call %s", evs[1].data)
	}
	var done chatReply
	_ = json.Unmarshal([]byte(evs[6].data), &done)
	if done.Agent != "llm" || done.Response != `Added "Buy milk" (task 1).` || len(done.ToolCalls) != 1 {
		t.Errorf("done %s", evs[6].data)
	}
	reqs := f.requests()
	if len(reqs) != 2 || reqs[0].body["stream"] != true || reqs[1].body["stream"] != true {
		t.Fatalf("model requests %v", reqs)
	}
	back := messagesSent(t, reqs[1])
	echo, _ := json.Marshal(back[len(back)-2])
	if !strings.Contains(string(echo), `"thought_signature":"c2lnbmF0dXJl"`) || !strings.Contains(string(echo), `"id":"call_a"`) ||
		!strings.Contains(string(echo), `"arguments":"{\"title\":\"Buy milk\"}"`) {
		t.Errorf("the assembled call went back as %s", echo)
	}
	var page messagesPage
	getJSON(t, h, fmt.Sprintf("/api/sl/conversations/%d/messages", done.ConversationID), &page)
	if len(page.Messages) != 2 || page.Messages[1].Content != done.Response || len(page.Messages[1].ToolCalls) != 1 {
		t.Errorf("stored %+v", page.Messages)
	}

	// A provider that answers with one JSON body although asked to stream
	// is read all the same; markup written as text never reaches the client.
	f2 := newFakeModel(t,
		calls("list_tasks", `{}`),
		streamedText("<tool_call>", `{"name": "add_task", "arguments": {"title": "Bread"}}`, "</tool_call>"),
		streamedText("Added Bread."),
	)
	h2, _ := llmApp(t, f2)
	_, evs = streamChat(t, h2, "sl", `{"message":"add bread"}`)
	for _, e := range evs {
		if e.name == "text" && strings.Contains(e.data, "tool_call") {
			t.Errorf("markup streamed: %s", e.data)
		}
	}
	if got := names(evs); len(got) == 0 || got[len(got)-1] != "done" || !slices.Contains(got, "text") || strings.Count(strings.Join(got, ","), "tool_call") != 2 {
		t.Errorf("events %v", evs)
	}
}

// TestStreamLLMFailsMidStream: a model stream that breaks off falls back
// to the offline agent, which streams its own reply; done says so.
func TestStreamLLMFailsMidStream(t *testing.T) {
	f := newFakeModel(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, `data: {"choices":[{"index":0,"delta":{"role":"assistant","content":"Sure"},"finish_reason":null}]}`+"\n\n")
		// …and the connection ends, with no finish and no [DONE].
	})
	h, _ := llmApp(t, f)
	_, evs := streamChat(t, h, "sf", `{"message":"add a task to buy milk"}`)
	got := names(evs)
	if len(got) == 0 || got[len(got)-1] != "done" {
		t.Fatalf("events %v", evs)
	}
	var done chatReply
	_ = json.Unmarshal([]byte(evs[len(evs)-1].data), &done)
	if done.Agent != "offline" || !strings.Contains(done.Response, `Added "Buy milk"`) {
		t.Errorf("done %+v", done)
	}
	if ts := tasksOf(t, h, "sf", "all"); len(ts) != 1 {
		t.Errorf("tasks %+v", ts)
	}
}

// waitFor polls cond until it holds (the server finishing a turn its
// client left); it fails the test after a generous while.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 400 {
		if cond() {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("%s never happened", what)
}

// openStream starts a streamed chat over a real connection and returns its
// events as they come, and a function that hangs up.
func openStream(t *testing.T, url, body string) (<-chan sseEvent, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	evs := make(chan sseEvent, 64)
	go func() {
		defer close(evs)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		var cur sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "" && (cur.name != "" || cur.data != ""):
				evs <- cur
				cur = sseEvent{}
			case strings.HasPrefix(line, ":"):
				evs <- sseEvent{name: ":"}
			case strings.HasPrefix(line, "event: "):
				cur.name = line[7:]
			case strings.HasPrefix(line, "data: "):
				cur.data += line[6:]
			}
		}
	}()
	return evs, cancel
}

func until(t *testing.T, evs <-chan sseEvent, name string) sseEvent {
	t.Helper()
	for e := range evs {
		if e.name == name {
			return e
		}
	}
	t.Fatalf("the stream ended before %q", name)
	return sseEvent{}
}

// turnsLogged counts the chat requests the log has a line for: a request
// is logged when its handler returns, its turn over.
func turnsLogged(logs *syncBuffer) int {
	return strings.Count(logs.String(), `"route":"POST /api/{user_id}/chat"`)
}

// TestStreamDisconnect: a client that leaves before any tool ran leaves
// only its user message; one that leaves after a tool ran leaves the whole
// turn, finished and stored.
func TestStreamDisconnect(t *testing.T) {
	eachStore(t, func(t *testing.T, env map[string]string) {
		var extra []string
		for k, v := range env {
			extra = append(extra, k, v)
		}
		streamDisconnect(t, extra)
	})
}

func streamDisconnect(t *testing.T, extra []string) {
	t.Run("before any tool", func(t *testing.T) {
		called := make(chan struct{})
		f := newFakeModel(t, func(w http.ResponseWriter, r *http.Request) {
			close(called)
			<-r.Context().Done()
		})
		app, logs := llmApp(t, f, extra...)
		srv := httptest.NewServer(app)
		t.Cleanup(srv.Close)
		evs, hangUp := openStream(t, srv.URL+"/api/dc1/chat", `{"message":"add a task to buy milk"}`)
		start := until(t, evs, "start")
		<-called
		hangUp()
		waitFor(t, "the turn ending", func() bool { return turnsLogged(logs) == 1 })
		var conv struct {
			ConversationID int64 `json:"conversation_id"`
		}
		_ = json.Unmarshal([]byte(start.data), &conv)
		var page messagesPage
		getJSON(t, app, fmt.Sprintf("/api/dc1/conversations/%d/messages", conv.ConversationID), &page)
		if len(page.Messages) != 1 || page.Messages[0].Role != "user" || len(tasksOf(t, app, "dc1", "all")) != 0 {
			t.Errorf("after the client left: %+v, tasks %+v", page.Messages, tasksOf(t, app, "dc1", "all"))
		}
	})
	t.Run("after a tool ran", func(t *testing.T) {
		release := make(chan struct{})
		f := newFakeModel(t,
			calls("add_task", `{"title":"Buy milk"}`),
			func(w http.ResponseWriter, r *http.Request) {
				<-release
				text(`Added "Buy milk" (task 1).`)(w, r)
			},
		)
		app, logs := llmApp(t, f, extra...)
		srv := httptest.NewServer(app)
		t.Cleanup(srv.Close)
		evs, hangUp := openStream(t, srv.URL+"/api/dc2/chat", `{"message":"add a task to buy milk"}`)
		start := until(t, evs, "start")
		until(t, evs, "tool_result")
		hangUp()
		close(release)
		waitFor(t, "the turn ending", func() bool { return turnsLogged(logs) == 1 })
		var conv struct {
			ConversationID int64 `json:"conversation_id"`
		}
		_ = json.Unmarshal([]byte(start.data), &conv)
		var page messagesPage
		getJSON(t, app, fmt.Sprintf("/api/dc2/conversations/%d/messages", conv.ConversationID), &page)
		if len(page.Messages) != 2 || page.Messages[1].Content != `Added "Buy milk" (task 1).` || len(page.Messages[1].ToolCalls) != 1 ||
			len(tasksOf(t, app, "dc2", "all")) != 1 {
			t.Errorf("after the client left: %+v", page.Messages)
		}
	})
}

// TestStreamErrorAfterStart: a failure once the stream has begun is an
// error event ending the stream, never a second status line; a quiet
// stream gets keep-alive comments.
func TestStreamErrorAfterStart(t *testing.T) {
	defer taskchat.SetHeartbeat(10 * time.Millisecond)()
	release := make(chan struct{})
	f := newFakeModel(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
		text("Hello!")(w, r)
	})
	app, _ := llmApp(t, f)
	srv := httptest.NewServer(app)
	t.Cleanup(srv.Close)
	evs, hangUp := openStream(t, srv.URL+"/api/se/chat", `{"message":"hello there"}`)
	defer hangUp()
	start := until(t, evs, "start")
	until(t, evs, ":") // a keep-alive while the model thinks
	var conv struct {
		ConversationID int64 `json:"conversation_id"`
	}
	_ = json.Unmarshal([]byte(start.data), &conv)
	// The conversation goes while the turn runs: storing the reply fails.
	if res := do(t, app, "DELETE", fmt.Sprintf("/api/se/conversations/%d", conv.ConversationID), nil); res.Code != 204 {
		t.Fatalf("delete: %d", res.Code)
	}
	close(release)
	e := until(t, evs, "error")
	var body errorBody
	if err := json.Unmarshal([]byte(e.data), &body); err != nil || body.Code != "conversation_not_found" || body.Detail == "" {
		t.Errorf("error event %s", e.data)
	}
	for rest := range evs {
		if rest.name != ":" {
			t.Errorf("an event after the error: %+v", rest)
		}
	}
}

// TestStreamProviderWithoutStreaming: a provider that refuses "stream":
// true is asked the same call again, answered whole, and the turn still
// streams to the client.
func TestStreamProviderWithoutStreaming(t *testing.T) {
	f := newFakeModel(t,
		func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":{"message":"stream is not supported with tools for this model","type":"invalid_request_error"}}`)
		},
		text("Hello! I manage your tasks."),
	)
	h, _ := llmApp(t, f)
	_, evs := streamChat(t, h, "nostream", `{"message":"hello"}`)
	if got := names(evs); !slices.Equal(got, []string{"start", "text", "done"}) || !strings.Contains(evs[1].data, "Hello! I manage your tasks.") {
		t.Fatalf("events %v", evs)
	}
	reqs := f.requests()
	if len(reqs) != 2 || reqs[0].body["stream"] != true || reqs[1].body["stream"] != nil {
		t.Errorf("requests: %v", reqs)
	}
	var done chatReply
	_ = json.Unmarshal([]byte(evs[2].data), &done)
	if done.Agent != "llm" {
		t.Errorf("done %+v", done)
	}
}
