package auth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/taskchat/taskchat/internal/auth"
)

func TestPasswords(t *testing.T) {
	p := auth.NewPasswords(bcrypt.MinCost)
	h, err := p.Hash("a long password")
	if err != nil || !strings.HasPrefix(h, "$2a$04$") {
		t.Fatalf("hash %q %v", h, err)
	}
	for _, tc := range []struct {
		hash, pw    string
		ok, upgrade bool
	}{
		{h, "a long password", true, false},
		{h, "a long passwor", false, false},
		// passlib's bcrypt at Asim's cost 10 (made with Debian's python3-passlib).
		{"$2b$10$miSI3orAMXl6DRD94QG8re4TmRTJSz6xoN/bAJji6aQ2SVkUUAs.W", "Passw0rd!Asim", true, false},
		{"$2b$10$miSI3orAMXl6DRD94QG8re4TmRTJSz6xoN/bAJji6aQ2SVkUUAs.W", "passw0rd!Asim", false, false},
		// Unsalted SHA-256 hex, as two surveyed backends stored them: matched, then upgraded.
		{"9028ea0d15decaa35b2da21c0290af3b1a5ba0a30a591906f89b5074e209ea72", "correct horse battery", true, true},
		{"9028EA0D15DECAA35B2DA21C0290AF3B1A5BA0A30A591906F89B5074E209EA72", "correct horse battery", true, true},
		{"9028ea0d15decaa35b2da21c0290af3b1a5ba0a30a591906f89b5074e209ea72", "correct horse batter", false, false},
		{"", "anything", false, false},
		{"plaintext-password", "plaintext-password", false, false},
	} {
		ok, up := p.Check(tc.hash, tc.pw)
		if ok != tc.ok || up != tc.upgrade {
			t.Errorf("Check(%.12s…, %q) = %v %v, want %v %v", tc.hash, tc.pw, ok, up, tc.ok, tc.upgrade)
		}
	}
	for pw, ok := range map[string]bool{"short": false, "12345678": true, strings.Repeat("x", 72): true, strings.Repeat("x", 73): false, strings.Repeat("é", 36): true} {
		if err := auth.CheckNewPassword(pw); (err == nil) != ok {
			t.Errorf("CheckNewPassword(%d bytes) = %v", len(pw), err)
		}
	}
	if _, err := p.Hash(strings.Repeat("x", 73)); err == nil {
		t.Error("a 73-byte password was hashed (bcrypt would cut it short)")
	}
}

// A token the accounts issue is verified by the same Verifier as any other,
// and refused once it has expired.
func TestIssuedTokens(t *testing.T) {
	const secret = "0123456789abcdef0123456789abcdef"
	v := auth.New(auth.Config{Secret: secret, Issuer: "https://taskchat.example", Audience: "web"})
	i := auth.Issuer{Secret: []byte(secret), TTL: time.Hour, Issuer: "https://taskchat.example", Audience: "web"}
	tok, exp, err := i.Issue("user-7", "u7@example.com", time.Now())
	if err != nil || time.Until(exp) < 59*time.Minute {
		t.Fatal(err, exp)
	}
	if u, err := v.Verify(context.Background(), tok); err != nil || u != "user-7" {
		t.Errorf("Verify = %q %v", u, err)
	}
	old, _, _ := i.Issue("user-7", "u7@example.com", time.Now().Add(-2*time.Hour))
	if _, err := v.Verify(context.Background(), old); err == nil {
		t.Error("an expired token was accepted")
	}
	other := auth.Issuer{Secret: []byte(secret), TTL: time.Hour, Issuer: "https://elsewhere.example", Audience: "web"}
	if tok, _, _ := other.Issue("user-7", "", time.Now()); tok != "" {
		if _, err := v.Verify(context.Background(), tok); err == nil {
			t.Error("a token of another issuer was accepted")
		}
	}
}
