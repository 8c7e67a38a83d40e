package store_test

import (
	"errors"
	"strings"

	"github.com/taskchat/taskchat/internal/store"
)

func isUnavailable(err error) bool { return errors.Is(err, store.ErrUnavailable) }

func contains(s, sub string) bool { return strings.Contains(s, sub) }
