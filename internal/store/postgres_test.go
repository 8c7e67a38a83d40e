package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

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

// An adopted table's own priority and due columns, in the shapes peers
// use: an integer priority that is NOT NULL without a default and a date
// column; words of other backends ("Urgent", "normal", "someday") in a
// text one, and a deadline timestamp.
func TestPostgresAdoptedPriorityAndDue(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, schema, seed string
		// what the seeded rows read as: priority, due (date or RFC 3339)
		want [][2]string
		// what a task with no priority, then one set high, stores there
		none, high string
		// what a task due 2026-12-04 17:30 UTC stores in the due column
		timed string
	}{
		{
			name: "integer priority, date column",
			schema: `create table tasks (id serial primary key, user_id varchar not null, title varchar(200) not null,
				description varchar, completed boolean not null, priority integer not null, due_date date,
				created_at timestamp not null, updated_at timestamp not null);
				create index on tasks (user_id)`,
			seed: `insert into tasks (user_id, title, completed, priority, due_date, created_at, updated_at) values
				('u', 'a', false, 3, '2026-12-04', now(), now()), ('u', 'b', false, 0, null, now(), now()),
				('u', 'c', false, 2, '2027-01-31', now(), now()), ('u', 'd', false, 7, null, now(), now())`,
			want: [][2]string{{"high", "2026-12-04"}, {"", ""}, {"medium", "2027-01-31"}, {"high", ""}},
			none: "2", high: "3", timed: "2026-12-04",
		},
		{
			name: "text priority, deadline timestamp with time zone",
			schema: `create table todos (id serial primary key, user_id varchar not null, title varchar(200) not null,
				completed boolean not null, priority varchar(10), deadline timestamptz,
				created_at timestamp not null, updated_at timestamp not null);
				create index on todos (user_id)`,
			seed: `insert into todos (user_id, title, completed, priority, deadline, created_at, updated_at) values
				('u', 'a', false, 'Urgent', '2026-12-04 09:15:00+00', now(), now()), ('u', 'b', false, 'normal', '2026-12-05 00:00:00+00', now(), now()),
				('u', 'c', false, 'someday', null, now(), now()), ('u', 'd', false, 'LOW', null, now(), now())`,
			want: [][2]string{{"high", "2026-12-04T09:15:00Z"}, {"medium", "2026-12-05"}, {"", ""}, {"low", ""}},
			none: "", high: "high", timed: "2026-12-04 17:30:00+00",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dbURL := pgtest.NewDatabase(t)
			pgtest.Exec(t, dbURL, tc.schema)
			pgtest.Exec(t, dbURL, tc.seed)
			s := openPostgres(t, store.PostgresOptions{URL: dbURL})
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if st := s.Status(); len(st.Adopted) == 0 || !strings.HasSuffix(st.Adopted[0], "s") {
				t.Fatalf("not adopted: %+v", st)
			}
			ts, err := s.ListTasks(ctx, "u", store.TaskQuery{Sort: store.SortTitle})
			if err != nil || len(ts) != len(tc.want) {
				t.Fatalf("list: %v %+v", err, ts)
			}
			for i, x := range ts {
				due := ""
				if x.Due != nil {
					due = x.Due.At.UTC().Format(time.RFC3339)
					if x.Due.DateOnly {
						due = x.Due.At.Format("2006-01-02")
					}
				}
				if got := [2]string{string(x.Priority), due}; got != tc.want[i] {
					t.Errorf("task %q reads %v, want %v", x.Title, got, tc.want[i])
				}
			}
			table := strings.Fields(tc.schema)[2]
			dueCol := map[bool]string{true: "due_date", false: "deadline"}[table == "tasks"]
			column := func(id int64, col string) string {
				return pgtest.Query(t, dbURL, fmt.Sprintf("select coalesce(%s::text, '') from %s where id = $1", col, table), id)[0][0]
			}
			timed := store.Due{At: time.Date(2026, 12, 4, 17, 30, 0, 0, time.UTC)}
			n, err := s.AddTask(ctx, "u", store.NewTask{Title: "new", Due: &timed})
			if err != nil {
				t.Fatal(err)
			}
			if got := column(n.ID, "priority"); got != tc.none {
				t.Errorf("no priority stored as %q, want %q", got, tc.none)
			}
			if got := column(n.ID, dueCol); got != tc.timed {
				t.Errorf("due stored as %q, want %q", got, tc.timed)
			}
			high := store.PriorityHigh
			if _, err := s.UpdateTask(ctx, "u", n.ID, store.TaskPatch{Priority: &high}); err != nil {
				t.Fatal(err)
			}
			if got := column(n.ID, "priority"); got != tc.high {
				t.Errorf("high stored as %q, want %q", got, tc.high)
			}
			got, err := s.GetTask(ctx, "u", n.ID)
			if err != nil || got.Priority != store.PriorityHigh || got.Due == nil {
				t.Errorf("read back %+v %v", got, err)
			}
			if _, err := s.UpdateTask(ctx, "u", n.ID, store.TaskPatch{SetDue: true}); err != nil {
				t.Fatal(err)
			}
			if got := column(n.ID, dueCol); got != "" {
				t.Errorf("cleared due stored as %q", got)
			}
		})
	}
}
