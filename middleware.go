package taskchat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/taskchat/taskchat/internal/auth"
)

// Middleware, outermost first: withRequestLog, withRecover, withBodyTimeout,
// withCORS wrap every request; the data routes add requireConfigured, authenticate and
// requirePathUser (see api in routes.go).

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// preflightRoute is what the request log names a CORS preflight by.
const preflightRoute = "OPTIONS (preflight)"

// statusWriter remembers the status and size of a response, and drops the
// body of an answer to HEAD wherever the handler runs (not every platform's
// server strips it).
type statusWriter struct {
	http.ResponseWriter
	head   bool
	status int
	bytes  int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	if s.head {
		return len(b), nil
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// withRequestLog gives every request an id (the caller's X-Request-ID when it
// is sane), a logger carrying it, and one log line when it ends, naming the
// route pattern the mux matched and, once a middleware has established it,
// the user. The line never holds message text or tokens.
func withRequestLog(base zerolog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-ID")
		if !requestIDPattern.MatchString(id) {
			var b [16]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-ID", id)
		log := base.With().Str("request_id", id).Logger()
		r = r.WithContext(log.WithContext(r.Context()))
		sw := &statusWriter{ResponseWriter: w, head: r.Method == http.MethodHead}
		next.ServeHTTP(sw, r)

		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		// The user, if known, was added to the logger in the context.
		l := zerolog.Ctx(r.Context())
		ev := l.Info()
		if status >= 500 {
			ev = l.Error()
		}
		ev.Str("method", r.Method).Str("route", r.Pattern).Int("status", status).
			Int("bytes", sw.bytes).Float64("duration_ms", float64(time.Since(start).Microseconds())/1000).Msg("request")
	})
}

// logUser adds the request's user to its logger, so every later line of the
// request (its request line included) names it.
func logUser(ctx context.Context, user string) {
	zerolog.Ctx(ctx).UpdateContext(func(c zerolog.Context) zerolog.Context { return c.Str("user_id", user) })
}

// withRecover turns a panic into a logged 500; the process lives on.
func withRecover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			zerolog.Ctx(r.Context()).Error().Interface("panic", v).Bytes("stack", debug.Stack()).Msg("handler panicked")
			if sw, ok := w.(*statusWriter); ok && sw.status != 0 {
				return // too late to answer; the log has it
			}
			writeError(w, r, errInternal)
		}()
		next.ServeHTTP(w, r)
	})
}

// origins is the CORS allow-list: exact origins, subdomain wildcards such as
// "https://*.vercel.app", or "*" for any origin without credentials. It
// accepts a comma-separated list or a JSON array.
type origins []string

// EnvDecode implements envconfig.Decoder.
func (o *origins) EnvDecode(v string) error {
	var list []string
	if strings.HasPrefix(strings.TrimSpace(v), "[") {
		if err := json.Unmarshal([]byte(v), &list); err != nil {
			return fmt.Errorf("not a JSON array of strings: %w", err)
		}
	} else {
		list = strings.Split(v, ",")
	}
	*o = nil
	for _, s := range list {
		s = strings.TrimRight(strings.TrimSpace(s), "/")
		if s == "" {
			continue
		}
		if s != "*" {
			u, err := url.Parse(strings.Replace(s, "*.", "wildcard.", 1))
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" || u.RawQuery != "") {
				return errors.New("each origin must look like https://app.example.com or https://*.example.com")
			}
		}
		*o = append(*o, s)
	}
	return nil
}

// allows reports whether a browser origin may call the API.
func (o origins) allows(origin string) bool {
	for _, pat := range o {
		if pat == "*" || strings.EqualFold(pat, origin) {
			return true
		}
		scheme, host, ok := strings.Cut(pat, "://*.")
		if !ok {
			continue
		}
		prefix := scheme + "://"
		rest, ok := strings.CutPrefix(strings.ToLower(origin), strings.ToLower(prefix))
		if ok && strings.HasSuffix(rest, "."+strings.ToLower(host)) && len(rest) > len(host)+1 && !strings.ContainsAny(rest, "/?#@") {
			return true
		}
	}
	return false
}

// anyOrigin reports whether the list is the "*" wildcard.
func (o origins) anyOrigin() bool { return slices.Contains(o, "*") }

// withCORS applies CORS_ORIGINS. With no list, nothing cross-origin is allowed.
func withCORS(allowed origins, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		preflight := r.Method == http.MethodOptions && origin != "" && r.Header.Get("Access-Control-Request-Method") != ""
		h := w.Header()
		if origin != "" {
			h.Add("Vary", "Origin")
		}
		ok := origin != "" && allowed.allows(origin)
		if ok {
			if allowed.anyOrigin() {
				h.Set("Access-Control-Allow-Origin", "*")
			} else {
				h.Set("Access-Control-Allow-Origin", origin)
				h.Set("Access-Control-Allow-Credentials", "true")
			}
			h.Set("Access-Control-Expose-Headers", "X-Request-ID, Retry-After, Link, Idempotent-Replayed, WWW-Authenticate, Mcp-Session-Id")
		}
		if !preflight {
			next.ServeHTTP(w, r)
			return
		}
		r.Pattern = preflightRoute // for the request log; the mux never sees it
		if ok {
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			h.Set("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Idempotency-Key, X-Request-ID, X-Time-Zone, Mcp-Protocol-Version, Mcp-Session-Id, Last-Event-ID")
			h.Set("Access-Control-Max-Age", "600")
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// requireConfigured refuses the API while the service is misconfigured;
// /health names what is wrong.
func requireConfigured(misconfigured bool, next http.Handler) http.Handler {
	if !misconfigured {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, errMisconfigured)
	})
}

type tokenUserKey struct{}

// authenticate verifies the request's token when auth is on (v is not nil)
// and puts its user in the context for requirePathUser or
// requireTokenUser; without a valid token it answers 401.
func authenticate(v *auth.Verifier, next http.Handler) http.Handler {
	if v == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.Header.Values("Authorization")) > 1 {
			// Which one would a proxy, a cache and taskchat each believe?
			writeError(w, r, errorf(http.StatusBadRequest, "invalid_authorization", "Send one Authorization header, not several."))
			return
		}
		u, err := v.Verify(r.Context(), auth.TokenFrom(r))
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="taskchat"`)
			if errors.Is(err, auth.ErrNoToken) {
				writeError(w, r, errorf(http.StatusUnauthorized, "unauthorized", "Sign in: send a token as Authorization: Bearer <token> or in the auth_token cookie."))
				return
			}
			zerolog.Ctx(r.Context()).Debug().Err(err).Msg("token rejected")
			writeError(w, r, errorf(http.StatusUnauthorized, "invalid_token", "The token is invalid or has expired; sign in again."))
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), tokenUserKey{}, u)))
	})
}

var userIDPattern = regexp.MustCompile(`^[A-Za-z0-9._@:-]{1,128}$`)

// requirePathUser serves only a well-formed {user_id} and, when a token was
// verified, only the token's own user; that user is the request's.
func requirePathUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		uid := r.PathValue("user_id")
		if !userIDPattern.MatchString(uid) {
			writeError(w, r, errorf(http.StatusBadRequest, "invalid_user_id", "The user id must be 1 to 128 characters from A-Z, a-z, 0-9 and . _ @ : -"))
			return
		}
		logUser(r.Context(), uid)
		if tu, ok := r.Context().Value(tokenUserKey{}).(string); ok && tu != uid {
			writeError(w, r, errorf(http.StatusForbidden, "forbidden", "This token belongs to another user."))
			return
		}
		next.ServeHTTP(w, withUser(r, uid))
	})
}

// requireAuthOn refuses the routes that take the user from the token while
// auth is off: with no token to name the user, they could only guess.
func requireAuthOn(on bool, next http.Handler) http.Handler {
	if on {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="taskchat"`)
		writeError(w, r, errorf(http.StatusUnauthorized, "auth_required",
			"This route takes the user from a sign-in token, and auth is off: set AUTH_SECRET (or AUTH_JWKS_URL) and send Authorization: Bearer <token>, or use the same route under /api/{user_id}/."))
	})
}

// requireTokenUser makes the verified token's user the request's.
func requireTokenUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		uid, _ := r.Context().Value(tokenUserKey{}).(string)
		if !userIDPattern.MatchString(uid) {
			writeError(w, r, errorf(http.StatusForbidden, "invalid_token_user", "The token's user id cannot be used here: it must be 1 to 128 characters from A-Z, a-z, 0-9 and . _ @ : -"))
			return
		}
		logUser(r.Context(), uid)
		next.ServeHTTP(w, withUser(r, uid))
	})
}

type userKey struct{}

func withUser(r *http.Request, user string) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), userKey{}, user))
}

// userOf is the request's user, as the API middleware established it.
func userOf(r *http.Request) string {
	u, _ := r.Context().Value(userKey{}).(string)
	return u
}

type bodyTimeoutKey struct{}

// withBodyTimeout gives readJSONBody the time a request body may take to
// arrive.
func withBodyTimeout(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner := r.WithContext(context.WithValue(r.Context(), bodyTimeoutKey{}, d))
		next.ServeHTTP(w, inner)
		r.Pattern = inner.Pattern // for the request log, which holds r
	})
}

func bodyTimeoutOf(r *http.Request) time.Duration {
	d, _ := r.Context().Value(bodyTimeoutKey{}).(time.Duration)
	return d
}

// clientAddress is the address a request came from, for rate limits: the
// connection's peer, or behind hops trusted proxies that each append the
// address they were reached from to X-Forwarded-For, the address the
// outermost of them saw — the hops-th entry from the end. Entries before
// it are whatever the client wrote, and never believed.
func clientAddress(r *http.Request, hops int) string {
	peer, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		peer = r.RemoteAddr
	}
	if hops <= 0 {
		return peer
	}
	var chain []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		for e := range strings.SplitSeq(h, ",") {
			chain = append(chain, strings.TrimSpace(e))
		}
	}
	if len(chain) < hops {
		return peer // it did not come through the proxies
	}
	a, err := netip.ParseAddr(chain[len(chain)-hops])
	if err != nil {
		return peer
	}
	return a.Unmap().String()
}
