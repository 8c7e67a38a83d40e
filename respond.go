package taskchat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"github.com/taskchat/taskchat/internal/store"
)

// apiError is an error the client should see: a status, a machine code and a
// sentence. Handlers make one with errorf for bad input; domain errors are
// turned into one by the table below; anything else that reaches writeError
// is logged and shown as a generic internal error.
type apiError struct {
	Status     int    `json:"-"`
	Code       string `json:"code"`
	Detail     string `json:"detail"`
	retryAfter int    // seconds for Retry-After; 0: the default for 503 and 429
}

func (e *apiError) Error() string { return e.Code + ": " + e.Detail }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Detail: fmt.Sprintf(format, args...)}
}

func invalidInput(format string, args ...any) *apiError {
	return errorf(http.StatusUnprocessableEntity, "invalid_input", format, args...)
}

// Errors shared by several routes.
var (
	errConversationNotFound = errorf(http.StatusNotFound, "conversation_not_found", "Conversation not found.")
	errMisconfigured        = errorf(http.StatusServiceUnavailable, "misconfigured", "The service is misconfigured; its operator can see why at /health.")
	errInternal             = errorf(http.StatusInternalServerError, "internal_error", "Something went wrong on our side; please try again.")
	errClientGone           = errorf(499, "client_closed_request", "The client closed the request.")
)

// domainErrors is the one table of what each domain error means to a client,
// first match first. A nil answer function means the fixed error.
var domainErrors = []struct {
	target error
	fixed  *apiError
	answer func(err error) *apiError
}{
	{target: store.ErrConversationNotFound, fixed: errConversationNotFound},
	{target: store.ErrTaskNotFound, fixed: errorf(http.StatusNotFound, "task_not_found", "Task not found.")},
	{target: store.ErrNotFound, fixed: errorf(http.StatusNotFound, "not_found", "Not found.")},
	{target: store.ErrRateLimited, answer: rateLimited},
	{target: store.ErrKeyInUse, fixed: errorf(http.StatusConflict, "idempotency_key_in_use", "A request with this Idempotency-Key is still being answered; retry shortly.")},
	{target: store.ErrKeyReused, fixed: errorf(http.StatusUnprocessableEntity, "idempotency_key_reused", "This Idempotency-Key was already used for a different message.")},
	{target: store.ErrSchema, fixed: errSchemaNotReady},
	{target: store.ErrUnknownUser, fixed: errorf(http.StatusUnprocessableEntity, "unknown_user", "This database keeps rows only for the users in its users table, and this user is not one of them; sign up first.")},
	{target: store.ErrOutcomeUnknown, fixed: errorf(http.StatusInternalServerError, "outcome_unknown", "The database stopped answering while this was being saved, and may or may not have saved it. Look at your tasks and the conversation before sending it again.")},
	{target: store.ErrTaskLimit, fixed: errorf(http.StatusConflict, "task_limit_reached", "You have as many tasks as one person may keep; delete some to add more.")},
	{target: store.ErrValueRejected, fixed: invalidInput("The database refused a value: it is too long or not of the kind its column holds.")},
	{target: store.ErrUnavailable, fixed: errDatabaseUnavailable},
	{target: context.DeadlineExceeded, fixed: errDatabaseUnavailable},
}

var (
	errDatabaseUnavailable = errorf(http.StatusServiceUnavailable, "database_unavailable", "The database is unavailable right now; please retry shortly.")
	errSchemaNotReady      = errorf(http.StatusServiceUnavailable, "database_schema_error", "The database's schema is not ready for taskchat; its operator can see why at /health.")
)

// rateLimited says how many turns a minute are allowed and when to retry.
func rateLimited(err error) *apiError {
	limit, secs := 0, 1
	if rl, ok := errors.AsType[*store.RateLimitError](err); ok {
		limit, secs = rl.Limit, max(int(math.Ceil(rl.RetryAfter.Seconds())), 1)
	}
	e := errorf(http.StatusTooManyRequests, "rate_limited", "You can send %d messages a minute; please try again in %d seconds.", limit, secs)
	e.retryAfter = secs
	return e
}

// retryAfterSeconds is what 503 answers ask clients to wait.
const retryAfterSeconds = 2

// toAPIError maps an error to what the client sees, or nil when it is not
// meant for the client.
func toAPIError(err error) *apiError {
	if ae, ok := errors.AsType[*apiError](err); ok {
		return ae
	}
	for _, d := range domainErrors {
		if errors.Is(err, d.target) {
			if d.answer != nil {
				return d.answer(err)
			}
			return d.fixed
		}
	}
	return nil
}

// writeError answers with the JSON error for err. Errors that are not meant for
// the client are logged with the request id and answered with a generic 500.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae := toAPIError(err)
	if ae == nil {
		if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
			ae = errClientGone // nobody reads the answer
		} else {
			zerolog.Ctx(r.Context()).Error().Err(err).Msg("internal error")
			ae = errInternal
		}
	}
	if ae.Status == http.StatusServiceUnavailable || ae.Status == http.StatusTooManyRequests {
		secs := ae.retryAfter
		if secs == 0 {
			secs = retryAfterSeconds
		}
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	encode(w, ae.Status, ae)
}

// readJSONBody reads a JSON request body of at most limit bytes. With
// optional, an empty body is returned as nil whatever its Content-Type, as
// frontends send a bodiless PATCH with or without one.
func readJSONBody(w http.ResponseWriter, r *http.Request, limit int64, optional bool) ([]byte, error) {
	isJSON := func() error {
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			return errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "Send the request as JSON with Content-Type: application/json.")
		}
		return nil
	}
	if enc := strings.TrimSpace(r.Header.Get("Content-Encoding")); enc != "" && !strings.EqualFold(enc, "identity") {
		return nil, errorf(http.StatusUnsupportedMediaType, "unsupported_encoding", "Send the body uncompressed: Content-Encoding %q is not supported.", enc)
	}
	if !optional {
		if err := isJSON(); err != nil {
			return nil, err
		}
	}
	if timeout := bodyTimeoutOf(r); timeout > 0 {
		// A body that trickles in holds a connection and a goroutine; the
		// server's own ReadTimeout is only the backstop.
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(timeout))
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, errorf(http.StatusRequestEntityTooLarge, "body_too_large", "The request body is larger than %d bytes.", limit)
		}
		if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) {
			w.Header().Set("Connection", "close")
			return nil, errorf(http.StatusRequestTimeout, "request_timeout", "The request body took too long to arrive.")
		}
		return nil, errorf(http.StatusBadRequest, "unreadable_body", "The request body could not be read.")
	}
	if optional {
		if len(bytes.TrimSpace(body)) == 0 {
			return nil, nil
		}
		if err := isJSON(); err != nil {
			return nil, err
		}
	}
	return body, nil
}

// decodeObject decodes a body that must be exactly one JSON object, in
// UTF-8, into v (whose fields are best json.RawMessage, checked after).
func decodeObject(body []byte, v any) error {
	if !utf8.Valid(body) {
		return errorf(http.StatusBadRequest, "invalid_utf8", "The request body is not valid UTF-8.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		if _, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
			return errorf(http.StatusBadRequest, "invalid_json", "The request body must be a JSON object.")
		}
		return errorf(http.StatusBadRequest, "invalid_json", "The request body is not valid JSON.")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errorf(http.StatusBadRequest, "invalid_json", "The request body must hold exactly one JSON object.")
	}
	return nil
}

// encode writes v as JSON with status. Headers are set before WriteHeader.
func encode(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"detail":"Could not encode the response.","code":"internal_error"}`)
	}
	writeJSON(w, status, append(b, '\n'))
}

// writeJSON writes an encoded JSON body with its headers.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
