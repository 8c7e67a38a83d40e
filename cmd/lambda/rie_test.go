package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The native Lambda binary under AWS's Runtime Interface Emulator, built
// from its Go module (go.mod's tool): the emulator starts bootstrap as
// Lambda does and hands it real-format events.

const secret = "0123456789abcdef0123456789abcdef-lambda-test"

// build compiles a package into dir and returns the binary's path.
func build(t testing.TB, dir, name, pkg string, flags ...string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	args := append(append([]string{"build", "-o", out}, flags...), pkg)
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRIE runs the emulator with bootstrap and returns its invocation URL
// once it listens, and a function that stops it (also run at cleanup).
func startRIE(t testing.TB, rie, bootstrap string, env ...string) (string, func()) {
	t.Helper()
	port, api := freePort(t), freePort(t)
	cmd := exec.Command(rie, "--log-level", "error",
		"--runtime-interface-emulator-address", fmt.Sprintf("127.0.0.1:%d", port),
		"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", api), bootstrap)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "AWS_LAMBDA_FUNCTION_NAME=taskchat"}, env...)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			if t.Failed() {
				t.Logf("emulator and function output:\n%s", logs.String())
			}
		})
	}
	t.Cleanup(stop)
	for range 2000 {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			break
		}
		time.Sleep(time.Millisecond)
	}
	return fmt.Sprintf("http://127.0.0.1:%d/2015-03-31/functions/function/invocations", port), stop
}

// reply is a Function URL's (or API Gateway's) response as Lambda gets it.
type reply struct {
	StatusCode        int                 `json:"statusCode"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
	Cookies           []string            `json:"cookies"`
}

func (r reply) header(name string) string {
	for k, v := range r.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	for k, v := range r.MultiValueHeaders {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

func invoke(t testing.TB, url string, event any) reply {
	t.Helper()
	b, _ := json.Marshal(event)
	res, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	defer res.Body.Close()
	var r reply
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil || res.StatusCode != 200 {
		t.Fatalf("invoke: %d %v", res.StatusCode, err)
	}
	return r
}

// functionURL is a Function URL event (payload format 2.0) as Lambda sends
// it: headers lower-case, repeated ones joined with commas, cookies apart.
func functionURL(method, path, query, body string, headers map[string]string, cookies []string, b64 bool) map[string]any {
	h := map[string]any{"host": "abcdefghij.lambda-url.eu-west-1.on.aws", "x-forwarded-proto": "https", "x-forwarded-port": "443",
		"x-forwarded-for": "203.0.113.7", "user-agent": "Mozilla/5.0", "x-amzn-trace-id": "Root=1-6750d2a0-0123456789abcdef01234567"}
	for k, v := range headers {
		h[k] = v
	}
	ev := map[string]any{
		"version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query, "headers": h,
		"requestContext": map[string]any{
			"accountId": "anonymous", "apiId": "abcdefghij", "domainName": "abcdefghij.lambda-url.eu-west-1.on.aws", "domainPrefix": "abcdefghij",
			"http":      map[string]any{"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7", "userAgent": "Mozilla/5.0"},
			"requestId": "b0c4a7e1-5c1e-4d3a-9f3e-2a1b0c4a7e15", "routeKey": "$default", "stage": "$default",
			"time": "01/Dec/2026:22:00:00 +0000", "timeEpoch": 1796162400000,
		},
		"isBase64Encoded": b64,
	}
	if len(cookies) > 0 {
		ev["cookies"] = cookies
	}
	if query != "" {
		qs := map[string]string{}
		for _, kv := range strings.Split(query, "&") {
			k, v, _ := strings.Cut(kv, "=")
			qs[k] = v
		}
		ev["queryStringParameters"] = qs
	}
	if body != "" {
		if b64 {
			body = base64.StdEncoding.EncodeToString([]byte(body))
		}
		ev["body"] = body
	}
	return ev
}

// restAPI is an API Gateway REST API proxy event (payload format 1.0),
// with multi-value headers and query strings.
func restAPI(method, path string, query, headers map[string][]string) map[string]any {
	single := func(m map[string][]string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[k] = v[len(v)-1]
		}
		return out
	}
	return map[string]any{
		"resource": "/{proxy+}", "path": path, "httpMethod": method,
		"headers": single(headers), "multiValueHeaders": headers,
		"queryStringParameters": single(query), "multiValueQueryStringParameters": query,
		"pathParameters": map[string]string{"proxy": strings.TrimPrefix(path, "/")}, "stageVariables": nil,
		"requestContext": map[string]any{
			"resourceId": "a1b2c3", "resourcePath": "/{proxy+}", "httpMethod": method, "requestId": "c7d8e9f0-1234-4abc-9def-0123456789ab",
			"path": "/prod" + path, "accountId": "123456789012", "protocol": "HTTP/1.1", "stage": "prod",
			"domainName": "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com", "apiId": "a1b2c3d4e5",
			"identity": map[string]any{"sourceIp": "198.51.100.4", "userAgent": "curl/8.5.0"},
		},
		"body": nil, "isBase64Encoded": false,
	}
}

func token(t testing.TB, user string) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": user, "exp": time.Now().Add(time.Hour).Unix()}).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestUnderRIE: chat, history, a refusal, a base64 body, cookies both ways,
// multi-value headers and query strings, and a streamed answer, through
// the emulator; the instance keeps its application, and store, from one
// invocation to the next.
func TestUnderRIE(t *testing.T) {
	dir := t.TempDir()
	bootstrap := build(t, dir, "bootstrap", ".", "-tags", "lambda.norpc,timetzdata")
	rie := build(t, dir, "aws-lambda-rie", "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie")
	url, _ := startRIE(t, rie, bootstrap, "AUTH_SECRET="+secret, "LOG_LEVEL=warn")
	ana := []string{"theme=dark", "auth_token=" + token(t, "ana")}
	jsonType := map[string]string{"content-type": "application/json"}

	// Chat, the token in a cookie.
	r := invoke(t, url, functionURL("POST", "/api/ana/chat", "", `{"message":"add a task to buy milk"}`, jsonType, ana, false))
	var chat struct {
		ConversationID int64  `json:"conversation_id"`
		Response       string `json:"response"`
		ToolCalls      []struct {
			Tool string `json:"tool"`
		} `json:"tool_calls"`
	}
	if r.StatusCode != 200 || json.Unmarshal([]byte(r.Body), &chat) != nil || chat.ConversationID == 0 || len(chat.ToolCalls) != 1 ||
		!strings.HasPrefix(r.header("Content-Type"), "application/json") || r.header("X-Request-Id") == "" {
		t.Fatalf("chat: %+v", r)
	}
	// A base64 body, as Lambda sends one it does not take for text.
	r = invoke(t, url, functionURL("POST", "/api/ana/chat", "", fmt.Sprintf(`{"message":"add a task to call the café","conversation_id":%d}`, chat.ConversationID), jsonType, ana, true))
	if r.StatusCode != 200 || !strings.Contains(r.Body, `Call the café`) {
		t.Errorf("base64 body: %+v", r)
	}
	// History, with a query string: the same instance, the same store.
	r = invoke(t, url, functionURL("GET", fmt.Sprintf("/api/ana/conversations/%d/messages", chat.ConversationID), "limit=3", "", nil, ana, false))
	var msgs []struct {
		Role, Content string
	}
	if r.StatusCode != 200 || json.Unmarshal([]byte(r.Body), &msgs) != nil || len(msgs) != 3 || r.header("Link") == "" {
		t.Errorf("history: %+v", r)
	}
	// Refusals: a 4xx as JSON, with its headers.
	r = invoke(t, url, functionURL("POST", "/api/ana/chat", "", `{"message":""}`, jsonType, ana, false))
	if r.StatusCode != 422 || !strings.Contains(r.Body, `"invalid_input"`) {
		t.Errorf("empty message: %+v", r)
	}
	r = invoke(t, url, functionURL("GET", "/api/ana/tasks", "", "", nil, []string{"theme=dark"}, false))
	if r.StatusCode != 401 || !strings.HasPrefix(r.header("WWW-Authenticate"), "Bearer") {
		t.Errorf("no token: %+v", r)
	}
	// A cookie set by the function reaches the Function URL's cookies.
	r = invoke(t, url, functionURL("POST", "/api/auth/signup", "", `{"email":"lambda@example.com","password":"correct horse battery"}`, jsonType, nil, false))
	if r.StatusCode != 201 || len(r.Cookies) != 1 || !strings.HasPrefix(r.Cookies[0], "auth_token=") || !strings.Contains(r.Cookies[0], "HttpOnly") {
		t.Errorf("sign-up: %d cookies %v", r.StatusCode, r.Cookies)
	}
	// A streamed answer arrives whole, as Lambda buffers a response.
	r = invoke(t, url, functionURL("POST", "/api/ana/chat", "", `{"message":"show my tasks"}`, map[string]string{"content-type": "application/json", "accept": "application/json, text/event-stream"}, ana, false))
	if r.StatusCode != 200 || !strings.HasPrefix(r.header("Content-Type"), "text/event-stream") || !strings.Contains(r.Body, "event: done") {
		t.Errorf("streamed: %+v", r)
	}

	// The REST API's event, with multi-value query strings and headers.
	tok := "Bearer " + token(t, "ana")
	r = invoke(t, url, restAPI("GET", "/api/ana/tasks", map[string][]string{"status": {"pending"}, "sort": {"title"}},
		map[string][]string{"Authorization": {tok}, "Accept": {"application/json", "text/plain"}}))
	var tasks []struct{ Title string }
	if r.StatusCode != 200 || json.Unmarshal([]byte(r.Body), &tasks) != nil || len(tasks) != 2 || tasks[0].Title != "Buy milk" {
		t.Errorf("REST API: %+v", r)
	}
	r = invoke(t, url, restAPI("GET", "/api/ana/tasks", nil, map[string][]string{"Authorization": {tok, "Bearer someone-else"}}))
	if r.StatusCode != 400 || !strings.Contains(r.Body, "invalid_authorization") {
		t.Errorf("two Authorization headers: %+v", r)
	}
	// An event that is no HTTP request is an error of the invocation.
	b, _ := json.Marshal(map[string]any{"source": "aws.events", "detail-type": "Scheduled Event"})
	res, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var fnErr struct {
		ErrorMessage string `json:"errorMessage"`
	}
	_ = json.NewDecoder(res.Body).Decode(&fnErr)
	res.Body.Close()
	if !strings.Contains(fnErr.ErrorMessage, "HTTP events only") {
		t.Errorf("a scheduled event: %+v", fnErr)
	}
}

// BenchmarkRIEColdStart: the emulator started, with the function, until
// the first answer to a Function URL request for /health: the init of a
// new Lambda instance as near as this machine can show it.
func BenchmarkRIEColdStart(b *testing.B) {
	dir := b.TempDir()
	bootstrap := build(b, dir, "bootstrap", ".", "-trimpath", "-ldflags=-s -w", "-tags", "lambda.norpc,timetzdata")
	rie := build(b, dir, "aws-lambda-rie", "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie")
	ev := functionURL("GET", "/health", "", "", nil, nil, false)
	for b.Loop() {
		url, stop := startRIE(b, rie, bootstrap, "LOG_LEVEL=warn")
		if r := invoke(b, url, ev); r.StatusCode != 200 {
			b.Fatalf("health: %+v", r)
		}
		b.StopTimer()
		stop()
		b.StartTimer()
	}
}
