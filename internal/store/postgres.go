package store

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"
	"github.com/rs/zerolog"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

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
type Postgres struct {
	pgStore
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
	transport := strings.ToLower(opts.Transport)
	if transport == "" {
		transport = "tcp"
		if opts.OnSpace && strings.HasSuffix(strings.ToLower(cc.Host), ".neon.tech") {
			transport = "websocket"
		}
	}
	if transport == "websocket" {
		tmpl := opts.WSProxy
		if tmpl == "" {
			tmpl = "wss://{host}/v2"
		}
		cc.DialFunc = dialWebSocket(tmpl)
		// The WebSocket carries TLS; PostgreSQL's own TLS, and channel
		// binding, which needs it, are off inside it.
		cc.TLSConfig = nil
		cc.Fallbacks = nil
		cc.ChannelBinding = "disable"
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
	p := &Postgres{
		pool: pool, migrateTo: migrateTo, log: opts.Logger,
		migrating: make(chan struct{}, 1), transport: transport,
	}
	p.pgStore = pgStore{db: pool, p: p}
	return p, nil
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

// Migrate applies pending migrations under PostgreSQL's advisory lock, so
// instances starting together migrate once. It is a no-op once done.
func (p *Postgres) Migrate(ctx context.Context) error {
	if p.migrated.Load() {
		return nil
	}
	select {
	case p.migrating <- struct{}{}:
		defer func() { <-p.migrating }()
	case <-ctx.Done():
		return p.wrap(ctx, ctx.Err())
	}
	if p.migrated.Load() {
		return nil
	}
	conn, err := pgx.ConnectConfig(ctx, p.migrateTo)
	if err != nil {
		return p.wrap(ctx, fmt.Errorf("connect to migrate: %w", err))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	ctx, cancel := context.WithTimeout(ctx, migrateTimeout)
	defer cancel()
	m, err := migrate.NewMigrator(ctx, conn, "public.taskchat_schema_version")
	if err != nil {
		return p.wrap(ctx, fmt.Errorf("prepare migrations: %w", err))
	}
	sub, _ := fs.Sub(migrationFiles, "migrations")
	if err := m.LoadMigrations(sub); err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	m.OnStart = func(seq int32, name, _, _ string) {
		p.log.Info().Int32("schema_version", seq).Str("migration", name).Msg("applying migration")
	}
	if err := m.Migrate(ctx); err != nil {
		return p.wrap(ctx, fmt.Errorf("migrate: %w", err))
	}
	p.migrated.Store(true)
	return nil
}

// Ping reports whether the database answers. It does not wait for
// migrations (Migrate does), so /health stays quick at start-up.
func (p *Postgres) Ping(ctx context.Context) error {
	return p.wrap(ctx, p.pool.Ping(ctx))
}

// Close closes the pool.
func (p *Postgres) Close() { p.pool.Close() }

// wrap maps driver errors to the package's sentinels. Any failure that is
// not an SQL error from a live server (refused, reset, timed out, closed)
// means the database is unavailable; the pool is then emptied so no request
// is handed a connection that died with it.
func (p *Postgres) wrap(ctx context.Context, err error) error {
	if err == nil {
		p.markUp()
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w", ErrNotFound)
	}
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrUnavailable) {
		return err
	}
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return err // the caller gave up; not the database's fault
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && !unavailableCode(pgErr.Code) {
		return err
	}
	if p.down.CompareAndSwap(false, true) {
		p.log.Warn().Err(err).Msg("database unavailable")
	}
	p.pool.Reset()
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

func (p *Postgres) markUp() {
	if p.down.CompareAndSwap(true, false) {
		p.log.Info().Msg("database available again")
	}
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

// db is what both the pool and one acquired connection offer.
type db interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// pgStore runs the Store methods on db: the pool, or inside RunTurn one
// connection in a transaction (inTurn).
type pgStore struct {
	db     db
	p      *Postgres
	inTurn bool
}

// run calls fn with the store's migrations done, a deadline, errors mapped,
// and, outside a turn, one retry after a dead connection when that is safe:
// reads always, writes only if the failure came before anything was sent.
func (s pgStore) run(ctx context.Context, read bool, fn func(ctx context.Context) error) error {
	if s.inTurn {
		return s.p.wrap(ctx, fn(ctx))
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	if err := s.p.Migrate(ctx); err != nil {
		return err
	}
	err := fn(ctx)
	if err != nil && ctx.Err() == nil && !isSQLError(err) && (read || pgconn.SafeToRetry(err)) {
		s.p.pool.Reset()
		err = fn(ctx)
	}
	return s.p.wrap(ctx, err)
}

func isSQLError(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) || errors.Is(err, pgx.ErrNoRows)
}

const taskColumns = `id, title, description, completed, created_at, updated_at`

func scanTask(row pgx.Row) (Task, error) {
	var t Task
	err := row.Scan(&t.ID, &t.Title, &t.Description, &t.Completed, &t.CreatedAt, &t.UpdatedAt)
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	return t, err
}

const addTaskSQL = `insert into tasks (user_id, title, description) values ($1, $2, $3) returning ` + taskColumns

// AddTask implements Store.
func (s pgStore) AddTask(ctx context.Context, userID, title, description string) (t Task, err error) {
	err = s.run(ctx, false, func(ctx context.Context) error {
		t, err = scanTask(s.db.QueryRow(ctx, addTaskSQL, userID, title, description))
		return err
	})
	return t, err
}

const listTasksSQL = `select ` + taskColumns + ` from tasks
where user_id = $1 and ($2::text = 'all' or completed = ($2::text = 'completed'))
order by id`

// list runs a read query and scans its rows; the result is never nil.
func list[T any](ctx context.Context, s pgStore, scan func(pgx.Row) (T, error), sql string, args ...any) ([]T, error) {
	var out []T
	err := s.run(ctx, true, func(ctx context.Context) error {
		rows, err := s.db.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) { return scan(r) })
		return err
	})
	if out == nil {
		out = []T{}
	}
	return out, err
}

// ListTasks implements Store.
func (s pgStore) ListTasks(ctx context.Context, userID string, f TaskFilter) ([]Task, error) {
	return list(ctx, s, scanTask, listTasksSQL, userID, string(f))
}

const (
	completeTaskSQL = `update tasks set completed = true, updated_at = clock_timestamp()
where id = $2 and user_id = $1 returning ` + taskColumns
	deleteTaskSQL = `delete from tasks where id = $2 and user_id = $1 returning ` + taskColumns
	updateTaskSQL = `update tasks set title = coalesce($3::text, title), description = coalesce($4::text, description),
updated_at = clock_timestamp() where id = $2 and user_id = $1 returning ` + taskColumns
)

func (s pgStore) taskRow(ctx context.Context, what string, id int64, sql string, args ...any) (t Task, err error) {
	err = s.run(ctx, false, func(ctx context.Context) error {
		t, err = scanTask(s.db.QueryRow(ctx, sql, args...))
		return err
	})
	if errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("%s task %d: %w", what, id, ErrNotFound)
	}
	return t, err
}

// CompleteTask implements Store.
func (s pgStore) CompleteTask(ctx context.Context, userID string, id int64) (Task, error) {
	return s.taskRow(ctx, "complete", id, completeTaskSQL, userID, id)
}

// DeleteTask implements Store.
func (s pgStore) DeleteTask(ctx context.Context, userID string, id int64) (Task, error) {
	return s.taskRow(ctx, "delete", id, deleteTaskSQL, userID, id)
}

// UpdateTask implements Store.
func (s pgStore) UpdateTask(ctx context.Context, userID string, id int64, p TaskPatch) (Task, error) {
	return s.taskRow(ctx, "update", id, updateTaskSQL, userID, id, p.Title, p.Description)
}

const (
	convColumns  = `id, title, message_count, created_at, updated_at`
	convColumnsC = `c.id, c.title, c.message_count, c.created_at, c.updated_at`
)

func scanConv(row pgx.Row) (Conversation, error) {
	var c Conversation
	err := row.Scan(&c.ID, &c.Title, &c.MessageCount, &c.CreatedAt, &c.UpdatedAt)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c, err
}

// A turn's first statement: the user message and its conversation in one
// round trip, whether the conversation is new or continued.
const (
	startNewTurnSQL = `with c as (
	insert into conversations (user_id, title, message_count) values ($1, $2, 1)
	returning ` + convColumns + `
), m as (
	insert into messages (conversation_id, role, content, created_at)
	select id, 'user', $3, updated_at from c returning id
)
select ` + convColumnsC + ` from c, m`
	appendSQL = `with c as (
	update conversations set message_count = message_count + 1, updated_at = clock_timestamp(),
		activity = nextval('conversation_activity_seq')
	where id = $2 and user_id = $1
	returning ` + convColumns + `
), m as (
	insert into messages (conversation_id, role, content, tool_calls, created_at)
	select id, $3, $4, $5, updated_at from c returning id, created_at
)
select m.id, m.created_at, ` + convColumnsC + ` from c, m`
)

func startTurnQuery(userID string, convID int64, content string) (string, []any) {
	if convID == 0 {
		return startNewTurnSQL, []any{userID, Title(content), content}
	}
	return appendSQL, []any{userID, convID, RoleUser, content, "[]"}
}

func scanStart(convID int64, row pgx.Row) (Conversation, error) {
	if convID == 0 {
		return scanConv(row)
	}
	_, _, c, err := scanAppended(row)
	return c, err
}

// appendArgs gives appendSQL's arguments for m.
func appendArgs(userID string, m Message) ([]any, error) {
	calls, err := json.Marshal(cloneCalls(m.ToolCalls))
	if err != nil {
		return nil, fmt.Errorf("encode tool calls: %w", err)
	}
	return []any{userID, m.ConversationID, m.Role, m.Content, string(calls)}, nil
}

// scanAppended reads appendSQL's row: the new message's id and time, and
// its conversation as it is afterwards.
func scanAppended(row pgx.Row) (id int64, at time.Time, c Conversation, err error) {
	err = row.Scan(&id, &at, &c.ID, &c.Title, &c.MessageCount, &c.CreatedAt, &c.UpdatedAt)
	at, c.CreatedAt, c.UpdatedAt = at.UTC(), c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return id, at, c, err
}

// Admission statements, sent in the turn's first batch after begin.
const (
	// claimKeySQL takes the key, or takes over one that expired or whose
	// turn died; a live key is not claimed. A concurrent claim of the same
	// key waits here until the first turn commits or rolls back.
	claimKeySQL = `with claim as (
	insert into idempotency_keys (user_id, key, request_hash) values ($1, $2, $3)
	on conflict (user_id, key) do update set request_hash = excluded.request_hash, response = null, created_at = now()
	where idempotency_keys.created_at < now() - interval '24 hours'
		or (idempotency_keys.response is null and idempotency_keys.created_at < now() - interval '5 minutes')
	returning 1
)
select exists (select 1 from claim)`
	readKeySQL = `select request_hash, response from idempotency_keys where user_id = $1 and key = $2`
	// countTurnSQL counts the turn in the current minute (dropping the
	// user's past windows) and says how long until the next one.
	countTurnSQL = `with past as (
	delete from chat_rate where user_id = $1 and window_start < date_trunc('minute', now())
)
insert into chat_rate (user_id, window_start, turns) values ($1, date_trunc('minute', now()), 1)
on conflict (user_id, window_start) do update set turns = chat_rate.turns + 1
returning turns, extract(epoch from date_trunc('minute', now()) + interval '1 minute' - now())::float8`
	setResponseSQL = `update idempotency_keys set response = $3 where user_id = $1 and key = $2`
	releaseKeySQL  = `delete from idempotency_keys where user_id = $1 and key = $2 and response is null`
)

// turnConn takes a connection of its own for a turn's transaction, once the
// schema is current. A connection released inside a transaction (after an
// error) is destroyed by the pool, and the server rolls the transaction back.
func (p *Postgres) turnConn(ctx context.Context) (*pgxpool.Conn, error) {
	if err := p.Migrate(ctx); err != nil {
		return nil, err
	}
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return nil, p.wrap(ctx, err)
	}
	return conn, nil
}

// startTurn sends a turn's first round trip on conn — begin, the key claim,
// the rate count and the user message — and leaves the transaction open
// when it returns a conversation. Otherwise it has rolled back, and returns
// the replay or the error that refused the turn.
func (p *Postgres) startTurn(ctx context.Context, conn *pgxpool.Conn, t Turn) (Conversation, json.RawMessage, error) {
	claimed, turns, wait := true, 0, 0.0
	var conv Conversation
	b := &pgx.Batch{}
	b.Queue("begin")
	if t.IdempotencyKey != "" {
		b.Queue(claimKeySQL, t.UserID, t.IdempotencyKey, t.RequestHash).QueryRow(func(row pgx.Row) error { return row.Scan(&claimed) })
	}
	if t.RateLimit > 0 {
		b.Queue(countTurnSQL, t.UserID).QueryRow(func(row pgx.Row) error { return row.Scan(&turns, &wait) })
	}
	sql, args := startTurnQuery(t.UserID, t.ConversationID, t.Content)
	b.Queue(sql, args...).QueryRow(func(row pgx.Row) (err error) {
		conv, err = scanStart(t.ConversationID, row)
		return err
	})
	err := conn.SendBatch(ctx, b).Close()
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return Conversation{}, nil, p.wrap(ctx, err)
	}
	if !claimed || turns > t.RateLimit || err != nil {
		if _, rbErr := conn.Exec(ctx, "rollback"); rbErr != nil {
			return Conversation{}, nil, p.wrap(ctx, rbErr)
		}
	}
	switch {
	case !claimed:
		var hash string
		var response []byte
		if err := conn.QueryRow(ctx, readKeySQL, t.UserID, t.IdempotencyKey).Scan(&hash, &response); err != nil {
			if errors.Is(err, pgx.ErrNoRows) { // released between the two statements
				return Conversation{}, nil, ErrKeyInUse
			}
			return Conversation{}, nil, p.wrap(ctx, err)
		}
		switch {
		case hash != t.RequestHash:
			return Conversation{}, nil, ErrKeyReused
		case response == nil:
			return Conversation{}, nil, ErrKeyInUse
		}
		return Conversation{}, response, nil
	case turns > t.RateLimit:
		return Conversation{}, nil, &RateLimitError{Limit: t.RateLimit, RetryAfter: time.Duration(wait * float64(time.Second))}
	case err != nil:
		return Conversation{}, nil, convNotFound(t.ConversationID, p.wrap(ctx, err))
	}
	return conv, nil, nil
}

// StartTurn implements Store: one round trip to admit the turn and store the
// user message, and one to commit.
func (s pgStore) StartTurn(ctx context.Context, t Turn) (Conversation, json.RawMessage, error) {
	if s.inTurn {
		return Conversation{}, nil, errors.New("StartTurn inside RunTurn")
	}
	p := s.p
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	conn, err := p.turnConn(ctx)
	if err != nil {
		return Conversation{}, nil, err
	}
	defer conn.Release()
	conv, replay, err := p.startTurn(ctx, conn, t)
	if err != nil || replay != nil {
		return conv, replay, err
	}
	if _, err := conn.Exec(ctx, "commit"); err != nil {
		return Conversation{}, nil, p.wrap(ctx, err)
	}
	return conv, nil, nil
}

// finishBatch queues the statements that end a turn.
func finishBatch(b *pgx.Batch, t Turn, reply Message, response json.RawMessage) error {
	args, err := appendArgs(t.UserID, reply)
	if err != nil {
		return err
	}
	b.Queue(appendSQL, args...).QueryRow(func(row pgx.Row) error {
		_, _, _, err := scanAppended(row)
		return err
	})
	if t.IdempotencyKey != "" {
		b.Queue(setResponseSQL, t.UserID, t.IdempotencyKey, string(response))
	}
	return nil
}

// FinishTurn implements Store: one round trip, one implicit transaction.
func (s pgStore) FinishTurn(ctx context.Context, t Turn, reply Message, response json.RawMessage) error {
	b := &pgx.Batch{}
	if err := finishBatch(b, t, reply, response); err != nil {
		return err
	}
	return convNotFound(reply.ConversationID, s.run(ctx, false, func(ctx context.Context) error {
		return s.db.SendBatch(ctx, b).Close()
	}))
}

// AbandonTurn implements Store.
func (s pgStore) AbandonTurn(ctx context.Context, t Turn) error {
	if t.IdempotencyKey == "" {
		return nil
	}
	return s.run(ctx, false, func(ctx context.Context) error {
		_, err := s.db.Exec(ctx, releaseKeySQL, t.UserID, t.IdempotencyKey)
		return err
	})
}

// Sweep implements Store.
func (s pgStore) Sweep(ctx context.Context) error {
	return s.run(ctx, false, func(ctx context.Context) error {
		_, err := s.db.Exec(ctx, `delete from idempotency_keys where created_at < now() - interval '24 hours'`)
		if err == nil {
			_, err = s.db.Exec(ctx, `delete from chat_rate where window_start < date_trunc('minute', now())`)
		}
		return err
	})
}

func convNotFound(id int64, err error) error {
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("conversation %d: %w", id, ErrNotFound)
	}
	return err
}

const getConvSQL = `select ` + convColumns + ` from conversations where id = $2 and user_id = $1`

// GetConversation implements Store.
func (s pgStore) GetConversation(ctx context.Context, userID string, id int64) (c Conversation, err error) {
	err = s.run(ctx, true, func(ctx context.Context) error {
		c, err = scanConv(s.db.QueryRow(ctx, getConvSQL, userID, id))
		return err
	})
	return c, convNotFound(id, err)
}

// The cursor's activity is looked up once (an InitPlan), so the page is a
// range scan of conversations_user_activity_idx whatever the history's size.
const listConvSQL = `select ` + convColumns + ` from conversations
where user_id = $1 and activity < case when $2::bigint = 0 then 9223372036854775807
	else coalesce((select activity from conversations where id = $2 and user_id = $1), -1) end
order by activity desc limit $3`

// ListConversations implements Store.
func (s pgStore) ListConversations(ctx context.Context, userID string, p Page) ([]Conversation, error) {
	return list(ctx, s, scanConv, listConvSQL, userID, p.Before, p.Limit)
}

const deleteConvSQL = `delete from conversations where id = $2 and user_id = $1`

// DeleteConversation implements Store.
func (s pgStore) DeleteConversation(ctx context.Context, userID string, id int64) error {
	err := s.run(ctx, false, func(ctx context.Context) error {
		tag, err := s.db.Exec(ctx, deleteConvSQL, userID, id)
		if err == nil && tag.RowsAffected() == 0 {
			err = pgx.ErrNoRows
		}
		return err
	})
	return convNotFound(id, err)
}

// AppendMessage implements Store.
func (s pgStore) AppendMessage(ctx context.Context, userID string, m Message) (Message, error) {
	args, err := appendArgs(userID, m)
	if err != nil {
		return Message{}, err
	}
	err = s.run(ctx, false, func(ctx context.Context) error {
		var err error
		m.ID, m.CreatedAt, _, err = scanAppended(s.db.QueryRow(ctx, appendSQL, args...))
		return err
	})
	m.ToolCalls = cloneCalls(m.ToolCalls)
	return m, convNotFound(m.ConversationID, err)
}

// A page of messages, and whether the conversation is the user's, in one
// query: no row means no such conversation, one row of nulls an empty page.
const listMessagesSQL = `select m.id, m.role, m.content, m.tool_calls, m.created_at
from conversations c
left join lateral (
	select id, role, content, tool_calls, created_at from messages
	where conversation_id = c.id and id < $3 order by id desc limit $4
) m on true
where c.id = $2 and c.user_id = $1`

// ListMessages implements Store.
func (s pgStore) ListMessages(ctx context.Context, userID string, convID int64, p Page) (ms []Message, err error) {
	before := p.Before
	if before == 0 {
		before = math.MaxInt64
	}
	err = s.run(ctx, true, func(ctx context.Context) error {
		ms = ms[:0]
		rows, err := s.db.Query(ctx, listMessagesSQL, userID, convID, before, p.Limit)
		if err != nil {
			return err
		}
		found := false
		var id *int64
		var role, content *string
		var calls []byte
		var at *time.Time
		_, err = pgx.ForEachRow(rows, []any{&id, &role, &content, &calls, &at}, func() error {
			found = true
			if id == nil {
				return nil
			}
			m := Message{ID: *id, ConversationID: convID, Role: *role, Content: *content, CreatedAt: at.UTC()}
			if err := json.Unmarshal(calls, &m.ToolCalls); err != nil {
				return fmt.Errorf("decode tool calls of message %d: %w", m.ID, err)
			}
			if m.ToolCalls == nil {
				m.ToolCalls = []ToolCall{}
			}
			ms = append(ms, m)
			return nil
		})
		if err == nil && !found {
			err = pgx.ErrNoRows
		}
		return err
	})
	if ms == nil {
		ms = []Message{}
	}
	return ms, convNotFound(convID, err)
}

// Ping implements Store for the connection of a turn: it is in use, so it answers.
func (s pgStore) Ping(context.Context) error { return nil }

// Close implements Store; a turn's connection is released by RunTurn.
func (s pgStore) Close() {}

// RunTurn implements Store: a turn of the offline agent takes three round
// trips (four when a task is looked up by title) and one commit:
//
//	begin + key claim + rate count + the user message   (one batch)
//	the tools fn calls                                   (one each)
//	the assistant message + key's response + commit     (one batch)
func (s pgStore) RunTurn(ctx context.Context, t Turn, fn TurnFunc) (json.RawMessage, bool, error) {
	if s.inTurn {
		return nil, false, errors.New("RunTurn inside RunTurn")
	}
	p := s.p
	ctx, cancel := context.WithTimeout(ctx, turnTimeout)
	defer cancel()
	conn, err := p.turnConn(ctx)
	if err != nil {
		return nil, false, err
	}
	defer conn.Release()

	conv, replay, err := p.startTurn(ctx, conn, t)
	if err != nil || replay != nil {
		return replay, replay != nil, err
	}
	reply, response, err := fn(ctx, pgStore{db: conn, p: p, inTurn: true}, conv)
	if err != nil {
		_, _ = conn.Exec(ctx, "rollback")
		return nil, false, err
	}
	reply.ConversationID = conv.ID
	b := &pgx.Batch{}
	if err := finishBatch(b, t, reply, response); err != nil {
		return nil, false, err
	}
	b.Queue("commit")
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return nil, false, p.wrap(ctx, err)
	}
	return response, false, nil
}
