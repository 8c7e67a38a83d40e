package agent

import "slices"

// The parsers of changes to a task's title or description (its priority
// and due date are scheduling.go's).

// ---- updating

// updateSeparators come between a task and its new text.
var updateSeparators = phrases("to", "into", "as", ":", "->", "=>", "=", "so it says", "so it reads", "to say",
	"should say", "should read", "should be", "say", "says",
	"new title", ", new title", "with the title", "with title", "saying", "that says", "-", "—")

// replaceSeparators are "replace task 3 with …"'s.
var replaceSeparators = append(slices.Clip(updateSeparators), phrases("with", "by")...)

// titleFields and descFields name which field a change is to.
var (
	titleFields = phrases("title", "name", "text", "wording")
	descFields  = phrases("description", "details", "detail", "notes", "note", "desc")
)

// parseUpdate reads "rename task 3 to X", "change the haircut task to X",
// "set the description of task 2 to Y", "update task 1's title to X".
func parseUpdate(c clause, n int) (intent, bool) {
	body := c.sub(n, c.n())
	// "set task 3 to done" is a completion, "set it to pending" a reopening.
	if end, state := completeStatus(body); state != "" && end > 0 {
		if state == "reopen" {
			return refuseReopen(), true
		}
		if i, _ := body.find(0, phrases("to", "as", "into", ":")); i >= 0 && i <= end+1 {
			return actOn(intentComplete, body.sub(0, end))
		}
	}
	body, descMode := updateField(body)
	seps := updateSeparators
	switch c.word(0) {
	case "replace": // "replace task 3 with …"
		seps = replaceSeparators
	case "describe": // "describe task 3 as …"
		descMode = true
	}
	splits, descMode, refused := updateSplits(body, descMode, seps)
	if refused.kind != intentUnknown {
		return refused, true
	}
	// "rename task 2 "Feed the cats"": a quoted title after the task.
	if last := body.n() - 1; len(splits) == 0 && last > 0 && body.toks[last].kind == tQuoted {
		if refs := parseRefs(body.sub(0, last)); !refs.empty() && refs.whole.kind != refVague {
			splits = append(splits, updateSplit{target: refs, value: titleText(body.text(last, last+1))})
		}
	}
	if len(splits) == 0 {
		what := "new title"
		if descMode {
			what = "new description"
		}
		say := "What should the " + what + " be? For example: \"Change task 1 to 'Call mom tonight'\"."
		if parseRefs(body).empty() {
			say = "Which task should I change, and to what? For example: \"Change task 1 to 'Call mom tonight'\"."
		}
		return intent{kind: intentAsk, say: say}, true
	}
	return intent{kind: intentUpdate, splits: splits, descMode: descMode}, true
}

// updateField reads which field a change opens with: "the description of
// X …", "the title of X …", "the description to …" (of the task named
// before). It returns the rest and whether the field is the description.
func updateField(body clause) (clause, bool) {
	lead := 0
	for body.word(lead) == "the" || body.word(lead) == "its" || body.word(lead) == "a" {
		lead++
	}
	if k := body.longest(lead, descFields); k > 0 && slices.Contains([]string{"of", "for", "on", "in"}, body.word(lead+k)) {
		return body.sub(lead+k+1, body.n()), true
	}
	if k := body.longest(lead, titleFields); k > 0 && slices.Contains([]string{"of", "for", "on"}, body.word(lead+k)) {
		return body.sub(lead+k+1, body.n()), false
	}
	if k := body.longest(lead, descFields); k > 0 && (body.isPunct(lead+k) || body.word(lead+k) == "to") {
		return body, true
	}
	return body, false
}

// updateSplits are the readings of "X to Y" at each separator, best first;
// or, when the new value is no title ("to high priority", "to pending"),
// what it asks instead.
func updateSplits(body clause, descMode bool, seps []phrase) ([]updateSplit, bool, intent) {
	var splits []updateSplit
	for i := 0; i < body.n(); i++ {
		k := body.longest(i, seps)
		if body.isPunct(i, ",") && body.sub(i+1, body.n()).longest(0, phrases("new title", "so it says")) > 0 {
			k = 1 + body.sub(i+1, body.n()).longest(0, phrases("new title", "so it says"))
		}
		if k == 0 {
			continue
		}
		value := titleText(body.text(i+k, body.n()))
		if value == "" {
			continue
		}
		// "task 3 description: …", "task 1's title to …".
		tDesc, tt := descMode, body.sub(0, i)
		if m := tailLen(tt, descFields); m > 0 {
			tDesc, tt = true, tt.sub(0, tt.n()-m)
		} else if m := tailLen(tt, titleFields); m > 0 {
			tt = tt.sub(0, tt.n()-m)
		}
		if tt.n() > 0 && tt.word(tt.n()-1) == "'s" {
			tt = tt.sub(0, tt.n()-1)
		}
		refs := parseRefs(tt)
		named := tt.n() < body.sub(0, i).n() // "the title to …": of the task talked about
		if refs.empty() && !tDesc && !descMode && !named {
			continue
		}
		if refs.empty() {
			refs = refGroup{whole: ref{kind: refPronoun}}
		}
		if in, ok := valueIntent(refs, value); ok && !tDesc {
			return nil, descMode, in
		}
		if i == 0 && !tDesc {
			continue
		}
		splits = append(splits, updateSplit{target: refs, value: value})
		descMode = tDesc
	}
	return splits, descMode, intent{}
}

// valueIntent reads a new value that is no title: a priority or a due
// date ("change task 2 to high priority", "… to due tomorrow"), which
// change those, or a state ("… to pending"), which no tool sets.
func valueIntent(refs refGroup, v string) (intent, bool) {
	m := tokenize(clean(v))
	c := clause{m: &m, toks: m.toks}
	if a, ok := attrList(c, 0, false, false); ok {
		return scheduleUpdate(refs, a), true
	}
	if c.n() > 0 && slices.Contains([]string{"pending", "incomplete", "open", "undone"}, c.word(0)) && c.n() <= 2 {
		return refuseReopen(), true
	}
	return intent{}, false
}

// parseNoteAdd reads "add a note to task 3: …", "attach a note to the ferns
// task saying …", "put 'X' in the details of task 1", "add a description to
// it: …".
func parseNoteAdd(c clause, n int) (intent, bool) {
	body := c.sub(n, c.n())
	lead := 0
	for slices.Contains([]string{"a", "an", "the", "some"}, body.word(lead)) {
		lead++
	}
	if k := body.longest(lead, descFields); k > 0 && slices.Contains([]string{"to", "on", "for"}, body.word(lead+k)) {
		rest := body.sub(lead+k+1, body.n())
		for i := 1; i < rest.n(); i++ {
			sep := rest.longest(i, phrases(":", "saying", "that says", "-", "—", "which says", "reading"))
			if sep == 0 {
				continue
			}
			refs := parseRefs(rest.sub(0, i))
			value := titleText(rest.text(i+sep, rest.n()))
			if refs.empty() || value == "" {
				continue
			}
			return intent{kind: intentUpdate, splits: []updateSplit{{target: refs, value: value}}, descMode: true}, true
		}
		return intent{kind: intentAsk, say: "What should the note say? For example: \"Add a note to task 2: ask for Sam\"."}, true
	}
	// "put X in the details of task 1".
	if i, k := body.find(1, phrases("in the details of", "in the description of", "in the notes of", "in the notes for",
		"in the details for", "into the details of", "into the description of", "in the description for", "as the description of",
		"as the details of", "as a note on", "as a note to")); i > 0 {
		refs := parseRefs(body.sub(i+k, body.n()))
		value := titleText(body.text(0, i))
		if !refs.empty() && value != "" {
			return intent{kind: intentUpdate, splits: []updateSplit{{target: refs, value: value}}, descMode: true}, true
		}
	}
	return intent{}, false
}

// parseShouldSay reads a task named and then what it should say, with no
// verb: "task 2 should say email the bookkeeper", "it should be called X".
func parseShouldSay(c clause) (intent, bool) {
	i, k := c.find(1, phrases("should say", "should read", "should be called", "should be named", "needs to say"))
	if i < 0 {
		return intent{}, false
	}
	refs := parseRefs(c.sub(0, i))
	named := refs.whole.kind == refID || refs.whole.kind == refPronoun || refs.whole.kind == refPosition ||
		refs.whole.kind == refTitle && c.sub(0, i).has(phrases("task", "one", "item"))
	value := titleText(c.text(i+k, c.n()))
	if !named || value == "" {
		return intent{}, false
	}
	if in, ok := valueIntent(refs, value); ok {
		return in, true
	}
	return intent{kind: intentUpdate, splits: []updateSplit{{target: refs, value: value}}}, true
}
