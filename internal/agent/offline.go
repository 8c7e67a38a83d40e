package agent

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Offline is the agent that needs no model: it parses the message into one
// intent with fixed rules and calls the tools itself. It is deterministic: the
// same message against the same tasks gives the same answer.
type Offline struct{}

// Name implements Agent.
func (Offline) Name() string { return "offline" }

// Instant implements Agent: the parser never waits.
func (Offline) Instant() bool { return true }

type intentKind int

const (
	intentUnknown intentKind = iota
	intentGreet
	intentHelp
	intentThanks
	intentBye
	intentList
	intentAdd
	intentComplete
	intentDelete
	intentUpdate
	intentDeleteAll
)

// ref names a task by number or by words from its title.
type ref struct {
	id   int64
	text string
}

type intent struct {
	kind   intentKind
	filter string  // list: all, pending or completed
	title  string  // add: the title; update: the new title
	desc   *string // add/update: a description, when given
	ref    ref     // complete/delete/update: the task
}

// Patterns are matched against the message with polite wrapping removed;
// captures keep the person's own casing.
var (
	rePolite = regexp.MustCompile(`(?i)^(?:please|pls|plz|kindly|ok(?:ay)?|so|and|now|also|then|hey|hi|hello|taskchat|bot|assistant|(?:can|could|would|will) you(?: please)?|i(?:'d| would) like (?:you )?to|i want (?:you )?to|go ahead and|let'?s)[\s,!:.]+`)
	reTail   = regexp.MustCompile(`(?i)[\s,]*(?:please|pls|for me|thanks|thank you|now)?[\s?!.]*$`)

	reGreet  = regexp.MustCompile(`(?i)^(?:hi|hello|hey|hiya|howdy|yo|hola|greetings|good (?:morning|afternoon|evening|day)|what'?s up|sup)(?:\s+(?:there|taskchat|bot|assistant|friend))?$`)
	reHelp   = regexp.MustCompile(`(?i)^(?:help|help me|\?+|what can you do|what do you do|how does (?:this|it) work|how do i use (?:this|you|it)|commands|usage|menu|options|what are your commands)$`)
	reThanks = regexp.MustCompile(`(?i)^(?:thanks|thank you(?: so much| very much)?|thx|ty|cheers|great|awesome|perfect|cool|nice|ok|okay|got it)$`)
	reBye    = regexp.MustCompile(`(?i)^(?:bye|goodbye|good bye|see you(?: later)?|see ya|good night|later)$`)

	reListVerb = regexp.MustCompile(`(?i)^(?:show|list|display|view|see|get|give|tell|print|read|check|what|what's|whats|which|do i have|how many|any|anything)\b`)
	reListNoun = regexp.MustCompile(`(?i)\b(?:tasks?|to-?dos?|to do|list|items?|agenda|pending|left|remaining|open|outstanding|unfinished|incomplete|completed|complete|done|finished|finish|did|do|accomplished)\b`)
	reBareList = regexp.MustCompile(`(?i)^(?:(?:all |my |the )*(?:(?:pending|open|completed|finished|done|remaining|outstanding) )?(?:tasks?|to-?dos?|to-?do list|list)|pending|completed|remaining)$`)
	reNotDone  = regexp.MustCompile(`(?i)\b(?:not (?:yet )?(?:done|complete|completed|finished)|incomplete|unfinished|undone)\b`)
	reDoneWord = regexp.MustCompile(`(?i)\b(?:completed|complete|done|finished|finish|accomplished|achieved|ticked off|checked off)\b`)
	rePendWord = regexp.MustCompile(`(?i)\b(?:pending|left|remaining|open|outstanding|still|have to do|need to do|got to do|to do next|due)\b`)

	reUpdateQuoted = regexp.MustCompile(`(?i)^(?:change|update|rename|edit|modify|retitle)\s+(?:the\s+)?(?:task\s+)?(["'“‘])(.+?)["'”’]\s+(?:to|into|as|->|=>)\s+(.+)$`)
	reUpdate       = regexp.MustCompile(`(?i)^(?:change|update|rename|edit|modify|retitle|set)\s+(.+?)\s*(?:\s(?:to|into|as)\s|->|=>|:)\s*(.+)$`)
	reDescWord     = regexp.MustCompile(`(?i)\b(?:description|details|notes?)\b`)
	reOfFor        = regexp.MustCompile(`(?i)\b(?:of|for|on)\b`)
	reToBeDone     = regexp.MustCompile(`(?i)\b(?:to|be) (?:be )?done\b`)
	reOntoList     = regexp.MustCompile(`(?i)\s+(?:to|on(?:to)?)\s+(?:my|the)\s+(?:(?:task|to-?do|to do)\s+)?(?:list|tasks)$`)

	reDelete   = regexp.MustCompile(`(?i)^(?:delete|remove|cancel|clear|drop|erase|trash|scrap|scratch|discard|get rid of|forget(?: about)?|throw away|take off)\s+(.+)$`)
	reFromList = regexp.MustCompile(`(?i)\s+(?:from|off|on)\s+(?:my|the)\s+(?:(?:task|to-?do|to do)\s+)?(?:list|tasks)$`)
	reAllRef   = regexp.MustCompile(`(?i)^(?:all|everything|all (?:of )?(?:my |the )?(?:tasks|to-?dos|items)|(?:my|the) (?:whole |entire )?(?:list|tasks))$`)

	reMarkDone   = regexp.MustCompile(`(?i)^(?:mark|set|flag)\s+(.+?)\s+(?:as\s+)?(?:done|complete|completed|finished)$`)
	reCompleteV  = regexp.MustCompile(`(?i)^(?:complete|completed|finish|finished|check off|checked off|tick off|ticked off|cross off|crossed off|close|closed|done with|done)\s+(.+)$`)
	reIDidIt     = regexp.MustCompile(`(?i)^(?:i'?m|i am|im|i'?ve|i have|ive|i)\s+(?:just\s+|already\s+|now\s+)?(?:done with|finished(?: with)?|completed|through with|did|done|finish)\s+(.+)$`)
	reIsDone     = regexp.MustCompile(`(?i)^(.+?)\s+(?:is|are|has been|was)\s+(?:now\s+|all\s+)?(?:done|complete|completed|finished)$`)
	reAddVerb    = regexp.MustCompile(`(?i)^(?:add|create|make|new|insert|put|save|schedule|set up|log|jot down|write down)\b[\s:,-]*(?:(?:a|an|new|another|one more)\s+)*(?:(?:task|todo|to-do|to do|item|reminder|entry|note)s?\b)?\s*(?:(?:called|named|titled|to|for|that says)\b|:|-)?\s*`)
	reAddToList  = regexp.MustCompile(`(?i)^(?:add|put|write)\s+(?:to|on(?:to)?)\s+(?:my|the)\s+(?:(?:task|to-?do|to do)\s+)?list\s*[:,-]?\s*`)
	reRemind     = regexp.MustCompile(`(?i)^(?:remind me (?:to|that i (?:need|have) to|about)|i need to remember to|i have to remember to|i must remember to|remember to|i need to|i have to|i've got to|i gotta|i must|i should|don'?t let me forget (?:to|about)|do not let me forget (?:to|about)|note to self|todo|to-do|to do)\b[\s:,-]*`)
	reDescSuffix = regexp.MustCompile(`(?i)\s*(?:,\s*|\s+)(?:with\s+(?:the\s+|a\s+)?(?:description|details|notes?)|description|details|notes?)\s*[:=-]?\s*(.+)$`)

	reRefWords = regexp.MustCompile(`(?i)^(?:(?:the|my|a|an|that|this|task|tasks|item|to-?do|number|no\.?|num|#|id|called|named|titled|one|about)\s*)+|\s+(?:task|item|to-?do|one)$`)
)

// parse turns a message into an intent. It never fails: what it does not
// understand is intentUnknown.
func parse(msg string) intent {
	s := strings.Join(strings.Fields(msg), " ")
	for {
		t := rePolite.ReplaceAllString(s, "")
		t = strings.TrimSpace(reTail.ReplaceAllString(t, ""))
		if t == "" {
			// The whole message was politeness ("Thanks!"): keep its words.
			t = strings.Trim(s, " ?!.,")
		}
		if t == s {
			break
		}
		s = t
	}
	switch {
	case s == "":
		return intent{kind: intentGreet}
	case reGreet.MatchString(s):
		return intent{kind: intentGreet}
	case reHelp.MatchString(s):
		return intent{kind: intentHelp}
	case reThanks.MatchString(s):
		return intent{kind: intentThanks}
	case reBye.MatchString(s):
		return intent{kind: intentBye}
	}
	if in, ok := parseList(s); ok {
		return in
	}
	if m := reUpdateQuoted.FindStringSubmatch(s); m != nil {
		return intent{kind: intentUpdate, ref: ref{text: m[2]}, title: unquote(m[3])}
	}
	if m := reUpdate.FindStringSubmatch(s); m != nil {
		target, value := m[1], unquote(m[2])
		in := intent{kind: intentUpdate, title: value}
		if reDescWord.MatchString(target) {
			in.title = ""
			in.desc = &value
			target = reDescWord.ReplaceAllString(target, "")
			target = reOfFor.ReplaceAllString(target, "")
		}
		in.ref = parseRef(target)
		if in.ref != (ref{}) && value != "" {
			return in
		}
	}
	if m := reDelete.FindStringSubmatch(s); m != nil {
		target := reFromList.ReplaceAllString(m[1], "")
		if reAllRef.MatchString(target) {
			return intent{kind: intentDeleteAll}
		}
		if r := parseRef(target); r != (ref{}) {
			return intent{kind: intentDelete, ref: r}
		}
	}
	for _, re := range []*regexp.Regexp{reMarkDone, reIsDone, reIDidIt, reCompleteV} {
		if m := re.FindStringSubmatch(s); m != nil {
			if r := parseRef(reFromList.ReplaceAllString(m[1], "")); r != (ref{}) {
				return intent{kind: intentComplete, ref: r}
			}
		}
	}
	if loc := reAddToList.FindStringIndex(s); loc != nil {
		return addIntent(s[loc[1]:])
	}
	if loc := reAddVerb.FindStringIndex(s); loc != nil {
		return addIntent(s[loc[1]:])
	}
	if loc := reRemind.FindStringIndex(s); loc != nil {
		return addIntent(s[loc[1]:])
	}
	return intent{kind: intentUnknown}
}

func parseList(s string) (intent, bool) {
	if !reBareList.MatchString(s) && !(reListVerb.MatchString(s) && reListNoun.MatchString(s)) {
		return intent{}, false
	}
	in := intent{kind: intentList, filter: "all"}
	switch {
	case reNotDone.MatchString(s):
		in.filter = "pending"
	case reDoneWord.MatchString(s) && !reToBeDone.MatchString(s):
		in.filter = "completed"
	case rePendWord.MatchString(s):
		in.filter = "pending"
	}
	return in, true
}

func addIntent(rest string) intent {
	in := intent{kind: intentAdd}
	if m := reDescSuffix.FindStringSubmatchIndex(rest); m != nil {
		d := unquote(rest[m[2]:m[3]])
		in.desc = &d
		rest = rest[:m[0]]
	}
	rest = reOntoList.ReplaceAllString(reFromList.ReplaceAllString(strings.TrimSpace(rest), ""), "")
	in.title = capitalize(unquote(rest))
	return in
}

// parseRef reads "task 3", "#3", "task three", "3" or title words such as
// "the meeting task".
func parseRef(s string) ref {
	s = strings.TrimSpace(s)
	if q := unquote(s); q != s {
		return ref{text: q}
	}
	for {
		t := strings.TrimSpace(reRefWords.ReplaceAllString(s, ""))
		if t == s {
			break
		}
		s = t
	}
	s = strings.TrimRight(s, " .,:;!?")
	if s == "" {
		return ref{}
	}
	if n, ok := parseNumber(s); ok {
		return ref{id: n}
	}
	return ref{text: unquote(s)}
}

var numberWords = map[string]int64{
	"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
	"eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
	"fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
	"nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
	"seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
}

// parseNumber reads a positive task number written as digits ("12") or words
// ("twelve", "twenty-one", "one hundred and five").
func parseNumber(s string) (int64, bool) {
	if n, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64); err == nil {
		return n, n > 0
	}
	words := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r == ' ' || r == '-' })
	var total, cur int64
	for _, w := range words {
		if w == "and" || w == "a" {
			continue
		}
		v, ok := numberWords[w]
		if !ok {
			return 0, false
		}
		if v == 100 {
			cur = max(cur, 1) * 100
			continue
		}
		cur += v
	}
	total += cur
	return total, len(words) > 0 && total > 0
}

var quotePairs = map[rune]rune{'"': '"', '\'': '\'', '“': '”', '‘': '’', '«': '»', '`': '`'}

// unquote strips one pair of matching quotes around s, and trailing punctuation
// outside them.
func unquote(s string) string {
	s = strings.TrimSpace(s)
	first, n := utf8.DecodeRuneInString(s)
	if closing, ok := quotePairs[first]; ok && len(s) > n {
		inner := s[n:]
		if i := strings.LastIndex(inner, string(closing)); i > 0 && strings.Trim(inner[i+len(string(closing)):], " .!?,") == "" {
			return strings.TrimSpace(inner[:i])
		}
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

// stem folds simple English inflections so "buying groceries" finds "Buy groceries".
func stem(w string) string {
	switch {
	case len(w) > 5 && strings.HasSuffix(w, "ing"):
		return w[:len(w)-3]
	case len(w) > 4 && strings.HasSuffix(w, "ies"):
		return w[:len(w)-3] + "y"
	case len(w) > 4 && strings.HasSuffix(w, "ed"):
		return w[:len(w)-2]
	case len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss"):
		return w[:len(w)-1]
	}
	return w
}

var refStopWords = map[string]bool{
	"the": true, "a": true, "an": true, "my": true, "task": true, "tasks": true, "item": true,
	"to": true, "about": true, "for": true, "of": true, "with": true, "on": true, "that": true,
	"this": true, "one": true, "todo": true, "called": true, "named": true, "titled": true,
}

func words(s string, dropStop bool) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if dropStop && refStopWords[w] {
			continue
		}
		out = append(out, stem(w))
	}
	return out
}

// matchTasks returns the tasks a title reference names: those whose title is
// the reference exactly when there are any, else those containing every word
// of it (a word may also be the start of a title word).
func matchTasks(text string, tasks []listItem) []listItem {
	want := words(text, true)
	if len(want) == 0 {
		want = words(text, false)
	}
	if len(want) == 0 {
		return nil
	}
	var exact, partial []listItem
	for _, t := range tasks {
		have := words(t.Title, false)
		if slices.Equal(have, words(text, false)) {
			exact = append(exact, t)
			continue
		}
		all := true
		for _, w := range want {
			if !slices.ContainsFunc(have, func(h string) bool { return h == w || (len(w) >= 3 && strings.HasPrefix(h, w)) }) {
				all = false
				break
			}
		}
		if all {
			partial = append(partial, t)
		}
	}
	if len(exact) > 0 {
		return exact
	}
	return partial
}

// Respond implements Agent.
func (o Offline) Respond(ctx context.Context, in Input) (Reply, error) {
	text, err := o.respond(ctx, parse(in.Message), in.Tools)
	return Reply{Text: text, Agent: o.Name()}, err
}

const examples = "Try \"Add a task to buy groceries\", \"What's pending?\", \"Mark task 3 as done\", \"Change task 1 to 'Call mom tonight'\" or \"Delete the meeting task\"."

func (o Offline) respond(ctx context.Context, in intent, tb *Toolbox) (string, error) {
	switch in.kind {
	case intentGreet:
		return "Hi! I'm your task assistant. I can add, list, complete, update and delete your tasks. " + examples, nil
	case intentHelp:
		return "I manage your to-do list. You can say:\n" +
			"- \"Add a task to buy groceries\" or \"Remind me to call mom\"\n" +
			"- \"Show me all my tasks\", \"What's pending?\" or \"What have I completed?\"\n" +
			"- \"Mark task 3 as complete\" or \"I finished buying groceries\"\n" +
			"- \"Change task 1 to 'Call mom tonight'\" or \"Rename 2 to Pay rent\"\n" +
			"- \"Delete task 4\" or \"Delete the meeting task\"", nil
	case intentThanks:
		return "You're welcome! Anything else for your list?", nil
	case intentBye:
		return "Goodbye! Your tasks will be here when you come back.", nil
	case intentDeleteAll:
		return "I delete tasks one at a time, so nothing is lost by accident. Say \"show my tasks\" to see their numbers, then \"delete task 3\".", nil
	case intentList:
		items, err := listTasks(ctx, tb, in.filter)
		if err != nil {
			return "", err
		}
		return describeList(in.filter, items), nil
	case intentAdd:
		if in.title == "" {
			return "What should the task say? For example: \"Add a task to buy groceries\".", nil
		}
		args := addArgs{Title: in.title}
		if in.desc != nil {
			args.Description = *in.desc
		}
		res, err := call(ctx, tb, ToolAddTask, (*Toolbox).addTask, args)
		if err != nil {
			return friendly(err)
		}
		return fmt.Sprintf("Added %q to your tasks (task %d).", res.Title, res.TaskID), nil
	case intentComplete, intentDelete, intentUpdate:
		return o.act(ctx, in, tb)
	}
	return "Sorry, I didn't understand that. I can add, list, complete, update and delete tasks. " + examples, nil
}

// act runs complete, delete or update on the referenced task, looking a title
// up first and asking when it names more than one task.
func (o Offline) act(ctx context.Context, in intent, tb *Toolbox) (string, error) {
	id := in.ref.id
	if id == 0 {
		items, err := listTasks(ctx, tb, "all")
		if err != nil {
			return "", err
		}
		found := matchTasks(in.ref.text, items)
		if in.kind == intentComplete && len(found) > 1 {
			// Of several matches, the one still pending is the one meant.
			pending := slices.DeleteFunc(slices.Clone(found), func(t listItem) bool { return t.Completed })
			if len(pending) == 1 {
				found = pending
			}
		}
		switch len(found) {
		case 0:
			return fmt.Sprintf("I couldn't find a task matching %q. Say \"show my tasks\" to see them all.", in.ref.text), nil
		case 1:
			id = found[0].ID
		default:
			return askWhich(in.ref.text, found), nil
		}
	}
	var res taskResult
	var err error
	switch in.kind {
	case intentComplete:
		res, err = call(ctx, tb, ToolCompleteTask, (*Toolbox).completeTask, idArgs{TaskID: TaskID(id)})
	case intentDelete:
		res, err = call(ctx, tb, ToolDeleteTask, (*Toolbox).deleteTask, idArgs{TaskID: TaskID(id)})
	default:
		args := updateArgs{TaskID: TaskID(id), Description: in.desc}
		if in.title != "" {
			t := capitalize(in.title)
			args.Title = &t
		}
		res, err = call(ctx, tb, ToolUpdateTask, (*Toolbox).updateTask, args)
	}
	if err != nil {
		return friendly(err)
	}
	switch in.kind {
	case intentComplete:
		return fmt.Sprintf("Marked task %d %q as complete. Nice work!", res.TaskID, res.Title), nil
	case intentDelete:
		return fmt.Sprintf("Deleted task %d %q.", res.TaskID, res.Title), nil
	}
	if in.desc != nil {
		return fmt.Sprintf("Updated the description of task %d %q.", res.TaskID, res.Title), nil
	}
	return fmt.Sprintf("Updated task %d: it's now %q.", res.TaskID, res.Title), nil
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
	}
	return "I couldn't do that: " + te.Message + ".", nil
}

func listTasks(ctx context.Context, tb *Toolbox, filter string) ([]listItem, error) {
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

func describeList(filter string, items []listItem) string {
	var b strings.Builder
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
	for _, t := range items {
		mark := " "
		if t.Completed {
			mark = "x"
		}
		fmt.Fprintf(&b, "\n- [%s] %d. %s", mark, t.ID, t.Title)
	}
	return b.String()
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
