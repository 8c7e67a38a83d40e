package store_test

import (
	"testing"

	"github.com/taskchat/taskchat/internal/store"
	"github.com/taskchat/taskchat/internal/store/storetest"
)

func TestMemoryContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T, l store.Limits) store.Store {
		s := store.NewMemoryWith(l)
		t.Cleanup(s.Close)
		return s
	})
}
