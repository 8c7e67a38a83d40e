package agent

import (
	"encoding/json"
	"testing"
)

// FuzzStreamChunks feeds arbitrary chunks to the assembly of a streamed
// answer: it never panics, and what it puts together is an answer a
// non-streamed call could have given (its tool calls decode, its echo is
// JSON).
func FuzzStreamChunks(f *testing.F) {
	for _, seed := range []string{
		`{"choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}`,
		`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","type":"function","function":{"name":"add_task","arguments":"{\"ti"}}]}}]}`,
		`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"tle\":\"x\"}"}}]},"finish_reason":"tool_calls"}]}`,
		`{"choices":[{"delta":{"tool_calls":[{"index":3,"function":{"arguments":{"a":1}}}]}}]}`,
		`{"choices":[{"delta":{"tool_calls":[{"index":-1}]}}]}`,
		`{"error":{"message":"overloaded"}}`,
		`{"choices":[]}`, `[]`, `null`, `{`, `"x"`,
	} {
		f.Add([]byte(seed), []byte(`{"choices":[{"delta":{"content":"!"},"finish_reason":"stop"}]}`))
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		var s streamed
		for _, chunk := range [][]byte{a, b} {
			if err := s.add(200, chunk, func(string) {}); err != nil {
				return
			}
		}
		ans, err := s.answer(200)
		if err != nil {
			return
		}
		if echo, err := ans.echo(); err == nil && !json.Valid(echo) {
			t.Fatalf("echo is not JSON: %s", echo)
		}
	})
}
