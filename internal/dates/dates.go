// Package dates reads when a task is due from what a person types —
// "tomorrow", "Friday", "next Monday 9am", "in 3 days", "by the 15th", "end
// of the month" — relative to the moment and the person's time zone.
//
// The reading is github.com/olebedev/when's, with its English and common
// rules, and a few rules of taskchat's for what it misses (the Nth of the
// month, the end of a month or week, next week, the day after tomorrow,
// this weekend), added the way the library is extended. ISO dates and RFC
// 3339 times are read exactly first (the library takes "2026-12-24" for
// 12:24). A phrase with no time of day is a date; one that resolves to the
// past, or names a day its month does not have, is refused, never guessed.
package dates

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the zones people send, whatever the image holds

	"github.com/olebedev/when/rules"
	"github.com/olebedev/when/rules/common"
	"github.com/olebedev/when/rules/en"

	"github.com/taskchat/taskchat/internal/store"
)

// Errors of Parse.
var (
	ErrNoDate     = errors.New("no date found")
	ErrPast       = errors.New("that is in the past")
	ErrImpossible = errors.New("no such date")
	// ErrAmbiguous: "3/4" is the 3rd of April or March the 4th.
	ErrAmbiguous = errors.New("the date could be read two ways")
)

// Location reads an IANA time zone name ("Europe/Paris"); "" is UTC. The
// server's own zone ("Local") is no name a person has.
func Location(name string) (*time.Location, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return time.UTC, nil
	case name == "Local" || len(name) > 64:
		return nil, errors.New("not an IANA time zone name")
	}
	return time.LoadLocation(name)
}

// Today is the person's date at now, as the UTC midnight a date-only due
// is held at.
func Today(now time.Time, loc *time.Location) time.Time {
	y, m, d := now.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

var parser = &reader{
	options: &rules.Options{Distance: 5, MatchByOrder: true, Afternoon: 15, Evening: 18, Morning: 9, Noon: 12},
	rules:   append(append(append([]rules.Rule{}, extra...), en.All...), common.All...),
	rewrite: rewrite,
}

// Parse reads a due time from text at now in loc: the due, and the part of
// text it was read from. What names no day is its next occurrence: "5pm"
// after five is tomorrow's, "March 3" in December next year's. Anything
// else in the past is ErrPast.
func Parse(text string, now time.Time, loc *time.Location) (store.Due, string, error) {
	if loc == nil {
		loc = time.UTC
	}
	if last, ok := spanEnd(text, now, loc); ok && !nextWeekOrWeekend.MatchString(text) {
		return store.DueDate(last.Date()), strings.TrimSpace(text), nil // "this week": by its Sunday
	}
	d, matched, err := Read(text, now, loc)
	if err != nil {
		return d, matched, err
	}
	if _, _, err := checked(d, matched, now, loc); errors.Is(err, ErrPast) {
		switch {
		case !d.DateOnly && partOfDay.MatchString(matched) && sameDate(d.At.In(loc), now.In(loc)):
			// "tonight" typed at 23:30 is still today: due today.
			return store.DueDate(now.In(loc).Date()), matched, nil
		case !d.DateOnly && onlyTime.MatchString(matched):
			local := d.At.In(loc)
			d.At = time.Date(local.Year(), local.Month(), local.Day()+1, local.Hour(), local.Minute(), 0, 0, loc).UTC()
		case !yearNamed.MatchString(text) && monthName.MatchString(matched):
			// "March 3", or "May" alone (its 1st), in December: next year's.
			local := d.At
			if !d.DateOnly {
				local = d.At.In(loc)
			}
			next := time.Date(local.Year()+1, local.Month(), local.Day(), local.Hour(), local.Minute(), 0, 0, local.Location())
			if next.Day() != local.Day() {
				return store.Due{}, matched, ErrImpossible // February 29th, next year
			}
			d.At = next.UTC()
		}
	}
	return checked(d, matched, now, loc)
}

// Until reads a span a person asks about — "this week", "today", "next
// month", "Friday", "the 15th" — as the bound of what is due in it: the
// first day after it (a date), or the moment a time names.
func Until(text string, now time.Time, loc *time.Location) (store.Due, error) {
	if loc == nil {
		loc = time.UTC
	}
	if last, ok := spanEnd(text, now, loc); ok {
		return store.DueDate(last.AddDate(0, 0, 1).Date()), nil
	}
	d, _, err := Read(text, now, loc)
	if err != nil {
		return d, err
	}
	if d.DateOnly {
		return store.DueDate(d.At.AddDate(0, 0, 1).Date()), nil
	}
	return d, nil
}

// span finds the spans Until and Parse read themselves: this week, next
// month, the weekend.
var span = regexp.MustCompile(`(?i)^\s*(?:by|before|in|during|for|within|over|through|on)?\s*(?:the\s+)?(?:(this|next|coming|current|rest\s+of\s+the|rest\s+of\s+this)\s+)?(week|month|weekend)\s*$`)

// spanEnd is the last day of the span text names, as a date in UTC.
func spanEnd(text string, now time.Time, loc *time.Location) (time.Time, bool) {
	m := span.FindStringSubmatch(strings.TrimSpace(leadIn.ReplaceAllString(text, "")))
	if m == nil {
		return time.Time{}, false
	}
	today := Today(now, loc)
	next := strings.EqualFold(m[1], "next")
	switch strings.ToLower(m[2]) {
	case "week", "weekend":
		sunday := today.AddDate(0, 0, (7-int(today.Weekday()))%7)
		if next {
			sunday = sunday.AddDate(0, 0, 7)
		}
		return sunday, true
	default: // month
		first := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC)
		if next {
			first = first.AddDate(0, 1, 0)
		}
		return first.AddDate(0, 1, -1), true
	}
}

// Whole reports whether text, after the words that introduce a due time
// ("due", "by", "on", "deadline:"), is all a date or time: "next Monday
// 9am", "by the 15th" are; "the report" and "Monday's standup" are not.
func Whole(text string) bool {
	rest := strings.TrimSpace(leadIn.ReplaceAllString(text, ""))
	if rest == "" {
		return false
	}
	if span.MatchString(rest) {
		return true
	}
	if _, ok := Exact(rest, time.UTC); ok {
		return true // "2026-12-10", an RFC 3339 time
	}
	rewritten, _ := rewrite(rest)
	r, err := parser.Parse(rewritten, probeTime)
	if errors.Is(err, ErrAmbiguous) || errors.Is(err, ErrImpossible) {
		return slashDate.FindString(rewritten) == strings.TrimSpace(rewritten)
	}
	return r != nil && r.Index == 0 && len(strings.TrimSpace(r.Text)) == len(strings.TrimSpace(rewritten))
}

// probeTime is the moment Whole reads at: the shape of a phrase does not
// depend on when.
var probeTime = time.Date(2026, 1, 14, 12, 0, 0, 0, time.UTC)

var (
	// A due "next week" is its Monday, "this weekend" its Saturday.
	nextWeekOrWeekend = regexp.MustCompile(`(?i)\bnext\s+week\b|\bweekend\b`)
	leadIn            = regexp.MustCompile(`(?i)^\s*(?:(?:due|deadline|date|by|on|before|at|for)\b[\s:]*|[:\-–—]\s*)+`)
	onlyTime          = regexp.MustCompile(`(?i)^(?:at\s+)?(?:\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)?|noon|midday|midnight)$`)
	yearNamed         = regexp.MustCompile(`\b\d{4}\b`)
	slashDate         = regexp.MustCompile(`\b(\d{1,2})/(\d{1,2})(?:/(\d{2}|\d{4}))?\b`)
)

// Read is Parse for a bound rather than a due time: the past is allowed.
func Read(text string, now time.Time, loc *time.Location) (store.Due, string, error) {
	if loc == nil {
		loc = time.UTC
	}
	if d, ok := Exact(text, loc); ok {
		return d, strings.TrimSpace(text), nil
	}
	local := now.In(loc)
	r, err := parser.Parse(text, local)
	if errors.Is(err, ErrAmbiguous) || errors.Is(err, ErrImpossible) {
		return store.Due{}, slashDate.FindString(text), err
	}
	if err != nil || r == nil {
		return store.Due{}, "", ErrNoDate
	}
	matched := strings.TrimSpace(r.Text)
	if impossible(matched, r.Time) {
		return store.Due{}, matched, ErrImpossible
	}
	if twelveHour(matched) {
		return store.Due{}, matched, ErrAmbiguous
	}
	if timeOfDay.MatchString(matched) {
		// To the minute: "Saturday evening" is 18:00, not 18:00 and the
		// seconds of the moment it was typed.
		return store.Due{At: r.Time.UTC().Truncate(time.Minute)}, matched, nil
	}
	// A date: read again from noon, so a day added as 24 hours lands on
	// the right date whatever the clocks do tonight.
	y, m, d := local.Date()
	noon := time.Date(y, m, d, 12, 0, 0, 0, loc)
	if r2, err := parser.Parse(text, noon); err == nil && r2 != nil {
		r = r2
	}
	y, m, d = r.Time.Date()
	return store.DueDate(y, m, d), matched, nil
}

// checked refuses a due time in the past: a moment before now, a date
// before today.
func checked(d store.Due, matched string, now time.Time, loc *time.Location) (store.Due, string, error) {
	if d.DateOnly && d.At.Before(Today(now, loc)) || !d.DateOnly && d.At.Before(now) {
		return store.Due{}, matched, ErrPast
	}
	return d, matched, nil
}

// Exact reads the due times the task routes take, and the words may be:
// YYYY-MM-DD, RFC 3339, or a local date and time (in loc).
func Exact(s string, loc *time.Location) (store.Due, bool) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return store.DueDate(t.Date()), true
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return store.Due{At: t.UTC()}, true
	}
	// A local time as forms and Python send one: datetime-local's, and
	// isoformat() or str() of a naive datetime.
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999",
		"2006-01-02 15:04", "2006-01-02 15:04:05", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return store.Due{At: t.UTC()}, true
		}
	}
	return store.Due{}, false
}

// timeOfDay finds a time of day in a matched phrase, or hours and minutes
// from now.
var timeOfDay = regexp.MustCompile(`(?i)\d\s*(am|pm|a\.m\.|p\.m\.)\b|\d{1,2}:\d{2}|\b(noon|midday|midnight|tonight|morning|afternoon|evening|o'?clock|hours?|hrs?|minutes?|mins?)\b`)

// twelveHour reports a clock time that could be morning or afternoon:
// "4:15", not "16:15", "04:15", "4:15pm" or "4:15 in the afternoon".
func twelveHour(matched string) bool {
	m := clockTime.FindStringSubmatchIndex(matched)
	if m == nil || partOfDay.MatchString(matched) {
		return false
	}
	return !meridiem.MatchString(matched[m[1]:])
}

var (
	clockTime = regexp.MustCompile(`(?:^|[^\d:])([1-9]|1[0-2]):[0-5]\d\b`)
	meridiem  = regexp.MustCompile(`(?i)^\s*(am|pm|a\.m\.|p\.m\.)`)
	partOfDay = regexp.MustCompile(`(?i)\b(morning|afternoon|evening|tonight|night)\b`)
)

// impossible reports a phrase naming a day of the month that the date it
// became does not have ("February 30" became March 2).
func impossible(matched string, t time.Time) bool {
	m := dayOfMonth.FindStringSubmatch(matched)
	if m == nil || !monthName.MatchString(matched) {
		return false
	}
	day, _ := strconv.Atoi(m[1])
	return day != t.Day()
}

var (
	dayOfMonth = regexp.MustCompile(`\b(\d{1,2})(?:st|nd|rd|th)?\b`)
	monthName  = regexp.MustCompile(`(?i)\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b`)
)

// extra are taskchat's rules, for what the library's do not read. Those
// that name a date set it as the time from ref to that date at ref's clock
// (the library sets a year, a month and a day one after another, which
// overflows from the 31st into a short month).
var extra = []rules.Rule{
	// "the 15th", "by the 3rd", "on the 21st": that day, this month or the
	// first month after that has it. "The 15th of March" is that day of
	// that month, this year or next; "the 31st of February" is impossible.
	&rules.F{
		RegExp: regexp.MustCompile(`(?i)(?:\W|^)(?:by\s+|on\s+|before\s+|due\s+)?(the\s+(\d{1,2})(st|nd|rd|th)(?:\s+of\s+(` + monthName.String() + `))?)(?:\W|$)`),
		Applier: func(m *rules.Match, c *rules.Context, _ *rules.Options, ref time.Time) (bool, error) {
			day, _ := strconv.Atoi(m.Captures[1])
			if day < 1 || day > 31 {
				return false, nil
			}
			y, mo := ref.Year(), ref.Month()
			if name := m.Captures[3]; name != "" {
				mo = monthOf(name)
				if mo < ref.Month() || mo == ref.Month() && day < ref.Day() {
					y++
				}
				if day > daysIn(y, mo) {
					return false, ErrImpossible
				}
				c.Duration = until(ref, time.Date(y, mo, day, 0, 0, 0, 0, time.UTC))
				return true, nil
			}
			if day < ref.Day() {
				mo++
			}
			for daysIn(y, mo) < day {
				mo++
			}
			c.Duration = until(ref, time.Date(y, mo, day, 0, 0, 0, 0, time.UTC))
			return true, nil
		},
	},
	// "3/14", "14/3", "12/24/2026": month and day told apart by which one
	// cannot be a month; "3/4" could be either, and is asked about.
	&rules.F{
		RegExp: regexp.MustCompile(`(?:\W|^)(` + slashDate.String() + `)(?:\W|$)`),
		Applier: func(m *rules.Match, c *rules.Context, _ *rules.Options, ref time.Time) (bool, error) {
			a, _ := strconv.Atoi(m.Captures[1])
			b, _ := strconv.Atoi(m.Captures[2])
			mo, day := a, b
			switch {
			case a <= 12 && b <= 12 && a != b:
				return false, ErrAmbiguous
			case a > 12:
				mo, day = b, a
			}
			if mo < 1 || mo > 12 || day < 1 || day > 31 {
				return false, nil
			}
			y := ref.Year()
			if yy := m.Captures[3]; yy != "" {
				y, _ = strconv.Atoi(yy)
				if y < 100 {
					y += 2000
				}
			} else if time.Date(y, time.Month(mo), min(day, daysIn(y, time.Month(mo))), 0, 0, 0, 0, time.UTC).Before(time.Date(ref.Year(), ref.Month(), ref.Day(), 0, 0, 0, 0, time.UTC)) {
				y++ // no year: the next one
			}
			if day > daysIn(y, time.Month(mo)) {
				return false, ErrImpossible
			}
			c.Duration = until(ref, time.Date(y, time.Month(mo), day, 0, 0, 0, 0, time.UTC))
			return true, nil
		},
	},
	// "end of the month", "end of month".
	&rules.F{
		RegExp: regexp.MustCompile(`(?i)(?:\W|^)((?:by\s+)?(?:the\s+)?end\s+of\s+(?:the\s+|this\s+)?month)(?:\W|$)`),
		Applier: func(_ *rules.Match, c *rules.Context, _ *rules.Options, ref time.Time) (bool, error) {
			c.Duration = until(ref, time.Date(ref.Year(), ref.Month(), daysIn(ref.Year(), ref.Month()), 0, 0, 0, 0, time.UTC))
			return true, nil
		},
	},
}

// rewrites say what the library reads better: the end of the week is its
// Friday, next week its Monday, the weekend its Saturday.
var rewrites = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`(?i)\b(?:by\s+)?(?:the\s+)?end\s+of\s+(?:the\s+|this\s+)?week\b`), "friday"},
	{regexp.MustCompile(`(?i)\bnext\s+week\b`), "next monday"},
	{regexp.MustCompile(`(?i)\b(?:the\s+)?day\s+after\s+tomorrow\b`), "in 2 days"},
	{regexp.MustCompile(`(?i)\b(?:this|the)\s+weekend\b`), "saturday"},
}

func rewrite(text string) (string, error) {
	for _, r := range rewrites {
		text = r.re.ReplaceAllString(text, r.with)
	}
	return text, nil
}

// until is the time from ref to date (a civil date) at ref's clock, in
// ref's zone: added to ref it lands on that date whatever the clocks did
// between.
func until(ref, date time.Time) time.Duration {
	t := time.Date(date.Year(), date.Month(), date.Day(), ref.Hour(), ref.Minute(), ref.Second(), ref.Nanosecond(), ref.Location())
	return t.Sub(ref)
}

func sameDate(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

// monthOf is the month a name (or its first three letters) names.
func monthOf(name string) time.Month {
	prefix := strings.ToLower(name[:3])
	for m := time.January; m <= time.December; m++ {
		if strings.ToLower(m.String()[:3]) == prefix {
			return m
		}
	}
	return 0
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
