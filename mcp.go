package taskchat

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"github.com/rs/zerolog"

	"github.com/taskchat/taskchat/internal/agent"
	"github.com/taskchat/taskchat/internal/store"
)

// The task tools over the Model Context Protocol (see the README, "Use your
// tasks from an MCP client"): Streamable HTTP, stateless. Each POST is one
// JSON-RPC message answered as JSON by a server made for that request's
// user, so any instance serves any request and nothing is kept in memory
// between requests.

const mcpInstructions = "These tools manage the signed-in user's to-do list, the same tasks their chat and task page show. " +
	"Look a task up with list_tasks before changing it by name, and ask when several match. " +
	"Due dates are read in the user's time zone (the X-Time-Zone header of the connection, else UTC)."

// handleMCP serves POST /mcp and /api/{user_id}/mcp for the request's user.
func handleMCP(lim chatLimits, st store.Store, version string) http.Handler {
	specs := agent.Specs()
	sdk := mcp.NewStreamableHTTPHandler(func(r *http.Request) *mcp.Server {
		return mcpServer(r, lim, st, specs, version)
	}, &mcp.StreamableHTTPOptions{
		Stateless:           true,
		JSONResponse:        true,
		MaxRequestBodyBytes: lim.bodyBytes,
		// The data routes' own checks guard this one: the token, the
		// path's user, CORS. The SDK's check would refuse every request a
		// local proxy forwards with the public host name (the Lambda Web
		// Adapter's, for one), as it refuses none of the other routes'.
		DisableLocalhostProtection: true,
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// What every route refuses is refused here the same way, before
		// the protocol: a bad key or time zone, a body that is too large,
		// too slow, compressed or not JSON.
		if _, err := idempotencyKey(r); err != nil {
			writeError(w, r, err)
			return
		}
		if _, err := zoneOf(r, ""); err != nil {
			writeError(w, r, err)
			return
		}
		body, err := readJSONBody(w, r, lim.bodyBytes, false)
		if err != nil {
			writeError(w, r, err)
			return
		}
		// One JSON-RPC message per request, as the protocol has it since
		// 2025-06-18: no batches, whatever version a client names.
		trimmed := bytes.TrimSpace(body)
		switch {
		case !json.Valid(trimmed):
			writeRPCError(w, http.StatusBadRequest, jsonrpc.CodeParseError, "Parse error: the body is not valid JSON.")
			return
		case bytes.HasPrefix(trimmed, []byte("[")):
			writeRPCError(w, http.StatusBadRequest, jsonrpc.CodeInvalidRequest, "Batches are not supported: send one JSON-RPC message per request.")
			return
		}
		var msg struct {
			JSONRPC string          `json:"jsonrpc"`
			ID      json.RawMessage `json:"id"`
			Method  string          `json:"method"`
			Params  struct {
				Name string `json:"name"`
			} `json:"params"`
		}
		if json.Unmarshal(body, &msg) != nil || msg.JSONRPC != "2.0" {
			writeRPCError(w, http.StatusBadRequest, jsonrpc.CodeInvalidRequest, "Invalid request: send one JSON-RPC 2.0 message, an object with \"jsonrpc\": \"2.0\".")
			return
		}
		logMCP(r.Context(), msg.Method, msg.Params.Name, specs)
		if len(msg.ID) > 0 && msg.Method != "" && !slices.Contains(mcpMethods, msg.Method) {
			encode(w, http.StatusOK, map[string]any{"jsonrpc": "2.0", "id": msg.ID, "error": map[string]any{
				"code": jsonrpc.CodeMethodNotFound, "message": fmt.Sprintf("Method not found: taskchat serves tools (tools/list, tools/call), not %s.", logName(msg.Method))}})
			return
		}
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		// Every answer is JSON. The SDK refuses a request whose Accept does
		// not name both JSON and event streams, which simple clients and
		// bridges often leave out; they are served all the same.
		r.Header.Set("Accept", "application/json, text/event-stream")
		sdk.ServeHTTP(w, r)
	})
}

// mcpMethods are the requests taskchat's server answers: the tools, and
// the lists and housekeeping that clients send whatever a server offers
// (empty lists for resources and prompts). Others are "method not found"
// before the SDK sees them. Notifications all pass.
var mcpMethods = []string{"initialize", "ping", "tools/list", "tools/call", "resources/list", "resources/templates/list",
	"prompts/list", "logging/setLevel", "server/discover"}

// logName is a client's method or tool name fit for a log or a reply.
func logName(s string) string {
	if !mcpName.MatchString(s) {
		return "invalid"
	}
	return s
}

// mcpName is what a logged method or tool name may look like; others are
// logged as "invalid", so a client cannot write into the log.
var mcpName = regexp.MustCompile(`^[A-Za-z0-9_./-]{1,64}$`)

// logMCP names the request's JSON-RPC method on its log line and, for a
// tools/call of a tool that does not exist, the name (a known tool's call
// logs itself as it ends).
func logMCP(ctx context.Context, method, tool string, specs []agent.ToolSpec) {
	if method == "" {
		return
	}
	method = logName(method)
	known := slices.ContainsFunc(specs, func(s agent.ToolSpec) bool { return s.Name == tool })
	zerolog.Ctx(ctx).UpdateContext(func(c zerolog.Context) zerolog.Context {
		c = c.Str("mcp_method", method)
		if method == "tools/call" && !known {
			c = c.Str("tool", logName(tool)).Str("tool_status", "unknown_tool")
		}
		return c
	})
}

// writeRPCError answers a message the protocol refuses before any server
// reads it, as JSON-RPC says: an error with a null id.
func writeRPCError(w http.ResponseWriter, status int, code int64, msg string) {
	encode(w, status, map[string]any{"jsonrpc": "2.0", "id": nil, "error": map[string]any{"code": code, "message": msg}})
}

// mcpServer is the server of one request: the five tools, bound to the
// request's user, time zone and idempotency key.
func mcpServer(r *http.Request, lim chatLimits, st store.Store, specs []agent.ToolSpec, version string) *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "taskchat", Title: "taskchat: your to-do list", Version: version},
		&mcp.ServerOptions{Instructions: mcpInstructions})
	call := mcpCall{r: r, lim: lim, st: st, user: userOf(r)}
	call.zone, _ = zoneOf(r, "") // checked in handleMCP
	call.key, _ = idempotencyKey(r)
	for _, spec := range specs {
		s.AddTool(&mcp.Tool{Name: spec.Name, Description: spec.Description, InputSchema: spec.InputSchema}, call.handle)
	}
	return s
}

// mcpCall runs tool calls for one request.
type mcpCall struct {
	r    *http.Request
	lim  chatLimits
	st   store.Store
	user string
	zone *time.Location
	key  string
}

// handle runs one tools/call: counted against the chat's rate limits, run
// once per Idempotency-Key, logged once on the request's line (the tool and
// how it ended; never the arguments). A tool's own failure (no such task, a
// bad argument) is a result with isError; the store's is a protocol error.
func (c mcpCall) handle(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	// The request's context, not the session's: the store's calls end
	// with the request, and its logger writes the request's line.
	ctx := c.r.Context()
	name := req.Params.Name
	status := "ok"
	defer func() {
		zerolog.Ctx(ctx).UpdateContext(func(z zerolog.Context) zerolog.Context {
			return z.Str("tool", name).Str("tool_status", status)
		})
	}()
	if res, limited, err := c.admit(ctx); err != nil {
		status = "failed"
		return nil, mcpStoreError(err)
	} else if limited {
		status = "rate_limited"
		return res, nil
	}

	args := req.Params.Arguments
	run := func(ctx context.Context, tasks store.Tasks) (json.RawMessage, error) {
		out, failed, err := agent.NewToolbox(tasks, c.user).At(time.Now(), c.zone).Run(ctx, name, args)
		if err != nil {
			return nil, err
		}
		return json.Marshal(mcpResult(out, failed))
	}
	var raw json.RawMessage
	var err error
	if c.key == "" {
		raw, err = run(ctx, c.st)
	} else {
		sum := sha256.Sum256(append([]byte("mcp "+name+"\n"), args...))
		var replayed bool
		raw, replayed, err = c.st.RunIdempotent(ctx, c.user, c.key, hex.EncodeToString(sum[:]), run)
		if replayed {
			status = "replayed"
		}
	}
	if err != nil {
		status = "failed"
		return nil, mcpStoreError(err)
	}
	var res mcp.CallToolResult
	if err := json.Unmarshal(raw, &res); err != nil {
		status = "failed"
		return nil, fmt.Errorf("decode a stored tool result: %w", err)
	}
	if res.IsError && status == "ok" {
		status = "tool_error"
	}
	return &res, nil
}

// admit counts the call against the per-user limit (CHAT_RATE_LIMIT) and,
// with auth off, the per-address one; past either it answers a tool error
// that says when to try again.
func (c mcpCall) admit(ctx context.Context) (*mcp.CallToolResult, bool, error) {
	var err error
	if c.lim.ratePerMinute > 0 {
		err = c.st.Attempt(ctx, store.RateKey("mcp user", c.user), c.lim.ratePerMinute)
	}
	if err == nil && c.lim.addressRate > 0 {
		err = c.st.Attempt(ctx, store.RateKey("mcp address", clientAddress(c.r, c.lim.proxyHops)), c.lim.addressRate)
	}
	if rl, ok := errors.AsType[*store.RateLimitError](err); ok {
		wait := max(1, int(rl.RetryAfter.Round(time.Second)/time.Second))
		text := fmt.Sprintf("Too many tool calls: at most %d a minute. Nothing was done; try again in %d seconds.", rl.Limit, wait)
		out, _ := json.Marshal(map[string]string{"error": text})
		return mcpResult(out, true), true, nil
	}
	return nil, false, err
}

// mcpResult is a tool's JSON result as MCP carries it: the text the chat's
// agents get, and the same as structured content when it is an object.
func mcpResult(out json.RawMessage, failed bool) *mcp.CallToolResult {
	res := &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(out)}}, IsError: failed}
	if !failed && bytes.HasPrefix(bytes.TrimSpace(out), []byte("{")) {
		res.StructuredContent = out
	}
	return res
}

// mcpStoreError is a store failure as a JSON-RPC error a client can show:
// what happened, and that nothing was done when that is so.
func mcpStoreError(err error) error {
	var msg string
	switch {
	case errors.Is(err, store.ErrUnavailable):
		msg = "The database is unavailable; nothing was done. Try again in a few seconds."
	case errors.Is(err, store.ErrKeyInUse):
		msg = "A request with this Idempotency-Key is still running; try again when it has finished."
	case errors.Is(err, store.ErrKeyReused):
		msg = "This Idempotency-Key was used for another tool call."
	case errors.Is(err, store.ErrUnknownUser):
		msg = "This user is not in the application's users table, so nothing can be stored for them; nothing was done."
	case errors.Is(err, store.ErrValueRejected):
		msg = "The database refused a value of this call; nothing was done."
	case errors.Is(err, store.ErrSchema):
		msg = "The database's schema is not ready (see /health); nothing was done."
	case errors.Is(err, store.ErrOutcomeUnknown):
		msg = "The database stopped answering during the commit: look with list_tasks before trying again."
	default:
		msg = "The tool call failed inside taskchat."
	}
	return &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: msg}
}

// requireMCPUser answers /mcp without a user when auth is off: the user is
// then in the path.
func requireMCPUser(authOn bool, next http.Handler) http.Handler {
	if authOn {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, errorf(http.StatusUnauthorized, "auth_required",
			"Auth is off, so /mcp cannot tell whose tasks to serve: use %s, or set AUTH_SECRET (or AUTH_JWKS_URL) and send Authorization: Bearer <token>.",
			publicURL(r, "/api/{user_id}/mcp")))
	})
}

// withResourceMetadata adds to a 401 where an MCP client learns how to
// sign in (RFC 9728), when AUTH_ISSUER names the authorization server.
func withResourceMetadata(issuer string, next http.Handler) http.Handler {
	if issuer == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&challengeWriter{ResponseWriter: w, r: r}, r)
	})
}

type challengeWriter struct {
	http.ResponseWriter
	r *http.Request
}

func (c *challengeWriter) WriteHeader(code int) {
	if code == http.StatusUnauthorized {
		c.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="taskchat", resource_metadata=%q`,
			publicURL(c.r, "/.well-known/oauth-protected-resource"+strings.TrimSuffix(c.r.URL.Path, "/"))))
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *challengeWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// handleResourceMetadata answers the protected-resource metadata document
// (RFC 9728) of the MCP endpoint: where its tokens come from. Without
// AUTH_ISSUER there is no authorization server to name: 404.
func handleResourceMetadata(issuer string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if issuer == "" {
			writeError(w, r, errorf(http.StatusNotFound, "not_found",
				"No authorization server is configured: set AUTH_ISSUER to the issuer of the tokens taskchat accepts."))
			return
		}
		resource := strings.TrimPrefix(r.URL.Path, "/.well-known/oauth-protected-resource")
		if resource == "" || resource == "/" {
			resource = "/mcp"
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		encode(w, http.StatusOK, oauthex.ProtectedResourceMetadata{
			Resource:               publicURL(r, resource),
			AuthorizationServers:   []string{issuer},
			BearerMethodsSupported: []string{"header"},
			ResourceName:           "taskchat",
		})
	})
}

// publicURL is path on the host the request came to, as its client sees it
// (https when TLS ended here or at the platform's proxy).
func publicURL(r *http.Request, path string) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(strings.TrimSpace(strings.Split(r.Header.Get("X-Forwarded-Proto"), ",")[0]), "https") {
		scheme = "https"
	}
	host := r.Host
	if host == "" || strings.ContainsAny(host, " /\\\"") {
		host = "localhost"
	}
	return scheme + "://" + host + path
}
