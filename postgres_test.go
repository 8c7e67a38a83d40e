package taskchat_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/taskchat/taskchat"
	"github.com/taskchat/taskchat/internal/pgtest"
)

// expect503 checks a data route answers database_unavailable with Retry-After.
func expect503(t *testing.T, res response) {
	t.Helper()
	var e errorBody
	res.json(&e)
	if res.Code != http.StatusServiceUnavailable || e.Code != "database_unavailable" || res.Header().Get("Retry-After") == "" {
		t.Fatalf("want 503 database_unavailable with Retry-After, got %d %+v", res.Code, e)
	}
}

func healthOf(t *testing.T, h http.Handler) health {
	t.Helper()
	var hl health
	getJSON(t, h, "/health", &hl)
	return hl
}

func chatBody(msg string, convID int64) io.Reader {
	if convID == 0 {
		return strings.NewReader(fmt.Sprintf(`{"message":%q}`, msg))
	}
	return strings.NewReader(fmt.Sprintf(`{"message":%q,"conversation_id":%d}`, msg, convID))
}

func TestPostgresOutageAndRecovery(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	relay := pgtest.NewRelay(t, pgtest.HostPort(t, dbURL))
	h := newApp(t, map[string]string{"DATABASE_URL": pgtest.WithHost(t, dbURL, relay.Addr())})

	first := chat(t, h, "outage", "Add a task to buy groceries", nil)
	if hl := healthOf(t, h); hl.Store != "postgres" || hl.Database != "up" {
		t.Fatalf("health before the cut = %+v", hl)
	}

	relay.Cut()
	expect503(t, do(t, h, "POST", "/api/outage/chat", chatBody("Show me all my tasks", first.ConversationID), "Content-Type", "application/json"))
	expect503(t, do(t, h, "GET", "/api/outage/conversations", nil))
	expect503(t, do(t, h, "GET", "/api/outage/tasks", nil))
	expect503(t, do(t, h, "GET", fmt.Sprintf("/api/outage/conversations/%d/messages", first.ConversationID), nil))
	if hl := healthOf(t, h); hl.Database != "down" || hl.Store != "postgres" || hl.Status != "degraded" {
		t.Errorf("health during the cut = %+v", hl)
	}
	if res := do(t, h, "GET", "/ready", nil); res.Code != http.StatusServiceUnavailable {
		t.Errorf("/ready during the cut = %d", res.Code)
	}

	relay.Restore()
	again := chat(t, h, "outage", "Show me all my tasks", first.ConversationID)
	if again.ConversationID != first.ConversationID || !strings.Contains(again.Response, "Buy groceries") {
		t.Errorf("after recovery: %+v", again)
	}
	if hl := healthOf(t, h); hl.Database != "up" {
		t.Errorf("health after recovery = %+v", hl)
	}
	var page messagesPage
	getJSON(t, h, fmt.Sprintf("/api/outage/conversations/%d/messages", first.ConversationID), &page)
	if len(page.Messages) != 4 {
		t.Errorf("the refused turn left traces: %d messages", len(page.Messages))
	}
}

func TestPostgresUnreachableAtStart(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	relay := pgtest.NewRelay(t, pgtest.HostPort(t, dbURL))
	relay.Cut()
	h := newApp(t, map[string]string{"DATABASE_URL": pgtest.WithHost(t, dbURL, relay.Addr())})

	// The process serves at once, and never falls back to memory.
	if hl := healthOf(t, h); hl.Store != "postgres" || hl.Database != "down" {
		t.Errorf("health = %+v", hl)
	}
	expect503(t, do(t, h, "POST", "/api/late/chat", chatBody("Add a task to wait", 0), "Content-Type", "application/json"))

	// When the database arrives, the schema is migrated and requests work,
	// with no restart.
	relay.Restore()
	r := chat(t, h, "late", "Add a task to wait", nil)
	if len(r.ToolCalls) != 1 || r.ToolCalls[0].Tool != "add_task" {
		t.Errorf("first turn after the database arrived: %+v", r)
	}
	if ts := tasksOf(t, h, "late", "all"); len(ts) != 1 {
		t.Errorf("tasks = %+v", ts)
	}
}

func TestPostgresMigratesOnce(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	const instances = 6
	var logs [instances]syncBuffer
	apps := make([]*taskchat.App, instances)
	var wg sync.WaitGroup
	for i := range instances {
		wg.Go(func() {
			apps[i] = taskchat.New(func(k string) string { return map[string]string{"DATABASE_URL": dbURL}[k] }, &logs[i])
			if res := do(t, apps[i], "GET", "/ready", nil); res.Code != http.StatusOK {
				t.Errorf("instance %d not ready: %d %s", i, res.Code, res.Body)
			}
		})
	}
	wg.Wait()
	for _, a := range apps {
		a.Close()
	}
	files, err := os.ReadDir("internal/store/migrations")
	if err != nil {
		t.Fatal(err)
	}
	for v := 1; v <= len(files); v++ {
		applied := 0
		for i := range instances {
			applied += strings.Count(logs[i].String(), fmt.Sprintf(`"schema_version":%d,`, v))
		}
		if applied != 1 {
			t.Errorf("migration %d applied %d times across %d instances", v, applied, instances)
		}
	}
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var version int
	if err := conn.QueryRow(context.Background(), "select version from taskchat.schema_version").Scan(&version); err != nil || version != len(files) {
		t.Errorf("schema version = %d, %v", version, err)
	}
}

func TestPostgresSurvivesRestart(t *testing.T) {
	env := map[string]string{"DATABASE_URL": pgtest.NewDatabase(t)}
	first := newApp(t, env)
	r := chat(t, first, "durable", "Add a task to renew the passport", nil)
	first.Close()

	second := newApp(t, env)
	r2 := chat(t, second, "durable", "What's pending?", r.ConversationID)
	if r2.ConversationID != r.ConversationID || !strings.Contains(r2.Response, "Renew the passport") {
		t.Errorf("after restart: %+v", r2)
	}
	var page messagesPage
	getJSON(t, second, fmt.Sprintf("/api/durable/conversations/%d/messages", r.ConversationID), &page)
	if len(page.Messages) != 4 || page.Messages[0].Content != "Add a task to renew the passport" {
		t.Errorf("messages after restart = %+v", page.Messages)
	}
}

func TestPostgresOverWebSocket(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	h := newApp(t, map[string]string{
		"DATABASE_URL":       pgtest.WithParam(t, dbURL, "sslmode", "disable"),
		"DATABASE_TRANSPORT": "websocket",
		"DATABASE_WS_PROXY":  pgtest.NewWSRelay(t, pgtest.HostPort(t, dbURL)),
	})
	r := chat(t, h, "ws", "Add a task to buy groceries", nil)
	r2 := chat(t, h, "ws", "Delete the groceries task", r.ConversationID)
	if len(r2.ToolCalls) != 2 || r2.ToolCalls[1].Tool != "delete_task" {
		t.Errorf("second turn over WebSocket = %+v", r2)
	}
	var page messagesPage
	getJSON(t, h, fmt.Sprintf("/api/ws/conversations/%d/messages", r.ConversationID), &page)
	if len(page.Messages) != 4 {
		t.Errorf("messages = %+v", page.Messages)
	}
}

func TestPostgresConfiguration(t *testing.T) {
	t.Run("bad URL is misconfigured, password never shown", func(t *testing.T) {
		h := newApp(t, map[string]string{"DATABASE_URL": "postgres://me:hunter2@db.example:notaport/x"})
		hl := healthOf(t, h)
		if hl.Status != "misconfigured" || hl.Store != "postgres" || hl.Database != "down" {
			t.Errorf("health = %+v", hl)
		}
		if strings.Contains(strings.Join(hl.Problems, " "), "hunter2") {
			t.Errorf("problems show the password: %q", hl.Problems)
		}
	})
	t.Run("Neon URLs parse", func(t *testing.T) {
		h := newApp(t, map[string]string{
			"NEON_DATABASE_URL":   "postgresql://me:pw@ep-cool-name-123456-pooler.us-east-2.aws.neon.tech/neondb?sslmode=require&channel_binding=require",
			"DATABASE_QUERY_MODE": "exec",
		})
		if hl := healthOf(t, h); hl.Status == "misconfigured" || hl.Store != "postgres" {
			t.Errorf("health = %+v", hl)
		}
	})
	t.Run("bad query mode", func(t *testing.T) {
		h := newApp(t, map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1:1/x", "DATABASE_QUERY_MODE": "turbo"})
		if hl := healthOf(t, h); hl.Status != "misconfigured" || !strings.Contains(strings.Join(hl.Problems, " "), "DATABASE_QUERY_MODE") {
			t.Errorf("health = %+v", hl)
		}
	})
}
