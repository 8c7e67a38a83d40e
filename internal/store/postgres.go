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
// schema current; turn.go runs chat turns; tasks.go and conversations.go
// hold the queries.
type Postgres struct {
	pool      *pgxpool.Pool
	migrateTo *pgx.ConnConfig // a direct, unpooled connection for migrations
	log       zerolog.Logger
	migrated  atomic.Bool
	migrating chan struct{} // a one-slot lock that respects contexts
	down      atomic.Bool   // for logging the up/down transitions once
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
	cfg.MaxConnIdleTime = 5 * time.Minute
	if !strings.Contains(opts.URL, "pool_max_conns") {
		// pgx's default, max(4, cores), starves a workload whose turns
		// spend most of their time waiting on round trips: on two cores, 4
		// connections gave 3,225 turns/s at 32 clients and 16 gave 4,788.
		cfg.MaxConns = defaultMaxConns
	}

	migrateTo := cc.Copy()
	// Neon's pooled endpoint (PgBouncer, transaction mode) cannot hold the
	// session advisory lock migrations take: use its direct endpoint.
	migrateTo.Host = strings.Replace(migrateTo.Host, "-pooler.", ".", 1)
	migrateTo.Tracer = nil

	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("create pool: %w", err)
	}
	return &Postgres{
		pool: pool, migrateTo: migrateTo, log: opts.Logger,
		migrating: make(chan struct{}, 1), transport: transport,
	}, nil
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

// Close closes the pool.
func (p *Postgres) Close() { p.pool.Close() }

// classify maps a driver error to the package's sentinels: no rows is
// ErrNotFound, and any failure that is not an SQL error from a live server
// (refused, reset, timed out, closed) is ErrUnavailable.
func classify(ctx context.Context, err error) error {
	switch {
	case err == nil, errors.Is(err, ErrNotFound), errors.Is(err, ErrUnavailable):
		return err
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("%w", ErrNotFound)
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		return err // the caller gave up; not the database's fault
	}
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && !unavailableCode(pgErr.Code) {
		return err
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
		if p.down.CompareAndSwap(false, true) {
			p.log.Warn().Err(err).Msg("database unavailable")
		}
		p.pool.Reset()
	}
	return err
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

// read runs a query on the pool with the schema current and a deadline,
// and retries it once on a fresh connection after a dead one.
func (p *Postgres) read(ctx context.Context, fn func(ctx context.Context, q db) error) error {
	return p.call(ctx, true, fn)
}

// write runs a statement on the pool with the schema current and a
// deadline; it is retried after a dead connection only if the failure came
// before anything was sent, so it never runs twice.
func (p *Postgres) write(ctx context.Context, fn func(ctx context.Context, q db) error) error {
	return p.call(ctx, false, fn)
}

func (p *Postgres) call(ctx context.Context, retryAlways bool, fn func(ctx context.Context, q db) error) error {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	if err := p.Migrate(ctx); err != nil {
		return err
	}
	err := fn(ctx, p.pool)
	if err != nil && ctx.Err() == nil && !isAnswer(err) && (retryAlways || pgconn.SafeToRetry(err)) {
		p.pool.Reset()
		err = fn(ctx, p.pool)
	}
	return p.outcome(ctx, err)
}

// isAnswer reports whether err is the server's answer (an SQL error, or no
// such row) rather than a failure to reach it.
func isAnswer(err error) bool {
	_, ok := errors.AsType[*pgconn.PgError](err)
	return ok || errors.Is(err, pgx.ErrNoRows) || errors.Is(err, ErrNotFound)
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
