package taskchat_test

import (
	"bytes"
	"net/http"
	"testing"
)

// FuzzChatRequest throws arbitrary bodies at the chat route: every answer is a
// 200 or a clear 4xx, and a refused request stores nothing.
func FuzzChatRequest(f *testing.F) {
	for _, seed := range []string{
		`{"message":"Add a task to buy groceries"}`,
		`{"message":"Show me all my tasks","conversation_id":1}`,
		`{"message":"hi","conversation_id":"1"}`,
		`{"message":"hi","conversation_id":"3fa85f64-5717-4562-b3fc-2c963f66afa6"}`,
		`{"message":"","conversation_id":null}`,
		`{"message":"a\u0000b"}`,
		"{\"message\":\"\xff\"}",
		`{"message":["nested",{"deep":[[[[]]]]}]}`,
		`{"message":1e999}`,
		`{"message":"x"}{}`,
		`[]`, `null`, ``, `{`,
		// useChat's bodies.
		`{"id":"c1","messages":[{"id":"u1","role":"user","parts":[{"type":"text","text":"add milk"}]}],"trigger":"submit-message"}`,
		`{"id":"7","messages":[{"id":"tc-1-ab","role":"assistant","parts":[]},{"id":"u2","role":"user","parts":[{"type":"text","text":"hi"}]}]}`,
		`{"messages":[{"role":"user","content":"add bread"}]}`,
		`{"messages":[{"role":"user","parts":[{"type":"file","url":"x"}]}]}`,
		`{"messages":[{"id":"tc-99999999999999999999-x","role":"assistant"},{"role":"user","parts":[{"type":"text","text":"x"}]}]}`,
		`{"messages":{}}`, `{"messages":[1,2]}`,
	} {
		f.Add([]byte(seed))
	}
	h := newApp(f, map[string]string{"CHAT_RATE_LIMIT": "0", "CHAT_ADDRESS_RATE_LIMIT": "0"})
	f.Fuzz(func(t *testing.T, body []byte) {
		before := countMessages(t, h)
		res := do(t, h, "POST", "/api/fuzz/chat", bytes.NewReader(body), "Content-Type", "application/json")
		switch res.Code {
		case http.StatusOK: // JSON, or useChat's stream for its bodies
			return
		case http.StatusBadRequest, http.StatusNotFound, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
			var e errorBody
			res.json(&e)
			if e.Detail == "" || e.Code == "" {
				t.Fatalf("%d without a clear error: %s", res.Code, res.Body)
			}
		default:
			t.Fatalf("body %q: status %d %s", body, res.Code, res.Body)
		}
		if after := countMessages(t, h); after != before {
			t.Fatalf("refused request %q stored %d messages", body, after-before)
		}
	})
}

func countMessages(t *testing.T, h http.Handler) int {
	t.Helper()
	var page conversationsPage
	getJSON(t, h, "/api/fuzz/conversations?limit=100", &page)
	n := 0
	for _, c := range page.Conversations {
		n += c.MessageCount
	}
	return n + len(page.Conversations)*1000
}
