package taskchat

import (
	"context"
	"net/http"
	"time"
)

// healthResponse is what /health reports. It never shows a value of a
// variable, only names.
type healthResponse struct {
	Status   string   `json:"status"`
	Store    string   `json:"store"`
	Database string   `json:"database"`
	Agent    string   `json:"agent"`
	Auth     string   `json:"auth"`
	Version  string   `json:"version"`
	Problems []string `json:"problems"`
}

// problems lists what keeps the service from being fully healthy.
func (a *App) problems() []string {
	p := append([]string{}, a.misconf...)
	if a.storeOf == "memory" {
		p = append(p, "DATABASE_URL is not set: tasks and conversations are kept in memory and lost on restart")
	}
	if a.agent.Name() == "offline" {
		p = append(p, "no LLM API key is set: the offline agent answers")
	}
	if a.auth == nil {
		p = append(p, "auth is off: no AUTH_SECRET or AUTH_JWKS_URL is set, so any caller can act as any user id")
	}
	return p
}

// healthTimeout bounds the database check of /health and /ready.
const healthTimeout = time.Second

func (a *App) handleHealth(w http.ResponseWriter, r *http.Request) {
	h := healthResponse{
		Status: "healthy", Store: a.storeOf, Database: "none", Agent: a.agent.Name(),
		Auth: "off", Version: a.version, Problems: a.problems(),
	}
	if a.auth != nil {
		h.Auth = "jwt"
	}
	if a.storeOf == "postgres" {
		h.Database = "up"
		ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
		defer cancel()
		if err := a.store.Ping(ctx); err != nil {
			h.Database = "down"
			h.Problems = append(h.Problems, "the database is unreachable; data routes answer 503 until it is back")
		}
	}
	switch {
	case len(a.misconf) > 0:
		h.Status = "misconfigured"
	case len(h.Problems) > 0:
		h.Status = "degraded"
	}
	w.Header().Set("Cache-Control", "no-store")
	encode(w, http.StatusOK, h)
}

func (a *App) handleReady(w http.ResponseWriter, r *http.Request) {
	if len(a.misconf) > 0 {
		writeError(w, r, errMisconfigured)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
	defer cancel()
	err := a.store.Ping(ctx)
	if err == nil && a.pg != nil {
		// Ready means the schema is current too.
		err = a.pg.Migrate(ctx)
	}
	if err != nil {
		writeError(w, r, errDatabaseUnavailable)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	encode(w, http.StatusOK, map[string]string{"status": "ready", "store": a.storeOf})
}
