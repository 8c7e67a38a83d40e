// Package auth verifies the JSON Web Tokens that frontends send: HS256/384/512
// with a shared secret, and EdDSA, RS256 or ES256 (and their larger siblings)
// with keys from a JWKS endpoint such as Better Auth's /api/auth/jwks.
package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/rs/zerolog"
	"golang.org/x/time/rate"
)

// Errors of Verify; both mean 401.
var (
	ErrNoToken      = errors.New("no token")
	ErrInvalidToken = errors.New("invalid token")
)

// Algorithms each kind of key may verify. Anything else (none, or an
// algorithm that does not belong to the configured keys) is rejected before
// any key is looked at, which also rules out HS256 tokens "signed" with a
// public key.
var (
	symmetricAlgs = []string{"HS256", "HS384", "HS512"}
	// asymmetricAlgs are the ones Better Auth's JWT plugin signs with.
	asymmetricAlgs = []string{"EdDSA", "ES256", "ES512", "PS256", "RS256"}
)

// MaxJWKSBytes bounds a JWKS document: a real one is a few kilobytes.
const MaxJWKSBytes = 1 << 20

// Leeway tolerates clock skew in exp and nbf.
const Leeway = 30 * time.Second

// Config configures a Verifier.
type Config struct {
	Secret  string // shared secret for HS*; at least 32 bytes
	JWKSURL string // JWKS endpoint for asymmetric keys
	// Issuer and Audience, when set, must be the token's iss and one of
	// its aud (Better Auth sets both to its URL).
	Issuer, Audience string
	// HTTPTimeout bounds one JWKS fetch (default 5 s).
	HTTPTimeout time.Duration
	Logger      zerolog.Logger
}

// Verifier checks tokens. Its JWKS is fetched on the first token that needs
// it (so start-up does no I/O), cached, refreshed hourly, and refetched when
// a token names an unknown key id (at most every 10 s).
type Verifier struct {
	cfg     Config
	methods []string

	mu     sync.Mutex
	jwks   keyfunc.Keyfunc
	ctx    context.Context
	cancel context.CancelFunc
}

// New returns a Verifier, or nil when neither a secret nor a JWKS URL is set
// (auth off).
func New(cfg Config) *Verifier {
	if cfg.Secret == "" && cfg.JWKSURL == "" {
		return nil
	}
	if cfg.HTTPTimeout <= 0 {
		cfg.HTTPTimeout = 5 * time.Second
	}
	v := &Verifier{cfg: cfg}
	if cfg.Secret != "" {
		v.methods = append(v.methods, symmetricAlgs...)
	}
	if cfg.JWKSURL != "" {
		v.methods = append(v.methods, asymmetricAlgs...)
	}
	v.ctx, v.cancel = context.WithCancel(context.Background())
	return v
}

// Close stops the JWKS refresh.
func (v *Verifier) Close() {
	if v != nil {
		v.cancel()
	}
}

// TokenFrom reads the token from "Authorization: Bearer …" or, failing that,
// the auth_token cookie.
func TokenFrom(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok)
		}
		return ""
	}
	if c, err := r.Cookie("auth_token"); err == nil {
		return c.Value
	}
	return ""
}

// Verify checks the token's signature, algorithm, exp (required), nbf, iat
// (not in the future), crit (none understood, so none allowed), and iss and
// aud when configured, and returns its user: the sub claim, else user_id,
// else id — the first of them present, which must be a non-empty string.
func (v *Verifier) Verify(ctx context.Context, token string) (string, error) {
	if token == "" {
		return "", ErrNoToken
	}
	claims := jwt.MapClaims{}
	opts := []jwt.ParserOption{jwt.WithValidMethods(v.methods), jwt.WithLeeway(Leeway), jwt.WithExpirationRequired(),
		jwt.WithIssuedAt()}
	if v.cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(v.cfg.Issuer))
	}
	if v.cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(v.cfg.Audience))
	}
	tok, err := jwt.ParseWithClaims(token, claims, v.key(ctx), opts...)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if _, ok := tok.Header["crit"]; ok {
		// RFC 7515 §4.1.11: a recipient must reject extensions it does
		// not understand, and taskchat understands none.
		return "", fmt.Errorf("%w: a crit header names extensions taskchat does not support", ErrInvalidToken)
	}
	for _, name := range []string{"sub", "user_id", "id"} {
		u, present := claims[name]
		if !present {
			continue
		}
		// A number would be read as a float64, and ids past 2^53 would
		// collide; an array or an object is no one.
		if s, ok := u.(string); ok && s != "" {
			return s, nil
		}
		return "", fmt.Errorf("%w: the %s claim must be a non-empty string", ErrInvalidToken, name)
	}
	return "", fmt.Errorf("%w: no sub, user_id or id claim", ErrInvalidToken)
}

// key picks the key by the token's algorithm: the secret for HS*, the JWKS
// for the rest. jwt has already checked the algorithm is one of v.methods.
func (v *Verifier) key(ctx context.Context) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		alg, _ := t.Header["alg"].(string)
		if slices.Contains(symmetricAlgs, alg) {
			return []byte(v.cfg.Secret), nil
		}
		kf, err := v.keySet()
		if err != nil {
			return nil, err
		}
		return kf.KeyfuncCtx(ctx)(t)
	}
}

func (v *Verifier) keySet() (keyfunc.Keyfunc, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.jwks != nil {
		return v.jwks, nil
	}
	log := v.cfg.Logger
	kf, err := keyfunc.NewDefaultOverrideCtx(v.ctx, []string{v.cfg.JWKSURL}, keyfunc.Override{
		Client:            &http.Client{Timeout: v.cfg.HTTPTimeout, Transport: capped{http.DefaultTransport, MaxJWKSBytes}},
		HTTPTimeout:       v.cfg.HTTPTimeout,
		RefreshUnknownKID: rate.NewLimiter(rate.Every(10*time.Second), 1),
		// Bounds the wait for that limiter and the refetch: a request never
		// hangs on the JWKS endpoint.
		RateLimitWaitMax: v.cfg.HTTPTimeout,
		RefreshErrorHandlerFunc: func(string) func(context.Context, error) {
			return func(_ context.Context, err error) {
				log.Warn().Err(err).Msg("JWKS refresh failed")
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	v.jwks = kf
	return kf, nil
}

// capped is a transport whose response bodies fail past max bytes, so a
// JWKS endpoint cannot make the process read without end.
type capped struct {
	base http.RoundTripper
	max  int64
}

func (c capped) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := c.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	res.Body = &cappedBody{ReadCloser: res.Body, left: c.max}
	return res, nil
}

// errTooLarge is what reading past the cap gives.
var errTooLarge = fmt.Errorf("JWKS document larger than %d bytes", MaxJWKSBytes)

type cappedBody struct {
	io.ReadCloser
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > b.left {
		p = p[:b.left+1] // one byte more tells "exactly max" from "over"
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n, errTooLarge
	}
	return n, err
}
