package agent

import (
	"slices"
	"strconv"
	"strings"

	"github.com/taskchat/taskchat/internal/dates"
)

// The parsers of lists and additions, and of the references to tasks all
// the kinds of request share.

// ---- listing

// listNouns make a clause about the task list.
var listNouns = phrases("task", "tasks", "todo", "to-do", "to do", "todo list", "to-do list", "to do list", "list", "items",
	"item", "agenda", "things", "stuff", "everything", "anything", "plate", "ones", "business", "overview", "got going on",
	"going on", "status", "what i've got", "checklist")

// parseList reads a request for the list and its filter: a list verb with
// the list's nouns or state words, or those alone ("tasks?", "what's left").
func parseList(c clause) (intent, bool) {
	v := leadingVerb(c)
	nouns := c.has(listNouns)
	states := c.has(pendingWords) || c.has(completedWords)
	// Without a verb, the clause must open with the list or a state:
	// "my tasks?", "todo list pls", "pending ones" — not "Send the list to
	// Tom — done".
	first := 0
	for slices.Contains([]string{"my", "the", "all", "our", "your", "whole", "entire", "full"}, c.word(first)) {
		first++
	}
	opens := c.sub(first, c.n()).longest(0, listNouns) > 0 || c.sub(first, c.n()).longest(0, pendingWords) > 0 ||
		c.sub(first, c.n()).longest(0, completedWords) > 0
	switch {
	case v.family == famList && v.n > 0 && (nouns || states || c.n() <= v.n+1):
		if v.n == c.n() && slices.Contains([]string{"what", "which", "any", "anything", "get", "see", "check", "read", "open"}, c.word(0)) {
			return intent{}, false // "what?" alone is no request
		}
	case v.family == famNone && opens && nouns && (states || c.n() <= 4) && !c.hasNumber() && !statement(c):
		if c.has(phrases("add", "new")) {
			return intent{}, false
		}
	case v.family == famNone && opens && states && c.n() <= 3 && !c.hasNumber() && !statement(c):
	default:
		return intent{}, false
	}
	// A list request names no one task: "show task 3" is not a list.
	if c.hasNumber() {
		return intent{}, false
	}
	if v.family == famList && c.word(0) == "check" && c.word(1) == "off" {
		return intent{}, false
	}
	return intent{kind: intentList, filter: listFilter(c)}, true
}

// statement reports a clause about what the person did ("I finished task
// two"), which no noun makes a list request; numbers in words count too.
func statement(c clause) bool {
	if slices.Contains([]string{"i", "we", "i've", "i'm"}, c.word(0)) {
		return true
	}
	for i := range c.toks {
		if _, n := readNumber(c.toks[i:]); n > 0 && c.word(i) != "one" {
			return true
		}
	}
	return false
}

// listFilter reads which tasks a list request asks for. "not" before a
// state word turns it ("which aren't finished"); "the complete list" is all
// of it; both states at once ("what's done and what isn't") are all.
func listFilter(c clause) string {
	pending, done := false, false
	for i := 0; i < c.n(); i++ {
		if n := c.longest(i, pendingWords); n > 0 {
			if !slices.Contains([]string{"list", "lists"}, c.word(i+n)) { // "the to do list" is the list
				pending = true
			}
			i += n - 1
			continue
		}
		if n := c.longest(i, completedWords); n > 0 {
			switch {
			case slices.Contains([]string{"complete", "full", "whole"}, c.word(i)) && slices.Contains([]string{"list", "lists"}, c.word(i+n)):
			case slices.Contains([]string{"to", "be"}, c.word(i-1)) && c.word(i) == "done": // "to be done"
				pending = true
			case i > 0 && slices.Contains(negations, c.word(i-1)), i > 1 && slices.Contains(negations, c.word(i-2)) && c.word(i-1) == "yet":
				pending = true
			default:
				done = true
			}
			i += n - 1
		}
	}
	// "what isn't" after a done word: both.
	if done && negated(c) && !pending {
		pending = true
	}
	switch {
	case pending && done:
		return "all"
	case pending:
		return "pending"
	case done:
		return "completed"
	}
	return "all"
}

// ---- adding

// addNouns are what an add verb makes.
var addNouns = []string{"task", "tasks", "todo", "to-do", "todos", "item", "items", "reminder", "reminders", "entry", "note", "notes"}

// addConnectors come between "a task" and its title.
var addConnectors = phrases("called", "named", "titled", "entitled", "to", "for", "that says", "saying", "which says",
	"about", "of", ":", "-", "—", "–", "=")

// listTails end an add with where the task goes ("… to my list").
var listTails = phrases("to my list", "to the list", "on my list", "on the list", "onto my list", "onto the list",
	"to my tasks", "to the tasks", "on my tasks", "to my to-do list", "to my todo list", "to my to do list",
	"on my to-do list", "on the to-do list", "on my todo list", "on the todo list", "to the to-do list",
	"to my task list", "on my task list", "to the task list", "on the task list", "to my to-dos", "to my todos",
	"in my list", "in my tasks", "to the to do list", "on the to do list", "to-do list", "to do list")

// parseAdd reads "add …", "create a task to …", "new task: …".
func parseAdd(c clause, v verbMatch) (intent, bool) {
	i := v.n
	// "add a note to task 3: …" changes a task's description.
	if in, ok := parseNoteAdd(c, v.n); ok {
		return in, true
	}
	// "put X on the list" is an add; "put task 3 in the completed column" is not.
	if c.word(0) == "put" {
		if !c.has(listTails) {
			return intent{}, false
		}
		v.alone = true
	}
	// "add a tag to task 3" asks for a field the tools do not have.
	if k := c.sub(i, c.n()).longest(0, phrases("a tag", "tag", "a label", "label", "a reminder to task")); k > 0 &&
		slices.Contains([]string{"to", "for", "on"}, c.word(i+k)) {
		return intent{kind: intentRefuse, say: "I can't tag tasks, so I left your tasks as they are."}, true
	}
	// "add to my list: …".
	if n := c.sub(i, c.n()).longest(0, listTails); n > 0 {
		i += n
	}
	note := ""
	lead := attrs{}  // "add a high priority task: …"
	counted := false // "add two tasks: …"
	for {
		switch w := correct(c.word(i)); {
		case slices.Contains([]string{"a", "an", "another", "new", "one", "more", "the", "some", "these", "following", "my"}, w),
			c.word(i) == "an": // not "any", as correct reads it
			i++
			continue
		case slices.Contains([]string{"two", "three", "four", "five", "several", "multiple", "few"}, w):
			counted = true
			i++
			continue
		}
		if lvl, n := priorityAt(c, i, true); n > 0 && lvl != "none" && (c.word(i) != "priority" || slices.Contains(addNouns, correctNoun(c.word(i+1)))) {
			lead.priority = lvl
			i += n
			continue
		}
		break
	}
	hasNoun, noted := false, false
	if w := correctNoun(c.word(i)); slices.Contains(addNouns, w) {
		if c.toks[min(i+1, c.n()-1)].kind == tNumber && i+1 < c.n() {
			// "make task 3 …" names a task: "make task 1 say …" changes it.
			if in, ok := parseUpdate(c, v.n); ok && in.kind == intentUpdate && c.word(0) == "make" {
				return in, true
			}
			return intent{}, false
		}
		hasNoun = true
		counted = counted || strings.HasSuffix(w, "s")
		noted = w == "note" || w == "notes"
		i++
	}
	if !hasNoun && !v.alone && !(c.word(0) == "new" && c.isPunct(i, ":", "-", "—")) { // "new: call the vet"
		return intent{}, false
	}
	// "add a task due Friday to pay rent": a due date before the title.
	if m := dueMarker(c, i); hasNoun && m > 0 {
		for j := c.n() - 1; j > i+m; j-- {
			if c.longest(j, addConnectors) > 0 && dates.Whole(dueWords(c, i+m, j)) {
				lead.due, i = dueWords(c, i+m, j), j
				break
			}
		}
	}
	if n := c.sub(i, c.n()).longest(0, addConnectors); n > 0 && (hasNoun || c.isPunct(i)) {
		i += n
	}
	for c.isPunct(i) {
		i++
	}
	body := c.sub(i, c.n())
	if body.n() == 0 {
		return intent{kind: intentAsk, say: "What should the task say? For example: \"Add a task to buy groceries\"."}, true
	}
	adds, extra := addItems(body, hasNoun && !counted)
	if extra != "" {
		note = strings.TrimSpace(note + " " + extra)
	}
	if len(adds) == 0 {
		return intent{kind: intentAsk, say: "What should the task say? For example: \"Add a task to buy groceries\"."}, true
	}
	for k := range adds {
		adds[k].attrs = lead.with(adds[k].attrs)
	}
	in := intent{kind: intentAdd, adds: adds, note: note}
	if noted && len(adds) == 1 && adds[0].desc == "" {
		in.noteText = titleText(body.text(0, body.n()))
	}
	return in, true
}

// addFrames that only open a task when something labels it as one.
var labelFrames = phrases("todo", "to do", "to-do", "note to self", "reminder", "reminder to")

// parseAddFrame reads "remind me to …", "I need to …", "don't let me forget
// to …". With negatedOnly it reads only the frames that contain a negation,
// which must be read before negation turns the clause into nothing.
func parseAddFrame(c clause, negatedOnly bool) (intent, bool) {
	n := c.longest(0, addFrames)
	if n == 0 {
		return intent{}, false
	}
	frame := c.sub(0, n)
	if negated(frame) != negatedOnly {
		return intent{}, false
	}
	if frame.longest(0, labelFrames) == n && !c.isPunct(n) && c.word(0) != "reminder" {
		return intent{}, false // "todo list" is not "todo: list"
	}
	body := c.sub(n, c.n())
	for body.n() > 0 && body.toks[0].kind == tPunct {
		body = body.sub(1, body.n())
	}
	if body.n() == 0 {
		return intent{kind: intentAsk, say: "What should I remind you of? For example: \"Remind me to call mom\"."}, true
	}
	// "I need to finish the report" adds; "I need to remove task 3" is a request.
	if v := leadingVerb(body); v.family != famNone && v.family != famAdd && startsRequest(body) {
		return intent{}, false
	}
	adds, note := addItems(body, true)
	if len(adds) == 0 {
		return intent{}, false
	}
	return intent{kind: intentAdd, adds: adds, note: note}, true
}

// descMarkers introduce a new task's description after its title.
var descMarkers = phrases("description", "details", "detail", "notes", "note", "desc")

// addItems reads what an add makes: one task, or several ("feed the fish,
// water the cactus and take out the recycling"; "'rake the leaves' and
// 'clean the windows'"), each with a description if one follows its title
// ("…, description: …", "… with notes: …"). A single title from "a task to
// …" is one task unless commas list several.
func addItems(body clause, single bool) (out []newTask, _ string) {
	// A description: the rest after a marker and ":" (or "with notes …").
	desc := ""
	for i := 0; i < body.n(); i++ {
		n := body.longest(i, descMarkers)
		if n == 0 || i == 0 {
			continue
		}
		before := body.word(i-1) == "with" || body.isPunct(i-1, ",", "-", "—", "–", "(")
		if i > 1 && body.word(i-1) == "a" && body.word(i-2) == "with" {
			before = true
		}
		after := body.isPunct(i+n, ":", "-", "=", "—")
		if (before && (after || body.word(i-1) == "with" || body.word(i-1) == "a")) || (after && body.isPunct(i-1)) {
			j := i + n
			for body.isPunct(j) {
				j++
			}
			desc = titleText(body.text(j, body.n()))
			k := i
			for k > 0 && (body.word(k-1) == "with" || body.word(k-1) == "a" || body.isPunct(k-1)) {
				k--
			}
			body = body.sub(0, k)
			break
		}
	}
	// Where the task goes, its priority and its due date leave the title.
	note := ""
	var set attrs
	for changed := true; changed; {
		changed = false
		if n := tailLen(body, listTails); n > 0 {
			body, changed = body.sub(0, body.n()-n), true
		}
		if rest, a := attrTail(body); !a.empty() {
			body, set, changed = rest, a.with(set), true
		}
		for body.n() > 0 && body.isPunct(body.n()-1, ".", ",", ";", ":", "!", "?", "-", "—", "–") {
			body, changed = body.sub(0, body.n()-1), true
		}
	}
	if body.n() == 0 {
		return nil, note
	}
	defer func() {
		for i := range out {
			out[i].attrs = set
		}
	}()
	// Quoted titles, each a task: "'rake the leaves' and 'clean the
	// windows'", "\"Order groceries\" and another one \"Pay rent\"".
	if quoted := quotedItems(body); len(quoted) > 1 {
		return quoted, note
	}
	parts := splitItems(body, single)
	out = make([]newTask, 0, len(parts))
	for _, p := range parts {
		if t := titleOf(p.text(0, p.n())); t != "" {
			out = append(out, newTask{title: t})
		}
	}
	// "read Dune by Sunday": a date that ends the title is its due date
	// too, and stays in it.
	if set.due == "" && set.bad == "" && len(parts) == 1 {
		if due := implicitDue(body); due != "" {
			set.due, set.implicit = due, true
		}
	}
	if len(out) == 1 {
		out[0].desc = desc
	}
	return out, note
}

// quotedItems are the tasks of a text made of quoted titles and the words
// between them ("and", "another one"), or nil.
func quotedItems(body clause) []newTask {
	between := []string{"and", "&", "then", "also", "another", "one", "task", "a", "an", "called", "named", "plus", "second"}
	var out []newTask
	for i, t := range body.toks {
		switch {
		case t.kind == tQuoted:
			out = append(out, newTask{title: titleOf(body.text(i, i+1))})
		case t.kind == tPunct, slices.Contains(between, t.low):
		default:
			return nil
		}
	}
	return out
}

// titleText is text as a description keeps it: trimmed, unquoted.
func titleText(s string) string {
	s = strings.Trim(strings.TrimSpace(s), ",;:-—–")
	return strings.TrimSpace(unquote(strings.TrimSpace(s)))
}

// tailLen is the length of the phrase of list that ends the clause.
func tailLen(c clause, list []phrase) int {
	best := 0
	for _, p := range list {
		if len(p) > best && len(p) < c.n() && c.at(c.n()-len(p), p) {
			best = len(p)
		}
	}
	return best
}

// splitItems cuts an add's text into tasks at commas and "and": a comma
// list always ("a, b and c"), a plain "a and b" only when neither side
// reads as part of one task — short items without "a task to" in front
// ("add milk and bread").
func splitItems(body clause, single bool) []clause {
	var seps []int
	commas := 0
	for i, t := range body.toks {
		switch {
		case t.kind == tPunct && t.low == ",":
			seps = append(seps, i)
			commas++
		case t.kind == tPunct && t.low == ";" && !single:
			seps = append(seps, i)
			commas++
		case (t.kind == tWord && t.low == "and" || t.kind == tPunct && t.low == "&") && i > 0 && i < body.n()-1:
			seps = append(seps, i)
		}
	}
	if len(seps) == 0 || (single && commas == 0) {
		return []clause{body}
	}
	var parts []clause
	start := 0
	for _, s := range seps {
		if s > start {
			parts = append(parts, body.sub(start, s))
		}
		start = s + 1
		if body.word(start) == "and" || body.word(start) == "then" {
			start++
		}
	}
	parts = append(parts, body.sub(start, body.n()))
	if commas == 0 {
		for _, p := range parts {
			if p.n() > 4 {
				return []clause{body}
			}
		}
	}
	return parts
}

// ---- references

// parseRefs reads the tasks a clause names: numbers, positions, pronouns,
// quoted or unquoted titles, several joined by "and" or commas.
func parseRefs(c clause) refGroup {
	if p := c.trimPunct(); p.n() > 0 && p.longest(0, pronouns) == p.n() {
		return refGroup{whole: ref{kind: refPronoun}} // "that one"
	}
	if p := c.trimPunct(); p.n() == 1 && p.word(0) == "one" {
		return refGroup{whole: ref{kind: refVague}} // "remove one": which?
	}
	if g, ok := parseRange(c.trimPunct()); ok {
		return g
	}
	c = trimRef(c)
	if c.n() == 0 {
		return refGroup{}
	}
	g := refGroup{whole: parseRef(c)}
	if g.whole.kind == refID {
		return g // "one hundred and five" is one number
	}
	// Several: split at "and", "&", "," — a title may hold "and", so the
	// whole stays as the first reading.
	var parts []ref
	start := 0
	for i := 0; i <= c.n(); i++ {
		if i < c.n() && !(c.word(i) == "and" || c.word(i) == "plus" || c.isPunct(i, ",", "&")) {
			continue
		}
		if p := trimRef(c.sub(start, i)); p.n() > 0 {
			parts = append(parts, parseRef(p))
		}
		start = i + 1
	}
	if len(parts) > 1 {
		g.parts = parts
	}
	return g
}

// maxRange is the most tasks a range of numbers names ("tasks 1-3").
const maxRange = 10

// parseRange reads "tasks 1-3", "1 to 3", "numbers 2 through 5": each task
// of the range, named by number.
func parseRange(c clause) (refGroup, bool) {
	i := 0
	for slices.Contains([]string{"task", "tasks", "number", "numbers", "items", "the", "from"}, c.word(i)) {
		i++
	}
	var lo, hi int64
	switch rest := c.sub(i, c.n()); {
	case rest.n() == 1 && rest.toks[0].kind == tWord:
		a, b, ok := strings.Cut(rest.toks[0].low, "-")
		if !ok {
			return refGroup{}, false
		}
		var err1, err2 error
		lo, err1 = strconv.ParseInt(a, 10, 64)
		hi, err2 = strconv.ParseInt(b, 10, 64)
		if err1 != nil || err2 != nil {
			return refGroup{}, false
		}
	case rest.n() == 3 && rest.toks[0].kind == tNumber && rest.toks[2].kind == tNumber &&
		(rest.isPunct(1, "-", "–", "—") || slices.Contains([]string{"to", "through", "thru", "till", "until"}, rest.word(1))):
		lo, hi = rest.toks[0].num, rest.toks[2].num
	default:
		return refGroup{}, false
	}
	if lo < 1 || hi <= lo || hi-lo >= maxRange {
		return refGroup{}, false
	}
	g := refGroup{whole: ref{kind: refTitle, text: c.text(0, c.n())}}
	for id := lo; id <= hi; id++ {
		g.parts = append(g.parts, ref{kind: refID, id: id})
	}
	return g, true
}

// refEdges are the words around a reference that do not name the task.
var refEdges = []string{"the", "my", "a", "an", "this", "that", "both", "task", "tasks", "item", "todo", "to-do", "one",
	"called", "named", "titled", "about", "entry", "thing", "reminder", "number", "no", "no.", "num", "id", "with",
	"which", "says", "saying", "labelled", "status", "from", "off", "of", "for", "is", "are", "as", "'s", "now", "please",
	"just", "all", "also", "to", "too", "anymore", "there", "here"}

// refTails end a reference without naming the task.
var refTails = append(slices.Clip(listTails), phrases("from my list", "off my list", "from the list", "off the list", "from my tasks",
	"from my to-do list", "from my todo list", "from the task list", "off my to-do list")...)

// trimRef drops what surrounds a reference: articles, "task", "the one
// called", "from my list", punctuation.
func trimRef(c clause) clause {
	if n := tailLen(c, refTails); n > 0 {
		c = c.sub(0, c.n()-n)
	}
	i, j := 0, c.n()
	for i < j && (c.toks[i].kind == tPunct || slices.Contains(refEdges, c.toks[i].low) && c.toks[i].kind == tWord) {
		if c.toks[i].low == "one" {
			if _, n := readNumber(c.toks[i:j]); n == j-i || i+1 == j {
				break // "one hundred and five", "that one"
			}
			if i > 0 && slices.Contains([]string{"task", "tasks", "number", "numbers", "item", "items", "no", "num"}, c.toks[i-1].low) {
				break // "tasks one and three"
			}
		}
		i++
	}
	for j > i && (c.toks[j-1].kind == tPunct || c.toks[j-1].kind == tWord && slices.Contains(append([]string{"task", "tasks", "one", "item", "please", "now", "anymore", "too", "also", "the", "done", "list"}, doneSingles...), c.toks[j-1].low)) {
		if j-1 == i {
			break
		}
		j--
	}
	return c.sub(i, j)
}

var doneSingles = []string{"done", "complete", "completed", "finished"}

// parseRef reads one reference.
func parseRef(c clause) ref {
	if c.n() == 0 {
		return ref{}
	}
	// A quoted title.
	if c.n() == 1 && c.toks[0].kind == tQuoted {
		return ref{kind: refTitle, text: c.text(0, 1), quoted: true}
	}
	// A number, in digits or words.
	if c.n() == 1 && c.toks[0].kind == tNumber {
		return ref{kind: refID, id: c.toks[0].num}
	}
	if v, n := readNumber(c.toks); n > 0 && n == c.n() {
		return ref{kind: refID, id: v}
	}
	// A pronoun.
	if c.longest(0, pronouns) == c.n() || c.n() == 1 && slices.Contains([]string{"it", "that", "this", "them"}, c.word(0)) {
		return ref{kind: refPronoun}
	}
	if c.n() <= 2 && slices.Contains([]string{"something", "anything", "one", "some", "any", "stuff"}, c.word(0)) {
		return ref{kind: refVague}
	}
	// A position: "second", "the 3rd item", "whichever is last".
	for i, t := range c.toks {
		if p, ok := positionWords[t.low]; ok && t.kind == tWord && c.n() <= 4 {
			rest := slices.DeleteFunc(slices.Clone(c.toks), func(x token) bool {
				return x.low == t.low || slices.Contains([]string{"one", "task", "item", "whichever", "is", "on", "the", "list", "in", "of", "entry", "'s"}, x.low)
			})
			if len(rest) == 0 {
				_ = i
				return ref{kind: refPosition, pos: p}
			}
		}
	}
	return ref{kind: refTitle, text: c.text(0, c.n())}
}
