package taskchat_test

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/taskchat/taskchat/internal/pgtest"
)

// The rows a FastAPI peer backend left in its database: two users, their
// tasks, and a conversation, with SQLModel's naive UTC timestamps.
const peerRows = `
insert into users values
	('user-1', 'ada@example.com', 'Ada', '$2b$12$abc', '2026-01-14 12:00:00', '2026-01-14 12:00:00'),
	('user-2', 'bob@example.com', null, '$2b$12$def', '2026-01-14 12:00:00', '2026-01-14 12:00:00');
insert into tasks (user_id, title, description, completed, created_at, updated_at) values
	('user-1', 'Buy milk', null, false, '2026-01-14 12:00:00', '2026-01-14 12:00:00'),
	('user-1', 'Pay rent', 'before the 5th', true, '2026-01-15 08:30:00', '2026-01-16 09:00:00'),
	('user-2', 'Bob''s secret', null, false, '2026-01-14 12:00:00', '2026-01-14 12:00:00');
insert into conversations (user_id, created_at, updated_at) values ('user-1', '2026-01-14 12:00:00', '2026-01-14 12:01:00');
insert into messages (conversation_id, user_id, role, content, created_at) values
	(1, 'user-1', 'user', 'Add a task to buy milk', '2026-01-14 12:00:00'),
	(1, 'user-1', 'assistant', 'I added "Buy milk".', '2026-01-14 12:01:00');
`

// betterAuthSnapshot reads Better Auth's tables, rows and definitions, to
// prove nothing of them changes.
func betterAuthSnapshot(t *testing.T, dbURL string) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`select * from "user" order by id`, `select * from "session" order by id`, `select * from "account" order by id`,
		`select * from "verification" order by id`, `select * from "jwks" order by id`,
		`select table_name, column_name, data_type, is_nullable, coalesce(column_default, '') from information_schema.columns
			where table_schema = 'public' and table_name in ('user', 'session', 'account', 'verification', 'jwks') order by 1, 2`,
		`select indexname, indexdef from pg_indexes where schemaname = 'public' and tablename in ('user', 'session', 'account', 'verification', 'jwks') order by 1`,
	} {
		fmt.Fprintln(&b, pgtest.Query(t, dbURL, q))
	}
	return b.String()
}

type adoptHealth struct {
	health
	Adopted []string `json:"adopted"`
}

func TestAdoptPeerDatabase(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	pgtest.Exec(t, dbURL, pgtest.SQLModelSchema+pgtest.BetterAuthSchema+peerRows)
	ba := betterAuthSnapshot(t, dbURL)
	h := newApp(t, map[string]string{"DATABASE_URL": dbURL})

	if res := do(t, h, "GET", "/ready", nil); res.Code != http.StatusOK {
		t.Fatalf("/ready = %d %s", res.Code, res.Body)
	}
	var hl adoptHealth
	getJSON(t, h, "/health", &hl)
	if want := []string{"public.tasks", "public.conversations", "public.messages", "public.users"}; !slices.Equal(hl.Adopted, want) {
		t.Errorf("adopted %v, want %v", hl.Adopted, want)
	}
	for _, p := range hl.Problems {
		if strings.Contains(p, "public.") {
			t.Errorf("adoption problem: %s", p)
		}
	}

	// The existing tasks are served, in the task API's shape.
	ts := tasksOf(t, h, "user-1", "all")
	if len(ts) != 2 || ts[0].Title != "Buy milk" || ts[0].Description != nil || ts[0].UserID != "user-1" ||
		ts[1].Title != "Pay rent" || ts[1].Description == nil || *ts[1].Description != "before the 5th" || !ts[1].Completed ||
		ts[1].CreatedAt != "2026-01-15T08:30:00Z" || ts[1].UpdatedAt != "2026-01-16T09:00:00Z" {
		t.Errorf("existing tasks = %+v", ts)
	}
	if ts := tasksOf(t, h, "user-2", "all"); len(ts) != 1 || ts[0].Title != "Bob's secret" {
		t.Errorf("user-2's tasks = %+v", ts)
	}
	// The existing conversation, with a title from its first message.
	var convs conversationsPage
	getJSON(t, h, "/api/user-1/conversations", &convs)
	if len(convs.Conversations) != 1 || convs.Conversations[0].Title != "Add a task to buy milk" || convs.Conversations[0].MessageCount != 2 ||
		convs.Conversations[0].UpdatedAt != "2026-01-14T12:01:00Z" {
		t.Fatalf("existing conversations = %+v", convs)
	}
	convID := convs.Conversations[0].ID
	var page messagesPage
	getJSON(t, h, fmt.Sprintf("/api/user-1/conversations/%d/messages", convID), &page)
	if len(page.Messages) != 2 || page.Messages[1].Content != `I added "Buy milk".` || page.Messages[0].CreatedAt != "2026-01-14T12:00:00Z" {
		t.Errorf("existing messages = %+v", page.Messages)
	}

	// Chat and REST writes land in the peer tables, as the old backend writes them.
	r := chat(t, h, "user-1", "Add a task to call the plumber", convID)
	if r.ConversationID != convID || len(r.ToolCalls) != 1 {
		t.Fatalf("chat = %+v", r)
	}
	res := do(t, h, "POST", "/api/user-1/tasks", strings.NewReader(`{"title":"Book flights","description":"to Lisbon"}`), "Content-Type", "application/json")
	if res.Code != http.StatusCreated {
		t.Fatalf("POST tasks = %d %s", res.Code, res.Body)
	}
	rows := pgtest.Query(t, dbURL, `select user_id, title, coalesce(description, 'NULL'), completed::text, (now() at time zone 'UTC' - created_at) < interval '1 minute'
		from public.tasks where title in ('Call the plumber', 'Book flights') order by id`)
	if want := [][]string{{"user-1", "Call the plumber", "NULL", "false", "true"}, {"user-1", "Book flights", "to Lisbon", "false", "true"}}; fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("public.tasks rows = %v, want %v (naive UTC times, null description)", rows, want)
	}
	msgs := pgtest.Query(t, dbURL, `select user_id, role, content from public.messages where conversation_id = $1 order by id`, convID)
	if len(msgs) != 4 || fmt.Sprint(msgs[2]) != "[user-1 user Add a task to call the plumber]" || msgs[3][1] != "assistant" {
		t.Errorf("public.messages = %v", msgs)
	}
	if calls := pgtest.Query(t, dbURL, `select count(*) from taskchat.message_tool_calls`); calls[0][0] != "1" {
		t.Errorf("tool calls kept: %v", calls)
	}
	for _, table := range []string{"taskchat.tasks", "taskchat.conversations", "taskchat.messages"} {
		if n := pgtest.Query(t, dbURL, "select count(*) from "+table)[0][0]; n != "0" {
			t.Errorf("%s holds %s rows; everything belongs in the adopted tables", table, n)
		}
	}
	// A new conversation lands there too, and the history reads it back.
	r2 := chat(t, h, "user-1", "What's pending?", nil)
	getJSON(t, h, fmt.Sprintf("/api/user-1/conversations/%d/messages", r2.ConversationID), &page)
	if len(page.Messages) != 2 || len(page.Messages[1].ToolCalls) != 1 || page.Messages[1].ToolCalls[0].Tool != "list_tasks" {
		t.Errorf("new conversation's messages = %+v", page.Messages)
	}

	// Rows the old backend writes afterwards, with its own SQL, show up.
	pgtest.Exec(t, dbURL, `insert into tasks (user_id, title, description, completed, created_at, updated_at)
		values ('user-1', 'Written by FastAPI', null, false, now() at time zone 'utc', now() at time zone 'utc');
		insert into messages (conversation_id, user_id, role, content, created_at)
		values (1, 'user-1', 'user', 'typed into the old frontend', now() at time zone 'utc');
		update conversations set updated_at = now() at time zone 'utc' where id = 1`)
	if ts := tasksOf(t, h, "user-1", "pending"); !slices.ContainsFunc(ts, func(x task) bool { return x.Title == "Written by FastAPI" }) {
		t.Errorf("the old backend's task is missing: %+v", ts)
	}
	getJSON(t, h, fmt.Sprintf("/api/user-1/conversations/%d/messages", convID), &page)
	if last := page.Messages[len(page.Messages)-1]; last.Content != "typed into the old frontend" || len(last.ToolCalls) != 0 {
		t.Errorf("the old backend's message: %+v", last)
	}
	r3 := chat(t, h, "user-1", "Show me all my tasks", convID)
	if !strings.Contains(r3.Response, "Written by FastAPI") || strings.Contains(r3.Response, "secret") {
		t.Errorf("the chat does not see the old backend's task, or sees another user's: %q", r3.Response)
	}

	// A user the users table does not know: the foreign key says so, clearly, and nothing is written.
	res = do(t, h, "POST", "/api/stranger/tasks", strings.NewReader(`{"title":"x"}`), "Content-Type", "application/json")
	var e errorBody
	res.json(&e)
	if res.Code != http.StatusUnprocessableEntity || e.Code != "unknown_user" {
		t.Errorf("a user missing from users: %d %+v", res.Code, e)
	}
	res = do(t, h, "POST", "/api/stranger/chat", chatBody("Add a task to sneak in", 0), "Content-Type", "application/json")
	res.json(&e)
	if res.Code != http.StatusUnprocessableEntity || e.Code != "unknown_user" {
		t.Errorf("a chat by a user missing from users: %d %+v", res.Code, e)
	}
	if n := pgtest.Query(t, dbURL, `select count(*) from public.tasks where user_id = 'stranger'`)[0][0]; n != "0" {
		t.Errorf("stranger's rows: %s", n)
	}

	// Deleting a conversation takes its messages and tool calls, not its tasks.
	if res := do(t, h, "DELETE", fmt.Sprintf("/api/user-1/conversations/%d", convID), nil); res.Code != http.StatusNoContent {
		t.Errorf("delete conversation = %d %s", res.Code, res.Body)
	}
	if n := pgtest.Query(t, dbURL, `select count(*) from public.messages where conversation_id = $1`, convID)[0][0]; n != "0" {
		t.Errorf("messages left: %s", n)
	}

	if after := betterAuthSnapshot(t, dbURL); after != ba {
		t.Errorf("Better Auth's tables changed:\nbefore %s\nafter  %s", ba, after)
	}
	// What was not adopted is nowhere created: public has only what the peers made.
	tables := pgtest.Query(t, dbURL, `select string_agg(table_name, ',' order by table_name) from information_schema.tables where table_schema = 'public'`)
	if got := tables[0][0]; got != "account,conversations,jwks,messages,session,tasks,user,users,verification" {
		t.Errorf("public holds %s", got)
	}
}

// A schema taskchat cannot serve (UUID ids) is reported and left alone;
// taskchat serves from its own tables.
func TestAdoptRefusesUUIDSchema(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	pgtest.Exec(t, dbURL, pgtest.UUIDSchema+`
		insert into task values ('6f1c2c8e-6a38-4d8c-9f0e-3b8f1d6c0a11', 'u1', 'Kept as it is', null, false, now(), now());`)
	before := pgtest.Query(t, dbURL, `select * from task`)
	h := newApp(t, map[string]string{"DATABASE_URL": dbURL})
	r := chat(t, h, "u1", "Add a task to water the ferns", nil)
	if len(r.ToolCalls) != 1 {
		t.Fatalf("chat = %+v", r)
	}
	var hl adoptHealth
	getJSON(t, h, "/health", &hl)
	if len(hl.Adopted) != 0 {
		t.Errorf("adopted %v", hl.Adopted)
	}
	problems := strings.Join(hl.Problems, "\n")
	for _, want := range []string{"public.task was not adopted", "id column is uuid", "taskchat.tasks instead",
		"public.conversations and public.messages were not adopted", "taskchat.conversations instead"} {
		if !strings.Contains(problems, want) {
			t.Errorf("problems lack %q:\n%s", want, problems)
		}
	}
	if hl.Status != "degraded" {
		t.Errorf("status %q", hl.Status)
	}
	if ts := tasksOf(t, h, "u1", "all"); len(ts) != 1 || ts[0].Title != "Water the ferns" {
		t.Errorf("tasks = %+v", ts)
	}
	if after := pgtest.Query(t, dbURL, `select * from task`); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the UUID table changed: %v", after)
	}
	if n := pgtest.Query(t, dbURL, `select count(*) from taskchat.tasks`)[0][0]; n != "1" {
		t.Errorf("taskchat.tasks holds %s", n)
	}
}

// A table taskchat cannot fill (a NOT NULL column with no default it does
// not know) is reported with the fix.
func TestAdoptRefusesUnfillableColumn(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	pgtest.Exec(t, dbURL, `create table task (id serial primary key, user_id varchar not null, user_task_id integer not null,
		title varchar not null, description varchar, completed boolean not null, created_at timestamp not null, updated_at timestamp not null)`)
	h := newApp(t, map[string]string{"DATABASE_URL": dbURL})
	chat(t, h, "u", "Add a task to test", nil)
	var hl adoptHealth
	getJSON(t, h, "/health", &hl)
	if p := strings.Join(hl.Problems, "\n"); !strings.Contains(p, "user_task_id is NOT NULL with no default") || !strings.Contains(p, "alter table public.task alter column user_task_id drop not null") {
		t.Errorf("problems = %s", p)
	}
}

// A database an earlier taskchat migrated, its tables in public, keeps its
// data: the tables move into taskchat's own schema.
func TestUpgradeFromPublicTables(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	pgtest.Exec(t, dbURL, legacySchema+`
		insert into tasks (user_id, title) values ('old', 'From the old layout');
		insert into conversations (user_id, title, message_count) values ('old', 'Hello there', 1);
		insert into messages (conversation_id, role, content) values (1, 'user', 'Hello there');`)
	h := newApp(t, map[string]string{"DATABASE_URL": dbURL})
	if ts := tasksOf(t, h, "old", "all"); len(ts) != 1 || ts[0].Title != "From the old layout" {
		t.Errorf("tasks after the upgrade = %+v", ts)
	}
	r := chat(t, h, "old", "Add a task to carry on", 1)
	if r.ConversationID != 1 {
		t.Errorf("chat = %+v", r)
	}
	if got := pgtest.Query(t, dbURL, `select string_agg(table_name, ',' order by table_name) from information_schema.tables where table_schema = 'public'`)[0][0]; got != "NULL" {
		t.Errorf("public still holds %s", got)
	}
	files, _ := os.ReadDir("internal/store/migrations")
	if v := pgtest.Query(t, dbURL, `select version from taskchat.schema_version`)[0][0]; v != fmt.Sprint(len(files)) {
		t.Errorf("schema version %s, want %d", v, len(files))
	}
	var hl adoptHealth
	getJSON(t, h, "/health", &hl)
	if len(hl.Adopted) != 0 {
		t.Errorf("adopted its own old tables: %v", hl.Adopted)
	}
}

// legacySchema is what taskchat's first two migrations made in public
// before it had a schema of its own.
const legacySchema = `
create table taskchat_schema_version (version int4 not null);
insert into taskchat_schema_version values (2);
create table tasks (
    id bigint generated always as identity primary key, user_id text not null, title text not null,
    description text not null default '', completed boolean not null default false,
    created_at timestamptz not null default clock_timestamp(), updated_at timestamptz not null default clock_timestamp());
create index tasks_user_id_idx on tasks (user_id, id);
create sequence conversation_activity_seq;
create table conversations (
    id bigint generated always as identity primary key, user_id text not null, title text not null,
    message_count integer not null default 0, activity bigint not null default nextval('conversation_activity_seq'),
    created_at timestamptz not null default clock_timestamp(), updated_at timestamptz not null default clock_timestamp());
create index conversations_user_activity_idx on conversations (user_id, activity desc);
create table messages (
    id bigint generated always as identity primary key,
    conversation_id bigint not null references conversations (id) on delete cascade,
    role text not null check (role in ('user', 'assistant')), content text not null,
    tool_calls jsonb not null default '[]', created_at timestamptz not null default clock_timestamp());
create index messages_conversation_id_idx on messages (conversation_id, id desc);
create table chat_rate (user_id text not null, window_start timestamptz not null, turns integer not null, primary key (user_id, window_start));
create table idempotency_keys (user_id text not null, key text not null, request_hash text not null, response text,
    created_at timestamptz not null default now(), primary key (user_id, key));
`

// A schema that cannot be made current is never a 500: /health names it,
// /ready and the data routes answer 503 database_schema_error.
func TestSchemaFailureIs503(t *testing.T) {
	for name, setup := range map[string]string{
		"newer version":    `create schema taskchat; create table taskchat.schema_version (version int4 not null); insert into taskchat.schema_version values (99); create table taskchat.tasks (id int); create table taskchat.conversations (id int);`,
		"failed migration": `create schema taskchat; create table taskchat.tasks (oops int);`,
	} {
		t.Run(name, func(t *testing.T) {
			dbURL := pgtest.NewDatabase(t)
			pgtest.Exec(t, dbURL, setup)
			h := newApp(t, map[string]string{"DATABASE_URL": dbURL})
			for _, req := range []struct{ method, path string }{{"GET", "/ready"}, {"GET", "/api/u/tasks"}, {"POST", "/api/u/chat"}} {
				res := do(t, h, req.method, req.path, chatBody("hello", 0), "Content-Type", "application/json")
				var e errorBody
				res.json(&e)
				if res.Code != http.StatusServiceUnavailable || e.Code != "database_schema_error" || res.Header().Get("Retry-After") == "" {
					t.Errorf("%s %s = %d %+v", req.method, req.path, res.Code, e)
				}
			}
			var hl adoptHealth
			getJSON(t, h, "/health", &hl)
			if hl.Database != "up" || !strings.Contains(strings.Join(hl.Problems, " "), "the database schema is not ready") {
				t.Errorf("health = %+v", hl)
			}
		})
	}
}

// DATABASE_ADOPT=off keeps taskchat to its own tables.
func TestAdoptOff(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	pgtest.Exec(t, dbURL, pgtest.SQLModelSchema+peerRows)
	h := newApp(t, map[string]string{"DATABASE_URL": dbURL, "DATABASE_ADOPT": "off"})
	if ts := tasksOf(t, h, "user-1", "all"); len(ts) != 0 {
		t.Errorf("adopted anyway: %+v", ts)
	}
	var hl adoptHealth
	getJSON(t, h, "/health", &hl)
	if len(hl.Adopted) != 0 {
		t.Errorf("adopted %v", hl.Adopted)
	}
}
