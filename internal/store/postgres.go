package store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"
)

// Timeouts that keep a request from hanging on a database that is away.
const (
	// connectTimeout bounds one connection attempt, unless the URL sets
	// connect_timeout: long enough for a waking Neon compute to answer
	// usually, short enough to report an outage within about two seconds.
	connectTimeout = 2 * time.Second
	// opTimeout bounds one store call; turnTimeout one whole RunTurn.
	opTimeout   = 5 * time.Second
	turnTimeout = 10 * time.Second
	// migrateTimeout bounds applying the migrations once connected.
	migrateTimeout = 30 * time.Second
)

// defaultMaxConns is the pool size unless the URL sets pool_max_conns.
const defaultMaxConns = 16

// PostgresOptions configures OpenPostgres.
type PostgresOptions struct {
	// URL is a postgres:// URL or a keyword/value connection string.
	URL string
	// QueryMode is "", "exec" or "simple"; the latter two suit PgBouncer in
	// transaction mode (no server-side prepared statements).
	QueryMode string
	// Transport is "tcp", "websocket", or "" for automatic: WebSocket when
	// OnSpace is true and the host is a Neon endpoint.
	Transport string
	// WSProxy is a WebSocket URL template with {host} and {port}; the
	// default is Neon's wss://{host}/v2.
	WSProxy string
	// OnSpace says the process runs on a Hugging Face Space, where outbound
	// port 5432 is blocked.
	OnSpace bool
	// Schema is the PostgreSQL schema of taskchat's own objects
	// (DefaultSchema when empty; see ValidSchemaName).
	Schema string
	// NoAdopt keeps taskchat to its own tables even where the database
	// holds a to-do application's tables it could adopt.
	NoAdopt bool
	// Limits bound what one user may store.
	Limits Limits
	// Tracer, when set, sees every query (tests count round trips with it).
	Tracer pgx.QueryTracer
	Logger zerolog.Logger
}

// Postgres is the durable Store on PostgreSQL. It connects lazily: opening it
// does no I/O, the schema is migrated on first use (or by Migrate), and an
// unreachable database makes calls fail fast with ErrUnavailable until it is
// back, with no restart needed.
//
// Its files: this one opens the pool and maps errors; migrate.go keeps the
// schema current; schema.go decides which tables to serve, statements.go
// builds their SQL; turn.go runs chat turns; tasks.go and conversations.go
// run the queries.
type Postgres struct {
	pool      *pgxpool.Pool
	gate      *gate // bounds the connections in use below the server's limit
	limits    Limits
	log       zerolog.Logger
	own       string
	adopt     bool
	current   atomic.Pointer[schema] // nil until Migrate succeeds
	schemaErr atomic.Pointer[error]  // why the last Migrate failed
	migrating chan struct{}          // a one-slot lock that respects contexts
	down      atomic.Bool            // for logging the up/down transitions once
	transport string
}

var _ Store = (*Postgres)(nil)

// OpenPostgres prepares a connection pool. It fails only when the options
// cannot be parsed; it never connects.
func OpenPostgres(opts PostgresOptions) (*Postgres, error) {
	cfg, err := pgxpool.ParseConfig(opts.URL)
	if err != nil {
		// pgx's message may quote the URL, password included: keep it out.
		return nil, errors.New("DATABASE_URL cannot be parsed as a PostgreSQL connection string")
	}
	cc := cfg.ConnConfig
	if !strings.Contains(opts.URL, "connect_timeout") {
		cc.ConnectTimeout = connectTimeout
	}
	switch strings.ToLower(opts.QueryMode) {
	case "exec":
		cc.DefaultQueryExecMode = pgx.QueryExecModeExec
	case "simple":
		cc.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	}
	transport := chooseTransport(opts, cc.Host)
	if transport == "websocket" {
		useWebSocket(cc, opts.WSProxy)
	}
	cc.Tracer = opts.Tracer
	var p *Postgres
	cc.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) { p.logApplied(n) }
	cfg.MaxConnIdleTime = 5 * time.Minute
	// No ping before a connection is handed out: it would cost every turn
	// at a person's pace a round trip. A connection that died is found out
	// by the first batch sent on it, which is retried where nothing of it
	// can have happened (see turnStart, call).
	cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
	// A new connection prepares every statement in one round trip when it
	// opens, so no turn pays a prepare.
	cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
		if s := p.current.Load(); s != nil {
			p.warm(ctx, c, s)
		}
		return nil
	}
	if !strings.Contains(opts.URL, "pool_max_conns") {
		// pgx's default, max(4, cores), starves a workload whose turns
		// spend most of their time waiting on round trips: on two cores, 4
		// connections gave 3,225 turns/s at 32 clients and 16 gave 4,788.
		cfg.MaxConns = defaultMaxConns
	}

	own := opts.Schema
	if own == "" {
		own = DefaultSchema
	}
	if !ValidSchemaName(own) {
		return nil, errors.New("DATABASE_SCHEMA must be a plain lower-case identifier, and not public")
	}

	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("create pool: %w", err)
	}
	p = &Postgres{
		pool: pool, gate: newGate(int(cfg.MaxConns)), limits: opts.Limits, log: opts.Logger, own: own, adopt: !opts.NoAdopt,
		migrating: make(chan struct{}, 1), transport: transport,
	}
	return p, nil
}

// chooseTransport resolves PostgresOptions.Transport for the URL's host.
func chooseTransport(opts PostgresOptions, host string) string {
	if t := strings.ToLower(opts.Transport); t != "" {
		return t
	}
	if opts.OnSpace && strings.HasSuffix(strings.ToLower(host), ".neon.tech") {
		return "websocket"
	}
	return "tcp"
}

// useWebSocket makes cc dial through a WebSocket made from the URL template
// tmpl (Neon's wss://{host}/v2 when empty). The WebSocket carries TLS, so
// PostgreSQL's own TLS, and channel binding, which needs it, are off inside it.
func useWebSocket(cc *pgx.ConnConfig, tmpl string) {
	if tmpl == "" {
		tmpl = "wss://{host}/v2"
	}
	cc.DialFunc = dialWebSocket(tmpl)
	cc.TLSConfig = nil
	cc.Fallbacks = nil
	cc.ChannelBinding = "disable"
}

// Transport reports how the store reaches the database: "tcp" or "websocket".
func (p *Postgres) Transport() string { return p.transport }

// dialWebSocket returns a pgx dialer that carries the PostgreSQL protocol in
// binary WebSocket frames to the URL made from tmpl.
func dialWebSocket(tmpl string) pgconn.DialFunc {
	return func(ctx context.Context, _, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		url := strings.NewReplacer("{host}", host, "{port}", port).Replace(tmpl)
		c, _, err := websocket.Dial(ctx, url, nil)
		if err != nil {
			return nil, fmt.Errorf("websocket dial: %w", err)
		}
		// The connection outlives the dial context; pgx closes it.
		return websocket.NetConn(context.Background(), c, websocket.MessageBinary), nil
	}
}

// Ping reports whether the database answers. It does not wait for
// migrations (Migrate does), so /health stays quick at start-up.
func (p *Postgres) Ping(ctx context.Context) error {
	return p.outcome(ctx, p.pool.Ping(ctx))
}

// Ready implements Store: the database answers and the schema is current.
func (p *Postgres) Ready(ctx context.Context) error {
	if err := p.Ping(ctx); err != nil {
		return err
	}
	return p.Migrate(ctx)
}

// Status implements Store.
func (p *Postgres) Status() Status {
	var st Status
	if s := p.current.Load(); s != nil {
		st.Adopted, st.Problems = s.adopted, s.problems
	}
	if err := p.schemaErr.Load(); err != nil {
		st.Problems = append(st.Problems, fmt.Sprintf("the database schema is not ready (%v); data routes answer 503 database_schema_error until it is fixed", *err))
	}
	return st
}

// Close closes the pool.
func (p *Postgres) Close() { p.pool.Close() }

// classify maps a driver error to the package's sentinels: no rows is
// ErrNotFound, and any failure that is not an SQL error from a live server
// (refused, reset, timed out, closed) is ErrUnavailable.
func classify(ctx context.Context, err error) error {
	switch {
	case err == nil, errors.Is(err, ErrNotFound), errors.Is(err, ErrUnavailable), errors.Is(err, ErrSchema):
		return err
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("%w", ErrNotFound)
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		return err // the caller gave up; not the database's fault
	}
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		switch {
		case unavailableCode(pgErr.Code), busyCode(pgErr.Code):
		case pgErr.Code == "42P01" || pgErr.Code == "42703":
			// A table or column taskchat uses is gone: someone changed
			// the schema under it.
			return fmt.Errorf("%w: %w", ErrSchema, err)
		case pgErr.Code == "23503" && strings.Contains(pgErr.Detail, "is not present in table"):
			return fmt.Errorf("%w: %w", ErrUnknownUser, err)
		case pgErr.Code == "23505" && strings.Contains(pgErr.Detail, "email"):
			return fmt.Errorf("%w: %w", ErrEmailTaken, err)
		case strings.HasPrefix(pgErr.Code, "22") || pgErr.Code == "23514" || pgErr.Code == "23502":
			// Data exceptions and check violations: a value an adopted
			// table's column does not take.
			return fmt.Errorf("%w: %w", ErrValueRejected, err)
		default:
			return err
		}
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// outcome classifies a database call's error and acts on what it says about
// the database: it logs the up and down transitions and, when the database
// is unavailable, empties the pool so no request is handed a connection
// that died with it.
func (p *Postgres) outcome(ctx context.Context, err error) error {
	err = classify(ctx, err)
	switch {
	case err == nil:
		if p.down.CompareAndSwap(true, false) {
			p.log.Info().Msg("database available again")
		}
	case errors.Is(err, ErrUnavailable):
		if connectionDied(err) {
			if p.down.CompareAndSwap(false, true) {
				p.log.Warn().Err(err).Msg("database unavailable")
			}
			// The server went away under an open connection (a restart, a
			// failover, a network cut): the pool's idle ones likely died with
			// it. A connection that could not be opened, or a busy server's
			// answer, says nothing against the open ones, so they stay.
			p.pool.Reset()
		}
	case errors.Is(err, ErrSchema):
		// Inspect the schema again on the next call.
		p.current.Store(nil)
	}
	return err
}

// busyCode reports SQLSTATEs of a server that is up but could not do the
// work now, and rolled it back: a statement or lock timeout, a
// serialization failure or deadlock, a lack of resources.
func busyCode(code string) bool {
	switch code {
	case "57014", "55P03", "40001", "40P01":
		return true
	}
	return strings.HasPrefix(code, "53")
}

// sessionEnded reports SQLSTATEs that end the session: the server shut down
// or was told to end this backend, or the connection broke.
func sessionEnded(code string) bool {
	return code == "57P01" || code == "57P02" || code == "57P03" || strings.HasPrefix(code, "08")
}

// connectionDied reports a failure of an open connection — the network, or
// the server ending the session — as opposed to one that could not be
// opened, or a server's answer.
func connectionDied(err error) bool {
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok {
		return false
	}
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		return sessionEnded(pgErr.Code)
	}
	return !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled)
}

// unavailableCode reports SQLSTATEs that mean "not now" rather than "wrong":
// connection exceptions, shutdowns, too many connections, failed auth or a
// missing database (an operator problem the service cannot fix itself).
func unavailableCode(code string) bool {
	switch {
	case strings.HasPrefix(code, "08"), strings.HasPrefix(code, "57P"), strings.HasPrefix(code, "53"),
		code == "28P01", code == "28000", code == "3D000":
		return true
	}
	return false
}

// db is what both the pool and one acquired connection offer; the queries
// run on either.
type db interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// query is one store call's work: its statements on q, with the schema's SQL.
type query func(ctx context.Context, q db, s *schema) error

// read runs a query on the pool with the schema current and a deadline,
// and retries it once on a fresh connection after a dead one.
func (p *Postgres) read(ctx context.Context, fn query) error {
	return p.call(ctx, true, fn)
}

// write runs a statement on the pool with the schema current and a
// deadline; it is retried after a dead connection only if the failure came
// before anything was sent, so it never runs twice.
func (p *Postgres) write(ctx context.Context, fn query) error {
	return p.call(ctx, false, fn)
}

func (p *Postgres) call(ctx context.Context, retryAlways bool, fn query) error {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	s, err := p.schemaNow(ctx)
	if err != nil {
		return err
	}
	err = p.on(ctx, s, fn)
	if err != nil && ctx.Err() == nil && !isAnswer(err) && (retryAlways || pgconn.SafeToRetry(err)) {
		// The connection died under the call: the pool drops it, and
		// outcome drops the idle ones that likely died with it.
		_ = p.outcome(ctx, err)
		err = p.on(ctx, s, fn)
	}
	return p.outcome(ctx, err)
}

// on runs fn on a connection of its own.
func (p *Postgres) on(ctx context.Context, s *schema, fn query) error {
	c, err := p.acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	return fn(ctx, c, s)
}

// schemaNow is the current schema, migrating first if need be.
func (p *Postgres) schemaNow(ctx context.Context) (*schema, error) {
	if s := p.current.Load(); s != nil {
		return s, nil
	}
	if err := p.Migrate(ctx); err != nil {
		return nil, err
	}
	if s := p.current.Load(); s != nil {
		return s, nil
	}
	return nil, fmt.Errorf("%w: it changed while in use", ErrSchema)
}

// isAnswer reports whether err is the server's answer (an SQL error, or no
// such row) rather than a failure to reach it.
func isAnswer(err error) bool {
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		return !sessionEnded(pgErr.Code)
	}
	return errors.Is(err, pgx.ErrNoRows) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrUnknownUser)
}

// list runs a query and scans its rows; the result is never nil.
func list[T any](ctx context.Context, q db, scan func(pgx.Row) (T, error), sql string, args ...any) ([]T, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return []T{}, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) { return scan(r) })
	if out == nil {
		out = []T{}
	}
	return out, err
}
