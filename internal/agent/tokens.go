package agent

import (
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A message, cleaned and cut into tokens. Tokens keep their place in the
// cleaned text, so that a task's title is taken from what the person typed —
// its casing and punctuation — while the parser reads lower-case words.

type tokKind int

const (
	tWord   tokKind = iota
	tNumber         // digits, or "#3"
	tQuoted         // text between matching quotes
	tPunct          // , ; : . ! ? and dashes
)

type token struct {
	kind       tokKind
	low        string // lower-case word, the quoted text, or the punctuation
	num        int64  // the value of a tNumber
	start, end int    // byte offsets in the cleaned text; a tQuoted's cover its inner text
}

// message is a cleaned message and its tokens.
type message struct {
	text string
	toks []token
}

// checkMarks mean "done" when people type them after a task.
var checkMarks = map[rune]bool{'✅': true, '✔': true, '☑': true, '🗸': true, '✓': true}

// clean drops emoji and other symbols (a check mark becomes "done", and
// "done:" when it opens the message),
// straightens the typographic apostrophe inside words, and folds spaces.
func clean(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		switch {
		case checkMarks[r] && strings.TrimSpace(b.String()) == "":
			b.WriteString(" done: ") // "✅ walk the dog"
		case checkMarks[r]:
			b.WriteString(" done ")
		case r == '\u2019' && i > 0 && i+1 < len(rs) && unicode.IsLetter(rs[i-1]) && unicode.IsLetter(rs[i+1]):
			b.WriteByte('\'')
		case unicode.Is(unicode.So, r) || unicode.Is(unicode.Sk, r) || unicode.Is(unicode.Cs, r) || unicode.Is(unicode.Co, r) ||
			unicode.Is(unicode.Cf, r) || (r >= 0xFE00 && r <= 0xFE0F) || unicode.IsControl(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// quote pairs: an opening quote and the closings that end it.
var quotePairs = map[rune]string{'"': `"”`, '“': `”"`, '”': `”"`, '\'': `'’`, '‘': `’'`, '«': `»`, '`': "`"}

// tokenize cuts a cleaned message into tokens.
func tokenize(text string) message {
	m := message{text: text}
	i := 0
	for i < len(text) {
		r, n := utf8.DecodeRuneInString(text[i:])
		switch {
		case r == ' ':
			i += n
		case quotePairs[r] != "" && atWordStart(text, i):
			if end, inner0, inner1, ok := closingQuote(text, i, n, quotePairs[r]); ok {
				inner := strings.TrimSpace(text[inner0:inner1])
				lead := len(text[inner0:inner1]) - len(strings.TrimLeft(text[inner0:inner1], " "))
				m.toks = append(m.toks, token{kind: tQuoted, low: strings.ToLower(inner), start: inner0 + lead, end: inner0 + lead + len(inner)})
				i = end
				continue
			}
			i += n // a lone quote mark: drop it
		case r == '#' && i+1 < len(text) && isDigit(text[i+1]):
			j := i + 1
			for j < len(text) && isDigit(text[j]) {
				j++
			}
			v, _ := strconv.ParseInt(text[i+1:j], 10, 64)
			m.toks = append(m.toks, token{kind: tNumber, low: text[i+1 : j], num: v, start: i, end: j})
			i = j
		case unicode.IsLetter(r) || unicode.IsDigit(r) || ((r == '£' || r == '$' || r == '€' || r == '-') && i+n < len(text) && isDigit(text[i+n])):
			j := wordEnd(text, i+n) // a sign or currency mark leads the word
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				j = max(j, wordEnd(text, i+n))
			} else {
				j = wordEnd(text, i)
			}
			j = max(j, i+n)
			m.toks = append(m.toks, wordTokens(text, i, j)...)
			i = j
		default:
			m.toks = append(m.toks, token{kind: tPunct, low: string(r), start: i, end: i + n})
			i += n
		}
	}
	return m
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// atWordStart reports whether position i begins a word: the text's start or
// after a space or punctuation.
func atWordStart(text string, i int) bool {
	if i == 0 {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(text[:i])
	return !unicode.IsLetter(r) && !unicode.IsDigit(r)
}

// closingQuote finds the quote that closes the one at i: a closing mark at
// a word's end. It returns where the quoted part ends and its inner bounds.
func closingQuote(text string, i, n int, closings string) (end, inner0, inner1 int, ok bool) {
	for j := i + n; j < len(text); {
		r, m := utf8.DecodeRuneInString(text[j:])
		if strings.ContainsRune(closings, r) && j > i+n {
			after := j + m
			next, _ := utf8.DecodeRuneInString(text[after:])
			if after == len(text) || !unicode.IsLetter(next) && !unicode.IsDigit(next) {
				return after, i + n, j, true
			}
		}
		j += m
	}
	return 0, 0, 0, false
}

// wordEnd finds the end of the word at i: letters and digits, joined by
// apostrophes, hyphens, and the colons, dots, commas and slashes inside
// numbers and abbreviations ("4:15", "3.5", "one-on-one", "don't", "10%").
func wordEnd(text string, i int) int {
	j := i
	for j < len(text) {
		r, n := utf8.DecodeRuneInString(text[j:])
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '£' || r == '$' || r == '€' || r == '%' || r == '&':
			j += n
		case r == '\'' || r == '-' || r == '.' || r == ':' || r == '/' || r == ',' || r == '@':
			next, _ := utf8.DecodeRuneInString(text[j+n:])
			prev, _ := utf8.DecodeLastRuneInString(text[:j])
			joins := unicode.IsLetter(next) || unicode.IsDigit(next)
			if (r == ':' || r == ',' || r == '.') && !(unicode.IsDigit(prev) && unicode.IsDigit(next)) {
				joins = false
			}
			if !joins || j == i {
				return j
			}
			j += n
		default:
			return j
		}
	}
	return j
}

// clitics split off a word's end, so that "what's" reads as "what" "'s".
var clitics = []string{"'s", "'ve", "'m", "'re", "'ll", "'d"}

// wordTokens makes the tokens of one word: a number, or a word and its clitic.
func wordTokens(text string, i, j int) []token {
	w := text[i:j]
	low := strings.ToLower(w)
	if v, err := strconv.ParseInt(w, 10, 64); err == nil {
		return []token{{kind: tNumber, low: w, num: v, start: i, end: j}}
	}
	for _, c := range clitics {
		if base, ok := strings.CutSuffix(low, c); ok && base != "" {
			k := i + len(base)
			return append(wordTokens(text, i, k), token{kind: tWord, low: c, start: k, end: j})
		}
	}
	if exp, ok := shorthand[low]; ok && len(exp) > 0 {
		out := make([]token, len(exp))
		for n, e := range exp {
			out[n] = token{kind: tWord, low: e, start: i, end: j}
		}
		return out
	}
	return []token{{kind: tWord, low: low, start: i, end: j}}
}

// splitWords reads a phrase of the lexicon as the tokenizer would.
func splitWords(s string) []string {
	var out []string
	for _, t := range tokenize(s).toks {
		out = append(out, t.low)
	}
	return out
}

// span is the original text from token a to token b (inclusive).
func (m message) span(a, b int) string {
	if a > b || a < 0 || b >= len(m.toks) {
		return ""
	}
	return strings.TrimSpace(m.text[m.toks[a].start:m.toks[b].end])
}

// numberWords read task numbers written out, to the thousands.
var numberWords = map[string]int64{
	"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
	"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
	"seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
	"sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}

// readNumber reads a number written as words from toks: "twenty-one", "one
// hundred and five", "two thousand three". It returns the value and how
// many tokens it used (0: none).
func readNumber(toks []token) (int64, int) {
	var total, cur int64
	used, last := 0, 0
	scale := false // the last word was "hundred" or "thousand"
	for k, t := range toks {
		if t.kind != tWord {
			break
		}
		parts := strings.Split(t.low, "-")
		ok := true
		for _, p := range parts {
			switch v, isNum := numberWords[p]; {
			// A word adds to what is there only where English puts it:
			// "twenty three", "a hundred and five" — "one and three" and
			// "one three" are two numbers.
			case isNum && (cur%100 == 0 || cur%100 >= 20 && cur%10 == 0 && v < 10):
				cur += v
			case p == "hundred" && k > 0 && cur > 0 && cur < 100:
				cur *= 100
			case p == "thousand" && k > 0 && cur > 0:
				total += cur * 1000
				cur = 0
			case p == "and" && scale:
			default:
				ok = false
			}
			scale = p == "hundred" || p == "thousand"
		}
		if !ok {
			break
		}
		used = k + 1
		if t.low != "and" {
			last = used
		}
	}
	if last == 0 {
		return 0, 0
	}
	return total + cur, last
}

// Typos are corrected in the words that carry the request — the verbs and
// nouns of the lexicon — never in a task's title: a word that is no
// lexicon word and one edit (two, for long words) from exactly one of them
// is taken for it.

// vocabulary is every single word of the lexicon's verbs, frames and nouns.
var vocabulary = func() map[string]bool {
	v := map[string]bool{}
	for _, list := range [][]phrase{addVerbs, addFrames, listVerbs, completeVerbs, deleteVerbs, updateVerbs, doneWords, pendingWords} {
		for _, p := range list {
			for _, w := range p {
				if len(w) >= 3 {
					v[w] = true
				}
			}
		}
	}
	for _, w := range append(taskNouns, "description", "details", "notes", "title", "pending", "completed", "finished", "remind", "rename", "please", "what") {
		v[w] = true
	}
	return v
}()

// correct returns the lexicon word w is a typo of, or w.
func correct(w string) string { return correctIn(w, vocabulary) }

// correctNoun returns the task noun w is a typo of ("taks"), or w.
func correctNoun(w string) string { return correctIn(w, nounVocabulary) }

var nounVocabulary = func() map[string]bool {
	v := map[string]bool{}
	for _, w := range append(slices.Clone(taskNouns), addNouns...) {
		v[w] = true
	}
	return v
}()

// correctIn returns the word of vocab that w is a typo of, or w.
func correctIn(w string, vocab map[string]bool) string {
	if len(w) < 2 || vocab[w] || vocabulary[w] || strings.ContainsAny(w, "0123456789'") {
		return w
	}
	limit := 1
	if len(w) >= 6 {
		limit = 2
	}
	bestD := limit + 1
	var best []string
	for v := range vocab {
		if abs(len(v)-len(w)) > limit || len(w) <= 3 && len(v) <= len(w) {
			continue // a short word is only read as one with a letter dropped ("ad", "shw"), not "dog" as "do"
		}
		switch d := editDistance(w, v); {
		case d < bestD:
			best, bestD = []string{v}, d
		case d == bestD:
			best = append(best, v)
		}
	}
	if bestD > limit || len(best) == 0 {
		return w
	}
	// Forms of one word ("task", "tasks") are one candidate: the shortest.
	slices.Sort(best)
	slices.SortStableFunc(best, func(a, b string) int { return len(a) - len(b) })
	for _, b := range best[1:] {
		if stem(b) != stem(best[0]) {
			return w
		}
	}
	return best[0]
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and swaps of neighbours each cost one.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range rb {
		d[0][j+1] = j + 1
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
