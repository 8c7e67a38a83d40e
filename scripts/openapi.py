#!/usr/bin/env python3
"""Writes web/openapi.json, the OpenAPI 3.1 document of taskchat's routes.

    scripts/openapi.py          # rewrites web/openapi.json

The document is generated so that the many routes sharing shapes stay
consistent; TestOpenAPIMatchesRoutes checks it against the route table.
"""
import json
import os

ERR = {"$ref": "#/components/schemas/Error"}


def ref(name):
    return {"$ref": "#/components/schemas/" + name}


def content(schema):
    return {"application/json": {"schema": schema}}


def err(desc):
    return {"description": desc, "content": content(ERR)}


def array(item):
    return {"type": "array", "items": item}


LINK = {"Link": {"description": 'The next page: `<…?before=…>; rel="next"` (RFC 8288), absent on the last page.',
                 "schema": {"type": "string"}}}
IDEM_HEADER = {"name": "Idempotency-Key", "in": "header", "required": False,
               "schema": {"type": "string", "maxLength": 255},
               "description": "A retry with the same key replays the first answer (with `Idempotent-Replayed: true`) and writes nothing again."}

# The answers every data route may give.
COMMON_PATH = {
    "400": err("Bad input: a malformed user id, limit, cursor, sort or status."),
    "401": err("Auth is on and the token is missing or invalid."),
    "403": err("The token belongs to another user."),
    "400": err("Bad input: a malformed path, user id, limit, cursor, sort, status, priority, due_before, overdue or time zone; or two Authorization headers."),
    "500": err("The database stopped answering during a commit and could not be asked whether it happened (`outcome_unknown`); "
               "look before sending again. Nothing else is a 500."),
    "503": err("Misconfigured (`misconfigured`), the database is unavailable, timed out or busy (`database_unavailable`) "
               "or its schema is not ready (`database_schema_error`); see `Retry-After`. Nothing was written."),
}
COMMON_TOKEN = {
    "400": err("Bad input: a malformed limit, cursor, sort or status."),
    "401": err("No valid token, or auth is off (`auth_required`): these routes take the user from the token."),
    "403": err("The token's user id cannot be used (`invalid_token_user`)."),
    "500": COMMON_PATH["500"],
    "503": COMMON_PATH["503"],
}
CONV_404 = err("No such conversation for this user (also for another user's, so ids cannot be probed).")
TASK_404 = err("No such task for this user (`task_not_found`; also for another user's).")
BODY_ERRS = {
    "408": err("The body took longer than `BODY_TIMEOUT` to arrive (`request_timeout`)."),
    "413": err("The body is larger than the limit (64 KiB by default)."),
    "415": err("The body is not sent as application/json (`unsupported_media_type`), or is compressed (`unsupported_encoding`)."),
}

P = {k: {"$ref": "#/components/parameters/" + k} for k in
     ["user_id", "conversation_id", "task_id", "limit20", "limit50", "limit100",
      "beforeConversation", "beforeMessage", "beforeTask", "status", "completed", "sort",
      "priority", "due_before", "overdue", "time_zone", "X-Time-Zone"]}

paths = {}


def op(path, method, oid, summary, responses, params=(), body=None, token=False, user=True, description=None):
    o = {"operationId": oid, "summary": summary}
    if description:
        o["description"] = description
    ps = list(params)
    if user and not token:
        ps = [P["user_id"]] + ps
    if ps:
        o["parameters"] = ps
    if body is not None:
        o["requestBody"] = body
    rs = dict(responses)
    if user:
        for k, v in (COMMON_TOKEN if token else COMMON_PATH).items():
            rs.setdefault(k, v)
        o["security"] = [{"bearer": []}] if token else [{}, {"bearer": []}]
    o["responses"] = dict(sorted(rs.items()))
    paths.setdefault(path, {})[method] = o


def both(suffix, method, oid, summary, responses, params=(), body=None, token_responses=None, token_suffix=None):
    """A route under /api/{user_id}/… and, the user from the token, under /api/…"""
    op("/api/{user_id}" + suffix, method, oid, summary, responses, params, body)
    op("/api" + (token_suffix or suffix), method, oid + "ByToken", summary + " (the user from the token)",
       token_responses or responses, params, body, token=True)


# Chat.
chat_body = {"required": True, "content": content({"oneOf": [ref("ChatRequest"), ref("UseChatRequest")]})}
stream_desc = ("With `Accept: text/event-stream`: server-sent events as the turn runs — `start` {conversation_id}, then per tool call "
               "`tool_call` {id, tool, arguments} and `tool_result` {id, tool, result, error}, `text` {delta} pieces of the reply, and last "
               "`done` (exactly the JSON a plain request returns) or `error` {detail, code}; `: keep-alive` comments every 15 s. "
               "With useChat's body ({id, messages, trigger}): the Vercel AI SDK's UI message stream (header "
               "`x-vercel-ai-ui-message-stream: v1`; chunks start, start-step, tool-input-available, tool-output-available or "
               "tool-output-error (dynamic tools), text-start, text-delta, text-end, finish-step, finish, error; then `[DONE]`). "
               "A request refused before the turn begins gets its plain status and JSON.")
chat_responses = {
    "200": {"description": "The assistant's answer.", "content": {**content(ref("ChatResponse")),
                                                                 "text/event-stream": {"schema": {"type": "string", "description": stream_desc}}},
            "headers": {"Idempotent-Replayed": {"schema": {"const": "true"}}}},
    "404": CONV_404,
    "409": err("A turn with this Idempotency-Key is still running."),
    "422": err("The message is missing, has no visible character, is too long or holds control or bidirectional-override characters; "
               "or the Idempotency-Key was used for another message."),
    "400": err("The time zone (body `time_zone`, `X-Time-Zone` or `?time_zone=`) is not an IANA name (`invalid_time_zone`); or a malformed path or body."),
    "429": err("Over `CHAT_RATE_LIMIT` turns this minute (or, with auth off, `CHAT_ADDRESS_RATE_LIMIT` from one address); see `Retry-After`."),
    **BODY_ERRS,
}
op("/api/{user_id}/chat", "post", "chat", "Send a message and get the assistant's answer", chat_responses, [IDEM_HEADER, P["X-Time-Zone"], P["time_zone"]], chat_body)
op("/api/chat", "post", "chatByToken", "The chat, the user from the token", chat_responses, [IDEM_HEADER, P["X-Time-Zone"], P["time_zone"]], chat_body, token=True)
op("/chat", "post", "chatByTokenRoot", "The chat under /chat, the user from the token", chat_responses, [IDEM_HEADER, P["X-Time-Zone"], P["time_zone"]], chat_body, token=True)

# History.
op("/api/{user_id}/conversations", "get", "listConversations", "The user's conversations, most recently active first",
   {"200": {"description": "A page of conversations.", "content": content(array(ref("Conversation"))), "headers": LINK}},
   [P["limit20"], P["beforeConversation"]])
op("/api/{user_id}/conversations/{conversation_id}", "get", "getConversation", "One conversation with its latest messages",
   {"200": {"description": "The conversation and a page of its messages, oldest first.", "content": content(ref("ConversationWithMessages")), "headers": LINK},
    "404": CONV_404},
   [P["conversation_id"], P["limit50"], P["beforeMessage"]])
op("/api/{user_id}/conversations/{conversation_id}", "delete", "deleteConversation", "Delete a conversation and its messages (tasks stay)",
   {"204": {"description": "Deleted."}, "404": CONV_404}, [P["conversation_id"]])
op("/api/{user_id}/conversations/{conversation_id}/messages", "get", "listMessages", "A page of a conversation's messages, oldest first within the page",
   {"200": {"description": "A page of messages.", "content": content(array(ref("Message"))), "headers": LINK}, "404": CONV_404},
   [P["conversation_id"], P["limit50"], P["beforeMessage"]])

op("/api/conversations", "get", "listConversationsByToken", "The user's conversations (the user from the token)",
   {"200": {"description": "A page of conversations, under `conversations` and under `data`, as the frontends that call it read it.",
            "content": content({"type": "object", "required": ["conversations", "data"],
                                "properties": {"conversations": array(ref("Conversation")), "data": array(ref("Conversation"))}}),
            "headers": LINK}},
   [P["limit20"], P["beforeConversation"]], token=True)
op("/api/conversations", "delete", "deleteConversationsByToken", "Delete all the user's conversations (tasks stay)",
   {"204": {"description": "Deleted."}}, token=True)
op("/api/conversations/latest", "get", "latestConversationByToken", "The most recently active conversation's latest messages",
   {"200": {"description": "`conversation_id` is null when the user has none.", "content": content(ref("TokenMessages"))}},
   [P["limit50"]], token=True)
op("/api/conversations/{conversation_id}/messages", "get", "listMessagesByToken", "A page of a conversation's messages (the user from the token)",
   {"200": {"description": "A page of messages, under `messages` and under `data`.", "content": content(ref("TokenMessages")), "headers": LINK},
    "404": CONV_404},
   [P["conversation_id"], P["limit50"], P["beforeMessage"]], token=True)
op("/api/conversations/{conversation_id}", "delete", "deleteConversationByToken", "Delete a conversation (the user from the token)",
   {"204": {"description": "Deleted."}, "404": CONV_404}, [P["conversation_id"]], token=True)

# Tasks.
task_body = {"required": True, "content": content(ref("TaskInput"))}
task_422 = err("A field has the wrong type, or the title has no visible character or is longer than 200 characters, or the description longer than 1000, "
               "or either holds control or bidirectional-override characters, or priority is not low/medium/high, or due_date is not a date or RFC 3339 time (`invalid_input`).")
both("/tasks", "get", "listTasks", "A page of the user's tasks",
     {"200": {"description": "A bare array of tasks.", "content": content(array(ref("Task"))), "headers": LINK}},
     [P["status"], P["completed"], P["priority"], P["due_before"], P["overdue"], P["sort"], P["limit100"], P["beforeTask"], P["time_zone"], P["X-Time-Zone"]])
both("/tasks", "post", "createTask", "Create a task",
     {"201": {"description": "The task.", "content": content(ref("Task")),
              "headers": {"Idempotent-Replayed": {"schema": {"const": "true"}}}},
      "409": err("The user has `MAX_TASKS_PER_USER` tasks (`task_limit_reached`), or a request with this Idempotency-Key is still running."),
      "422": task_422, **BODY_ERRS},
     [IDEM_HEADER, P["X-Time-Zone"]], {"required": True, "content": content(ref("NewTask"))})
both("/tasks/{task_id}", "get", "getTask", "One task", {"200": {"description": "The task.", "content": content(ref("Task"))}, "404": TASK_404}, [P["task_id"]])
for m in ("put", "patch"):
    both("/tasks/{task_id}", m, m + "Task", "Change the fields sent; the others stay",
         {"200": {"description": "The task as it is now.", "content": content(ref("Task"))}, "404": TASK_404, "422": task_422, **BODY_ERRS},
         [P["task_id"], P["X-Time-Zone"]], task_body)
both("/tasks/{task_id}", "delete", "deleteTask", "Delete a task", {"204": {"description": "Deleted."}, "404": TASK_404}, [P["task_id"]])
both("/tasks/{task_id}/complete", "patch", "completeTask", "Toggle a task (no body), or set it with {\"completed\": bool}",
     {"200": {"description": "The task as it is now.", "content": content(ref("Task"))}, "404": TASK_404, "422": task_422, **BODY_ERRS},
     [P["task_id"]], {"required": False, "content": content({"type": "object", "properties": {"completed": {"type": "boolean"}}})})
both("/tasks/{task_id}/toggle", "patch", "toggleTask", "Flip a task between pending and completed",
     {"200": {"description": "The task as it is now.", "content": content(ref("Task"))}, "404": TASK_404}, [P["task_id"]])

# Accounts.
auth_body = {"required": True, "content": content(ref("Credentials"))}
accounts_off = err("Accounts are off (`accounts_off`): no AUTH_SECRET, or AUTH_ACCOUNTS=off.")
for prefix in ("/api/auth", "/auth", "/api/v1/auth"):
    tag = {"/api/auth": "", "/auth": "Root", "/api/v1/auth": "V1"}[prefix]
    for name, oid in (("signup", "signUp"), ("register", "register")):
        op(prefix + "/" + name, "post", oid + tag, "Create an account and sign it in",
           {"201": {"description": "The token and the account, in every shape the surveyed frontends read.", "content": content(ref("AuthResponse"))},
            "400": err("The email is taken (`email_taken`), or the body is not JSON."),
            "404": accounts_off,
            "422": err("The email is not valid, the password shorter than 8 characters or longer than 72 bytes (`invalid_input`)."),
            "429": err("Too many attempts from this address (`too_many_attempts`); see `Retry-After`."),
            "503": COMMON_PATH["503"], **BODY_ERRS}, body=auth_body, user=False)
    for name, oid in (("login", "logIn"), ("signin", "signIn")):
        op(prefix + "/" + name, "post", oid + tag, "Sign in with an email and a password",
           {"200": {"description": "The token and the account.", "content": content(ref("AuthResponse"))},
            "401": err("Wrong email or password (`invalid_credentials`): the same answer for both."),
            "404": accounts_off,
            "422": err("The email or the password is missing or not valid."),
            "429": err("Too many attempts for this account or address (`too_many_attempts`); see `Retry-After`."),
            "503": COMMON_PATH["503"], **BODY_ERRS}, body=auth_body, user=False)
    op(prefix + "/me", "get", "me" + tag, "The signed-in account",
       {"200": {"description": "The account, flat and under `user`.", "content": content(ref("Me"))},
        "401": err("No valid token, or its account no longer exists."), "404": accounts_off, "503": COMMON_PATH["503"]},
       user=False)
    paths[prefix + "/me"]["get"]["security"] = [{"bearer": []}]
    op(prefix + "/logout", "post", "logOut" + tag, "Clear the auth_token cookie (tokens are stateless)",
       {"200": {"description": "Signed out.", "content": content({"type": "object"})}, "404": accounts_off}, user=False)

# MCP.
mcp_body = {"required": True, "content": content(ref("JSONRPCMessage"))}
mcp_responses = {
    "200": {"description": "The JSON-RPC response (application/json; never an event stream). A tool's own failure is a result with "
                           "`isError: true`; an unknown tool (-32602), an unsupported method (-32601) and a store failure (-32603) are JSON-RPC errors.",
            "content": content(ref("JSONRPCMessage"))},
    "202": {"description": "A notification, accepted."},
    "400": {"description": "Not one JSON-RPC 2.0 message: malformed JSON (-32700), a batch or not JSON-RPC (-32600), with `id: null`; "
                           "or a bad Idempotency-Key or time zone (taskchat's `{detail, code}`).", "content": content(ref("JSONRPCMessage"))},
    **BODY_ERRS,
}
mcp_desc = ("The five task tools over the Model Context Protocol, Streamable HTTP transport, stateless: each POST is one JSON-RPC message "
            "(`initialize`, `tools/list`, `tools/call`, `ping`, …), answered as JSON; no session id is kept, so GET and DELETE are 405. "
            "The tools are the chat's, with the same names, descriptions, schemas (no user_id) and results. `tools/call` counts against "
            "`CHAT_RATE_LIMIT` (a tool error past it) and, with an `Idempotency-Key`, runs once.")
op("/api/{user_id}/mcp", "post", "mcp", "MCP endpoint, the user in the path (auth off, or the token's own user)", mcp_responses,
   [IDEM_HEADER, P["X-Time-Zone"]], mcp_body, description=mcp_desc)
op("/mcp", "post", "mcpByToken", "MCP endpoint, the user from the token", {**mcp_responses,
   "401": err("No valid token (`WWW-Authenticate` names the protected-resource metadata when AUTH_ISSUER is set), "
              "or auth is off (`auth_required`: use /api/{user_id}/mcp).")},
   [IDEM_HEADER, P["X-Time-Zone"]], mcp_body, token=True, description=mcp_desc)
prm = {"200": {"description": "RFC 9728 protected-resource metadata.", "content": content(ref("ProtectedResourceMetadata"))},
       "404": err("AUTH_ISSUER is not set: no authorization server to name.")}
op("/.well-known/oauth-protected-resource", "get", "protectedResource", "Where the MCP endpoint's tokens come from (RFC 9728)", prm, user=False)
op("/.well-known/oauth-protected-resource/mcp", "get", "protectedResourceMCP", "The same, at the path MCP clients ask first", prm, user=False)

# Operations and the page.
health = {"200": {"description": "Health.", "content": content(ref("Health"))}}
op("/health", "get", "health", "Always 200 while the process serves", health, user=False)
op("/health", "head", "healthHead", "Health without a body", {"200": {"description": "Serving."}}, user=False)
op("/api/health", "get", "apiHealth", "Alias of /health", health, user=False)
op("/api/health", "head", "apiHealthHead", "Alias of HEAD /health", {"200": {"description": "Serving."}}, user=False)
op("/ready", "get", "ready", "200 when requests can be served with the configured storage",
   {"200": {"description": "Ready.", "content": content({"type": "object", "properties": {"status": {"const": "ready"}, "store": {"type": "string", "enum": ["memory", "postgres"]}}})},
    "503": err("Misconfigured, the database is unavailable, or its schema is not ready.")}, user=False)
op("/", "get", "page", "The chat page for people", {"200": {"description": "HTML.", "content": {"text/html": {"schema": {"type": "string"}}}}}, user=False)
op("/", "head", "pageHead", "The page's headers (start-up probes)", {"200": {"description": "Serving."}}, user=False)
op("/openapi.json", "get", "openapi", "This document", {"200": {"description": "OpenAPI 3.1.", "content": content({"type": "object"})}}, user=False)

time = {"type": "string", "format": "date-time", "description": "RFC 3339, UTC"}
tool_call = {"type": "object", "required": ["tool", "arguments", "result"], "properties": {
    "tool": {"type": "string", "enum": ["add_task", "list_tasks", "complete_task", "delete_task", "update_task"]},
    "arguments": {"type": "object"},
    "result": {"description": "The tool's result: an object, a list for list_tasks, or {\"error\"}."}}}
conversation = {"type": "object", "required": ["id", "user_id", "title", "message_count", "created_at", "updated_at"], "properties": {
    "id": {"type": "integer"}, "user_id": {"type": "string"}, "title": {"type": "string", "maxLength": 80},
    "message_count": {"type": "integer"}, "created_at": time, "updated_at": time}}
message = {"type": "object", "required": ["id", "role", "content", "tool_calls", "created_at"], "properties": {
    "id": {"type": "integer"}, "role": {"type": "string", "enum": ["user", "assistant"]}, "content": {"type": "string"},
    "tool_calls": array(ref("ToolCall")), "created_at": time}}
due = {"type": ["string", "null"], "description": "A date (`2026-12-04`) when no time was given, else an RFC 3339 time in UTC; null when unset.",
       "examples": ["2026-12-04", "2026-12-04T17:00:00Z"]}
task = {"type": "object", "required": ["id", "user_id", "title", "description", "completed", "priority", "due_at", "due_date", "overdue", "created_at", "updated_at"], "properties": {
    "id": {"type": "integer"}, "user_id": {"type": "string"}, "title": {"type": "string", "minLength": 1, "maxLength": 200},
    "description": {"type": ["string", "null"], "maxLength": 1000, "description": "null when there is none"},
    "completed": {"type": "boolean"},
    "priority": {"type": ["string", "null"], "enum": ["low", "medium", "high", None], "description": "null when unset"},
    "due_at": due, "due_date": {**due, "description": "The same as due_at, under the name most frontends read."},
    "overdue": {"type": "boolean", "description": "Pending and past its due date or time, in the person's time zone."},
    "created_at": time, "updated_at": time}}
task_fields = {"title": {"type": "string", "minLength": 1, "maxLength": 200, "description": "1–200 characters after trimming"},
               "description": {"type": ["string", "null"], "maxLength": 1000, "description": "null or \"\" clears it"},
               "completed": {"type": "boolean"},
               "priority": {"type": ["string", "null"], "enum": ["low", "medium", "high", None], "description": "Any case; null clears it."},
               "due_date": {"type": ["string", "null"], "description": "A date (`2026-12-04`), an RFC 3339 time, or a local `2026-12-04T17:00` in the person's time zone; null or \"\" clears it. "
                            "Words such as \"tomorrow\" are for the chat, not here.", "examples": ["2026-12-04", "2026-12-04T17:00:00+01:00"]},
               "due_at": {"type": ["string", "null"], "description": "The same as due_date (due_at wins when both are sent)."}}

doc = {
    "openapi": "3.1.0",
    "info": {"title": "taskchat", "version": "1", "description":
             "A task-managing chat backend in one Go HTTP function. Every error is `{\"detail\", \"code\"}`. "
             "A trailing slash is accepted on every route; every response carries `X-Request-ID`. "
             "When auth is on, data routes need `Authorization: Bearer <jwt>` (or the `auth_token` cookie) whose user is "
             "`{user_id}`; the routes without `{user_id}` take the user from the token and need auth on. "
             "Lists are bare arrays (or, on the token routes, the object the frontends that call them read), "
             "the next page in a `Link` header."},
    "paths": dict(sorted(paths.items())),
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                                       "description": "HS256/384/512 with AUTH_SECRET, or EdDSA/RS256/ES256 from AUTH_JWKS_URL. Required only when auth is on (see /health)."}},
        "parameters": {
            "user_id": {"name": "user_id", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[A-Za-z0-9._@:-]{1,128}$"},
                        "description": "The caller's id; `tasks`, `conversations` and `chat` are route names, not user ids."},
            "conversation_id": {"name": "conversation_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}},
            "task_id": {"name": "task_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}},
            "limit20": {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
            "limit50": {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}},
            "limit100": {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 100}},
            "beforeConversation": {"name": "before", "in": "query", "description": "A conversation id from the `Link` header: the page after it.", "schema": {"type": "integer", "minimum": 1}},
            "beforeMessage": {"name": "before", "in": "query", "description": "A message id from the `Link` header: older messages than it.", "schema": {"type": "integer", "minimum": 1}},
            "beforeTask": {"name": "before", "in": "query", "description": "A task id from the `Link` header: the page after it in the same order.", "schema": {"type": "integer", "minimum": 1}},
            "status": {"name": "status", "in": "query", "schema": {"type": "string", "enum": ["all", "pending", "completed"], "default": "all"}},
            "completed": {"name": "completed", "in": "query", "description": "`true` or `false`: the same as status=completed or status=pending.", "schema": {"type": "boolean"}},
            "sort": {"name": "sort", "in": "query", "description": "`created`: newest first; `updated`: most recently changed first; `title`: A to Z; "
                     "`due`: soonest due first, undated last; `priority`: high, medium, low, then unset. `created_at`, `updated_at`, `due_at` and `due_date` are accepted too.",
                     "schema": {"type": "string", "enum": ["created", "updated", "title", "due", "priority"], "default": "created"}},
            "priority": {"name": "priority", "in": "query", "description": "Only tasks with this priority.", "schema": {"type": "string", "enum": ["low", "medium", "high"]}},
            "due_before": {"name": "due_before", "in": "query", "description": "Only tasks due before this: a date (the start of that day in the person's time zone) or an RFC 3339 time.",
                           "schema": {"type": "string", "examples": ["2026-12-04", "2026-12-04T17:00:00Z"]}},
            "overdue": {"name": "overdue", "in": "query", "description": "`true`: only pending tasks whose due date or time has passed in the person's time zone.", "schema": {"type": "boolean"}},
            "time_zone": {"name": "time_zone", "in": "query", "description": "The person's IANA time zone, when no X-Time-Zone header is sent. Default UTC.",
                          "schema": {"type": "string", "maxLength": 64, "examples": ["Europe/Paris"]}},
            "X-Time-Zone": {"name": "X-Time-Zone", "in": "header", "description": "The person's IANA time zone, which dates are read in (what \"today\", \"overdue\" and a date without a time mean). "
                            "A chat body's `time_zone` wins over it; it wins over `?time_zone=`. Default UTC; an unknown name is 400 `invalid_time_zone`.",
                            "schema": {"type": "string", "maxLength": 64, "examples": ["America/New_York"]}},
        },
        "schemas": {
            "Error": {"type": "object", "required": ["detail", "code"], "properties": {
                "detail": {"type": "string", "description": "A sentence for people."},
                "code": {"type": "string", "description": "A machine code, e.g. invalid_input, task_not_found, conversation_not_found, rate_limited."}}},
            "ChatRequest": {"type": "object", "required": ["message"], "properties": {
                "message": {"type": "string", "minLength": 1, "maxLength": 4000, "description": "1..MAX_MESSAGE_CHARS characters after trimming; no NUL."},
                "conversation_id": {"oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "pattern": "^[0-9]+$"}, {"type": "null"}],
                                    "description": "Omitted or null starts a new conversation."},
                "time_zone": {"type": ["string", "null"], "maxLength": 64, "description": "The person's IANA time zone, which \"tomorrow\" or \"Friday 5pm\" is read in; "
                              "else the X-Time-Zone header, else ?time_zone=, else UTC. An unknown name is 400 `invalid_time_zone`.", "examples": ["Europe/Paris"]}}},
            "UseChatRequest": {"type": "object", "required": ["messages"], "properties": {
                "id": {"type": "string", "description": "useChat's chat id; a number is taken as the conversation's id."},
                "messages": {"type": "array", "items": {"type": "object", "properties": {
                    "id": {"type": "string"}, "role": {"type": "string", "enum": ["user", "assistant", "system"]},
                    "parts": {"type": "array", "items": {"type": "object"}}}}},
                "trigger": {"type": "string"}, "conversation_id": {"type": ["integer", "string", "null"]},
                "time_zone": {"type": ["string", "null"]}},
                "description": "The Vercel AI SDK's useChat body. The last user message's text is the message; the conversation is "
                               "`conversation_id`, else a numeric `id`, else the one the assistant messages' ids name (taskchat gives them, "
                               "`tc-<conversation>-…`), else a new one. Answered as the UI message stream."},
            "ToolCall": tool_call,
            "ChatResponse": {"type": "object", "required": ["conversation_id", "response", "message", "agent", "tool_calls"], "properties": {
                "conversation_id": {"type": "integer"}, "response": {"type": "string"},
                "message": {"type": "string", "description": "The same as response, where some frontends read it."},
                "agent": {"type": "string", "enum": ["llm", "offline"]}, "tool_calls": array(ref("ChatToolCall"))}},
            "ChatToolCall": {"allOf": [ref("ToolCall"), {"type": "object", "required": ["args"], "properties": {
                "args": {"type": "object", "description": "The same as arguments, where a frontend reads it."}}}]},
            "Conversation": conversation,
            "Message": message,
            "Task": task,
            "NewTask": {"type": "object", "required": ["title"], "properties": task_fields},
            "TaskInput": {"type": "object", "properties": task_fields, "description": "Any of the fields; those not sent stay as they are."},
            "ConversationWithMessages": {"type": "object", "required": ["conversation", "conversation_id", "messages", "next_before"], "properties": {
                "conversation": ref("Conversation"), "conversation_id": {"type": "integer"},
                "messages": array(ref("Message")), "next_before": {"type": ["integer", "null"]}}},
            "TokenMessages": {"type": "object", "required": ["conversation_id", "messages", "data"], "properties": {
                "conversation_id": {"type": ["integer", "null"]}, "messages": array(ref("Message")), "data": array(ref("Message"))}},
            "Credentials": {"type": "object", "required": ["email", "password"], "properties": {
                "email": {"type": "string", "format": "email", "description": "Compared ignoring case and surrounding spaces."},
                "password": {"type": "string", "minLength": 8, "description": "8 characters to 72 bytes."},
                "name": {"type": ["string", "null"], "maxLength": 100}}},
            "Account": {"type": "object", "required": ["id", "email", "name", "created_at"], "properties": {
                "id": {"type": "string"}, "email": {"type": "string"}, "name": {"type": ["string", "null"]}, "created_at": time,
                "is_active": {"type": "boolean"}, "email_verified": {"type": "boolean"}}},
            "AuthResponse": {"allOf": [ref("Account"), {"type": "object", "properties": {
                "user_id": {"type": "string"}, "access_token": {"type": "string"}, "token_type": {"const": "bearer"},
                "token": {"type": "string", "description": "The same as access_token."},
                "expires_in": {"type": "integer", "description": "Seconds: AUTH_TOKEN_TTL."},
                "user": ref("Account"), "message": {"type": "string"}, "success": {"const": True},
                "data": {"type": "object", "description": "The account with access_token, token_type, token and user again, for the frontends that read an envelope."},
                "error": {"type": "null"}}}],
                "description": "An HS256 token (sub and user_id: the account's id; email, iat, exp) in every shape the surveyed frontends read; also set as the httpOnly auth_token cookie."},
            "Me": {"allOf": [ref("Account"), {"type": "object", "properties": {"user": ref("Account")}}]},
            "JSONRPCMessage": {"type": "object", "required": ["jsonrpc"], "properties": {
                "jsonrpc": {"const": "2.0"}, "id": {"type": ["integer", "string", "null"]}, "method": {"type": "string"},
                "params": {"type": "object"}, "result": {"type": "object"},
                "error": {"type": "object", "properties": {"code": {"type": "integer"}, "message": {"type": "string"}}}},
                "description": "One JSON-RPC 2.0 message of the Model Context Protocol (https://modelcontextprotocol.io)."},
            "ProtectedResourceMetadata": {"type": "object", "required": ["resource", "authorization_servers"], "properties": {
                "resource": {"type": "string", "format": "uri"}, "authorization_servers": {"type": "array", "items": {"type": "string"}},
                "bearer_methods_supported": {"type": "array", "items": {"const": "header"}}, "resource_name": {"type": "string"}}},
            "Health": {"type": "object", "required": ["status", "store", "database", "agent", "auth", "accounts", "version", "adopted", "problems"], "properties": {
                "status": {"type": "string", "enum": ["healthy", "degraded", "misconfigured"]},
                "store": {"type": "string", "enum": ["postgres", "memory"]},
                "database": {"type": "string", "enum": ["up", "down", "none"]},
                "agent": {"type": "string", "enum": ["llm", "offline"]},
                "auth": {"type": "string", "enum": ["jwt", "off"]},
                "accounts": {"type": "string", "enum": ["on", "off"], "description": "Whether the sign-up and sign-in routes serve."},
                "version": {"type": "string"},
                "adopted": {"type": "array", "items": {"type": "string"}, "description": "Existing tables served in place, e.g. public.tasks."},
                "problems": {"type": "array", "items": {"type": "string"}}}},
        },
    },
}

out = os.path.join(os.path.dirname(__file__), "..", "web", "openapi.json")
with open(out, "w") as f:
    json.dump(doc, f, indent=2, ensure_ascii=False)
    f.write("\n")
