package taskchat_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
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
	kill := func() {
		pgtest.Exec(t, dbURL, "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'taskchat-terminate'")
	}
	for range 3 {
		kill()
		if res := do(t, h, "GET", "/api/kill/tasks", nil); res.Code != http.StatusOK {
			t.Fatalf("GET tasks after the backends were terminated = %d %s", res.Code, res.Body)
		}
		kill()
		if res := do(t, h, "GET", "/api/kill/conversations", nil); res.Code != http.StatusOK {
			t.Fatalf("GET conversations after the backends were terminated = %d %s", res.Code, res.Body)
		}
		// Connections are handed out unpinged: a turn's first round trip
		// finds a dead one out, and is sent again on another.
		kill()
		if res := postChat(t, h, "kill", `{"message":"add a task to survive a restart"}`); res.Code != http.StatusOK {
			t.Fatalf("a chat turn after the backends were terminated = %d %s", res.Code, res.Body)
		}
		kill()
		if res, _, e := taskReq(t, h, "POST", "/api/kill/tasks", `{"title":"Survive again"}`); res.Code != http.StatusCreated {
			t.Fatalf("a new task after the backends were terminated = %d %+v", res.Code, e)
		}
	}
	if ts := tasksOf(t, h, "kill", "all"); len(ts) != 7 {
		t.Errorf("%d tasks, want 7: a retry ran twice or not at all", len(ts))
	}
}

// Near the database's connection limit, a connection that cannot be opened
// makes a request wait for one that is open — it never throws the open
// ones away.
func TestPostgresNearTheConnectionLimit(t *testing.T) {
	// The role is made first, so it is dropped last, after its database.
	base := pgtest.URL(t)
	role := fmt.Sprintf("taskchat_limited_%d", time.Now().UnixNano())
	pgtest.Exec(t, base, fmt.Sprintf("create role %s login password '%s' connection limit 6", role, role))
	t.Cleanup(func() { pgtest.Exec(t, base, "drop role "+role) })
	dbURL := pgtest.NewDatabase(t)
	// Before the database is dropped (and after everything below has
	// closed its connections), the role's backends are gone: one still
	// exiting would make the drop try to end it, which only a superuser
	// may do to another role's.
	t.Cleanup(func() {
		for range 500 {
			if pgtest.Query(t, base, "select count(*) from pg_stat_activity where usename = $1", role)[0][0] == "0" {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	pgtest.Exec(t, dbURL, fmt.Sprintf("grant all on database %s to %s", pgtest.DatabaseName(t, dbURL), role))
	limited := pgtest.WithUser(t, dbURL, role, role)

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

// When the connection dies with a commit on the wire, the answer is the
// truth: a 200 for a turn that committed, a 503 only for one that left
// nothing behind — so a client that retries a 503 never makes a duplicate.
func TestPostgresLostCommitsAnsweredTruly(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	relay := pgtest.NewRelay(t, pgtest.HostPort(t, dbURL))
	env := map[string]string{
		// In plain text, so the relay can see the commits.
		"DATABASE_URL":        pgtest.WithParam(t, pgtest.WithHost(t, dbURL, relay.Addr()), "sslmode", "disable"),
		"DATABASE_QUERY_MODE": "exec",
		"CHAT_RATE_LIMIT":     "0", "CHAT_ADDRESS_RATE_LIMIT": "0",
	}
	h := newApp(t, env)
	chat(t, h, "lost", "hello", nil) // the schema is in place

	var mu sync.Mutex
	n := 0
	relay.OnCommit(func(msg []byte) pgtest.CommitCut {
		if bytes.Contains(msg, []byte("lock_timeout")) {
			return pgtest.PassCommit // the lookup of an outcome, not a turn
		}
		mu.Lock()
		defer mu.Unlock()
		n++
		return []pgtest.CommitCut{pgtest.CutAfter, pgtest.CutBefore, pgtest.PassCommit}[n%3]
	})
	type outcome struct{ turns, tasks map[int]int }
	got := outcome{turns: map[int]int{}, tasks: map[int]int{}}
	for i := range 30 {
		res := postChat(t, h, "lost", fmt.Sprintf(`{"message":"add a task to fetch item %d"}`, i))
		got.turns[i] = res.Code
		res = do(t, h, "POST", "/api/lost/tasks", strings.NewReader(fmt.Sprintf(`{"title":"Route item %d"}`, i)), "Content-Type", "application/json")
		got.tasks[i] = res.Code
	}
	relay.OnCommit(nil)

	stored := map[string]int{}
	for _, row := range pgtest.Query(t, dbURL, "select title from taskchat.tasks where user_id = 'lost'") {
		stored[row[0]]++
	}
	messages := map[string]int{}
	for _, row := range pgtest.Query(t, dbURL, "select content from taskchat.messages where role = 'user'") {
		messages[row[0]]++
	}
	codes := map[int]int{}
	for i := range 30 {
		chatTitle, routeTitle := fmt.Sprintf("Fetch item %d", i), fmt.Sprintf("Route item %d", i)
		msg := fmt.Sprintf("add a task to fetch item %d", i)
		codes[got.turns[i]]++
		codes[got.tasks[i]]++
		switch got.turns[i] {
		case http.StatusOK:
			if stored[chatTitle] != 1 || messages[msg] != 1 {
				t.Errorf("turn %d answered 200: %d tasks, %d messages", i, stored[chatTitle], messages[msg])
			}
		case http.StatusServiceUnavailable:
			if stored[chatTitle] != 0 || messages[msg] != 0 {
				t.Errorf("turn %d answered 503 but wrote %d tasks, %d messages", i, stored[chatTitle], messages[msg])
			}
		default:
			t.Errorf("turn %d answered %d", i, got.turns[i])
		}
		switch got.tasks[i] {
		case http.StatusCreated:
			if stored[routeTitle] != 1 {
				t.Errorf("task %d answered 201: %d stored", i, stored[routeTitle])
			}
		case http.StatusServiceUnavailable:
			if stored[routeTitle] != 0 {
				t.Errorf("task %d answered 503 but %d stored", i, stored[routeTitle])
			}
		default:
			t.Errorf("task %d answered %d", i, got.tasks[i])
		}
	}
	t.Logf("answers: %v", codes)
	if codes[http.StatusServiceUnavailable] == 0 || codes[http.StatusOK]+codes[http.StatusCreated] < 30 {
		t.Errorf("the cuts did not bite: %v", codes)
	}
}

// The same for the LLM agent's turns, whose user message commits before
// the model answers and whose reply commits after.
func TestPostgresLostCommitsLLM(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	relay := pgtest.NewRelay(t, pgtest.HostPort(t, dbURL))
	model := httptest.NewServer(text("Noted."))
	t.Cleanup(model.Close)
	h := newApp(t, map[string]string{
		"DATABASE_URL":        pgtest.WithParam(t, pgtest.WithHost(t, dbURL, relay.Addr()), "sslmode", "disable"),
		"DATABASE_QUERY_MODE": "exec", "CHAT_RATE_LIMIT": "0", "CHAT_ADDRESS_RATE_LIMIT": "0",
		"LLM_API_KEY": "sk-test", "LLM_BASE_URL": model.URL, "LLM_MODEL": "test-model",
	})
	chat(t, h, "lostllm", "hello", nil)
	var mu sync.Mutex
	n := 0
	relay.OnCommit(func(msg []byte) pgtest.CommitCut {
		if bytes.Contains(msg, []byte("lock_timeout")) {
			return pgtest.PassCommit
		}
		mu.Lock()
		defer mu.Unlock()
		n++
		return []pgtest.CommitCut{pgtest.CutAfter, pgtest.CutBefore, pgtest.PassCommit}[n%3]
	})
	answers := map[int]int{}
	for i := range 24 {
		answers[i] = postChat(t, h, "lostllm", fmt.Sprintf(`{"message":"note number %d"}`, i)).Code
	}
	relay.OnCommit(nil)
	count := func(role, content string) string {
		return pgtest.Query(t, dbURL, "select count(*) from taskchat.messages m join taskchat.conversations c on c.id = m.conversation_id where c.user_id = 'lostllm' and m.role = $1 and m.content = $2", role, content)[0][0]
	}
	codes := map[int]int{}
	for i, code := range answers {
		codes[code]++
		user := count("user", fmt.Sprintf("note number %d", i))
		switch code {
		case http.StatusOK:
			if user != "1" {
				t.Errorf("turn %d answered 200 with %s user messages", i, user)
			}
		case http.StatusServiceUnavailable:
			if user != "0" {
				t.Errorf("turn %d answered 503 but stored %s user messages", i, user)
			}
		default:
			t.Errorf("turn %d answered %d", i, code)
		}
	}
	if replies := pgtest.Query(t, dbURL, "select count(*) from taskchat.messages m join taskchat.conversations c on c.id = m.conversation_id where c.user_id = 'lostllm' and m.role = 'assistant' and m.content = 'Noted.'")[0][0]; replies != fmt.Sprint(codes[http.StatusOK]+1) {
		t.Errorf("%s replies stored for %d turns answered 200", replies, codes[http.StatusOK])
	}
	t.Logf("answers: %v", codes)
	if codes[http.StatusServiceUnavailable] == 0 || codes[http.StatusOK] == 0 {
		t.Errorf("the cuts did not bite: %v", codes)
	}
}
