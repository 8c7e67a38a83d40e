package taskchat

import (
	"context"
	"io"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/taskchat/taskchat/internal/agent"
	"github.com/taskchat/taskchat/internal/auth"
	"github.com/taskchat/taskchat/internal/store"
)

// App is a built taskchat: configuration, logger, store, agent and routes.
type App struct {
	cfg       Config
	log       zerolog.Logger
	store     store.Store
	agent     agent.Agent
	auth      *auth.Verifier // nil: auth off
	passwords auth.Passwords
	standing  standing
	handler   http.Handler

	background sync.WaitGroup  // work Close waits for
	bg         context.Context // cancelled by Close
	stop       context.CancelFunc
	lastSweep  atomic.Int64 // when the last sweep began, in Unix nanoseconds
}

// options are test hooks that the public constructor does not offer.
type options struct {
	dbTracer   pgx.QueryTracer
	bcryptCost int // 0: auth.BcryptCost
}

// newApp builds the app: configuration, logger, auth, store, agent, routes
// and middleware. It does no network I/O; migrations start in the
// background.
func newApp(getenv func(string) string, logOut io.Writer, opts options) *App {
	ctx := context.Background()
	cfg, invalid := loadConfig(ctx, getenv)
	a := &App{cfg: cfg, agent: agent.Offline{}}
	a.standing.version = version()
	for _, name := range invalid {
		a.standing.misconfigured = append(a.standing.misconfigured, name+" has an invalid value")
	}
	a.log = newLogger(cfg, logOut).With().Str("version", a.standing.version).Logger()
	a.auth = auth.New(auth.Config{
		Secret: cfg.AuthSecret, JWKSURL: cfg.jwksURL(), Issuer: cfg.AuthIssuer, Audience: cfg.AuthAudience,
		Logger: a.log.With().Str("component", "auth").Logger(),
	})
	a.passwords = auth.NewPasswords(opts.bcryptCost)
	a.standing.auth = a.auth != nil
	a.standing.accounts = cfg.accountsOn()
	if a.auth == nil {
		a.log.Warn().Msg("auth is off: no AUTH_SECRET or AUTH_JWKS_URL; any caller can act as any user id")
	}

	bg, stop := context.WithCancel(context.Background())
	a.stop = stop
	a.openStore(bg, opts)
	a.bg = bg
	a.lastSweep.Store(time.Now().UnixNano()) // the first, an hour in
	if llm := cfg.llm; llm.On {
		a.agent = agent.NewLLM(agent.LLMConfig{Provider: llm.Provider, BaseURL: llm.BaseURL, APIKey: llm.APIKey, Model: llm.Model, Timeout: llm.Timeout})
		a.log.Info().Str("provider", llm.Provider).Str("model", llm.Model).Msg("LLM agent on; the offline agent answers when it fails")
	}
	a.standing.agent = a.agent.Name()

	a.handler = withRequestLog(a.log, withRecover(withBodyTimeout(cfg.BodyTimeout, withCORS(cfg.CORSOrigins, dispatch(newMuxes(a.routeTable()))))))

	ev := a.log.Info()
	if len(a.standing.misconfigured) > 0 {
		ev = a.log.Error().Strs("misconfigured", a.standing.misconfigured)
	}
	ev.Str("store", a.standing.store).Str("agent", a.standing.agent).Strs("problems", a.standing.problems()).Msg("taskchat ready")
	return a
}

// openStore picks PostgreSQL when DATABASE_URL is set, else memory. A set
// but unusable URL never falls back to memory: that would lose data.
func (a *App) openStore(bg context.Context, opts options) {
	cfg := a.cfg
	if cfg.DatabaseURL == "" {
		a.store, a.standing.store = store.NewMemoryWith(cfg.limits()), "memory"
		a.log.Warn().Msg("DATABASE_URL is not set: using the in-memory store; data is lost on restart")
		return
	}
	a.standing.store = "postgres"
	pg, err := store.OpenPostgres(store.PostgresOptions{
		URL: cfg.DatabaseURL, QueryMode: cfg.DatabaseQueryMode, Transport: cfg.DatabaseTransport,
		WSProxy: cfg.DatabaseWSProxy, OnSpace: cfg.SpaceID != "", Tracer: opts.dbTracer,
		Schema: cfg.DatabaseSchema, NoAdopt: strings.EqualFold(cfg.DatabaseAdopt, "off"), Limits: cfg.limits(),
		Logger: a.log.With().Str("component", "store").Logger(),
	})
	if err != nil {
		a.standing.misconfigured = append(a.standing.misconfigured, err.Error())
		// A closed store answers everything with ErrUnavailable; the API
		// is refused while misconfigured anyway, and /health reports "down".
		closed := store.NewMemory()
		closed.Close()
		a.store = closed
		return
	}
	a.store = pg
	a.background.Go(func() {
		// Migrate now so the first request does not wait for it; if the
		// database is away, the first request that reaches it migrates.
		if err := pg.Migrate(bg); err != nil && bg.Err() == nil {
			a.log.Warn().Err(err).Msg("database not ready at start; will retry on demand")
		}
	})
}

// sweepEvery is how often expired idempotency keys and past rate-limit
// windows are deleted.
const sweepEvery = time.Hour

// sweepIfDue starts a sweep when the last began an hour ago or more. It
// runs on demand, from a request, rather than on a timer: on Lambda and
// Cloud Run a process between requests gets no CPU, and a process that
// gets no requests writes nothing that needs sweeping. The request it
// starts from does not wait for it.
func (a *App) sweepIfDue(now time.Time) {
	last := a.lastSweep.Load()
	if now.UnixNano()-last < int64(sweepEvery) || !a.lastSweep.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	a.background.Go(func() {
		ctx, cancel := context.WithTimeout(a.bg, time.Minute)
		defer cancel()
		if err := a.store.Sweep(ctx); err != nil && a.bg.Err() == nil {
			a.log.Warn().Err(err).Msg("sweep failed")
		}
	})
}

// ServeHTTP implements http.Handler.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.sweepIfDue(time.Now())
	a.handler.ServeHTTP(w, r)
}

// Config returns the configuration the app was built with.
func (a *App) Config() Config { return a.cfg }

// Logger returns the app's logger.
func (a *App) Logger() zerolog.Logger { return a.log }

// Close stops background work and releases the store.
func (a *App) Close() {
	a.auth.Close()
	a.stop()
	a.background.Wait()
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
