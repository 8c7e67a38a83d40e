package store

import (
	"errors"
	"fmt"
	"strings"
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
	case !utf8.ValidString(s) || strings.ContainsRune(s, 0):
		return "", errors.New("must be valid text")
	case utf8.RuneCountInString(s) > max:
		return "", fmt.Errorf("must be at most %d characters (it has %d)", max, utf8.RuneCountInString(s))
	}
	return s, nil
}
