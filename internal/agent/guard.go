package agent

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// The safety rules hold for a model's tool calls too, where the server can
// tell: the person's own message is read by the offline parser, and a
// model's completion, change or deletion is refused (as a tool error the
// model then words, usually by asking) when
//
//   - the message asks to delete or complete many tasks at once ("clear my
//     finished tasks"), which taskchat does one named task at a time; or
//   - the message names a task by a title that matches several tasks, and
//     the call picks one of them without the person having said its number.
//
// A task number the person typed is always theirs to act on; a model that
// matches words the parser does not know (synonyms, other languages) is
// left to its judgement.

// guard checks a model's calls against the message of its turn.
type guard struct {
	intents []intent
	numbers []int64 // every number the message holds
}

func newGuard(message string) *guard {
	g := &guard{intents: parse(message)}
	for _, t := range tokenize(clean(message)).toks {
		if t.kind == tNumber {
			g.numbers = append(g.numbers, t.num)
		}
	}
	return g
}

// check returns a tool error when the call may not run, or nil.
func (g *guard) check(ctx context.Context, tb *Toolbox, name string, id int64) error {
	kind := map[string]intentKind{ToolCompleteTask: intentComplete, ToolDeleteTask: intentDelete, ToolUpdateTask: intentUpdate}[name]
	if kind == intentUnknown || id <= 0 || slices.Contains(g.numbers, id) {
		return nil
	}
	for _, it := range g.intents {
		if it.kind == intentRefuse && it.bulk == kind && kind != intentUpdate {
			verb := map[intentKind]string{intentComplete: "complete", intentDelete: "delete"}[kind]
			return &ToolError{Kind: Refused, TaskID: id, Message: fmt.Sprintf(
				"refused: the user asked to %s many tasks at once, which taskchat does not do; "+
					"nothing was changed. Tell them to name the tasks one at a time, by number.", verb)}
		}
	}
	for _, r := range g.titleRefs() {
		found, err := g.candidates(ctx, tb, r)
		if err != nil {
			return err
		}
		if len(found) > 1 && slices.ContainsFunc(found, func(t listItem) bool { return t.ID == id }) {
			var names []string
			for _, t := range found {
				names = append(names, fmt.Sprintf("%d %q", t.ID, t.Title))
			}
			return &ToolError{Kind: Refused, TaskID: id, Message: fmt.Sprintf(
				"refused: %q matches several tasks (%s); nothing was changed. Ask the user which one they mean.",
				refName(r), strings.Join(names, ", "))}
		}
	}
	return nil
}

// titleRefs are the titles the message names as tasks to act on.
func (g *guard) titleRefs() []ref {
	var out []ref
	add := func(grp refGroup) {
		for _, r := range append([]ref{grp.whole}, grp.parts...) {
			if r.kind == refTitle {
				out = append(out, r)
			}
		}
	}
	for _, it := range g.intents {
		switch it.kind {
		case intentComplete, intentDelete:
			add(it.refs)
		case intentUpdate:
			if len(it.splits) > 0 {
				add(it.splits[0].target)
			}
		}
	}
	return out
}

// candidates are the tasks a title names when it names more than one
// without doubt: its exact matches, or else the titles holding all its
// words. For a completion, the pending ones count first, as the offline
// agent counts them.
func (g *guard) candidates(ctx context.Context, tb *Toolbox, r ref) ([]listItem, error) {
	words := searchWords(r)
	if len(words) == 0 {
		return nil, nil
	}
	items, _, err := tb.searchTasks(ctx, words)
	if err != nil {
		return nil, err
	}
	exact, partial, _ := matchTitle(r, items)
	if len(exact) > 0 {
		return exact, nil
	}
	return partial, nil
}
