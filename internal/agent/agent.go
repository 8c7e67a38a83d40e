package agent

import (
	"context"
	"encoding/json"

	"github.com/taskchat/taskchat/internal/store"
)

// Agent answers one chat turn, calling tools through the Toolbox it is given.
type Agent interface {
	// Name is "offline" or "llm", as the chat response reports it.
	Name() string
	// Instant reports whether the agent answers without waiting on anything
	// but the store, so that a whole turn can be one short transaction. An
	// agent that waits on a model is not: its turn commits the user message
	// first and holds no transaction while the model thinks.
	Instant() bool
	// Respond answers in.Message. It returns an error only when the turn
	// could not be answered at all (for example the store failed); tool
	// failures are part of a normal answer.
	Respond(ctx context.Context, in Input) (Reply, error)
}

// Input is what an agent needs for one turn.
type Input struct {
	Message string
	// History returns the conversation's recent messages, oldest first,
	// ending with the current user message. Agents that need no context
	// never call it, so the turn does not pay for the read.
	History func(ctx context.Context) ([]store.Message, error)
	Tools   *Toolbox
	// Text, when set, receives the reply as it is written, in pieces
	// (the model's deltas, or the offline agent's lines); what the pieces
	// add up to is not always the reply: Reply.Text is.
	Text func(delta string)
}

// EventKind says what happened.
type EventKind int

// Kinds of Event.
const (
	// ToolStarted: a tool is about to run with Args.
	ToolStarted EventKind = iota
	// ToolEnded: the tool ran; Result is its JSON result, Failed says it
	// is a tool error.
	ToolEnded
)

// Event is a tool call as it happens, for a client that watches a turn
// (a streamed reply). CallID ties a call's two events together.
type Event struct {
	Kind   EventKind
	CallID string
	Tool   string
	Args   json.RawMessage
	Result json.RawMessage
	Failed bool
}

// Reply is an agent's answer.
type Reply struct {
	Text  string
	Agent string
}
