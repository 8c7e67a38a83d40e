package taskchat

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
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
