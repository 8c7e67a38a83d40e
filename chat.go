package taskchat

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"github.com/taskchat/taskchat/internal/agent"
	"github.com/taskchat/taskchat/internal/store"
)

// chatRequest is a decoded, validated POST /api/{user_id}/chat body.
type chatRequest struct {
	Message        string
	ConversationID int64  // 0: start a new conversation
	TimeZone       string // an IANA name, or "" (the header's, or UTC)
}

// chatResponse is a turn's answer. The reply is also under "message",
// where two of the surveyed frontends read it.
type chatResponse struct {
	ConversationID int64          `json:"conversation_id"`
	Response       string         `json:"response"`
	Message        string         `json:"message"`
	Agent          string         `json:"agent"`
	ToolCalls      []toolCallJSON `json:"tool_calls"`
}

// toolCallJSON is a tool call as a chat answer shows it; its arguments are
// also under "args", which one surveyed frontend iterates (and fails
// without).
type toolCallJSON struct {
	Tool      string          `json:"tool"`
	Arguments json.RawMessage `json:"arguments"`
	Result    json.RawMessage `json:"result"`
	Args      json.RawMessage `json:"args"`
}

func toolCallViews(calls []store.ToolCall) []toolCallJSON {
	out := make([]toolCallJSON, len(calls))
	for i, c := range calls {
		out[i] = toolCallJSON{Tool: c.Tool, Arguments: c.Arguments, Result: c.Result, Args: c.Arguments}
	}
	return out
}

// decodeChat reads and validates a chat request. Every failure is an apiError
// with a sentence the person can act on.
//
// A body that is the Vercel AI SDK's useChat's ({messages: […]}) is read
// as one (see parseUIChat), and ui says so.
func decodeChat(w http.ResponseWriter, r *http.Request, lim chatLimits) (req chatRequest, ui bool, err error) {
	body, err := readJSONBody(w, r, lim.bodyBytes, false)
	if err != nil {
		return chatRequest{}, false, err
	}
	if isUIChat(body) {
		req, err = parseUIChat(body, lim.messageChars)
		return req, true, err
	}
	req, err = parseChat(body, lim.messageChars)
	return req, false, err
}

// parseChat validates a chat body. It is separate from decodeChat so the fuzz
// target can drive it directly.
func parseChat(body []byte, maxChars int) (chatRequest, error) {
	var req chatRequest
	var raw struct {
		Message        json.RawMessage `json:"message"`
		ConversationID json.RawMessage `json:"conversation_id"`
		TimeZone       json.RawMessage `json:"time_zone"`
	}
	if err := decodeObject(body, &raw); err != nil {
		return req, err
	}
	if len(raw.Message) == 0 || string(raw.Message) == "null" {
		return req, invalidInput("The field \"message\" is required.")
	}
	if err := json.Unmarshal(raw.Message, &req.Message); err != nil {
		return req, invalidInput("The field \"message\" must be a string.")
	}
	req.Message = strings.TrimSpace(req.Message)
	switch n := utf8.RuneCountInString(req.Message); {
	case n == 0:
		return req, invalidInput("The message is empty.")
	case n > maxChars:
		return req, invalidInput("The message is %d characters long; the limit is %d.", n, maxChars)
	case !store.Visible(req.Message):
		return req, invalidInput("The message has no visible character.")
	}
	if err := store.CheckText(req.Message); err != nil {
		return req, invalidInput("The message %s.", err)
	}
	if len(raw.TimeZone) > 0 && string(raw.TimeZone) != "null" {
		if err := json.Unmarshal(raw.TimeZone, &req.TimeZone); err != nil {
			return req, invalidInput("The field \"time_zone\" must be a string: an IANA time zone name such as Europe/Paris.")
		}
	}
	id, err := parseConversationID(raw.ConversationID)
	req.ConversationID = id
	return req, err
}

// parseConversationID accepts a positive integer or a string of digits; null
// or absent means a new conversation. Any other number or string is an id no
// conversation has, answered like one that belongs to someone else.
func parseConversationID(raw json.RawMessage) (int64, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	var s string
	switch raw[0] {
	case '"':
		if json.Unmarshal(raw, &s) != nil {
			return 0, errConversationNotFound
		}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		s = string(raw)
	default:
		return 0, invalidInput("The field \"conversation_id\" must be an integer, a string of digits or null.")
	}
	id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || id <= 0 {
		return 0, errConversationNotFound
	}
	return id, nil
}

// idempotencyKey reads the Idempotency-Key header: at most 255 printable ASCII characters.
func idempotencyKey(r *http.Request) (string, error) {
	k := r.Header.Get("Idempotency-Key")
	if len(k) > 255 || strings.IndexFunc(k, func(c rune) bool { return c < 0x20 || c > 0x7e }) >= 0 {
		return "", errorf(http.StatusBadRequest, "invalid_idempotency_key", "The Idempotency-Key header must be at most 255 printable ASCII characters.")
	}
	return k, nil
}

// requestHash identifies what an idempotency key was first used for.
func requestHash(req chatRequest) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d\x00%s", req.ConversationID, req.Message)
	return hex.EncodeToString(h.Sum(nil))
}

// chatLimits are the settings a chat turn obeys.
type chatLimits struct {
	bodyBytes     int64
	messageChars  int
	ratePerMinute int // 0: no limit
	historyWindow int
	// addressRate bounds the turns a minute per client address (0: none);
	// set only while auth is off.
	addressRate int
	proxyHops   int
}

func chatLimitsOf(c Config, authOn bool) chatLimits {
	lim := chatLimits{bodyBytes: c.maxBodyBytes(), messageChars: c.MaxMessageChars,
		ratePerMinute: c.ChatRateLimit, historyWindow: c.HistoryWindow, proxyHops: c.TrustedProxyHops}
	if !authOn {
		lim.addressRate = c.ChatAddressRateLimit
	}
	return lim
}

// handleChat answers POST /api/{user_id}/chat: one turn of the agent, as
// the README's "API" section describes it.
func handleChat(lim chatLimits, st store.Store, ag agent.Agent) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, err := idempotencyKey(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		req, ui, err := decodeChat(w, r, lim)
		if err != nil {
			writeError(w, r, err)
			return
		}
		zone, err := zoneOf(r, req.TimeZone)
		if err != nil {
			writeError(w, r, err)
			return
		}
		turn := store.Turn{
			UserID: userOf(r), ConversationID: req.ConversationID, Content: req.Message,
			RateLimit: lim.ratePerMinute, IdempotencyKey: key, RequestHash: requestHash(req),
		}
		if lim.addressRate > 0 {
			turn.Address, turn.AddressLimit = clientAddress(r, lim.proxyHops), lim.addressRate
		}
		if ui || wantsEventStream(r) {
			var headers map[string]string
			if ui {
				headers = map[string]string{"X-Vercel-AI-UI-Message-Stream": "v1"}
			}
			s, stop := newSSE(w, streamBudget(ag), headers)
			defer stop()
			var out turnStream = taskchatStream{s: s}
			if ui {
				out = &uiStream{s: s}
			}
			streamTurn(r.Context(), s, out, func(err error) { writeError(w, r, err) }, st, ag, lim.historyWindow, zone, turn)
			return
		}
		body, replayed, err := chatTurn(r.Context(), st, ag, lim.historyWindow, zone, turn, nil)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if replayed {
			w.Header().Set("Idempotent-Replayed", "true")
		}
		writeJSON(w, http.StatusOK, append(body, '\n'))
	})
}

// turnWatch is what a streamed turn's client is told as the turn goes:
// that the user message is stored, each tool call, the reply's text.
type turnWatch struct {
	started func(conv store.Conversation)
	event   func(agent.Event)
	text    func(delta string)
}

// chatTurn runs a turn — store the user message, let the agent answer with
// the tools, store the reply — and returns the response body, or the first
// turn's body when the idempotency key replays it. w, when not nil,
// watches it.
func chatTurn(ctx context.Context, st store.Store, ag agent.Agent, window int, zone *time.Location, t store.Turn, w *turnWatch) (json.RawMessage, bool, error) {
	if w == nil {
		w = &turnWatch{}
	}
	var onEvent func(agent.Event) // set below for an agent that takes its time
	answer := func(ctx context.Context, tx store.TurnTx, conv store.Conversation) (store.Message, json.RawMessage, error) {
		tools := agent.NewToolbox(tx, t.UserID).At(time.Now(), zone)
		switch {
		case onEvent != nil:
			tools.Watch(onEvent)
		case w.event != nil:
			tools.Watch(w.event)
		}
		reply, err := ag.Respond(ctx, agent.Input{
			Message: t.Content,
			Tools:   tools,
			Text:    w.text,
			History: func(ctx context.Context) ([]store.Message, error) {
				msgs, err := tx.ListMessages(ctx, t.UserID, conv.ID, store.Page{Limit: window})
				slices.Reverse(msgs)
				return msgs, err
			},
		})
		if err != nil {
			return store.Message{}, nil, err
		}
		calls := tools.Calls()
		body, err := json.Marshal(chatResponse{ConversationID: conv.ID, Response: reply.Text, Message: reply.Text, Agent: reply.Agent, ToolCalls: toolCallViews(calls)})
		msg := store.Message{ConversationID: conv.ID, Role: store.RoleAssistant, Content: reply.Text, ToolCalls: calls}
		return msg, body, err
	}

	// An instant agent's whole turn is one unit of work: one commit, and
	// nothing half-written if the store fails.
	if ag.Instant() {
		return st.RunTurn(ctx, t, answer)
	}
	// Other agents may take seconds: the user message is committed first so
	// it is kept whatever happens to the agent, and no transaction stays open
	// while the model thinks. The outcome key lets the store find out
	// whether a commit whose answer was lost happened.
	t.OutcomeKey = store.NewOutcomeKey()
	conv, replay, err := st.StartTurn(ctx, t)
	if err != nil || replay != nil {
		return replay, replay != nil, err
	}
	if w.started != nil {
		w.started(conv)
	}
	// A client that leaves before any tool has run calls the turn off:
	// only its user message is kept. Once a tool has run, the turn goes on
	// to its end and is stored, read or not, so what the tools did is
	// always in the conversation.
	turnCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	var mu sync.Mutex
	acting := false
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if !acting {
			cancel()
		}
	})
	defer stop()
	onEvent = func(ev agent.Event) {
		if ev.Kind == agent.ToolStarted {
			mu.Lock()
			acting = true
			mu.Unlock()
		}
		if w.event != nil {
			w.event(ev)
		}
	}
	msg, body, err := answer(turnCtx, st, conv)
	if err == nil {
		err = st.FinishTurn(turnCtx, t, msg, body)
	}
	if err != nil {
		// Let a retry with the same key run the turn again.
		if aerr := st.AbandonTurn(context.WithoutCancel(ctx), t); aerr != nil {
			zerolog.Ctx(ctx).Warn().Err(aerr).Msg("could not release the idempotency key")
		}
		return nil, false, err
	}
	return body, false, nil
}
