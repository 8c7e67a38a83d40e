package taskchat_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/taskchat/taskchat"
	"github.com/taskchat/taskchat/internal/pgtest"
)

// benchApp builds an app that logs nowhere, on PostgreSQL when dbURL is set.
// The rate limit is on (its statement runs in every turn) but never reached.
func benchApp(b *testing.B, dbURL string, extra ...string) *taskchat.App {
	b.Helper()
	// As deployed with auth on: the per-user count, no per-address one.
	env := map[string]string{"DATABASE_URL": dbURL, "LOG_LEVEL": "warn", "CHAT_RATE_LIMIT": "1000000000", "CHAT_ADDRESS_RATE_LIMIT": "0"}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	a := taskchat.New(func(k string) string { return env[k] }, io.Discard)
	b.Cleanup(a.Close)
	if res := do(b, a, "GET", "/ready", nil); res.Code != http.StatusOK {
		b.Fatalf("not ready: %d %s", res.Code, res.Body)
	}
	return a
}

// latencies collects per-request durations and reports percentiles.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

func (l *latencies) report(b *testing.B, unit string) {
	if len(l.d) == 0 {
		return
	}
	slices.Sort(l.d)
	at := func(p float64) float64 { return float64(l.d[int(p*float64(len(l.d)-1))].Microseconds()) / 1000 }
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
	b.ReportMetric(float64(len(l.d))/b.Elapsed().Seconds(), unit)
}

// chatTurn sends one offline-agent turn that adds a task.
func chatTurn(b *testing.B, h http.Handler, user string, conv int64, lat *latencies) {
	body := fmt.Sprintf(`{"message":"Add a task to buy groceries","conversation_id":%d}`, conv)
	req := httptest.NewRequest("POST", "/api/"+user+"/chat", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	start := time.Now()
	h.ServeHTTP(rec, req)
	lat.add(time.Since(start))
	if rec.Code != http.StatusOK {
		b.Errorf("chat: %d %s", rec.Code, rec.Body)
	}
}

// BenchmarkChatTurn measures a whole offline-agent turn through the handler:
// decode, conversation, user message, add_task, assistant message, encode.
func BenchmarkChatTurn(b *testing.B) {
	stores := map[string]func(b *testing.B) string{
		"memory":   func(*testing.B) string { return "" },
		"postgres": func(b *testing.B) string { return pgtest.NewDatabase(b) },
	}
	for _, name := range []string{"memory", "postgres"} {
		b.Run(name+"/serial", func(b *testing.B) {
			h := benchApp(b, stores[name](b))
			conv := chat(b, h, "bench", "hello", nil).ConversationID
			var lat latencies
			b.ResetTimer()
			for b.Loop() {
				chatTurn(b, h, "bench", conv, &lat)
			}
			lat.report(b, "turns/s")
		})
		b.Run(name+"/parallel32", func(b *testing.B) {
			h := benchApp(b, stores[name](b), "DATABASE_QUERY_MODE", os.Getenv("BENCH_QUERY_MODE"))
			var lat latencies
			var next atomic.Int64
			b.SetParallelism(max(1, 32/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				user := fmt.Sprintf("bench%d", next.Add(1))
				conv := chat(b, h, user, "hello", nil).ConversationID
				for pb.Next() {
					chatTurn(b, h, user, conv, &lat)
				}
			})
			lat.report(b, "turns/s")
		})
	}
}

// BenchmarkHistoryPage reads a page of messages from a conversation of 10
// and one of 100,000, among 200 other conversations whose messages are
// interleaved with theirs: keyset paging keeps the pages alike.
func BenchmarkHistoryPage(b *testing.B) {
	dbURL := pgtest.NewDatabase(b)
	h := benchApp(b, dbURL)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	sizes := map[int]int64{}
	for _, n := range []int{10, 100_000} {
		var id int64
		if err := conn.QueryRow(ctx, `insert into conversations (user_id, title, message_count)
			values ('hist', 'history', $1) returning id`, n).Scan(&id); err != nil {
			b.Fatal(err)
		}
		sizes[n] = id
	}
	// 100,000 messages for the big one, 10 for the small one and 500 for each
	// of 200 others, all interleaved as if written at the same time.
	_, err = conn.Exec(ctx, `insert into conversations (user_id, title, message_count)
		select 'other' || g, 'other', 500 from generate_series(1, 200) g`)
	if err != nil {
		b.Fatal(err)
	}
	_, err = conn.Exec(ctx, `insert into messages (conversation_id, role, content)
		select case
			when g % 2 = 0 and g <= 200000 then $1::bigint
			when g % 20000 = 1 then $2::bigint
			else (select min(id) from conversations where user_id like 'other%') + g % 200 end,
			case when g % 2 = 0 then 'user' else 'assistant' end, 'message ' || g
		from generate_series(1, 200000) g`, sizes[100_000], sizes[10])
	if err == nil {
		_, err = conn.Exec(ctx, "analyze")
	}
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		n      int
		limit  int
		oldest bool
	}{{10, 50, false}, {100_000, 50, false}, {100_000, 50, true}, {10, 10, false}, {100_000, 10, false}} {
		name := fmt.Sprintf("messages=%d/limit=%d", tc.n, tc.limit)
		if tc.oldest {
			name += "/oldest"
		}
		b.Run(name, func(b *testing.B) {
			conv := sizes[tc.n]
			path := fmt.Sprintf("/api/hist/conversations/%d/messages?limit=%d", conv, tc.limit)
			if tc.oldest {
				var cursor int64
				if err := conn.QueryRow(ctx, `select id from messages where conversation_id = $1
					order by id offset $2 limit 1`, conv, tc.limit).Scan(&cursor); err != nil {
					b.Fatal(err)
				}
				path += fmt.Sprintf("&before=%d", cursor)
			}
			var lat latencies
			for b.Loop() {
				req := httptest.NewRequest("GET", path, nil)
				rec := httptest.NewRecorder()
				start := time.Now()
				h.ServeHTTP(rec, req)
				lat.add(time.Since(start))
				if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"role"`) {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
			}
			lat.report(b, "pages/s")
		})
	}
}
