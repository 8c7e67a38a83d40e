-- Chat turns per user per minute, shared by every instance on the database.
create table chat_rate (
    user_id      text        not null,
    window_start timestamptz not null,
    turns        integer     not null,
    primary key (user_id, window_start)
);

-- Idempotency keys of chat turns: response is null while the turn runs, then
-- the body to replay, kept as text so a replay is byte-identical.
create table idempotency_keys (
    user_id      text        not null,
    key          text        not null,
    request_hash text        not null,
    response     text, -- the first answer, byte for byte
    created_at   timestamptz not null default now(),
    primary key (user_id, key)
);
create index idempotency_keys_created_at_idx on idempotency_keys (created_at);

---- create above / drop below ----

drop table idempotency_keys;
drop table chat_rate;
