package dates

import (
	"sort"
	"time"

	"github.com/olebedev/when/rules"
)

// reader reads a date with olebedev/when's rules the way its Parser does:
// every rule finds its match; the matches that lie together, each within
// Distance of the last, starting from the leftmost, are the phrase; they
// apply in the rules' order to one context, which becomes the time.
//
// It stands in for when.New only because the when package's init builds
// parsers for Russian, Portuguese and Dutch too, compiling their rules at
// every process start (about 2 ms of a 10 ms cold start); taskchat reads
// English, and imports only the rule packages it uses.
type reader struct {
	options *rules.Options
	rules   []rules.Rule
	rewrite func(string) (string, error)
}

// reading is what a reader found: the phrase, where it starts in the
// (rewritten) text, and the time it means.
type reading struct {
	Index int
	Text  string
	Time  time.Time
}

// Parse reads text at base; nil when no rule finds a date in it.
func (p *reader) Parse(text string, base time.Time) (*reading, error) {
	text, err := p.rewrite(text)
	if err != nil {
		return nil, err
	}
	var matches []*rules.Match
	for _, rule := range p.rules {
		if m := rule.Find(text); m != nil {
			m.Order = float64(len(matches))
			matches = append(matches, m)
		}
	}
	if len(matches) == 0 {
		return nil, nil
	}
	sort.Sort(rules.MatchByIndex(matches))
	left, right := matches[0].Left, matches[0].Right
	for i, m := range matches {
		if m.Left > right+p.options.Distance {
			matches = matches[:i]
			break
		}
		right = m.Right
	}
	phrase := text[left:right]
	if p.options.MatchByOrder {
		sort.Sort(rules.MatchByOrder(matches))
	}
	ctx := &rules.Context{Text: phrase}
	applied := false
	for _, m := range matches {
		ok, err := m.Apply(ctx, p.options, base)
		if err != nil {
			return nil, err
		}
		applied = applied || ok
	}
	if !applied {
		return nil, nil
	}
	t, err := ctx.Time(base)
	if err != nil {
		return nil, err
	}
	return &reading{Index: left, Text: phrase, Time: t}, nil
}
