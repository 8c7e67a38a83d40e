package pgtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The schemas of the FastAPI "todo AI chatbot" backends that taskchat adopts,
// as their SQLModel models make SQLAlchemy emit them (create_all), and the
// tables of Better Auth that share their databases. Tests create them in a
// scratch database to check taskchat serves and keeps their rows.

// SQLModelSchema is the common shape, exactly as saadraza62186/TODO-APP-FULL-STACK's
// backend/models.py emits it: string user ids with foreign keys to users,
// timestamps without time zone and no server defaults.
const SQLModelSchema = `
CREATE TABLE users (
	id VARCHAR NOT NULL,
	email VARCHAR NOT NULL,
	name VARCHAR,
	password_hash VARCHAR NOT NULL,
	created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	PRIMARY KEY (id)
);
CREATE UNIQUE INDEX ix_users_email ON users (email);
CREATE TABLE tasks (
	id SERIAL NOT NULL,
	user_id VARCHAR NOT NULL,
	title VARCHAR(200) NOT NULL,
	description VARCHAR(1000),
	completed BOOLEAN NOT NULL,
	created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(user_id) REFERENCES users (id)
);
CREATE INDEX ix_tasks_user_id ON tasks (user_id);
CREATE INDEX ix_tasks_completed ON tasks (completed);
CREATE INDEX ix_tasks_created_at ON tasks (created_at);
CREATE TABLE conversations (
	id SERIAL NOT NULL,
	user_id VARCHAR NOT NULL,
	created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(user_id) REFERENCES users (id)
);
CREATE INDEX ix_conversations_user_id ON conversations (user_id);
CREATE INDEX ix_conversations_updated_at ON conversations (updated_at);
CREATE TABLE messages (
	id SERIAL NOT NULL,
	conversation_id INTEGER NOT NULL,
	user_id VARCHAR NOT NULL,
	role VARCHAR(20) NOT NULL,
	content VARCHAR NOT NULL,
	created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(conversation_id) REFERENCES conversations (id),
	FOREIGN KEY(user_id) REFERENCES users (id)
);
CREATE INDEX ix_messages_conversation_id ON messages (conversation_id);
CREATE INDEX ix_messages_user_id ON messages (user_id);
CREATE INDEX ix_messages_created_at ON messages (created_at);
`

// FreeSchema is the same tasks, conversations and messages without the
// users table and its foreign keys (as DoniaBatool/TODO-Chatbot-Phase3 and
// others keep them, with extra nullable columns), and with uuid user ids on
// tasks (as Asim04/Hackathon-II has them): any user can write there.
const FreeSchema = `
CREATE TABLE tasks (
	id SERIAL NOT NULL,
	user_id UUID NOT NULL,
	title VARCHAR(200) NOT NULL,
	description VARCHAR(1000),
	completed BOOLEAN NOT NULL,
	priority VARCHAR,
	due_date TIMESTAMP WITHOUT TIME ZONE,
	created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	PRIMARY KEY (id)
);
CREATE INDEX ix_tasks_user_id ON tasks (user_id);
CREATE TABLE conversations (
	id SERIAL NOT NULL,
	user_id VARCHAR NOT NULL,
	created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	current_intent VARCHAR,
	state_data JSON,
	PRIMARY KEY (id)
);
CREATE INDEX ix_conversations_user_id ON conversations (user_id);
CREATE TABLE messages (
	id SERIAL NOT NULL,
	conversation_id INTEGER NOT NULL,
	user_id VARCHAR NOT NULL,
	role VARCHAR(20) NOT NULL,
	content VARCHAR(5000) NOT NULL,
	tool_calls JSON,
	created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(conversation_id) REFERENCES conversations (id)
);
CREATE INDEX ix_messages_conversation_id ON messages (conversation_id);
`

// UUIDSchema keys tasks, conversations and messages by UUID, as
// billy-pk/evolution-of-todo-ai-chatbot and laibatheAI/H2-P3-Todo-chatbot
// do: taskchat cannot serve those ids and must leave the tables alone.
const UUIDSchema = `
CREATE TABLE task (
	id UUID NOT NULL,
	user_id VARCHAR NOT NULL,
	title VARCHAR NOT NULL,
	description VARCHAR,
	completed BOOLEAN NOT NULL,
	created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	PRIMARY KEY (id)
);
CREATE TABLE conversations (
	id UUID NOT NULL,
	user_id VARCHAR NOT NULL,
	title VARCHAR,
	created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	PRIMARY KEY (id)
);
CREATE TABLE messages (
	id UUID NOT NULL,
	conversation_id UUID NOT NULL,
	user_id VARCHAR NOT NULL,
	role VARCHAR NOT NULL,
	content VARCHAR NOT NULL,
	tool_calls VARCHAR,
	created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(conversation_id) REFERENCES conversations (id)
);
`

// BetterAuthSchema is Better Auth's core tables and its JWT plugin's jwks,
// as its PostgreSQL migrations create them.
const BetterAuthSchema = `
create table "user" ("id" text not null primary key, "name" text not null, "email" text not null unique,
	"emailVerified" boolean not null, "image" text, "createdAt" timestamptz default CURRENT_TIMESTAMP not null,
	"updatedAt" timestamptz default CURRENT_TIMESTAMP not null);
create table "session" ("id" text not null primary key, "expiresAt" timestamptz not null, "token" text not null unique,
	"createdAt" timestamptz not null, "updatedAt" timestamptz not null, "ipAddress" text, "userAgent" text,
	"userId" text not null references "user" ("id") on delete cascade);
create table "account" ("id" text not null primary key, "accountId" text not null, "providerId" text not null,
	"userId" text not null references "user" ("id") on delete cascade, "accessToken" text, "refreshToken" text,
	"idToken" text, "accessTokenExpiresAt" timestamptz, "refreshTokenExpiresAt" timestamptz, "scope" text,
	"password" text, "createdAt" timestamptz not null, "updatedAt" timestamptz not null);
create table "verification" ("id" text not null primary key, "identifier" text not null, "value" text not null,
	"expiresAt" timestamptz not null, "createdAt" timestamptz default CURRENT_TIMESTAMP, "updatedAt" timestamptz default CURRENT_TIMESTAMP);
create table "jwks" ("id" text not null primary key, "publicKey" text not null, "privateKey" text not null,
	"createdAt" timestamptz not null);
insert into "user" values ('ba-user-1', 'Ada', 'ada@example.com', true, null, now(), now());
insert into "account" values ('acc-1', 'ba-user-1', 'credential', 'ba-user-1', null, null, null, null, null, null,
	'c0ffee:deadbeef', now(), now());
insert into "session" values ('ses-1', now() + interval '7 days', 'tok-1', now(), now(), '127.0.0.1', 'test', 'ba-user-1');
insert into "jwks" values ('key-1', '{"kty":"OKP"}', 'private', now());
`

// Exec runs sql on the database at dbURL.
func Exec(t testing.TB, dbURL, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("exec: %v\n%s", err, sql)
	}
}

// Query returns the rows of sql as text, one slice a row.
func Query(t testing.TB, dbURL, sql string, args ...any) [][]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		t.Fatalf("query: %v\n%s", err, sql)
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			row[i] = textOf(v)
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func textOf(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case time.Time:
		return v.Format(time.RFC3339Nano)
	case [16]byte:
		return fmt.Sprintf("%x-%x-%x-%x-%x", v[0:4], v[4:6], v[6:8], v[8:10], v[10:16])
	}
	return fmt.Sprint(v)
}
