-- The tool calls of messages kept in an adopted messages table (one that
-- another backend created), which has no column for them. No foreign key:
-- taskchat never ties its objects to another application's tables.
create table message_tool_calls (
    message_id bigint primary key,
    tool_calls jsonb  not null
);

---- create above / drop below ----

drop table message_tool_calls;
