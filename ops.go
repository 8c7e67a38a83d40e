package taskchat

import (
	"context"
	"net/http"
	"time"

	"github.com/taskchat/taskchat/internal/store"
)

// standing is what the app knows about itself once built: what /health
// reports and the start-up log line says.
type standing struct {
	misconfigured []string // why the API is refused; empty when it is not
	store         string   // "memory" or "postgres"
	agent         string   // "offline" or "llm"
	auth          bool
	accounts      bool // the sign-up and sign-in routes serve
	version       string
}

// problems lists what keeps the service from being fully healthy.
func (s standing) problems() []string {
	p := append([]string{}, s.misconfigured...)
	switch {
	case s.store == "memory" && s.accounts:
		p = append(p, "DATABASE_URL is not set: tasks, conversations and accounts are kept in memory and lost on restart")
	case s.store == "memory":
		p = append(p, "DATABASE_URL is not set: tasks and conversations are kept in memory and lost on restart")
	}
	if s.agent == "offline" {
		p = append(p, "no LLM API key is set: the offline agent answers")
	}
	if !s.auth {
		p = append(p, "auth is off: no AUTH_SECRET or AUTH_JWKS_URL is set, so any caller can act as any user id")
	}
	return p
}

// healthResponse is what /health reports. It never shows a value of a
// variable, only names.
type healthResponse struct {
	Status   string   `json:"status"`
	Store    string   `json:"store"`
	Database string   `json:"database"`
	Agent    string   `json:"agent"`
	Auth     string   `json:"auth"`
	Accounts string   `json:"accounts"`
	Version  string   `json:"version"`
	Adopted  []string `json:"adopted"`
	Problems []string `json:"problems"`
}

// healthTimeout bounds the database check of /health and /ready.
const healthTimeout = time.Second

// handleHealth answers 200 while the process serves, saying how healthy it is.
func handleHealth(s standing, st store.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ss := st.Status()
		h := healthResponse{
			Status: "healthy", Store: s.store, Database: "none", Agent: s.agent,
			Auth: "off", Accounts: "off", Version: s.version, Adopted: ss.Adopted, Problems: append(s.problems(), ss.Problems...),
		}
		if h.Adopted == nil {
			h.Adopted = []string{}
		}
		if s.auth {
			h.Auth = "jwt"
		}
		if s.accounts {
			h.Accounts = "on"
		}
		if s.store == "postgres" {
			h.Database = "up"
			ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
			defer cancel()
			if err := st.Ping(ctx); err != nil {
				h.Database = "down"
				h.Problems = append(h.Problems, "the database is unreachable; data routes answer 503 until it is back")
			}
		}
		switch {
		case len(s.misconfigured) > 0:
			h.Status = "misconfigured"
		case len(h.Problems) > 0:
			h.Status = "degraded"
		}
		w.Header().Set("Cache-Control", "no-store")
		encode(w, http.StatusOK, h)
	})
}

// handleReady answers 200 when requests can be served with the configured
// storage (its schema current), 503 otherwise.
func handleReady(s standing, st store.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(s.misconfigured) > 0 {
			writeError(w, r, errMisconfigured)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
		defer cancel()
		if err := st.Ready(ctx); err != nil {
			if toAPIError(err) != errSchemaNotReady {
				err = errDatabaseUnavailable
			}
			writeError(w, r, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		encode(w, http.StatusOK, map[string]string{"status": "ready", "store": s.store})
	})
}
