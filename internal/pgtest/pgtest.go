// Package pgtest gives tests a real PostgreSQL: a scratch database each, a TCP
// relay that can be cut and restored, and a WebSocket-to-TCP relay.
//
// Tests find the server through TEST_DATABASE_URL. Without it they are
// skipped, except when TASKCHAT_REQUIRE_DB=1 (as CI sets it): then they fail,
// so a CI run can never pass without having run them.
package pgtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5"
)

// URL returns the test server's URL, or skips (or, in CI, fails) the test.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TEST_DATABASE_URL")
	if u == "" {
		if os.Getenv("TASKCHAT_REQUIRE_DB") == "1" {
			t.Fatal("TEST_DATABASE_URL is not set, but TASKCHAT_REQUIRE_DB=1 requires the PostgreSQL tests")
		}
		t.Skip("TEST_DATABASE_URL is not set: skipping the PostgreSQL tests")
	}
	return u
}

// NewDatabase creates an empty database for the test, drops it when the test
// ends, and returns its URL.
func NewDatabase(t testing.TB) string {
	t.Helper()
	base := URL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to TEST_DATABASE_URL: %v", err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "taskchat_test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "create database "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("connect to drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "drop database "+name+" with (force)"); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" {
		t.Fatalf("TEST_DATABASE_URL must be a postgres:// URL")
	}
	u.Path = "/" + name
	return u.String()
}

// WithHost returns dbURL pointing at hostport instead.
func WithHost(t testing.TB, dbURL, hostport string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = hostport
	return u.String()
}

// HostPort returns the host:port of dbURL (default port 5432).
func HostPort(t testing.TB, dbURL string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), "5432")
	}
	return u.Host
}

// Relay forwards TCP connections on a loopback port to a target, and can be
// cut (every connection closed, new ones refused) and restored, to play a
// database outage for real.
type Relay struct {
	ln     net.Listener
	target string

	mu       sync.Mutex
	cut      bool
	conns    map[net.Conn]bool
	wg       sync.WaitGroup
	onCommit func(msg []byte) CommitCut

	delay     atomic.Int64 // one-way delay of every chunk, in nanoseconds
	exchanges atomic.Int64
}

// SetDelay delays every chunk by oneWay in each direction, so a round trip
// over the relay takes twice that more: a database across a network.
func (r *Relay) SetDelay(oneWay time.Duration) { r.delay.Store(int64(oneWay)) }

// Exchanges counts the round trips clients have made through the relay: a
// client's message that follows the server's answer (or opens the
// connection) starts one. Messages a client sends back to back without
// waiting — a pipeline — are one.
func (r *Relay) Exchanges() int64 { return r.exchanges.Load() }

// CommitCut says what happens to a connection that sends a commit.
type CommitCut int

// What OnCommit may do with a commit.
const (
	PassCommit CommitCut = iota // pass it, and its answer
	CutBefore                   // close the connection instead of passing the commit: it never happens
	CutAfter                    // pass the commit, then close the connection: it happens, its answer is lost
)

// OnCommit makes the relay ask decide, for each chunk a client sends that
// holds a commit statement (sent as text: the exec and simple query modes,
// without TLS), what to do with it.
func (r *Relay) OnCommit(decide func(msg []byte) CommitCut) {
	r.mu.Lock()
	r.onCommit = decide
	r.mu.Unlock()
}

// NewRelay starts a relay to target, stopped when the test ends.
func NewRelay(t testing.TB, target string) *Relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &Relay{ln: ln, target: target, conns: map[net.Conn]bool{}}
	r.wg.Add(1)
	go r.accept()
	t.Cleanup(r.close)
	return r
}

// Addr is the relay's host:port.
func (r *Relay) Addr() string { return r.ln.Addr().String() }

// Cut closes every relayed connection and refuses new ones until Restore.
func (r *Relay) Cut() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cut = true
	for c := range r.conns {
		c.Close()
	}
}

// Restore lets connections through again.
func (r *Relay) Restore() {
	r.mu.Lock()
	r.cut = false
	r.mu.Unlock()
}

func (r *Relay) close() {
	r.ln.Close()
	r.Cut()
	r.wg.Wait()
}

func (r *Relay) track(c net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cut {
		c.Close()
		return false
	}
	r.conns[c] = true
	return true
}

func (r *Relay) untrack(c net.Conn) {
	r.mu.Lock()
	delete(r.conns, c)
	r.mu.Unlock()
	c.Close()
}

func (r *Relay) accept() {
	defer r.wg.Done()
	for {
		in, err := r.ln.Accept()
		if err != nil {
			return
		}
		if !r.track(in) {
			continue
		}
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			defer r.untrack(in)
			out, err := net.DialTimeout("tcp", r.target, 5*time.Second)
			if err != nil {
				return
			}
			if !r.track(out) {
				return
			}
			defer r.untrack(out)
			r.pipe(in, out)
		}()
	}
}

// pipe copies both ways until either side ends, then closes both.
func pipe(a, b io.ReadWriteCloser) {
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(a, b); done <- struct{}{} }()
	go func() { _, _ = io.Copy(b, a); done <- struct{}{} }()
	<-done
	a.Close()
	b.Close()
	<-done
}

// pipe relays a client and its server connection, cutting it at a commit
// when OnCommit says so.
func (r *Relay) pipe(client, server net.Conn) {
	decide := func(msg []byte) CommitCut {
		r.mu.Lock()
		d := r.onCommit
		r.mu.Unlock()
		if d == nil {
			return PassCommit
		}
		return d(msg)
	}
	done := make(chan struct{}, 2)
	var mute atomic.Bool     // once a commit is passed to be cut after, its answer never reaches the client
	var answered atomic.Bool // the server spoke since the client last did
	answered.Store(true)
	go func() {
		defer func() { done <- struct{}{} }()
		buf := make([]byte, 64<<10)
		for {
			n, err := server.Read(buf)
			if d := time.Duration(r.delay.Load()); n > 0 && d > 0 {
				time.Sleep(d)
			}
			if n > 0 && !mute.Load() {
				answered.Store(true)
				if _, werr := client.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	go func() {
		defer func() { done <- struct{}{} }()
		buf := make([]byte, 64<<10)
		for {
			n, err := client.Read(buf)
			if d := time.Duration(r.delay.Load()); n > 0 && d > 0 {
				time.Sleep(d)
			}
			if n > 0 && answered.Swap(false) {
				r.exchanges.Add(1)
			}
			if n > 0 {
				cut := PassCommit
				if bytes.Contains(buf[:n], []byte("commit\x00")) {
					cut = decide(buf[:n])
				}
				if cut == CutBefore {
					return
				}
				if cut == CutAfter {
					mute.Store(true)
				}
				if _, werr := server.Write(buf[:n]); werr != nil {
					return
				}
				if cut == CutAfter {
					time.Sleep(50 * time.Millisecond) // the server has it; its answer is what is lost
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	<-done
	client.Close()
	server.Close()
	<-done
}

// NewWSRelay starts a WebSocket-to-TCP relay in the manner of Neon's wsproxy:
// each WebSocket at /v1?address=host:port carries one PostgreSQL connection in
// binary frames. It only ever dials target. It returns a DATABASE_WS_PROXY
// template for it.
func NewWSRelay(t testing.TB, target string) string {
	t.Helper()
	var wg sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1" || r.URL.Query().Get("address") == "" {
			http.Error(w, "want /v1?address=host:port", http.StatusBadRequest)
			return
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		wg.Add(1)
		defer wg.Done()
		ws := websocket.NetConn(context.Background(), c, websocket.MessageBinary)
		out, err := net.DialTimeout("tcp", target, 5*time.Second)
		if err != nil {
			ws.Close()
			return
		}
		pipe(ws, out)
	}))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		wg.Wait()
	})
	return "ws://" + strings.TrimPrefix(srv.URL, "http://") + "/v1?address={host}:{port}"
}

// WithParam returns dbURL with the query parameter key set to value.
func WithParam(t testing.TB, dbURL, key, value string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20") // pgx reads "+" as itself
	return u.String()
}

// WithUser returns dbURL signing in as user with password.
func WithUser(t testing.TB, dbURL, user, password string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(user, password)
	return u.String()
}

// DatabaseName returns the database dbURL names.
func DatabaseName(t testing.TB, dbURL string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(u.Path, "/")
}
