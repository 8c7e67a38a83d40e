package taskchat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/taskchat/taskchat/internal/agent"
	"github.com/taskchat/taskchat/internal/store"
)

// Streamed replies (see the README, "Streamed replies"): the chat turn as
// server-sent events while it happens, in taskchat's own events when the
// request accepts text/event-stream, or in the Vercel AI SDK's UI message
// stream when the body is useChat's. Either way the turn is the one a plain
// request runs, and stores the same rows; the stream only watches it.

// heartbeatEvery is how often a quiet stream gets a comment, so proxies
// that close idle connections (Hugging Face's, Cloud Run's) keep it open.
var heartbeatEvery = 15 * time.Second

// wantsEventStream reports an Accept header that names text/event-stream
// (in any of its values: a Lambda adapter splits one at its commas).
func wantsEventStream(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(v, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if q, _ := strconv.ParseFloat(params["q"], 64); err == nil && mt == "text/event-stream" && (params["q"] == "" || q > 0) {
				return true
			}
		}
	}
	return false
}

// turnStream is what a streamed turn tells its client, in one protocol.
type turnStream interface {
	start(conv int64)
	toolStarted(ev agent.Event)
	toolEnded(ev agent.Event)
	text(delta string)
	done(body json.RawMessage, conv int64, agentName string)
	fail(ae *apiError)
}

// sse writes server-sent events. The 200 and its headers go out with the
// first event, so a turn refused before it begins (rate limited, no such
// conversation) is answered with its own status, as a plain request is.
// Writes are serialized (the heartbeat runs beside the turn), and once one
// fails — the client left — the rest are dropped: the turn goes on without
// an audience.
type sse struct {
	mu      sync.Mutex
	w       http.ResponseWriter
	rc      *http.ResponseController
	headers map[string]string
	budget  time.Duration
	started bool
	gone    bool
}

// newSSE prepares an event stream on w and keeps it alive, once begun,
// until the returned stop is called.
func newSSE(w http.ResponseWriter, budget time.Duration, headers map[string]string) (*sse, func()) {
	s := &sse{w: w, rc: http.NewResponseController(w), budget: budget, headers: headers}
	done := make(chan struct{})
	every := heartbeatEvery
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				s.heartbeat()
			}
		}
	}()
	var once sync.Once
	return s, func() { once.Do(func() { close(done) }) }
}

// begin sends the status line and headers; s.mu is held.
func (s *sse) begin() {
	s.started = true
	h := s.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx and its kin: do not buffer
	for k, v := range s.headers {
		h.Set(k, v)
	}
	s.extend()
	s.w.WriteHeader(http.StatusOK)
}

// begun reports whether the stream has begun.
func (s *sse) begun() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started
}

func (s *sse) heartbeat() {
	if s.begun() {
		s.write(": keep-alive\n\n")
	}
}

// extend moves the write deadline past the turn's budget: the server's own
// WriteTimeout is meant for plain answers, not a turn that takes a minute.
func (s *sse) extend() {
	_ = s.rc.SetWriteDeadline(time.Now().Add(s.budget))
}

// flush sends what was written. A writer that cannot flush (a Lambda
// adapter that answers with one buffered response) gets the events all
// at the end, which is still the stream, complete.
func (s *sse) flush() {
	if err := s.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		s.gone = true
	}
}

// write sends raw event text.
func (s *sse) write(text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gone {
		return
	}
	if !s.started {
		s.begin()
	}
	s.extend()
	if _, err := s.w.Write([]byte(text)); err != nil {
		s.gone = true
		return
	}
	s.flush()
}

// event sends one event: a name (or none) and JSON data.
func (s *sse) event(name string, data any) {
	b, err := json.Marshal(data)
	if err != nil {
		b = []byte(`{"detail":"Could not encode the event.","code":"internal_error"}`)
		name = "error"
	}
	var out strings.Builder
	if name != "" {
		out.WriteString("event: " + name + "\n")
	}
	out.WriteString("data: ")
	out.Write(b)
	out.WriteString("\n\n")
	s.write(out.String())
}

// taskchatStream is taskchat's own protocol: named events, the last of
// them done (the plain answer's JSON) or error.
type taskchatStream struct{ s *sse }

func (t taskchatStream) start(conv int64) {
	t.s.event("start", map[string]int64{"conversation_id": conv})
}

func (t taskchatStream) toolStarted(ev agent.Event) {
	t.s.event("tool_call", map[string]any{"id": ev.CallID, "tool": ev.Tool, "arguments": ev.Args})
}

func (t taskchatStream) toolEnded(ev agent.Event) {
	t.s.event("tool_result", map[string]any{"id": ev.CallID, "tool": ev.Tool, "result": ev.Result, "error": ev.Failed})
}

func (t taskchatStream) text(delta string) { t.s.event("text", map[string]string{"delta": delta}) }

func (t taskchatStream) done(body json.RawMessage, _ int64, _ string) { t.s.event("done", body) }

func (t taskchatStream) fail(ae *apiError) { t.s.event("error", ae) }

// uiStream is the AI SDK's UI message stream protocol (v1, as useChat
// reads it): chunks as data lines, ended by [DONE]. The assistant
// message's id carries the conversation ("tc-12-…"), so the next request,
// whose messages hold it, continues that conversation.
type uiStream struct {
	s      *sse
	textID string // the open text part, "" when none
	parts  int
}

func (u *uiStream) start(conv int64) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	u.s.event("", map[string]any{"type": "start", "messageId": fmt.Sprintf("tc-%d-%s", conv, hex.EncodeToString(b[:])),
		"messageMetadata": map[string]int64{"conversation_id": conv}})
	u.s.event("", map[string]string{"type": "start-step"})
}

func (u *uiStream) endText() {
	if u.textID != "" {
		u.s.event("", map[string]string{"type": "text-end", "id": u.textID})
		u.textID = ""
	}
}

func (u *uiStream) toolStarted(ev agent.Event) {
	u.endText()
	u.s.event("", map[string]any{"type": "tool-input-available", "toolCallId": ev.CallID, "toolName": ev.Tool, "input": ev.Args, "dynamic": true})
}

func (u *uiStream) toolEnded(ev agent.Event) {
	if ev.Failed {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(ev.Result, &e)
		u.s.event("", map[string]any{"type": "tool-output-error", "toolCallId": ev.CallID, "errorText": e.Error, "dynamic": true})
		return
	}
	u.s.event("", map[string]any{"type": "tool-output-available", "toolCallId": ev.CallID, "output": ev.Result, "dynamic": true})
}

func (u *uiStream) text(delta string) {
	if u.textID == "" {
		u.parts++
		u.textID = fmt.Sprintf("text-%d", u.parts)
		u.s.event("", map[string]string{"type": "text-start", "id": u.textID})
	}
	u.s.event("", map[string]string{"type": "text-delta", "id": u.textID, "delta": delta})
}

func (u *uiStream) done(_ json.RawMessage, conv int64, agentName string) {
	u.endText()
	u.s.event("", map[string]string{"type": "finish-step"})
	u.s.event("", map[string]any{"type": "finish", "messageMetadata": map[string]any{"conversation_id": conv, "agent": agentName}})
	u.s.write("data: [DONE]\n\n")
}

func (u *uiStream) fail(ae *apiError) {
	u.endText()
	u.s.event("", map[string]string{"type": "error", "errorText": ae.Detail})
	u.s.write("data: [DONE]\n\n")
}

// streamTurn runs the turn while out watches it. An instant agent's turn is
// one transaction, so its events are held until it has committed: a client
// never sees a task added by a turn that was then rolled back. Another
// agent's events go out as they happen: each tool call commits on its own.
func streamTurn(ctx context.Context, s *sse, out turnStream, plain func(error), st store.Store, ag agent.Agent, window int, zone *time.Location, t store.Turn) {
	var held []func()
	emit := func(f func()) {
		if ag.Instant() {
			held = append(held, f)
		} else {
			f()
		}
	}
	watch := &turnWatch{
		started: func(conv store.Conversation) { out.start(conv.ID) },
		event: func(ev agent.Event) {
			emit(func() {
				if ev.Kind == agent.ToolStarted {
					out.toolStarted(ev)
				} else {
					out.toolEnded(ev)
				}
			})
		},
		text: func(delta string) { emit(func() { out.text(delta) }) },
	}
	if ag.Instant() {
		// Once the stream has begun, the turn is finished and stored
		// whether or not its client stays to read it.
		ctx = context.WithoutCancel(ctx)
		watch.started = nil
	}
	body, replayed, err := chatTurn(ctx, st, ag, window, zone, t, watch)
	if err != nil && !s.begun() {
		plain(err) // nothing was streamed: the answer a plain request gets
		return
	}
	if err != nil {
		ae := toAPIError(err)
		if ae == nil {
			zerolog.Ctx(ctx).Error().Err(err).Msg("internal error in a streamed turn")
			ae = errInternal
		}
		out.fail(ae)
		return
	}
	var resp struct {
		ConversationID int64          `json:"conversation_id"`
		Response       string         `json:"response"`
		Agent          string         `json:"agent"`
		ToolCalls      []toolCallJSON `json:"tool_calls"`
	}
	_ = json.Unmarshal(body, &resp)
	switch {
	case replayed:
		// The first turn's answer, told again as the stream it was.
		out.start(resp.ConversationID)
		for i, c := range resp.ToolCalls {
			id := fmt.Sprintf("call_%d", i+1)
			out.toolStarted(agent.Event{Kind: agent.ToolStarted, CallID: id, Tool: c.Tool, Args: c.Arguments})
			out.toolEnded(agent.Event{Kind: agent.ToolEnded, CallID: id, Tool: c.Tool, Result: c.Result, Failed: isErrorResult(c.Result)})
		}
		if resp.Response != "" {
			out.text(resp.Response)
		}
	case ag.Instant():
		out.start(resp.ConversationID)
		for _, f := range held {
			f()
		}
	}
	out.done(body, resp.ConversationID, resp.Agent)
}

// isErrorResult reports a tool result of the form {"error": …}.
func isErrorResult(raw json.RawMessage) bool {
	var e struct {
		Error *string `json:"error"`
	}
	return json.Unmarshal(raw, &e) == nil && e.Error != nil
}

// streamBudget is how long a streamed turn may take to write: the agent's
// whole turn, and time to store it.
func streamBudget(ag agent.Agent) time.Duration {
	if l, ok := ag.(interface{ TurnBudget() time.Duration }); ok {
		return l.TurnBudget() + 30*time.Second
	}
	return time.Minute
}

// uiChatRequest reads useChat's body — {id, messages: [UIMessage…],
// trigger, …} — as a chat request: the message is the last user message's
// text; the conversation is the body's conversation_id, else the chat id
// when it is a number, else the one the assistant messages' ids name
// (taskchat gave them), else a new one.
func parseUIChat(body []byte, maxChars int) (chatRequest, error) {
	var raw struct {
		ID             json.RawMessage `json:"id"`
		Messages       []uiMessage     `json:"messages"`
		ConversationID json.RawMessage `json:"conversation_id"`
		TimeZone       json.RawMessage `json:"time_zone"`
	}
	if err := decodeObject(body, &raw); err != nil {
		return chatRequest{}, err
	}
	var text string
	found := false
	for i := len(raw.Messages) - 1; i >= 0; i-- {
		if m := raw.Messages[i]; m.Role == "user" {
			text, found = m.text(), true
			break
		}
	}
	if !found {
		return chatRequest{}, invalidInput("The field \"messages\" holds no user message to answer.")
	}
	plain := map[string]json.RawMessage{"message": mustMarshal(text), "conversation_id": raw.ConversationID, "time_zone": raw.TimeZone}
	if len(raw.ConversationID) == 0 || string(raw.ConversationID) == "null" {
		plain["conversation_id"] = nil
		var id string
		if json.Unmarshal(raw.ID, &id) == nil && isDigits(id) {
			plain["conversation_id"] = mustMarshal(id)
		} else {
			for i := len(raw.Messages) - 1; i >= 0; i-- {
				if m := assistantID.FindStringSubmatch(raw.Messages[i].ID); m != nil && raw.Messages[i].Role == "assistant" {
					plain["conversation_id"] = mustMarshal(m[1])
					break
				}
			}
		}
	}
	for k, v := range plain {
		if v == nil {
			delete(plain, k)
		}
	}
	b, _ := json.Marshal(plain)
	return parseChat(b, maxChars)
}

// assistantID is the id taskchat gives an assistant message it streams.
var assistantID = regexp.MustCompile(`^tc-([1-9][0-9]{0,18})-[0-9a-f]+$`)

// uiMessage is a message of useChat's body: parts (AI SDK 5 and later),
// or content (earlier).
type uiMessage struct {
	ID      string `json:"id"`
	Role    string `json:"role"`
	Content string `json:"content"`
	Parts   []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"parts"`
}

func (m uiMessage) text() string {
	var texts []string
	for _, p := range m.Parts {
		if p.Type == "text" {
			texts = append(texts, p.Text)
		}
	}
	if len(texts) == 0 {
		return m.Content
	}
	return strings.Join(texts, "\n")
}

// isUIChat reports a body that is useChat's: messages and no message.
func isUIChat(body []byte) bool {
	var probe struct {
		Message  json.RawMessage `json:"message"`
		Messages json.RawMessage `json:"messages"`
	}
	return json.Unmarshal(body, &probe) == nil && len(probe.Messages) > 0 && string(probe.Messages) != "null" && len(probe.Message) == 0
}

func isDigits(s string) bool {
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil && s != "" && s[0] != '-' && s[0] != '+'
}

func mustMarshal(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}
