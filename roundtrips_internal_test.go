package taskchat

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/taskchat/taskchat/internal/pgtest"
)

// Round trips as the network counts them: a relay between taskchat and
// PostgreSQL counts every exchange — connecting, signing in, checking the
// schema, preparing, pinging — not only the queries a tracer sees.

// networkApp is an app whose database is behind a counting relay, in plain
// text so the count starts after the TCP handshake.
func networkApp(t testing.TB, dbURL string, extra ...string) (*App, *pgtest.Relay) {
	t.Helper()
	relay := pgtest.NewRelay(t, pgtest.HostPort(t, dbURL))
	env := map[string]string{
		"DATABASE_URL":    pgtest.WithParam(t, pgtest.WithHost(t, dbURL, relay.Addr()), "sslmode", "disable"),
		"CHAT_RATE_LIMIT": "0", "CHAT_ADDRESS_RATE_LIMIT": "0",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		env[extra[i]] = extra[i+1]
	}
	a := newApp(func(k string) string { return env[k] }, zerolog.NewTestWriter(t.(*testing.T)), options{})
	t.Cleanup(a.Close)
	return a, relay
}

// wsApp is an app that reaches PostgreSQL over the WebSocket transport,
// with the counting relay on the WebSocket's side, where the network is.
func wsApp(t *testing.T, dbURL string) (*App, *pgtest.Relay) {
	t.Helper()
	tmpl := pgtest.NewWSRelay(t, pgtest.HostPort(t, dbURL))
	u, err := url.Parse(strings.NewReplacer("{host}", "h", "{port}", "1").Replace(tmpl))
	if err != nil {
		t.Fatal(err)
	}
	relay := pgtest.NewRelay(t, u.Host)
	tmpl = strings.Replace(tmpl, u.Host, relay.Addr(), 1)
	env := map[string]string{
		"DATABASE_URL": dbURL, "DATABASE_TRANSPORT": "websocket", "DATABASE_WS_PROXY": tmpl,
		"CHAT_RATE_LIMIT": "0", "CHAT_ADDRESS_RATE_LIMIT": "0",
	}
	a := newApp(func(k string) string { return env[k] }, zerolog.NewTestWriter(t), options{})
	t.Cleanup(a.Close)
	return a, relay
}

// turnExchanges sends one chat turn and returns the relay's count for it.
func turnExchanges(t testing.TB, a *App, relay *pgtest.Relay, user, msg string) int64 {
	t.Helper()
	before := relay.Exchanges()
	req := httptest.NewRequest("POST", "/api/"+user+"/chat", strings.NewReader(`{"message":"`+msg+`"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	a.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("%s: %d %s", msg, rec.Code, rec.Body)
	}
	return relay.Exchanges() - before
}

// TestRoundTripsOverTheNetwork holds the round-trip budget (README, Benchmarks): three
// a turn at any pace, at most six for a new process's first turn on a
// migrated database (seven over the WebSocket, its upgrade included), at
// most eight on an empty one.
func TestRoundTripsOverTheNetwork(t *testing.T) {
	migrated := pgtest.NewDatabase(t)
	{
		a, relay := networkApp(t, migrated)
		turnExchanges(t, a, relay, "u0", "hello")
	}
	check := func(t *testing.T, what string, got, max int64) {
		t.Helper()
		if got > max {
			t.Errorf("%s: %d round trips, want at most %d", what, got, max)
		} else {
			t.Logf("%s: %d round trips", what, got)
		}
	}
	t.Run("empty database, first turn", func(t *testing.T) {
		a, relay := networkApp(t, pgtest.NewDatabase(t))
		check(t, "first turn, empty database", turnExchanges(t, a, relay, "u1", "Add a task to buy milk"), 8)
	})
	t.Run("migrated database, a new process's first turn", func(t *testing.T) {
		a, relay := networkApp(t, migrated)
		check(t, "first turn, new process", turnExchanges(t, a, relay, "u2", "Add a task to buy milk"), 6)
	})
	t.Run("websocket, a new process's first turn", func(t *testing.T) {
		a, relay := wsApp(t, migrated)
		check(t, "first turn over the WebSocket", turnExchanges(t, a, relay, "u5", "Add a task to buy milk"), 7)
	})
	t.Run("back to back", func(t *testing.T) {
		a, relay := networkApp(t, migrated)
		turnExchanges(t, a, relay, "u3", "Add a task to warm up")
		for _, msg := range []string{"Add a task to buy milk", "What's pending?", "Mark task 1 as done", "Rename task 1 to Buy oat milk", "Delete task 1"} {
			check(t, msg, turnExchanges(t, a, relay, "u3", msg), 3)
		}
	})
	t.Run("at a person's pace", func(t *testing.T) {
		a, relay := networkApp(t, migrated)
		turnExchanges(t, a, relay, "u4", "Add a task to warm up")
		// pgxpool pings a connection idle for over a second before it
		// hands it out, unless told not to.
		time.Sleep(1100 * time.Millisecond)
		check(t, "after a pause", turnExchanges(t, a, relay, "u4", "Add a task to buy milk"), 3)
	})
}

// BenchmarkRoundTrips measures what a person feels across a network: the
// relay delays every packet by 10 ms each way (RTT 20 ms), and each case
// reports round trips per turn three ways — elapsed time over the RTT,
// the relay's count of exchanges, and the tracer's count of queries and
// batches (which cannot see connecting or pinging).
//
//	go test -run '^$' -bench RoundTrips -benchtime 5x .
func BenchmarkRoundTrips(b *testing.B) {
	const oneWay = 10 * time.Millisecond
	migrated := pgtest.NewDatabase(b)
	{
		a, relay := networkAppTraced(b, migrated, nil)
		turnExchanges(b, a, relay, "warm", "hello")
	}
	report := func(b *testing.B, start time.Time, turns int, relay *pgtest.Relay, exchanges0 int64, rt *roundTrips, rt0 int64, paused time.Duration) {
		elapsed := time.Since(start) - paused
		b.ReportMetric(float64(elapsed)/float64(2*oneWay)/float64(turns), "rtt/turn")
		b.ReportMetric(float64(relay.Exchanges()-exchanges0)/float64(turns), "exchanges/turn")
		b.ReportMetric(float64(rt.n.Load()-rt0)/float64(turns), "traced/turn")
	}
	b.Run("back-to-back", func(b *testing.B) {
		rt := &roundTrips{}
		a, relay := networkAppTraced(b, migrated, rt)
		turnExchanges(b, a, relay, "btb", "Add a task to warm up")
		relay.SetDelay(oneWay)
		e0, r0 := relay.Exchanges(), rt.n.Load()
		start := time.Now()
		for range b.N {
			turnExchanges(b, a, relay, "btb", "Add a task to buy milk")
		}
		report(b, start, b.N, relay, e0, rt, r0, 0)
	})
	b.Run("paced-2s", func(b *testing.B) {
		rt := &roundTrips{}
		a, relay := networkAppTraced(b, migrated, rt)
		turnExchanges(b, a, relay, "paced", "Add a task to warm up")
		relay.SetDelay(oneWay)
		e0, r0 := relay.Exchanges(), rt.n.Load()
		var paused time.Duration
		start := time.Now()
		for range b.N {
			p := time.Now()
			time.Sleep(2 * time.Second)
			paused += time.Since(p)
			turnExchanges(b, a, relay, "paced", "Add a task to buy milk")
		}
		report(b, start, b.N, relay, e0, rt, r0, paused)
	})
	b.Run("new-process", func(b *testing.B) {
		var elapsed time.Duration
		var exchanges, traced int64
		for range b.N {
			rt := &roundTrips{}
			relay := pgtest.NewRelay(b, pgtest.HostPort(b, migrated))
			relay.SetDelay(oneWay)
			start := time.Now()
			a := newTracedApp(b, pgtest.WithParam(b, pgtest.WithHost(b, migrated, relay.Addr()), "sslmode", "disable"), rt)
			turnExchanges(b, a, relay, "fresh", "Add a task to buy milk")
			elapsed += time.Since(start)
			exchanges += relay.Exchanges()
			traced += rt.n.Load()
			a.Close()
		}
		b.ReportMetric(float64(elapsed)/float64(2*oneWay)/float64(b.N), "rtt/turn")
		b.ReportMetric(float64(exchanges)/float64(b.N), "exchanges/turn")
		b.ReportMetric(float64(traced)/float64(b.N), "traced/turn")
	})
	b.Run("empty-database", func(b *testing.B) {
		var elapsed time.Duration
		var exchanges int64
		for range b.N {
			dbURL := pgtest.NewDatabase(b)
			relay := pgtest.NewRelay(b, pgtest.HostPort(b, dbURL))
			relay.SetDelay(oneWay)
			start := time.Now()
			a := newTracedApp(b, pgtest.WithParam(b, pgtest.WithHost(b, dbURL, relay.Addr()), "sslmode", "disable"), &roundTrips{})
			turnExchanges(b, a, relay, "empty", "Add a task to buy milk")
			elapsed += time.Since(start)
			exchanges += relay.Exchanges()
			a.Close()
		}
		b.ReportMetric(float64(elapsed)/float64(2*oneWay)/float64(b.N), "rtt/turn")
		b.ReportMetric(float64(exchanges)/float64(b.N), "exchanges/turn")
	})
	b.Run("websocket-new-process", func(b *testing.B) {
		var elapsed time.Duration
		var exchanges int64
		for range b.N {
			tmpl := pgtest.NewWSRelay(b, pgtest.HostPort(b, migrated))
			u, _ := url.Parse(strings.NewReplacer("{host}", "h", "{port}", "1").Replace(tmpl))
			relay := pgtest.NewRelay(b, u.Host)
			relay.SetDelay(oneWay)
			env := map[string]string{"DATABASE_URL": migrated, "DATABASE_TRANSPORT": "websocket",
				"DATABASE_WS_PROXY": strings.Replace(tmpl, u.Host, relay.Addr(), 1), "CHAT_RATE_LIMIT": "0", "CHAT_ADDRESS_RATE_LIMIT": "0"}
			start := time.Now()
			a := newApp(func(k string) string { return env[k] }, io.Discard, options{})
			turnExchanges(b, a, relay, "wsfresh", "Add a task to buy milk")
			elapsed += time.Since(start)
			exchanges += relay.Exchanges()
			a.Close()
		}
		b.ReportMetric(float64(elapsed)/float64(2*oneWay)/float64(b.N), "rtt/turn")
		b.ReportMetric(float64(exchanges)/float64(b.N), "exchanges/turn")
	})
}

func networkAppTraced(b *testing.B, dbURL string, rt *roundTrips) (*App, *pgtest.Relay) {
	b.Helper()
	if rt == nil {
		rt = &roundTrips{}
	}
	relay := pgtest.NewRelay(b, pgtest.HostPort(b, dbURL))
	a := newTracedApp(b, pgtest.WithParam(b, pgtest.WithHost(b, dbURL, relay.Addr()), "sslmode", "disable"), rt)
	b.Cleanup(a.Close)
	return a, relay
}

func newTracedApp(t testing.TB, dbURL string, rt *roundTrips) *App {
	env := map[string]string{"DATABASE_URL": dbURL, "CHAT_RATE_LIMIT": "0", "CHAT_ADDRESS_RATE_LIMIT": "0"}
	return newApp(func(k string) string { return env[k] }, io.Discard, options{dbTracer: rt})
}
