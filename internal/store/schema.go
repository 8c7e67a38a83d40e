package store

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Where a database keeps what taskchat serves. taskchat's own objects live
// in their own schema (DefaultSchema unless configured). When the database
// already holds a to-do application's tables of the common shape — the
// FastAPI backends' SQLModel tasks, conversations and messages — taskchat
// adopts them in place: it reads and writes those rows as they are, keeps
// what it needs beyond them (tool calls, idempotency keys, rate limits) in
// its own schema, and never creates, alters or drops anything of theirs.
// What it cannot adopt safely it leaves alone and reports.

// DefaultSchema is the PostgreSQL schema of taskchat's own objects.
const DefaultSchema = "taskchat"

// schemaNamePattern is what DATABASE_SCHEMA may be: a plain lower-case
// identifier, so it never needs quoting in the version table's name.
var schemaNamePattern = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// ValidSchemaName reports whether name can hold taskchat's own objects: a
// plain identifier that is not a schema of PostgreSQL's or public, where the
// applications taskchat adopts keep their tables.
func ValidSchemaName(name string) bool {
	return schemaNamePattern.MatchString(name) && name != "public" && name != "information_schema" && !strings.HasPrefix(name, "pg_")
}

// Candidate table names, in order of preference, as the surveyed backends
// name them (SQLModel's defaults are the singular names).
var (
	taskTableNames = []string{"tasks", "task", "todotask", "todos", "todo"}
	convTableNames = []string{"conversations", "conversation"}
	msgTableNames  = []string{"messages", "message"}
	userTableNames = []string{"users", "user"}
	// Better Auth keeps passwords in account; its user table is never ours.
	betterAuthNames = []string{"account"}
)

// column is one column of a candidate table, as the catalog describes it.
type column struct {
	Table    string `json:"table"`
	Name     string `json:"name"`
	Type     string `json:"type"` // pg_type.typname: int4, varchar, timestamp, …
	NotNull  bool   `json:"notnull"`
	Default  bool   `json:"default"` // a default, identity or generated value
	MaxChars *int   `json:"maxchars"`
}

// inspection is what the schema check read in its one round trip.
type inspection struct {
	version   int32
	ownTasks  bool // taskchat's own tasks table holds rows
	ownConvs  bool // … and its own conversations table
	ownUsers  bool // … and its own users table
	appSchema string
	columns   []column
	indexed   map[string][]string // table → the first column of each of its indexes
}

// inspectSQL reads the schema version, whether taskchat's own tables hold
// rows, and the catalog of every candidate table in the application's
// schema (the connection's current schema). It fails with undefined_table
// until the own schema is migrated.
func inspectSQL(own string, adopt bool) string {
	names := "'{}'::text[]"
	if adopt {
		all := slices.Concat(taskTableNames, convTableNames, msgTableNames, userTableNames, betterAuthNames)
		names = "'{" + strings.Join(all, ",") + "}'::text[]"
	}
	o := pgx.Identifier{own}.Sanitize()
	return `select (select version from ` + o + `.schema_version limit 1),
	exists (select 1 from ` + o + `.tasks), exists (select 1 from ` + o + `.conversations), exists (select 1 from ` + o + `.users),
	current_schema(),
	(select coalesce(json_agg(json_build_object('table', c.relname, 'name', a.attname, 'type', t.typname,
		'notnull', a.attnotnull, 'default', a.atthasdef or a.attidentity <> '' or a.attgenerated <> '',
		'maxchars', case when t.typname in ('varchar', 'bpchar') and a.atttypmod > 4 then a.atttypmod - 4 end)
		order by c.relname, a.attnum), '[]')
	from pg_class c
	join pg_namespace n on n.oid = c.relnamespace
	join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
	join pg_type t on t.oid = a.atttypid
	where n.nspname = current_schema() and n.nspname <> '` + own + `' and c.relkind in ('r', 'p') and c.relname = any (` + names + `)),
	(select coalesce(json_agg(json_build_object('table', c.relname, 'name', a.attname)), '[]')
	from pg_index i
	join pg_class c on c.oid = i.indrelid
	join pg_namespace n on n.oid = c.relnamespace
	join pg_attribute a on a.attrelid = c.oid and a.attnum = i.indkey[0]
	where n.nspname = current_schema() and c.relname = any (` + names + `))`
}

func scanInspection(row pgx.Row) (inspection, error) {
	var in inspection
	var version *int32
	var cols, idx []byte
	if err := row.Scan(&version, &in.ownTasks, &in.ownConvs, &in.ownUsers, &in.appSchema, &cols, &idx); err != nil {
		return in, err
	}
	if version != nil {
		in.version = *version
	}
	if err := json.Unmarshal(cols, &in.columns); err != nil {
		return in, fmt.Errorf("read the catalog: %w", err)
	}
	var indexes []column
	if err := json.Unmarshal(idx, &indexes); err != nil {
		return in, fmt.Errorf("read the catalog: %w", err)
	}
	in.indexed = map[string][]string{}
	for _, c := range indexes {
		in.indexed[c.Table] = append(in.indexed[c.Table], c.Name)
	}
	return in, nil
}

// table returns the columns of the first candidate name the application
// schema has, by name.
func (in inspection) table(candidates []string) (string, map[string]column) {
	for _, name := range candidates {
		cols := map[string]column{}
		for _, c := range in.columns {
			if c.Table == name {
				cols[c.Name] = c
			}
		}
		if len(cols) > 0 {
			return name, cols
		}
	}
	return "", nil
}

var (
	intTypes  = []string{"int2", "int4", "int8"}
	textTypes = []string{"text", "varchar", "bpchar"}
	userTypes = []string{"text", "varchar", "bpchar", "uuid", "int2", "int4", "int8"}
	timeTypes = []string{"timestamp", "timestamptz"}
)

// shape checks a candidate table's columns against what taskchat needs and
// collects why it cannot be adopted.
type shape struct {
	cols    map[string]column
	known   []string
	reasons []string
}

// need requires a column of one of types; it returns whether it is there.
func (s *shape) need(name string, types []string, what string) bool {
	s.known = append(s.known, name)
	c, ok := s.cols[name]
	switch {
	case !ok:
		s.reasons = append(s.reasons, fmt.Sprintf("it has no %s column", name))
	case !slices.Contains(types, c.Type):
		s.reasons = append(s.reasons, fmt.Sprintf("its %s column is %s, and taskchat needs %s", name, c.Type, what))
	default:
		return true
	}
	return false
}

// numbered requires an integer id that the database fills in.
func (s *shape) numbered(what string) {
	if s.need("id", intTypes, "integers (the frontends and the tools number "+what+")") && !s.cols["id"].Default {
		s.reasons = append(s.reasons, "its id column has no default (serial or identity) to number new rows")
	}
}

// optional notes a column taskchat uses when it is there.
func (s *shape) optional(name string, types []string) bool {
	s.known = append(s.known, name)
	c, ok := s.cols[name]
	return ok && slices.Contains(types, c.Type)
}

// fillable refuses a column taskchat would have to fill but cannot: NOT
// NULL, with no default, and not one it writes.
func (s *shape) fillable(table string) {
	names := make([]string, 0, len(s.cols))
	for n := range s.cols {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		c := s.cols[n]
		if c.NotNull && !c.Default && !slices.Contains(s.known, n) {
			s.reasons = append(s.reasons, fmt.Sprintf("its column %s is NOT NULL with no default, which taskchat cannot fill (fix: alter table %s alter column %s drop not null, or give it a default)", n, table, n))
		}
	}
}

func userCast(c column) string {
	switch c.Type {
	case "uuid":
		return "::uuid"
	case "int2", "int4", "int8":
		return "::bigint"
	}
	return ""
}

func maxChars(c column) int {
	if c.MaxChars != nil {
		return *c.MaxChars
	}
	return 0
}

// plan decides where tasks and conversations live and what to report.
func plan(own string, in inspection) *schema {
	s := &schema{own: own}
	s.tasks = ownTasks(own)
	s.convs = ownConvs(own)
	ownNote := func(kind string) string {
		return fmt.Sprintf("taskchat keeps its %s in %s.%s instead", kind, own, kind)
	}

	if name, cols := in.table(taskTableNames); name != "" {
		qual := in.appSchema + "." + name
		t, reasons := adoptTasks(in.appSchema, name, cols)
		if in.ownTasks {
			reasons = append(reasons, fmt.Sprintf("%s.tasks already holds tasks, which adopting it would hide", own))
		}
		if len(reasons) > 0 {
			s.problems = append(s.problems, fmt.Sprintf("%s was not adopted: %s; %s.", qual, strings.Join(reasons, "; "), ownNote("tasks")))
		} else {
			s.tasks = t
			s.adopted = append(s.adopted, qual)
			s.problems = append(s.problems, unindexed(in, name, "user_id")...)
		}
	}

	convName, convCols := in.table(convTableNames)
	msgName, msgCols := in.table(msgTableNames)
	switch {
	case convName == "" && msgName == "":
	case convName == "" || msgName == "":
		found := in.appSchema + "." + convName + msgName
		s.problems = append(s.problems, fmt.Sprintf("%s was not adopted: taskchat adopts conversations and messages together, and only one of them exists; %s.", found, ownNote("conversations")))
	default:
		c, reasons := adoptConversations(in.appSchema, convName, convCols, msgName, msgCols)
		if in.ownConvs {
			reasons = append(reasons, fmt.Sprintf("%s.conversations already holds conversations, which adopting them would hide", own))
		}
		quals := in.appSchema + "." + convName + " and " + in.appSchema + "." + msgName
		if len(reasons) > 0 {
			s.problems = append(s.problems, fmt.Sprintf("%s were not adopted: %s; %s.", quals, strings.Join(reasons, "; "), ownNote("conversations")))
		} else {
			c.toolCalls = pgx.Identifier{own, "message_tool_calls"}.Sanitize()
			c.activity = ""
			s.convs = c
			s.adopted = append(s.adopted, in.appSchema+"."+convName, in.appSchema+"."+msgName)
			s.problems = append(s.problems, unindexed(in, convName, "user_id")...)
			s.problems = append(s.problems, unindexed(in, msgName, "conversation_id")...)
		}
	}
	s.users = ownUsers(own)
	if name, cols := in.table(userTableNames); name != "" {
		qual := in.appSchema + "." + name
		u, reasons := adoptUsers(in.appSchema, name, cols)
		_, betterAuth := in.table(betterAuthNames)
		_, camel := cols["emailVerified"]
		switch {
		case camel || (name == "user" && betterAuth != nil):
			// Better Auth's: its passwords are elsewhere, and its tables are
			// never touched. Nothing to report.
		case len(reasons) == 0 && in.ownUsers:
			s.problems = append(s.problems, fmt.Sprintf("%s was not adopted: %s.users already holds accounts, which adopting it would hide; taskchat keeps its accounts in %s.users instead.", qual, own, own))
		case len(reasons) > 0:
			s.problems = append(s.problems, fmt.Sprintf("%s was not adopted: %s; taskchat keeps its accounts in %s.users instead.", qual, strings.Join(reasons, "; "), own))
		default:
			s.users = u
			s.adopted = append(s.adopted, qual)
		}
	}
	s.sql = buildStatements(s)
	return s
}

// passwordColumns are the names the surveyed backends give a password hash.
var passwordColumns = []string{"password_hash", "hashed_password", "password"}

func adoptUsers(app, name string, cols map[string]column) (userTable, []string) {
	s := &shape{cols: cols}
	s.need("id", userTypes, "text, a uuid or an integer")
	id := cols["id"]
	if slices.Contains(intTypes, id.Type) && !id.Default {
		s.reasons = append(s.reasons, "its id column is an integer with no default (serial or identity) to number new accounts")
	}
	s.need("email", textTypes, "text")
	pw := ""
	for _, c := range passwordColumns {
		if _, ok := cols[c]; ok && pw == "" {
			pw = c
		}
	}
	if pw == "" {
		s.reasons = append(s.reasons, "it has no password_hash column")
	} else {
		s.need(pw, textTypes, "text")
	}
	u := userTable{table: pgx.Identifier{app, name}.Sanitize(), adopted: true, password: pgx.Identifier{pw}.Sanitize(),
		idType: id.Type, hashMax: maxChars(cols[pw])}
	u.name = s.optional("name", textTypes)
	u.nameRequired = u.name && cols["name"].NotNull
	if s.optional("created_at", timeTypes) {
		u.created, u.naive = true, cols["created_at"].Type == "timestamp"
	}
	u.updated = s.optional("updated_at", timeTypes)
	u.active = s.optional("is_active", []string{"bool"})
	u.verified = s.optional("email_verified", []string{"bool"})
	s.fillable(app + "." + name)
	return u, s.reasons
}

// unindexed reports an adopted table with no index to serve a user's rows.
func unindexed(in inspection, table, col string) []string {
	if slices.Contains(in.indexed[table], col) {
		return nil
	}
	q := in.appSchema + "." + table
	return []string{fmt.Sprintf("%s has no index on %s, so reading a user's rows scans the table (fix: create index on %s (%s))", q, col, q, col)}
}

func adoptTasks(app, name string, cols map[string]column) (taskTable, []string) {
	s := &shape{cols: cols}
	s.numbered("tasks")
	hasUser := s.need("user_id", userTypes, "text, a uuid or an integer")
	s.need("title", textTypes, "text")
	completed := "completed"
	if _, ok := cols["completed"]; !ok {
		if _, ok := cols["is_completed"]; ok {
			completed = "is_completed"
		}
	}
	s.need(completed, []string{"bool"}, "a boolean")
	hasCreated := s.need("created_at", timeTypes, "a timestamp")
	s.need("updated_at", timeTypes, "a timestamp")
	hasDesc := s.optional("description", textTypes)
	prioText := s.optional("priority", textTypes)
	prioInt := !prioText && s.optional("priority", []string{"int2", "int4", "int8"})
	dueName := ""
	for _, n := range []string{"due_date", "due_at", "deadline"} {
		if s.optional(n, []string{"date", "timestamp", "timestamptz"}) && dueName == "" {
			dueName = n
		}
	}
	s.fillable(app + "." + name)
	if len(s.reasons) > 0 {
		return taskTable{}, s.reasons
	}
	t := taskTable{
		table: pgx.Identifier{app, name}.Sanitize(), adopted: true,
		completed: pgx.Identifier{completed}.Sanitize(),
		naive:     hasCreated && cols["created_at"].Type == "timestamp",
		titleMax:  maxChars(cols["title"]),
	}
	if hasUser {
		t.userCast = userCast(cols["user_id"])
	}
	if hasDesc {
		t.description = true
		t.descNullable = !cols["description"].NotNull
		t.descMax = maxChars(cols["description"])
	}
	if prioText || prioInt {
		t.priority, t.priorityInt = pgx.Identifier{"priority"}.Sanitize(), prioInt
		t.priorityRequired = cols["priority"].NotNull && !cols["priority"].Default
	}
	if dueName != "" {
		t.due, t.dueKind = pgx.Identifier{dueName}.Sanitize(), cols[dueName].Type
	}
	return t, nil
}

func adoptConversations(app, convName string, convCols map[string]column, msgName string, msgCols map[string]column) (convTables, []string) {
	cs := &shape{cols: convCols}
	cs.numbered("conversations")
	cs.need("user_id", userTypes, "text, a uuid or an integer")
	cs.need("created_at", timeTypes, "a timestamp")
	cs.need("updated_at", timeTypes, "a timestamp")
	hasTitle := cs.optional("title", textTypes)
	cs.fillable(app + "." + convName)

	ms := &shape{cols: msgCols}
	ms.numbered("messages")
	ms.need("conversation_id", intTypes, "an integer")
	ms.need("role", textTypes, "text")
	ms.need("content", textTypes, "text")
	ms.need("created_at", timeTypes, "a timestamp")
	hasUser := ms.optional("user_id", userTypes)
	ms.fillable(app + "." + msgName)

	reasons := slices.Concat(cs.reasons, ms.reasons)
	if len(reasons) > 0 {
		return convTables{}, reasons
	}
	c := convTables{
		conv: pgx.Identifier{app, convName}.Sanitize(), msgs: pgx.Identifier{app, msgName}.Sanitize(), adopted: true,
		convUserCast: userCast(convCols["user_id"]), convNaive: convCols["created_at"].Type == "timestamp",
		msgNaive: msgCols["created_at"].Type == "timestamp", convTitle: hasTitle,
		contentMax: maxChars(msgCols["content"]),
	}
	if hasUser {
		c.msgUser = true
		c.msgUserCast = userCast(msgCols["user_id"])
	}
	return c, nil
}

// acceptsUser reports whether a user id fits a user_id column of the type
// that cast names: any string for text, a UUID or a number otherwise.
func acceptsUser(cast, userID string) bool {
	switch cast {
	case "::uuid":
		return uuidPattern.MatchString(userID)
	case "::bigint":
		_, err := strconv.ParseInt(userID, 10, 64)
		return err == nil
	}
	return true
}

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$`)
