package taskchat_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Input the service refuses, each with a clear 4xx and nothing written.

func TestContentEncodingRefused(t *testing.T) {
	eachStore(t, func(t *testing.T, env map[string]string) {
		h := newApp(t, env)
		for _, enc := range []string{"gzip", "br", "deflate", "x-custom"} {
			// A plain body labelled as compressed is refused, as a compressed one is.
			for _, req := range []struct{ method, path, body string }{
				{"POST", "/api/enc/chat", `{"message":"add a task to buy milk"}`},
				{"POST", "/api/enc/tasks", `{"title":"Buy milk"}`},
			} {
				res := do(t, h, req.method, req.path, strings.NewReader(req.body), "Content-Type", "application/json", "Content-Encoding", enc)
				var e errorBody
				res.json(&e)
				if res.Code != http.StatusUnsupportedMediaType || e.Code != "unsupported_encoding" {
					t.Errorf("%s %s with Content-Encoding %s = %d %+v", req.method, req.path, enc, res.Code, e)
				}
			}
		}
		if res := do(t, h, "POST", "/api/enc/tasks", strings.NewReader(`{"title":"Plain"}`), "Content-Type", "application/json", "Content-Encoding", "identity"); res.Code != http.StatusCreated {
			t.Errorf("Content-Encoding identity = %d %s", res.Code, res.Body)
		}
		if ts := tasksOf(t, h, "enc", "all"); len(ts) != 1 {
			t.Errorf("tasks = %+v", ts)
		}
		var convs conversationsPage
		getJSON(t, h, "/api/enc/conversations", &convs)
		if len(convs.Conversations) != 0 {
			t.Errorf("a refused chat stored a conversation: %+v", convs)
		}
	})
}

// Text with nothing to see, control characters or bidirectional overrides
// is refused as a title, a description or a message.
func TestInvisibleAndControlText(t *testing.T) {
	eachStore(t, func(t *testing.T, env map[string]string) {
		h := newApp(t, env)
		_, keep, _ := taskReq(t, h, "POST", "/api/txt/tasks", `{"title":"Keep me"}`)
		for _, bad := range []struct{ name, text string }{
			{"zero-width spaces", "\u200b\u200b\u200b"},
			{"word joiners and a BOM", "\u2060\ufeff"},
			{"Hangul fillers", "\u3164\u115f"},
			{"a bell", "Pay \u0007rent"},
			{"an escape sequence", "Pay \u001b[31mrent"},
			{"a right-to-left override", "Pay \u202erent\u202c"},
			{"an isolate", "Pay \u2066rent\u2069"},
		} {
			t.Run(bad.name, func(t *testing.T) {
				q := fmt.Sprintf("%q", bad.text)
				q = strings.ReplaceAll(q, `\a`, `\u0007`) // Go's escapes that JSON lacks
				q = strings.ReplaceAll(q, `\x1b`, `\u001b`)
				for _, req := range []struct{ method, path, body string }{
					{"POST", "/api/txt/tasks", `{"title":` + q + `}`},
					{"PATCH", fmt.Sprintf("/api/txt/tasks/%d", keep.ID), `{"title":` + q + `}`},
					{"POST", "/api/txt/chat", `{"message":` + q + `}`},
				} {
					res := do(t, h, req.method, req.path, strings.NewReader(req.body), "Content-Type", "application/json")
					var e errorBody
					res.json(&e)
					if res.Code != http.StatusUnprocessableEntity || e.Code != "invalid_input" || e.Detail == "" {
						t.Errorf("%s %s %s = %d %+v", req.method, req.path, req.body, res.Code, e)
					}
				}
				if bad.text != strings.TrimSpace(bad.text) || strings.ContainsAny(bad.text, "\u0007\u001b\u202e\u2066") {
					res := do(t, h, "PATCH", fmt.Sprintf("/api/txt/tasks/%d", keep.ID), strings.NewReader(`{"description":`+q+`}`), "Content-Type", "application/json")
					if res.Code != http.StatusUnprocessableEntity {
						t.Errorf("description %s = %d %s", q, res.Code, res.Body)
					}
				}
			})
		}
		ts := tasksOf(t, h, "txt", "all")
		if len(ts) != 1 || ts[0].Title != "Keep me" || ts[0].Description != nil && *ts[0].Description != "" {
			t.Errorf("tasks after the refusals = %+v", ts)
		}
		var convs conversationsPage
		getJSON(t, h, "/api/txt/conversations", &convs)
		if len(convs.Conversations) != 0 {
			t.Errorf("a refused chat stored a conversation: %+v", convs)
		}
		// Right-to-left marks, line breaks in a description and emoji with
		// zero-width joiners are text.
		for _, ok := range []string{`{"title":"\u05e9\u05dc\u05d5\u05dd\u200f"}`, `{"title":"Family 👨\u200d👩\u200d👧","description":"line one\nline two"}`} {
			if res, _, e := taskReq(t, h, "POST", "/api/txt/tasks", ok); res.Code != http.StatusCreated {
				t.Errorf("POST %s = %d %+v", ok, res.Code, e)
			}
		}
	})
}

// A body that trickles in is cut off after BODY_TIMEOUT with a 408.
func TestSlowBodyIs408(t *testing.T) {
	h := newApp(t, map[string]string{"BODY_TIMEOUT": "300ms"})
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	body := `{"message":"add a task to buy milk"}`
	fmt.Fprintf(c, "POST /api/slow/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:10])
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var e errorBody
	if err := json.NewDecoder(res.Body).Decode(&e); err != nil {
		t.Fatalf("408 body: %v", err)
	}
	if res.StatusCode != http.StatusRequestTimeout || e.Code != "request_timeout" {
		t.Errorf("slow body = %d %+v", res.StatusCode, e)
	}
	var convs conversationsPage
	getJSON(t, h, "/api/slow/conversations", &convs)
	if len(convs.Conversations) != 0 {
		t.Errorf("the slow request stored a conversation: %+v", convs)
	}
}
