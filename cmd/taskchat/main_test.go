package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// start runs the server on a free port and waits until /health answers.
func start(t *testing.T) (base string, cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	port := freePort(t)
	env := map[string]string{"PORT": strconv.Itoa(port)}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, func(k string) string { return env[k] }, io.Discard, io.Discard) }()
	t.Cleanup(cancel)
	base = fmt.Sprintf("http://127.0.0.1:%d", port)
	for i := 0; ; i++ {
		res, err := http.Get(base + "/health")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return base, cancel, errc
			}
		}
		select {
		case err := <-errc:
			t.Fatalf("run ended early: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
		if i > 1000 {
			t.Fatal("server never answered /health")
		}
	}
}

func TestRunServesAndStops(t *testing.T) {
	base, cancel, done := start(t)

	res, err := http.Post(base+"/api/demo/chat", "application/json", strings.NewReader(`{"message":"Add a task to buy groceries"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"title":"Buy groceries"`) {
		t.Fatalf("chat: %d %s", res.StatusCode, body)
	}

	// A request in flight when the stop comes still gets its answer.
	pr, pw := io.Pipe()
	answered := make(chan string, 1)
	go func() {
		res, err := http.Post(base+"/api/demo/chat", "application/json", pr)
		if err != nil {
			answered <- "error: " + err.Error()
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		answered <- fmt.Sprint(res.StatusCode, " ", string(b))
	}()
	if _, err := pw.Write([]byte(`{"message":"What's `)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // let the server start reading the request
	cancel()
	time.Sleep(200 * time.Millisecond) // let Shutdown begin
	if _, err := pw.Write([]byte(`pending?"}`)); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if got := <-answered; !strings.HasPrefix(got, "200 ") || !strings.Contains(got, "Buy groceries") {
		t.Errorf("in-flight request: %s", got)
	}
	if err := <-done; err != nil {
		t.Fatalf("run returned %v, want nil after a clean shutdown", err)
	}
	if _, err := http.Get(base + "/health"); err == nil {
		t.Error("still serving after shutdown")
	}
}

func TestRunReportsListenError(t *testing.T) {
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	err = run(context.Background(), func(k string) string { return map[string]string{"PORT": port}[k] }, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "listen") {
		t.Errorf("run on a taken port = %v", err)
	}
}
