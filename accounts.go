package taskchat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"github.com/taskchat/taskchat/internal/auth"
	"github.com/taskchat/taskchat/internal/store"
)

// Accounts: sign-up, sign-in, "me" and sign-out for the frontends whose
// backend signed their users in (10 of the 14 surveyed). The routes answer
// one body that carries every field those frontends read — the token as
// access_token and token, the user nested and flat, and the same again
// inside {success, data} — so each works unchanged.

// accounts is what the account routes use.
type accounts struct {
	on        bool
	store     store.Store
	issuer    auth.Issuer
	passwords auth.Passwords
	rate      int // attempts a minute per account; per address three times that
	proxyHops int // see clientAddress
}

func accountsOf(cfg Config, st store.Store, pw auth.Passwords) accounts {
	return accounts{
		on: cfg.accountsOn(), store: st, rate: cfg.AuthRateLimit, passwords: pw, proxyHops: cfg.TrustedProxyHops,
		issuer: auth.Issuer{Secret: []byte(cfg.AuthSecret), TTL: cfg.AuthTokenTTL, Issuer: cfg.AuthIssuer, Audience: cfg.AuthAudience},
	}
}

var errAccountsOff = errorf(http.StatusNotFound, "accounts_off",
	"Sign-up and sign-in are off here: they need AUTH_SECRET (the tokens are signed with it) and AUTH_ACCOUNTS not off. With Better Auth, sign in through it instead.")

// authUser is an account as the frontends read it.
type authUser struct {
	ID            string    `json:"id"`
	Email         string    `json:"email"`
	Name          *string   `json:"name"`
	CreatedAt     time.Time `json:"created_at"`
	IsActive      bool      `json:"is_active"`
	EmailVerified bool      `json:"email_verified"`
}

func userView(a store.Account) authUser {
	u := authUser{ID: a.ID, Email: a.Email, CreatedAt: a.CreatedAt, IsActive: true}
	if a.Name != "" {
		u.Name = &a.Name
	}
	return u
}

// authData is the token and user inside the {success, data} envelope two
// frontends read.
type authData struct {
	authUser
	AccessToken string   `json:"access_token"`
	TokenType   string   `json:"token_type"`
	Token       string   `json:"token"`
	User        authUser `json:"user"`
}

// authResponse is the one answer of sign-up and sign-in.
type authResponse struct {
	authUser
	UserID      string   `json:"user_id"`
	AccessToken string   `json:"access_token"`
	TokenType   string   `json:"token_type"`
	Token       string   `json:"token"`
	ExpiresIn   int64    `json:"expires_in"`
	User        authUser `json:"user"`
	Message     string   `json:"message"`
	Success     bool     `json:"success"`
	Data        authData `json:"data"`
	Error       *string  `json:"error"`
}

// credentials is a sign-up or sign-in body.
type credentials struct {
	email, password, name string
}

func decodeCredentials(w http.ResponseWriter, r *http.Request, signUp bool) (credentials, error) {
	var c credentials
	body, err := readJSONBody(w, r, 16<<10, false)
	if err != nil {
		return c, err
	}
	var raw struct {
		Email    json.RawMessage `json:"email"`
		Password json.RawMessage `json:"password"`
		Name     json.RawMessage `json:"name"`
	}
	if err := decodeObject(body, &raw); err != nil {
		return c, err
	}
	str := func(field string, v json.RawMessage, required bool) (string, error) {
		var s string
		if !sent(v) {
			if required {
				return "", invalidInput("The field %q is required.", field)
			}
			return "", nil
		}
		if json.Unmarshal(v, &s) != nil {
			return "", invalidInput("The field %q must be a string.", field)
		}
		return s, nil
	}
	if c.email, err = str("email", raw.Email, true); err != nil {
		return c, err
	}
	if c.password, err = str("password", raw.Password, true); err != nil {
		return c, err
	}
	if c.name, err = str("name", raw.Name, false); err != nil {
		return c, err
	}
	c.email = strings.ToLower(strings.TrimSpace(c.email))
	c.name = strings.TrimSpace(c.name)
	at := strings.LastIndexByte(c.email, '@')
	switch {
	case at < 1 || at == len(c.email)-1 || len(c.email) > 254 || strings.ContainsAny(c.email, " \t\r\n\x00"):
		return c, invalidInput("The email address is not valid.")
	case utf8.RuneCountInString(c.name) > 100 || strings.ContainsRune(c.name, 0):
		return c, invalidInput("The name must be at most 100 characters.")
	case c.password == "":
		return c, invalidInput("The password must not be empty.")
	}
	if signUp {
		if err := auth.CheckNewPassword(c.password); err != nil {
			return c, invalidInput("The password %s.", strings.TrimPrefix(err.Error(), "password: "))
		}
	}
	return c, nil
}

// clientAddr is the address that rate limits of sign-in count by.
func (a accounts) clientAddr(r *http.Request) string { return clientAddress(r, a.proxyHops) }

// attempt counts one attempt for the address and, when given, the account.
func (a accounts) attempt(ctx context.Context, r *http.Request, email string) error {
	if a.rate == 0 {
		return nil
	}
	err := a.store.Attempt(ctx, store.RateKey("sign-in address", a.clientAddr(r)), 3*a.rate)
	if err == nil && email != "" {
		err = a.store.Attempt(ctx, store.RateKey("sign-in email", email), a.rate)
	}
	if rl, ok := errors.AsType[*store.RateLimitError](err); ok {
		e := rateLimited(rl)
		e.Code, e.Detail = "too_many_attempts", fmt.Sprintf("Too many sign-in attempts; please try again in %d seconds.", e.retryAfter)
		return e
	}
	return err
}

// requireAccounts refuses the account routes while they are off.
func requireAccounts(on bool, next http.Handler) http.Handler {
	if on {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { writeError(w, r, errAccountsOff) })
}

// answer signs a token for the account and writes the one answer body,
// setting the auth_token cookie one frontend reads.
func (a accounts) answer(w http.ResponseWriter, r *http.Request, status int, acct store.Account, message string) {
	tok, exp, err := a.issuer.Issue(acct.ID, acct.Email, time.Now())
	if err != nil {
		writeError(w, r, err)
		return
	}
	u := userView(acct)
	res := authResponse{
		authUser: u, UserID: acct.ID, AccessToken: tok, TokenType: "bearer", Token: tok,
		ExpiresIn: int64(a.issuer.TTL / time.Second), User: u, Message: message, Success: true,
		Data: authData{authUser: u, AccessToken: tok, TokenType: "bearer", Token: tok, User: u},
	}
	http.SetCookie(w, &http.Cookie{
		Name: "auth_token", Value: tok, Path: "/", Expires: exp, MaxAge: int(a.issuer.TTL / time.Second),
		HttpOnly: true, Secure: secureRequest(r), SameSite: http.SameSiteLaxMode,
	})
	w.Header().Set("Cache-Control", "no-store")
	encode(w, status, res)
}

// secureRequest reports whether the browser reached us over TLS, directly
// or through the platform's proxy.
func secureRequest(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

var (
	errEmailTaken         = errorf(http.StatusBadRequest, "email_taken", "An account with this email already exists; sign in instead.")
	errInvalidCredentials = errorf(http.StatusUnauthorized, "invalid_credentials", "Invalid email or password.")
)

// handleSignUp creates an account and signs it in: 201.
func handleSignUp(a accounts) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := decodeCredentials(w, r, true)
		if err == nil {
			err = a.attempt(r.Context(), r, "")
		}
		if err != nil {
			writeError(w, r, err)
			return
		}
		hash, err := a.passwords.Hash(c.password)
		if err != nil {
			writeError(w, r, err)
			return
		}
		acct, err := a.store.CreateAccount(r.Context(), store.NewAccount{Email: c.email, Name: c.name, PasswordHash: hash})
		if errors.Is(err, store.ErrEmailTaken) {
			err = errEmailTaken
		}
		if err != nil {
			writeError(w, r, err)
			return
		}
		logUser(r.Context(), acct.ID)
		zerolog.Ctx(r.Context()).Info().Msg("account created")
		a.answer(w, r, http.StatusCreated, acct, "Account created.")
	})
}

// handleSignIn checks an email and password: 200 with a token, or 401 —
// the same answer, in about the same time, for a wrong password and an
// unknown email.
func handleSignIn(a accounts) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := decodeCredentials(w, r, false)
		if err == nil {
			err = a.attempt(r.Context(), r, c.email)
		}
		if err != nil {
			writeError(w, r, err)
			return
		}
		acct, err := a.store.AccountByEmail(r.Context(), c.email)
		if err != nil && !errors.Is(err, store.ErrAccountNotFound) {
			writeError(w, r, err)
			return
		}
		ok, upgrade := a.passwords.Check(acct.PasswordHash, c.password)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="taskchat"`)
			writeError(w, r, errInvalidCredentials)
			return
		}
		logUser(r.Context(), acct.ID)
		if upgrade {
			a.upgrade(r.Context(), acct, c.password)
		}
		a.answer(w, r, http.StatusOK, acct, "Signed in.")
	})
}

// upgrade rewrites a legacy hash as bcrypt; a failure only means it stays.
func (a accounts) upgrade(ctx context.Context, acct store.Account, password string) {
	log := zerolog.Ctx(ctx)
	hash, err := a.passwords.Hash(password)
	if err == nil {
		var done bool
		if done, err = a.store.UpgradePassword(ctx, acct.ID, acct.PasswordHash, hash); done {
			log.Info().Msg("legacy password hash upgraded to bcrypt")
		}
	}
	if err != nil {
		log.Warn().Err(err).Msg("could not upgrade a legacy password hash")
	}
}

// meResponse is "me" as the frontends read it: the user, flat and nested.
type meResponse struct {
	authUser
	User authUser `json:"user"`
}

// handleMe answers the token's account.
func handleMe(a accounts) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		acct, err := a.store.AccountByID(r.Context(), userOf(r))
		if errors.Is(err, store.ErrAccountNotFound) {
			err = errorf(http.StatusUnauthorized, "unknown_account", "The token's account no longer exists; sign in again.")
		}
		if err != nil {
			writeError(w, r, err)
			return
		}
		u := userView(acct)
		w.Header().Set("Cache-Control", "no-store")
		encode(w, http.StatusOK, meResponse{authUser: u, User: u})
	})
}

// handleSignOut clears the auth_token cookie. Tokens are stateless: the
// frontend forgets its copy, and it expires at its exp.
func handleSignOut(a accounts) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "auth_token", Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
			Secure: secureRequest(r), SameSite: http.SameSiteLaxMode})
		encode(w, http.StatusOK, map[string]any{"message": "Signed out.", "success": true})
	})
}
