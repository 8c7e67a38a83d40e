package taskchat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/rs/zerolog"

	"github.com/taskchat/taskchat/internal/store"
)

// apiError is an error the client should see: a status, a machine code and a
// sentence. Anything else that reaches writeError is logged and shown as a
// generic internal error.
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

// Errors shared by several routes.
var (
	errConversationNotFound = errorf(http.StatusNotFound, "conversation_not_found", "Conversation not found.")
	errDatabaseUnavailable  = errorf(http.StatusServiceUnavailable, "database_unavailable", "The database is unavailable right now; please retry shortly.")
	errMisconfigured        = errorf(http.StatusServiceUnavailable, "misconfigured", "The service is misconfigured; its operator can see why at /health.")
)

// retryAfterSeconds is what 503 answers ask clients to wait.
const retryAfterSeconds = 2

// toAPIError maps domain errors to what the client sees.
func toAPIError(err error) *apiError {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return errDatabaseUnavailable
	case errors.Is(err, store.ErrNotFound):
		return errorf(http.StatusNotFound, "not_found", "Not found.")
	}
	return nil
}

// writeError answers with the JSON error for err. Errors that are not meant for
// the client are logged with the request id and answered with a generic 500.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae := toAPIError(err)
	if ae == nil {
		if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
			// The client went away; nobody reads the answer.
			ae = errorf(499, "client_closed_request", "The client closed the request.")
		} else {
			zerolog.Ctx(r.Context()).Error().Err(err).Msg("internal error")
			ae = errorf(http.StatusInternalServerError, "internal_error", "Something went wrong on our side; please try again.")
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
