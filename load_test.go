package taskchat_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskchat/taskchat/internal/pgtest"
)

// TestLoadWithOutage runs 64 users chatting at once against PostgreSQL,
// cuts the database away mid-run and brings it back, then checks that every
// answer was 200, 503 or 429, that each 200 turn is stored exactly once with
// its assistant reply, that no turn is half-written, and that no goroutine
// is left behind. It is bounded: 64 users × 12 turns, loopback only.
func TestLoadWithOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	dbURL := pgtest.NewDatabase(t)
	goroutinesBefore := runtime.NumGoroutine()
	relay := pgtest.NewRelay(t, pgtest.HostPort(t, dbURL))
	h := newApp(t, map[string]string{"DATABASE_URL": pgtest.WithHost(t, dbURL, relay.Addr()), "LOG_LEVEL": "warn"})
	if res := do(t, h, "GET", "/ready", nil); res.Code != 200 {
		t.Fatalf("not ready: %d", res.Code)
	}

	const users, turns = 64, 12
	type outcome struct {
		status int
		conv   int64
	}
	results := make([][]outcome, users)
	var done atomic.Int64
	cutAt, restoreAt := int64(users*turns/4), int64(users*turns/2)
	var cutOnce, restoreOnce sync.Once
	var wg sync.WaitGroup
	for u := range users {
		wg.Go(func() {
			var conv int64
			for i := range turns {
				body := fmt.Sprintf(`{"message":"Add a task to item %d-%d"}`, u, i)
				if conv != 0 {
					body = fmt.Sprintf(`{"message":"Add a task to item %d-%d","conversation_id":%d}`, u, i, conv)
				}
				req, _ := http.NewRequest("POST", fmt.Sprintf("/api/load%d/chat", u), strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				o := outcome{status: rec.Code}
				if rec.Code == 200 {
					var r chatReply
					if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
						t.Errorf("200 with a bad body: %s", rec.Body)
					}
					conv, o.conv = r.ConversationID, r.ConversationID
				}
				results[u] = append(results[u], o)
				n := done.Add(1)
				if n == cutAt {
					cutOnce.Do(relay.Cut)
				}
				if n == restoreAt {
					restoreOnce.Do(relay.Restore)
				}
			}
		})
	}
	wg.Wait()
	restoreOnce.Do(relay.Restore)

	counts := map[int]int{}
	for u := range users {
		for _, o := range results[u] {
			counts[o.status]++
		}
	}
	t.Logf("statuses: %v", counts)
	for status := range counts {
		if status != 200 && status != 503 && status != 429 {
			t.Errorf("%d answers with status %d", counts[status], status)
		}
	}
	if counts[503] == 0 {
		t.Error("the cut produced no 503: the outage was not exercised")
	}

	// Every 200 turn is stored once; a refused one is stored whole or not at
	// all (a cut during commit leaves its outcome unknown to the client).
	for u := range users {
		var ts []task
		getJSON(t, h, fmt.Sprintf("/api/load%d/tasks", u), &ts)
		titles := map[string]int{}
		for _, tk := range ts {
			titles[tk.Title]++
		}
		for i, o := range results[u] {
			n := titles[fmt.Sprintf("Item %d-%d", u, i)]
			if (o.status == 200 && n != 1) || n > 1 {
				t.Errorf("user %d turn %d (status %d) stored %d times", u, i, o.status, n)
			}
		}
		var convs conversationsPage
		getJSON(t, h, fmt.Sprintf("/api/load%d/conversations?limit=100", u), &convs)
		for _, c := range convs.Conversations {
			var page messagesPage
			getJSON(t, h, fmt.Sprintf("/api/load%d/conversations/%d/messages?limit=100", u, c.ID), &page)
			for j, m := range page.Messages {
				wantRole := "user"
				if j%2 == 1 {
					wantRole = "assistant"
				}
				if m.Role != wantRole {
					t.Errorf("user %d conversation %d: message %d is %s, want %s (a half-written turn)", u, c.ID, j, m.Role, wantRole)
				}
			}
			if len(page.Messages)%2 != 0 {
				t.Errorf("user %d conversation %d ends with an unanswered message", u, c.ID)
			}
		}
	}

	h.Close()
	relay.Cut()
	for i := 0; runtime.NumGoroutine() > goroutinesBefore+5 && i < 100; i++ {
		time.Sleep(50 * time.Millisecond) // let closed connections' goroutines end
	}
	if n := runtime.NumGoroutine(); n > goroutinesBefore+5 {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines before, %d after:\n%s", goroutinesBefore, n, buf[:runtime.Stack(buf, true)])
	}
}
