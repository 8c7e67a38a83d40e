package taskchat_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const secret = "0123456789abcdef0123456789abcdef-test-secret"

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// jwksServer serves a JWKS whose keys the test can change.
type jwksServer struct {
	*httptest.Server
	mu    sync.Mutex
	keys  []map[string]any
	hits  int
	alive bool
}

func newJWKS(t *testing.T) *jwksServer {
	j := &jwksServer{alive: true}
	j.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		j.mu.Lock()
		defer j.mu.Unlock()
		j.hits++
		if !j.alive {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": j.keys})
	}))
	t.Cleanup(j.Close)
	return j
}

func (j *jwksServer) add(k map[string]any) {
	j.mu.Lock()
	j.keys = append(j.keys, k)
	j.mu.Unlock()
}

type signer struct {
	method jwt.SigningMethod
	key    any
	kid    string
}

func (s signer) sign(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(s.method, claims)
	if s.kid != "" {
		tok.Header["kid"] = s.kid
	}
	out, err := tok.SignedString(s.key)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func claimsFor(user string) jwt.MapClaims {
	return jwt.MapClaims{"sub": user, "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}
}

// keys makes an Ed25519, an RSA and a P-256 key, publishes them, and returns signers.
func keys(t *testing.T, j *jwksServer) (ed, rs, es signer, rsaPub *rsa.PublicKey) {
	t.Helper()
	edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	j.add(map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64(edPub), "kid": "ed-1", "alg": "EdDSA", "use": "sig"})
	rsKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	j.add(map[string]any{"kty": "RSA", "n": b64(rsKey.N.Bytes()), "e": b64(big.NewInt(int64(rsKey.E)).Bytes()), "kid": "rs-1", "alg": "RS256", "use": "sig"})
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecdh, _ := ecKey.PublicKey.ECDH()
	raw := ecdh.Bytes() // 0x04 || X || Y
	j.add(map[string]any{"kty": "EC", "crv": "P-256", "x": b64(raw[1:33]), "y": b64(raw[33:]), "kid": "es-1", "alg": "ES256", "use": "sig"})
	return signer{jwt.SigningMethodEdDSA, edPriv, "ed-1"}, signer{jwt.SigningMethodRS256, rsKey, "rs-1"},
		signer{jwt.SigningMethodES256, ecKey, "es-1"}, &rsKey.PublicKey
}

// authDo sends GET /api/{user}/tasks with the token.
func authDo(t *testing.T, h http.Handler, user, token string) (int, string) {
	t.Helper()
	res := do(t, h, "GET", "/api/"+user+"/tasks", nil, "Authorization", "Bearer "+token)
	var e errorBody
	if res.Code != http.StatusOK {
		res.json(&e)
	}
	return res.Code, e.Code
}

func TestAuthSharedSecret(t *testing.T) {
	h := newApp(t, map[string]string{"BETTER_AUTH_SECRET": secret})
	if hl := healthOf(t, h); hl.Auth != "jwt" || strings.Contains(strings.Join(hl.Problems, " "), "auth is off") {
		t.Errorf("health = %+v", hl)
	}
	hs := func(m jwt.SigningMethod) signer { return signer{method: m, key: []byte(secret)} }
	now := time.Now()
	for _, tc := range []struct {
		name   string
		token  string
		user   string
		status int
		code   string
	}{
		{"HS256", hs(jwt.SigningMethodHS256).sign(t, claimsFor("alice")), "alice", 200, ""},
		{"HS384", hs(jwt.SigningMethodHS384).sign(t, claimsFor("alice")), "alice", 200, ""},
		{"HS512", hs(jwt.SigningMethodHS512).sign(t, claimsFor("alice")), "alice", 200, ""},
		{"another user's path", hs(jwt.SigningMethodHS256).sign(t, claimsFor("alice")), "bob", 403, "forbidden"},
		{"user_id claim", hs(jwt.SigningMethodHS256).sign(t, jwt.MapClaims{"user_id": "carol", "exp": now.Add(time.Hour).Unix()}), "carol", 200, ""},
		{"string id claim", hs(jwt.SigningMethodHS256).sign(t, jwt.MapClaims{"id": "42", "exp": now.Add(time.Hour).Unix()}), "42", 200, ""},
		// The user claim is a string: a number would be read as a float64,
		// and 9007199254740993 would be user 9007199254740992.
		{"numeric id claim", hs(jwt.SigningMethodHS256).sign(t, jwt.MapClaims{"id": 42, "exp": now.Add(time.Hour).Unix()}), "42", 401, "invalid_token"},
		{"numeric sub past 2^53", hs(jwt.SigningMethodHS256).sign(t, jwt.MapClaims{"sub": json.Number("9007199254740993"), "exp": now.Add(time.Hour).Unix()}), "9007199254740992", 401, "invalid_token"},
		{"array sub, string user_id", hs(jwt.SigningMethodHS256).sign(t, jwt.MapClaims{"sub": []string{"x"}, "user_id": "x", "exp": now.Add(time.Hour).Unix()}), "x", 401, "invalid_token"},
		{"empty sub", hs(jwt.SigningMethodHS256).sign(t, jwt.MapClaims{"sub": "", "user_id": "x", "exp": now.Add(time.Hour).Unix()}), "x", 401, "invalid_token"},
		{"issued a year ahead", hs(jwt.SigningMethodHS256).sign(t, jwt.MapClaims{"sub": "alice", "exp": now.Add(time.Hour).Unix(), "iat": now.AddDate(1, 0, 0).Unix()}), "alice", 401, "invalid_token"},
		{"issued just ahead, within leeway", hs(jwt.SigningMethodHS256).sign(t, jwt.MapClaims{"sub": "alice", "exp": now.Add(time.Hour).Unix(), "iat": now.Add(10 * time.Second).Unix()}), "alice", 200, ""},
		{"unknown crit header", withHeader(t, hs(jwt.SigningMethodHS256), "crit", []string{"exp-ext"}, claimsFor("alice")), "alice", 401, "invalid_token"},
		{"no user claim", hs(jwt.SigningMethodHS256).sign(t, jwt.MapClaims{"exp": now.Add(time.Hour).Unix()}), "alice", 401, "invalid_token"},
		{"expired", hs(jwt.SigningMethodHS256).sign(t, jwt.MapClaims{"sub": "alice", "exp": now.Add(-time.Minute).Unix()}), "alice", 401, "invalid_token"},
		{"expired within leeway", hs(jwt.SigningMethodHS256).sign(t, jwt.MapClaims{"sub": "alice", "exp": now.Add(-10 * time.Second).Unix()}), "alice", 200, ""},
		{"not yet valid", hs(jwt.SigningMethodHS256).sign(t, jwt.MapClaims{"sub": "alice", "exp": now.Add(time.Hour).Unix(), "nbf": now.Add(time.Minute).Unix()}), "alice", 401, "invalid_token"},
		{"no exp", hs(jwt.SigningMethodHS256).sign(t, jwt.MapClaims{"sub": "alice"}), "alice", 401, "invalid_token"},
		{"wrong secret", signer{method: jwt.SigningMethodHS256, key: []byte(strings.Repeat("x", 40))}.sign(t, claimsFor("alice")), "alice", 401, "invalid_token"},
		{"alg none", noneToken(t, claimsFor("alice")), "alice", 401, "invalid_token"},
		{"garbage", "not.a.token", "alice", 401, "invalid_token"},
		{"tampered payload", tamper(hs(jwt.SigningMethodHS256).sign(t, claimsFor("alice")), "mallory"), "mallory", 401, "invalid_token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, code := authDo(t, h, tc.user, tc.token)
			if status != tc.status || code != tc.code {
				t.Errorf("got %d %q, want %d %q", status, code, tc.status, tc.code)
			}
		})
	}

	t.Run("missing token", func(t *testing.T) {
		res := do(t, h, "POST", "/api/alice/chat", strings.NewReader(`{"message":"add a task to sneak in"}`), "Content-Type", "application/json")
		var e errorBody
		res.json(&e)
		if res.Code != 401 || e.Code != "unauthorized" || !strings.HasPrefix(res.Header().Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%d %+v", res.Code, e)
		}
		if ts := tasksWithToken(t, h, "alice", hs(jwt.SigningMethodHS256).sign(t, claimsFor("alice"))); len(ts) != 0 {
			t.Errorf("an unauthenticated chat stored %v", ts)
		}
	})
	t.Run("two Authorization headers", func(t *testing.T) {
		good := "Bearer " + hs(jwt.SigningMethodHS256).sign(t, claimsFor("alice"))
		res := do(t, h, "POST", "/api/alice/chat", strings.NewReader(`{"message":"add a task to sneak in"}`),
			"Content-Type", "application/json", "Authorization", good, "Authorization", "Bearer forged")
		var e errorBody
		res.json(&e)
		if res.Code != 400 || e.Code != "invalid_authorization" {
			t.Errorf("%d %+v", res.Code, e)
		}
		if ts := tasksWithToken(t, h, "alice", hs(jwt.SigningMethodHS256).sign(t, claimsFor("alice"))); len(ts) != 0 {
			t.Errorf("the refused chat stored %v", ts)
		}
	})
	t.Run("cookie", func(t *testing.T) {
		tok := hs(jwt.SigningMethodHS256).sign(t, claimsFor("dora"))
		res := do(t, h, "GET", "/api/dora/conversations", nil, "Cookie", "auth_token="+tok)
		if res.Code != 200 {
			t.Errorf("cookie token: %d %s", res.Code, res.Body)
		}
	})
	t.Run("operational routes stay open", func(t *testing.T) {
		for _, p := range []string{"/health", "/ready", "/"} {
			if res := do(t, h, "GET", p, nil); res.Code != 200 {
				t.Errorf("%s = %d", p, res.Code)
			}
		}
	})
}

// withHeader signs claims with an extra JOSE header.
func withHeader(t *testing.T, s signer, name string, value any, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(s.method, claims)
	tok.Header[name] = value
	out, err := tok.SignedString(s.key)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestAuthIssuerAudience: with AUTH_ISSUER and AUTH_AUDIENCE set (Better
// Auth sets both to its URL), a token must carry them.
func TestAuthIssuerAudience(t *testing.T) {
	const site = "https://app.example.com"
	h := newApp(t, map[string]string{"AUTH_SECRET": secret, "AUTH_ISSUER": site, "AUTH_AUDIENCE": site})
	hs := signer{method: jwt.SigningMethodHS256, key: []byte(secret)}
	exp := time.Now().Add(time.Hour).Unix()
	for _, tc := range []struct {
		name   string
		claims jwt.MapClaims
		status int
	}{
		{"both", jwt.MapClaims{"sub": "ivy", "exp": exp, "iss": site, "aud": site}, 200},
		{"audience in a list", jwt.MapClaims{"sub": "ivy", "exp": exp, "iss": site, "aud": []string{"other", site}}, 200},
		{"no issuer", jwt.MapClaims{"sub": "ivy", "exp": exp, "aud": site}, 401},
		{"another issuer", jwt.MapClaims{"sub": "ivy", "exp": exp, "iss": "https://evil.example", "aud": site}, 401},
		{"no audience", jwt.MapClaims{"sub": "ivy", "exp": exp, "iss": site}, 401},
		{"another audience", jwt.MapClaims{"sub": "ivy", "exp": exp, "iss": site, "aud": "https://evil.example"}, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if status, code := authDo(t, h, "ivy", hs.sign(t, tc.claims)); status != tc.status {
				t.Errorf("got %d %q, want %d", status, code, tc.status)
			}
		})
	}
}

func tasksWithToken(t *testing.T, h http.Handler, user, token string) []task {
	t.Helper()
	res := do(t, h, "GET", "/api/"+user+"/tasks", nil, "Authorization", "Bearer "+token)
	var r []task
	res.json(&r)
	return r
}

func noneToken(t *testing.T, c jwt.MapClaims) string {
	tok, err := jwt.NewWithClaims(jwt.SigningMethodNone, c).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// tamper swaps the payload's sub, keeping the signature.
func tamper(token, user string) string {
	parts := strings.Split(token, ".")
	payload, _ := json.Marshal(claimsFor(user))
	parts[1] = b64(payload)
	return strings.Join(parts, ".")
}

func TestAuthJWKS(t *testing.T) {
	j := newJWKS(t)
	ed, rs, es, rsaPub := keys(t, j)
	p521 := mustEC(t, elliptic.P521())
	size := (p521.Curve.Params().BitSize + 7) / 8
	j.add(map[string]any{"kty": "EC", "crv": "P-521", "x": b64(p521.X.FillBytes(make([]byte, size))), "y": b64(p521.Y.FillBytes(make([]byte, size))), "kid": "es512-1", "alg": "ES512"})
	es512 := signer{jwt.SigningMethodES512, p521, "es512-1"}
	psKey := mustRSA(t)
	j.add(map[string]any{"kty": "RSA", "n": b64(psKey.N.Bytes()), "e": b64(big.NewInt(int64(psKey.E)).Bytes()), "kid": "ps-1", "alg": "PS256"})
	ps256 := signer{jwt.SigningMethodPS256, psKey, "ps-1"}
	h := newApp(t, map[string]string{"BETTER_AUTH_URL": j.URL + "/"})
	// Better Auth's JWKS lives at /api/auth/jwks; this server answers any path.

	der, _ := x509.MarshalPKIXPublicKey(rsaPub)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	for _, tc := range []struct {
		name   string
		token  string
		status int
	}{
		{"EdDSA", ed.sign(t, claimsFor("erin")), 200},
		{"RS256", rs.sign(t, claimsFor("erin")), 200},
		{"ES256", es.sign(t, claimsFor("erin")), 200},
		{"HS256 signed with the public key", signer{jwt.SigningMethodHS256, pubPEM, "rs-1"}.sign(t, claimsFor("erin")), 401},
		{"HS256 without a secret configured", signer{jwt.SigningMethodHS256, []byte(secret), ""}.sign(t, claimsFor("erin")), 401},
		{"ES512 with a P-256 key's kid", signer{jwt.SigningMethodES512, mustEC(t, elliptic.P521()), "es-1"}.sign(t, claimsFor("erin")), 401},
		{"ES512, as Better Auth 1.7 signs", es512.sign(t, claimsFor("erin")), 200},
		{"PS256", ps256.sign(t, claimsFor("erin")), 200},
		{"PS256 with an RS256 key", signer{jwt.SigningMethodPS256, rs.key, "rs-1"}.sign(t, claimsFor("erin")), 401},
		{"RS384: no algorithm Better Auth signs with", signer{jwt.SigningMethodRS384, rs.key, "rs-1"}.sign(t, claimsFor("erin")), 401},
		{"alg none", noneToken(t, claimsFor("erin")), 401},
		{"kid of another key type", signer{jwt.SigningMethodRS256, mustRSA(t), "ed-1"}.sign(t, claimsFor("erin")), 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if status, code := authDo(t, h, "erin", tc.token); status != tc.status {
				t.Errorf("got %d %q, want %d", status, code, tc.status)
			}
		})
	}

	t.Run("rotated key is fetched on unknown kid", func(t *testing.T) {
		newKey := mustRSA(t)
		j.add(map[string]any{"kty": "RSA", "n": b64(newKey.N.Bytes()), "e": b64(big.NewInt(int64(newKey.E)).Bytes()), "kid": "rs-2", "alg": "RS256"})
		if status, code := authDo(t, h, "erin", signer{jwt.SigningMethodRS256, newKey, "rs-2"}.sign(t, claimsFor("erin"))); status != 200 {
			t.Errorf("rotated key: %d %q", status, code)
		}
	})
	t.Run("cached", func(t *testing.T) {
		j.mu.Lock()
		before := j.hits
		j.mu.Unlock()
		for range 5 {
			authDo(t, h, "erin", ed.sign(t, claimsFor("erin")))
		}
		j.mu.Lock()
		defer j.mu.Unlock()
		if j.hits != before {
			t.Errorf("the JWKS was fetched %d more times for known keys", j.hits-before)
		}
	})
}

// A JWKS document is read up to a megabyte: a bigger one is refused, and
// tokens with it, as if the endpoint were down.
func TestAuthJWKSTooLarge(t *testing.T) {
	for _, tc := range []struct {
		name   string
		pad    int
		status int
	}{{"under the cap", 900 << 10, 200}, {"over the cap", 2 << 20, 401}} {
		t.Run(tc.name, func(t *testing.T) {
			j := newJWKS(t)
			ed, _, _, _ := keys(t, j)
			j.add(map[string]any{"kty": "oct", "kid": "padding", "k": strings.Repeat("A", tc.pad)})
			h := newApp(t, map[string]string{"AUTH_JWKS_URL": j.URL})
			if status, code := authDo(t, h, "erin", ed.sign(t, claimsFor("erin"))); status != tc.status {
				t.Errorf("got %d %q, want %d", status, code, tc.status)
			}
		})
	}
}

func TestAuthJWKSDown(t *testing.T) {
	j := newJWKS(t)
	ed, _, _, _ := keys(t, j)
	j.alive = false
	h := newApp(t, map[string]string{"AUTH_JWKS_URL": j.URL})
	if status, _ := authDo(t, h, "erin", ed.sign(t, claimsFor("erin"))); status != 401 {
		t.Errorf("with the JWKS down: %d, want 401", status)
	}
	if hl := healthOf(t, h); hl.Auth != "jwt" {
		t.Errorf("health = %+v", hl)
	}
}

func mustRSA(t *testing.T) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustEC(t *testing.T, c elliptic.Curve) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
