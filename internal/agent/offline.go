package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/taskchat/taskchat/internal/store"
)

// Offline is the agent that needs no model: it reads the message with the
// parser (parse.go) and calls the tools itself. It is deterministic: the
// same message against the same tasks and history gives the same answer.
//
// It acts only on tasks the words pick out without doubt — a number, or a
// title that matches exactly one task — and asks otherwise; it never
// claims an action that did not happen.
type Offline struct{}

// Name implements Agent.
func (Offline) Name() string { return "offline" }

// Instant implements Agent: the parser never waits.
func (Offline) Instant() bool { return true }

// Respond implements Agent.
func (o Offline) Respond(ctx context.Context, in Input) (Reply, error) {
	x := &executor{ctx: ctx, tb: in.Tools, history: in.History}
	intents := parse(in.Message)
	acted := slices.ContainsFunc(intents, func(i intent) bool { return i.kind >= intentList })
	var out []string
	for i, it := range intents {
		if acted && it.kind < intentList {
			continue // "Hey! Add a task …": the greeting needs no answer of its own
		}
		text, err := x.run(it)
		if err != nil {
			return Reply{}, err
		}
		if text != "" && !slices.Contains(out, text) {
			out = append(out, text)
		}
		if len(x.tb.calls) >= MaxCalls && i < len(intents)-1 {
			out = append(out, fmt.Sprintf("That's as much as I do for one message (%d actions); send the rest in another.", MaxCalls))
			break
		}
	}
	if len(out) == 0 {
		out = append(out, unknownReply)
	}
	text := strings.Join(out, "\n")
	if in.Text != nil {
		// One delta a line: a reply in a few pieces, as a frontend that
		// streams expects.
		for line := range strings.SplitAfterSeq(text, "\n") {
			in.Text(line)
		}
	}
	return Reply{Text: text, Agent: o.Name()}, nil
}

const examples = "Try \"Add a task to buy groceries\", \"What's pending?\", \"Mark task 3 as done\", \"Change task 1 to 'Call mom tonight'\" or \"Delete the meeting task\"."

const (
	greetReply   = "Hi! I'm your task assistant. I can add, list, complete, update and delete your tasks. " + examples
	thanksReply  = "You're welcome! Anything else for your list?"
	byeReply     = "Goodbye! Your tasks will be here when you come back."
	declineReply = "OK, nothing changed. I'm here when you need me."
	unknownReply = "Sorry, I didn't understand that. I can add, list, complete, update and delete tasks. " + examples
	helpReply    = "I manage your to-do list. You can say:\n" +
		"- \"Add a task to buy groceries\" or \"Remind me to call mom\"\n" +
		"- \"Show me all my tasks\", \"What's pending?\" or \"What have I completed?\"\n" +
		"- \"Mark task 3 as complete\" or \"I finished buying groceries\"\n" +
		"- \"Change task 1 to 'Call mom tonight'\" or \"Rename 2 to Pay rent\"\n" +
		"- \"Add a note to task 2: bring the receipts\"\n" +
		"- \"Add pay rent, high priority, due Friday\", \"Push task 2 to Monday\" or \"What's due this week?\"\n" +
		"- \"Delete task 4\" or \"Delete the meeting task\"\n" +
		"After a list, \"the second one\" means its second task, and \"it\" the task we last talked about."
)

// executor runs one message's intents against the user's tasks.
type executor struct {
	ctx     context.Context
	tb      *Toolbox
	history func(context.Context) ([]store.Message, error)

	tasks  []listItem // the user's tasks, read once when a title needs them
	listed bool
	more   bool      // tasks holds the first MaxListed of more
	last   *listItem // the task this message last named, for "it"
	// unresolved: this message named a task that could not be told for
	// sure, so its "it" means no task.
	unresolved bool
	acted      intentKind // the last completion or deletion this message made
	context    *talk      // what the conversation's history says, read when needed
}

// talk is what the conversation's stored history says about tasks: the
// last list shown, and the last task acted on.
type talk struct {
	listing   []listItem
	lastID    int64
	lastTitle string
	action    intentKind // the last completion or deletion: intentComplete, intentDelete or intentUnknown
}

func (x *executor) run(it intent) (string, error) {
	switch it.kind {
	case intentGreet:
		return greetReply, nil
	case intentHelp:
		return helpReply, nil
	case intentThanks:
		return thanksReply, nil
	case intentBye:
		return byeReply, nil
	case intentDecline:
		return declineReply, nil
	case intentUnknown:
		return unknownReply, nil
	case intentRefuse, intentAsk:
		return it.say, nil
	case intentList:
		if it.agenda != (agenda{}) {
			return x.agenda(it)
		}
		res, err := listTasks(x.ctx, x.tb, it.filter)
		if err != nil {
			return "", err
		}
		return x.describeList(it.filter, res), nil
	case intentStatus:
		res, err := listTasks(x.ctx, x.tb, "all")
		if err != nil {
			return "", err
		}
		return x.describeList("all", res), nil
	case intentMention:
		return x.mention(it)
	case intentAdd:
		return x.add(it)
	case intentComplete, intentDelete:
		return x.act(it)
	case intentUpdate:
		return x.update(it)
	case intentAlso:
		kind, err := x.lastAction()
		if err != nil || kind == intentUnknown {
			return "Do what with it? Say for example \"mark task 3 as done\" or \"delete task 3\".", err
		}
		it.kind = kind
		return x.act(it)
	}
	return unknownReply, nil
}

func (x *executor) add(it intent) (string, error) {
	var out []string
	// Every due date is read before anything is added: one that cannot be
	// placed stops the whole message, unless it is the title's own words.
	args := make([]addArgs, len(it.adds))
	said := make([]string, len(it.adds))
	for i, nt := range it.adds {
		args[i] = addArgs{Title: nt.title, Description: nt.desc}
		a := nt.attrs
		if a.priority != "none" {
			args[i].Priority = a.priority
		}
		if a.bad != "" {
			return dueAsk(fmt.Sprintf("I couldn't read %q as a date", a.bad)), nil
		}
		var details []string
		if args[i].Priority != "" {
			details = append(details, args[i].Priority+" priority")
		}
		if a.due != "" && a.due != "none" {
			exact, when, problem := x.dueArg(a.due)
			switch {
			case problem != "" && a.implicit:
				it.note = strings.TrimSpace(it.note + " I didn't give it a due date: " + problem + ".")
			case problem != "":
				return dueAsk(problem), nil
			default:
				args[i].DueDate = exact
				details = append(details, "due "+when)
			}
		}
		if len(details) > 0 {
			said[i] = ", " + strings.Join(details, ", ")
		}
	}
	for i, nt := range it.adds {
		res, err := call(x.ctx, x.tb, ToolAddTask, (*Toolbox).addTask, args[i])
		if err != nil {
			msg, err := friendly(err)
			if err != nil {
				return "", err
			}
			out = append(out, msg)
			continue
		}
		x.last = &listItem{ID: res.TaskID, Title: res.Title}
		s := fmt.Sprintf("Added %q to your tasks (task %d%s).", res.Title, res.TaskID, said[i])
		if nt.desc != "" {
			s = fmt.Sprintf("Added %q to your tasks (task %d%s), with its description.", res.Title, res.TaskID, said[i])
		}
		out = append(out, s)
	}
	if it.note != "" {
		out = append(out, it.note)
	}
	return strings.Join(out, "\n"), nil
}

// agenda answers a question about the list: what is due by a date, what
// is overdue, the tasks of a priority.
func (x *executor) agenda(it intent) (string, error) {
	args, what, problem := x.agendaArgs(it.filter, it.agenda)
	if problem != "" {
		return problem, nil
	}
	res, err := call(x.ctx, x.tb, ToolListTasks, (*Toolbox).listTasks, args)
	if te, ok := errors.AsType[*ToolError](err); ok {
		err = fmt.Errorf("list_tasks: %s", te.Message)
	}
	if err != nil {
		return "", err
	}
	return x.describeAgenda(what, it.agenda, res), nil
}

// mention remembers the task a statement names, for a later "it", and
// offers what it could do with it.
func (x *executor) mention(it intent) (string, error) {
	if it.refs.empty() {
		return "OK, I'll leave your tasks as they are.", nil
	}
	t, reply, err := x.resolveOne(it.refs.whole, intentMention)
	if err != nil || t == nil {
		if it.quiet {
			x.unresolved = true // "it" is that task, which is no task for sure
			return reply, err
		}
		return "OK, I'll leave your tasks as they are.", err
	}
	x.last = t
	if it.quiet {
		return "", nil
	}
	return fmt.Sprintf("OK, I'll leave task %d %q as it is. Say \"delete it\" or \"mark it done\" if you want.", t.ID, t.Title), nil
}

// act completes or deletes the tasks a request names, each resolved
// without doubt, or asks.
func (x *executor) act(it intent) (string, error) {
	targets, ask, err := x.resolveGroup(it.refs, it.kind)
	if err != nil || ask != "" {
		return ask, err
	}
	var out []string
	for _, t := range targets {
		var res taskResult
		var err error
		if it.kind == intentComplete {
			res, err = call(x.ctx, x.tb, ToolCompleteTask, (*Toolbox).completeTask, idArgs{TaskID: TaskID(t.ID)})
		} else {
			res, err = call(x.ctx, x.tb, ToolDeleteTask, (*Toolbox).deleteTask, idArgs{TaskID: TaskID(t.ID)})
		}
		if err != nil {
			msg, err := friendly(err)
			if err != nil {
				return "", err
			}
			out = append(out, msg)
			continue
		}
		x.last = &listItem{ID: res.TaskID, Title: res.Title, Completed: it.kind == intentComplete}
		x.acted = it.kind
		if it.kind == intentComplete {
			out = append(out, fmt.Sprintf("Marked task %d %q as complete. Nice work!", res.TaskID, res.Title))
		} else {
			out = append(out, fmt.Sprintf("Deleted task %d %q.", res.TaskID, res.Title))
		}
	}
	return strings.Join(out, "\n"), nil
}

// update renames a task or changes its description: the first reading of
// the request whose task resolves without doubt.
func (x *executor) update(it intent) (string, error) {
	var chosen *updateSplit
	var target *listItem
	firstAsk := ""
	// A number, quotes, "it" or a position name the task at once; else an
	// exact title wins over a partial one ("rename drive to the airport to
	// …" is the task "Drive to the airport").
	for pass := 0; pass < 3 && chosen == nil; pass++ {
		for i := range it.splits {
			sp := &it.splits[i]
			r := sp.target.whole
			var t *listItem
			var ask string
			var err error
			switch {
			case pass == 0 && r.kind != refTitle:
				t, ask, err = x.resolveOne(r, intentUpdate)
			case pass == 1 && r.kind == refTitle:
				t, err = x.exactTitle(r)
			case pass == 2 && r.kind == refTitle:
				t, ask, err = x.resolveOne(r, intentUpdate)
			default:
				continue
			}
			if err != nil {
				return "", err
			}
			if t != nil {
				chosen, target = sp, t
				break
			}
			if firstAsk == "" {
				firstAsk = ask
			}
		}
	}
	if chosen == nil {
		return firstAsk, nil
	}
	if chosen.value == "" && !it.set.empty() {
		return x.schedule(target, it.set)
	}
	args := updateArgs{TaskID: TaskID(target.ID)}
	if it.descMode {
		args.Description = &chosen.value
	} else {
		t := capitalize(chosen.value)
		args.Title = &t
	}
	res, err := call(x.ctx, x.tb, ToolUpdateTask, (*Toolbox).updateTask, args)
	if err != nil {
		return friendly(err)
	}
	x.last = &listItem{ID: res.TaskID, Title: res.Title}
	if it.descMode {
		return fmt.Sprintf("Updated the description of task %d %q.", res.TaskID, res.Title), nil
	}
	return fmt.Sprintf("Updated task %d: it's now %q.", res.TaskID, res.Title), nil
}

// resolveGroup resolves the tasks a request names: the words as one task
// when they match one, else as several when each part does.
func (x *executor) resolveGroup(g refGroup, kind intentKind) ([]listItem, string, error) {
	if len(g.parts) == 0 {
		t, ask, err := x.resolveOne(g.whole, kind)
		if t == nil {
			return nil, ask, err
		}
		return []listItem{*t}, "", nil
	}
	if g.whole.kind == refTitle {
		if t, err := x.exactTitle(g.whole); err != nil || t != nil {
			if t == nil {
				return nil, "", err
			}
			return []listItem{*t}, "", nil
		}
	}
	var out []listItem
	for _, r := range g.parts {
		t, ask, err := x.resolveOne(r, kind)
		if err != nil || t == nil {
			if g.whole.kind == refTitle && r.kind == refTitle {
				// The parts do not each name a task: maybe the whole does.
				if t, ask2, err2 := x.resolveOne(g.whole, kind); t != nil || err2 != nil {
					if t == nil {
						return nil, ask2, err2
					}
					return []listItem{*t}, "", nil
				}
			}
			return nil, ask, err
		}
		if !slices.ContainsFunc(out, func(o listItem) bool { return o.ID == t.ID }) {
			out = append(out, *t)
		}
	}
	return out, "", nil
}

// resolveOne finds the one task a reference names, or says why not.
func (x *executor) resolveOne(r ref, kind intentKind) (*listItem, string, error) {
	switch r.kind {
	case refID:
		if r.id <= 0 {
			return nil, fmt.Sprintf("Task numbers are positive whole numbers; there is no task %d.", r.id), nil
		}
		// The tool says whether it exists, and whose it is.
		return &listItem{ID: r.id}, "", nil
	case refPronoun:
		if x.last != nil {
			return x.last, "", nil
		}
		if x.unresolved {
			return nil, "", nil // what was said about that task is the answer
		}
		t, err := x.talk()
		if err != nil {
			return nil, "", err
		}
		if t.lastID != 0 {
			return &listItem{ID: t.lastID, Title: t.lastTitle}, "", nil
		}
		return nil, "Which task do you mean? Tell me its number, or say \"show my tasks\" to see them.", nil
	case refPosition:
		return x.position(r.pos)
	case refTitle:
		return x.byTitle(r, kind)
	}
	return nil, "Which task do you mean? Tell me its number, or say \"show my tasks\" to see them.", nil
}

// position finds "the second one": in the list this conversation last
// showed, or else in the user's list as it is.
func (x *executor) position(pos int) (*listItem, string, error) {
	t, err := x.talk()
	if err != nil {
		return nil, "", err
	}
	items := t.listing
	if items == nil {
		if items, err = x.allTasks(); err != nil {
			return nil, "", err
		}
	}
	i := pos - 1
	if pos < 0 {
		i = len(items) + pos
	}
	if i < 0 || i >= len(items) {
		return nil, fmt.Sprintf("There is no task at that position: the list has %s. Say \"show my tasks\" to see them.", plural(len(items), "task")), nil
	}
	return &items[i], "", nil
}

func (x *executor) allTasks() ([]listItem, error) {
	if !x.listed {
		res, err := listTasks(x.ctx, x.tb, "all")
		if err != nil {
			return nil, err
		}
		x.tasks, x.more, x.listed = res.Tasks, res.More() > 0, true
	}
	return x.tasks, nil
}

// titleCandidates are the tasks a title reference is matched against: the
// user's list, or, when it is longer than list_tasks shows, the tasks
// whose titles hold the reference's words. crowded says even those are
// too many to tell apart.
func (x *executor) titleCandidates(r ref) (items []listItem, crowded bool, err error) {
	items, err = x.allTasks()
	if err != nil || !x.more {
		return items, false, err
	}
	words := searchWords(r)
	if len(words) == 0 {
		return nil, true, nil
	}
	return x.tb.searchTasks(x.ctx, words)
}

// exactTitle finds the one task whose title is the reference exactly, or nil.
func (x *executor) exactTitle(r ref) (*listItem, error) {
	items, _, err := x.titleCandidates(r)
	if err != nil {
		return nil, err
	}
	exact, _, _ := matchTitle(r, items)
	if len(exact) == 1 {
		return &exact[0], nil
	}
	return nil, nil
}

// byTitle finds the one task a title names: the exact title, else the one
// task that holds all its words. Of several, completion takes the single
// pending one; anything else is asked about, and so is a word that only
// begins a title word ("the car one" for "Carpet cleaning").
func (x *executor) byTitle(r ref, kind intentKind) (*listItem, string, error) {
	items, crowded, err := x.titleCandidates(r)
	if err != nil {
		return nil, "", err
	}
	if crowded {
		return nil, fmt.Sprintf("Too many of your tasks match %q for me to tell which one you mean. Tell me its number, or say \"show my tasks\".", refName(r)), nil
	}
	exact, partial, loose := matchTitle(r, items)
	found := exact
	if len(found) == 0 {
		found = partial
	}
	if kind == intentComplete && len(found) > 1 {
		pending := slices.DeleteFunc(slices.Clone(found), func(t listItem) bool { return t.Completed })
		if len(pending) == 1 {
			found = pending
		}
	}
	name := refName(r)
	switch {
	case len(found) == 1:
		return &found[0], "", nil
	case len(found) > 1:
		return nil, askWhich(name, found), nil
	case len(loose) > 0:
		return nil, didYouMean(name, loose), nil
	case r.verb != "":
		// "I booked a flight" with no such task: a report, not a request.
		return nil, "Nice! I don't have a task like that on your list, so nothing changed. Say \"add a task to …\" to add one.", nil
	}
	return nil, fmt.Sprintf("I couldn't find a task matching %q. Say \"show my tasks\" to see them all.", name), nil
}

// refName is how a reply quotes a reference.
func refName(r ref) string {
	m := tokenize(clean(r.text))
	c := trimRef(clause{m: &m, toks: m.toks})
	if s := unquote(c.text(0, c.n())); s != "" {
		return s
	}
	return unquote(r.text)
}

// talk reads what the conversation's history says: the last list shown
// (from a list_tasks result) and the last task acted on.
func (x *executor) talk() (*talk, error) {
	if x.context != nil {
		return x.context, nil
	}
	x.context = &talk{}
	if x.history == nil {
		return x.context, nil
	}
	msgs, err := x.history(x.ctx)
	if err != nil {
		return nil, err
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		m := msgs[i]
		for j := len(m.ToolCalls) - 1; j >= 0; j-- {
			c := m.ToolCalls[j]
			if x.context.action == intentUnknown && x.context.listing == nil && x.context.lastID == 0 {
				switch c.Tool {
				case ToolCompleteTask:
					x.context.action = intentComplete
				case ToolDeleteTask:
					x.context.action = intentDelete
				}
			}
			if c.Tool == ToolListTasks && x.context.listing == nil && x.context.lastID == 0 {
				if items := listedItems(c.Result); items != nil {
					x.context.listing = items
				}
			}
			if c.Tool != ToolListTasks && x.context.lastID == 0 {
				var r taskResult
				if json.Unmarshal(c.Result, &r) == nil && r.TaskID != 0 && r.Status != "deleted" {
					x.context.lastID, x.context.lastTitle = r.TaskID, r.Title
				}
			}
		}
		if x.context.listing != nil || x.context.lastID != 0 {
			break // the most recent turn that did something is what "it" and "the second one" mean
		}
	}
	return x.context, nil
}

// lastAction is what "… too" repeats: this message's last completion or
// deletion, or else the conversation's last turn's.
func (x *executor) lastAction() (intentKind, error) {
	if x.acted != intentUnknown {
		return x.acted, nil
	}
	t, err := x.talk()
	if err != nil {
		return intentUnknown, err
	}
	return t.action, nil
}

// listedItems reads a list_tasks result: a list, or an object holding one.
func listedItems(raw json.RawMessage) []listItem {
	var items []listItem
	if json.Unmarshal(raw, &items) == nil {
		return items
	}
	var obj struct {
		Tasks []listItem `json:"tasks"`
	}
	if json.Unmarshal(raw, &obj) == nil && obj.Tasks != nil {
		return obj.Tasks
	}
	return nil
}

// friendly words a tool error for the person; any other error (the store
// failed) aborts the turn.
func friendly(err error) (string, error) {
	te, ok := errors.AsType[*ToolError](err)
	switch {
	case !ok:
		return "", err
	case te.Kind == TaskNotFound:
		return fmt.Sprintf("I couldn't find task %d. Say \"show my tasks\" to see your task numbers.", te.TaskID), nil
	case te.Kind == TaskLimit:
		return "Your list is full: you have as many tasks as one person may keep. Delete some finished or old ones, and I'll add it.", nil
	}
	return "I couldn't do that: " + te.Message + ".", nil
}

func listTasks(ctx context.Context, tb *Toolbox, filter string) (listResult, error) {
	items, err := call(ctx, tb, ToolListTasks, (*Toolbox).listTasks, listArgs{Status: filter})
	if te, ok := errors.AsType[*ToolError](err); ok {
		err = fmt.Errorf("list_tasks: %s", te.Message)
	}
	return items, err
}

func plural(n int, one string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %ss", n, one)
}

func (x *executor) describeList(filter string, res listResult) string {
	items := res.Tasks
	var b strings.Builder
	if res.More() > 0 {
		what := map[string]string{"pending": "pending tasks", "completed": "completed tasks"}[filter]
		if what == "" {
			what = "tasks"
		}
		fmt.Fprintf(&b, "You have %d %s; here are %d of them, pending first, then the newest:", res.Total, what, len(items))
		x.writeItems(&b, items)
		fmt.Fprintf(&b, "\n…and %d more. Name a task by its number to work on it.", res.More())
		return b.String()
	}
	switch {
	case len(items) == 0 && filter == "pending":
		return "Nothing pending: you're all caught up!"
	case len(items) == 0 && filter == "completed":
		return "You haven't completed any tasks yet."
	case len(items) == 0:
		return "You have no tasks yet. Try \"Add a task to buy groceries\"."
	case filter == "pending":
		fmt.Fprintf(&b, "You have %s:", plural(len(items), "pending task"))
	case filter == "completed":
		fmt.Fprintf(&b, "You've completed %s:", plural(len(items), "task"))
	default:
		done := 0
		for _, t := range items {
			if t.Completed {
				done++
			}
		}
		fmt.Fprintf(&b, "You have %s (%d pending, %d completed):", plural(len(items), "task"), len(items)-done, done)
	}
	x.writeItems(&b, items)
	return b.String()
}

// writeItems writes one task a line, with its priority and due date:
// "- [ ] 5. Pay rent (high priority, due Friday, December 4, overdue)".
func (x *executor) writeItems(b *strings.Builder, items []listItem) {
	for _, t := range items {
		mark := " "
		if t.Completed {
			mark = "x"
		}
		fmt.Fprintf(b, "\n- [%s] %d. %s", mark, t.ID, t.Title)
		var extra []string
		if t.Priority != nil {
			extra = append(extra, *t.Priority+" priority")
		}
		if t.DueAt != nil {
			extra = append(extra, "due "+x.sayItemDue(*t.DueAt))
		}
		if t.Overdue {
			extra = append(extra, "overdue")
		}
		if len(extra) > 0 {
			fmt.Fprintf(b, " (%s)", strings.Join(extra, ", "))
		}
	}
}

func askWhich(text string, found []listItem) string {
	var b strings.Builder
	fmt.Fprintf(&b, "More than one task matches %q:", text)
	for _, t := range found {
		fmt.Fprintf(&b, "\n- task %d %q", t.ID, t.Title)
	}
	b.WriteString("\nWhich one do you mean? Tell me its number.")
	return b.String()
}

func didYouMean(text string, found []listItem) string {
	var b strings.Builder
	fmt.Fprintf(&b, "No task matches %q exactly. Did you mean", text)
	for i, t := range found {
		sep := ","
		if i == 0 {
			sep = ""
		} else if i == len(found)-1 {
			sep = " or"
		}
		fmt.Fprintf(&b, "%s task %d %q", sep, t.ID, t.Title)
	}
	b.WriteString("? Tell me its number and I'll do it.")
	return b.String()
}
