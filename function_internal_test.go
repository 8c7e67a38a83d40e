package taskchat

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskchat/taskchat/internal/store"
)

func TestPanicRecovery(t *testing.T) {
	var logs bytes.Buffer
	a := New(func(string) string { return "" }, &logs)
	t.Cleanup(a.Close)
	h := withRequestLog(a.log, withRecover(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("kaboom")
	})))

	for range 2 { // the process, and the handler, live on
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/u/tasks", nil))
		var e apiError
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || rec.Code != 500 || e.Code != "internal_error" {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
		if strings.Contains(rec.Body.String(), "kaboom") || strings.Contains(rec.Body.String(), "goroutine") {
			t.Errorf("the answer leaks the panic: %s", rec.Body)
		}
		id := rec.Header().Get("X-Request-ID")
		if id == "" || !strings.Contains(logs.String(), `"request_id":"`+id+`","panic":"kaboom"`) {
			t.Errorf("panic not logged with request id %q:\n%s", id, logs.String())
		}
	}
}

// sweepCounter counts the sweeps a store is asked for.
type sweepCounter struct {
	store.Store
	n atomic.Int32
}

func (s *sweepCounter) Sweep(ctx context.Context) error {
	s.n.Add(1)
	return s.Store.Sweep(ctx)
}

// TestSweepOnDemand: expired keys and rate windows are swept from a
// request once an hour has passed, once however many requests come
// together, and never on a timer a frozen process would not run.
func TestSweepOnDemand(t *testing.T) {
	a := New(func(string) string { return "" }, io.Discard)
	sc := &sweepCounter{Store: a.store}
	a.store = sc
	get := func() {
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, httptest.NewRequest("GET", "/health", nil))
	}
	get()
	a.lastSweep.Store(time.Now().Add(-2 * time.Hour).UnixNano())
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(get)
	}
	wg.Wait()
	get()
	a.Close() // waits for the background sweep
	if n := sc.n.Load(); n != 1 {
		t.Errorf("%d sweeps, want 1", n)
	}
}
