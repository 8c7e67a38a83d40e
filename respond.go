package taskchat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"

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
	{target: store.ErrUnavailable, fixed: errDatabaseUnavailable},
	{target: context.DeadlineExceeded, fixed: errDatabaseUnavailable},
}

var errDatabaseUnavailable = errorf(http.StatusServiceUnavailable, "database_unavailable", "The database is unavailable right now; please retry shortly.")

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
