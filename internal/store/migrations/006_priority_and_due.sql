-- A task's priority and when it is due: a moment, or a date (due_date_only,
-- held as that date's midnight in UTC).
alter table tasks add column priority text check (priority in ('low', 'medium', 'high'));
alter table tasks add column due_at timestamptz;
alter table tasks add column due_date_only boolean not null default false;
create index tasks_user_due_idx on tasks (user_id, due_at);

---- create above / drop below ----

drop index tasks_user_due_idx;
alter table tasks drop column due_date_only;
alter table tasks drop column due_at;
alter table tasks drop column priority;
