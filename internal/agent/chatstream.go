package agent

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"sort"
	"strings"
)

// The model called with streaming on: Chat Completions' server-sent
// events, each a chunk whose first choice carries a delta of the message —
// content to append, and tool calls in pieces (the first piece of a call
// names its index, id and function; later ones add to its arguments). The
// pieces are put together into the answer a non-streamed call returns, with
// every field a provider adds to a call (Gemini's extra_content) kept.

// maxStreamLine bounds one event line.
const maxStreamLine = 1 << 20

// stream sends the conversation with "stream": true, hands each piece of
// content to onText as it arrives, and returns the whole answer. A
// provider that answers with one JSON body anyway is read as complete
// reads it.
func (c *chatClient) stream(ctx context.Context, messages []json.RawMessage, onText func(string)) (answer, error) {
	res, err := c.post(ctx, messages, true)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); res.StatusCode/100 != 2 || mt != "text/event-stream" {
		a, err := readWhole(res)
		if err == nil && a.content != "" && len(a.toolCalls) == 0 {
			onText(a.content)
		}
		return a, err
	}

	var acc streamed
	sc := bufio.NewScanner(io.LimitReader(res.Body, maxAnswerBytes))
	sc.Buffer(make([]byte, 0, 64<<10), maxStreamLine)
	for sc.Scan() {
		line := sc.Bytes()
		data, ok := bytes.CutPrefix(line, []byte("data:"))
		if !ok {
			continue // event names, ids, comments, blank lines
		}
		data = bytes.TrimSpace(data)
		if string(data) == "[DONE]" {
			return acc.answer(res.StatusCode)
		}
		if err := acc.add(res.StatusCode, data, onText); err != nil {
			return answer{}, err
		}
	}
	if err := sc.Err(); err != nil {
		if ctx.Err() != nil {
			return answer{}, ctx.Err()
		}
		return answer{}, &unreadable{status: res.StatusCode, why: "the stream broke off: " + err.Error()}
	}
	if !acc.finished {
		return answer{}, &unreadable{status: res.StatusCode, why: "the stream ended before the answer did"}
	}
	return acc.answer(res.StatusCode)
}

// streamed is an answer being put together from its chunks.
type streamed struct {
	content  strings.Builder
	role     json.RawMessage
	calls    map[int]*streamedCall
	finished bool // a chunk gave a finish_reason
	chunks   int
}

// streamedCall is one tool call being put together.
type streamedCall struct {
	fields    map[string]json.RawMessage // as the first piece had them, function aside
	name      string
	arguments strings.Builder
	rawArgs   json.RawMessage // arguments sent as an object (llama.cpp), not text
}

// add reads one chunk.
func (s *streamed) add(status int, data []byte, onText func(string)) error {
	var chunk struct {
		Choices []struct {
			Delta        map[string]json.RawMessage `json:"delta"`
			FinishReason *string                    `json:"finish_reason"`
		} `json:"choices"`
		Error json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(data, &chunk); err != nil {
		return &unreadable{status: status, why: "a stream chunk that is not JSON"}
	}
	if len(chunk.Error) > 0 && string(chunk.Error) != "null" {
		return errorOf(status, data)
	}
	s.chunks++
	if len(chunk.Choices) == 0 {
		return nil // usage, or keep-alive
	}
	ch := chunk.Choices[0]
	if ch.FinishReason != nil && *ch.FinishReason != "" {
		s.finished = true
	}
	if r, ok := ch.Delta["role"]; ok && s.role == nil {
		s.role = r
	}
	if text := contentText(ch.Delta["content"]); text != "" {
		s.content.WriteString(text)
		onText(text)
	}
	if tc := ch.Delta["tool_calls"]; len(tc) > 0 && string(tc) != "null" {
		var pieces []map[string]json.RawMessage
		if err := json.Unmarshal(tc, &pieces); err != nil {
			return &unreadable{status: status, why: "tool_calls of an unknown shape"}
		}
		for i, p := range pieces {
			if err := s.addCall(i, p); err != nil {
				return &unreadable{status: status, why: err.Error()}
			}
		}
	}
	return nil
}

// addCall adds one piece of a tool call: its index says which (a provider
// that sends none sends each call whole, in order).
func (s *streamed) addCall(pos int, p map[string]json.RawMessage) error {
	idx := pos
	if raw, ok := p["index"]; ok {
		if err := json.Unmarshal(raw, &idx); err != nil {
			return err
		}
	} else {
		idx = len(s.calls)
	}
	if s.calls == nil {
		s.calls = map[int]*streamedCall{}
	}
	c, ok := s.calls[idx]
	if !ok {
		c = &streamedCall{fields: map[string]json.RawMessage{}}
		s.calls[idx] = c
	}
	for k, v := range p {
		switch k {
		case "index":
		case "function":
			var fn struct {
				Name      string          `json:"name"`
				Arguments json.RawMessage `json:"arguments"`
			}
			if err := json.Unmarshal(v, &fn); err != nil {
				return err
			}
			if fn.Name != "" {
				c.name = fn.Name
			}
			var piece string
			if json.Unmarshal(fn.Arguments, &piece) == nil {
				c.arguments.WriteString(piece)
			} else if len(fn.Arguments) > 0 && string(fn.Arguments) != "null" {
				c.rawArgs = fn.Arguments
			}
		default:
			if string(v) == "null" || string(v) == `""` {
				continue
			}
			if _, seen := c.fields[k]; !seen {
				c.fields[k] = v
			}
		}
	}
	return nil
}

// answer is the whole answer, as parseAnswer would have read it.
func (s *streamed) answer(status int) (answer, error) {
	if s.chunks == 0 {
		return answer{}, &unreadable{status: status, why: "an empty stream"}
	}
	msg := map[string]json.RawMessage{}
	msg["role"] = json.RawMessage(`"assistant"`)
	if s.role != nil {
		msg["role"] = s.role
	}
	content := s.content.String()
	msg["content"] = json.RawMessage("null")
	if content != "" {
		msg["content"], _ = json.Marshal(content)
	}
	if len(s.calls) > 0 {
		idx := make([]int, 0, len(s.calls))
		for i := range s.calls {
			idx = append(idx, i)
		}
		sort.Ints(idx)
		var calls []map[string]json.RawMessage
		for _, i := range idx {
			c := s.calls[i]
			call := map[string]json.RawMessage{}
			for k, v := range c.fields {
				call[k] = v
			}
			args := c.rawArgs
			if args == nil {
				args, _ = json.Marshal(c.arguments.String())
			}
			call["function"], _ = json.Marshal(map[string]json.RawMessage{"name": mustJSON(c.name), "arguments": args})
			calls = append(calls, call)
		}
		msg["tool_calls"], _ = json.Marshal(calls)
	}
	a := answer{raw: msg, content: content}
	if tc := msg["tool_calls"]; tc != nil {
		if err := json.Unmarshal(tc, &a.toolCalls); err != nil {
			return answer{}, &unreadable{status: status, why: "tool_calls of an unknown shape"}
		}
	}
	return a, nil
}

func mustJSON(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}
