-- One offline-agent chat turn ("Add a task to buy groceries" in an existing
-- conversation), statement for statement and round trip for round trip as
-- the PostgreSQL store sends it — the turn's outcome key and lock included
-- (auth on: no per-address count). scripts/bench runs it with pgbench.
\set n random(1, :clients)
\set k random(1, 1000000000000)
\startpipeline
begin;
with claim as (
	insert into idempotency_keys (user_id, key, request_hash) values ('pgbench' || :n, '~' || :k, '')
	on conflict (user_id, key) do update set request_hash = excluded.request_hash, response = null, created_at = now()
	where idempotency_keys.created_at < now() - interval '24 hours'
		or (idempotency_keys.response is null and idempotency_keys.created_at < now() - interval '5 minutes')
	returning 1
)
select exists (select 1 from claim);
select pg_advisory_xact_lock(hashtextextended('taskchat turn ' || ('pgbench' || :n) || ' ' || ('~' || :k), 0));
with past as (
	delete from chat_rate where user_id = 'pgbench' || :n and window_start < date_trunc('minute', now())
)
insert into chat_rate (user_id, window_start, turns) values ('pgbench' || :n, date_trunc('minute', now()), 1)
on conflict (user_id, window_start) do update set turns = chat_rate.turns + 1
returning turns, extract(epoch from date_trunc('minute', now()) + interval '1 minute' - now())::float8;
with c as (
	update conversations set message_count = message_count + 1, updated_at = clock_timestamp(),
		activity = nextval('conversation_activity_seq')
	where id = :n and user_id = 'pgbench' || :n
	returning id, title, message_count, created_at, updated_at
), m as (
	insert into messages (conversation_id, role, content, tool_calls, created_at)
	select id, 'user', 'Add a task to buy groceries', '[]', updated_at from c returning id, created_at
)
select m.id, m.created_at, c.id, c.title, c.message_count, c.created_at, c.updated_at from c, m;
\endpipeline
with u as (
	update task_counts set n = n + 1 where user_id = 'pgbench' || :n and n < 10000 returning n
), i as (
	insert into task_counts (user_id, n)
	select 'pgbench' || :n, (select count(*) from tasks where user_id = 'pgbench' || :n) + 1
	where not exists (select 1 from task_counts where user_id = 'pgbench' || :n)
	on conflict (user_id) do nothing
	returning n
), c as (select n from u union all select n from i)
insert into tasks (user_id, title, description, completed, created_at, updated_at)
select 'pgbench' || :n, 'Buy groceries', '', false, clock_timestamp(), clock_timestamp() from c where c.n <= 10000
	returning id, title, description, completed, created_at, updated_at;
\startpipeline
with c as (
	update conversations set message_count = message_count + 1, updated_at = clock_timestamp(),
		activity = nextval('conversation_activity_seq')
	where id = :n and user_id = 'pgbench' || :n
	returning id, title, message_count, created_at, updated_at
), m as (
	insert into messages (conversation_id, role, content, tool_calls, created_at)
	select id, 'assistant', 'Added "Buy groceries" to your tasks (task 5).',
		'[{"tool":"add_task","arguments":{"title":"Buy groceries"},"result":{"task_id":5,"status":"created","title":"Buy groceries"}}]', updated_at
	from c returning id, created_at
)
select m.id, m.created_at, c.id, c.title, c.message_count, c.created_at, c.updated_at from c, m;
update idempotency_keys set response = '{"conversation_id":1,"response":"Added"}' where user_id = 'pgbench' || :n and key = '~' || :k;
commit;
\endpipeline
