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
	"github.com/sashabaranov/go-openai"

	"github.com/taskchat/taskchat/internal/store"
)

// LLMConfig configures the LLM agent.
type LLMConfig struct {
	BaseURL string
	APIKey  string
	Model   string
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
	client *openai.Client
	cfg    LLMConfig
	tools  []openai.Tool
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
	oc := openai.DefaultConfig(cfg.APIKey)
	oc.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	oc.HTTPClient = retryingClient(cfg.Timeout)
	return &LLM{client: openai.NewClientWithConfig(oc), cfg: cfg, tools: toolDefinitions()}
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

// SystemPrompt states the behaviour both agents share: the README's "The
// agents" section.
const SystemPrompt = `You are taskchat, a friendly assistant that manages the user's to-do list with tools.
- Adding, creating or remembering something: call add_task with a short title (capitalise the first letter; drop words like "a task to").
- Seeing, showing or listing tasks, "what's pending", "what have I completed": call list_tasks with status all, pending or completed.
- Done, complete, finished: call complete_task.
- Delete, remove, cancel: call delete_task.
- Change, update, rename: call update_task.
- When the user names a task by its title rather than its number, call list_tasks first and act on the task whose title matches. If several tasks match, ask which one the user means instead of guessing. If none matches, say so.
- Never invent task numbers; use the ids that list_tasks returns.
- After every action, confirm it in one short friendly sentence that names the task and its number.
- If a tool returns an error, explain it kindly and suggest what to do. If it refuses a call, change nothing else: ask the user.
- Task lists: one task per line as "- [ ] 5. Title" (or "- [x]" when completed).
- For anything else, answer briefly and say what you can do with tasks.`

// toolDefinitions gives the model the tool table as function tools.
func toolDefinitions() []openai.Tool {
	defs := make([]openai.Tool, len(tools))
	for i, t := range tools {
		defs[i] = openai.Tool{Type: openai.ToolTypeFunction, Function: &openai.FunctionDefinition{
			Name: t.name, Description: t.description, Parameters: t.params,
		}}
	}
	return defs
}

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
	log := zerolog.Ctx(ctx)
	log.Warn().Str("reason", me.reason).Int("tools_run", len(in.Tools.calls)).Msg("LLM failed: the offline agent answers this turn")
	if changedSomething(in.Tools.calls) {
		// Tools already changed something: running the offline parser now
		// could do it twice. Report what was done instead.
		return Reply{Text: summarize(in.Tools.calls), Agent: Offline{}.Name()}, nil
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
	msgs := append([]openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleSystem, Content: SystemPrompt}}, promptOf(history, in.Message)...)

	for range l.cfg.MaxCalls {
		callCtx, cancelCall := context.WithTimeout(turnCtx, l.cfg.Timeout)
		comp, err := l.client.CreateChatCompletion(callCtx, openai.ChatCompletionRequest{
			Model: l.cfg.Model, Messages: msgs, Tools: l.tools,
		})
		cancelCall()
		if err != nil {
			return "", &modelError{reason: describeCallError(err)}
		}
		if len(comp.Choices) == 0 {
			return "", &modelError{reason: "the model answered with no choices"}
		}
		msg := comp.Choices[0].Message
		if len(msg.ToolCalls) == 0 {
			text := strings.TrimSpace(msg.Content)
			if text == "" {
				return "", &modelError{reason: "the model answered with neither text nor tool calls"}
			}
			return truncate(text, MaxReplyChars), nil
		}
		// Check every call before running any, so a bad one falls back
		// with nothing done.
		for _, tc := range msg.ToolCalls {
			if reason := checkToolCall(tc); reason != "" {
				return "", &modelError{reason: reason}
			}
		}
		msgs = append(msgs, msg)
		for _, tc := range msg.ToolCalls {
			res, err := in.Tools.Call(ctx, tc.Function.Name, json.RawMessage(tc.Function.Arguments))
			if err != nil {
				return "", err
			}
			msgs = append(msgs, openai.ChatCompletionMessage{Role: openai.ChatMessageRoleTool, Content: string(res), ToolCallID: tc.ID})
		}
	}
	return "", &modelError{reason: fmt.Sprintf("no answer after %d model calls", l.cfg.MaxCalls)}
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
func promptOf(history []store.Message, current string) []openai.ChatCompletionMessage {
	if len(history) == 0 {
		return []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleUser, Content: current}}
	}
	var out []openai.ChatCompletionMessage
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
		out = append(out, openai.ChatCompletionMessage{Role: m.Role, Content: content})
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
func checkToolCall(tc openai.ToolCall) string {
	if tc.Type != "" && tc.Type != "function" {
		return fmt.Sprintf("the model asked for a %q tool call", tc.Type)
	}
	if _, ok := toolNamed(tc.Function.Name); !ok {
		return fmt.Sprintf("the model asked for an unknown tool %q", truncate(tc.Function.Name, 64))
	}
	args := strings.TrimSpace(tc.Function.Arguments)
	if args == "" {
		return ""
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(args), &obj); err != nil {
		return fmt.Sprintf("the model sent malformed arguments for %s", tc.Function.Name)
	}
	return ""
}

// describeCallError says why a model call failed, without echoing what the
// provider returned (it may quote the conversation).
func describeCallError(err error) string {
	var apiErr *openai.APIError
	var reqErr *openai.RequestError
	switch {
	case errors.As(err, &apiErr):
		return fmt.Sprintf("the model API answered HTTP %d", apiErr.HTTPStatusCode)
	case errors.As(err, &reqErr) && reqErr.HTTPStatusCode != 0:
		return fmt.Sprintf("the model API answered HTTP %d", reqErr.HTTPStatusCode)
	case errors.Is(err, context.DeadlineExceeded):
		return "the model call timed out"
	case errors.Is(err, context.Canceled):
		return "the request was canceled"
	}
	return "the model API could not be reached"
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
