package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"
)

// Passwords: bcrypt at cost 12 for every new or changed password, which the
// surveyed backends' passlib and bcrypt verify too, so a team can switch
// back; bcrypt ($2a$, $2b$, $2y$) and the legacy unsalted SHA-256 hex
// digests three of them stored are verified.

// BcryptCost is the cost of new hashes, as six of the surveyed backends use.
const BcryptCost = 12

// Password length bounds. bcrypt reads at most 72 bytes; a longer password
// is refused rather than cut short, so no two passwords share a hash.
const (
	MinPasswordChars = 8
	MaxPasswordBytes = 72
)

// ErrPassword explains a password that cannot be set.
var ErrPassword = errors.New("password")

// CheckNewPassword says why a password cannot be set, or nil.
func CheckNewPassword(pw string) error {
	switch {
	case len([]rune(pw)) < MinPasswordChars:
		return fmt.Errorf("%w: must be at least %d characters", ErrPassword, MinPasswordChars)
	case len(pw) > MaxPasswordBytes:
		return fmt.Errorf("%w: must be at most %d bytes (bcrypt reads no more)", ErrPassword, MaxPasswordBytes)
	}
	return nil
}

// Passwords hashes and checks passwords at one bcrypt cost.
type Passwords struct {
	cost  int
	dummy func() []byte // a hash an unknown account is checked against
}

// NewPasswords returns Passwords at cost (BcryptCost when 0). Only tests
// ask for less.
func NewPasswords(cost int) Passwords {
	if cost == 0 {
		cost = BcryptCost
	}
	return Passwords{cost: cost, dummy: sync.OnceValue(func() []byte {
		if cost == BcryptCost {
			return []byte(dummyHash)
		}
		h, _ := bcrypt.GenerateFromPassword([]byte("taskchat: no such account"), cost)
		return h
	})}
}

// dummyHash is a cost-12 hash of a phrase nobody types, written out so that
// neither start-up nor the first unknown account spends a hash's time on it.
const dummyHash = "$2a$12$CuXQ7N5X5E1O6kq27ntlSuFW4Ve7RYsEfPAq28acYHTLbqYhmlZb6"

// Hash hashes a password for storage.
func (p Passwords) Hash(pw string) (string, error) {
	if err := CheckNewPassword(pw); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), p.cost)
	return string(h), err
}

// Check reports whether pw matches hash and whether hash should be
// rewritten as bcrypt (a legacy SHA-256 digest that matched). An empty hash
// (no such account) and a failed legacy check cost a bcrypt check too, so
// every wrong answer takes about the same time.
func (p Passwords) Check(hash, pw string) (ok, upgrade bool) {
	if strings.HasPrefix(hash, "$2a$") || strings.HasPrefix(hash, "$2b$") || strings.HasPrefix(hash, "$2y$") {
		return len(pw) <= MaxPasswordBytes && bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil, false
	}
	if isSHA256Hex(hash) {
		sum := sha256.Sum256([]byte(pw))
		if subtle.ConstantTimeCompare([]byte(strings.ToLower(hash)), []byte(hex.EncodeToString(sum[:]))) == 1 {
			return true, len(pw) <= MaxPasswordBytes
		}
	}
	_ = bcrypt.CompareHashAndPassword(p.dummy(), []byte(pw))
	return false, false
}

func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// Issuer signs the HS256 tokens the sign-up and sign-in routes hand out,
// with the same shared secret the Verifier checks.
type Issuer struct {
	Secret   []byte
	TTL      time.Duration
	Issuer   string // iss, when set
	Audience string // aud, when set
}

// Issue returns a token for the user: sub and user_id are the user's id
// (frontends decode either), email, iat and exp.
func (i Issuer) Issue(userID, email string, now time.Time) (string, time.Time, error) {
	exp := now.Add(i.TTL)
	claims := jwt.MapClaims{"sub": userID, "user_id": userID, "email": email, "iat": now.Unix(), "exp": exp.Unix()}
	if i.Issuer != "" {
		claims["iss"] = i.Issuer
	}
	if i.Audience != "" {
		claims["aud"] = i.Audience
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(i.Secret)
	return tok, exp, err
}
