package taskchat_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jackc/pgx/v5"

	"github.com/taskchat/taskchat/internal/pgtest"
)

func postChat(t *testing.T, h http.Handler, user, body string, headers ...string) response {
	t.Helper()
	return do(t, h, "POST", "/api/"+user+"/chat", strings.NewReader(body), append([]string{"Content-Type", "application/json"}, headers...)...)
}

func TestRateLimit(t *testing.T) {
	eachStore(t, func(t *testing.T, env map[string]string) {
		env["CHAT_RATE_LIMIT"] = "3"
		h := newApp(t, env)
		for i := range 3 {
			chat(t, h, "limited", fmt.Sprintf("add a task to do thing %d", i), nil)
		}
		res := postChat(t, h, "limited", `{"message":"add a task to overflow"}`)
		var e errorBody
		res.json(&e)
		secs, _ := strconv.Atoi(res.Header().Get("Retry-After"))
		if res.Code != http.StatusTooManyRequests || e.Code != "rate_limited" || secs < 1 || secs > 60 || !strings.Contains(e.Detail, "3 messages a minute") {
			t.Errorf("fourth turn: %d %+v Retry-After=%q", res.Code, e, res.Header().Get("Retry-After"))
		}
		if ts := tasksOf(t, h, "limited", "all"); len(ts) != 3 {
			t.Errorf("the refused turn stored something: %d tasks", len(ts))
		}
		var convs conversationsPage
		getJSON(t, h, "/api/limited/conversations", &convs)
		if len(convs.Conversations) != 3 {
			t.Errorf("%d conversations after a refused turn", len(convs.Conversations))
		}
		// Other users and other routes are not limited.
		chat(t, h, "someone-else", "hello", nil)
		getJSON(t, h, "/api/limited/tasks", &[]task{})
	})
}

func TestRateLimitAcrossInstances(t *testing.T) {
	env := map[string]string{"DATABASE_URL": pgtest.NewDatabase(t), "CHAT_RATE_LIMIT": "4"}
	a, b := newApp(t, env), newApp(t, env)
	chat(t, a, "shared", "hello", nil)
	chat(t, b, "shared", "hello", nil)
	chat(t, a, "shared", "hello", nil)
	chat(t, b, "shared", "hello", nil)
	for _, h := range []http.Handler{a, b} {
		if res := postChat(t, h, "shared", `{"message":"hello"}`); res.Code != http.StatusTooManyRequests {
			t.Errorf("fifth turn across two instances: %d, want 429", res.Code)
		}
	}
}

func TestIdempotencyKey(t *testing.T) {
	eachStore(t, func(t *testing.T, env map[string]string) {
		h := newApp(t, env)
		body := `{"message":"Add a task to buy groceries"}`
		first := postChat(t, h, "idem", body, "Idempotency-Key", "abc-123")
		again := postChat(t, h, "idem", body, "Idempotency-Key", "abc-123")
		if first.Code != 200 || again.Code != 200 || again.Header().Get("Idempotent-Replayed") != "true" || first.Header().Get("Idempotent-Replayed") != "" {
			t.Fatalf("first %d %q, replay %d %q", first.Code, first.Header().Get("Idempotent-Replayed"), again.Code, again.Header().Get("Idempotent-Replayed"))
		}
		var r1, r2 chatReply
		first.json(&r1)
		again.json(&r2)
		if fmt.Sprint(r1) != fmt.Sprint(r2) {
			t.Errorf("replay differs:\n%+v\n%+v", r1, r2)
		}
		if ts := tasksOf(t, h, "idem", "all"); len(ts) != 1 {
			t.Errorf("the tool ran %d times", len(ts))
		}
		var page messagesPage
		getJSON(t, h, fmt.Sprintf("/api/idem/conversations/%d/messages", r1.ConversationID), &page)
		if len(page.Messages) != 2 {
			t.Errorf("the replay stored messages: %d", len(page.Messages))
		}

		res := postChat(t, h, "idem", `{"message":"Add a task to buy milk"}`, "Idempotency-Key", "abc-123")
		var e errorBody
		res.json(&e)
		if res.Code != http.StatusUnprocessableEntity || e.Code != "idempotency_key_reused" {
			t.Errorf("key reused for another message: %d %+v", res.Code, e)
		}
		res = postChat(t, h, "idem", body, "Idempotency-Key", strings.Repeat("k", 256))
		res.json(&e)
		if res.Code != http.StatusBadRequest || e.Code != "invalid_idempotency_key" {
			t.Errorf("long key: %d %+v", res.Code, e)
		}
		// Another user's identical key is theirs alone.
		if res := postChat(t, h, "idem2", body, "Idempotency-Key", "abc-123"); res.Code != 200 || res.Header().Get("Idempotent-Replayed") != "" {
			t.Errorf("another user's key: %d %q", res.Code, res.Header().Get("Idempotent-Replayed"))
		}
	})
}

func TestIdempotencyConcurrent(t *testing.T) {
	eachStore(t, func(t *testing.T, env map[string]string) {
		h := newApp(t, env)
		var wg sync.WaitGroup
		res := make([]response, 2)
		for i := range res {
			wg.Go(func() {
				res[i] = postChat(t, h, "twice", `{"message":"Add a task to pay rent"}`, "Idempotency-Key", "same-key")
			})
		}
		wg.Wait()
		replays := 0
		for _, r := range res {
			if r.Code != 200 {
				t.Fatalf("simultaneous duplicate: %d %s", r.Code, r.Body)
			}
			if r.Header().Get("Idempotent-Replayed") == "true" {
				replays++
			}
		}
		if replays != 1 || res[0].Body.String() != res[1].Body.String() {
			t.Errorf("replays = %d; bodies %s / %s", replays, res[0].Body, res[1].Body)
		}
		if ts := tasksOf(t, h, "twice", "all"); len(ts) != 1 {
			t.Errorf("the turn ran %d times", len(ts))
		}
	})
}

func TestIdempotencyWhileLLMThinks(t *testing.T) {
	release := make(chan struct{})
	f := newFakeModel(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
		text("Hello!")(w, r)
	})
	h, _ := llmApp(t, f)
	done := make(chan response)
	go func() { done <- postChat(t, h, "slow", `{"message":"hi"}`, "Idempotency-Key", "k1") }()
	// Wait until the first turn is with the model.
	for len(f.requests()) == 0 {
		runtime.Gosched()
	}
	res := postChat(t, h, "slow", `{"message":"hi"}`, "Idempotency-Key", "k1")
	var e errorBody
	res.json(&e)
	if res.Code != http.StatusConflict || e.Code != "idempotency_key_in_use" {
		t.Errorf("duplicate while the first runs: %d %+v", res.Code, e)
	}
	close(release)
	if first := <-done; first.Code != 200 {
		t.Fatalf("first: %d %s", first.Code, first.Body)
	}
	if res := postChat(t, h, "slow", `{"message":"hi"}`, "Idempotency-Key", "k1"); res.Code != 200 || res.Header().Get("Idempotent-Replayed") != "true" {
		t.Errorf("after it finished: %d %q", res.Code, res.Header().Get("Idempotent-Replayed"))
	}
	if len(f.requests()) != 1 {
		t.Errorf("the model was called %d times", len(f.requests()))
	}
}

// TestIdempotencyKeyExpiry ages keys in the database: a key older than 24
// hours runs its turn again, and one whose turn never finished (its process
// died) is taken over after 5 minutes.
func TestIdempotencyKeyExpiry(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	h := newApp(t, map[string]string{"DATABASE_URL": dbURL})
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	age := func(key, by string) {
		t.Helper()
		if _, err := conn.Exec(context.Background(), "update taskchat.idempotency_keys set created_at = now() - $2::interval where key = $1", key, by); err != nil {
			t.Fatal(err)
		}
	}

	body := `{"message":"Add a task to renew the lease"}`
	postChat(t, h, "aging", body, "Idempotency-Key", "old")
	age("old", "25 hours")
	if res := postChat(t, h, "aging", body, "Idempotency-Key", "old"); res.Code != 200 || res.Header().Get("Idempotent-Replayed") != "" {
		t.Errorf("an expired key replayed: %d %q", res.Code, res.Header().Get("Idempotent-Replayed"))
	}
	if ts := tasksOf(t, h, "aging", "all"); len(ts) != 2 {
		t.Errorf("after expiry the turn should run again: %d tasks", len(ts))
	}

	// A pending key left by a turn that never finished, for this very request.
	sum := sha256.Sum256([]byte("0\x00Add a task to renew the lease"))
	if _, err := conn.Exec(context.Background(), "insert into taskchat.idempotency_keys (user_id, key, request_hash) values ('aging', 'stuck', $1)", hex.EncodeToString(sum[:])); err != nil {
		t.Fatal(err)
	}
	if res := postChat(t, h, "aging", body, "Idempotency-Key", "stuck"); res.Code != http.StatusConflict {
		t.Errorf("a fresh pending key: %d %s", res.Code, res.Body)
	}
	age("stuck", "6 minutes")
	if res := postChat(t, h, "aging", body, "Idempotency-Key", "stuck"); res.Code != 200 {
		t.Errorf("an abandoned pending key was not taken over: %d %s", res.Code, res.Body)
	}
}

// With auth off, user ids are anyone's to pick: one client rotating them
// still meets a limit per address. The address is the connection's peer,
// or behind TRUSTED_PROXY_HOPS proxies the one the outermost proxy saw.
func TestAddressRateLimitWithAuthOff(t *testing.T) {
	eachStore(t, func(t *testing.T, env map[string]string) {
		env["CHAT_RATE_LIMIT"] = "100"
		env["CHAT_ADDRESS_RATE_LIMIT"] = "5"
		h := newApp(t, env)
		codes := map[int]int{}
		for i := range 8 {
			// X-Forwarded-For is not believed without trusted proxies.
			res := postChat(t, h, fmt.Sprintf("rotating%d", i), `{"message":"add a task to spam"}`, "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i))
			codes[res.Code]++
			if res.Code == http.StatusTooManyRequests && res.Header().Get("Retry-After") == "" {
				t.Errorf("429 without Retry-After")
			}
		}
		if codes[200] != 5 || codes[429] != 3 {
			t.Errorf("eight turns from one address with rotating user ids: %v", codes)
		}
		stored := 0
		for i := range 8 {
			stored += len(tasksOf(t, h, fmt.Sprintf("rotating%d", i), "all"))
		}
		if stored != 5 {
			t.Errorf("%d tasks stored; the refused turns wrote some", stored)
		}

		env["TRUSTED_PROXY_HOPS"] = "1"
		h = newApp(t, env)
		for i := range 8 {
			// The proxy appended the real address; what the client wrote before it is ignored.
			res := postChat(t, h, fmt.Sprintf("proxied%d", i), `{"message":"hello"}`, "X-Forwarded-For", fmt.Sprintf("203.0.113.77, 198.51.100.%d", i))
			if res.Code != 200 {
				t.Errorf("turn %d from its own address behind the proxy: %d", i, res.Code)
			}
		}
		for i := range 6 {
			res := postChat(t, h, fmt.Sprintf("spoofer%d", i), `{"message":"hello"}`, "X-Forwarded-For", fmt.Sprintf("198.51.100.%d, 203.0.113.9", 100+i))
			if want := 200; i >= 5 {
				if res.Code != http.StatusTooManyRequests {
					t.Errorf("spoofed turn %d = %d, want 429", i, res.Code)
				}
			} else if res.Code != want {
				t.Errorf("turn %d = %d", i, res.Code)
			}
		}
	})
}

func TestNoAddressLimitWithAuthOn(t *testing.T) {
	env := map[string]string{"AUTH_SECRET": secret, "CHAT_ADDRESS_RATE_LIMIT": "2"}
	h := newApp(t, env)
	hs := signer{method: jwt.SigningMethodHS256, key: []byte(secret)}
	for i := range 4 {
		user := fmt.Sprintf("signed%d", i)
		res := postChat(t, h, user, `{"message":"hello"}`, "Authorization", "Bearer "+hs.sign(t, claimsFor(user)))
		if res.Code != 200 {
			t.Errorf("signed-in user %d from one address: %d", i, res.Code)
		}
	}
}
