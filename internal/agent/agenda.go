package agent

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/taskchat/taskchat/internal/dates"
)

// Questions about what is due and what matters: "what's due this week?",
// "anything overdue?", "show high priority tasks"; and their answers.

// agendaVerbs ask what is on the list without naming it.
var agendaVerbs = phrases("do i have", "do we have", "i have", "have i got", "i've got", "i got", "coming up", "scheduled",
	"planned", "lined up", "on for", "on my plate")

// trailingSpan is the longest date phrase that ends c ("this week",
// "for tomorrow", "on friday"), or "".
func trailingSpan(c clause) string {
	end := c.n()
	for end > 0 && c.toks[end-1].kind == tPunct {
		end--
	}
	for s := max(1, end-6); s < end; s++ {
		if text := dueWords(c, s, end); dates.Whole(text) {
			return text
		}
	}
	return ""
}

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
	if !found && (question || v.family == famList) {
		// "what do I have this week?", "my tasks for tomorrow": a list
		// asked for by a span of time is what is due in it.
		if span := trailingSpan(c); span != "" && (c.has(listNouns) || c.has(agendaVerbs)) && !c.has(completedWords) {
			a.dueBy, found = span, true
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

// ---- answering them

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
		// "no high-priority pending tasks", "no pending tasks due by
		// Friday": the kind before the noun, the date after it.
		kind, due := what, ""
		if i := strings.Index(what, "due by"); i >= 0 {
			kind, due = what[:i], what[i:]
		}
		return strings.Join(strings.Fields("You have no "+kind+" pending tasks "+due), " ") + "."
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
