package taskchat_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/rs/zerolog"

	"github.com/taskchat/taskchat"
	"github.com/taskchat/taskchat/internal/pgtest"
)

// The sign-up and sign-in calls of the ten surveyed frontends whose backend
// signed users in, with their exact paths and bodies, and the fields each
// reads (from peers-auth.md, read off their code).
var signInFrontends = []struct {
	name                   string
	signUp, signIn, me     string // paths; me "" when it never calls it
	signUpBody, signInBody string
	signUpReads, reads     []string
	meReads                []string
	userID                 string // where its paths' user id comes from: a field, or "jwt" (decoded sub)
}{
	{"Asim", "/api/auth/signup", "/api/auth/signin", "",
		`{"name":"Asim Khan","email":"asim@example.com","password":"Str0ng!pass"}`, `{"email":"asim@example.com","password":"Str0ng!pass"}`,
		nil, []string{"access_token:string", "token_type:string", "user.id:string", "user.email:string", "user.name:string", "user.created_at:string"}, nil, "user.id"},
	{"Donia", "/api/auth/signup", "/api/auth/login", "/api/auth/me",
		`{"email":"donia@example.com","password":"password123","name":"Donia"}`, `{"email":"donia@example.com","password":"password123"}`,
		[]string{"id:string", "email:string", "name:string", "created_at:string"},
		[]string{"access_token:string", "token_type:string", "expires_in:number", "user.id:string", "user.email:string"},
		[]string{"id:string", "email:string"}, "jwt"},
	{"saad", "/api/auth/signup", "/api/auth/signin", "",
		`{"email":"saad@example.com","password":"saadpass1","name":"Saad"}`, `{"email":"saad@example.com","password":"saadpass1"}`,
		[]string{"access_token:string", "token_type:string", "user_id:string", "email:string", "name:string"},
		[]string{"access_token:string", "token_type:string", "user_id:string", "email:string", "name:string"}, nil, "user_id"},
	{"nida", "/auth/register", "/auth/login", "/auth/me",
		`{"email":"nida@example.com","password":"nidapass"}`, `{"email":"nida@example.com","password":"nidapass"}`,
		[]string{"email:string", "id:string", "is_active:bool"},
		[]string{"access_token:string", "token_type:string", "user.id:string", "user.email:string"},
		[]string{"email:string", "id:string", "is_active:bool"}, "user.id"},
	{"sitara", "/api/v1/auth/signup", "/api/v1/auth/login", "/api/v1/auth/me",
		`{"email":"sitara@example.com","password":"sitarapass"}`, `{"email":"sitara@example.com","password":"sitarapass"}`,
		[]string{"message:string", "user.id:string", "user.email:string", "user.created_at:string", "token:string"},
		[]string{"message:string", "user.id:string", "user.email:string", "token:string"},
		[]string{"id:string", "email:string", "created_at:string"}, "user.id"},
	{"mahab", "/api/auth/signup", "/api/auth/login", "",
		`{"name":"Mahab","email":"mahab@example.com","password":"mahabpass"}`, `{"email":"mahab@example.com","password":"mahabpass"}`,
		[]string{"token:string", "user.id:string", "user.email:string", "user.name:string", "user.created_at:string"},
		[]string{"token:string", "user.id:string", "user.email:string", "user.name:string"}, nil, "user.id"},
	{"laiba", "/api/auth/register", "/api/auth/login", "/api/auth/me",
		`{"email":"laiba@example.com","password":"laibapass","name":"Laiba"}`, `{"email":"laiba@example.com","password":"laibapass"}`,
		[]string{"access_token:string"},
		[]string{"access_token:string", "token_type:string", "user.id:string", "user.email:string", "user.name:string", "user.created_at:string"},
		[]string{"id:string", "email:string"}, "jwt"},
	{"aliyan", "/api/auth/register", "/api/auth/login", "",
		`{"email":"aliyan@example.com","password":"aliyanpass"}`, `{"email":"aliyan@example.com","password":"aliyanpass"}`,
		[]string{"id:string", "email:string", "email_verified:bool", "created_at:string"},
		[]string{"user.id:string", "user.email:string", "user.email_verified:bool", "access_token:string", "token_type:string"}, nil, "user.id"},
	{"anoosha", "/api/auth/signup", "/api/auth/login", "",
		`{"email":"anoosha@example.com","password":"anooshapass","name":"Anoosha"}`, `{"email":"anoosha@example.com","password":"anooshapass"}`,
		[]string{"success:bool", "data.id:string", "data.email:string", "data.name:string", "data.access_token:string", "data.token_type:string"},
		[]string{"success:bool", "data.access_token:string"}, nil, "data.id"},
	{"arsalan", "/api/auth/signup", "/api/auth/signin", "",
		`{"email":"arsalan@example.com","password":"arsalanpass","name":"Arsalan"}`, `{"email":"arsalan@example.com","password":"arsalanpass"}`,
		[]string{"success:bool", "data.token:string", "data.user.id:string", "data.user.email:string", "data.user.name:string"},
		[]string{"success:bool", "data.token:string", "data.user.id:string"}, nil, "data.user.id"},
}

// field returns the string at a dotted path of a decoded JSON object.
func field(v any, path string) string {
	for _, p := range strings.Split(path, ".") {
		obj, _ := v.(map[string]any)
		v = obj[p]
	}
	s, _ := v.(string)
	return s
}

func postJSON(t *testing.T, h http.Handler, path, body string, headers ...string) (response, map[string]any) {
	t.Helper()
	res := do(t, h, "POST", path, strings.NewReader(body), append([]string{"Content-Type", "application/json"}, headers...)...)
	var v map[string]any
	_ = json.Unmarshal(res.Body.Bytes(), &v)
	return res, v
}

// TestSignInFrontends runs each frontend's sign-up → sign-in → me → chat →
// task list with its exact bodies, and checks the fields it reads.
func TestSignInFrontends(t *testing.T) {
	eachStore(t, func(t *testing.T, env map[string]string) {
		env["AUTH_SECRET"] = secret
		var logs syncBuffer
		a := newAppLogging(t, env, &logs)
		for _, fe := range signInFrontends {
			t.Run(fe.name, func(t *testing.T) {
				res, up := postJSON(t, a, fe.signUp, fe.signUpBody)
				if res.Code != http.StatusCreated {
					t.Fatalf("sign-up = %d %s", res.Code, res.Body)
				}
				for _, r := range fe.signUpReads {
					if err := readField(any(up), r); err != nil {
						t.Errorf("sign-up: %s: %v", r, err)
					}
				}
				res, in := postJSON(t, a, fe.signIn, fe.signInBody)
				if res.Code != http.StatusOK {
					t.Fatalf("sign-in = %d %s", res.Code, res.Body)
				}
				for _, r := range fe.reads {
					if err := readField(any(in), r); err != nil {
						t.Errorf("sign-in: %s: %v", r, err)
					}
				}
				tok := field(in, "access_token")
				if tok == "" {
					tok = field(in, "token")
				}
				claims := jwt.MapClaims{}
				if _, _, err := jwt.NewParser().ParseUnverified(tok, claims); err != nil {
					t.Fatal(err)
				}
				uid := field(in, fe.userID)
				if fe.userID == "jwt" {
					uid, _ = claims["sub"].(string)
				}
				if uid == "" || claims["sub"] != uid || claims["email"] == nil || claims["iat"] == nil || claims["exp"] == nil {
					t.Errorf("user id %q, claims %v", uid, claims)
				}
				if exp, _ := claims["exp"].(float64); time.Until(time.Unix(int64(exp), 0)) < 6*24*time.Hour {
					t.Errorf("token expires at %v, want 7 days", exp)
				}
				bearer := []string{"Authorization", "Bearer " + tok}
				if fe.me != "" {
					res := do(t, a, "GET", fe.me, nil, bearer...)
					var me map[string]any
					res.json(&me)
					if res.Code != http.StatusOK || me["id"] != uid {
						t.Errorf("me = %d %s", res.Code, res.Body)
					}
					for _, r := range fe.meReads {
						if err := readField(any(me), r); err != nil {
							t.Errorf("me: %s: %v", r, err)
						}
					}
				}
				res, reply := postJSON(t, a, "/api/"+uid+"/chat", `{"message":"Add a task to sign in"}`, bearer...)
				if res.Code != http.StatusOK || !strings.Contains(fmt.Sprint(reply["response"]), "Sign in") {
					t.Errorf("chat = %d %s", res.Code, res.Body)
				}
				var ts []task
				if res := do(t, a, "GET", "/api/tasks", nil, bearer...); res.Code != http.StatusOK {
					t.Errorf("task list = %d %s", res.Code, res.Body)
				} else if res.json(&ts); len(ts) != 1 || ts[0].UserID != uid {
					t.Errorf("tasks = %+v", ts)
				}
				// Another user's token gets nothing of this user's.
				other := signer{method: jwt.SigningMethodHS256, key: []byte(secret)}.sign(t, claimsFor("someone-else"))
				if res := do(t, a, "GET", "/api/"+uid+"/tasks", nil, "Authorization", "Bearer "+other); res.Code != http.StatusForbidden {
					t.Errorf("another token on this user's path: %d", res.Code)
				}
			})
		}
		for _, fe := range signInFrontends {
			pw := strings.Split(strings.Split(fe.signInBody, `"password":"`)[1], `"`)[0]
			if strings.Contains(logs.String(), pw) {
				t.Errorf("the log holds %s's password", fe.name)
			}
		}
		if strings.Contains(logs.String(), "eyJ") {
			t.Error("the log holds a token")
		}
	})
}

// newAppLogging is newCheapApp with the log written to w as well.
func newAppLogging(t *testing.T, env map[string]string, w *syncBuffer) http.Handler {
	t.Helper()
	a := taskchat.NewCheapHashing(func(k string) string { return env[k] }, io.MultiWriter(zerolog.NewTestWriter(t), w))
	t.Cleanup(a.Close)
	return a
}

// newCheapApp is newApp hashing passwords at bcrypt's lowest cost.
func newCheapApp(t *testing.T, env map[string]string) http.Handler {
	t.Helper()
	a := taskchat.NewCheapHashing(func(k string) string { return env[k] }, zerolog.NewTestWriter(t))
	t.Cleanup(a.Close)
	return a
}

func TestAccountRules(t *testing.T) {
	eachStore(t, func(t *testing.T, env map[string]string) {
		env["AUTH_SECRET"] = secret
		h := newCheapApp(t, env)
		res, _ := postJSON(t, h, "/api/auth/signup", `{"email":"  Ada@Example.COM ","password":"password1","name":"Ada"}`)
		if res.Code != http.StatusCreated {
			t.Fatalf("%d %s", res.Code, res.Body)
		}
		for _, tc := range []struct {
			name, path, body string
			status           int
			code             string
		}{
			{"taken, other case", "/api/auth/signup", `{"email":"ada@example.com","password":"password2"}`, 400, "email_taken"},
			{"short password", "/api/auth/signup", `{"email":"b@example.com","password":"short"}`, 422, "invalid_input"},
			{"73 bytes", "/api/auth/signup", `{"email":"c@example.com","password":"` + strings.Repeat("x", 73) + `"}`, 422, "invalid_input"},
			{"no email", "/api/auth/signup", `{"password":"password1"}`, 422, "invalid_input"},
			{"bad email", "/auth/register", `{"email":"not-an-email","password":"password1"}`, 422, "invalid_input"},
			{"number password", "/api/auth/login", `{"email":"ada@example.com","password":12345678}`, 422, "invalid_input"},
			{"wrong password", "/api/auth/login", `{"email":"ada@example.com","password":"password2"}`, 401, "invalid_credentials"},
			{"unknown email", "/api/auth/login", `{"email":"nobody@example.com","password":"password2"}`, 401, "invalid_credentials"},
			{"not JSON", "/api/auth/login", `email=ada`, 400, "invalid_json"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res, v := postJSON(t, h, tc.path, tc.body)
				if res.Code != tc.status || v["code"] != tc.code || v["detail"] == "" {
					t.Errorf("%d %s, want %d %s", res.Code, res.Body, tc.status, tc.code)
				}
			})
		}
		// A wrong password and an unknown email get the same answer.
		_, wrong := postJSON(t, h, "/api/auth/login", `{"email":"ada@example.com","password":"password2"}`)
		_, unknown := postJSON(t, h, "/api/auth/login", `{"email":"nobody@example.com","password":"password2"}`)
		if fmt.Sprint(wrong) != fmt.Sprint(unknown) {
			t.Errorf("the answers differ: %v / %v", wrong, unknown)
		}
		// 72 bytes is the limit, not more: exactly 72 works.
		long := strings.Repeat("é", 36)
		if res, _ := postJSON(t, h, "/api/auth/signup", `{"email":"d@example.com","password":"`+long+`"}`); res.Code != http.StatusCreated {
			t.Errorf("72-byte password: %d %s", res.Code, res.Body)
		}
		if res, _ := postJSON(t, h, "/api/auth/login", `{"email":"D@example.com","password":"`+long+`"}`); res.Code != http.StatusOK {
			t.Errorf("sign-in with it: %d %s", res.Code, res.Body)
		}
		// The cookie is set, httpOnly, and works as the token.
		res, v := postJSON(t, h, "/api/auth/login", `{"email":"ada@example.com","password":"password1"}`)
		var cookie *http.Cookie
		for _, c := range res.Result().Cookies() {
			if c.Name == "auth_token" {
				cookie = c
			}
		}
		if cookie == nil || !cookie.HttpOnly || cookie.Value != v["token"] {
			t.Fatalf("cookie = %+v", cookie)
		}
		if res := do(t, h, "GET", "/api/v1/auth/me", nil, "Cookie", "auth_token="+cookie.Value); res.Code != http.StatusOK {
			t.Errorf("me by cookie = %d", res.Code)
		}
		if res := do(t, h, "POST", "/api/v1/auth/logout", nil); res.Code != http.StatusOK || !strings.Contains(res.Header().Get("Set-Cookie"), "Max-Age=0") {
			t.Errorf("logout = %d %v", res.Code, res.Header())
		}
	})
}

func TestAccountsOff(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"no secret":         {},
		"JWKS only":         {"AUTH_JWKS_URL": "http://127.0.0.1:1/jwks"},
		"AUTH_ACCOUNTS=off": {"AUTH_SECRET": secret, "AUTH_ACCOUNTS": "off"},
	} {
		t.Run(name, func(t *testing.T) {
			h := newCheapApp(t, env)
			for _, p := range []string{"/api/auth/signup", "/auth/login"} {
				res, v := postJSON(t, h, p, `{"email":"a@example.com","password":"password1"}`)
				if res.Code != http.StatusNotFound || v["code"] != "accounts_off" || !strings.Contains(fmt.Sprint(v["detail"]), "AUTH_SECRET") {
					t.Errorf("%s = %d %s", p, res.Code, res.Body)
				}
			}
			var hl struct {
				Accounts string `json:"accounts"`
			}
			getJSON(t, h, "/health", &hl)
			if hl.Accounts != "off" {
				t.Errorf("health accounts = %q", hl.Accounts)
			}
		})
	}
}

// Sign-in is limited per account and per address, across instances.
func TestAccountRateLimit(t *testing.T) {
	env := map[string]string{"DATABASE_URL": pgtest.NewDatabase(t), "AUTH_SECRET": secret, "AUTH_RATE_LIMIT": "3"}
	a, b := newCheapApp(t, env), newCheapApp(t, env)
	postJSON(t, a, "/api/auth/signup", `{"email":"eve@example.com","password":"password1"}`)
	codes := []int{}
	for i := range 4 {
		h := []http.Handler{a, b}[i%2]
		res, _ := postJSON(t, h, "/api/auth/login", `{"email":"eve@example.com","password":"guess-`+fmt.Sprint(i)+`"}`)
		codes = append(codes, res.Code)
		if i == 3 {
			var e errorBody
			res.json(&e)
			if e.Code != "too_many_attempts" || res.Header().Get("Retry-After") == "" {
				t.Errorf("4th attempt: %+v %v", e, res.Header())
			}
		}
	}
	if fmt.Sprint(codes) != "[401 401 401 429]" {
		t.Errorf("codes = %v", codes)
	}
	// The right password is refused too while the account is limited.
	if res, _ := postJSON(t, a, "/api/auth/login", `{"email":"eve@example.com","password":"password1"}`); res.Code != http.StatusTooManyRequests {
		t.Errorf("right password while limited: %d", res.Code)
	}
	// Per address: 3 × 3 attempts a minute, whatever the accounts.
	n := 0
	for i := range 12 {
		res, _ := postJSON(t, b, "/api/auth/login", fmt.Sprintf(`{"email":"user%d@example.com","password":"password1"}`, i))
		if res.Code == http.StatusTooManyRequests {
			n++
		}
	}
	if n == 0 {
		t.Error("no address limit")
	}
}

// Fixed test vectors made outside Go, with Debian's python3-passlib 1.7 and
// python3-bcrypt 3.2: bcrypt.using(rounds=12, ident="2b").hash(…), and
// hashlib.sha256(…).hexdigest() as saad's and anoosha's backends store them.
const (
	passlibHash = "$2b$12$WdmJ4fXGRUTXQ0DNY7LKVeDUPMuQy0HXpM5WtEK2vWIrgRuuAfgne"     // "correct horse battery"
	pyBcrypt    = "$2b$12$zXDvSBBtfYw0X55KBDLUduPTCyOJ5wwEv0Uwg8GS2c2YD5EoTj4yW"     // "hunter2hunter2"
	passlib10   = "$2b$10$miSI3orAMXl6DRD94QG8re4TmRTJSz6xoN/bAJji6aQ2SVkUUAs.W"     // "Passw0rd!Asim", Asim's cost 10
	sha256Hex   = "9028ea0d15decaa35b2da21c0290af3b1a5ba0a30a591906f89b5074e209ea72" // "correct horse battery"
)

// An existing users table is adopted: existing accounts sign in with their
// existing passwords, legacy hashes become bcrypt, and new accounts land there.
func TestAccountsAdoptUsers(t *testing.T) {
	t.Parallel() // it hashes at the real cost, slow under the race detector
	dbURL := pgtest.NewDatabase(t)
	pgtest.Exec(t, dbURL, pgtest.SQLModelSchema+`
		insert into users values
			('u-passlib', 'passlib@example.com', 'Pat', '`+passlibHash+`', '2026-01-01 10:00:00', '2026-01-01 10:00:00'),
			('u-bcrypt', 'Bcrypt@Example.com', null, '`+pyBcrypt+`', '2026-01-01 10:00:00', '2026-01-01 10:00:00'),
			('u-asim', 'asim@example.com', null, '`+passlib10+`', '2026-01-01 10:00:00', '2026-01-01 10:00:00'),
			('u-sha', 'sha@example.com', 'Sam', '`+sha256Hex+`', '2026-01-01 10:00:00', '2026-01-01 10:00:00');
		insert into tasks (user_id, title, description, completed, created_at, updated_at)
			values ('u-sha', 'Existing task', null, false, '2026-01-02 10:00:00', '2026-01-02 10:00:00');`)
	h := newApp(t, map[string]string{"DATABASE_URL": dbURL, "AUTH_SECRET": secret})
	for email, pw := range map[string]string{
		"passlib@example.com": "correct horse battery", "bcrypt@example.com": "hunter2hunter2",
		"asim@example.com": "Passw0rd!Asim", "sha@example.com": "correct horse battery",
	} {
		res, v := postJSON(t, h, "/api/auth/login", fmt.Sprintf(`{"email":%q,"password":%q}`, email, pw))
		if res.Code != http.StatusOK {
			t.Errorf("%s: %d %s", email, res.Code, res.Body)
			continue
		}
		if email == "sha@example.com" {
			// The token's user owns the existing rows.
			var ts []task
			do(t, h, "GET", "/api/tasks", nil, "Authorization", "Bearer "+fmt.Sprint(v["access_token"])).json(&ts)
			if len(ts) != 1 || ts[0].Title != "Existing task" {
				t.Errorf("the legacy user's tasks = %+v", ts)
			}
		}
	}
	// The SHA-256 hash is now bcrypt at cost 12, and still signs in.
	if hash := pgtest.Query(t, dbURL, `select password_hash from users where id = 'u-sha'`)[0][0]; !strings.HasPrefix(hash, "$2a$12$") {
		t.Errorf("legacy hash not upgraded: %s", hash)
	}
	if res, _ := postJSON(t, h, "/api/auth/login", `{"email":"sha@example.com","password":"correct horse battery"}`); res.Code != http.StatusOK {
		t.Errorf("after the upgrade: %d", res.Code)
	}
	if hash := pgtest.Query(t, dbURL, `select password_hash from users where id = 'u-passlib'`)[0][0]; hash != passlibHash {
		t.Errorf("a bcrypt hash was rewritten: %s", hash)
	}
	if res, _ := postJSON(t, h, "/api/auth/login", `{"email":"passlib@example.com","password":"correct horse batterY"}`); res.Code != http.StatusUnauthorized {
		t.Errorf("a wrong password against a passlib hash: %d", res.Code)
	}
	// A new account lands in the adopted table, as the old backend writes them.
	res, v := postJSON(t, h, "/api/auth/signup", `{"email":"New@Example.com","password":"password1","name":"Newt"}`)
	if res.Code != http.StatusCreated {
		t.Fatalf("sign-up = %d %s", res.Code, res.Body)
	}
	row := pgtest.Query(t, dbURL, `select id, email, name, password_hash, (now() at time zone 'utc' - created_at) < interval '1 minute' from users where email = 'new@example.com'`)
	if len(row) != 1 || row[0][0] != v["id"] || row[0][2] != "Newt" || !strings.HasPrefix(row[0][3], "$2a$12$") || row[0][4] != "true" || len(row[0][0]) != 36 {
		t.Errorf("new account row = %v", row)
	}
	// And with an account in users, the foreign keys of tasks are satisfied.
	if res, _ := postJSON(t, h, "/api/tasks", `{"title":"Mine now"}`, "Authorization", "Bearer "+fmt.Sprint(v["access_token"])); res.Code != http.StatusCreated {
		t.Errorf("task for the new account: %d %s", res.Code, res.Body)
	}
	if n := pgtest.Query(t, dbURL, `select count(*) from taskchat.users`)[0][0]; n != "0" {
		t.Errorf("taskchat.users holds %s", n)
	}
}

// Integer account ids (nida's users.id serial) are numbered by the table.
func TestAccountsAdoptIntegerIDs(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	pgtest.Exec(t, dbURL, `create table users (id serial primary key, email varchar not null unique, is_active boolean not null,
		password_hash varchar not null, created_at timestamp not null, updated_at timestamp not null)`)
	h := newCheapApp(t, map[string]string{"DATABASE_URL": dbURL, "AUTH_SECRET": secret})
	var wg sync.WaitGroup
	ids := make([]string, 2)
	for i := range 2 {
		wg.Go(func() {
			_, v := postJSON(t, h, "/auth/register", fmt.Sprintf(`{"email":"n%d@example.com","password":"password1"}`, i))
			ids[i] = fmt.Sprint(v["id"])
		})
	}
	wg.Wait()
	if !(ids[0] == "1" && ids[1] == "2" || ids[0] == "2" && ids[1] == "1") {
		t.Errorf("ids = %v", ids)
	}
	if rows := pgtest.Query(t, dbURL, `select is_active::text from users`); len(rows) != 2 || rows[0][0] != "true" {
		t.Errorf("rows = %v", rows)
	}
}

// With only Better Auth's tables there, accounts go to taskchat's own users
// table, and Better Auth's are left exactly as they were.
func TestAccountsBesideBetterAuth(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	pgtest.Exec(t, dbURL, pgtest.BetterAuthSchema)
	before := betterAuthSnapshot(t, dbURL)
	h := newCheapApp(t, map[string]string{"DATABASE_URL": dbURL, "AUTH_SECRET": secret})
	if res, _ := postJSON(t, h, "/api/auth/signup", `{"email":"ada@example.com","password":"password1"}`); res.Code != http.StatusCreated {
		t.Fatalf("sign-up = %d %s", res.Code, res.Body)
	}
	var hl adoptHealth
	getJSON(t, h, "/health", &hl)
	if len(hl.Adopted) != 0 || strings.Contains(strings.Join(hl.Problems, " "), "public.user") {
		t.Errorf("health = %+v", hl)
	}
	if n := pgtest.Query(t, dbURL, `select count(*) from taskchat.users`)[0][0]; n != "1" {
		t.Errorf("taskchat.users holds %s", n)
	}
	if after := betterAuthSnapshot(t, dbURL); after != before {
		t.Errorf("Better Auth's tables changed:\n%s\n%s", before, after)
	}
}
