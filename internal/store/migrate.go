package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

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
		return p.outcome(ctx, ctx.Err())
	}
	if p.migrated.Load() {
		return nil
	}
	conn, err := pgx.ConnectConfig(ctx, p.migrateTo)
	if err != nil {
		return p.outcome(ctx, fmt.Errorf("connect to migrate: %w", err))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	ctx, cancel := context.WithTimeout(ctx, migrateTimeout)
	defer cancel()
	m, err := migrate.NewMigrator(ctx, conn, "public.taskchat_schema_version")
	if err != nil {
		return p.outcome(ctx, fmt.Errorf("prepare migrations: %w", err))
	}
	sub, _ := fs.Sub(migrationFiles, "migrations")
	if err := m.LoadMigrations(sub); err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	m.OnStart = func(seq int32, name, _, _ string) {
		p.log.Info().Int32("schema_version", seq).Str("migration", name).Msg("applying migration")
	}
	if err := m.Migrate(ctx); err != nil {
		return p.outcome(ctx, fmt.Errorf("migrate: %w", err))
	}
	p.migrated.Store(true)
	return nil
}
