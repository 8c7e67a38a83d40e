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
// that serves it and what that handler uses. Data routes go through api
// (the user from the path) or tokenAPI (the user from the token).
func (a *App) routeTable() []route {
	st, api, tokenAPI := a.store, a.api, a.tokenAPI
	lim := chatLimitsOf(a.cfg, a.auth != nil)
	body := a.cfg.maxBodyBytes()
	acc, accountAPI := accountsOf(a.cfg, st, a.passwords), a.accountAPI
	return []route{
		// Chat and history, the user in the path.
		{"POST /api/{user_id}/chat", api(handleChat(lim, st, a.agent))},
		{"GET /api/{user_id}/conversations", api(handleListConversations(st))},
		{"GET /api/{user_id}/conversations/{conversation_id}", api(handleGetConversation(st))},
		{"DELETE /api/{user_id}/conversations/{conversation_id}", api(handleDeleteConversation(st))},
		{"GET /api/{user_id}/conversations/{conversation_id}/messages", api(handleListMessages(st))},

		// The Phase II task API, the user in the path.
		{"GET /api/{user_id}/tasks", api(handleListTasks(st))},
		{"POST /api/{user_id}/tasks", api(handleCreateTask(st, body))},
		{"GET /api/{user_id}/tasks/{task_id}", api(handleGetTask(st))},
		{"PUT /api/{user_id}/tasks/{task_id}", api(handleUpdateTask(st, body))},
		{"PATCH /api/{user_id}/tasks/{task_id}", api(handleUpdateTask(st, body))},
		{"DELETE /api/{user_id}/tasks/{task_id}", api(handleDeleteTask(st))},
		{"PATCH /api/{user_id}/tasks/{task_id}/complete", api(handleCompleteTask(st, body))},
		{"PATCH /api/{user_id}/tasks/{task_id}/toggle", api(handleToggleTask(st))},

		// The same, the user from the token, in the shapes the surveyed
		// frontends that call them read; /api/chat and /chat are the chat
		// under the paths two of them use.
		{"POST /api/chat", tokenAPI(handleChat(lim, st, a.agent))},
		{"POST /chat", tokenAPI(handleChat(lim, st, a.agent))},
		{"GET /api/tasks", tokenAPI(handleListTasks(st))},
		{"POST /api/tasks", tokenAPI(handleCreateTask(st, body))},
		{"GET /api/tasks/{task_id}", tokenAPI(handleGetTask(st))},
		{"PUT /api/tasks/{task_id}", tokenAPI(handleUpdateTask(st, body))},
		{"PATCH /api/tasks/{task_id}", tokenAPI(handleUpdateTask(st, body))},
		{"DELETE /api/tasks/{task_id}", tokenAPI(handleDeleteTask(st))},
		{"PATCH /api/tasks/{task_id}/complete", tokenAPI(handleCompleteTask(st, body))},
		{"PATCH /api/tasks/{task_id}/toggle", tokenAPI(handleToggleTask(st))},
		{"GET /api/conversations", tokenAPI(handleTokenConversations(st))},
		{"DELETE /api/conversations", tokenAPI(handleDeleteConversations(st))},
		{"GET /api/conversations/latest", tokenAPI(handleLatestConversation(st))},
		{"GET /api/conversations/{conversation_id}/messages", tokenAPI(handleTokenMessages(st))},
		{"DELETE /api/conversations/{conversation_id}", tokenAPI(handleDeleteConversation(st))},

		// Accounts: sign-up, sign-in, me and sign-out under each prefix the
		// surveyed frontends use, for the frontends whose backend signed
		// their users in.
		{"POST /api/auth/signup", accountAPI(handleSignUp(acc))},
		{"POST /api/auth/register", accountAPI(handleSignUp(acc))},
		{"POST /api/auth/login", accountAPI(handleSignIn(acc))},
		{"POST /api/auth/signin", accountAPI(handleSignIn(acc))},
		{"GET /api/auth/me", accountAPI(authenticate(a.auth, requireTokenUser(handleMe(acc))))},
		{"POST /api/auth/logout", accountAPI(handleSignOut(acc))},
		{"POST /auth/signup", accountAPI(handleSignUp(acc))},
		{"POST /auth/register", accountAPI(handleSignUp(acc))},
		{"POST /auth/login", accountAPI(handleSignIn(acc))},
		{"POST /auth/signin", accountAPI(handleSignIn(acc))},
		{"GET /auth/me", accountAPI(authenticate(a.auth, requireTokenUser(handleMe(acc))))},
		{"POST /auth/logout", accountAPI(handleSignOut(acc))},
		{"POST /api/v1/auth/signup", accountAPI(handleSignUp(acc))},
		{"POST /api/v1/auth/register", accountAPI(handleSignUp(acc))},
		{"POST /api/v1/auth/login", accountAPI(handleSignIn(acc))},
		{"POST /api/v1/auth/signin", accountAPI(handleSignIn(acc))},
		{"GET /api/v1/auth/me", accountAPI(authenticate(a.auth, requireTokenUser(handleMe(acc))))},
		{"POST /api/v1/auth/logout", accountAPI(handleSignOut(acc))},

		// The five tools over MCP, for MCP clients (Claude Desktop, Cursor,
		// connectors): the user in the path, or from the token.
		{"POST /api/{user_id}/mcp", withResourceMetadata(a.cfg.AuthIssuer, api(handleMCP(lim, st, a.standing.version)))},
		{"POST /mcp", a.mcpAPI(handleMCP(lim, st, a.standing.version))},
		{"GET /.well-known/oauth-protected-resource", handleResourceMetadata(a.cfg.AuthIssuer)},
		{"GET /.well-known/oauth-protected-resource/mcp", handleResourceMetadata(a.cfg.AuthIssuer)},

		// Operations and the page.
		{"GET /health", handleHealth(a.standing, st)},
		{"GET /api/health", handleHealth(a.standing, st)},
		{"GET /ready", handleReady(a.standing, st)},
		{"GET /{$}", handlePage()},
		{"GET /openapi.json", handleOpenAPI()},
	}
}

// accountAPI wraps an account route: refused while misconfigured (503) or
// while accounts are off (404 accounts_off).
func (a *App) accountAPI(h http.Handler) http.Handler {
	return requireConfigured(len(a.standing.misconfigured) > 0, requireAccounts(a.cfg.accountsOn(), h))
}

// api wraps a data route whose user is in the path, in middleware of one
// concern each: refused while the service is misconfigured (503), the token
// verified when auth is on (401), and {user_id} well-formed and the token's
// own (400, 403).
func (a *App) api(h http.Handler) http.Handler {
	return requireConfigured(len(a.standing.misconfigured) > 0, authenticate(a.auth, requirePathUser(h)))
}

// tokenAPI wraps a data route whose user is the token's: refused while
// misconfigured (503) and while auth is off (401), then the token verified
// (401) and its user taken.
func (a *App) tokenAPI(h http.Handler) http.Handler {
	return requireConfigured(len(a.standing.misconfigured) > 0,
		requireAuthOn(a.auth != nil, authenticate(a.auth, requireTokenUser(h))))
}

// mcpAPI wraps /mcp, whose user is the token's: refused while
// misconfigured (503), and while auth is off (401, naming the URL to use
// instead); then the token verified (401, with where to sign in when
// AUTH_ISSUER is set) and its user taken.
func (a *App) mcpAPI(h http.Handler) http.Handler {
	return requireConfigured(len(a.standing.misconfigured) > 0, withResourceMetadata(a.cfg.AuthIssuer,
		requireMCPUser(a.auth != nil, authenticate(a.auth, requireTokenUser(h)))))
}

// Routes lists the route patterns ("METHOD /path"); GET routes answer HEAD too.
func (a *App) Routes() []string {
	var out []string
	for _, r := range a.routeTable() {
		out = append(out, r.pattern)
	}
	return out
}

// muxes registers the route table. The routes that take the user from the
// token share their paths' shape with those of a user id ("/api/tasks/5"
// and "/api/{user_id}/tasks" both match "/api/tasks/tasks"), so they get a
// mux of their own, chosen by the path's second segment: those segments
// ("tasks", "conversations") cannot be user ids. A conflicting pattern
// panics here, at build time, which every test that builds the app catches.
type muxes struct {
	byUser, byToken *http.ServeMux
	tokenSegments   map[string]bool
}

func newMuxes(routes []route) muxes {
	m := muxes{byUser: http.NewServeMux(), byToken: http.NewServeMux(), tokenSegments: map[string]bool{}}
	for _, r := range routes {
		// An /api/<literal>/… path of three segments or more would overlap
		// the /api/{user_id}/… patterns.
		if seg, n := apiSegment(r.pattern); n >= 3 && seg != "" && !strings.HasPrefix(seg, "{") {
			m.tokenSegments[seg] = true
		}
	}
	for _, r := range routes {
		m.pick(r.pattern).Handle(r.pattern, r.handler)
	}
	return m
}

// apiSegment is the second segment of an /api/… path (or of a pattern's
// path; "" for any other path) and how many segments it has.
func apiSegment(path string) (string, int) {
	if _, p, ok := strings.Cut(path, " "); ok {
		path = p
	}
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(parts) < 2 || parts[0] != "api" {
		return "", len(parts)
	}
	return parts[1], len(parts)
}

// pick is the mux for a request's path or a route's pattern.
func (m muxes) pick(path string) *http.ServeMux {
	if seg, _ := apiSegment(path); m.tokenSegments[seg] {
		return m.byToken
	}
	return m.byUser
}

// dispatch routes a request: a trailing slash is dropped, a path with an
// empty or dot segment is refused, and the mux's 404 and 405 are JSON.
func dispatch(m muxes) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if len(p) > 1 && strings.HasSuffix(p, "/") {
			p = strings.TrimRight(p, "/")
			r.URL.Path = p
			r.URL.RawPath = strings.TrimRight(r.URL.RawPath, "/")
		}
		if ep := r.URL.EscapedPath(); ep == "" || path.Clean(ep) != ep || dotSegment(p) {
			// The mux would redirect to the cleaned path; a request for an
			// empty or dot segment is malformed, so say so instead.
			writeError(w, r, errorf(http.StatusBadRequest, "invalid_path", "The URL path has an empty, \".\" or \"..\" segment."))
			return
		}
		m.pick(p).ServeHTTP(&jsonMuxErrors{ResponseWriter: w, r: r}, r)
	})
}

// dotSegment reports a decoded path with a "." or ".." segment: one sent
// encoded ("/api/%2e%2e/tasks") passes path.Clean on the escaped form.
func dotSegment(p string) bool {
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
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
