package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/tern/v2/migrate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one embedded migration as tern loads it: numbered from 1 in
// file order, its templates evaluated.
type migration struct {
	seq  int32
	name string
	sql  string
}

// migrations loads the embedded migrations with tern's loader.
func migrations() ([]migration, error) {
	m, err := migrate.NewMigratorEx(context.Background(), nil, "", &migrate.MigratorOptions{})
	if err != nil {
		return nil, err
	}
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	if err := m.LoadMigrations(sub); err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	out := make([]migration, len(m.Migrations))
	for i, mig := range m.Migrations {
		out[i] = migration{seq: mig.Sequence, name: mig.Name, sql: mig.UpSQL}
	}
	return out, nil
}

// Migrate makes the schema current and decides where tasks and
// conversations live (see schema.go). A database that is already current
// costs one round trip; one that is behind is migrated in one more, as one
// transaction under an advisory lock, so instances starting together
// migrate once. It is a no-op once done.
//
// A schema that cannot be made current (no permission, a newer version, a
// failed migration) returns ErrSchema, and Status says why.
func (p *Postgres) Migrate(ctx context.Context) error {
	if p.current.Load() != nil {
		return nil
	}
	select {
	case p.migrating <- struct{}{}:
		defer func() { <-p.migrating }()
	case <-ctx.Done():
		return p.outcome(ctx, ctx.Err())
	}
	if p.current.Load() != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, migrateTimeout)
	defer cancel()
	s, err := p.prepareSchema(ctx)
	if err != nil {
		if err := p.outcome(ctx, err); errors.Is(err, ErrUnavailable) || ctx.Err() != nil {
			return err
		}
		p.schemaErr.Store(&err)
		p.log.Error().Err(err).Msg("the database schema is not ready")
		if errors.Is(err, ErrSchema) {
			return err
		}
		return fmt.Errorf("%w: %w", ErrSchema, err)
	}
	p.schemaErr.Store(nil)
	for _, t := range s.adopted {
		p.log.Info().Str("table", t).Msg("adopted an existing table")
	}
	for _, problem := range s.problems {
		p.log.Warn().Str("problem", problem).Msg("schema")
	}
	p.current.Store(s)
	// The connections opened before the schema was known (the one that
	// checked it) prepare their statements now.
	for _, c := range p.pool.AcquireAllIdle(ctx) {
		p.warm(ctx, c.Conn(), s)
		c.Release()
	}
	return nil
}

// warm prepares every statement of the schema on c in one round trip. It
// queues them all in one batch with no arguments: pgx prepares the new
// statements of a batch together, in one pipeline, before it binds any, and
// then, finding no arguments for the first, sends nothing more. The
// statements stay prepared and in the connection's cache.
func (p *Postgres) warm(ctx context.Context, c *pgx.Conn, s *schema) {
	if c.Config().DefaultQueryExecMode != pgx.QueryExecModeCacheStatement {
		return // the exec and simple modes prepare nothing
	}
	data := c.PgConn().CustomData()
	if data["taskchat schema"] == s {
		return
	}
	b := &pgx.Batch{}
	for _, sql := range s.sql.all() {
		b.Queue(sql)
	}
	err := c.SendBatch(ctx, b).Close()
	if _, ok := errors.AsType[pgx.ErrPreprocessingBatch](err); !ok || !strings.Contains(err.Error(), "(build)") {
		// Not the expected refusal to bind: the statements are prepared
		// one by one as turns first use them instead.
		p.log.Debug().Err(err).Msg("could not prepare the statements ahead")
		return
	}
	data["taskchat schema"] = s
}

// prepareSchema inspects the database and, when it is behind, migrates it
// and inspects it again.
func (p *Postgres) prepareSchema(ctx context.Context) (*schema, error) {
	migs, err := migrations()
	if err != nil {
		return nil, err
	}
	latest := migs[len(migs)-1].seq
	in, err := p.inspect(ctx)
	if err != nil && !undefinedObject(err) {
		return nil, err
	}
	if err != nil || in.version < latest {
		if err := p.applyMigrations(ctx, migs); err != nil {
			return nil, err
		}
		if in, err = p.inspect(ctx); err != nil {
			return nil, err
		}
	}
	if in.version > latest {
		return nil, fmt.Errorf("%w: %s is at version %d, newer than this taskchat's %d: run the newer taskchat, or roll the schema back", ErrSchema, p.own, in.version, latest)
	}
	return plan(p.own, in), nil
}

// undefinedObject reports the errors of a schema that was never migrated.
func undefinedObject(err error) bool {
	pgErr, ok := errors.AsType[*pgconn.PgError](err)
	return ok && (pgErr.Code == "42P01" || pgErr.Code == "3F000")
}

// inspect runs the schema check: one round trip, in the simple protocol so
// that a fresh connection prepares nothing.
func (p *Postgres) inspect(ctx context.Context) (inspection, error) {
	return scanInspection(p.pool.QueryRow(ctx, inspectSQL(p.own, p.adopt), pgx.QueryExecModeSimpleProtocol))
}

// applyMigrations applies the pending migrations in one transaction sent as
// one batch: it takes a transaction-scoped advisory lock (which, unlike a
// session lock, works through PgBouncer's transaction pooling), creates the
// own schema, moves an earlier taskchat's tables there from public, and runs
// each migration whose number the version table has not reached.
func (p *Postgres) applyMigrations(ctx context.Context, migs []migration) error {
	own := pgx.Identifier{p.own}.Sanitize()
	version := own + ".schema_version"
	var b strings.Builder
	fmt.Fprintf(&b, "begin;\nselect pg_advisory_xact_lock(hashtext('taskchat migrate %s'));\n", p.own)
	fmt.Fprintf(&b, "create schema if not exists %s;\n", own)
	b.WriteString(upgradeLegacySQL(p.own))
	fmt.Fprintf(&b, "create table if not exists %s (version int4 not null);\n", version)
	fmt.Fprintf(&b, "insert into %s (version) select 0 where not exists (select 1 from %s);\n", version, version)
	fmt.Fprintf(&b, "set local search_path to %s;\n", own)
	const tag = "$taskchat_migration$"
	for _, m := range migs {
		if strings.Contains(m.sql, tag) {
			return fmt.Errorf("migration %s contains %s", m.name, tag)
		}
		fmt.Fprintf(&b, "do $do$ begin if (select version from %s) < %d then execute %s%s%s; update %s set version = %d; raise notice '%s %d %s'; end if; end $do$;\n",
			version, m.seq, tag, m.sql, tag, version, m.seq, appliedNotice, m.seq, m.name)
	}
	b.WriteString("commit;")

	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	p.log.Info().Int32("target_version", migs[len(migs)-1].seq).Str("schema", p.own).Msg("migrating the database schema")
	if _, err := conn.Exec(ctx, b.String()); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// appliedNotice starts the notice each applied migration raises, which
// logApplied turns into a log line: only the instance that applied a
// migration logs it.
const appliedNotice = "taskchat applied migration"

// logApplied logs a migration that a notice says was applied.
func (p *Postgres) logApplied(n *pgconn.Notice) {
	rest, ok := strings.CutPrefix(n.Message, appliedNotice+" ")
	if !ok {
		return
	}
	seq, name, _ := strings.Cut(rest, " ")
	v, _ := strconv.Atoi(seq)
	p.log.Info().Int("schema_version", v).Str("migration", name).Msg("applied migration")
}

// upgradeLegacySQL moves the objects of a taskchat from before the own
// schema — its tables in public, recorded in public.taskchat_schema_version
// — into the own schema, where the migrations carry on from their version.
func upgradeLegacySQL(own string) string {
	o := pgx.Identifier{own}.Sanitize()
	var moves strings.Builder
	for _, t := range []string{"messages", "conversations", "tasks", "chat_rate", "idempotency_keys"} {
		fmt.Fprintf(&moves, "\t\tif to_regclass('public.%s') is not null then alter table public.%s set schema %s; end if;\n", t, t, o)
	}
	fmt.Fprintf(&moves, "\t\tif to_regclass('public.conversation_activity_seq') is not null then alter sequence public.conversation_activity_seq set schema %s; end if;\n", o)
	return fmt.Sprintf(`do $do$ begin
	if to_regclass('public.taskchat_schema_version') is not null and to_regclass('%s.schema_version') is null then
		alter table public.taskchat_schema_version set schema %s;
		alter table %s.taskchat_schema_version rename to schema_version;
%s	end if;
end $do$;
`, own, o, o, moves.String())
}
