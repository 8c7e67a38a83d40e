package agent

import (
	"slices"
	"strings"
	"sync"
	"unsafe"
)

// The offline agent's parser: a message becomes sentences, sentences become
// clauses ("add milk and mark task 2 done" is two), and each clause becomes
// one intent by a few rules read in order:
//
//  1. chit-chat: nothing but greetings, thanks, goodbyes or help;
//  2. the clause's leading verb, looked up in the lexicon, decides what it
//     asks (so a title full of command words — "add a task to delete my
//     old account" — stays a title);
//  3. frames that open a task without a verb ("remind me to …", "I need to
//     …"), or report one done ("I've finished …");
//  4. a task named and then its state ("the ferns are done", "task 3: done");
//  5. a task reported done in the past tense ("I booked the haircut");
//  6. a list asked for by its nouns ("my tasks?", "what's left").
//
// Negations, questions, bulk requests and what the tools cannot do are
// caught on the way and change nothing.

type intentKind int

const (
	intentUnknown intentKind = iota
	intentGreet
	intentHelp
	intentThanks
	intentDecline // "no thanks", "never mind"
	intentBye
	intentList
	intentAdd
	intentComplete
	intentDelete
	intentUpdate
	intentRefuse  // what the tools cannot do; say says so
	intentAsk     // a request missing what it needs; say asks for it
	intentMention // names a task without asking anything of it ("I don't need the haircut task")
	intentStatus  // a question about the tasks, answered with a list
	intentAlso    // "and task 4 too": the conversation's last completion or deletion, again
)

type refKind int

const (
	refNone     refKind = iota
	refID               // "task 3", "#3", "number three"
	refTitle            // words of a title, or a quoted title
	refPosition         // "the second one", "the last task"
	refPronoun          // "it", "that one"
	refVague            // "a task", "something": no task at all
)

// ref names one task.
type ref struct {
	kind   refKind
	id     int64
	text   string // a title as typed
	quoted bool
	pos    int    // 1-based; -1 is the last
	verb   string // a past-tense report's verb, in the present: the title must start with it
}

// refGroup is one or more tasks a clause names: "{0} and {2}", or one title
// that may itself hold "and" ("Water the ferns and the orchid").
type refGroup struct {
	whole ref   // the words as one task
	parts []ref // the same words as several, when "and" or commas join them
}

func (g refGroup) empty() bool { return g.whole.kind == refNone && len(g.parts) == 0 }

type newTask struct {
	title, desc string
	attrs       attrs
}

// updateSplit is one way to read "change X to Y": target X, value Y.
type updateSplit struct {
	target refGroup
	value  string
}

type intent struct {
	kind     intentKind
	filter   string // list: all, pending or completed
	adds     []newTask
	refs     refGroup
	splits   []updateSplit // update: the readings to try, best first
	descMode bool          // update: the value is the description
	say      string        // refuse, ask: the sentence
	note     string        // said after the action (e.g. what was left out)
	weak     bool          // a guess (a past-tense report); a better reading wins
	quiet    bool          // mention: names the task for what follows, says nothing
	bulk     intentKind    // refuse: the completion or deletion of many tasks it refuses
	noteText string        // add: "add a note X" — X as typed, a description if a task was named before
	set      attrs         // update: the priority and due date to set
	agenda   agenda        // list: the priority, due date or lateness asked about
}

// parse reads a message into the intents of its clauses, in order.
func parse(msg string) []intent {
	m := tokenize(clean(msg))
	var out []intent
	var from []clause // the clause of each intent
	for _, s := range sentences(&m) {
		var prevAdd = -1
		for _, c := range clauses(s) {
			in := parseClause(c)
			// "for task 1, add the note "use rainwater"": a note for the
			// task named before.
			if n := len(out); n > 0 && out[n-1].kind == intentUnknown && in.noteText != "" && scoped(from[n-1]) {
				in = intent{kind: intentUpdate, descMode: true, splits: []updateSplit{{target: refGroup{whole: ref{kind: refPronoun}}, value: in.noteText}}}
			}
			// "the haircut task, delete it": a task named alone is what
			// the "it" after it means.
			if n := len(out); n > 0 && out[n-1].kind == intentUnknown && pronounTarget(in) {
				named, _ := stripLead(from[n-1])
				if named = named.trimPunct(); named.n() > 0 && named.longest(0, leadFillers) < named.n() {
					g := parseRefs(named)
					if g.whole.kind == refTitle || g.whole.kind == refID {
						out[n-1] = intent{kind: intentMention, refs: g, quiet: true}
					}
				}
			}
			switch {
			case in.kind == intentUnknown && prevAdd >= 0 && c.n() > 0 && !c.isQuestion():
				// "add two tasks: book the venue; send the invites": the
				// clauses after an add are more tasks.
				out[prevAdd].adds = append(out[prevAdd].adds, newTask{title: titleOf(c.text(0, c.n()))})
				continue
			case in.kind == intentAdd:
				prevAdd = len(out)
			default:
				prevAdd = -1
			}
			out = append(out, in)
			from = append(from, c)
		}
	}
	return describeFollowing(out, &m)
}

// scoped reports a clause that names a task for what follows: "for task
// 1", "on the haircut one".
func scoped(c clause) bool {
	c = c.trimPunct()
	return slices.Contains([]string{"for", "on", "about", "re", "regarding"}, c.word(0)) && !parseRefs(c.sub(1, c.n())).empty()
}

// pronounTarget reports an intent whose task is "it".
func pronounTarget(in intent) bool {
	if in.refs.whole.kind == refPronoun {
		return true
	}
	return in.kind == intentUpdate && len(in.splits) > 0 && in.splits[0].target.whole.kind == refPronoun
}

// describeFollowing makes a sentence that asks nothing, right after an
// added task, that task's description ("Add a task to repaint the fence.
// Use the green paint from the shed.").
func describeFollowing(in []intent, m *message) []intent {
	var out []intent
	for _, it := range in {
		if n := len(out); n > 0 && it.kind == intentUnknown && it.say != "" && out[n-1].kind == intentAdd &&
			len(out[n-1].adds) == 1 && out[n-1].adds[0].desc == "" {
			out[n-1].adds[0].desc = it.say
			continue
		}
		out = append(out, it)
	}
	return out
}

// clause is a run of a message's tokens.
type clause struct {
	m    *message
	toks []token
}

func (c clause) n() int { return len(c.toks) }

// word is the lower-case word at i, or "" past the end or at a non-word.
func (c clause) word(i int) string {
	if i < 0 || i >= len(c.toks) {
		return ""
	}
	t := c.toks[i]
	if t.kind == tWord {
		return t.low
	}
	return ""
}

func (c clause) isPunct(i int, p ...string) bool {
	return i >= 0 && i < len(c.toks) && c.toks[i].kind == tPunct && (len(p) == 0 || slices.Contains(p, c.toks[i].low))
}

// text is the original text of tokens [i, j).
func (c clause) text(i, j int) string {
	if i >= j || i < 0 || j > len(c.toks) {
		return ""
	}
	return strings.TrimSpace(c.m.text[c.toks[i].start:c.toks[j-1].end])
}

func (c clause) sub(i, j int) clause {
	i, j = max(i, 0), min(j, len(c.toks))
	if i > j {
		i = j
	}
	return clause{m: c.m, toks: c.toks[i:j]}
}

// at reports whether phrase p's words start at i.
func (c clause) at(i int, p phrase) bool {
	if len(p) == 0 || i+len(p) > len(c.toks) {
		return false
	}
	for k, w := range p {
		if c.toks[i+k].low != w || c.toks[i+k].kind == tQuoted {
			return false
		}
	}
	return true
}

// longest is the length of the longest phrase of list starting at i.
func (c clause) longest(i int, list []phrase) int {
	if i < 0 || i >= len(c.toks) || len(list) == 0 || c.toks[i].kind == tQuoted {
		return 0
	}
	best := 0
	for _, p := range firstWords(list)[c.toks[i].low] {
		if len(p) > best && c.at(i, p) {
			best = len(p)
		}
	}
	return best
}

// firstWords indexes a list of phrases by their first word. The lists are
// the lexicon's and phrases()'s, fixed once made, so each is indexed once,
// by where it lives.
func firstWords(list []phrase) map[string][]phrase {
	key := unsafe.SliceData(list)
	if idx, ok := phraseIndex.Load(key); ok {
		return idx.(map[string][]phrase)
	}
	idx := map[string][]phrase{}
	for _, p := range list {
		if len(p) > 0 {
			idx[p[0]] = append(idx[p[0]], p)
		}
	}
	phraseIndex.Store(key, idx)
	return idx
}

var phraseIndex sync.Map // *phrase (a list's first) → map[string][]phrase

// find is the first index at or after from where a phrase of list starts,
// and its length; -1 when none does.
func (c clause) find(from int, list []phrase) (int, int) {
	for i := from; i < len(c.toks); i++ {
		if n := c.longest(i, list); n > 0 {
			return i, n
		}
	}
	return -1, 0
}

func (c clause) has(list []phrase) bool {
	i, _ := c.find(0, list)
	return i >= 0
}

func (c clause) isQuestion() bool {
	return c.n() > 0 && c.isPunct(c.n()-1, "?")
}

// trimPunct drops punctuation at both ends, and dashes and colons.
func (c clause) trimPunct() clause {
	i, j := 0, c.n()
	for i < j && c.toks[i].kind == tPunct {
		i++
	}
	for j > i && c.toks[j-1].kind == tPunct && !c.closesBracket(j-1) {
		j--
	}
	return c.sub(i, j)
}

// brackets pair closing marks with their openings.
var brackets = map[string]string{")": "(", "]": "[", "}": "{", ">": "<"}

// closesBracket reports a closing bracket at i whose opening comes before
// it: part of the text ("(draft)", "<b>x</b>"), not punctuation around it.
func (c clause) closesBracket(i int) bool {
	open, ok := brackets[c.toks[i].low]
	return ok && slices.ContainsFunc(c.toks[:i], func(t token) bool { return t.kind == tPunct && t.low == open })
}

// abbreviations end in a dot that does not end a sentence.
var abbreviations = []string{"dr", "mr", "mrs", "ms", "st", "vs", "etc", "no", "jr", "sr", "prof", "approx", "e.g", "i.e"}

// sentences cuts a message at . ! ? (not after an abbreviation or a single
// letter).
func sentences(m *message) []clause {
	var out []clause
	start := 0
	for i, t := range m.toks {
		if t.kind != tPunct || !strings.Contains(".!?", t.low) {
			continue
		}
		if t.low == "." && i > 0 && m.toks[i-1].kind == tWord && (slices.Contains(abbreviations, m.toks[i-1].low) || len(m.toks[i-1].low) == 1) {
			continue
		}
		if i+1 < len(m.toks) && m.toks[i+1].kind == tPunct && strings.Contains(".!?", m.toks[i+1].low) {
			continue // "!!!", "??": the last ends it
		}
		out = append(out, clause{m: m, toks: m.toks[start : i+1]})
		start = i + 1
	}
	if start < len(m.toks) {
		out = append(out, clause{m: m, toks: m.toks[start:]})
	}
	return out
}

// clauses cuts a sentence where a second request begins: at ", then" and
// "and then", and at ";", "and" or a comma followed by a verb that names a
// task it acts on
// ("… and mark task 2 done", "…, delete it"). Elsewhere "and" and commas
// belong to a title ("water the cactus and take out the recycling" is
// split later, as items of one add).
func clauses(s clause) []clause {
	var out []clause
	start := 0
	cut := func(i, skip int) {
		if i > start {
			out = append(out, s.sub(start, i))
		}
		start = i + skip
	}
	for i := 0; i < s.n(); i++ {
		switch {
		case s.word(i) == "then" && i > start && (s.isPunct(i-1, ",") || s.word(i-1) == "and"):
			back := i
			if s.isPunct(i-1, ",") || s.word(i-1) == "and" {
				back = i - 1
				if back > start && s.isPunct(back-1, ",") {
					back--
				}
			}
			if back > start {
				out = append(out, s.sub(start, back))
			}
			start = i + 1
		case s.word(i) == "then" && i > start && startsRequest(s.sub(i+1, s.n())):
			cut(i, 1) // "add bread then show my tasks"
		case s.isPunct(i, "-", "—", "–") && i > start && startsRequest(s.sub(i+1, s.n())):
			cut(i, 1) // "the dog thing - mark it done"
		case (s.isPunct(i, ",", ";") || s.word(i) == "and" || s.word(i) == "also" || s.word(i) == "plus") && i > start &&
			(startsRequest(s.sub(i+1, s.n())) || opensVerb(s.sub(i+1, s.n())) && (endsDone(s.sub(start, i)) || s.isPunct(i, ",", ";") && acts(s.sub(start, i)))):
			cut(i, 1) // "…, delete it"; "Feed the cat is finished, delete walk the dog"; "I'm done with X, remove Y"
		}
	}
	if start < s.n() {
		out = append(out, s.sub(start, s.n()))
	}
	return out
}

// endsDone reports a clause that ends in a done word ("… is finished").
func endsDone(c clause) bool {
	c = c.trimPunct()
	for i := 1; i < c.n(); i++ {
		if n := doneAt(c, i); n > 0 && i+n == c.n() {
			return true
		}
	}
	return false
}

// acts reports a clause that is a whole request to complete, delete or
// change a task by itself.
func acts(c clause) bool {
	switch parseClause(c).kind {
	case intentComplete, intentDelete, intentUpdate:
		return true
	}
	return false
}

// opensVerb reports a clause that opens with a verb of the lexicon.
func opensVerb(c clause) bool {
	c, _ = stripLead(c)
	return leadingVerb(c).family != famNone
}

// startsRequest reports whether a clause opens a second request: a verb of
// the lexicon that acts on a task named by number, pronoun, position,
// quotes or the word "task", or a list or add verb with its nouns.
func startsRequest(c clause) bool {
	c, _ = stripLead(c)
	if c.n() == 0 {
		return false
	}
	v := leadingVerb(c)
	if v.family == famNone {
		return false
	}
	rest := c.sub(v.n, c.n())
	switch v.family {
	case famList:
		return rest.has(phrases("tasks", "task", "list", "pending", "completed", "done", "everything", "items"))
	case famAdd:
		return v.alone && rest.n() > 0 || rest.has(phrases("task", "todo", "to-do", "reminder", "note", "item"))
	}
	// The task must be named right after the verb: "delete the old grocery
	// task", not "drop table tasks;-- alert(1)".
	for i, t := range rest.toks {
		if i >= 5 || t.kind == tPunct {
			break
		}
		switch {
		case t.kind == tNumber, t.kind == tQuoted:
			return true
		case slices.Contains([]string{"task", "it", "that", "them", "one", "item", "description", "details", "notes", "note", "title"}, t.low):
			return true
		case positionWords[t.low] != 0 && i < 3:
			return true
		}
	}
	return false
}
