package agent

import (
	"slices"
	"strings"
)

// The parsers of completions and deletions.

// ---- completing

// statusTails say a task is done when they end a clause ("… is done").
var copulas = phrases("is", "are", "'s", "has been", "have been", "was", "were", "is now", "are now", "are both",
	"is all", "are all", "status", "status is", "now")

// modals before a state say it is still to come.
var modals = phrases("should be", "must be", "needs to be", "need to be", "has to be", "have to be", "will be", "to be",
	"should get", "gotta be", "ought to be")

// doneAt reports the length of a done phrase at i ("done", "all finished",
// "complete now"), or 0.
func doneAt(c clause, i int) int {
	n := c.longest(i, doneWords)
	if n == 0 {
		return 0
	}
	return n
}

// completeStatus reads "… (as) done" at the end of a completion verb's
// object; it returns where the object ends, or -1 when it has no status.
func completeStatus(c clause) (int, string) {
	for i := 1; i < c.n(); i++ { // the longest ending first: "not done" before "done"
		if pn := c.longest(i, reopenWords); pn > 0 && i+pn == c.n() {
			return i, "reopen"
		}
		n := doneAt(c, i)
		if n > 0 && i+n == c.n() {
			j := i
			for j > 0 && slices.Contains([]string{"as", "to", "into", "in", "over", "the", "be", "being"}, c.word(j-1)) {
				j--
			}
			return j, "done"
		}
	}
	// "put task 1 in the completed column", "move it to done".
	if i, n := c.find(1, phrases("completed column", "done column", "finished column", "done pile", "completed list", "done list")); i > 0 && i+n == c.n() {
		j := i
		for j > 0 && slices.Contains([]string{"in", "into", "to", "the", "over"}, c.word(j-1)) {
			j--
		}
		return j, "done"
	}
	return -1, ""
}

// parseComplete reads "complete task 3", "mark X as done", "tick X off".
func parseComplete(c clause, n int) (intent, bool) {
	w := c.word(0)
	needsStatus := slices.Contains([]string{"mark", "marking", "marked", "flag", "set", "switch", "move", "put"}, w) && c.word(1) != "off"
	obj := c.sub(n, c.n())
	end, state := completeStatus(obj)
	switch {
	case state == "reopen":
		return refuseReopen(), true
	case needsStatus && end < 0:
		return intent{}, false
	case end >= 0:
		obj = obj.sub(0, end)
	}
	// "tick the haircut one off", "check it off".
	if slices.Contains([]string{"tick", "check", "cross", "knock", "strike"}, strings.TrimSuffix(strings.TrimSuffix(w, "ed"), "ing")) && n == 1 {
		if obj.n() > 0 && obj.word(obj.n()-1) == "off" {
			obj = obj.sub(0, obj.n()-1)
		} else if end < 0 {
			return intent{}, false
		}
	}
	if obj.word(0) == "with" {
		obj = obj.sub(1, obj.n())
	}
	return actOn(intentComplete, obj)
}

// parseDoneFrame reads "I've finished X", "I'm done with X", "I completed X".
func parseDoneFrame(c clause) (intent, bool) {
	// "done planning the trip", "finished reading chapter 2".
	if n := c.longest(0, phrases("done", "finished", "through", "all done")); n > 0 && strings.HasSuffix(c.word(n), "ing") && len(c.word(n)) > 5 {
		return actOn(intentComplete, c.sub(n, c.n()))
	}
	i := 0
	for c.word(i) == "i" || c.word(i) == "we" || c.word(i) == "'ve" || c.word(i) == "'m" || c.word(i) == "have" || c.word(i) == "am" ||
		c.word(i) == "just" || c.word(i) == "finally" || c.word(i) == "already" || c.word(i) == "now" || c.word(i) == "also" {
		i++
	}
	if i == 0 {
		return intent{}, false
	}
	rest := c.sub(i, c.n())
	n := rest.longest(0, phrases("finished", "finished with", "finish", "completed", "complete", "done", "done with",
		"through with", "ticked off", "checked off", "crossed off", "wrapped up", "knocked off", "dealt with", "sorted"))
	if n == 0 {
		return intent{}, false
	}
	obj := rest.sub(n, rest.n())
	if obj.n() == 0 {
		return intent{kind: intentBye}, true // "I'm done"
	}
	if slices.Contains([]string{"for", "here"}, obj.word(0)) {
		return intent{kind: intentBye}, true // "I'm finished for now"
	}
	return actOn(intentComplete, obj)
}

// parseStatusAfter reads a task named and then its state: "the ferns are
// done", "task 3: done", "Send the list to Tom — done", "done: book a
// haircut", "task 2 status: done".
func parseStatusAfter(c clause) (intent, bool) {
	// "done: X".
	if n := doneAt(c, 0); n > 0 && c.isPunct(n, ":", "-", "—") {
		return actOn(intentComplete, c.sub(n+1, c.n()))
	}
	for i := 1; i < c.n(); i++ {
		n := doneAt(c, i)
		if n == 0 || i+n != c.n() {
			continue
		}
		j := i
		for j > 0 && c.isPunct(j-1) {
			j--
		}
		if tailLen(c.sub(0, j), modals) > 0 {
			return intent{}, false // "task 2 should be done" is still to do
		}
		if k := tailLen(c.sub(0, j), copulas); k > 0 {
			j -= k
		}
		for j > 0 && c.isPunct(j-1) {
			j--
		}
		if j == 0 {
			return intent{}, false
		}
		return actOn(intentComplete, c.sub(0, j))
	}
	return intent{}, false
}

// reportsDone reports a clause that ends by saying its task is done
// ("… is done", "… — finished") with no comma before: a statement about a
// title, whatever verb the title starts with.
func reportsDone(c clause) bool {
	for i := 1; i < c.n(); i++ {
		n := doneAt(c, i)
		if n == 0 || i+n != c.n() {
			continue
		}
		before := c.sub(0, i)
		if before.has(phrases(",", ";")) {
			return false
		}
		return tailLen(before, copulas) > 0 || before.isPunct(before.n()-1, ":", "-", "—", "–")
	}
	return false
}

// parseFieldAfter reads a task named and then a field: "task 2 details:
// mention the discount".
func parseFieldAfter(c clause) (intent, bool) {
	// "note for task 2: wet food only".
	if k := c.longest(0, descMarkers); k > 0 && slices.Contains([]string{"for", "on", "to"}, c.word(k)) {
		if i, _ := c.find(k+1, phrases(":", "-", "—")); i > k+1 {
			refs := parseRefs(c.sub(k+1, i))
			named := refs.whole.kind == refID || refs.whole.kind == refPronoun ||
				refs.whole.kind == refTitle && c.sub(k+1, i).has(phrases("task", "one", "item"))
			if value := titleText(c.text(i+1, c.n())); value != "" && named {
				return intent{kind: intentUpdate, splits: []updateSplit{{target: refs, value: value}}, descMode: true}, true
			}
		}
	}
	// "give task 1 the description: long walk".
	from := 0
	if c.word(0) == "give" {
		from = 1
	}
	for i := 1; i < c.n(); i++ {
		n := c.longest(i, descMarkers)
		if n == 0 || !c.isPunct(i+n, ":", "-", "—") {
			continue
		}
		end := i
		for end > from && slices.Contains([]string{"the", "a", "its", "new"}, c.word(end-1)) {
			end--
		}
		refs := parseRefs(c.sub(from, end))
		if refs.whole.kind != refID && refs.whole.kind != refPronoun {
			return intent{}, false
		}
		value := titleText(c.text(i+n+1, c.n()))
		if value == "" {
			return intent{}, false
		}
		return intent{kind: intentUpdate, splits: []updateSplit{{target: refs, value: value}}, descMode: true}, true
	}
	return intent{}, false
}

// parsePastTense reads a task reported done: "I booked the haircut",
// "watered the ferns", "fixed the bike tire!". The verb, in the present,
// must be the title's first word.
func parsePastTense(c clause) (intent, bool) {
	i := 0
	for slices.Contains([]string{"i", "we", "'ve", "have", "just", "finally", "already", "yay", "so", "also"}, c.word(i)) {
		i++
	}
	present, ok := pastForm(c.word(i))
	if !ok {
		return intent{}, false
	}
	obj := c.sub(i+1, c.n())
	if obj.n() == 0 {
		return intent{}, false
	}
	r := ref{kind: refTitle, text: c.text(i, c.n()), verb: present}
	return intent{kind: intentComplete, refs: refGroup{whole: r}, weak: true}, true
}

// parseParticipleAfter reads a task named and then done in the past
// participle: "dog walked", "the sink is fixed", "plumber called". The
// participle, in the present, must be the title's first word ("Walk the
// dog").
func parseParticipleAfter(c clause) (intent, bool) {
	last := c.n() - 1
	present, ok := pastForm(c.word(last))
	if !ok || last == 0 {
		return intent{}, false
	}
	obj := c.sub(0, last)
	if k := tailLen(obj, copulas); k > 0 {
		obj = obj.sub(0, obj.n()-k)
	}
	obj = obj.trimPunct()
	if obj.n() == 0 || obj.n() > 6 || obj.hasNumber() || leadingVerb(obj).family != famNone ||
		obj.has(phrases("i", "we", "you", "it", "need", "needs", "want", "wants", "to be", "should", "must", "will", "gets", "get", "got")) {
		return intent{}, false // "the sink needs to be fixed" is still to do
	}
	r := ref{kind: refTitle, text: present + " " + obj.text(0, obj.n()), verb: present}
	return intent{kind: intentComplete, refs: refGroup{whole: r}, weak: true}, true
}

// pastForm is the present of a past tense or participle ("walked", "paid"),
// and whether w is one.
func pastForm(w string) (string, bool) {
	if present, ok := pastTense[w]; ok {
		return present, true
	}
	base, isPast := strings.CutSuffix(w, "ed")
	if !isPast || len(base) < 3 || strings.HasSuffix(w, "eed") {
		return "", false // "need", "feed" are not past tenses
	}
	return base, true
}

// ---- deleting

// parseDelete reads "delete task 3", "remove the haircut task from my list",
// "take the ferns off my list".
func parseDelete(c clause, n int) (intent, bool) {
	obj := c.sub(n, c.n())
	if c.word(0) == "take" && n == 1 {
		// "take X off (my list)": the "off" is the verb's.
		k := -1
		for i := range obj.n() {
			if obj.word(i) == "off" || obj.word(i) == "out" && obj.word(i+1) == "of" {
				k = i
			}
		}
		if k < 0 {
			return intent{}, false
		}
		obj = obj.sub(0, k)
	}
	if slices.Contains([]string{"clear", "forget", "drop", "cancel"}, c.word(0)) && obj.n() > 0 && obj.word(0) == "it" && obj.n() > 2 {
		return intent{}, false
	}
	return actOn(intentDelete, obj)
}

// ---- completing and deleting alike

// actOn makes a complete or delete intent on the tasks obj names, or asks
// when it names none, or refuses when it names them all.
func actOn(kind intentKind, obj clause) (intent, bool) {
	obj = obj.trimPunct()
	if bulk(obj) {
		what := "delete"
		if kind == intentComplete {
			what = "complete"
		}
		return intent{kind: intentRefuse, bulk: kind, say: "I " + what + " tasks one at a time, so nothing changes by accident. Say \"show my tasks\" to see their numbers, then for example \"" + what + " task 3\"."}, true
	}
	refs := parseRefs(obj)
	if refs.empty() || refs.whole.kind == refVague {
		what := map[intentKind]string{intentComplete: "mark as done", intentDelete: "delete"}[kind]
		return intent{kind: intentAsk, say: "Which task should I " + what + "? Tell me its number, or say \"show my tasks\" to see them."}, true
	}
	return intent{kind: kind, refs: refs}, true
}

// bulk reports a reference to many tasks at once: "everything", "all my
// tasks", "the done ones", "whatever I've completed".
func bulk(c clause) bool {
	if c.has(allWords) && (c.has(listNouns) || c.has(pendingWords) || c.has(completedWords) || c.n() <= 3) {
		return true
	}
	// "the done ones", "the finished tasks", "completed tasks": state words
	// choose no task by its title.
	for i := 0; i < c.n(); i++ {
		if n := c.longest(i, completedWords); n > 0 && slices.Contains([]string{"ones", "tasks", "items", "things", "todos", "stuff"}, c.word(i+n)) {
			return true
		}
	}
	// "remove completed", "clear the finished": a state alone.
	i := 0
	for slices.Contains([]string{"the", "all", "my", "any"}, c.word(i)) {
		i++
	}
	if rest := c.sub(i, c.n()); rest.n() > 0 && (rest.longest(0, completedWords) == rest.n() || rest.longest(0, pendingWords) == rest.n()) {
		return true
	}
	// "wipe my list", "clear my to-do list".
	if rest := c.sub(i, c.n()); rest.n() > 0 && rest.longest(0, phrases("list", "to-do list", "todo list", "to do list", "task list", "tasks", "todos", "lists", "slate")) == rest.n() {
		return true
	}
	return c.at(0, phrase{"the", "lot"}) || c.at(0, phrase{"everything"})
}
