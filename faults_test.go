package taskchat_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/taskchat/taskchat/internal/pgtest"
)

// The database failing in the ways real ones do: each answer is true.

// A statement that runs out of time, or waits too long for a lock, is the
// database being busy: 503 with Retry-After, never a 500.
func TestPostgresTimeoutsAre503(t *testing.T) {
	for _, setting := range []string{"lock_timeout", "statement_timeout"} {
		t.Run(setting, func(t *testing.T) {
			dbURL := pgtest.NewDatabase(t)
			h := newApp(t, map[string]string{"DATABASE_URL": pgtest.WithParam(t, dbURL, "options", "-c "+setting+"=100ms")})
			chat(t, h, "busy", "Add a task to buy groceries", nil)

			// Another session holds the task table.
			conn, err := pgx.Connect(context.Background(), dbURL)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(context.Background())
			tx, err := conn.Begin(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = tx.Rollback(context.Background()) }()
			if _, err := tx.Exec(context.Background(), "lock table taskchat.tasks in access exclusive mode"); err != nil {
				t.Fatal(err)
			}
			expect503(t, do(t, h, "GET", "/api/busy/tasks", nil))
			expect503(t, postChat(t, h, "busy", `{"message":"add a task to call mom"}`))
			_ = tx.Rollback(context.Background())
			if ts := tasksOf(t, h, "busy", "all"); len(ts) != 1 {
				t.Errorf("tasks after the refused turn = %+v", ts)
			}
		})
	}
}

// A read on a connection the server ended (a restart, a failover,
// pg_terminate_backend) is retried once on a fresh connection.
func TestPostgresReadRetriedAfterTerminate(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	h := newApp(t, map[string]string{"DATABASE_URL": pgtest.WithParam(t, dbURL, "application_name", "taskchat-terminate")})
	chat(t, h, "kill", "Add a task to buy groceries", nil)
	for range 3 {
		pgtest.Exec(t, dbURL, "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'taskchat-terminate'")
		if res := do(t, h, "GET", "/api/kill/tasks", nil); res.Code != http.StatusOK {
			t.Fatalf("GET tasks after the backends were terminated = %d %s", res.Code, res.Body)
		}
		if res := do(t, h, "GET", "/api/kill/conversations", nil); res.Code != http.StatusOK {
			t.Fatalf("GET conversations after the backends were terminated = %d %s", res.Code, res.Body)
		}
	}
}

// Near the database's connection limit, a connection that cannot be opened
// makes a request wait for one that is open — it never throws the open
// ones away.
func TestPostgresNearTheConnectionLimit(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	role := fmt.Sprintf("taskchat_limited_%d", time.Now().UnixNano())
	pgtest.Exec(t, dbURL, fmt.Sprintf("create role %s login connection limit 6", role))
	t.Cleanup(func() {
		pgtest.Exec(t, dbURL, fmt.Sprintf("select pg_terminate_backend(pid) from pg_stat_activity where usename = '%s'", role))
		pgtest.Exec(t, dbURL, "drop owned by "+role)
		pgtest.Exec(t, dbURL, "drop role "+role)
	})
	pgtest.Exec(t, dbURL, fmt.Sprintf("grant all on database %s to %s", pgtest.DatabaseName(t, dbURL), role))
	pgtest.Exec(t, dbURL, fmt.Sprintf("grant all on schema public to %s", role))
	limited := pgtest.WithUser(t, dbURL, role)

	// Four of the six connections are someone else's.
	for range 4 {
		c, err := pgx.Connect(context.Background(), limited)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(context.Background()) })
	}
	h := newApp(t, map[string]string{"DATABASE_URL": limited, "CHAT_ADDRESS_RATE_LIMIT": "0"})
	chat(t, h, "crowd", "Add a task to buy groceries", nil)

	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			res := postChat(t, h, fmt.Sprintf("crowd%d", i%20), `{"message":"add a task to water the plants"}`)
			mu.Lock()
			codes[res.Code]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if codes[http.StatusOK] != 200 {
		t.Errorf("200 turns with two connections to spare: %v", codes)
	}
}
