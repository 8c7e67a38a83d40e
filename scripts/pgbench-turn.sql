-- One offline-agent chat turn ("Add a task to buy groceries" in an existing
-- conversation), statement for statement and round trip for round trip as
-- the PostgreSQL store sends it. scripts/bench runs it with pgbench.
\set n random(1, :clients)
\startpipeline
begin;
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
insert into tasks (user_id, title, description) values ('pgbench' || :n, 'Buy groceries', '')
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
commit;
\endpipeline
