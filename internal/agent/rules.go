package agent

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/taskchat/taskchat/internal/dates"
)

// The rules that read one clause. Each family parser looks at a clause that
// starts with one of its verbs and says whether it applies.

type family int

const (
	famNone family = iota
	famUpdate
	famComplete
	famDelete
	famAdd
	famList
	famReopen
	famKeep // "leave task 3 open": nothing to do
)

// verbMatch is a clause's leading verb: its family, how many tokens it
// takes, and for adds whether it adds on its own.
type verbMatch struct {
	family family
	n      int
	alone  bool
}

var families = []struct {
	family family
	verbs  []phrase
}{
	{famUpdate, updateVerbs},
	{famComplete, completeVerbs},
	{famDelete, deleteVerbs},
	{famAdd, addVerbs},
	{famList, listVerbs},
	{famReopen, phrases("reopen", "re-open", "uncheck", "untick", "unmark", "undo", "restore")},
	{famKeep, phrases("leave", "keep")},
}

// verbForms are the forms a leading verb may take: as typed, and without
// -ing or -ed ("marking", "completed", "ticked off").
func verbForms(w string) []string {
	out := []string{w}
	for _, suf := range []string{"ing", "ed", "d"} {
		base, ok := strings.CutSuffix(w, suf)
		if !ok || len(base) < 2 {
			continue
		}
		out = append(out, base, base+"e")
		if n := len(base); n >= 2 && base[n-1] == base[n-2] {
			out = append(out, base[:n-1]) // "getting" → "get"
		}
	}
	return out
}

// leadingVerbs are the verbs a clause may start with, longest first; a
// word in several families ("set", "put", "check") gives each.
func leadingVerbs(c clause) []verbMatch {
	var out []verbMatch
	if c.n() == 0 || c.toks[0].kind != tWord {
		return nil
	}
	forms := verbForms(c.toks[0].low)
	for _, f := range families {
		best := 0
		for _, form := range forms {
			for _, p := range firstWords(f.verbs)[form] {
				if len(p) <= best || len(p) > c.n() {
					continue
				}
				if len(p) == 1 || c.sub(1, c.n()).at(0, p[1:]) {
					best = len(p)
				}
			}
		}
		if best > 0 {
			alone := false
			if f.family == famAdd {
				for _, p := range addVerbsAlone {
					alone = alone || (len(p) == best && c.sub(0, best).at(0, p)) || (len(p) == best && slices.Contains(forms, p[0]) && best == 1)
				}
			}
			out = append(out, verbMatch{family: f.family, n: best, alone: alone})
		}
	}
	slices.SortStableFunc(out, func(a, b verbMatch) int { return b.n - a.n })
	return out
}

func leadingVerb(c clause) verbMatch {
	if v := leadingVerbs(c); len(v) > 0 {
		return v[0]
	}
	return verbMatch{}
}

// stripLead drops the fillers that open a request ("please", "can you",
// "ok so"); request says a request frame ("could you …") was among them.
func stripLead(c clause) (clause, bool) {
	request := false
	for {
		c = c.trimLeadPunct()
		n := c.longest(0, leadFillers)
		if n == 0 || n == c.n() {
			return c, request
		}
		if slices.Contains([]string{"can", "could", "would", "will", "do", "are", "i'd", "i", "go", "let's", "lets"}, c.word(0)) {
			request = true
		}
		c = c.sub(n, c.n())
	}
}

func (c clause) trimLeadPunct() clause {
	i := 0
	for i < c.n() && c.toks[i].kind == tPunct && c.toks[i].low != "#" {
		i++
	}
	return c.sub(i, c.n())
}

// stripTail drops the fillers that close a request ("please", "for me",
// "thanks"), and the punctuation around them, keeping a final "?".
func stripTail(c clause) clause {
	q := c.isQuestion()
	for {
		j := c.n()
		for j > 0 && c.toks[j-1].kind == tPunct && !c.closesBracket(j-1) {
			j--
		}
		c = c.sub(0, j)
		cut := 0
		for _, p := range tailFillers {
			if len(p) > cut && len(p) < c.n() && c.at(c.n()-len(p), p) {
				cut = len(p)
			}
		}
		if cut == 0 {
			break
		}
		c = c.sub(0, c.n()-cut)
	}
	if q {
		c.toks = append(slices.Clip(c.toks), token{kind: tPunct, low: "?", start: len(c.m.text), end: len(c.m.text)})
	}
	return c
}

// parseClause reads one clause into an intent.
func parseClause(c clause) intent {
	if k, ok := chitChat(c); ok {
		return intent{kind: k}
	}
	c, request := stripLead(c)
	c = stripTail(c)
	if k, ok := chitChat(c); ok {
		return intent{kind: k}
	}
	in := parseRequest(c, request)
	if in.kind == intentUnknown || in.weak {
		// Typos in the words that carry the request: read it again fixed,
		// and take that reading if it is a better one.
		if fixed, ok := corrected(c); ok {
			if again := parseRequest(fixed, request); again.kind != intentUnknown && !again.weak {
				return again
			}
		}
	}
	if in.kind == intentUnknown {
		in.say = c.trimPunct().text(0, c.trimPunct().n())
	}
	return in
}

// chatFillers carry no meaning in chit-chat.
var chatFillers = append(slices.Clip(leadFillers), phrases("for now", "for today", "for tonight", "for the day", "today", "tonight",
	"there", "so much", "again")...)

// chitChat reports a clause made only of greetings, thanks, declines,
// goodbyes, help and fillers, and which of them it is (goodbye over thanks
// over a decline over a greeting).
func chitChat(c clause) (intentKind, bool) {
	c = c.trimPunct()
	if c.n() == 0 {
		return intentGreet, true
	}
	if c.longest(0, helpRequests) == c.n() {
		return intentHelp, true
	}
	kind, found := intentUnknown, false
	rank := map[intentKind]int{intentGreet: 1, intentDecline: 2, intentThanks: 3, intentBye: 4}
	for i := 0; i < c.n(); {
		if c.toks[i].kind == tPunct {
			i++
			continue
		}
		best, bestKind := 0, intentUnknown
		for _, g := range []struct {
			k    intentKind
			list []phrase
		}{{intentBye, goodbyes}, {intentThanks, thanks}, {intentDecline, declines}, {intentGreet, greetings}} {
			if n := c.longest(i, g.list); n > best {
				best, bestKind = n, g.k
			}
		}
		if n := c.longest(i, chatFillers); n > best {
			i += n
			continue
		}
		if best == 0 {
			return intentUnknown, false
		}
		if rank[bestKind] > rank[kind] {
			kind = bestKind
		}
		found = true
		i += best
	}
	return kind, found
}

// corrected is the clause with typos fixed in its first two words and in
// the words the lexicon knows ("ad a taks" is "add a task").
func corrected(c clause) (clause, bool) {
	toks := slices.Clone(c.toks)
	changed := false
	for i := range toks {
		if toks[i].kind != tWord {
			continue
		}
		w := correct(toks[i].low)
		if i >= 2 {
			w = correctNoun(toks[i].low) // past the verb, only "taks" and the like
		}
		if w != toks[i].low {
			toks[i].low, changed = w, true
		}
	}
	return clause{m: c.m, toks: toks}, changed
}

// negations turn a statement around ("I didn't email the accountant").
var negations = []string{"not", "no", "never", "don't", "didn't", "doesn't", "haven't", "hasn't", "hadn't", "isn't",
	"aren't", "wasn't", "weren't", "won't", "wouldn't", "can't", "cannot", "shouldn't", "mustn't", "nothing", "nobody"}

func negated(c clause) bool {
	for _, t := range c.toks {
		if t.kind == tWord && slices.Contains(negations, t.low) {
			return true
		}
	}
	return false
}

// parseRequest reads a clause whose fillers are gone: the first rule of
// requestRules that reads it wins.
func parseRequest(c clause, request bool) intent {
	question := c.isQuestion() && !request
	c = c.trimPunct()
	if c.n() == 0 {
		return intent{kind: intentUnknown}
	}
	for _, rule := range requestRules {
		if in, ok := rule(c, question); ok {
			return in
		}
	}
	return intent{kind: intentUnknown}
}

// requestRules are the readings of a clause, in the order they are tried.
var requestRules = []func(c clause, question bool) (intent, bool){
	// "how do I delete a task?"
	func(c clause, question bool) (intent, bool) { return intent{kind: intentHelp}, question && isHowTo(c) },
	parseTimedReminder,
	// "don't let me forget to …" before negation makes it nothing.
	func(c clause, _ bool) (intent, bool) { return parseAddFrame(c, true) },
	func(c clause, _ bool) (intent, bool) { return parseAddFrame(c, false) },
	// "done!": which task?
	func(c clause, question bool) (intent, bool) {
		if question || c.n() != 1 || c.longest(0, doneWords) != 1 {
			return intent{}, false
		}
		return actOn(intentComplete, c.sub(1, 1))
	},
	parseAgenda,
	func(c clause, _ bool) (intent, bool) { return parseList(c) },
	parseNegated,
	// Any other question is about the tasks, answered with the list.
	func(c clause, question bool) (intent, bool) {
		if !question {
			return intent{}, false
		}
		about := c.has(listNouns) || c.has(doneWords) || c.has(completedWords) || c.has(pendingWords) ||
			leadingVerb(c).family != famNone || c.hasNumber()
		if about {
			return intent{kind: intentStatus}, true
		}
		return intent{kind: intentUnknown}, true
	},
	func(c clause, _ bool) (intent, bool) { return parseSchedule(c) },
	func(c clause, _ bool) (intent, bool) { return parseUnsupported(c) },
	// "Delete old photos is done" reports a task done; it is no delete.
	func(c clause, _ bool) (intent, bool) {
		if v := leadingVerb(c); (v.family == famDelete || v.family == famUpdate) && reportsDone(c) {
			return parseStatusAfter(c)
		}
		return intent{}, false
	},
	parseVerb,
	func(c clause, _ bool) (intent, bool) { return parseDoneFrame(c) },
	func(c clause, _ bool) (intent, bool) { return parseStatusAfter(c) },
	func(c clause, _ bool) (intent, bool) { return parseFieldAfter(c) },
	func(c clause, _ bool) (intent, bool) { return parseShouldSay(c) },
	func(c clause, _ bool) (intent, bool) { return parsePastTense(c) },
	func(c clause, _ bool) (intent, bool) { return parseParticipleAfter(c) },
	// "never mind the accountant email"
	func(c clause, _ bool) (intent, bool) {
		if strings.HasPrefix(c.word(0), "never") && c.word(1) == "mind" {
			return mention(c.sub(2, c.n())), true
		}
		return intent{}, false
	},
	func(c clause, _ bool) (intent, bool) { return parseAlso(c) },
}

// parseTimedReminder refuses "remind me tomorrow at 9 to …": taskchat
// sends no reminders, and a request for one changes nothing (see the README, "What it refuses").
// When the time and the task can be read, the reply says how to keep the
// task with that due date instead.
func parseTimedReminder(c clause, _ bool) (intent, bool) {
	remind := c.at(0, phrase{"remind", "me"}) || c.at(0, phrase{"remind", "us"})
	if !remind || c.longest(0, addFrames) > 0 {
		return intent{}, false
	}
	when := phrases("at", "on", "in", "tomorrow", "tonight", "every", "next", "later", "this", "before", "after", "by")
	if !c.hasNumber() && c.sub(2, c.n()).longest(0, when) == 0 {
		return intent{}, false
	}
	say := "I can't send reminders at a set time, so nothing changed. Say \"add a task to …, due …\" to put it on your list with a due date."
	tos := phrases("to", "about", "that i need to", "that i have to")
	if to, _ := c.find(2, tos); to >= 3 {
		due := strings.TrimSpace(dueWords(c, 2, to))
		adds, _ := addItems(c.sub(to+c.longest(to, tos), c.n()), true)
		if dates.Whole(due) && len(adds) == 1 {
			due = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(due, "at "), "on "))
			say = fmt.Sprintf("I can't send reminders at a set time, so nothing changed. Say \"add %s, due %s\" to put it on your list with that due date.",
				lowerFirst(adds[0].title), due)
		}
	}
	return intent{kind: intentRefuse, say: say}, true
}

// lowerFirst puts a title's first letter in lower case, to quote it
// inside a sentence; an acronym ("ATM run") stays as it is.
func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if next, _ := utf8.DecodeRuneInString(s[n:]); n == 0 || unicode.IsUpper(next) {
		return s
	}
	return string(unicode.ToLower(r)) + s[n:]
}

// parseNegated reads a negated clause, which changes nothing: "I didn't
// feed the cat" names a task for a later "it"; "mark task 1 as not done"
// asks to reopen it, which no tool can.
func parseNegated(c clause, _ bool) (intent, bool) {
	if !negated(c) {
		return intent{}, false
	}
	if _, state := completeStatus(c); state == "reopen" && leadingVerb(c).family != famNone {
		return refuseReopen(), true
	}
	return mention(c), true
}

// parseVerb reads a clause by its leading verb, trying each verb the
// clause may open with, longest first.
func parseVerb(c clause, _ bool) (intent, bool) {
	for _, v := range leadingVerbs(c) {
		var in intent
		var ok bool
		switch v.family {
		case famUpdate:
			in, ok = parseUpdate(c, v.n)
		case famComplete:
			in, ok = parseComplete(c, v.n)
		case famDelete:
			in, ok = parseDelete(c, v.n)
		case famAdd:
			in, ok = parseAdd(c, v)
		case famReopen:
			in, ok = refuseReopen(), true
		case famKeep:
			in, ok = mention(c.sub(v.n, c.n())), true
		}
		if ok {
			return in, true
		}
	}
	return intent{}, false
}

// parseAlso reads "and task 4 too", "number 2 as well": the last thing done
// in the conversation, to the tasks named. Only numbers and positions
// count, so a title alone is never taken for a request.
func parseAlso(c clause) (intent, bool) {
	n := tailLen(c, phrases("too", "as well", "also"))
	if n == 0 {
		return intent{}, false
	}
	refs := parseRefs(c.sub(0, c.n()-n))
	for _, r := range append([]ref{refs.whole}, refs.parts...) {
		if len(refs.parts) > 0 && r == refs.whole {
			continue
		}
		if r.kind != refID && r.kind != refPosition {
			return intent{}, false
		}
	}
	return intent{kind: intentAlso, refs: refs}, true
}

func (c clause) hasNumber() bool {
	return slices.ContainsFunc(c.toks, func(t token) bool { return t.kind == tNumber })
}

// isHowTo reports a question about using taskchat rather than about tasks.
func isHowTo(c clause) bool {
	return c.at(0, phrase{"how", "do", "i"}) || c.at(0, phrase{"how", "can", "i"}) || c.at(0, phrase{"how", "to"}) ||
		c.has(phrases("mean", "supported", "support", "possible", "able to", "allowed"))
}

// mention reads a clause that names a task without asking anything of it:
// its task, if it names one, is what a later "it" means.
func mention(c clause) intent {
	skip := phrases("i", "we", "you", "i'm", "'m", "i've", "'ve", "really", "actually", "don't", "do", "not", "no", "longer",
		"need", "want", "care", "about", "mind", "never", "didn't", "haven't", "won't", "anymore", "any", "more",
		"at", "all", "open", "for", "now", "pending", "as", "is", "it")
	i, j := 0, c.n()
	for i < j && (c.longest(i, skip) > 0 || c.toks[i].kind == tPunct) {
		i += max(c.longest(i, skip), 1)
	}
	for j > i && (c.toks[j-1].kind == tPunct || slices.Contains([]string{"anymore", "more", "now", "all", "open", "pending", "yet"}, c.word(j-1))) {
		j--
	}
	in := intent{kind: intentMention}
	if i < j {
		in.refs = parseRefs(c.sub(i, j))
	}
	return in
}

func refuseReopen() intent {
	return intent{kind: intentRefuse, say: "I can't reopen a finished task: the tools only complete, change and delete tasks. You could add it again as a new task."}
}

// namesTaskFirst reports words that open with a task named by number or
// pronoun: "task 2 …", "#2 …", "it …".
func namesTaskFirst(c clause) bool {
	i := 0
	for slices.Contains([]string{"the", "my"}, c.word(i)) {
		i++
	}
	if slices.Contains([]string{"task", "item", "number", "todo"}, c.word(i)) {
		i++
	}
	if i < c.n() && c.toks[i].kind == tNumber {
		return true
	}
	if _, n := readNumber(c.toks[i:]); n > 0 && i > 0 {
		return true
	}
	return slices.Contains([]string{"it", "that", "this", "them"}, c.word(i))
}

// Unsupported fields, by the shapes that ask for them ("tag task 3 as
// work", "assign it to Sam") rather than by any word alone, so a
// title that contains one of the words stays a title.
var unsupportedShapes = []struct {
	shapes []phrase
	what   string
}{
	{phrases("tag", "tags", "label", "labels", "category"), "I can't tag tasks"},
	{phrases("assign", "assigned", "delegate"), "I can't assign tasks to people"},
	{phrases("set a reminder", "remind me at", "remind me on", "remind me in", "remind me tomorrow", "remind me tonight",
		"remind me every", "notify", "notification", "alert me"), "I can't send reminders at a time"},
	{phrases("recurring", "repeat", "repeating", "every day", "every week", "every month", "each week", "each day"), "I can't make tasks repeat"},
}

// parseUnsupported refuses a request about a task's tags, assignee,
// reminders or repetition: the tools have none of them.
// Quoted text and what follows "to", ":" in a rename are titles.
func parseUnsupported(c clause) (intent, bool) {
	end := c.n()
	v := leadingVerb(c)
	if v.family == famNone && !c.hasNumber() && !c.has(phrases("task", "tasks", "it", "one", "item")) {
		return intent{}, false // not about a task: "check the smoke alarm" is a title
	}
	switch v.family {
	case famAdd:
		// "make task 2 a work task" is about task 2; "add a tag
		// printer" is a title.
		if !namesTaskFirst(c.sub(v.n, c.n())) {
			return intent{}, false
		}
	case famUpdate:
		// Only the part before the new text: "change the tag of task 2
		// to work", not "rename task 2 to Tag the photos".
		if i, _ := c.find(1, updateSeparators); i > 0 {
			end = i
		}
	}
	for i := range end {
		if c.toks[i].kind == tQuoted {
			continue
		}
		for _, u := range unsupportedShapes {
			if n := c.longest(i, u.shapes); n > 0 {
				return intent{kind: intentRefuse, say: u.what + ", so I left your tasks as they are. I can add, list, complete, rename and delete tasks, and give them a priority and a due date."}, true
			}
		}
	}
	return intent{}, false
}

// titleOf cleans a title as typed: quotes around it and stray punctuation
// at its ends go, all-caps becomes sentence case, the first letter is a
// capital.
func titleOf(s string) string {
	s = strings.TrimSpace(s)
	for {
		t := strings.TrimFunc(s, func(r rune) bool {
			return r == ' ' || r == ',' || r == ';' || r == ':' || r == '-' || r == '—' || r == '–' || r == '!' || r == '?' || r == '.' && !strings.HasSuffix(s, "..")
		})
		t = unquote(t)
		if t == s {
			break
		}
		s = t
	}
	if strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "..") && strings.Count(s, ".") == 1 {
		s = strings.TrimSuffix(s, ".")
	}
	if letters := strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) {
			return r
		}
		return -1
	}, s); len(letters) > 3 && strings.ToUpper(letters) == letters {
		s = strings.ToLower(s)
	}
	return capitalize(s)
}

// quoteClose pairs an opening quote mark with the marks that close it.
var quoteClose = map[rune]string{'"': `"”`, '“': `”"`, '\'': `'’`, '‘': `’'`, '«': "»", '`': "`", '”': `”"`}

// unquote strips one pair of matching quotes around s.
func unquote(s string) string {
	first, n := utf8.DecodeRuneInString(s)
	last, m := utf8.DecodeLastRuneInString(s)
	if closes, ok := quoteClose[first]; ok && len(s) > n+m && strings.ContainsRune(closes, last) {
		inner := s[n : len(s)-m]
		if first != '\'' && first != '‘' && strings.ContainsAny(inner, closes) {
			return s // "a" and "b": two quoted parts, not one
		}
		return strings.TrimSpace(inner)
	}
	return s
}

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}
