package taskchat

import (
	"net/http"
	"path"
	"strings"
)

// route is one entry of the route table.
type route struct {
	pattern string
	handler http.Handler
}

// routeTable lists every route in one place, each with the handler maker
// that serves it and what that handler uses. Data routes go through api.
func (a *App) routeTable() []route {
	st, api := a.store, a.api
	return []route{
		{"POST /api/{user_id}/chat", api(handleChat(chatLimitsOf(a.cfg), st, a.agent))},
		{"GET /api/{user_id}/conversations", api(handleListConversations(st))},
		{"GET /api/{user_id}/conversations/{conversation_id}", api(handleGetConversation(st))},
		{"DELETE /api/{user_id}/conversations/{conversation_id}", api(handleDeleteConversation(st))},
		{"GET /api/{user_id}/conversations/{conversation_id}/messages", api(handleListMessages(st))},
		{"GET /api/{user_id}/tasks", api(handleListTasks(st))},

		{"GET /health", handleHealth(a.standing, st)},
		{"GET /api/health", handleHealth(a.standing, st)},
		{"GET /ready", handleReady(a.standing, st)},
		{"GET /{$}", handlePage()},
		{"GET /openapi.json", handleOpenAPI()},
	}
}

// api wraps a data route in its middleware, one concern each: refused while
// the service is misconfigured (503), the token verified when auth is on
// (401), and {user_id} well-formed and the token's own (400, 403).
func (a *App) api(h http.Handler) http.Handler {
	return requireConfigured(len(a.standing.misconfigured) > 0, authenticate(a.auth, requirePathUser(h)))
}

// Routes lists the route patterns ("METHOD /path"); GET routes answer HEAD too.
func (a *App) Routes() []string {
	var out []string
	for _, r := range a.routeTable() {
		out = append(out, r.pattern)
	}
	return out
}

// newMux registers the route table; a conflicting pattern panics here, at
// build time, which every test that builds the app would catch.
func newMux(routes []route) *http.ServeMux {
	mux := http.NewServeMux()
	for _, r := range routes {
		mux.Handle(r.pattern, r.handler)
	}
	return mux
}

// dispatch routes a request: a trailing slash is dropped, a path with an
// empty or dot segment is refused, and the mux's 404 and 405 are JSON.
func dispatch(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if len(p) > 1 && strings.HasSuffix(p, "/") {
			p = strings.TrimRight(p, "/")
			r.URL.Path = p
			r.URL.RawPath = strings.TrimRight(r.URL.RawPath, "/")
		}
		if ep := r.URL.EscapedPath(); ep == "" || path.Clean(ep) != ep {
			// The mux would redirect to the cleaned path; a request for an
			// empty or dot segment is malformed, so say so instead.
			writeError(w, r, errorf(http.StatusBadRequest, "invalid_path", "The URL path has an empty, \".\" or \"..\" segment."))
			return
		}
		mux.ServeHTTP(&jsonMuxErrors{ResponseWriter: w, r: r}, r)
	})
}

// jsonMuxErrors turns the mux's own plain-text 404 and 405 — those of a
// request no route matched, so r.Pattern is empty — into JSON errors,
// keeping its Allow header. A route's own 404 passes through.
type jsonMuxErrors struct {
	http.ResponseWriter
	r        *http.Request
	replaced bool
}

func (j *jsonMuxErrors) WriteHeader(status int) {
	switch {
	case j.r.Pattern != "":
		j.ResponseWriter.WriteHeader(status)
	case status == http.StatusNotFound:
		j.replaced = true
		encode(j.ResponseWriter, status, errorf(status, "not_found", "No such route."))
	case status == http.StatusMethodNotAllowed:
		j.replaced = true
		allow := j.Header().Get("Allow")
		encode(j.ResponseWriter, status, errorf(status, "method_not_allowed", "Method not allowed here; use %s.", allow))
	default:
		j.ResponseWriter.WriteHeader(status)
	}
}

func (j *jsonMuxErrors) Write(b []byte) (int, error) {
	if j.replaced {
		return len(b), nil
	}
	return j.ResponseWriter.Write(b)
}

func (j *jsonMuxErrors) Unwrap() http.ResponseWriter { return j.ResponseWriter }
