package store_test

import (
	"context"
	"slices"
	"testing"

	"github.com/rs/zerolog"

	"github.com/taskchat/taskchat/internal/pgtest"
	"github.com/taskchat/taskchat/internal/store"
	"github.com/taskchat/taskchat/internal/store/storetest"
)

func openPostgres(t *testing.T, opts store.PostgresOptions) *store.Postgres {
	t.Helper()
	opts.Logger = zerolog.New(zerolog.NewTestWriter(t))
	s, err := store.OpenPostgres(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestPostgresContract(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	for _, tc := range []struct {
		name string
		opts func() store.PostgresOptions
	}{
		{"default", func() store.PostgresOptions { return store.PostgresOptions{URL: dbURL} }},
		{"simple protocol", func() store.PostgresOptions { return store.PostgresOptions{URL: dbURL, QueryMode: "simple"} }},
		{"exec mode", func() store.PostgresOptions { return store.PostgresOptions{URL: dbURL, QueryMode: "exec"} }},
		{"URL query mode", func() store.PostgresOptions {
			return store.PostgresOptions{URL: pgtest.WithParam(t, dbURL, "default_query_exec_mode", "simple_protocol")}
		}},
		{"websocket", func() store.PostgresOptions {
			return store.PostgresOptions{
				URL: dbURL, Transport: "websocket",
				WSProxy: pgtest.NewWSRelay(t, pgtest.HostPort(t, dbURL)),
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, l store.Limits) store.Store {
				opts := tc.opts()
				opts.Limits = l
				return openPostgres(t, opts)
			})
		})
	}
}

// The same contract on an existing application's tables, adopted in place:
// timestamps without time zone, no server defaults, uuid user ids on tasks,
// extra nullable columns, messages with their own user_id.
func TestPostgresContractAdopted(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	pgtest.Exec(t, dbURL, pgtest.FreeSchema)
	for _, mode := range []string{"", "simple"} {
		t.Run("mode="+mode, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T, l store.Limits) store.Store {
				s := openPostgres(t, store.PostgresOptions{URL: dbURL, QueryMode: mode, Limits: l})
				if err := s.Migrate(context.Background()); err != nil {
					t.Fatal(err)
				}
				st := s.Status()
				if want := []string{"public.tasks", "public.conversations", "public.messages"}; !slices.Equal(st.Adopted, want) {
					t.Fatalf("adopted %v, want %v; problems %v", st.Adopted, want, st.Problems)
				}
				return s
			})
		})
	}
	// Everything landed in the adopted tables, none in taskchat's own.
	for _, table := range []string{"taskchat.tasks", "taskchat.conversations", "taskchat.messages"} {
		if n := pgtest.Query(t, dbURL, "select count(*) from "+table)[0][0]; n != "0" {
			t.Errorf("%s holds %s rows", table, n)
		}
	}
	if n := pgtest.Query(t, dbURL, "select count(*) from public.tasks")[0][0]; n == "0" {
		t.Error("public.tasks holds nothing")
	}
}

func TestPostgresOpenDoesNoIO(t *testing.T) {
	// Nothing listens on port 1: opening must still succeed at once, and
	// calls must fail with ErrUnavailable, not hang.
	s := openPostgres(t, store.PostgresOptions{URL: "postgres://nobody@127.0.0.1:1/none"})
	if err := s.Ping(context.Background()); err == nil || !isUnavailable(err) {
		t.Errorf("Ping = %v, want ErrUnavailable", err)
	}
	if _, err := s.ListTasks(context.Background(), "u", store.TaskQuery{}); !isUnavailable(err) {
		t.Errorf("ListTasks = %v, want ErrUnavailable", err)
	}
}

func TestPostgresBadURL(t *testing.T) {
	_, err := store.OpenPostgres(store.PostgresOptions{URL: "postgres://user:hunter2@host:notaport/db"})
	if err == nil {
		t.Fatal("a bad URL was accepted")
	}
	if got := err.Error(); contains(got, "hunter2") {
		t.Errorf("the error shows the password: %s", got)
	}
}
