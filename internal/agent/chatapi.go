package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
)

// A Chat Completions client that speaks each provider's dialect. It keeps
// messages as the JSON they are, so what a provider adds to a message —
// Gemini's thought signatures on tool calls, ids, fields taskchat does not
// know — goes back to it exactly as it came, and what it must not see
// again (reasoning) is taken out. go-openai's typed messages drop the
// first; the official SDK would carry them but weighs more than the rest
// of the binary.

// dialect is what one provider accepts beyond the common ground.
type dialect struct {
	// schemaKeys are the JSON Schema keywords the provider takes in tool
	// parameters; nil takes all. Gemini's OpenAI endpoint refuses the
	// whole request over one it does not know ("additionalProperties").
	schemaKeys []string
}

// dialects by provider name; a provider not listed speaks OpenAI's.
var dialects = map[string]dialect{
	"gemini": {schemaKeys: []string{"type", "description", "properties", "required", "enum", "items", "nullable",
		"format", "minimum", "maximum", "anyOf"}},
}

// reasoningFields are what a model says to itself; sent back, some
// providers refuse the request (Groq: "property 'reasoning_content' is
// unsupported"), and none needs them.
var reasoningFields = []string{"reasoning_content", "reasoning", "reasoning_details", "thinking", "reasoning_text"}

// chatClient calls one provider's /chat/completions.
type chatClient struct {
	http    *http.Client
	url     string
	apiKey  string
	model   string
	dialect dialect
	tools   []json.RawMessage // the tool table in the provider's dialect
}

func newChatClient(httpc *http.Client, baseURL, apiKey, model string, d dialect) *chatClient {
	c := &chatClient{http: httpc, url: strings.TrimRight(baseURL, "/") + "/chat/completions", apiKey: apiKey, model: model, dialect: d}
	for _, t := range tools {
		def, _ := json.Marshal(map[string]any{"type": "function", "function": map[string]any{
			"name": t.name, "description": t.description, "parameters": d.schema(t.params),
		}})
		c.tools = append(c.tools, def)
	}
	return c
}

// schema keeps the keywords of s the dialect accepts, at every level.
func (d dialect) schema(s map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range s {
		if d.schemaKeys != nil && !slices.Contains(d.schemaKeys, k) {
			continue
		}
		switch k {
		case "properties":
			props := map[string]any{}
			for name, p := range v.(map[string]any) {
				props[name] = d.schema(p.(map[string]any))
			}
			v = props
		case "items":
			if m, ok := v.(map[string]any); ok {
				v = d.schema(m)
			}
		}
		out[k] = v
	}
	return out
}

// wireCall is a tool call as a response carries it: arguments are a JSON
// string, or (llama.cpp, TGI) an object.
type wireCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	} `json:"function"`
}

// answer is the first choice's message, read and as it came.
type answer struct {
	raw       map[string]json.RawMessage
	content   string
	toolCalls []wireCall
}

// apiError is a provider's error answer, in any of the shapes they send.
type apiError struct {
	status  int
	message string
}

func (e *apiError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.status, e.message) }

// unreadable is an answer that is not a chat completion.
type unreadable struct {
	status int
	why    string
}

func (e *unreadable) Error() string {
	return fmt.Sprintf("the model API answered HTTP %d with a body taskchat cannot read (%s)", e.status, e.why)
}

// maxAnswerBytes bounds what is read of an answer.
const maxAnswerBytes = 4 << 20

// complete sends the conversation and returns the model's answer.
func (c *chatClient) complete(ctx context.Context, messages []json.RawMessage) (answer, error) {
	res, err := c.post(ctx, messages, false)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	return readWhole(res)
}

// post sends the conversation, asking for an event stream when stream is
// set; the caller closes the answer's body.
func (c *chatClient) post(ctx context.Context, messages []json.RawMessage, stream bool) (*http.Response, error) {
	body, err := json.Marshal(struct {
		Model    string            `json:"model"`
		Messages []json.RawMessage `json:"messages"`
		Tools    []json.RawMessage `json:"tools,omitempty"`
		Stream   bool              `json:"stream,omitempty"`
	}{c.model, messages, c.tools, stream})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if stream {
		req.Header.Set("Accept", "text/event-stream")
	}
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	return c.http.Do(req)
}

// readWhole reads an answer sent as one body: a completion, or an error.
func readWhole(res *http.Response) (answer, error) {
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxAnswerBytes))
	if err != nil {
		return answer{}, &unreadable{status: res.StatusCode, why: "cut off"}
	}
	if res.StatusCode/100 != 2 {
		return answer{}, errorOf(res.StatusCode, raw)
	}
	return parseAnswer(res.StatusCode, raw)
}

// parseAnswer reads a 2xx body: a completion, or an error in a 200
// (OpenRouter does that when the upstream provider fails).
func parseAnswer(status int, raw []byte) (answer, error) {
	var body struct {
		Choices []struct {
			Message map[string]json.RawMessage `json:"message"`
		} `json:"choices"`
		Error json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		if e := errorOf(status, raw); e.message != "" {
			return answer{}, e // a list of errors, say
		}
		return answer{}, &unreadable{status: status, why: "not a JSON object"}
	}
	if len(body.Error) > 0 && string(body.Error) != "null" {
		return answer{}, errorOf(status, raw)
	}
	if len(body.Choices) == 0 || body.Choices[0].Message == nil {
		return answer{}, &unreadable{status: status, why: "no choices"}
	}
	a := answer{raw: body.Choices[0].Message}
	a.content = contentText(a.raw["content"])
	if tc := a.raw["tool_calls"]; len(tc) > 0 && string(tc) != "null" {
		if err := json.Unmarshal(tc, &a.toolCalls); err != nil {
			return answer{}, &unreadable{status: status, why: "tool_calls of an unknown shape"}
		}
	}
	return a, nil
}

// contentText reads a message's content: a string, or a list of parts
// whose text parts are joined.
func contentText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &parts) == nil {
		var b strings.Builder
		for _, p := range parts {
			if p.Type == "" || p.Type == "text" {
				b.WriteString(p.Text)
			}
		}
		return b.String()
	}
	return ""
}

// errorOf reads an error body: {"error": {"message": …}}, {"error": "…"},
// [{"error": {…}}] (Gemini), {"message": …}, {"detail": …} (Hugging Face),
// or text.
func errorOf(status int, raw []byte) *apiError {
	e := &apiError{status: status}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil && len(list) > 0 {
		raw = list[0]
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		e.message = strings.TrimSpace(string(raw))
		return e
	}
	for _, key := range []string{"error", "message", "detail", "msg"} {
		v, ok := obj[key]
		if !ok {
			continue
		}
		var s string
		if json.Unmarshal(v, &s) == nil {
			e.message = s
			return e
		}
		var inner map[string]json.RawMessage
		if json.Unmarshal(v, &inner) == nil {
			for _, k := range []string{"message", "detail", "msg"} {
				if json.Unmarshal(inner[k], &s) == nil && s != "" {
					e.message = s
					return e
				}
			}
		}
	}
	e.message = strings.TrimSpace(string(raw))
	return e
}

// echo is the answer as it goes back into the conversation: every field as
// it came, reasoning taken out, and an id on every tool call.
func (a answer) echo() (json.RawMessage, error) {
	m := map[string]json.RawMessage{}
	for k, v := range a.raw {
		if !slices.Contains(reasoningFields, k) {
			m[k] = v
		}
	}
	if tc, ok := m["tool_calls"]; ok && len(a.toolCalls) > 0 {
		var calls []map[string]json.RawMessage
		if err := json.Unmarshal(tc, &calls); err != nil {
			return nil, err
		}
		for i, call := range calls {
			if id, ok := call["id"]; !ok || string(id) == `""` || string(id) == "null" {
				call["id"], _ = json.Marshal(a.toolCalls[i].ID)
			}
		}
		m["tool_calls"], _ = json.Marshal(calls)
	}
	if _, ok := m["content"]; !ok {
		m["content"] = json.RawMessage("null")
	}
	return json.Marshal(m)
}

// arguments reads a call's arguments as a JSON object: from a string that
// holds one, or an object given as it is; none is {}.
func (c wireCall) arguments() (json.RawMessage, bool) {
	raw := bytes.TrimSpace(c.Function.Arguments)
	if len(raw) == 0 || string(raw) == "null" {
		return json.RawMessage(`{}`), true
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		raw = bytes.TrimSpace([]byte(s))
		if len(raw) == 0 {
			return json.RawMessage(`{}`), true
		}
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return nil, false
	}
	return raw, true
}

// chatMessage builds a message of the conversation.
func chatMessage(role, content string) json.RawMessage {
	b, _ := json.Marshal(map[string]string{"role": role, "content": content})
	return b
}

// toolMessage is a tool's result as the model reads it.
func toolMessage(id string, result json.RawMessage) json.RawMessage {
	b, _ := json.Marshal(map[string]string{"role": "tool", "tool_call_id": id, "content": string(result)})
	return b
}

// describeCallError says why a model call failed, naming the provider's
// own message — with the key and the person's message taken out, and cut
// short.
func describeCallError(err error, secrets ...string) string {
	var api *apiError
	var bad *unreadable
	switch {
	case errors.As(err, &api):
		return fmt.Sprintf("the model API answered HTTP %d: %s", api.status, redact(api.message, secrets))
	case errors.As(err, &bad):
		return bad.Error()
	case errors.Is(err, context.DeadlineExceeded):
		return "the model call timed out"
	case errors.Is(err, context.Canceled):
		return "the request was canceled"
	}
	return "the model API could not be reached: " + redact(rootCause(err), secrets)
}

// rootCause is the innermost error's text: "connection refused", not the URL.
func rootCause(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}

// redact takes secrets out of a provider's text, folds it to one line and
// cuts it to 300 characters.
func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	s = strings.Join(strings.Fields(s), " ")
	return truncate(s, 300)
}
