package agent

import (
	"slices"
	"strings"
	"unicode"
)

// Matching a title reference against the user's tasks, safely: a task is
// the one meant when its title is the reference exactly, or holds every
// word of it as a whole word (after folding case, punctuation, articles
// and simple inflections: "watered the ferns" names "Water the ferns").
// A word that only begins a title word, or is one letter off, never
// selects a task; it is offered as a question.

// articles are dropped from every title key.
var articles = []string{"a", "an", "the"}

// keyWords reads text as the words a match compares.
func keyWords(text string) []string {
	var out []string
	for _, t := range tokenize(clean(text)).toks {
		var words []string
		switch t.kind {
		case tWord, tNumber:
			words = []string{t.low}
		case tQuoted:
			words = strings.Fields(t.low)
		}
		for _, w := range words {
			w = strings.Map(func(r rune) rune {
				if unicode.IsLetter(r) || unicode.IsDigit(r) {
					return unicode.ToLower(r)
				}
				return -1
			}, strings.ReplaceAll(w, "-", " "))
			for _, part := range strings.Fields(w) {
				if part == "" || slices.Contains(articles, part) {
					continue
				}
				out = append(out, stem(part))
			}
		}
	}
	return out
}

// stem folds simple English inflections so "booking", "booked" and "books"
// meet "book"; irregular past tenses meet their present.
func stem(w string) string {
	if p, ok := pastTense[w]; ok && p != w {
		w = p
	}
	switch {
	case len(w) > 5 && strings.HasSuffix(w, "ing"):
		w = w[:len(w)-3]
	case len(w) > 4 && strings.HasSuffix(w, "ies"):
		w = w[:len(w)-3] + "y"
	case len(w) > 4 && strings.HasSuffix(w, "ed"):
		w = w[:len(w)-2]
	case len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss"):
		w = w[:len(w)-1]
	}
	// "water"+"ed" and "write"/"writ"+"ing" alike: drop a final e, and
	// a doubled consonant, in both the reference and the title.
	if len(w) > 3 && strings.HasSuffix(w, "e") {
		w = w[:len(w)-1]
	}
	if n := len(w); n > 3 && w[n-1] == w[n-2] && !strings.ContainsRune("aeiou", rune(w[n-1])) {
		w = w[:n-1]
	}
	return w
}

// stopWords carry no part of a title when they are all a reference has
// left ("the task about the accountant").
var stopWords = []string{"to", "of", "for", "on", "in", "at", "with", "about", "my", "your", "our", "task", "tasks",
	"one", "ones", "item", "todo", "thing", "entry", "reminder", "called", "named", "titled", "that", "this", "list",
	// When something was done is no part of what: "I emailed the accountant already".
	"already", "finally", "yesterday", "earlier", "just", "now", "last", "night", "morning", "this", "week", "too", "well"}

// stopKeys are stopWords as keys.
var stopKeys = func() []string {
	var out []string
	for _, w := range stopWords {
		out = append(out, stem(w))
	}
	return out
}()

// matchTitle sorts the tasks a title reference may name: those it names
// exactly, those that hold all its words, and those it only resembles.
func matchTitle(r ref, items []listItem) (exact, partial, loose []listItem) {
	variants := refVariants(r)
	content := contentWords(r)
	verb := ""
	if r.verb != "" {
		verb = stem(r.verb)
	}
	for _, t := range items {
		key := keyWords(t.Title)
		if verb != "" && (len(key) == 0 || key[0] != verb) {
			continue
		}
		switch {
		case slices.ContainsFunc(variants, func(v []string) bool { return slices.Equal(v, key) }):
			exact = append(exact, t)
		case len(content) > 0 && containsAll(key, content):
			partial = append(partial, t)
		case len(content) > 0 && resembles(key, content):
			loose = append(loose, t)
		}
	}
	return exact, partial, loose
}

// refVariants are a reference's words with and without the words around
// it ("the task list cleanup task" may be "Task list cleanup").
func refVariants(r ref) [][]string {
	words := keyWords(r.text)
	var out [][]string
	edge := func(w string) bool { return slices.Contains(stopKeys, w) || slices.Contains(refEdgeKeys, w) }
	for i := 0; i <= len(words); i++ {
		if i > 0 && !edge(words[i-1]) {
			break
		}
		for j := len(words); j > i; j-- {
			if j < len(words) && !edge(words[j]) {
				break
			}
			out = append(out, words[i:j])
		}
	}
	return out
}

// refEdgeKeys are refEdges as keys.
var refEdgeKeys = func() []string {
	var out []string
	for _, w := range refEdges {
		out = append(out, stem(w))
	}
	return out
}()

// contentWords are the words of a reference that must all be in a title.
func contentWords(r ref) []string {
	var out []string
	for _, w := range keyWords(r.text) {
		if !slices.Contains(stopKeys, w) && !slices.Contains(refEdgeKeys, w) {
			out = append(out, w)
		}
	}
	return out
}

func containsAll(key, words []string) bool {
	for _, w := range words {
		if !slices.Contains(key, w) {
			return false
		}
	}
	return true
}

// resembles reports a title with a word that one of words begins, or is a
// letter away from: worth asking about, never enough to act.
func resembles(key, words []string) bool {
	for _, w := range words {
		if len(w) < 3 {
			continue
		}
		for _, k := range key {
			if k != w && (strings.HasPrefix(k, w) || len(w) >= 4 && editDistance(k, w) == 1) {
				return true
			}
		}
	}
	return false
}

// searchWords are the text a title reference's task must hold, for a
// search of a long list: each content word's stem, cut to four letters so
// the title's own inflection ("parties" for "party", "watered" for
// "water") still holds it. What they find is a superset that matchTitle
// then sorts.
func searchWords(r ref) []string {
	words := contentWords(r)
	if r.verb != "" {
		words = append(words, stem(r.verb))
	}
	var out []string
	for _, w := range words {
		if r := []rune(w); len(r) > 4 {
			w = string(r[:4])
		}
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}
