package taskchat_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestOpenAPIMatchesRoutes keeps /openapi.json true: every route of the
// route table is documented, every documented operation exists, and every
// $ref resolves.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	h := newApp(t, nil)
	res := do(t, h, "GET", "/openapi.json", nil)
	var doc struct {
		OpenAPI    string                                `json:"openapi"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components map[string]map[string]json.RawMessage `json:"components"`
	}
	res.json(&doc)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q", doc.OpenAPI)
	}

	routes := map[string]bool{} // "get /path"
	for _, pattern := range h.Routes() {
		method, path, _ := strings.Cut(pattern, " ")
		path = strings.TrimSuffix(path, "{$}")
		routes[strings.ToLower(method)+" "+path] = true
		if _, ok := doc.Paths[path][strings.ToLower(method)]; !ok {
			t.Errorf("route %s is not documented", pattern)
		}
	}
	for path, ops := range doc.Paths {
		for op := range ops {
			if op == "parameters" {
				continue
			}
			method := op
			if op == "head" {
				method = "get" // GET routes answer HEAD
			}
			if !routes[method+" "+path] {
				t.Errorf("documented %s %s is not a route", strings.ToUpper(op), path)
			}
		}
	}

	var refs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "$ref" {
					refs = append(refs, s)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	var all any
	_ = json.Unmarshal(res.Body.Bytes(), &all)
	walk(all)
	if len(refs) == 0 {
		t.Fatal("no $ref found")
	}
	for _, ref := range refs {
		parts := strings.Split(strings.TrimPrefix(ref, "#/components/"), "/")
		if len(parts) != 2 || doc.Components[parts[0]][parts[1]] == nil {
			t.Errorf("$ref %q does not resolve", ref)
		}
	}
}

func TestChatPage(t *testing.T) {
	h := newApp(t, nil)
	res := do(t, h, "GET", "/", nil)
	body := res.Body.String()
	if res.Code != 200 || !strings.HasPrefix(res.Header().Get("Content-Type"), "text/html") || !strings.Contains(body, "<title>taskchat</title>") {
		t.Fatalf("GET / = %d %q", res.Code, res.Header().Get("Content-Type"))
	}
	if n := len(body); n > 30<<10 {
		t.Errorf("the page is %d bytes; keep it under 30 KiB", n)
	}
	csp := res.Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'sha256-", "style-src 'sha256-", "connect-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q: no unsafe-inline, and the page must work in an iframe", csp)
	}
	// No third-party resources: no CDN, no framework.
	for _, bad := range []string{"http://", "https://", "src=\"//"} {
		if strings.Contains(body, bad) {
			t.Errorf("the page refers to another origin (%q)", bad)
		}
	}
	if res.Header().Get("X-Request-ID") == "" {
		t.Error("no request id")
	}
}
