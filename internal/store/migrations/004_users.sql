-- Accounts for the sign-up and sign-in routes, when the database has no
-- users table of its own to adopt. Emails are unique ignoring case.
create table users (
    id            text        primary key,
    email         text        not null,
    name          text,
    password_hash text        not null,
    created_at    timestamptz not null default clock_timestamp(),
    updated_at    timestamptz not null default clock_timestamp()
);
create unique index users_email_idx on users (lower(email));

---- create above / drop below ----

drop table users;
