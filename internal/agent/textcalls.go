package agent

import (
	"encoding/json"
	"regexp"
	"strings"
)

// Small models behind Ollama and vLLM often write a tool call into the
// answer's text instead of its tool_calls, in one of a few shapes:
//
//	{"name": "add_task", "parameters": {"title": "Buy milk"}}
//	{"type": "function", "function": {"name": "add_task", "arguments": "{…}"}}
//	[{"name": …}, …]                                 (several)
//	<tool_call>{"name": …, "arguments": {…}}</tool_call>   (Hermes, Qwen)
//	[TOOL_CALLS][{"name": …, "arguments": {…}}]           (Mistral)
//	<|channel|>commentary to=functions.add_task <|constrain|>json<|message|>{…}<|call|>   (gpt-oss's harmony)
//
// possibly inside a ```json fence. textToolCalls reads them when every one
// names a tool of the table with arguments that are a JSON object; then
// they run as real calls. Text that looks like such markup but is not
// one of them is never shown to the person: the turn falls back.

var (
	harmonyCall = regexp.MustCompile(`(?s)to=functions\.([A-Za-z0-9_]+)[^{]*?<\|message\|>\s*(\{.*?\})\s*(?:<\|call\|>|<\|end\|>|$)`)
	hermesCall  = regexp.MustCompile(`(?s)<tool_call>\s*(.*?)\s*</tool_call>`)
	fence       = regexp.MustCompile("(?s)^```[a-zA-Z]*\\s*(.*?)\\s*```$")
	// markup is text no person should be shown as an answer.
	markup = regexp.MustCompile(`<\|[a-z_]+\|>|</?tool_call>|\[TOOL_CALLS\]|^\s*\[?\s*\{\s*"(name|type|function|tool_calls)"\s*:`)
)

// textToolCalls reads tool calls written as text; ok is false when content
// holds none (or any that is not a known tool with object arguments).
func textToolCalls(content string) (calls []wireCall, ok bool) {
	s := strings.TrimSpace(content)
	if m := fence.FindStringSubmatch(s); m != nil {
		s = strings.TrimSpace(m[1])
	}
	if ms := harmonyCall.FindAllStringSubmatch(s, -1); ms != nil {
		for _, m := range ms {
			c, ok := callOf(m[1], json.RawMessage(m[2]))
			if !ok {
				return nil, false
			}
			calls = append(calls, c)
		}
		return calls, true
	}
	if ms := hermesCall.FindAllStringSubmatch(s, -1); ms != nil {
		for _, m := range ms {
			more, ok := jsonCalls(m[1])
			if !ok {
				return nil, false
			}
			calls = append(calls, more...)
		}
		return calls, len(calls) > 0
	}
	s = strings.TrimSpace(strings.TrimPrefix(s, "[TOOL_CALLS]"))
	return jsonCalls(s)
}

// jsonCalls reads one call object, a list of them, or {"tool_calls": […]}.
func jsonCalls(s string) ([]wireCall, bool) {
	var list []json.RawMessage
	if json.Unmarshal([]byte(s), &list) != nil {
		var wrapped struct {
			ToolCalls []json.RawMessage `json:"tool_calls"`
		}
		if json.Unmarshal([]byte(s), &wrapped) == nil && len(wrapped.ToolCalls) > 0 {
			list = wrapped.ToolCalls
		} else {
			list = []json.RawMessage{json.RawMessage(s)}
		}
	}
	var calls []wireCall
	for _, item := range list {
		var o struct {
			Type       string          `json:"type"`
			Name       string          `json:"name"`
			Arguments  json.RawMessage `json:"arguments"`
			Parameters json.RawMessage `json:"parameters"`
			Function   *struct {
				Name       string          `json:"name"`
				Arguments  json.RawMessage `json:"arguments"`
				Parameters json.RawMessage `json:"parameters"`
			} `json:"function"`
		}
		if json.Unmarshal(item, &o) != nil {
			return nil, false
		}
		name, args := o.Name, firstOf(o.Arguments, o.Parameters)
		if o.Function != nil {
			name, args = o.Function.Name, firstOf(o.Function.Arguments, o.Function.Parameters)
		}
		c, ok := callOf(name, args)
		if !ok {
			return nil, false
		}
		calls = append(calls, c)
	}
	return calls, len(calls) > 0
}

func firstOf(a, b json.RawMessage) json.RawMessage {
	if len(a) > 0 && string(a) != "null" {
		return a
	}
	return b
}

// callOf makes a call of a known tool whose arguments are an object.
func callOf(name string, args json.RawMessage) (wireCall, bool) {
	if _, known := toolNamed(name); !known {
		return wireCall{}, false
	}
	c := wireCall{Type: "function"}
	c.Function.Name, c.Function.Arguments = name, args
	if _, ok := c.arguments(); !ok {
		return wireCall{}, false
	}
	return c, true
}

// looksLikeMarkup reports text that is tool-call or template markup, never
// an answer for a person.
func looksLikeMarkup(content string) bool {
	s := strings.TrimSpace(content)
	if m := fence.FindStringSubmatch(s); m != nil {
		s = m[1]
	}
	return markup.MatchString(s)
}
