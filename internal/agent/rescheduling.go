package agent

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/taskchat/taskchat/internal/dates"
)

// Changing a task's priority and due date: "push the dentist task to
// Monday", "make task 2 high priority", "task 3 is due on the 15th"; and
// the executor's side of it.

// shiftVerbs move a task in time: their value is a due date.
var shiftVerbs = []string{"push", "postpone", "reschedule", "delay", "defer", "move", "shift", "bump", "schedule", "bring"}

// priorityVerbs set a priority by themselves.
var priorityVerbs = map[string]attrs{
	"prioritize": {priority: "high"}, "prioritise": {priority: "high"}, "deprioritize": {priority: "low"},
	"deprioritise": {priority: "low"}, "raise": {step: 1}, "increase": {step: 1}, "lower": {step: -1},
	"decrease": {step: -1}, "reduce": {step: -1}, "escalate": {priority: "high"},
}

// scheduleVerbs open a change of priority or due date.
var scheduleVerbs = []string{"set", "make", "mark", "flag", "change", "update", "edit", "modify", "adjust", "amend",
	"alter", "give", "add", "remove", "clear", "drop", "delete", "unset", "reset", "bump"}

// fields of a change: which one, by the words that name it.
func fieldAt(c clause, i int) (string, int) {
	j := i
	for slices.Contains([]string{"the", "a", "its", "their", "new"}, c.word(j)) {
		j++
	}
	switch {
	case c.word(j) == "due" && c.word(j+1) == "date", c.word(j) == "due" && c.word(j+1) == "time":
		return "due", j + 2 - i
	case slices.Contains([]string{"deadline", "due", "date"}, c.word(j)):
		return "due", j + 1 - i
	case slices.Contains(priorityNouns, c.word(j)):
		return "priority", j + 1 - i
	}
	return "", 0
}

// parseSchedule reads a change of a task's priority or due date:
//
//   - field first: "set the priority of task 3 to high", "move the deadline
//     for task 0 to Monday", "add a due date to task 1: March 3", "remove
//     the due date from task 2", "lower the priority of task 2";
//   - task first: "make task 2 high priority", "mark it as urgent", "push
//     the dentist task to Monday", "set task 3 due Friday", "change task 1
//     to high priority and due tomorrow", "prioritize the ferns";
//   - a statement: "task 2 is due on Friday", "the ferns task is urgent".
func parseSchedule(c clause) (intent, bool) {
	w := c.word(0)
	pv, isPriorityVerb := priorityVerbs[w]
	shift := slices.Contains(shiftVerbs, w)
	if !isPriorityVerb && !shift && !slices.Contains(scheduleVerbs, w) {
		return parseScheduleStatement(c)
	}
	body := c.sub(1, c.n())
	if w == "bump" && body.word(0) == "up" {
		body = body.sub(1, body.n())
	}
	// "bump task 2 up", "bump up task 2", "bump the bank task down": its
	// priority, a step.
	if w == "bump" {
		obj, step := body, 1
		switch {
		case c.word(1) == "up":
		case obj.word(obj.n()-1) == "up":
			obj = obj.sub(0, obj.n()-1)
		case obj.word(obj.n()-1) == "down":
			obj, step = obj.sub(0, obj.n()-1), -1
		case obj.word(0) == "down":
			obj, step = obj.sub(1, obj.n()), -1
		default:
			step = 0
		}
		if step != 0 {
			if refs := parseRefs(obj); !refs.empty() && refs.whole.kind != refVague && !bulk(obj) {
				return scheduleUpdate(refs, attrs{step: step}), true
			}
		}
	}
	// Field first.
	if field, n := fieldAt(body, 0); n > 0 && slices.Contains([]string{"of", "for", "on", "to", "from", "in"}, body.word(n)) {
		rest := body.sub(n+1, body.n())
		removing := slices.Contains([]string{"remove", "clear", "drop", "delete", "unset"}, w)
		// "… of task 3 to high", "… to task 1: March 3".
		for i := 1; i <= rest.n(); i++ {
			sep := 0
			if i < rest.n() {
				sep = rest.longest(i, phrases("to", "as", ":", "=", "is", "->", "until", "till", "for", "-", "—", "of"))
			}
			if i < rest.n() && sep == 0 {
				continue
			}
			refs := parseRefs(rest.sub(0, i))
			if refs.empty() || refs.whole.kind == refVague {
				continue
			}
			switch {
			case removing && i == rest.n():
				return scheduleUpdate(refs, attrs{priority: noneIf(field == "priority"), due: noneIf(field == "due")}), true
			case i == rest.n() && isPriorityVerb && field == "priority":
				return scheduleUpdate(refs, pv), true
			case i == rest.n():
				continue
			}
			value := rest.sub(i+sep, rest.n())
			if a, ok := fieldValue(value, field); ok {
				return scheduleUpdate(refs, a), true
			}
		}
		what := map[string]string{"priority": "What priority should it have: low, medium or high?",
			"due": "When should it be due? For example: \"Set the due date of task 2 to Friday\"."}[field]
		return intent{kind: intentAsk, say: what}, true
	}
	// "prioritize task 2", "lower task 2's priority".
	if isPriorityVerb {
		obj := body
		if k := tailLen(obj, phrases("'s priority", "priority")); k > 0 {
			obj = obj.sub(0, obj.n()-k)
		}
		if refs := parseRefs(obj); !refs.empty() && refs.whole.kind != refVague && !bulk(obj) {
			return scheduleUpdate(refs, pv), true
		}
		return intent{}, false
	}
	// Task first: the task, then a separator or not, then what to set. An
	// add makes a task ("add call mom for Friday"); it changes none.
	if slices.Contains([]string{"add", "remove", "clear", "drop", "delete", "unset", "reset"}, w) {
		return intent{}, false
	}
	seps := phrases("to", "as", "into", ":", "=", "->", "up to")
	if shift {
		seps = phrases("to", "as", "into", ":", "=", "->", "until", "till", "for", "back to", "out to", "up to", "forward to", "over to")
	}
	for i := 1; i < body.n(); i++ {
		sep := body.longest(i, seps)
		k := i + sep // no separator: "make task 2 high priority"
		obj := body.sub(0, i)
		if obj.has(descFields) || obj.has(titleFields) {
			break // "change the description of task 4 to before 9pm"
		}
		if k := tailLen(obj, phrases("'s", "up", "back", "out")); k > 0 {
			obj = obj.sub(0, obj.n()-k)
		}
		refs := parseRefs(obj)
		if refs.empty() || refs.whole.kind == refVague || bulk(obj) {
			continue
		}
		if w == "schedule" && refs.whole.kind == refTitle && !obj.has(phrases("task", "one", "item", "todo")) {
			return intent{}, false // "schedule a call with Sam for Friday" adds one
		}
		value := body.sub(k, body.n())
		if value.n() == 0 {
			continue
		}
		if shift && sep == 0 {
			if d, ok := relativeShift(value); ok {
				return scheduleUpdate(refs, attrs{shift: d}), true
			}
		}
		a, ok := attrList(value, 0, shift || sep > 0, sep > 0 || w != "change" && w != "update")
		if !ok {
			if shift && sep > 0 && slices.Contains([]string{"to", "until", "till", "for"}, body.word(i)) && w != "move" && w != "put" {
				a, ok = attrs{bad: value.text(0, value.n())}, true
			}
		}
		if ok {
			if shift && a.priority != "" && w != "bump" {
				continue
			}
			return scheduleUpdate(refs, a), true
		}
	}
	// "make everything high priority", "push all my tasks to Monday":
	// many tasks at once, which taskchat never changes.
	for i := 1; i < body.n(); i++ {
		if obj := body.sub(0, i); bulk(obj) || obj.n() == 1 && obj.word(0) == "everything" {
			if _, ok := attrList(body.sub(i, body.n()), 0, true, true); ok || body.longest(i, seps) > 0 {
				return intent{kind: intentRefuse, say: "I change priorities and due dates one task at a time, so nothing changes by accident. Say \"show my tasks\" to see their numbers, then for example \"make task 3 high priority\"."}, true
			}
		}
	}
	return intent{}, false
}

// parseScheduleStatement reads a task named and then what it is: "task 2
// is due on Friday", "it's high priority", "the ferns task is urgent",
// "task 3 due Friday", "the report deadline is Monday".
func parseScheduleStatement(c clause) (intent, bool) {
	for i := 1; i < c.n(); i++ {
		k := c.longest(i, phrases("is", "'s", "are", "is now", "should be", "needs to be done", "has to be done",
			"must be done", "needs doing", "has", "now"))
		obj := c.sub(0, i)
		if m := tailLen(obj, phrases("'s deadline", "deadline", "'s due date", "due date")); m > 0 {
			k, obj = 0, obj.sub(0, obj.n()-m)
			if a, ok := fieldValue(c.sub(i+c.sub(i, c.n()).longest(0, phrases("is", ":", "-", "=")), c.n()), "due"); ok {
				return namedUpdate(obj, a)
			}
			continue
		}
		value := c.sub(i+k, c.n())
		if value.n() == 0 {
			continue
		}
		if value.word(0) == "no" && value.sub(1, value.n()).longest(0, phrases("deadline", "due date", "priority")) == value.n()-1 {
			field := "due"
			if value.word(1) == "priority" {
				field = "priority"
			}
			return namedUpdate(obj, attrs{priority: noneIf(field == "priority"), due: noneIf(field == "due")})
		}
		a, ok := attrList(value, 0, false, k > 0)
		if !ok && k > 0 && value.word(0) == "done" && value.word(1) == "by" {
			a, ok = attrList(value, 1, true, false) // "needs to be done by Friday"
		}
		if ok {
			return namedUpdate(obj, a)
		}
	}
	return intent{}, false
}

// namedUpdate is a change to the task words name, when they name one for
// sure (a number, "it", a position, or a title with "task" or "one"): a
// title alone ("the rent is due Friday") is no request.
func namedUpdate(obj clause, a attrs) (intent, bool) {
	obj = obj.trimPunct()
	refs := parseRefs(obj)
	named := refs.whole.kind == refID || refs.whole.kind == refPronoun || refs.whole.kind == refPosition ||
		refs.whole.kind == refTitle && obj.has(phrases("task", "one", "item", "todo"))
	if !named || bulk(obj) {
		return intent{}, false
	}
	return scheduleUpdate(refs, a), true
}

// fieldValue reads the value of a named field: for a priority a level
// ("high", "top", "none"), for a due date a date ("Friday", "none").
func fieldValue(v clause, field string) (attrs, bool) {
	v = v.trimPunct()
	if v.n() == 0 {
		return attrs{}, false
	}
	if v.n() == 1 && slices.Contains([]string{"none", "nothing", "blank", "empty"}, v.word(0)) {
		return attrs{priority: noneIf(field == "priority"), due: noneIf(field == "due")}, true
	}
	if field == "priority" {
		if lvl := priorityLevels[v.word(0)]; lvl != "" && (v.n() == 1 || v.n() == 2 && slices.Contains(priorityNouns, v.word(1))) {
			return attrs{priority: lvl}, true
		}
		return attrs{}, false
	}
	if text := dueWords(v, 0, v.n()); dates.Whole(text) {
		return attrs{due: text}, true
	}
	return attrs{bad: v.text(0, v.n())}, true
}

// relativeShift reads how far to move a due date: "back a week", "by 2
// days", "out three days", "forward a day", "a month later".
func relativeShift(v clause) (shift, bool) {
	v = v.trimPunct()
	sign, i := 1, 0
	switch v.word(0) {
	case "back", "out", "later", "ahead":
		i++
	case "forward", "earlier", "up":
		sign, i = -1, 1
	}
	if v.word(i) == "by" {
		i++
	}
	n := int64(1)
	switch {
	case slices.Contains([]string{"a", "an", "one"}, v.word(i)):
		i++
	case i < v.n() && v.toks[i].kind == tNumber:
		n = v.toks[i].num
		i++
	default:
		num, k := readNumber(v.toks[i:])
		if k == 0 {
			return shift{}, false
		}
		n, i = num, i+k
	}
	if n < 1 || n > 366 {
		return shift{}, false
	}
	var d shift
	switch strings.TrimSuffix(v.word(i), "s") {
	case "day":
		d.days = int(n)
	case "week":
		d.days = 7 * int(n)
	case "month":
		d.months = int(n)
	default:
		return shift{}, false
	}
	i++
	switch v.word(i) {
	case "later", "back", "out":
		i++
	case "earlier", "sooner":
		sign, i = -1, i+1
	}
	if i != v.n() {
		return shift{}, false
	}
	d.days, d.months = sign*d.days, sign*d.months
	return d, true
}

func noneIf(b bool) string {
	if b {
		return "none"
	}
	return ""
}

// scheduleUpdate is a change of attributes only, to the tasks refs names.
func scheduleUpdate(refs refGroup, a attrs) intent {
	return intent{kind: intentUpdate, splits: []updateSplit{{target: refs}}, set: a}
}

// ---- acting on them

// levels are the priorities, lowest first, for "raise" and "lower".
var levels = []string{"low", "medium", "high"}

// schedule sets a task's priority and due date as the message asked.
func (x *executor) schedule(target *listItem, set attrs) (string, error) {
	args := updateArgs{TaskID: TaskID(target.ID)}
	if set.bad != "" {
		return dueAsk(fmt.Sprintf("I couldn't read %q as a date", set.bad)), nil
	}
	var parts []string
	switch {
	case set.step != 0:
		cur, err := x.priorityOf(target)
		if err != nil {
			return "", err
		}
		i := slices.Index(levels, cur)
		if i < 0 {
			i = 1 // no priority counts as medium
		}
		next := levels[max(0, min(len(levels)-1, i+set.step))]
		if next == cur {
			return fmt.Sprintf("Task %d is already at %s priority, so I left it there.", target.ID, cur), nil
		}
		args.Priority = &next
		parts = append(parts, next+" priority")
	case set.priority == "none":
		none := "none"
		args.Priority = &none
		parts = append(parts, "no priority")
	case set.priority != "":
		p := set.priority
		args.Priority = &p
		parts = append(parts, p+" priority")
	}
	switch {
	case set.shift != shift{}:
		cur, err := x.dueOfTask(target)
		if err != nil {
			return "", err
		}
		if cur == "" {
			return fmt.Sprintf("Task %d has no due date to move. Say when it's due, for example \"push task %d to Friday\".", target.ID, target.ID), nil
		}
		exact, said, problem := x.moved(cur, set.shift)
		if problem != "" {
			return dueAsk(problem), nil
		}
		args.DueDate = &exact
		parts = append(parts, "due "+said)
	case set.due == "none":
		none := "none"
		args.DueDate = &none
		parts = append(parts, "no due date")
	case set.due != "":
		exact, said, problem := x.dueArg(set.due)
		if problem != "" {
			return dueAsk(problem), nil
		}
		args.DueDate = &exact
		parts = append(parts, "due "+said)
	}
	res, err := call(x.ctx, x.tb, ToolUpdateTask, (*Toolbox).updateTask, args)
	if err != nil {
		return friendly(err)
	}
	x.last = &listItem{ID: res.TaskID, Title: res.Title}
	return fmt.Sprintf("Updated task %d %q: %s.", res.TaskID, res.Title, strings.Join(parts, ", ")), nil
}

// dueOfTask is a task's due date as the list says it ("" for none).
func (x *executor) dueOfTask(t *listItem) (string, error) {
	if t.DueAt != nil {
		return *t.DueAt, nil
	}
	items, err := x.allTasks()
	if err != nil {
		return "", err
	}
	for _, it := range items {
		if it.ID == t.ID {
			return deref(it.DueAt), nil
		}
	}
	return "", nil
}

// moved is a listed due date (a date or an RFC 3339 moment) moved by d, in
// the person's zone, as dueArg returns it.
func (x *executor) moved(cur string, d shift) (exact, said, problem string) {
	now, zone, today := x.tb.clock()
	if t, err := time.Parse("2006-01-02", cur); err == nil {
		t = t.AddDate(0, d.months, d.days)
		if t.Before(today) {
			return "", "", fmt.Sprintf("that would be %s, which is already past", sayDue(t, true, now, zone))
		}
		return t.Format("2006-01-02"), sayDue(t, true, now, zone), ""
	}
	t, err := time.Parse(time.RFC3339, cur)
	if err != nil {
		return "", "", fmt.Sprintf("I couldn't read its due date %q", cur)
	}
	t = t.In(zone).AddDate(0, d.months, d.days)
	if t.Before(now) {
		return "", "", fmt.Sprintf("that would be %s, which is already past", sayDue(t, false, now, zone))
	}
	return t.Format(time.RFC3339), sayDue(t, false, now, zone), ""
}

// priorityOf is a task's priority as the list says it ("" for none).
func (x *executor) priorityOf(t *listItem) (string, error) {
	if t.Priority != nil {
		return *t.Priority, nil
	}
	items, err := x.allTasks()
	if err != nil {
		return "", err
	}
	for _, it := range items {
		if it.ID == t.ID {
			return deref(it.Priority), nil
		}
	}
	return "", nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
