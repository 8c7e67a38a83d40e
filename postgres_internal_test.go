package taskchat

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/rs/zerolog"

	"github.com/taskchat/taskchat/internal/pgtest"
)

// roundTrips counts what a connection sends and waits for: each query, each
// batch (however many statements it holds) and each prepare.
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	r.n.Add(1)
	return ctx
}
func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.n.Add(1)
	return ctx
}
func (r *roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (r *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}
func (r *roundTrips) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	r.n.Add(1)
	return ctx
}
func (r *roundTrips) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}

func TestChatTurnRoundTrips(t *testing.T) {
	for _, tc := range []struct{ name, mode, schema string }{
		{"default", "", ""}, {"exec", "exec", ""}, {"simple", "simple", ""},
		// The common peer schema, adopted in place: the same round trips.
		{"adopted", "", pgtest.FreeSchema},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := &roundTrips{}
			dbURL := pgtest.NewDatabase(t)
			if tc.schema != "" {
				pgtest.Exec(t, dbURL, tc.schema)
			}
			// One connection, so the warm-up turn has prepared what later turns use.
			env := map[string]string{"DATABASE_URL": pgtest.WithParam(t, dbURL, "pool_max_conns", "1"), "DATABASE_QUERY_MODE": tc.mode}
			a := newApp(func(k string) string { return env[k] }, zerolog.NewTestWriter(t), options{dbTracer: rt})
			t.Cleanup(a.Close)
			if tc.schema != "" {
				if st := a.store.Status(); len(st.Adopted) != 3 {
					_ = a.store.Ready(context.Background())
					if st = a.store.Status(); len(st.Adopted) != 3 {
						t.Fatalf("not adopted: %+v", st)
					}
				}
			}

			turn := func(msg string, conv int64) int64 {
				t.Helper()
				body := `{"message":"` + msg + `"}`
				if conv != 0 {
					body = `{"message":"` + msg + `","conversation_id":` + jsonInt(conv) + `}`
				}
				// A UUID, as the adopted tasks table's uuid user_id needs.
				req := httptest.NewRequest("POST", "/api/5b0c4d3e-2f1a-4b6c-8d7e-9f0a1b2c3d4e/chat", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				a.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					t.Fatalf("%s: %d %s", msg, rec.Code, rec.Body)
				}
				var r struct {
					ConversationID int64 `json:"conversation_id"`
				}
				_ = json.Unmarshal(rec.Body.Bytes(), &r)
				return r.ConversationID
			}
			conv := turn("Add a task to prepare the meeting", 0)
			turn("Show me all my tasks", conv)
			turn("Delete the meeting task", conv)
			turn("Add a task to warm up", conv)
			turn("Mark task 4 as done", conv)
			turn("Change task 4 to warmed up", conv)

			for _, tc := range []struct {
				say  string
				conv bool
				max  int64
			}{
				{"Add a task to buy groceries", false, 3},
				{"Add a task to plan the meeting", true, 3},
				{"What's pending?", true, 3},
				{"Mark task 1 as done", true, 3},
				{"Delete the meeting task", true, 4},
				{"Rename task 1 to Buy oat milk", true, 3},
			} {
				c := int64(0)
				if tc.conv {
					c = conv
				}
				before := rt.n.Load()
				turn(tc.say, c)
				if got := rt.n.Load() - before; got > tc.max {
					t.Errorf("%q took %d round trips, want at most %d", tc.say, got, tc.max)
				} else {
					t.Logf("%q: %d round trips", tc.say, got)
				}
			}
		})
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }
