// Package taskchat is a task-managing chat backend packaged as one HTTP
// function. Handler is the entry point for function platforms; New builds the
// same application with an injected environment for main and tests.
package taskchat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"os"
	"path"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/taskchat/taskchat/internal/agent"
	"github.com/taskchat/taskchat/internal/auth"
	"github.com/taskchat/taskchat/internal/store"
)

// Version is the build's version, set with -ldflags "-X github.com/taskchat/taskchat.Version=…".
var Version = ""

// app is the one application Handler serves, built on first use.
var app = sync.OnceValue(func() *App { return New(os.Getenv, os.Stdout) })

// Handler serves taskchat. The first call builds the application from the
// process environment; building never panics or exits, whatever is missing.
func Handler(w http.ResponseWriter, r *http.Request) {
	app().ServeHTTP(w, r)
}

// App is a built taskchat: configuration, logger, store, agent and routes.
type App struct {
	cfg     Config
	misconf []string // why the service is misconfigured; non-empty makes the API answer 503
	log     zerolog.Logger
	store   store.Store
	storeOf string          // "memory" or "postgres"
	pg      *store.Postgres // nil unless the PostgreSQL store is in use
	bg      sync.WaitGroup  // background work Close waits for
	stopBg  context.CancelFunc
	agent   agent.Agent
	auth    *auth.Verifier // nil: auth off
	version string
	mux     *http.ServeMux
	handler http.Handler
	pageCSP string
}

// New builds the application from getenv, logging to logOut. It does no
// network I/O before returning, so the process can answer /health at once;
// database migrations start in the background.
func New(getenv func(string) string, logOut io.Writer) *App {
	return newApp(getenv, logOut, options{})
}

// options are test hooks that the public constructor does not offer.
type options struct {
	dbTracer pgx.QueryTracer
}

func newApp(getenv func(string) string, logOut io.Writer, opts options) *App {
	ctx := context.Background()
	cfg, invalid := loadConfig(ctx, getenv)
	a := &App{cfg: cfg, version: version(), agent: agent.Offline{}}
	for _, name := range invalid {
		a.misconf = append(a.misconf, name+" has an invalid value")
	}
	a.log = newLogger(cfg, logOut).With().Str("version", a.version).Logger()
	a.auth = auth.New(auth.Config{
		Secret: cfg.AuthSecret, JWKSURL: cfg.jwksURL(),
		Logger: a.log.With().Str("component", "auth").Logger(),
	})
	if a.auth == nil {
		a.log.Warn().Msg("auth is off: no AUTH_SECRET or AUTH_JWKS_URL; any caller can act as any user id")
	}

	bg, stop := context.WithCancel(context.Background())
	a.stopBg = stop
	a.openStore(bg, opts)
	a.bg.Go(func() { a.sweep(bg) })
	if base, model, key, provider, ok := cfg.llmSettings(getenv); ok {
		a.agent = agent.NewLLM(agent.LLMConfig{
			BaseURL: base, APIKey: key, Model: model, Timeout: cfg.LLMTimeout,
		})
		a.log.Info().Str("provider", provider).Str("model", model).Msg("LLM agent on; the offline agent answers when it fails")
	}

	a.pageCSP = pageCSP(indexHTML)
	a.mux = a.routes()
	a.handler = a.withRequestLog(a.withRecover(a.withCORS(http.HandlerFunc(a.dispatch))))

	ev := a.log.Info()
	if len(a.misconf) > 0 {
		ev = a.log.Error().Strs("misconfigured", a.misconf)
	}
	ev.Str("store", a.storeOf).Str("agent", a.agent.Name()).Strs("problems", a.problems()).Msg("taskchat ready")
	return a
}

// openStore picks PostgreSQL when DATABASE_URL is set, else memory. A set
// but unusable URL never falls back to memory: that would lose data.
func (a *App) openStore(bg context.Context, opts options) {
	cfg := a.cfg
	if cfg.DatabaseURL == "" {
		a.store, a.storeOf = store.NewMemory(), "memory"
		a.log.Warn().Msg("DATABASE_URL is not set: using the in-memory store; data is lost on restart")
		return
	}
	a.storeOf = "postgres"
	pg, err := store.OpenPostgres(store.PostgresOptions{
		URL: cfg.DatabaseURL, QueryMode: cfg.DatabaseQueryMode, Transport: cfg.DatabaseTransport,
		WSProxy: cfg.DatabaseWSProxy, OnSpace: cfg.SpaceID != "", Tracer: opts.dbTracer,
		Logger: a.log.With().Str("component", "store").Logger(),
	})
	if err != nil {
		a.misconf = append(a.misconf, err.Error())
		// A closed store answers everything with ErrUnavailable; the API
		// is refused while misconfigured anyway, and /health reports "down".
		closed := store.NewMemory()
		closed.Close()
		a.store = closed
		return
	}
	a.store, a.pg = pg, pg
	a.bg.Go(func() {
		// Migrate now so the first request does not wait for it; if the
		// database is away, the first request that reaches it migrates.
		if err := pg.Migrate(bg); err != nil && bg.Err() == nil {
			a.log.Warn().Err(err).Msg("database not ready at start; will retry on demand")
		}
	})
}

// sweep deletes expired idempotency keys and past rate-limit windows hourly.
func (a *App) sweep(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := a.store.Sweep(ctx); err != nil && ctx.Err() == nil {
				a.log.Warn().Err(err).Msg("sweep failed")
			}
		}
	}
}

// ServeHTTP implements http.Handler.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.handler.ServeHTTP(w, r) }

// Config returns the configuration the app was built with.
func (a *App) Config() Config { return a.cfg }

// Logger returns the app's logger.
func (a *App) Logger() zerolog.Logger { return a.log }

// Close stops background work and releases the store.
func (a *App) Close() {
	a.auth.Close()
	a.stopBg()
	a.bg.Wait()
	a.store.Close()
}

func newLogger(cfg Config, out io.Writer) zerolog.Logger {
	if cfg.LogFormat == "console" {
		out = zerolog.ConsoleWriter{Out: out, NoColor: true, TimeFormat: time.RFC3339}
	}
	return zerolog.New(out).Level(cfg.LogLevel).With().Timestamp().Logger()
}

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return s.Value[:12]
			}
		}
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			return v
		}
	}
	return "dev"
}

// route is one entry of the route table.
type route struct {
	pattern string
	handler http.Handler
}

// routeTable lists every route in one place. Data routes go through api().
func (a *App) routeTable() []route {
	return []route{
		{"POST /api/{user_id}/chat", a.api(a.handleChat)},
		{"GET /api/{user_id}/conversations", a.api(a.handleListConversations)},
		{"GET /api/{user_id}/conversations/{conversation_id}", a.api(a.handleGetConversation)},
		{"DELETE /api/{user_id}/conversations/{conversation_id}", a.api(a.handleDeleteConversation)},
		{"GET /api/{user_id}/conversations/{conversation_id}/messages", a.api(a.handleListMessages)},
		{"GET /api/{user_id}/tasks", a.api(a.handleListTasks)},
		{"GET /health", http.HandlerFunc(a.handleHealth)},
		{"GET /api/health", http.HandlerFunc(a.handleHealth)},
		{"GET /ready", http.HandlerFunc(a.handleReady)},
		{"GET /{$}", http.HandlerFunc(a.handleRoot)},
		{"GET /openapi.json", http.HandlerFunc(a.handleOpenAPI)},
	}
}

// Routes lists the route patterns ("METHOD /path"); GET routes answer HEAD too.
func (a *App) Routes() []string {
	var out []string
	for _, r := range a.routeTable() {
		out = append(out, r.pattern)
	}
	return out
}

func (a *App) routes() *http.ServeMux {
	mux := http.NewServeMux()
	for _, r := range a.routeTable() {
		mux.Handle(r.pattern, r.handler)
	}
	return mux
}

// dispatch routes a request, answering unmatched paths and methods with JSON.
func (a *App) dispatch(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if len(p) > 1 && strings.HasSuffix(p, "/") {
		p = strings.TrimRight(p, "/")
		r.URL.Path = p
		r.URL.RawPath = strings.TrimRight(r.URL.RawPath, "/")
	}
	if ep := r.URL.EscapedPath(); ep == "" || path.Clean(ep) != ep {
		// The mux would redirect to the cleaned path; a request for an
		// empty or dot segment is malformed, so say so instead.
		writeError(w, r, errorf(http.StatusBadRequest, "invalid_path", "The URL path has an empty, \".\" or \"..\" segment."))
		return
	}
	_, pattern := a.mux.Handler(r)
	info(r.Context()).pattern = pattern
	if pattern == "" {
		a.mux.ServeHTTP(&jsonMuxErrors{ResponseWriter: w}, r)
		return
	}
	a.mux.ServeHTTP(w, r)
}

// jsonMuxErrors turns the mux's plain-text 404 and 405 into JSON errors,
// keeping its Allow header; redirects pass through.
type jsonMuxErrors struct {
	http.ResponseWriter
	replaced bool
}

func (j *jsonMuxErrors) WriteHeader(status int) {
	switch status {
	case http.StatusNotFound:
		j.replaced = true
		encode(j.ResponseWriter, status, errorf(status, "not_found", "No such route."))
	case http.StatusMethodNotAllowed:
		j.replaced = true
		allow := j.Header().Get("Allow")
		encode(j.ResponseWriter, status, errorf(status, "method_not_allowed", "Method not allowed here; use %s.", allow))
	default:
		j.ResponseWriter.WriteHeader(status)
	}
}

func (j *jsonMuxErrors) Write(b []byte) (int, error) {
	if j.replaced {
		return len(b), nil
	}
	return j.ResponseWriter.Write(b)
}

var userIDPattern = regexp.MustCompile(`^[A-Za-z0-9._@:-]{1,128}$`)

// api wraps the data routes: they answer 503 while the service is
// misconfigured, 401/403 when auth is on and the token does not name
// {user_id}, and only serve a well-formed user id.
func (a *App) api(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(a.misconf) > 0 {
			writeError(w, r, errMisconfigured)
			return
		}
		var tokenUser string
		if a.auth != nil {
			u, err := a.auth.Verify(r.Context(), auth.TokenFrom(r))
			if err != nil {
				w.Header().Set("WWW-Authenticate", `Bearer realm="taskchat"`)
				if errors.Is(err, auth.ErrNoToken) {
					writeError(w, r, errorf(http.StatusUnauthorized, "unauthorized", "Sign in: send a token as Authorization: Bearer <token> or in the auth_token cookie."))
					return
				}
				zerolog.Ctx(r.Context()).Debug().Err(err).Msg("token rejected")
				writeError(w, r, errorf(http.StatusUnauthorized, "invalid_token", "The token is invalid or has expired; sign in again."))
				return
			}
			tokenUser = u
		}
		uid := r.PathValue("user_id")
		if !userIDPattern.MatchString(uid) {
			writeError(w, r, errorf(http.StatusBadRequest, "invalid_user_id", "The user id must be 1 to 128 characters from A-Z, a-z, 0-9 and . _ @ : -"))
			return
		}
		info(r.Context()).userID = uid
		if a.auth != nil && tokenUser != uid {
			writeError(w, r, errorf(http.StatusForbidden, "forbidden", "This token belongs to another user."))
			return
		}
		h(w, r)
	})
}

// requestInfo is filled in as a request is routed, for its log line.
type requestInfo struct {
	pattern string
	userID  string
}

type infoKey struct{}

func info(ctx context.Context) *requestInfo {
	if ri, ok := ctx.Value(infoKey{}).(*requestInfo); ok {
		return ri
	}
	return &requestInfo{}
}

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// statusWriter remembers the status and size of a response, and drops the
// body of an answer to HEAD wherever the handler runs (not every platform's
// server strips it).
type statusWriter struct {
	http.ResponseWriter
	head   bool
	status int
	bytes  int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	if s.head {
		return len(b), nil
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// withRequestLog gives every request an id (the caller's X-Request-ID when it
// is sane), a logger carrying it, and one log line when it ends. The line
// never holds message text or tokens.
func (a *App) withRequestLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-ID")
		if !requestIDPattern.MatchString(id) {
			var b [16]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-ID", id)
		ri := &requestInfo{}
		log := a.log.With().Str("request_id", id).Logger()
		ctx := context.WithValue(log.WithContext(r.Context()), infoKey{}, ri)
		sw := &statusWriter{ResponseWriter: w, head: r.Method == http.MethodHead}
		next.ServeHTTP(sw, r.WithContext(ctx))

		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		ev := log.Info()
		if status >= 500 {
			ev = log.Error()
		}
		if ri.userID != "" {
			ev = ev.Str("user_id", ri.userID)
		}
		ev.Str("method", r.Method).Str("route", ri.pattern).Int("status", status).
			Int("bytes", sw.bytes).Float64("duration_ms", float64(time.Since(start).Microseconds())/1000).Msg("request")
	})
}

// withRecover turns a panic into a logged 500; the process lives on.
func (a *App) withRecover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			zerolog.Ctx(r.Context()).Error().Interface("panic", v).Bytes("stack", debug.Stack()).Msg("handler panicked")
			if sw, ok := w.(*statusWriter); ok && sw.status != 0 {
				return // too late to answer; the log has it
			}
			encode(w, http.StatusInternalServerError, errorf(http.StatusInternalServerError, "internal_error", "Something went wrong on our side; please try again."))
		}()
		next.ServeHTTP(w, r)
	})
}

// withCORS applies CORS_ORIGINS. With no list, nothing cross-origin is allowed.
func (a *App) withCORS(next http.Handler) http.Handler {
	allowed := a.cfg.CORSOrigins
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		preflight := r.Method == http.MethodOptions && origin != "" && r.Header.Get("Access-Control-Request-Method") != ""
		h := w.Header()
		if origin != "" {
			h.Add("Vary", "Origin")
		}
		ok := origin != "" && allowed.allows(origin)
		if ok {
			if allowed.anyOrigin() {
				h.Set("Access-Control-Allow-Origin", "*")
			} else {
				h.Set("Access-Control-Allow-Origin", origin)
				h.Set("Access-Control-Allow-Credentials", "true")
			}
			h.Set("Access-Control-Expose-Headers", "X-Request-ID, Retry-After")
		}
		if !preflight {
			next.ServeHTTP(w, r)
			return
		}
		info(r.Context()).pattern = "OPTIONS (preflight)"
		if ok {
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Idempotency-Key, X-Request-ID")
			h.Set("Access-Control-Max-Age", "600")
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
