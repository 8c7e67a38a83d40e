package taskchat_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
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
	// The page's chat requests, as they arrive: it asks for the stream.
	app := newApp(t, nil)
	var acceptMu sync.Mutex
	var accepts []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/chat") {
			acceptMu.Lock()
			accepts = append(accepts, r.Header.Get("Accept"))
			acceptMu.Unlock()
		}
		app.ServeHTTP(w, r)
	}))
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

	// The person is in Kiritimati (UTC+14): the page sends that zone, and
	// "tomorrow" is read there.
	zone, _ := time.LoadLocation("Pacific/Kiritimati")
	inZone := chromedp.Action[chromedp.Void](func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: zone.String()})
		return chromedp.Void{}, err
	})
	err := do(
		inZone,
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
	// The task panel: priority and due date, an overdue task marked, and
	// done, rename and delete through the task API.
	restTasks := func() map[int64]task {
		t.Helper()
		res, err := http.Get(srv.URL + "/api/browser-user/tasks")
		if err != nil {
			fail("list tasks: %v", err)
		}
		defer res.Body.Close()
		var ts []task
		if err := json.NewDecoder(res.Body).Decode(&ts); err != nil {
			fail("list tasks: %v", err)
		}
		out := map[int64]task{}
		for _, x := range ts {
			out[x.ID] = x
		}
		return out
	}
	old := time.Now().In(zone).AddDate(0, 0, -3).Format("2006-01-02")
	res, err := http.Post(srv.URL+"/api/browser-user/tasks", "application/json", strings.NewReader(`{"title":"Old bill","due_date":"`+old+`"}`))
	if err != nil || res.StatusCode != 201 {
		fail("create a task: %v %v", res, err)
	}
	res.Body.Close()
	before := time.Now().In(zone).AddDate(0, 0, 1).Format("2006-01-02")
	if err := do(chromedp.SendKeys("#message", "add pay rent, high priority, due tomorrow"), chromedp.Click("#send")); err != nil {
		fail("chatting: %v", err)
	}
	panel := waitText("#tasks", "Pay rent")
	after := time.Now().In(zone).AddDate(0, 0, 1).Format("2006-01-02")
	ts := restTasks()
	if len(ts) != 3 || ts[3].Priority == nil || *ts[3].Priority != "high" || ts[3].DueDate == nil || *ts[3].DueDate != before && *ts[3].DueDate != after {
		fail("after the priority and due turn: %+v (tomorrow in %s is %s)", ts, zone, after)
	}
	if !strings.Contains(panel, "high") || !strings.Contains(panel, "due ") || !strings.Contains(panel, "overdue") {
		fail("the task panel shows %q", panel)
	}
	late := text(`#tasks li[data-id="2"] .due.overdue`)
	if !strings.Contains(late, "overdue") || strings.Contains(text(`#tasks li[data-id="3"] .due`), "overdue") {
		fail("overdue marking: task 2 %q, task 3 %q", late, text(`#tasks li[data-id="3"] .due`))
	}
	if err := do(chromedp.Click(`#tasks li[data-id="1"] input[type=checkbox]`)); err != nil {
		fail("tick task 1: %v", err)
	}
	waitFor := func(what string, ok func(map[int64]task) bool) {
		t.Helper()
		for range 200 {
			if ok(restTasks()) {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		fail("%s never happened: %+v", what, restTasks())
	}
	waitFor("task 1 done", func(ts map[int64]task) bool { return ts[1].Completed })
	if err := do(
		chromedp.WaitVisible(`#tasks li.done[data-id="1"]`),
		chromedp.Click(`#tasks li[data-id="3"] button.rename`),
		chromedp.WaitVisible(`#tasks li[data-id="3"] .body input`),
		chromedp.SetValue(`#tasks li[data-id="3"] .body input`, "Pay the rent"),
		chromedp.SendKeys(`#tasks li[data-id="3"] .body input`, "\r"),
	); err != nil {
		fail("rename task 3: %v", err)
	}
	waitFor("task 3 renamed", func(ts map[int64]task) bool { return ts[3].Title == "Pay the rent" })
	waitText("#tasks", "Pay the rent")
	if err := do(chromedp.Click(`#tasks li[data-id="2"] button.delete`)); err != nil {
		fail("delete task 2: %v", err)
	}
	waitFor("task 2 deleted", func(ts map[int64]task) bool { _, ok := ts[2]; return !ok && len(ts) == 2 })
	for i := 0; strings.Contains(text("#tasks"), "Old bill"); i++ {
		if i == 200 {
			fail("the deleted task is still shown: %q", text("#tasks"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if ts := restTasks(); !ts[1].Completed || ts[3].Completed || *ts[3].Priority != "high" {
		fail("tasks after the panel's changes: %+v", ts)
	}
	errText = text("#error")

	acceptMu.Lock()
	if len(accepts) < 2 || slices.ContainsFunc(accepts, func(a string) bool { return a != "text/event-stream" }) {
		t.Errorf("the page's chat requests accepted %q, want the event stream", accepts)
	}
	acceptMu.Unlock()

	mu.Lock()
	defer mu.Unlock()
	if len(jsErrors) > 0 || strings.TrimSpace(errText) != "" {
		fail("page errors: %v %q", jsErrors, errText)
	}
}
