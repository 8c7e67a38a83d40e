-- Tasks, conversations and messages. Every read and write filters by user_id
-- (messages through their conversation), and every keyset query has its index.

create table tasks (
    id          bigint generated always as identity primary key,
    user_id     text        not null,
    title       text        not null,
    description text        not null default '',
    completed   boolean     not null default false,
    created_at  timestamptz not null default clock_timestamp(),
    updated_at  timestamptz not null default clock_timestamp()
);
create index tasks_user_id_idx on tasks (user_id, id);

-- activity orders conversations by their latest message; a sequence rather
-- than a timestamp, so two conversations touched at once still page stably.
create sequence conversation_activity_seq;

create table conversations (
    id            bigint generated always as identity primary key,
    user_id       text        not null,
    title         text        not null,
    message_count integer     not null default 0,
    activity      bigint      not null default nextval('conversation_activity_seq'),
    created_at    timestamptz not null default clock_timestamp(),
    updated_at    timestamptz not null default clock_timestamp()
);
create index conversations_user_activity_idx on conversations (user_id, activity desc);

create table messages (
    id              bigint generated always as identity primary key,
    conversation_id bigint      not null references conversations (id) on delete cascade,
    role            text        not null check (role in ('user', 'assistant')),
    content         text        not null,
    tool_calls      jsonb       not null default '[]',
    created_at      timestamptz not null default clock_timestamp()
);
create index messages_conversation_id_idx on messages (conversation_id, id desc);

---- create above / drop below ----

drop table messages;
drop table conversations;
drop sequence conversation_activity_seq;
drop table tasks;
