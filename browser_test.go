package taskchat_test

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromium finds Debian's Chromium. Without it the browser test is skipped,
// or fails when TASKCHAT_REQUIRE_BROWSER=1 (CI installs it and sets that).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("TASKCHAT_REQUIRE_BROWSER") == "1" {
		t.Fatal("no Chromium found, but TASKCHAT_REQUIRE_BROWSER=1 requires the browser test")
	}
	t.Skip("no Chromium found: install Debian's chromium package to run the browser test")
	return ""
}

// TestBrowserChat opens the chat page in headless Chromium, chats, sees the
// reply, its tool chip and the task appear, reloads, and reopens the
// conversation from the history list. On failure it saves a screenshot
// under testdata/ (PNG).
func TestBrowserChat(t *testing.T) {
	exe := chromium(t)
	srv := httptest.NewServer(newApp(t, nil))
	t.Cleanup(srv.Close)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true), chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	t.Cleanup(cancelCtx)
	// The first call starts the browser and ties it to ctx; each step below
	// gets its own deadline on a child context.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	do := func(steps ...chromedp.Action[chromedp.Void]) error {
		c, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		return chromedp.Do(c, steps...)
	}

	var mu sync.Mutex
	var jsErrors []string
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*runtime.EventExceptionThrown); ok {
			mu.Lock()
			jsErrors = append(jsErrors, e.ExceptionDetails.Text)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	fail := func(format string, args ...any) {
		t.Helper()
		c, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if errText, err := chromedp.Run(c, chromedp.TextContent("#error")); err == nil {
			t.Logf("the page's error banner: %q", errText)
		}
		if shot, err := chromedp.Run(c, chromedp.FullScreenshot(100)); err == nil {
			_ = os.MkdirAll("testdata", 0o755)
			p := filepath.Join("testdata", "browser-failure.png")
			if os.WriteFile(p, shot, 0o644) == nil {
				t.Logf("screenshot saved to %s", p)
			}
		}
		t.Fatalf(format, args...)
	}
	text := func(sel string) string {
		t.Helper()
		c, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		v, err := chromedp.Run(c, chromedp.Text(sel))
		if err != nil {
			fail("read %s: %v", sel, err)
		}
		return v
	}

	// The lists are re-rendered after each turn, so wait for their text
	// rather than for a node that may be replaced.
	waitText := func(sel, want string) string {
		t.Helper()
		var got string
		for range 200 {
			if got = text(sel); strings.Contains(got, want) {
				return got
			}
			time.Sleep(50 * time.Millisecond)
		}
		fail("%s never showed %q; it shows %q", sel, want, got)
		return ""
	}

	err := do(
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible("#message"),
		chromedp.SetValue("#user", "browser-user"),
		chromedp.Click(`#who button[type="submit"]`),
		chromedp.SendKeys("#message", "Add a task to buy groceries"),
		chromedp.Click("#send"),
		chromedp.WaitVisible(`#log .msg.assistant`),
	)
	if err != nil {
		fail("chatting: %v", err)
	}
	reply, chip, tasks := text(`#log .msg.assistant`), text(`#log .msg.assistant .chip`), waitText("#tasks", "Buy groceries")
	if !strings.Contains(reply, `Added "Buy groceries" to your tasks (task 1).`) || chip != "✓ added task 1 · Buy groceries" || !strings.Contains(tasks, "Buy groceries") {
		fail("after the first message: reply %q, chip %q, tasks %q", reply, chip, tasks)
	}

	if err := do(chromedp.Reload(), chromedp.WaitVisible("#message")); err != nil {
		fail("reloading: %v", err)
	}
	history := waitText("#conversations", "Add a task to buy groceries")
	user, err := chromedp.Run(ctx, chromedp.Value("#user")) // the page is loaded; this answers at once
	if err != nil {
		fail("read the user id: %v", err)
	}
	// A real mouse click where the list's first entry is now (the list is
	// re-rendered, so chromedp's node tracking may hold a detached node).
	c, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	at, err := chromedp.Run(c, chromedp.Evaluate[[]float64](
		`(() => { const r = document.querySelector("#conversations button").getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()`))
	if err != nil || len(at) != 2 {
		fail("locate the conversation: %v", err)
	}
	if err := do(chromedp.MouseClickXY(at[0], at[1])); err != nil {
		fail("reopening: %v", err)
	}
	log, errText := waitText("#log", `Added "Buy groceries"`), text("#error")
	if user != "browser-user" || !strings.Contains(history, "Add a task to buy groceries") ||
		!strings.Contains(log, "Add a task to buy groceries") || !strings.Contains(log, `Added "Buy groceries"`) {
		fail("after reload: user %q, history %q, log %q", user, history, log)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(jsErrors) > 0 || strings.TrimSpace(errText) != "" {
		fail("page errors: %v %q", jsErrors, errText)
	}
}
