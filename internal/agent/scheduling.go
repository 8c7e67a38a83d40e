package agent

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/taskchat/taskchat/internal/dates"
)

// A task's priority and due date as a message gives them: in an add ("add
// pay rent, high priority, due Friday"), here; as a change ("push the
// dentist task to Monday"), in rescheduling.go; in a question ("what's due
// this week?"), in agenda.go. The parser reads where a date is, not which
// day it is: the executor reads it at the turn's moment, in the person's
// time zone, and asks about one it cannot place (dueArg, below).

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
	for _, w := range strings.Fields(`today tomorrow tonight yesterday last next this coming end in on by at before the noon midday
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
		// Tokens that touched in the message touch again: "2026-12-10",
		// "12/15", "3:30pm".
		touching := k > i && c.toks[k-1].end == t.start && t.kind != tQuoted && c.toks[k-1].kind != tQuoted
		if b.Len() > 0 && !touching && !(t.kind == tWord && strings.HasPrefix(t.low, "'")) && !(t.kind == tPunct && t.low != "(") {
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

// monthName is a month's name, or its first three letters.
var monthName = regexp.MustCompile(`(?i)^(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*$`)

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
		if s < 2 && !slices.Contains([]string{"at", "on", "by", "in"}, title.word(s)) || slices.Contains(dueBlockers, title.word(s-1)) ||
			title.toks[s-1].kind == tPunct || slices.Contains([]string{"the", "a"}, title.word(s)) { // "the 15th" needs its "by"
			return ""
		}
		due := dueWords(title, s, title.n())
		if monthName.MatchString(due) && !strings.ContainsAny(due, "0123456789") && !strings.Contains(due, " ") {
			return "" // "lunch with May", "call Jan": a name as often as a month
		}
		return due
	}
	return ""
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
