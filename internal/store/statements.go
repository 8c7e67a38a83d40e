package store

import (
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// schema is where tasks and conversations live, as Migrate found them, and
// the SQL for them. The statements are built once from the tables' shapes:
// taskchat's own tables and adopted ones go through the same queries, and
// only a table name, a cast or a column expression differs.
type schema struct {
	own      string // taskchat's own schema
	tasks    taskTable
	convs    convTables
	adopted  []string
	problems []string
	sql      statements
}

// taskTable is the table of tasks and how its columns read and write.
type taskTable struct {
	table        string // qualified and quoted
	adopted      bool
	userCast     string // how a user id parameter becomes the column's type
	completed    string // the completed column, quoted
	naive        bool   // timestamps without time zone, holding UTC
	description  bool   // it has a description column
	descNullable bool   // no description is NULL there, not ''
	titleMax     int    // the title column's length, 0 when unbounded
	descMax      int
}

// convTables are the tables of conversations and messages.
type convTables struct {
	conv, msgs   string // qualified and quoted
	adopted      bool
	convUserCast string
	convNaive    bool
	convTitle    bool   // an adopted conversations table with a title column
	activity     string // the sequence ordering own conversations; "" when adopted
	msgUser      bool   // messages carry their own user_id
	msgUserCast  string
	msgNaive     bool
	toolCalls    string // the side table of an adopted messages table's tool calls
	contentMax   int
}

func ownTasks(own string) taskTable {
	return taskTable{
		table: pgx.Identifier{own, "tasks"}.Sanitize(), completed: `"completed"`, description: true,
	}
}

func ownConvs(own string) convTables {
	return convTables{
		conv: pgx.Identifier{own, "conversations"}.Sanitize(), msgs: pgx.Identifier{own, "messages"}.Sanitize(),
		activity: pgx.Identifier{own, "conversation_activity_seq"}.Sanitize(),
	}
}

// statements is every query the PostgreSQL store runs on tasks,
// conversations and messages.
type statements struct {
	taskColumns                    string
	addTask, getTask, updateTask   string
	deleteTask                     string
	listTasks                      map[TaskSort]string
	startNew, appendMessage        string
	getConv, listConvs             string
	deleteConv, deleteConvs        string
	listMessages                   string
	claimKey, readKey, countTurn   string
	setResponse, releaseKey, sweep string
}

// readTime reads a timestamp column as timestamptz; a column without time
// zone holds UTC.
func readTime(col string, naive bool) string {
	if naive {
		return "(" + col + " at time zone 'UTC')"
	}
	return col
}

// nowFor is the current time as a column of that kind stores it.
func nowFor(naive bool) string {
	if naive {
		return "(clock_timestamp() at time zone 'UTC')"
	}
	return "clock_timestamp()"
}

// bounded cuts a text parameter to a column's length, when it has one.
func bounded(param string, max int) string {
	if max > 0 {
		return fmt.Sprintf("left(%s::text, %d)", param, max)
	}
	return param
}

func buildStatements(s *schema) statements {
	var st statements
	t := s.tasks
	user := "user_id = $1" + t.userCast
	desc := "''"
	if t.description {
		desc = `coalesce("description", '')`
	}
	st.taskColumns = fmt.Sprintf(`id, user_id::text, title, %s, %s, %s, %s`,
		desc, t.completed, readTime("created_at", t.naive), readTime("updated_at", t.naive))
	cols, now := st.taskColumns, nowFor(t.naive)

	descInsert, descSet := "", ""
	if t.description {
		v := bounded("$3", t.descMax)
		if t.descNullable {
			v = "nullif(" + v + ", '')"
		}
		descInsert = ", " + v
		set := bounded("$4", t.descMax)
		if t.descNullable {
			set = "nullif(" + set + ", '')"
		}
		descSet = fmt.Sprintf(`, "description" = case when $4::text is null then "description" else %s end`, set)
	}
	descCol := ""
	if t.description {
		descCol = `, "description"`
	}
	st.addTask = fmt.Sprintf(`insert into %s (user_id, title%s, %s, created_at, updated_at)
values ($1%s, %s%s, $4, %s, %s) returning %s`,
		t.table, descCol, t.completed, t.userCast, bounded("$2", t.titleMax), descInsert, now, now, cols)
	st.getTask = fmt.Sprintf(`select %s from %s where id = $2::bigint and %s`, cols, t.table, user)
	st.updateTask = fmt.Sprintf(`update %s set title = coalesce(%s, title)%s,
	%s = case when $6::bool then not %s else coalesce($5::bool, %s) end, updated_at = %s
where id = $2::bigint and %s returning %s`,
		t.table, bounded("$3", t.titleMax), descSet, t.completed, t.completed, t.completed, now, user, cols)
	st.deleteTask = fmt.Sprintf(`delete from %s where id = $2::bigint and %s returning %s`, t.table, user, cols)

	st.listTasks = map[TaskSort]string{}
	for sort, o := range map[TaskSort]struct{ key, cmp, order string }{
		SortOldest:  {"id", ">", "id"},
		SortCreated: {"created_at, id", "<", "created_at desc, id desc"},
		SortUpdated: {"updated_at, id", "<", "updated_at desc, id desc"},
		SortTitle:   {`lower(title) collate "C", id`, ">", `lower(title) collate "C", id`},
	} {
		st.listTasks[sort] = fmt.Sprintf(`select %s from %s
where %s and ($2::text = 'all' or %s = ($2::text = 'completed'))
	and ($3::bigint = 0 or (%s) %s (select %s from %s where id = $3::bigint and %s))
order by %s limit case when $4::int > 0 then $4::int end`,
			cols, t.table, user, t.completed, o.key, o.cmp, o.key, t.table, user, o.order)
	}

	conversationStatements(&st, s.convs)
	admissionStatements(&st, s.own)
	return st
}

// conversationStatements builds the conversation and message queries. Own
// tables keep a conversation's title, message count and activity on its
// row; adopted ones are read as they are, with the title taken from the
// first user message and the count counted.
func conversationStatements(st *statements, c convTables) {
	convUser := "user_id = $1" + c.convUserCast
	convNow, msgNow := nowFor(c.convNaive), nowFor(c.msgNaive)
	content := bounded("$4", c.contentMax)

	// Columns of a conversation row (alias c): id, user, title, count,
	// created, updated.
	title, count := "c.title", "c.message_count"
	if c.adopted {
		first := fmt.Sprintf(`(select m.content from %s m where m.conversation_id = c.id and m.role = 'user' order by m.id limit 1)`, c.msgs)
		title = "coalesce(" + first + ", '')"
		if c.convTitle {
			title = "coalesce(nullif(c.title, ''), " + first + ", '')"
		}
		count = fmt.Sprintf(`(select count(*)::int from %s m where m.conversation_id = c.id)`, c.msgs)
	}
	convCols := fmt.Sprintf(`c.id, c.user_id::text, %s, %s, %s, %s`, title, count,
		readTime("c.created_at", c.convNaive), readTime("c.updated_at", c.convNaive))

	msgUserCol, msgUserVal := "", ""
	if c.msgUser {
		msgUserCol, msgUserVal = ", user_id", ", $1"+c.msgUserCast
	}
	// The tool calls of a new message, and how a message's are read.
	toolCallsCol, toolCallsVal, toolCallsInsert, toolCallsRead, toolCallsJoin := ", tool_calls", ", $5::jsonb", "", "m.tool_calls", ""
	if c.adopted {
		toolCallsCol, toolCallsVal = "", ""
		toolCallsInsert = fmt.Sprintf(`, t as (
	insert into %s (message_id, tool_calls) select id, $5::jsonb from m where $5::text <> '[]'
)`, c.toolCalls)
		toolCallsRead = "coalesce(t.tool_calls, '[]')"
		toolCallsJoin = fmt.Sprintf(" left join %s t on t.message_id = m.id", c.toolCalls)
	}

	// A new conversation with the user's message, in one statement.
	if c.adopted {
		titleCol, titleVal := "", ""
		if c.convTitle {
			titleCol, titleVal = ", title", ", $2"
		}
		st.startNew = fmt.Sprintf(`with c as (
	insert into %s (user_id%s, created_at, updated_at) values ($1%s%s, %s, %s)
	returning id, user_id, created_at, updated_at
), m as (
	insert into %s (conversation_id%s, role, content, created_at)
	select id%s, 'user', %s, %s from c returning id
)
select c.id, c.user_id::text, $2::text, 1, %s, %s from c, m`,
			c.conv, titleCol, c.convUserCast, titleVal, convNow, convNow,
			c.msgs, msgUserCol, msgUserVal, bounded("$3", c.contentMax), map[bool]string{true: "updated_at", false: msgNow}[c.convNaive == c.msgNaive],
			readTime("c.created_at", c.convNaive), readTime("c.updated_at", c.convNaive))
	} else {
		st.startNew = fmt.Sprintf(`with c as (
	insert into %s (user_id, title, message_count) values ($1, $2, 1)
	returning id, user_id, title, message_count, created_at, updated_at
), m as (
	insert into %s (conversation_id, role, content, created_at)
	select id, 'user', $3, updated_at from c returning id
)
select %s from c, m`, c.conv, c.msgs, convCols)
	}

	// A message at the end of a conversation, which becomes the most
	// recently active; no row means no such conversation. For an adopted
	// conversation the row carries no title or count: they would cost a
	// read that grows with the conversation.
	bump, ret, returning := "updated_at = "+convNow, "''::text, 0", "id, user_id, created_at, updated_at"
	if !c.adopted {
		bump = fmt.Sprintf("message_count = message_count + 1, updated_at = %s, activity = nextval('%s')", convNow, c.activity)
		ret, returning = "c.title, c.message_count", returning+", title, message_count"
	}
	msgAt := msgNow
	if c.convNaive == c.msgNaive {
		msgAt = "updated_at" // the message's time is the conversation's new activity
	}
	st.appendMessage = fmt.Sprintf(`with c as (
	update %s c set %s where c.id = $2::bigint and c.%s
	returning %s
), m as (
	insert into %s (conversation_id%s, role, content%s, created_at)
	select id%s, $3, %s%s, %s from c returning id, created_at
)%s
select m.id, %s, c.id, c.user_id::text, %s, %s, %s from c, m`,
		c.conv, bump, convUser, returning,
		c.msgs, msgUserCol, toolCallsCol, msgUserVal, content, toolCallsVal, msgAt, toolCallsInsert,
		readTime("m.created_at", c.msgNaive), ret, readTime("c.created_at", c.convNaive), readTime("c.updated_at", c.convNaive))

	st.getConv = fmt.Sprintf(`select %s from %s c where c.id = $2::bigint and c.%s`, convCols, c.conv, convUser)
	// The cursor's position is looked up once, so the page is a range scan
	// whatever the history's size.
	key, order := "c.updated_at, c.id", "c.updated_at desc, c.id desc"
	if !c.adopted {
		key, order = "c.activity", "c.activity desc"
	}
	st.listConvs = fmt.Sprintf(`select %s from %s c
where c.%s and ($2::bigint = 0 or (%s) < (select %s from %s c where c.id = $2::bigint and c.%s))
order by %s limit $3`, convCols, c.conv, convUser, key, key, c.conv, convUser, order)

	// Deleting conversations takes their messages (and their tool calls)
	// with them; own tables cascade, adopted ones are deleted explicitly.
	del := func(which string) string {
		if !c.adopted {
			return fmt.Sprintf(`with c as (delete from %s c where %s returning 1) select count(*)::int from c`, c.conv, which)
		}
		return fmt.Sprintf(`with d as (select c.id from %s c where %s),
t as (delete from %s where message_id in (select m.id from %s m where m.conversation_id in (select id from d))),
m as (delete from %s where conversation_id in (select id from d)),
c as (delete from %s where id in (select id from d) returning 1)
select count(*)::int from c`, c.conv, which, c.toolCalls, c.msgs, c.msgs, c.conv)
	}
	st.deleteConv = del("c.id = $2::bigint and c." + convUser)
	st.deleteConvs = del("c." + convUser)

	// A page of messages, and whether the conversation is the user's, in
	// one query: no row means no such conversation, one row of nulls an
	// empty page.
	st.listMessages = fmt.Sprintf(`select m.id, m.role, m.content, %s, %s
from %s c
left join lateral (
	select id, coalesce(role, '') as role, coalesce(content, '') as content, %screated_at from %s
	where conversation_id = c.id and id < $3::bigint order by id desc limit $4
) m on true%s
where c.id = $2::bigint and c.%s
order by m.id desc`,
		toolCallsRead, readTime("m.created_at", c.msgNaive), c.conv,
		map[bool]string{true: "", false: "tool_calls, "}[c.adopted], c.msgs, toolCallsJoin, convUser)
}

// admissionStatements builds the idempotency key and rate limit queries on
// taskchat's own tables.
func admissionStatements(st *statements, own string) {
	keys := pgx.Identifier{own, "idempotency_keys"}.Sanitize()
	rates := pgx.Identifier{own, "chat_rate"}.Sanitize()
	// claimKey takes the key, or takes over one that expired or whose turn
	// died; a live key is not claimed. A concurrent claim of the same key
	// waits here until the first turn commits or rolls back.
	st.claimKey = strings.ReplaceAll(`with claim as (
	insert into KEYS (user_id, key, request_hash) values ($1, $2, $3)
	on conflict (user_id, key) do update set request_hash = excluded.request_hash, response = null, created_at = now()
	where idempotency_keys.created_at < now() - interval '24 hours'
		or (idempotency_keys.response is null and idempotency_keys.created_at < now() - interval '5 minutes')
	returning 1
)
select exists (select 1 from claim)`, "KEYS", keys)
	st.readKey = `select request_hash, response from ` + keys + ` where user_id = $1 and key = $2`
	// countTurn counts the turn in the current minute (dropping the user's
	// past windows) and says how long until the next one.
	st.countTurn = strings.ReplaceAll(`with past as (
	delete from RATES where user_id = $1 and window_start < date_trunc('minute', now())
)
insert into RATES (user_id, window_start, turns) values ($1, date_trunc('minute', now()), 1)
on conflict (user_id, window_start) do update set turns = chat_rate.turns + 1
returning turns, extract(epoch from date_trunc('minute', now()) + interval '1 minute' - now())::float8`, "RATES", rates)
	st.setResponse = `update ` + keys + ` set response = $3 where user_id = $1 and key = $2`
	st.releaseKey = `delete from ` + keys + ` where user_id = $1 and key = $2 and response is null`
	st.sweep = `delete from ` + keys + ` where created_at < now() - interval '24 hours';
delete from ` + rates + ` where window_start < date_trunc('minute', now())`
}
