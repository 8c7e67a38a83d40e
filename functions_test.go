package taskchat_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"

	"github.com/taskchat/taskchat"
)

// TestCloudFunctionsEntryPoint serves the exported Handler as Google Cloud
// Functions (gen2) does with --entry-point Handler: the Go buildpack's main
// registers it with the Functions Framework at "/" and starts the
// framework with FUNCTION_TARGET set; then a person chats through it.
func TestCloudFunctionsEntryPoint(t *testing.T) {
	t.Setenv("FUNCTION_TARGET", "Handler")
	if err := funcframework.RegisterHTTPFunctionContext(context.Background(), "/", taskchat.Handler); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	errc := make(chan error, 1)
	go func() { errc <- funcframework.StartHostPort("127.0.0.1", fmt.Sprint(port)) }()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	for i := 0; ; i++ {
		res, err := http.Get(base + "/health")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		select {
		case err := <-errc:
			t.Fatalf("the framework stopped: %v", err)
		default:
		}
		if i == 500 {
			t.Fatal("the framework never served /health")
		}
		time.Sleep(10 * time.Millisecond)
	}

	post := func(path, body string) (int, string) {
		res, err := http.Post(base+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := post("/api/gcf/chat", `{"message":"add a task to water the ferns"}`); code != 200 || !strings.Contains(body, `Added \"Water the ferns\"`) {
		t.Errorf("chat: %d %s", code, body)
	}
	if code, body := post("/api/gcf/chat", `{"message":"what's pending?"}`); code != 200 || !strings.Contains(body, "Water the ferns") {
		t.Errorf("list: %d %s", code, body)
	}
	if code, body := post("/api/gcf/chat", `{"message":""}`); code != 422 || !strings.Contains(body, "invalid_input") {
		t.Errorf("refusal: %d %s", code, body)
	}
	res, err := http.Get(base + "/")
	if err != nil || res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Errorf("the page: %v %v", res, err)
	}
	if res != nil {
		res.Body.Close()
	}
}
