-- How many tasks each user has, kept beside the tasks table (taskchat's or
-- an adopted one) so that MAX_TASKS_PER_USER costs one row, not a count of
-- the user's tasks, on every add. A user's row is made on their first add
-- from a count, and recounted whenever it says the user is at the limit.
create table task_counts (
    user_id text    primary key,
    n       integer not null
);

---- create above / drop below ----

drop table task_counts;
