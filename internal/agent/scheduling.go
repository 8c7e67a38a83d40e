package agent

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/taskchat/taskchat/internal/dates"
)

// The parsers of a task's priority and due date: in an add ("add pay rent,
// high priority, due Friday"), as a change ("push the dentist task to
// Monday", "make task 2 high priority"), and in a question about the list
// ("what's due this week?", "anything overdue?", "show high priority
// tasks"). The parser reads where a date is, not which day it is: the
// executor reads it at the turn's moment, in the person's time zone, and
// asks about one it cannot place.

// attrs are what a message sets on a task besides its title and description.
type attrs struct {
	priority string // low, medium or high; "none" removes it; "" leaves it
	step     int    // +1 "raise the priority", -1 "lower it": a step from the task's own
	due      string // the due date as typed ("next friday"); "none" removes it
	shift    shift  // "push it back a week": the due date moved by so much
	// implicit: the due was read from words that stay in the title ("read
	// Dune by Sunday"); one that cannot be placed leaves the task undated
	// rather than stopping the add.
	implicit bool
	bad      string // a due phrase that is no date ("due whenever"): asked about
}

func (a attrs) empty() bool {
	return a.priority == "" && a.step == 0 && a.due == "" && a.bad == "" && a.shift == shift{}
}

// shift is how far a due date moves: days and months, later when positive.
type shift struct{ days, months int }

// with is a and b together, b's where both say one.
func (a attrs) with(b attrs) attrs {
	if b.priority != "" || b.step != 0 {
		a.priority, a.step = b.priority, b.step
	}
	if b.due != "" {
		a.due, a.implicit = b.due, b.implicit
	}
	if b.shift != (shift{}) {
		a.shift = b.shift
	}
	if b.bad != "" {
		a.bad = b.bad
	}
	return a
}

// priorityLevels are the words for each priority.
var priorityLevels = map[string]string{
	"high": "high", "top": "high", "highest": "high", "urgent": "high", "critical": "high", "max": "high",
	"maximum": "high", "important": "high", "medium": "medium", "normal": "medium", "mid": "medium",
	"moderate": "medium", "regular": "medium", "average": "medium", "middle": "medium", "low": "low",
	"lowest": "low", "minor": "low", "min": "low", "none": "none", "no": "none",
}

var priorityNouns = []string{"priority", "prio", "pri", "importance", "priorities"}

// priorityAt reads a priority phrase at i — "high priority", "top-priority",
// "priority: low", "not urgent", "no priority"; loose also takes a word
// alone that says it ("urgent", "asap", "important", "a priority") — and
// its length.
func priorityAt(c clause, i int, loose bool) (string, int) {
	w := c.word(i)
	if w == "" {
		return "", 0
	}
	// "high-priority", "low-prio".
	if a, b, ok := strings.Cut(w, "-"); ok && slices.Contains(priorityNouns, b) && priorityLevels[a] != "" {
		return priorityLevels[a], 1
	}
	if lvl := priorityLevels[w]; lvl != "" && slices.Contains(priorityNouns, c.word(i+1)) {
		return lvl, 2
	}
	if slices.Contains(priorityNouns, w) {
		j := i + 1
		for c.isPunct(j, ":", "=", "-") || slices.Contains([]string{"is", "of", "level", "to"}, c.word(j)) {
			j++
		}
		if lvl := priorityLevels[c.word(j)]; lvl != "" && c.word(j) != "no" {
			return lvl, j + 1 - i
		}
	}
	for _, p := range []phrase{{"not", "a", "priority"}, {"not", "urgent"}, {"not", "important"}, {"no", "rush"}, {"non-urgent"}} {
		if c.at(i, p) {
			return "low", len(p)
		}
	}
	if !loose {
		return "", 0
	}
	switch {
	case w == "a" && slices.Contains(priorityNouns, c.word(i+1)), w == "top" && c.word(i+1) == "priority":
		return "high", 2
	case slices.Contains([]string{"urgent", "urgently", "asap", "important", "critical", "priority"}, w):
		return "high", 1
	case priorityLevels[w] != "" && w != "no" && w != "none" && w != "important":
		return priorityLevels[w], 1 // "set task 2 to high"
	}
	return "", 0
}

// dueStarts are the words a date or time can begin with.
var dueStarts = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`today tomorrow tonight next this coming end in on by at before the noon midday
		midnight morning afternoon evening monday tuesday wednesday thursday friday saturday sunday mon tue tues wed
		thu thur thurs fri sat sun january february march april may june july august september october november
		december jan feb mar apr jun jul aug sep sept oct nov dec a`) {
		m[w] = true
	}
	return m
}()

// dueStart reports a word a date can begin with: those above, or a number.
func dueStart(c clause, i int) bool {
	if i < 0 || i >= c.n() {
		return false
	}
	t := c.toks[i]
	return t.kind == tNumber || t.kind == tWord && (dueStarts[t.low] || t.low != "" && t.low[0] >= '0' && t.low[0] <= '9')
}

// dueMarker is the length of the words at i that say a due date follows —
// "due", "due by", "deadline:", "with a deadline of", "due date is" — or 0.
// "due" alone marks one only before a date's first word ("due to the
// rain" is a title), or set off from a title (", due whenever").
func dueMarker(c clause, i int) int {
	j := i
	if c.word(j) == "with" || c.word(j) == "has" {
		j++
	}
	if (c.word(j) == "a" || c.word(j) == "the") && (c.word(j+1) == "deadline" || c.word(j+1) == "due" && c.word(j+2) == "date") {
		j++
	}
	switch {
	case c.word(j) == "due" && c.word(j+1) == "date", c.word(j) == "deadline":
		if c.word(j) == "due" {
			j++
		}
		j++
		for c.isPunct(j, ":", "=", "-") || slices.Contains([]string{"is", "of", "on", "by", "at", "set", "to"}, c.word(j)) {
			j++
		}
		return j - i
	case c.word(j) == "due":
		j++
		for c.isPunct(j, ":") || c.word(j) == "is" {
			j++
		}
		// "… due whenever" asks for a date too; "due to the rain" and
		// "the amount due" are titles.
		if dueStart(c, j) || c.isPunct(i-1, ",", ";", "-", "—", "–", "(") || i > 0 && j < c.n() && c.word(j) != "to" && c.word(j) != "back" {
			return j - i
		}
	}
	return 0
}

// dueWords writes tokens [i, j) as the date reader reads them: words
// spelled out ("tmrw" is "tomorrow"), spaced.
func dueWords(c clause, i, j int) string {
	var b strings.Builder
	for k := i; k < j && k < c.n(); k++ {
		t := c.toks[k]
		if b.Len() > 0 && !(t.kind == tWord && strings.HasPrefix(t.low, "'")) && !(t.kind == tPunct && t.low != "(") {
			b.WriteByte(' ')
		}
		b.WriteString(t.low)
	}
	return strings.TrimSpace(b.String())
}

// attrSeps join the items of an attribute list.
func attrSep(c clause, i int) int {
	switch {
	case c.isPunct(i, ",", ";", "-", "—", "–", "(", ")", "&", "/"):
		return 1
	case c.word(i) == "and" && c.word(i+1) == "also", c.word(i) == "and" && c.word(i+1) == "with":
		return 2
	case slices.Contains([]string{"and", "with", "plus", "also", "but", "make", "it's", "set"}, c.word(i)):
		return 1
	case c.word(i) == "it" && c.word(i+1) == "'s", c.word(i) == "make" && c.word(i+1) == "it":
		return 2
	}
	return 0
}

// attrList reads c[i:] as nothing but priorities and due dates, joined by
// commas, "and", "with", brackets: "high priority, due Friday", "(urgent)",
// "due next Monday 9am and high priority". bare allows a date without a
// marker ("tomorrow"), loose a priority word alone ("urgent"); both hold
// for the items after the first separator.
func attrList(c clause, i int, bare, loose bool) (attrs, bool) {
	for i < c.n() && attrSep(c, i) > 0 {
		i += attrSep(c, i)
		bare, loose = true, true
	}
	if i >= c.n() {
		return attrs{}, false
	}
	// A priority, then the rest.
	if lvl, n := priorityAt(c, i, loose); n > 0 {
		if i+n == c.n() || c.isPunct(i+n, ")") && i+n+1 == c.n() {
			return attrs{priority: lvl}, true
		}
		if k := attrSep(c, i+n); k > 0 {
			if rest, ok := attrList(c, i+n, true, true); ok {
				return attrs{priority: lvl}.with(rest), true
			}
		}
		return attrs{}, false
	}
	// A due date: a marker, then the longest run of words that reads as a
	// date and is followed by nothing or by more of the list.
	m := dueMarker(c, i)
	if m == 0 && !bare {
		return attrs{}, false
	}
	start := i + m
	for j := c.n(); j > start; j-- {
		if slices.ContainsFunc(c.toks[start:j], func(t token) bool { return t.kind == tQuoted }) {
			continue // "change task 3 to 'Friday'" is a title
		}
		text := dueWords(c, start, j)
		if !dates.Whole(text) {
			continue
		}
		if j == c.n() || c.isPunct(j, ")") && j+1 == c.n() {
			return attrs{due: text}, true
		}
		if attrSep(c, j) > 0 {
			if rest, ok := attrList(c, j, true, true); ok {
				return attrs{due: text}.with(rest), true
			}
		}
	}
	if m > 0 {
		// "due whenever": a due date was asked for, which no date reader
		// can place; the whole rest is that phrase.
		end := c.n()
		if c.isPunct(end-1, ")") {
			end--
		}
		if end > start {
			return attrs{bad: c.text(start, end)}, true
		}
	}
	return attrs{}, false
}

// attrTail cuts the priorities and due dates off the end of an add's text:
// "pay rent, high priority, due Friday" is "pay rent". They start after a
// comma, dash or bracket, or at a due marker ("… due Friday") or a
// priority phrase ("… high priority"); what is left must be a title.
func attrTail(body clause) (clause, attrs) {
	from := max(1, body.n()-24)
	for s := from; s < body.n(); s++ {
		after := body.isPunct(s-1, ",", ";", "-", "—", "–", "(")
		if !after && dueMarker(body, s) == 0 {
			if _, n := priorityAt(body, s, false); n == 0 && !(body.word(s) == "with" || body.word(s) == "as") {
				if !(s == body.n()-1 && slices.Contains([]string{"urgent", "asap", "urgently"}, body.word(s))) {
					continue
				}
			}
		}
		k := s
		if body.word(k) == "as" || body.word(k) == "with" && dueMarker(body, k) == 0 {
			k++
			if body.word(k) == "a" && body.word(k+1) != "deadline" {
				k++
			}
		}
		a, ok := attrList(body, k, after, true)
		if !ok {
			continue
		}
		title := body.sub(0, s)
		for title.n() > 0 && (title.isPunct(title.n()-1) || slices.Contains([]string{"and", "with"}, title.word(title.n()-1))) {
			title = title.sub(0, title.n()-1)
		}
		if title.n() == 0 {
			continue
		}
		return title, a
	}
	return body, attrs{}
}

// dueBlockers come before a date that is no due date: "a table for
// Friday", "notes from Monday", "every Sunday".
var dueBlockers = []string{"for", "of", "from", "after", "since", "about", "until", "till", "than", "every", "each",
	"last", "'s", "the", "this", "that", "per"}

// implicitDue reads a due date that ends a title, in the title's own words:
// "read Dune by Sunday", "call mom tomorrow", "book a haircut at 10am".
// The words stay in the title; the date is also its due date. Two words of
// title come before it ("plan next week" is a title), or one and "at",
// "on", "by" or "in" ("meeting at 3pm"), and none of dueBlockers.
func implicitDue(title clause) string {
	// The longest date that ends the title decides: one after a blocker
	// ("for next Friday") is none, whatever its end alone would be.
	for s := max(1, title.n()-8); s < title.n(); s++ {
		if !dueStart(title, s) || !dates.Whole(dueWords(title, s, title.n())) {
			continue
		}
		if s < 2 && !slices.Contains([]string{"at", "on", "by", "in"}, title.word(s)) || slices.Contains(dueBlockers, title.word(s-1)) || title.toks[s-1].kind != tWord && title.toks[s-1].kind != tQuoted ||
			slices.Contains([]string{"the", "a", "this", "end"}, title.word(s)) { // "the 15th" needs its "by"
			return ""
		}
		return dueWords(title, s, title.n())
	}
	return ""
}

// ---- changes

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

// ---- questions

// agenda is what a question about the list asks for beyond pending or
// completed: a priority, what is due by a date, what is overdue.
type agenda struct {
	priority string
	dueBy    string // a date as typed: "this week", "friday"
	dated    bool   // "what's due?": the tasks that have a due date
	overdue  bool
}

// parseAgenda reads a request for the tasks of a priority, due by a date,
// or overdue: "what's due this week?", "anything overdue?", "show high
// priority tasks", "which tasks are urgent?".
func parseAgenda(c clause, question bool) (intent, bool) {
	v := leadingVerb(c)
	if v.family != famNone && v.family != famList || c.hasNumber() && !c.has(phrases("days", "weeks", "day", "week")) {
		return intent{}, false
	}
	first := 0
	for slices.Contains([]string{"my", "the", "all", "any", "our", "your"}, c.word(first)) {
		first++
	}
	var a agenda
	found := false
	for i := 0; i < c.n(); i++ {
		switch {
		case c.longest(i, phrases("overdue", "past due", "late", "behind", "missed", "expired")) > 0:
			a.overdue, found = true, true
		case c.word(i) == "due" || c.word(i) == "deadline" || c.word(i) == "deadlines":
			found = true
			j := i + 1
			for slices.Contains([]string{"soon", "date", "dates"}, c.word(j)) {
				j++
			}
			end := c.n()
			if c.isPunct(end-1, "?") {
				end--
			}
			if text := dueWords(c, j, end); j < end && dates.Whole(text) {
				a.dueBy = text
			} else if c.word(i+1) == "soon" {
				a.dueBy = "in 7 days"
			} else {
				a.dated = true
			}
		default:
			if lvl, n := priorityAt(c, i, true); n > 0 && lvl != "none" && (n > 1 || c.word(i) != "top" && c.word(i) != "priority") {
				if slices.Contains([]string{"important", "urgent"}, c.word(i)) && !(question || v.family == famList) {
					continue
				}
				a.priority, found = lvl, true
				i += n - 1
			}
		}
	}
	if !found {
		return intent{}, false
	}
	opens := c.sub(first, c.n()).longest(0, listNouns) > 0 || c.sub(first, c.n()).longest(0, phrases("overdue", "urgent",
		"high", "low", "medium", "top", "important", "what", "which", "anything", "something", "due", "late")) > 0
	if !question && v.family != famList && !opens {
		return intent{}, false
	}
	filter := listFilter(c)
	if a.overdue || a.dueBy != "" || a.dated || filter == "all" && a.priority != "" && !c.has(completedWords) {
		filter = "pending"
	}
	return intent{kind: intentList, filter: filter, agenda: a}, true
}

// ---- acting on them

// dueArg reads a due phrase at the turn's moment in the person's zone: the
// exact form the tools take ("2026-12-04", or RFC 3339 with the person's
// offset), how a reply says it, and, when it cannot be placed, why not.
func (x *executor) dueArg(phrase string) (exact, said, problem string) {
	now, zone, _ := x.tb.clock()
	d, matched, err := dates.Parse(phrase, now, zone)
	if matched == "" {
		matched = phrase
	}
	switch {
	case errors.Is(err, dates.ErrPast):
		return "", "", fmt.Sprintf("%q is already past", matched)
	case errors.Is(err, dates.ErrImpossible):
		return "", "", fmt.Sprintf("%q is no date a calendar has", matched)
	case errors.Is(err, dates.ErrAmbiguous):
		if strings.Contains(matched, ":") {
			return "", "", fmt.Sprintf("%q could be morning or afternoon", matched)
		}
		return "", "", fmt.Sprintf("%q could be read as two different dates", matched)
	case err != nil:
		return "", "", fmt.Sprintf("I couldn't read %q as a date", phrase)
	}
	if d.DateOnly {
		return d.At.Format("2006-01-02"), sayDue(d.At, true, now, zone), ""
	}
	return d.At.In(zone).Format(time.RFC3339), sayDue(d.At, false, now, zone), ""
}

// sayDue words a due time for a reply, in the person's zone: "Friday,
// December 4", "Monday, December 7 at 09:00", with the year when it is
// not this one.
func sayDue(at time.Time, dateOnly bool, now time.Time, zone *time.Location) string {
	if !dateOnly {
		at = at.In(zone)
	}
	layout := "Monday, January 2"
	if at.Year() != now.In(zone).Year() {
		layout += ", 2006"
	}
	if dateOnly {
		return at.Format(layout)
	}
	return at.Format(layout + " at 15:04")
}

// sayItemDue words a listed task's due time (an RFC 3339 moment or a date).
func (x *executor) sayItemDue(s string) string {
	now, zone, _ := x.tb.clock()
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return sayDue(t, true, now, zone)
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return sayDue(t, false, now, zone)
	}
	return s
}

// dueAsk asks for a due date the message gave but no calendar can place.
func dueAsk(problem string) string {
	return fmt.Sprintf("I didn't change anything: %s. When should it be due? For example \"Friday\", \"tomorrow at 9am\" or \"Dec 24\".", problem)
}

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

// agendaArgs are the list_tasks arguments of a question about the list,
// and how the reply names what was asked; a date it cannot read is a
// problem to say.
func (x *executor) agendaArgs(filter string, a agenda) (listArgs, string, string) {
	args := listArgs{Status: filter, Priority: a.priority, Overdue: a.overdue}
	var what []string
	if a.priority != "" {
		what = append(what, a.priority+"-priority")
	}
	if a.overdue {
		what = append(what, "overdue")
	}
	if a.dueBy != "" {
		now, zone, _ := x.tb.clock()
		d, err := dates.Until(a.dueBy, now, zone)
		if err != nil {
			return args, "", fmt.Sprintf("I couldn't read %q as a date. Try \"what's due this week?\" or \"what's due by Friday?\".", a.dueBy)
		}
		if d.DateOnly {
			args.DueBefore = d.At.Format("2006-01-02")
			last := d.At.AddDate(0, 0, -1)
			return args, strings.Join(append(what, "due by "+sayDue(last, true, now, zone)), " "), ""
		}
		args.DueBefore = d.At.In(zone).Format(time.RFC3339)
		return args, strings.Join(append(what, "due by "+sayDue(d.At, false, now, zone)), " "), ""
	}
	return args, strings.Join(what, " "), ""
}

// describeAgenda words the answer to a question about the list.
func (x *executor) describeAgenda(what string, a agenda, res listResult) string {
	items := res.Tasks
	if a.dated {
		items = slices.DeleteFunc(slices.Clone(items), func(t listItem) bool { return t.DueAt == nil })
		slices.SortStableFunc(items, func(p, q listItem) int { return strings.Compare(dueKey(p), dueKey(q)) })
		what = "pending with a due date"
	}
	if len(items) == 0 {
		switch {
		case a.overdue && what == "overdue":
			return "Nothing is overdue: you're on top of it!"
		case a.dated:
			return "None of your pending tasks has a due date. Say for example \"task 2 is due Friday\" to give one a date."
		}
		return fmt.Sprintf("You have no pending tasks %s.", strings.TrimSpace(what))
	}
	var b strings.Builder
	n := len(items)
	if !a.dated && res.More() > 0 {
		n = res.Total
	}
	noun := "task"
	if n != 1 {
		noun = "tasks"
	}
	switch {
	case a.dated:
		fmt.Fprintf(&b, "You have %d pending %s with a due date:", n, noun)
	case strings.HasPrefix(what, "due"):
		fmt.Fprintf(&b, "You have %d %s %s:", n, noun, what)
	default:
		fmt.Fprintf(&b, "You have %d %s %s:", n, what, noun)
	}
	x.writeItems(&b, items)
	if !a.dated && res.More() > 0 {
		fmt.Fprintf(&b, "\n…and %d more.", res.More())
	}
	return b.String()
}

// dueKey orders items by due time as text: dates and UTC times sort alike.
func dueKey(t listItem) string {
	if t.DueAt == nil {
		return "~"
	}
	return *t.DueAt
}
