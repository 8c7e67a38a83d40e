// Package storetest is the contract every store.Store implementation must pass.
// Run it from the implementation's tests:
//
//	storetest.Run(t, func(t *testing.T) store.Store { return store.NewMemory() })
//
// The suite shares one store between parallel subtests and keeps them apart by
// giving each its own user ids, so it runs unchanged against a database that
// other tests use too.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/taskchat/taskchat/internal/store"
)

var userSeq atomic.Int64

// user returns a user id no other test uses, even across runs on one database.
func user(t *testing.T) string {
	t.Helper()
	return fmt.Sprintf("u%d-%d", time.Now().UnixNano(), userSeq.Add(1))
}

// Run runs the contract suite against the store that open returns.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Tasks", testTasks},
		{"TaskNotFoundAndIsolation", testTaskIsolation},
		{"Conversations", testConversations},
		{"ConversationPaging", testConversationPaging},
		{"Messages", testMessages},
		{"MessagePaging", testMessagePaging},
		{"DeleteConversation", testDeleteConversation},
		{"ConversationIsolation", testConversationIsolation},
		{"RunTurn", testRunTurn},
		{"ConcurrentWrites", testConcurrent},
		{"CanceledContext", testCanceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, s)
		})
	}
}

func must[T any](t *testing.T) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func ids(ts []store.Task) []int64 {
	out := []int64{}
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

func checkTime(t *testing.T, what string, got time.Time) {
	t.Helper()
	if got.IsZero() || got.Location() != time.UTC || got.Sub(time.Now()) > time.Minute {
		t.Errorf("%s = %v, want a recent UTC time", what, got)
	}
}

func testTasks(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := user(t)
	task := must[store.Task](t)
	tasks := must[[]store.Task](t)

	if got := tasks(s.ListTasks(ctx, u, store.TasksAll)); got == nil || len(got) != 0 {
		t.Fatalf("new user's tasks = %#v, want empty non-nil", got)
	}
	a := task(s.AddTask(ctx, u, "Buy groceries", "milk, eggs"))
	b := task(s.AddTask(ctx, u, "Pay bills", ""))
	c := task(s.AddTask(ctx, u, "Call mom", ""))
	if a.ID <= 0 || !(a.ID < b.ID && b.ID < c.ID) {
		t.Fatalf("ids %d %d %d: want positive and increasing", a.ID, b.ID, c.ID)
	}
	if a.Title != "Buy groceries" || a.Description != "milk, eggs" || a.Completed {
		t.Errorf("added task = %+v", a)
	}
	checkTime(t, "created_at", a.CreatedAt)

	done := task(s.CompleteTask(ctx, u, b.ID))
	if !done.Completed || done.Title != "Pay bills" || done.UpdatedAt.Before(b.UpdatedAt) {
		t.Errorf("completed task = %+v", done)
	}
	if again := task(s.CompleteTask(ctx, u, b.ID)); !again.Completed {
		t.Errorf("completing twice: %+v", again)
	}

	for _, tc := range []struct {
		f    store.TaskFilter
		want []int64
	}{
		{store.TasksAll, []int64{a.ID, b.ID, c.ID}},
		{store.TasksPending, []int64{a.ID, c.ID}},
		{store.TasksCompleted, []int64{b.ID}},
	} {
		if got := ids(tasks(s.ListTasks(ctx, u, tc.f))); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ListTasks(%s) = %v, want %v", tc.f, got, tc.want)
		}
	}

	title, desc := "Call mom tonight", "before 9"
	up := task(s.UpdateTask(ctx, u, c.ID, store.TaskPatch{Title: &title}))
	if up.Title != title || up.Description != "" {
		t.Errorf("title update = %+v", up)
	}
	up = task(s.UpdateTask(ctx, u, c.ID, store.TaskPatch{Description: &desc}))
	if up.Title != title || up.Description != desc || !up.CreatedAt.Equal(c.CreatedAt) {
		t.Errorf("description update = %+v", up)
	}

	del := task(s.DeleteTask(ctx, u, a.ID))
	if del.ID != a.ID || del.Title != "Buy groceries" {
		t.Errorf("deleted = %+v", del)
	}
	if got := ids(tasks(s.ListTasks(ctx, u, store.TasksAll))); !reflect.DeepEqual(got, []int64{b.ID, c.ID}) {
		t.Errorf("after delete: %v", got)
	}
	// Text is stored verbatim, whatever it looks like.
	odd := "Robert'); DROP TABLE tasks;-- 🚀 \\ \"q\" %s $1"
	got := task(s.AddTask(ctx, u, odd, odd))
	if got.Title != odd || got.Description != odd {
		t.Errorf("odd text came back as %q / %q", got.Title, got.Description)
	}
}

func testTaskIsolation(t *testing.T, s store.Store) {
	ctx := context.Background()
	owner, other := user(t), user(t)
	task := must[store.Task](t)
	a := task(s.AddTask(ctx, owner, "Secret", ""))
	title := "hijacked"

	for name, fn := range map[string]func(u string, id int64) error{
		"complete": func(u string, id int64) error { _, err := s.CompleteTask(ctx, u, id); return err },
		"delete":   func(u string, id int64) error { _, err := s.DeleteTask(ctx, u, id); return err },
		"update": func(u string, id int64) error {
			_, err := s.UpdateTask(ctx, u, id, store.TaskPatch{Title: &title})
			return err
		},
	} {
		if err := fn(other, a.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s another user's task: err = %v, want ErrNotFound", name, err)
		}
		if err := fn(owner, a.ID+1_000_000); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s missing task: err = %v, want ErrNotFound", name, err)
		}
	}
	if got := must[[]store.Task](t)(s.ListTasks(ctx, other, store.TasksAll)); len(got) != 0 {
		t.Errorf("other user sees %v", got)
	}
	got := must[[]store.Task](t)(s.ListTasks(ctx, owner, store.TasksAll))
	if len(got) != 1 || got[0].Title != "Secret" || got[0].Completed {
		t.Errorf("owner's task changed: %+v", got)
	}
}

func testConversations(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := user(t)
	conv := must[store.Conversation](t)

	long := strings.Repeat("word ", 40)
	c := conv(s.StartTurn(ctx, u, 0, "  Add a task\n to buy   groceries  "))
	if c.ID <= 0 || c.Title != "Add a task to buy groceries" || c.MessageCount != 1 {
		t.Errorf("created = %+v", c)
	}
	checkTime(t, "created_at", c.CreatedAt)
	l := conv(s.StartTurn(ctx, u, 0, long))
	if n := len([]rune(l.Title)); n != store.TitleMaxChars || !strings.HasSuffix(l.Title, "…") {
		t.Errorf("long title %q has %d chars", l.Title, n)
	}
	got := conv(s.GetConversation(ctx, u, c.ID))
	if got.ID != c.ID || got.Title != c.Title || !got.CreatedAt.Equal(c.CreatedAt) || got.MessageCount != 1 {
		t.Errorf("get = %+v, want %+v", got, c)
	}
	again := conv(s.StartTurn(ctx, u, c.ID, "second"))
	if again.ID != c.ID || again.MessageCount != 2 || again.Title != c.Title || again.UpdatedAt.Before(c.UpdatedAt) {
		t.Errorf("second turn = %+v", again)
	}
	if _, err := s.StartTurn(ctx, user(t), c.ID, "intrude"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("StartTurn in another user's conversation: err = %v", err)
	}
	if _, err := s.StartTurn(ctx, u, c.ID+1_000_000, "nowhere"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("StartTurn in a missing conversation: err = %v", err)
	}
	if _, err := s.GetConversation(ctx, u, c.ID+1_000_000); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing conversation: err = %v", err)
	}
	must[store.Message](t)(s.AppendMessage(ctx, u, store.Message{ConversationID: c.ID, Role: store.RoleUser, Content: "hi"}))
	got = conv(s.GetConversation(ctx, u, c.ID))
	if got.MessageCount != 3 || got.UpdatedAt.Before(again.UpdatedAt) {
		t.Errorf("after a message: %+v", got)
	}
}

func testConversationPaging(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := user(t)
	var made []int64
	for i := range 7 {
		c := must[store.Conversation](t)(s.StartTurn(ctx, u, 0, fmt.Sprintf("conversation %d", i)))
		made = append(made, c.ID)
	}
	// Activity in conversation 2 moves it to the front.
	must[store.Message](t)(s.AppendMessage(ctx, u, store.Message{ConversationID: made[2], Role: store.RoleUser, Content: "bump"}))
	want := []int64{made[2], made[6], made[5], made[4], made[3], made[1], made[0]}

	var got []int64
	before := int64(0)
	for range 10 {
		page := must[[]store.Conversation](t)(s.ListConversations(ctx, u, store.Page{Limit: 3, Before: before}))
		if len(page) > 3 {
			t.Fatalf("page of %d, limit 3", len(page))
		}
		for _, c := range page {
			got = append(got, c.ID)
		}
		if len(page) < 3 {
			break
		}
		before = page[len(page)-1].ID
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("paged order = %v, want %v", got, want)
	}
	page := must[[]store.Conversation](t)(s.ListConversations(ctx, u, store.Page{Limit: 1}))
	if len(page) != 1 || page[0].MessageCount != 2 || page[0].Title != "conversation 2" {
		t.Errorf("first page = %+v", page)
	}
	if page := must[[]store.Conversation](t)(s.ListConversations(ctx, user(t), store.Page{Limit: 10})); page == nil || len(page) != 0 {
		t.Errorf("stranger sees %#v", page)
	}
	if page := must[[]store.Conversation](t)(s.ListConversations(ctx, u, store.Page{Limit: 10, Before: made[0] + 1_000_000})); len(page) != 0 {
		t.Errorf("unknown cursor gave %v", page)
	}
}

func sameJSON(t *testing.T, what string, got, want json.RawMessage) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: stored JSON %q does not parse: %v", what, got, err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s = %s, want %s", what, got, want)
	}
}

func testMessages(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := user(t)
	c := must[store.Conversation](t)(s.StartTurn(ctx, u, 0, "hello"))
	msg := must[store.Message](t)

	um := msg(s.AppendMessage(ctx, u, store.Message{ConversationID: c.ID, Role: store.RoleUser, Content: "Add a task to buy groceries"}))
	calls := []store.ToolCall{{
		Tool:      "add_task",
		Arguments: json.RawMessage(`{"title":"Buy groceries"}`),
		Result:    json.RawMessage(`{"task_id":5,"status":"created","title":"Buy groceries"}`),
	}, {
		Tool:      "list_tasks",
		Arguments: json.RawMessage(`{"status":"all"}`),
		Result:    json.RawMessage(`[{"id":5,"title":"Buy groceries","completed":false}]`),
	}}
	am := msg(s.AppendMessage(ctx, u, store.Message{ConversationID: c.ID, Role: store.RoleAssistant, Content: "Added.", ToolCalls: calls}))
	if um.ID <= 0 || am.ID <= um.ID {
		t.Fatalf("message ids %d, %d", um.ID, am.ID)
	}
	checkTime(t, "message created_at", am.CreatedAt)

	got := must[[]store.Message](t)(s.ListMessages(ctx, u, c.ID, store.Page{Limit: 10}))
	if len(got) != 3 || got[0].ID != am.ID || got[1].ID != um.ID || got[2].Content != "hello" || got[2].Role != store.RoleUser {
		t.Fatalf("messages = %+v, want newest first", got)
	}
	if got[1].Role != store.RoleUser || got[1].Content != "Add a task to buy groceries" || got[1].ToolCalls == nil || len(got[1].ToolCalls) != 0 {
		t.Errorf("user message = %+v (tool calls must be empty, not nil)", got[1])
	}
	if got[0].Role != store.RoleAssistant || len(got[0].ToolCalls) != 2 {
		t.Fatalf("assistant message = %+v", got[0])
	}
	for i, tc := range got[0].ToolCalls {
		if tc.Tool != calls[i].Tool {
			t.Errorf("call %d tool = %q", i, tc.Tool)
		}
		sameJSON(t, "arguments", tc.Arguments, calls[i].Arguments)
		sameJSON(t, "result", tc.Result, calls[i].Result)
	}
	if c := must[store.Conversation](t)(s.GetConversation(ctx, u, c.ID)); c.MessageCount != 3 {
		t.Errorf("message_count = %d", c.MessageCount)
	}
	if _, err := s.AppendMessage(ctx, u, store.Message{ConversationID: c.ID + 1_000_000, Role: store.RoleUser, Content: "x"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("append to missing conversation: err = %v", err)
	}
}

func testMessagePaging(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := user(t)
	c := must[store.Conversation](t)(s.StartTurn(ctx, u, 0, "paging"))
	first := must[[]store.Message](t)(s.ListMessages(ctx, u, c.ID, store.Page{Limit: 1}))
	want := []int64{first[0].ID}
	for i := range 12 {
		m := must[store.Message](t)(s.AppendMessage(ctx, u, store.Message{ConversationID: c.ID, Role: store.RoleUser, Content: fmt.Sprint(i)}))
		want = append([]int64{m.ID}, want...)
	}
	var got []int64
	before := int64(0)
	for range 10 {
		page := must[[]store.Message](t)(s.ListMessages(ctx, u, c.ID, store.Page{Limit: 5, Before: before}))
		for _, m := range page {
			got = append(got, m.ID)
		}
		if len(page) < 5 {
			break
		}
		before = page[len(page)-1].ID
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("paged ids = %v, want %v", got, want)
	}
}

func testDeleteConversation(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := user(t)
	c := must[store.Conversation](t)(s.StartTurn(ctx, u, 0, "bye"))
	keep := must[store.Conversation](t)(s.StartTurn(ctx, u, 0, "keep"))
	must[store.Message](t)(s.AppendMessage(ctx, u, store.Message{ConversationID: c.ID, Role: store.RoleUser, Content: "x"}))
	must[store.Message](t)(s.AppendMessage(ctx, u, store.Message{ConversationID: keep.ID, Role: store.RoleUser, Content: "y"}))
	if err := s.DeleteConversation(ctx, u, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteConversation(ctx, u, c.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second delete: err = %v", err)
	}
	if _, err := s.ListMessages(ctx, u, c.ID, store.Page{Limit: 10}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("messages of deleted conversation: err = %v", err)
	}
	if got := must[[]store.Message](t)(s.ListMessages(ctx, u, keep.ID, store.Page{Limit: 10})); len(got) != 2 {
		t.Errorf("other conversation lost messages: %v", got)
	}
}

func testConversationIsolation(t *testing.T, s store.Store) {
	ctx := context.Background()
	owner, other := user(t), user(t)
	c := must[store.Conversation](t)(s.StartTurn(ctx, owner, 0, "mine"))
	must[store.Message](t)(s.AppendMessage(ctx, owner, store.Message{ConversationID: c.ID, Role: store.RoleUser, Content: "secret"}))

	if _, err := s.GetConversation(ctx, other, c.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("get: %v", err)
	}
	if _, err := s.ListMessages(ctx, other, c.ID, store.Page{Limit: 10}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("list messages: %v", err)
	}
	if _, err := s.AppendMessage(ctx, other, store.Message{ConversationID: c.ID, Role: store.RoleUser, Content: "intrude"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("append: %v", err)
	}
	if err := s.DeleteConversation(ctx, other, c.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("delete: %v", err)
	}
	if got := must[[]store.Conversation](t)(s.ListConversations(ctx, other, store.Page{Limit: 10, Before: c.ID})); len(got) != 0 {
		t.Errorf("other lists %v", got)
	}
	got := must[store.Conversation](t)(s.GetConversation(ctx, owner, c.ID))
	if got.MessageCount != 2 {
		t.Errorf("owner's conversation changed: %+v", got)
	}
}

var errBoom = errors.New("boom")

func testRunTurn(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := user(t)
	pre := must[store.Task](t)(s.AddTask(ctx, u, "before", ""))

	// A failing turn keeps nothing: no conversation, no message, no task change.
	_, err := s.RunTurn(ctx, u, 0, "rolled back", func(ctx context.Context, tx store.Store, conv store.Conversation) (store.Message, error) {
		if conv.ID <= 0 || conv.MessageCount != 1 || conv.Title != "rolled back" {
			return store.Message{}, fmt.Errorf("conversation in turn = %+v", conv)
		}
		if _, err := tx.AddTask(ctx, u, "rolled back", ""); err != nil {
			return store.Message{}, err
		}
		if _, err := tx.CompleteTask(ctx, u, pre.ID); err != nil {
			return store.Message{}, err
		}
		if _, err := tx.DeleteTask(ctx, u, pre.ID); err != nil {
			return store.Message{}, err
		}
		return store.Message{}, errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("RunTurn err = %v, want the callback's error", err)
	}
	tasks := must[[]store.Task](t)(s.ListTasks(ctx, u, store.TasksAll))
	if len(tasks) != 1 || tasks[0].ID != pre.ID || tasks[0].Completed {
		t.Errorf("after rollback tasks = %+v", tasks)
	}
	if cs := must[[]store.Conversation](t)(s.ListConversations(ctx, u, store.Page{Limit: 10})); len(cs) != 0 {
		t.Errorf("after rollback conversations = %+v", cs)
	}

	// A good turn keeps everything, and reads inside it see its own writes.
	calls := []store.ToolCall{{Tool: "complete_task", Arguments: json.RawMessage(`{"task_id":1}`), Result: json.RawMessage(`{"ok":true}`)}}
	conv, err := s.RunTurn(ctx, u, 0, "kept", func(ctx context.Context, tx store.Store, conv store.Conversation) (store.Message, error) {
		if got, err := tx.GetConversation(ctx, u, conv.ID); err != nil || got.MessageCount != 1 {
			return store.Message{}, fmt.Errorf("read own write: %+v, %v", got, err)
		}
		if _, err := tx.CompleteTask(ctx, u, pre.ID); err != nil {
			return store.Message{}, err
		}
		return store.Message{Role: store.RoleAssistant, Content: "Done.", ToolCalls: calls}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if conv.MessageCount != 2 || conv.Title != "kept" {
		t.Errorf("RunTurn returned %+v", conv)
	}
	msgs := must[[]store.Message](t)(s.ListMessages(ctx, u, conv.ID, store.Page{Limit: 10}))
	if len(msgs) != 2 || msgs[0].Role != store.RoleAssistant || msgs[0].Content != "Done." || len(msgs[0].ToolCalls) != 1 ||
		msgs[1].Role != store.RoleUser || msgs[1].Content != "kept" {
		t.Errorf("stored turn = %+v", msgs)
	}
	if tasks := must[[]store.Task](t)(s.ListTasks(ctx, u, store.TasksCompleted)); len(tasks) != 1 {
		t.Errorf("committed completion missing: %+v", tasks)
	}

	// The next turn continues the conversation; a foreign one is not found
	// and the callback never runs.
	conv2, err := s.RunTurn(ctx, u, conv.ID, "again", func(context.Context, store.Store, store.Conversation) (store.Message, error) {
		return store.Message{Role: store.RoleAssistant, Content: "Again."}, nil
	})
	if err != nil || conv2.ID != conv.ID || conv2.MessageCount != 4 {
		t.Errorf("second turn = %+v, %v", conv2, err)
	}
	ran := false
	_, err = s.RunTurn(ctx, user(t), conv.ID, "intrude", func(context.Context, store.Store, store.Conversation) (store.Message, error) {
		ran = true
		return store.Message{Role: store.RoleAssistant, Content: "x"}, nil
	})
	if !errors.Is(err, store.ErrNotFound) || ran {
		t.Errorf("turn in another user's conversation: err = %v, callback ran = %v", err, ran)
	}
	if got := must[store.Conversation](t)(s.GetConversation(ctx, u, conv.ID)); got.MessageCount != 4 {
		t.Errorf("foreign turn changed the conversation: %+v", got)
	}
}

func testConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := user(t)
	c := must[store.Conversation](t)(s.StartTurn(ctx, u, 0, "busy"))
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Go(func() {
			if _, err := s.AddTask(ctx, u, fmt.Sprint("task ", i), ""); err != nil {
				errs <- err
			}
			if _, err := s.AppendMessage(ctx, u, store.Message{ConversationID: c.ID, Role: store.RoleUser, Content: fmt.Sprint(i)}); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	tasks := must[[]store.Task](t)(s.ListTasks(ctx, u, store.TasksAll))
	seen := map[int64]bool{}
	for _, task := range tasks {
		seen[task.ID] = true
	}
	if len(tasks) != n || len(seen) != n {
		t.Errorf("%d tasks with %d distinct ids, want %d", len(tasks), len(seen), n)
	}
	if got := must[store.Conversation](t)(s.GetConversation(ctx, u, c.ID)); got.MessageCount != n+1 {
		t.Errorf("message_count = %d, want %d", got.MessageCount, n+1)
	}
}

func testCanceled(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	u := user(t)
	if _, err := s.AddTask(ctx, u, "never", ""); err == nil {
		t.Error("AddTask with a canceled context succeeded")
	}
	if got := must[[]store.Task](t)(s.ListTasks(context.Background(), u, store.TasksAll)); len(got) != 0 {
		t.Errorf("canceled write stored %v", got)
	}
}
