package store

import (
	"fmt"
	"reflect"
	"slices"
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
	users    userTable
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
	// priority is the priority column, quoted ("": none); priorityInt says
	// it holds numbers (1 low, 2 medium, 3 and up high) rather than words.
	priority    string
	priorityInt bool
	// priorityRequired: the column is NOT NULL with no default, so a task
	// with no priority gets medium there (and reads back as medium).
	priorityRequired bool
	// due is the due column, quoted ("": none), and dueKind its kind:
	// "own" (taskchat's due_at with due_date_only), "date", "timestamptz"
	// or "timestamp" (without time zone, holding UTC).
	due, dueKind string
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

// userTable is the table of accounts.
type userTable struct {
	table        string
	adopted      bool
	idType       string // pg type of id: text, varchar, uuid, int4…
	password     string // the password hash column, quoted
	hashMax      int    // its length, 0 when unbounded
	name         bool   // it has a name column
	nameRequired bool   // … NOT NULL: no name is the empty string
	created      bool   // … a created_at
	naive        bool   // … without time zone
	updated      bool   // … an updated_at
	active       bool   // … an is_active boolean, filled true
	verified     bool   // … an email_verified boolean, filled false
}

func ownUsers(own string) userTable {
	return userTable{table: pgx.Identifier{own, "users"}.Sanitize(), password: `"password_hash"`, idType: "text",
		name: true, created: true, updated: true}
}

func ownTasks(own string) taskTable {
	return taskTable{
		table: pgx.Identifier{own, "tasks"}.Sanitize(), completed: `"completed"`, description: true,
		priority: `"priority"`, due: `"due_at"`, dueKind: "own",
	}
}

// priorityRead reads the priority as low, medium, high or null. Words of
// an adopted table are read ignoring case, normal as medium, and urgent
// and critical as high; others are no priority.
func (t taskTable) priorityRead() string {
	switch {
	case t.priority == "":
		return "null::text"
	case !t.adopted:
		return t.priority
	case t.priorityInt:
		return fmt.Sprintf("case when %[1]s is null or %[1]s <= 0 then null when %[1]s = 1 then 'low' when %[1]s = 2 then 'medium' else 'high' end", t.priority)
	}
	return fmt.Sprintf("case lower(%s::text) when 'low' then 'low' when 'medium' then 'medium' when 'normal' then 'medium' when 'high' then 'high' when 'urgent' then 'high' when 'critical' then 'high' end", t.priority)
}

// priorityWrite is what the column gets for a priority parameter.
func (t taskTable) priorityWrite(param string) string {
	v := param + "::text"
	if t.priorityRequired {
		v = "coalesce(" + v + ", 'medium')"
	}
	if t.priorityInt {
		return fmt.Sprintf("case %s when 'low' then 1 when 'medium' then 2 when 'high' then 3 end", v)
	}
	return v
}

// dueRead reads the due time, and whether it is a date.
func (t taskTable) dueRead() (at, dateOnly string) {
	switch t.dueKind {
	case "own":
		return t.due, `"due_date_only"`
	case "date":
		return fmt.Sprintf("(%s::timestamp at time zone 'UTC')", t.due), fmt.Sprintf("(%s is not null)", t.due)
	case "timestamptz":
		return t.due, fmt.Sprintf("coalesce((%s at time zone 'UTC')::time = '00:00', false)", t.due)
	case "timestamp":
		return fmt.Sprintf("(%s at time zone 'UTC')", t.due), fmt.Sprintf("coalesce(%s::time = '00:00', false)", t.due)
	}
	return "null::timestamptz", "false"
}

// dueWrite is what the due column gets for a moment parameter (and, for
// taskchat's own table, what due_date_only gets).
func (t taskTable) dueWrite(at, dateOnly string) (value, onlyValue string) {
	switch t.dueKind {
	case "own":
		return at + "::timestamptz", "coalesce(" + dateOnly + "::bool, false)"
	case "date":
		return "(" + at + "::timestamptz at time zone 'UTC')::date", ""
	case "timestamp":
		return "(" + at + "::timestamptz at time zone 'UTC')", ""
	}
	return at + "::timestamptz", ""
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
	accountByEmail, accountByID    string
	createAccount, upgradePassword string
	addTask, getTask, updateTask   string
	deleteTask                     string
	listTasks                      map[TaskSort]string
	countTasks, recountTasks       string
	lockCount                      string
	startNew, appendMessage        string
	getConv, listConvs             string
	deleteConv, deleteConvs        string
	listMessages                   string
	claimKey, readKey, countTurn   string
	setResponse, releaseKey, sweep string
	lockTurn                       string
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

// all is every statement, for preparing them ahead.
func (st statements) all() []string {
	var out []string
	v := reflect.ValueOf(st)
	for i := range v.NumField() {
		switch f := v.Field(i); f.Kind() {
		case reflect.String:
			if sql := f.String(); isStatement(sql) {
				out = append(out, sql)
			}
		case reflect.Map:
			for _, k := range f.MapKeys() {
				out = append(out, f.MapIndex(k).String())
			}
		}
	}
	slices.Sort(out)
	// And the transaction statements batches send, last: warm needs the
	// first statement to take arguments.
	return append(slices.Compact(out), "begin", "commit", "rollback")
}

// isStatement tells a single statement from the column lists and the
// multi-statement sweep among the fields.
func isStatement(sql string) bool {
	head, _, _ := strings.Cut(strings.TrimSpace(sql), " ")
	return !strings.Contains(sql, ";") && slices.Contains([]string{"select", "insert", "update", "delete", "with"}, strings.ToLower(head))
}

func buildStatements(s *schema) statements {
	var st statements
	taskStatements(&st, s.tasks, s.own)
	userStatements(&st, s.users)
	conversationStatements(&st, s.convs)
	admissionStatements(&st, s.own)
	return st
}

// taskStatements builds the task queries. A description column may be
// missing, nullable (no description is NULL there) or NOT NULL (no
// description is the empty string).
func taskStatements(st *statements, t taskTable, own string) {
	user := "user_id = $1" + t.userCast
	desc := "''"
	if t.description {
		desc = `coalesce("description", '')`
	}
	dueAt, dueOnly := t.dueRead()
	prio := t.priorityRead()
	st.taskColumns = fmt.Sprintf(`id, user_id::text, title, %s, %s, %s, %s, %s, %s, %s`,
		desc, t.completed, prio, dueAt, dueOnly, readTime("created_at", t.naive), readTime("updated_at", t.naive))
	cols, now := st.taskColumns, nowFor(t.naive)

	// The optional columns, as an insert lists them and an update sets them.
	var insCols, insVals, sets []string
	if t.description {
		v, set := bounded("$3", t.descMax), bounded("$4", t.descMax)
		if t.descNullable {
			v, set = "nullif("+v+", '')", "nullif("+set+", '')"
		}
		insCols, insVals = append(insCols, `"description"`), append(insVals, v)
		sets = append(sets, fmt.Sprintf(`"description" = case when $4::text is null then "description" else %s end`, set))
	}
	if t.priority != "" {
		insCols, insVals = append(insCols, t.priority), append(insVals, t.priorityWrite("$6"))
		sets = append(sets, fmt.Sprintf(`%s = case when $7::bool then %s else %s end`, t.priority, t.priorityWrite("$8"), t.priority))
	}
	if t.due != "" {
		v, only := t.dueWrite("$7", "$8")
		insCols, insVals = append(insCols, t.due), append(insVals, v)
		setV, setOnly := t.dueWrite("$10", "$11")
		sets = append(sets, fmt.Sprintf(`%s = case when $9::bool then %s else %s end`, t.due, setV, t.due))
		if only != "" {
			insCols, insVals = append(insCols, `"due_date_only"`), append(insVals, only)
			sets = append(sets, fmt.Sprintf(`"due_date_only" = case when $9::bool then %s else "due_date_only" end`, setOnly))
		}
	}
	optCols, optVals, optSets := "", "", ""
	for i := range insCols {
		optCols += ", " + insCols[i]
		optVals += ", " + insVals[i]
	}
	for _, set := range sets {
		optSets += ",\n\t" + set
	}
	// Every parameter must be used for PostgreSQL to know its type; those
	// of columns a table lacks are used where they change nothing.
	insUnused, updUnused := "", ""
	if !t.description {
		insUnused += " and coalesce($3::text, '') is not null"
		updUnused += " and coalesce($4::text, '') is not null"
	}
	if t.priority == "" {
		insUnused += " and coalesce($6::text, '') is not null"
		updUnused += " and coalesce($7::bool, $8::text is null) is not null"
	}
	if t.due == "" {
		insUnused += " and coalesce($7::timestamptz, now()) is not null and coalesce($8::bool, true) is not null"
		updUnused += " and coalesce($9::bool, $10::timestamptz is null, $11::bool) is not null"
	} else if t.dueKind != "own" {
		insUnused += " and coalesce($8::bool, true) is not null"
		updUnused += " and coalesce($11::bool, true) is not null"
	}

	// In a select, $1 needs one type for all its uses: the column's, or
	// text for any text column (varchar would differ from text).
	uc := t.userCast
	if uc == "" {
		uc = "::text"
	}
	counts := pgx.Identifier{own, "task_counts"}.Sanitize()
	// addTask adds a task, and with a limit ($5 > 0) only while the user's
	// row in task_counts is under it: the row's update serializes a user's
	// adds, so racing ones count each other. A user without a row gets one
	// from a count of their tasks. No row back means the limit (or a race
	// for the first row): recountTasks says which. $6 is the priority, $7
	// the due time and $8 whether it is a date; the columns an adopted
	// table lacks are not written, and their parameters go unused.
	st.addTask = strings.NewReplacer("COUNTS", counts, "TASKS", t.table, "UC", uc).Replace(fmt.Sprintf(`with u as (
	update COUNTS set n = n + 1 where $5::int > 0 and user_id = $1::text and n < $5::int returning n
), i as (
	insert into COUNTS (user_id, n)
	select $1::text, (select count(*) from TASKS where user_id = $1UC) + 1
	where $5::int > 0 and not exists (select 1 from COUNTS where user_id = $1::text)
	on conflict (user_id) do nothing
	returning n
), c as (
	select n from u union all select n from i union all select 0 where $5::int = 0
)
insert into TASKS (user_id, title, %s, created_at, updated_at%s)
select $1UC, %s, $4::bool, %s, %s%s from c where ($5::int = 0 or c.n <= $5::int)%s
returning %s`, t.completed, optCols, bounded("$2", t.titleMax), now, now, optVals, insUnused, cols))
	// recountTasks sets the user's count from their tasks. It runs after
	// lockCount, in the same transaction: the lock waits for the adds in
	// flight to end, and this statement's snapshot, taken after, sees them.
	st.recountTasks = strings.NewReplacer("COUNTS", counts, "TASKS", t.table, "UC", uc).Replace(`insert into COUNTS (user_id, n)
values ($1::text, (select count(*) from TASKS where user_id = $1UC))
on conflict (user_id) do update set n = excluded.n
returning n`)
	st.lockCount = `select 1 from ` + counts + ` where user_id = $1::text for update`

	// What a list and a count select: $2 a filter, then (from first) the
	// title's words as LIKE patterns, a priority (” any), a time the tasks
	// are due before (null: any), overdue, now and today.
	selected := func(first int) string {
		p := func(i int) string { return fmt.Sprintf("$%d", first+i) }
		return fmt.Sprintf(`%s and ($2::text = 'all' or %s = ($2::text = 'completed')) and lower(title) like all (%s::text[])
	and (%s::text = '' or %s = %s::text)
	and (%s::timestamptz is null or case when %s then %s < %s::timestamptz else %s < %s::timestamptz end)
	and (not %s::bool or not %s and %s is not null and case when %s then %s < %s::timestamptz else %s < %s::timestamptz end)`,
			user, t.completed, p(0), p(1), prio, p(1),
			p(2), dueOnly, dueAt, p(6), dueAt, p(2),
			p(3), t.completed, dueAt, dueOnly, dueAt, p(5), dueAt, p(4))
	}
	st.countTasks = fmt.Sprintf(`select count(*)::int from %s where %s`, t.table, selected(3))
	st.getTask = fmt.Sprintf(`select %s from %s where id = $2::bigint and %s`, cols, t.table, user)
	st.updateTask = fmt.Sprintf(`update %s set title = coalesce(%s, title),
	%s = case when $6::bool then not %s else coalesce($5::bool, %s) end, updated_at = %s%s
where id = $2::bigint and %s%s
returning %s`,
		t.table, bounded("$3", t.titleMax), t.completed, t.completed, t.completed, now, optSets, user, updUnused, cols)
	st.deleteTask = fmt.Sprintf(`with d as (
	delete from %s where id = $2::bigint and %s returning %s
), c as (
	update %s set n = n - 1 where user_id = $1::text and n > 0 and exists (select 1 from d)
)
select * from d`, t.table, user, cols, counts)

	// $2 is a filter, $3 a task id to start after, $4 a limit, then the
	// selection's parameters from $5.
	st.listTasks = map[TaskSort]string{}
	where := selected(5)
	far := "'infinity'::timestamptz"
	for sort, o := range map[TaskSort]struct{ key, cmp, order string }{
		SortOldest:   {"id", ">", "id"},
		SortCreated:  {"created_at, id", "<", "created_at desc, id desc"},
		SortUpdated:  {"updated_at, id", "<", "updated_at desc, id desc"},
		SortTitle:    {`lower(title) collate "C", id`, ">", `lower(title) collate "C", id`},
		SortDue:      {"coalesce(" + dueAt + ", " + far + "), id", ">", "coalesce(" + dueAt + ", " + far + "), id"},
		SortPriority: {priorityRank(prio) + ", id", ">", priorityRank(prio) + ", id"},
	} {
		st.listTasks[sort] = fmt.Sprintf(`select %s from %s
where %s
	and ($3::bigint = 0 or (%s) %s (select %s from %s where id = $3::bigint and %s))
order by %s limit case when $4::int > 0 then $4::int end`,
			cols, t.table, where, o.key, o.cmp, o.key, t.table, user, o.order)
	}
	st.listTasks[SortRelevant] = fmt.Sprintf(`select %s from %s
where %s and $3::bigint = 0
order by %s, id desc limit case when $4::int > 0 then $4::int end`, cols, t.table, where, t.completed)
}

// priorityRank orders priorities high first, none last.
func priorityRank(prio string) string {
	return fmt.Sprintf("case %s when 'high' then 0 when 'medium' then 1 when 'low' then 2 else 3 end", prio)
}

// conversationStatements builds the conversation and message queries. Own
// tables keep a conversation's title, message count and activity on its
// row; adopted ones are read as they are, with the title taken from the
// first user message and the count counted.
func conversationStatements(st *statements, c convTables) {
	st.startNew = c.startNewSQL()
	st.appendMessage = c.appendSQL()
	st.getConv = fmt.Sprintf(`select %s from %s c where c.id = $2::bigint and c.%s`, c.columns(), c.conv, c.user())
	st.listConvs = c.listSQL()
	st.deleteConv = c.deleteSQL("c.id = $2::bigint and c." + c.user())
	st.deleteConvs = c.deleteSQL("c." + c.user())
	st.listMessages = c.listMessagesSQL()
}

// user matches a conversation's user to parameter $1.
func (c convTables) user() string { return "user_id = $1" + c.convUserCast }

// columns are a conversation row's (alias c) as scanConv reads them: id,
// user, title, count, created, updated.
func (c convTables) columns() string {
	title, count := "c.title", "c.message_count"
	if c.adopted {
		first := fmt.Sprintf(`(select m.content from %s m where m.conversation_id = c.id and m.role = 'user' order by m.id limit 1)`, c.msgs)
		title = "coalesce(" + first + ", '')"
		if c.convTitle {
			title = "coalesce(nullif(c.title, ''), " + first + ", '')"
		}
		count = fmt.Sprintf(`(select count(*)::int from %s m where m.conversation_id = c.id)`, c.msgs)
	}
	return fmt.Sprintf(`c.id, c.user_id::text, %s, %s, %s, %s`, title, count,
		readTime("c.created_at", c.convNaive), readTime("c.updated_at", c.convNaive))
}

// messageUser gives the column and value that fill an adopted message's
// own user_id, or nothing.
func (c convTables) messageUser() (col, val string) {
	if c.msgUser {
		return ", user_id", ", $1" + c.msgUserCast
	}
	return "", ""
}

// messageTime is a new message's created_at: the conversation's new
// activity time (c.updated_at) when both columns are of one kind.
func (c convTables) messageTime() string {
	if c.convNaive == c.msgNaive {
		return "updated_at"
	}
	return nowFor(c.msgNaive)
}

// startNewSQL stores a new conversation with the user's message in one
// statement.
func (c convTables) startNewSQL() string {
	if !c.adopted {
		return fmt.Sprintf(`with c as (
	insert into %s (user_id, title, message_count) values ($1, $2, 1)
	returning id, user_id, title, message_count, created_at, updated_at
), m as (
	insert into %s (conversation_id, role, content, created_at)
	select id, 'user', $3, updated_at from c returning id
)
select %s from c, m`, c.conv, c.msgs, c.columns())
	}
	titleCol, titleVal := "", ""
	if c.convTitle {
		titleCol, titleVal = ", title", ", $2"
	}
	userCol, userVal := c.messageUser()
	now := nowFor(c.convNaive)
	return fmt.Sprintf(`with c as (
	insert into %s (user_id%s, created_at, updated_at) values ($1%s%s, %s, %s)
	returning id, user_id, created_at, updated_at
), m as (
	insert into %s (conversation_id%s, role, content, created_at)
	select id%s, 'user', %s, %s from c returning id
)
select c.id, c.user_id::text, $2::text, 1, %s, %s from c, m`,
		c.conv, titleCol, c.convUserCast, titleVal, now, now,
		c.msgs, userCol, userVal, bounded("$3", c.contentMax), c.messageTime(),
		readTime("c.created_at", c.convNaive), readTime("c.updated_at", c.convNaive))
}

// appendSQL stores a message at the end of a conversation, which becomes
// the most recently active; no row means no such conversation. For an
// adopted conversation the row carries no title or count: they would cost a
// read that grows with the conversation.
func (c convTables) appendSQL() string {
	now := nowFor(c.convNaive)
	userCol, userVal := c.messageUser()
	if !c.adopted {
		return fmt.Sprintf(`with c as (
	update %s c set message_count = message_count + 1, updated_at = %s, activity = nextval('%s')
	where c.id = $2::bigint and c.%s
	returning id, user_id, title, message_count, created_at, updated_at
), m as (
	insert into %s (conversation_id, role, content, tool_calls, created_at)
	select id, $3, $4, $5::jsonb, updated_at from c returning id, created_at
)
select m.id, m.created_at, %s from c, m`, c.conv, now, c.activity, c.user(), c.msgs, c.columns())
	}
	return fmt.Sprintf(`with c as (
	update %s c set updated_at = %s where c.id = $2::bigint and c.%s
	returning id, user_id, created_at, updated_at
), m as (
	insert into %s (conversation_id%s, role, content, created_at)
	select id%s, $3, %s, %s from c returning id, created_at
), t as (
	insert into %s (message_id, tool_calls) select id, $5::jsonb from m where $5::text <> '[]'
)
select m.id, %s, c.id, c.user_id::text, ''::text, 0, %s, %s from c, m`,
		c.conv, now, c.user(),
		c.msgs, userCol, userVal, bounded("$4", c.contentMax), c.messageTime(),
		c.toolCalls,
		readTime("m.created_at", c.msgNaive), readTime("c.created_at", c.convNaive), readTime("c.updated_at", c.convNaive))
}

// listSQL pages the user's conversations, most recently active first. The
// cursor's position is looked up once, so the page is a range scan
// whatever the history's size.
func (c convTables) listSQL() string {
	key, order := "c.activity", "c.activity desc"
	if c.adopted {
		key, order = "c.updated_at, c.id", "c.updated_at desc, c.id desc"
	}
	return fmt.Sprintf(`select %s from %s c
where c.%s and ($2::bigint = 0 or (%s) < (select %s from %s c where c.id = $2::bigint and c.%s))
order by %s limit $3`, c.columns(), c.conv, c.user(), key, key, c.conv, c.user(), order)
}

// deleteSQL deletes the conversations that which selects, with their
// messages (and tool calls), and counts them: own tables cascade, adopted
// ones are deleted explicitly.
func (c convTables) deleteSQL(which string) string {
	if !c.adopted {
		return fmt.Sprintf(`with c as (delete from %s c where %s returning 1) select count(*)::int from c`, c.conv, which)
	}
	return fmt.Sprintf(`with d as (select c.id from %s c where %s),
t as (delete from %s where message_id in (select m.id from %s m where m.conversation_id in (select id from d))),
m as (delete from %s where conversation_id in (select id from d)),
c as (delete from %s where id in (select id from d) returning 1)
select count(*)::int from c`, c.conv, which, c.toolCalls, c.msgs, c.msgs, c.conv)
}

// listMessagesSQL reads a page of messages, and whether the conversation is
// the user's, in one query: no row means no such conversation, one row of
// nulls an empty page.
func (c convTables) listMessagesSQL() string {
	calls, callsCol, join := "m.tool_calls", "tool_calls, ", ""
	if c.adopted {
		calls, callsCol = "coalesce(t.tool_calls, '[]')", ""
		join = fmt.Sprintf(" left join %s t on t.message_id = m.id", c.toolCalls)
	}
	return fmt.Sprintf(`select m.id, m.role, m.content, %s, %s
from %s c
left join lateral (
	select id, coalesce(role, '') as role, coalesce(content, '') as content, %screated_at from %s
	where conversation_id = c.id and id < $3::bigint order by id desc limit $4
) m on true%s
where c.id = $2::bigint and c.%s
order by m.id desc`,
		calls, readTime("m.created_at", c.msgNaive), c.conv, callsCol, c.msgs, join, c.user())
}

// userStatements builds the account queries. A new account's id is the
// table's own (a serial) or a UUID made here, as text or uuid.
func userStatements(st *statements, u userTable) {
	name, created := "''::text", "clock_timestamp()"
	if u.name {
		name = "coalesce(name, '')"
	}
	if u.created {
		created = readTime("created_at", u.naive)
	}
	cols := fmt.Sprintf("id::text, email, %s, %s, %s", name, u.password, created)
	st.accountByEmail = fmt.Sprintf(`select %s from %s where lower(email) = lower($1) order by id limit 1`, cols, u.table)
	st.accountByID = fmt.Sprintf(`select %s from %s where id::text = $1`, cols, u.table)

	// $1 the email, $2 the hash, $3 the name when the table has one.
	insCols, insVals := []string{"email", u.password}, []string{"$1", "$2"}
	switch u.idType {
	case "uuid":
		insCols, insVals = append(insCols, "id"), append(insVals, "gen_random_uuid()")
	case "text", "varchar", "bpchar":
		insCols, insVals = append(insCols, "id"), append(insVals, "gen_random_uuid()::text")
	}
	now := nowFor(u.naive)
	for _, c := range []struct {
		on        bool
		col, expr string
	}{
		{u.name && !u.nameRequired, "name", "nullif($3, '')"}, {u.nameRequired, "name", "$3"},
		{u.created, "created_at", now}, {u.updated, "updated_at", now},
		{u.active, "is_active", "true"}, {u.verified, "email_verified", "false"},
	} {
		if c.on {
			insCols, insVals = append(insCols, c.col), append(insVals, c.expr)
		}
	}
	st.createAccount = fmt.Sprintf(`insert into %s (%s) values (%s) returning %s`,
		u.table, strings.Join(insCols, ", "), strings.Join(insVals, ", "), cols)
	set := u.password + " = $3"
	if u.updated {
		set += ", updated_at = " + now
	}
	st.upgradePassword = fmt.Sprintf(`update %s set %s where id::text = $1 and %s = $2`, u.table, set, u.password)
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
	// lockTurn is held by a turn's transaction from its first round trip
	// to its end, so settle can wait for the turn to be over.
	st.lockTurn = `select pg_advisory_xact_lock(hashtextextended('taskchat turn ' || $1::text || ' ' || $2::text, 0))`
	// A turn's own key (request_hash '') is needed only until the turn's
	// outcome is known: an hour is plenty.
	st.sweep = `delete from ` + keys + ` where created_at < now() - interval '24 hours'
	or (request_hash = '' and created_at < now() - interval '1 hour');
delete from ` + rates + ` where window_start < date_trunc('minute', now())`
}
