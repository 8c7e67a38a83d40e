package taskchat

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
)

// The chat page for people, and the API's OpenAPI document, both built into
// the binary.
var (
	//go:embed web/index.html
	indexHTML []byte
	//go:embed web/openapi.json
	openAPIJSON []byte
)

// pageCSP allows the page's own inline script and style by their hashes, and
// talking to this origin only. frame-ancestors is left open: Hugging Face
// shows the page in an iframe.
func pageCSP(page []byte) string {
	hash := func(open, close string) string {
		_, rest, _ := bytes.Cut(page, []byte(open))
		body, _, _ := bytes.Cut(rest, []byte(close))
		sum := sha256.Sum256(body)
		return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	return fmt.Sprintf("default-src 'none'; script-src %s; style-src %s; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'",
		hash("<script>", "</script>"), hash("<style>", "</style>"))
}

// handlePage serves the chat page.
func handlePage() http.Handler {
	csp := pageCSP(indexHTML)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Length", strconv.Itoa(len(indexHTML)))
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		_, _ = w.Write(indexHTML)
	})
}

// handleOpenAPI serves the OpenAPI document.
func handleOpenAPI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		writeJSON(w, http.StatusOK, openAPIJSON)
	})
}
