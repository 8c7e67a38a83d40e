package store

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The lengths of a task's text, as the surveyed backends' columns have them
// (title varchar(200), description varchar(1000)).
const (
	MaxTitleChars       = 200
	MaxDescriptionChars = 1000
)

// CleanTitle trims a task title and checks it: 1 to MaxTitleChars
// characters. The error reads after "The title …", e.g. "must not be empty".
func CleanTitle(s string) (string, error) {
	return cleanText(s, MaxTitleChars, true)
}

// CleanDescription trims a task description and checks it: at most
// MaxDescriptionChars characters; "" is none.
func CleanDescription(s string) (string, error) {
	return cleanText(s, MaxDescriptionChars, false)
}

func cleanText(s string, max int, required bool) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case required && s == "":
		return "", errors.New("must not be empty")
	case !utf8.ValidString(s):
		return "", errors.New("must be valid text")
	case utf8.RuneCountInString(s) > max:
		return "", fmt.Errorf("must be at most %d characters (it has %d)", max, utf8.RuneCountInString(s))
	}
	if err := CheckText(s); err != nil {
		return "", err
	}
	if required && !Visible(s) {
		return "", errors.New("must have a visible character")
	}
	return s, nil
}

// CheckText refuses what text must not hold: control characters other than
// tab and line breaks, and the bidirectional overrides, embeddings and
// isolates that make text display in another order than it reads
// ("Trojan Source"). The marks used in right-to-left writing (U+200E,
// U+200F, U+061C) are text. The error reads after "The title …".
func CheckText(s string) error {
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
		case unicode.IsControl(r):
			return fmt.Errorf("must not contain control characters (it has U+%04X)", r)
		case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
			return fmt.Errorf("must not contain bidirectional override characters (it has U+%04X)", r)
		}
	}
	return nil
}

// Visible reports whether s has a character that shows: not only spaces,
// zero-width and other format characters, or blank fillers.
func Visible(s string) bool {
	for _, r := range s {
		switch {
		case unicode.IsSpace(r), unicode.Is(unicode.Cf, r), unicode.IsControl(r), unicode.Is(unicode.Mn, r),
			r == 0x115F, r == 0x1160, r == 0x3164, r == 0xFFA0, r == 0x2800, r == 0x180E:
		default:
			return true
		}
	}
	return false
}
