package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/rs/zerolog"

	"github.com/taskchat/taskchat/internal/store"
)

// LLMConfig configures the LLM agent.
type LLMConfig struct {
	// Provider names the preset whose dialect to speak ("gemini", …); ""
	// or any other is OpenAI's.
	Provider string
	BaseURL  string
	APIKey   string
	Model    string
	// Timeout bounds one model call, retries of a 429 or 503 included.
	Timeout time.Duration
	// TurnTimeout bounds the whole tool loop of a turn.
	TurnTimeout time.Duration
	// MaxCalls bounds the model calls of one turn (default 6).
	MaxCalls int
}

// LLM is the agent that lets a model drive the tools through an
// OpenAI-compatible Chat Completions API. When the model fails, the turn is
// answered by the offline agent instead, and the log says why.
type LLM struct {
	client *chatClient
	cfg    LLMConfig
}

// NewLLM returns the LLM agent. It does no I/O.
func NewLLM(cfg LLMConfig) *LLM {
	if cfg.MaxCalls <= 0 {
		cfg.MaxCalls = 6
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.TurnTimeout <= 0 {
		cfg.TurnTimeout = 2 * cfg.Timeout
	}
	client := newChatClient(retryingClient(cfg.Timeout), cfg.BaseURL, cfg.APIKey, cfg.Model, dialects[strings.ToLower(cfg.Provider)])
	return &LLM{client: client, cfg: cfg}
}

// retryingClient retries only answers that mean "busy, try again" — 429 and
// 503 — with exponential backoff that honours Retry-After, and only while the
// call's deadline leaves time for the wait. Everything else is final at once,
// so the turn falls back without delay.
func retryingClient(maxWait time.Duration) *http.Client {
	c := retryablehttp.NewClient()
	c.Logger = nil
	c.RetryMax = 2
	c.RetryWaitMin = 500 * time.Millisecond
	c.RetryWaitMax = maxWait
	c.CheckRetry = func(ctx context.Context, res *http.Response, err error) (bool, error) {
		if ctx.Err() != nil || err != nil || res == nil {
			return false, ctx.Err()
		}
		if res.StatusCode != http.StatusTooManyRequests && res.StatusCode != http.StatusServiceUnavailable {
			return false, nil
		}
		wait := retryablehttp.DefaultBackoff(c.RetryWaitMin, c.RetryWaitMax, 0, res)
		deadline, ok := ctx.Deadline()
		return !ok || time.Until(deadline) > wait, nil
	}
	// Hand the last answer (a 429, say) to the client as it was.
	c.ErrorHandler = retryablehttp.PassthroughErrorHandler
	return c.StandardClient()
}

// Name implements Agent.
func (*LLM) Name() string { return "llm" }

// Instant implements Agent: a turn waits on the model.
func (*LLM) Instant() bool { return false }

// TurnBudget is the longest a turn's tool loop runs.
func (l *LLM) TurnBudget() time.Duration { return l.cfg.TurnTimeout }

// SystemPrompt states the behaviour both agents share: the README's "The
// agents" section.
const SystemPrompt = `You are taskchat, a friendly assistant that manages the user's to-do list with tools.
- Adding, creating or remembering something: call add_task with a short title (capitalise the first letter; drop words like "a task to").
- Seeing, showing or listing tasks, "what's pending", "what have I completed": call list_tasks with status all, pending or completed.
- Done, complete, finished: call complete_task.
- Delete, remove, cancel: call delete_task.
- Change, update, rename: call update_task.
- Priorities (low, medium, high) and due dates: pass priority and due_date to add_task or update_task ("high priority, due Friday"; "push the dentist task to Monday"); "none" removes one. Never put them in a title.
- "What's due this week?", "anything overdue?", "show high priority tasks": call list_tasks with due_before, overdue or priority.
- Dates: read them in the user's time zone (below) and pass them as YYYY-MM-DD, or YYYY-MM-DDTHH:MM when a time was said. If a date is unclear or already past, ask; never guess.
- When the user names a task by its title rather than its number, call list_tasks first and act on the task whose title matches. If several tasks match, ask which one the user means instead of guessing. If none matches, say so.
- Never invent task numbers; use the ids that list_tasks returns.
- After every action, confirm it in one short friendly sentence that names the task and its number.
- If a tool returns an error, explain it kindly and suggest what to do. If it refuses a call, change nothing else: ask the user.
- Task lists: one task per line as "- [ ] 5. Title" (or "- [x]" when completed), then its priority and due date if it has them, and "overdue" when it is.
- For anything else, answer briefly and say what you can do with tasks.`

// modelError is a failure of the model (not of the store): the turn falls back.
type modelError struct{ reason string }

func (e *modelError) Error() string { return e.reason }

// Respond implements Agent.
func (l *LLM) Respond(ctx context.Context, in Input) (Reply, error) {
	text, err := l.loop(ctx, in)
	var me *modelError
	if !errors.As(err, &me) {
		return Reply{Text: text, Agent: l.Name()}, err
	}
	if ctx.Err() != nil {
		// The turn was called off (its client left before any tool ran):
		// nothing more is done, not even by the offline agent.
		return Reply{}, ctx.Err()
	}
	log := zerolog.Ctx(ctx)
	log.Warn().Str("reason", me.reason).Int("tools_run", len(in.Tools.calls)).Msg("LLM failed: the offline agent answers this turn")
	if changedSomething(in.Tools.calls) {
		// Tools already changed something: running the offline parser now
		// could do it twice. Report what was done instead.
		text := summarize(in.Tools.calls)
		if in.Text != nil {
			in.Text(text)
		}
		return Reply{Text: text, Agent: Offline{}.Name()}, nil
	}
	return Offline{}.Respond(ctx, in)
}

// loop runs the tool loop. Errors that are not *modelError come from the store.
func (l *LLM) loop(ctx context.Context, in Input) (string, error) {
	turnCtx, cancel := context.WithTimeout(ctx, l.cfg.TurnTimeout)
	defer cancel()
	in.Tools.guard = newGuard(in.Message)
	defer func() { in.Tools.guard = nil }()
	history, err := in.History(ctx)
	if err != nil {
		return "", err
	}
	msgs := append([]json.RawMessage{chatMessage("system", SystemPrompt+"\n"+in.Tools.today())}, promptOf(history, in.Message)...)

	for n := range l.cfg.MaxCalls {
		callCtx, cancelCall := context.WithTimeout(turnCtx, l.cfg.Timeout)
		var a answer
		var gate *textGate
		if in.Text != nil {
			gate = &textGate{out: in.Text}
			a, err = l.client.stream(callCtx, msgs, gate.write)
			var api *apiError
			if errors.As(err, &api) && (api.status == http.StatusBadRequest || api.status == http.StatusUnprocessableEntity) && gate.sent.Len() == 0 {
				// A provider (or model) that will not stream with tools:
				// the same call, answered whole.
				a, err = l.client.complete(callCtx, msgs)
			}
		} else {
			a, err = l.client.complete(callCtx, msgs)
		}
		cancelCall()
		if err != nil {
			return "", &modelError{reason: describeCallError(err, l.cfg.APIKey, in.Message)}
		}
		calls, echo, text, err := l.read(a, n)
		if err != nil {
			return "", err
		}
		if len(calls) == 0 {
			reply := truncate(text, MaxReplyChars)
			if gate != nil {
				gate.end(reply)
			}
			return reply, nil
		}
		msgs = append(msgs, echo)
		for _, c := range calls {
			args, _ := c.arguments()
			res, err := in.Tools.Call(ctx, c.Function.Name, args)
			if err != nil {
				return "", err
			}
			msgs = append(msgs, toolMessage(c.ID, res))
		}
	}
	return "", &modelError{reason: fmt.Sprintf("no answer after %d model calls", l.cfg.MaxCalls)}
}

// read makes sense of the model's n-th answer: the calls to run and the
// message that goes back into the conversation for them, or its final
// text. Every call is checked before any runs, so a bad one falls back
// with nothing done.
func (l *LLM) read(a answer, n int) (calls []wireCall, echo json.RawMessage, text string, err error) {
	calls = a.toolCalls
	text = strings.TrimSpace(a.content)
	written := false
	if len(calls) == 0 {
		if tc, ok := textToolCalls(text); ok {
			calls, written = tc, true
		} else if looksLikeMarkup(text) {
			return nil, nil, "", &modelError{reason: "the model wrote a tool call as text that names no known tool or holds no valid arguments"}
		}
	}
	if len(calls) == 0 {
		if text == "" {
			return nil, nil, "", &modelError{reason: "the model answered with neither text nor tool calls"}
		}
		return nil, nil, text, nil
	}
	for i := range calls {
		if reason := checkToolCall(calls[i]); reason != "" {
			return nil, nil, "", &modelError{reason: reason}
		}
		if calls[i].ID == "" {
			calls[i].ID = fmt.Sprintf("call_%d_%d", n, i)
		}
	}
	a.toolCalls = calls
	if written {
		// The calls go back as the calls they were meant to be.
		echo, err = json.Marshal(map[string]any{"role": "assistant", "content": nil, "tool_calls": normalCalls(calls)})
	} else {
		echo, err = a.echo()
	}
	if err != nil {
		return nil, nil, "", &modelError{reason: "the model's answer could not be sent back: " + err.Error()}
	}
	return calls, echo, "", nil
}

// textGate passes a model's text on as it streams, up to the first
// character that may begin a tool call written as text ("<tool_call>",
// "{", "[TOOL_CALLS]", a fence) or past the reply's bound: what follows is
// held until the answer is whole, and then sent only if it is the reply.
// Markup is never shown; text that turns out to precede tool calls has
// been shown, as a step of the turn.
type textGate struct {
	out  func(string)
	sent strings.Builder
	held bool
}

func (g *textGate) write(s string) {
	if g.held {
		return
	}
	if i := strings.IndexAny(s, "<{[`"); i >= 0 {
		s, g.held = s[:i], true
	}
	if g.sent.Len() == 0 {
		s = strings.TrimLeft(s, " \t\r\n")
	}
	if g.sent.Len()+len(s) > MaxReplyChars {
		g.held = true
		return
	}
	if s != "" {
		g.sent.WriteString(s)
		g.out(s)
	}
}

// end sends what the reply holds beyond what was already sent.
func (g *textGate) end(reply string) {
	if rest, ok := strings.CutPrefix(reply, g.sent.String()); ok && rest != "" {
		g.out(rest)
	}
}

// normalCalls writes calls read from text in the standard shape, arguments
// as a JSON string.
func normalCalls(calls []wireCall) []map[string]any {
	out := make([]map[string]any, len(calls))
	for i, c := range calls {
		args, _ := c.arguments()
		out[i] = map[string]any{"id": c.ID, "type": "function", "function": map[string]any{"name": c.Function.Name, "arguments": string(args)}}
	}
	return out
}

// The model's context is built to a budget in bytes, not a count of
// messages: the newest messages that fit, each cut to MaxContextMessageBytes,
// and always the message being answered.
const (
	MaxContextBytes        = 24 << 10
	MaxContextMessageBytes = 4 << 10
	// MaxReplyChars bounds a model's answer as it is stored and shown.
	MaxReplyChars = 8000
)

// promptOf turns the conversation's history (ending with the current user
// message) into the model's messages, newest last, within the budget.
func promptOf(history []store.Message, current string) []json.RawMessage {
	if len(history) == 0 {
		return []json.RawMessage{chatMessage("user", current)}
	}
	var out []json.RawMessage
	used := 0
	for i := len(history) - 1; i >= 0; i-- {
		m := history[i]
		if m.Role != store.RoleUser && m.Role != store.RoleAssistant {
			continue
		}
		content := m.Content
		if i < len(history)-1 {
			content = truncateBytes(content, MaxContextMessageBytes)
			if used+len(content) > MaxContextBytes {
				break
			}
		}
		used += len(content)
		out = append(out, chatMessage(m.Role, content))
	}
	slices.Reverse(out)
	return out
}

// truncateBytes cuts s to at most n bytes on a character boundary, marking
// the cut.
func truncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// checkToolCall returns why a tool call cannot be run, or "".
func checkToolCall(tc wireCall) string {
	if tc.Type != "" && tc.Type != "function" {
		return fmt.Sprintf("the model asked for a %q tool call", truncate(tc.Type, 32))
	}
	if _, ok := toolNamed(tc.Function.Name); !ok {
		return fmt.Sprintf("the model asked for an unknown tool %q", truncate(tc.Function.Name, 64))
	}
	if _, ok := tc.arguments(); !ok {
		return fmt.Sprintf("the model sent arguments for %s that are not a JSON object", tc.Function.Name)
	}
	return ""
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// changedSomething reports whether any call changed a task.
func changedSomething(calls []store.ToolCall) bool {
	for _, c := range calls {
		var r taskResult
		if c.Tool != ToolListTasks && json.Unmarshal(c.Result, &r) == nil && r.TaskID != 0 {
			return true
		}
	}
	return false
}

// summarize words what tools already did when the model failed halfway.
func summarize(calls []store.ToolCall) string {
	var done []string
	for _, c := range calls {
		var r taskResult
		if json.Unmarshal(c.Result, &r) != nil || r.TaskID == 0 {
			continue
		}
		done = append(done, fmt.Sprintf("%s task %d %q", r.Status, r.TaskID, r.Title))
	}
	if len(done) == 0 {
		return "Sorry, I couldn't finish that just now. Please try again."
	}
	return "I " + strings.Join(done, ", ") + ", but couldn't finish the rest just now. Please check your tasks and try again."
}
