package dates_test

import (
	"errors"
	"testing"
	"time"

	"github.com/taskchat/taskchat/internal/dates"
)

func TestParse(t *testing.T) {
	utc := time.UTC
	ny, _ := time.LoadLocation("America/New_York")
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	la, _ := time.LoadLocation("America/Los_Angeles")
	tue := time.Date(2026, 12, 1, 14, 30, 0, 0, utc) // a Tuesday
	for _, tc := range []struct {
		text string
		now  time.Time
		loc  *time.Location
		want string // a date, or an RFC 3339 moment in UTC
		err  error
	}{
		{"tomorrow", tue, utc, "2026-12-02", nil},
		{"Friday", tue, utc, "2026-12-04", nil},
		{"next Monday 9am", tue, utc, "2026-12-07T09:00:00Z", nil},
		{"in 3 days", tue, utc, "2026-12-04", nil},
		{"by the 15th", tue, utc, "2026-12-15", nil},
		{"end of the month", tue, utc, "2026-12-31", nil},
		{"end of the week", tue, utc, "2026-12-04", nil},
		{"next week", tue, utc, "2026-12-07", nil},
		{"the day after tomorrow", tue, utc, "2026-12-03", nil},
		{"this weekend", tue, utc, "2026-12-05", nil},
		{"Dec 24", tue, utc, "2026-12-24", nil},
		{"24 December", tue, utc, "2026-12-24", nil},
		{"2026-12-24", tue, utc, "2026-12-24", nil},
		{"2026-12-24T17:00:00+01:00", tue, utc, "2026-12-24T16:00:00Z", nil},
		{"at 5pm", tue, utc, "2026-12-01T17:00:00Z", nil},
		{"tonight", tue, utc, "2026-12-01T23:00:00Z", nil},
		{"saturday evening", tue.Add(36*time.Second + 5*time.Millisecond), utc, "2026-12-05T18:00:00Z", nil},
		{"tonight", time.Date(2026, 12, 1, 23, 30, 0, 0, utc), utc, "2026-12-01", nil},
		{"this morning", tue, utc, "2026-12-01", nil},
		{"yesterday evening", tue, utc, "", dates.ErrPast},
		{"in 2 hours", tue.Add(36 * time.Second), utc, "2026-12-01T16:30:00Z", nil},
		{"in 2 weeks", tue, utc, "2026-12-15", nil},
		{"next friday at noon", tue, utc, "2026-12-04T12:00:00Z", nil},
		// What names no day is its next occurrence.
		{"at 9am", tue, utc, "2026-12-02T09:00:00Z", nil},
		{"noon", tue, utc, "2026-12-02T12:00:00Z", nil},
		{"March 3", tue, utc, "2027-03-03", nil},
		{"by May", tue, utc, "2027-05-01", nil},
		{"December", tue, utc, "2026-12-01", nil},
		{"March 3 2026", tue, utc, "", dates.ErrPast},
		{"in 2 hours", tue, utc, "2026-12-01T16:30:00Z", nil},
		// Slashes: the part above 12 is the day.
		{"12/24", tue, utc, "2026-12-24", nil},
		{"24/12", tue, utc, "2026-12-24", nil},
		{"3/14", tue, utc, "2027-03-14", nil},
		{"12/24/2027", tue, utc, "2027-12-24", nil},
		{"5/5 at 3pm", tue, utc, "2027-05-05T15:00:00Z", nil},
		// Month ends.
		{"the 31st", time.Date(2027, 4, 30, 10, 0, 0, 0, utc), utc, "2027-05-31", nil},
		{"the 30th", time.Date(2027, 1, 31, 10, 0, 0, 0, utc), utc, "2027-03-30", nil},
		{"the 28th", time.Date(2027, 1, 31, 10, 0, 0, 0, utc), utc, "2027-02-28", nil},
		{"by the 1st", time.Date(2026, 12, 15, 10, 0, 0, 0, utc), utc, "2027-01-01", nil},
		{"the 15th at 3pm", tue, utc, "2026-12-15T15:00:00Z", nil},
		{"end of the month", time.Date(2028, 2, 10, 10, 0, 0, 0, utc), utc, "2028-02-29", nil},
		{"end of the month", time.Date(2026, 12, 31, 22, 0, 0, 0, utc), utc, "2026-12-31", nil},
		{"tomorrow", time.Date(2026, 12, 31, 22, 0, 0, 0, utc), utc, "2027-01-01", nil},
		// Time zones: the person's date, not the server's.
		{"tomorrow", time.Date(2026, 12, 1, 23, 30, 0, 0, utc), tokyo, "2026-12-03", nil},
		{"tomorrow", time.Date(2026, 12, 1, 3, 30, 0, 0, utc), la, "2026-12-01", nil},
		{"at 9am", time.Date(2026, 12, 1, 10, 0, 0, 0, utc), ny, "2026-12-01T14:00:00Z", nil},
		// Daylight saving: New York falls back on 2026-11-01 and springs
		// forward on 2027-03-14.
		{"next Monday 9am", time.Date(2026, 10, 30, 12, 0, 0, 0, utc), ny, "2026-11-02T14:00:00Z", nil},
		{"tomorrow 9am", time.Date(2027, 3, 13, 15, 0, 0, 0, utc), ny, "2027-03-14T13:00:00Z", nil},
		{"tomorrow", time.Date(2027, 3, 14, 4, 30, 0, 0, utc), ny, "2027-03-14", nil}, // 23:30 on the 13th there
		{"in 2 days", time.Date(2026, 10, 31, 3, 30, 0, 0, utc), ny, "2026-11-01", nil},
		// Refused.
		{"yesterday", tue, utc, "", dates.ErrPast},
		{"last Friday", tue, utc, "", dates.ErrPast},
		{"3/4", tue, utc, "", dates.ErrAmbiguous},
		{"at 4:15", tue, utc, "", dates.ErrAmbiguous},
		{"tomorrow at 4:15pm", tue, utc, "2026-12-02T16:15:00Z", nil},
		{"tomorrow 16:15", tue, utc, "2026-12-02T16:15:00Z", nil},
		{"2/30", tue, utc, "", dates.ErrImpossible},
		{"2026-11-20", tue, utc, "", dates.ErrPast},
		{"February 30", tue, utc, "", dates.ErrImpossible},
		{"the 31st of February", tue, utc, "", dates.ErrImpossible},
		{"the 31st of april", tue, utc, "", dates.ErrImpossible},
		{"the 29th of February", tue, utc, "", dates.ErrImpossible}, // 2027 has none
		{"the 29th of February", time.Date(2027, 3, 1, 9, 0, 0, 0, utc), utc, "2028-02-29", nil},
		{"the 15th of March", tue, utc, "2027-03-15", nil},
		{"by the 3rd of December", tue, utc, "2026-12-03", nil},
		{"the 1st of December", tue, utc, "2026-12-01", nil}, // today
		{"buy milk", tue, utc, "", dates.ErrNoDate},
		// Spans: by their last day.
		{"this week", tue, utc, "2026-12-06", nil},
		{"this month", tue, utc, "2026-12-31", nil},
	} {
		d, matched, err := dates.Parse(tc.text, tc.now, tc.loc)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("%q at %s in %s: %v %+v, want %v", tc.text, tc.now, tc.loc, err, d, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q at %s in %s: %v", tc.text, tc.now, tc.loc, err)
			continue
		}
		got := d.At.Format(time.RFC3339)
		if d.DateOnly {
			got = d.At.Format("2006-01-02")
		}
		if got != tc.want {
			t.Errorf("%q at %s in %s = %s (from %q), want %s", tc.text, tc.now, tc.loc, got, matched, tc.want)
		}
	}
}

func TestWhole(t *testing.T) {
	for text, want := range map[string]bool{
		"tomorrow": true, "by Sunday": true, "due next Monday 9am": true, "on the 15th": true,
		"end of the month": true, "deadline: Friday": true, "in 3 days": true, "this weekend": true,
		"3/4": true, "at 5pm": true, "Friday at noon": true,
		"the report": false, "Monday's standup": false, "dune by sunday": false, "": false,
		"due": false, "to Sam": false, "this week": true, "next month": true, "the weekly report": false,
		"2026-12-10": true, "due 2026-12-10T17:00:00Z": true, "2026-12-10 report": false,
	} {
		if got := dates.Whole(text); got != want {
			t.Errorf("Whole(%q) = %v, want %v", text, got, want)
		}
	}
}

func TestUntil(t *testing.T) {
	tue := time.Date(2026, 12, 1, 14, 30, 0, 0, time.UTC) // a Tuesday
	sun := time.Date(2026, 12, 6, 22, 0, 0, 0, time.UTC)
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	for _, tc := range []struct {
		text string
		now  time.Time
		loc  *time.Location
		want string
	}{
		{"today", tue, time.UTC, "2026-12-02"},
		{"this week", tue, time.UTC, "2026-12-07"},
		{"the week", sun, time.UTC, "2026-12-07"},
		{"this week", sun, tokyo, "2026-12-14"}, // Monday the 7th already, in Tokyo
		{"next week", tue, time.UTC, "2026-12-14"},
		{"this month", tue, time.UTC, "2027-01-01"},
		{"next month", tue, time.UTC, "2027-02-01"},
		{"Friday", tue, time.UTC, "2026-12-05"},
		{"by the 15th", tue, time.UTC, "2026-12-16"},
		{"tomorrow 9am", tue, time.UTC, "2026-12-02T09:00:00Z"},
	} {
		d, err := dates.Until(tc.text, tc.now, tc.loc)
		got := d.At.Format(time.RFC3339)
		if d.DateOnly {
			got = d.At.Format("2006-01-02")
		}
		if err != nil || got != tc.want {
			t.Errorf("Until(%q) at %s in %s = %s %v, want %s", tc.text, tc.now, tc.loc, got, err, tc.want)
		}
	}
}
