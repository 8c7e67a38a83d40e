// Package storetest is the contract every store.Store implementation must pass.
// Run it from the implementation's tests:
//
//	storetest.Run(t, func(t *testing.T, l store.Limits) store.Store { return store.NewMemoryWith(l) })
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
	_ "time/tzdata" // the zones the tests use, whatever the machine has

	"github.com/taskchat/taskchat/internal/store"
)

var userSeq atomic.Int64

// user returns a user id no other test uses, even across runs on one
// database. It is a UUID, which every kind of user_id column takes: text, and
// the uuid of an adopted table.
func user(t *testing.T) string {
	t.Helper()
	n := uint64(time.Now().UnixNano())
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", n>>32, n>>16&0xffff, n&0xfff, userSeq.Add(1)&0xfff, userSeq.Load())
}

// completed is the patch that marks a task done.
var completed = store.TaskPatch{Completed: ptr(true)}

func ptr[T any](v T) *T { return &v }

// Run runs the contract suite against the store that open returns, with
// no limits but where a case needs them.
func Run(t *testing.T, open func(t *testing.T, l store.Limits) store.Store) {
	s := open(t, store.Limits{})
	t.Run("TaskLimit", func(t *testing.T) {
		t.Parallel()
		testTaskLimit(t, open(t, store.Limits{MaxTasks: 5}))
	})
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Tasks", testTasks},
		{"TaskPages", testTaskPages},
		{"TaskPatch", testTaskPatch},
		{"TaskSelection", testTaskSelection},
		{"PriorityAndDue", testPriorityAndDue},
		{"IdempotentWrite", testRunIdempotent},
		{"TaskNotFoundAndIsolation", testTaskIsolation},
		{"Conversations", testConversations},
		{"ConversationPaging", testConversationPaging},
		{"Messages", testMessages},
		{"MessagePaging", testMessagePaging},
		{"DeleteConversation", testDeleteConversation},
		{"DeleteConversations", testDeleteConversations},
		{"ConversationIsolation", testConversationIsolation},
		{"RunTurn", testRunTurn},
		{"RateLimit", testRateLimit},
		{"Idempotency", testIdempotency},
		{"ConcurrentDuplicates", testConcurrentDuplicates},
		{"ConcurrentWrites", testConcurrent},
		{"CanceledContext", testCanceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, s)
		})
	}
}

// startTurn starts a plain turn (no limit, no key) and returns its conversation.
func startTurn(ctx context.Context, s store.Store, userID string, convID int64, content string) (store.Conversation, error) {
	c, _, err := s.StartTurn(ctx, store.Turn{UserID: userID, ConversationID: convID, Content: content})
	return c, err
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

	if got := tasks(s.ListTasks(ctx, u, store.TaskQuery{Filter: store.TasksAll})); got == nil || len(got) != 0 {
		t.Fatalf("new user's tasks = %#v, want empty non-nil", got)
	}
	a := task(s.AddTask(ctx, u, store.NewTask{Title: "Buy groceries", Description: "milk, eggs"}))
	b := task(s.AddTask(ctx, u, store.NewTask{Title: "Pay bills"}))
	c := task(s.AddTask(ctx, u, store.NewTask{Title: "Call mom"}))
	if a.ID <= 0 || !(a.ID < b.ID && b.ID < c.ID) {
		t.Fatalf("ids %d %d %d: want positive and increasing", a.ID, b.ID, c.ID)
	}
	if a.Title != "Buy groceries" || a.Description != "milk, eggs" || a.Completed {
		t.Errorf("added task = %+v", a)
	}
	checkTime(t, "created_at", a.CreatedAt)

	done := task(s.UpdateTask(ctx, u, b.ID, completed))
	if !done.Completed || done.Title != "Pay bills" || done.UpdatedAt.Before(b.UpdatedAt) {
		t.Errorf("completed task = %+v", done)
	}
	if again := task(s.UpdateTask(ctx, u, b.ID, completed)); !again.Completed {
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
		if got := ids(tasks(s.ListTasks(ctx, u, store.TaskQuery{Filter: tc.f}))); !reflect.DeepEqual(got, tc.want) {
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
	if got := ids(tasks(s.ListTasks(ctx, u, store.TaskQuery{Filter: store.TasksAll}))); !reflect.DeepEqual(got, []int64{b.ID, c.ID}) {
		t.Errorf("after delete: %v", got)
	}
	// Text is stored verbatim, whatever it looks like.
	odd := "Robert'); DROP TABLE tasks;-- 🚀 \\ \"q\" %s $1"
	got := task(s.AddTask(ctx, u, store.NewTask{Title: odd, Description: odd}))
	if got.Title != odd || got.Description != odd {
		t.Errorf("odd text came back as %q / %q", got.Title, got.Description)
	}
}

// testTaskPages pages through every order, each page after the last task of
// the one before, and sees every task exactly once in the order's sequence.
func testTaskPages(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := user(t)
	task := must[store.Task](t)
	var made []store.Task
	for _, title := range []string{"banana", "Apple", "cherry", "apple pie", "Date"} {
		made = append(made, task(s.AddTask(ctx, u, store.NewTask{Title: title})))
	}
	// Completing the first makes it the most recently updated, once the
	// clock has moved past the last creation.
	for !store.Now().After(made[len(made)-1].CreatedAt) {
	}
	made[0] = task(s.UpdateTask(ctx, u, made[0].ID, completed))
	byID := func(idx ...int) []int64 {
		out := []int64{}
		for _, i := range idx {
			out = append(out, made[i].ID)
		}
		return out
	}
	for _, tc := range []struct {
		sort   store.TaskSort
		filter store.TaskFilter
		want   []int64
	}{
		{store.SortOldest, store.TasksAll, byID(0, 1, 2, 3, 4)},
		{"", store.TasksAll, byID(0, 1, 2, 3, 4)},
		{store.SortCreated, store.TasksAll, byID(4, 3, 2, 1, 0)},
		{store.SortUpdated, store.TasksAll, byID(0, 4, 3, 2, 1)},
		{store.SortTitle, store.TasksAll, byID(1, 3, 0, 2, 4)},
		{store.SortTitle, store.TasksPending, byID(1, 3, 2, 4)},
		{store.SortCreated, store.TasksCompleted, byID(0)},
	} {
		var got []int64
		after := int64(0)
		for range 10 {
			page := must[[]store.Task](t)(s.ListTasks(ctx, u, store.TaskQuery{Filter: tc.filter, Sort: tc.sort, Limit: 2, After: after}))
			if len(page) > 2 {
				t.Fatalf("%s page of %d tasks, limit 2", tc.sort, len(page))
			}
			got = append(got, ids(page)...)
			if len(page) < 2 {
				break
			}
			after = page[len(page)-1].ID
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("sort %q filter %s paged = %v, want %v", tc.sort, tc.filter, got, tc.want)
		}
		if all := ids(must[[]store.Task](t)(s.ListTasks(ctx, u, store.TaskQuery{Filter: tc.filter, Sort: tc.sort}))); !reflect.DeepEqual(all, tc.want) {
			t.Errorf("sort %q filter %s unpaged = %v, want %v", tc.sort, tc.filter, all, tc.want)
		}
	}
	// A cursor the user does not have gives an empty page.
	if got := must[[]store.Task](t)(s.ListTasks(ctx, user(t), store.TaskQuery{After: made[1].ID})); len(got) != 0 {
		t.Errorf("another user's cursor gave %v", ids(got))
	}
}

// testTaskPatch sets, toggles and clears fields; what is not sent stays.
// testTaskSelection: the relevant order (pending first, newest first), a
// title's words, and counts.
func testTaskSelection(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := user(t)
	var made []store.Task
	for i, title := range []string{"Water the ferns", "Email the accountant", "Water the orchid", "Buy 100% juice", "Read under_score docs"} {
		task := must[store.Task](t)(s.AddTask(ctx, u, store.NewTask{Title: title, Completed: i == 2}))
		made = append(made, task)
	}
	rel := ids(must[[]store.Task](t)(s.ListTasks(ctx, u, store.TaskQuery{Sort: store.SortRelevant})))
	if want := []int64{made[4].ID, made[3].ID, made[1].ID, made[0].ID, made[2].ID}; !reflect.DeepEqual(rel, want) {
		t.Errorf("relevant order = %v, want %v", rel, want)
	}
	if got := ids(must[[]store.Task](t)(s.ListTasks(ctx, u, store.TaskQuery{Sort: store.SortRelevant, Limit: 2}))); !reflect.DeepEqual(got, []int64{made[4].ID, made[3].ID}) {
		t.Errorf("relevant, limit 2 = %v", got)
	}
	for _, tc := range []struct {
		q    store.TaskQuery
		want []int64
	}{
		{store.TaskQuery{Contains: []string{"WATE"}}, []int64{made[0].ID, made[2].ID}},
		{store.TaskQuery{Contains: []string{"wate", "fern"}}, []int64{made[0].ID}},
		{store.TaskQuery{Contains: []string{"wate"}, Filter: store.TasksCompleted}, []int64{made[2].ID}},
		{store.TaskQuery{Contains: []string{"100%"}}, []int64{made[3].ID}},
		{store.TaskQuery{Contains: []string{"0% j"}}, []int64{made[3].ID}},
		{store.TaskQuery{Contains: []string{"%"}}, []int64{made[3].ID}},
		{store.TaskQuery{Contains: []string{"_"}}, []int64{made[4].ID}},
		{store.TaskQuery{Contains: []string{"nothing"}}, []int64{}},
	} {
		if got := ids(must[[]store.Task](t)(s.ListTasks(ctx, u, tc.q))); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ListTasks(%+v) = %v, want %v", tc.q, got, tc.want)
		}
		if n := must[int](t)(s.CountTasks(ctx, u, tc.q)); n != len(tc.want) {
			t.Errorf("CountTasks(%+v) = %d, want %d", tc.q, n, len(tc.want))
		}
	}
	if n := must[int](t)(s.CountTasks(ctx, u, store.TaskQuery{Filter: store.TasksPending})); n != 4 {
		t.Errorf("pending count = %d", n)
	}
	if n := must[int](t)(s.CountTasks(ctx, user(t), store.TaskQuery{})); n != 0 {
		t.Errorf("another user's count = %d", n)
	}
}

// testPriorityAndDue: priorities and due times are kept, changed, cleared,
// filtered on and sorted by.
func testPriorityAndDue(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := user(t)
	friday := store.DueDate(2026, 12, 4)
	at := store.Due{At: time.Date(2026, 12, 2, 17, 30, 0, 0, time.UTC)}
	a := must[store.Task](t)(s.AddTask(ctx, u, store.NewTask{Title: "Pay rent", Priority: store.PriorityHigh, Due: &friday}))
	b := must[store.Task](t)(s.AddTask(ctx, u, store.NewTask{Title: "Call mom", Due: &at}))
	c := must[store.Task](t)(s.AddTask(ctx, u, store.NewTask{Title: "Read", Priority: store.PriorityLow}))
	d := must[store.Task](t)(s.AddTask(ctx, u, store.NewTask{Title: "Old bill", Priority: store.PriorityMedium, Due: &store.Due{At: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), DateOnly: true}}))
	if a.Priority != store.PriorityHigh || a.Due == nil || !a.Due.DateOnly || !a.Due.At.Equal(friday.At) {
		t.Errorf("added = %+v due %+v", a, a.Due)
	}
	got := must[store.Task](t)(s.GetTask(ctx, u, b.ID))
	if got.Priority != "" || got.Due == nil || got.Due.DateOnly || !got.Due.At.Equal(at.At) {
		t.Errorf("got = %+v due %+v", got, got.Due)
	}
	if c.Due != nil || c.Priority != store.PriorityLow {
		t.Errorf("no due = %+v", c)
	}

	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	today := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	before := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	ny, _ := time.LoadLocation("America/New_York")
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	beforeNY := time.Date(2026, 12, 3, 0, 0, 0, 0, ny)
	endTokyo := time.Date(2026, 12, 3, 0, 0, 0, 0, tokyo)
	fridayTokyo := time.Date(2026, 12, 3, 16, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		q    store.TaskQuery
		want []int64
	}{
		{"high", store.TaskQuery{Priority: store.PriorityHigh}, []int64{a.ID}},
		{"due before the 3rd", store.TaskQuery{DueBefore: &before}, []int64{b.ID, d.ID}},
		// In New York the 3rd starts at 05:00 UTC; call mom is due at
		// 12:30 there on the 2nd.
		{"due before the 3rd in New York", store.TaskQuery{DueBefore: &beforeNY, Zone: ny}, []int64{b.ID, d.ID}},
		// In Tokyo the 2nd ends at 15:00 UTC, before call mom's 17:30 UTC.
		{"due before the 2nd ends in Tokyo", store.TaskQuery{DueBefore: &endTokyo, Zone: tokyo}, []int64{d.ID}},
		// Friday starts, in Tokyo, at 15:00 UTC on the 3rd: a bound at
		// 16:00 UTC is Friday there, after its start.
		{"due before Friday 01:00 in Tokyo", store.TaskQuery{DueBefore: &fridayTokyo, Zone: tokyo}, []int64{a.ID, b.ID, d.ID}},
		{"due before Friday 01:00 in UTC", store.TaskQuery{DueBefore: &fridayTokyo}, []int64{b.ID, d.ID}},
		{"overdue", store.TaskQuery{Overdue: true, Now: now, Today: today}, []int64{b.ID, d.ID}},
		{"overdue the day it is due", store.TaskQuery{Overdue: true, Now: time.Date(2026, 12, 4, 23, 0, 0, 0, time.UTC), Today: friday.At}, []int64{b.ID, d.ID}},
		{"overdue the day after", store.TaskQuery{Overdue: true, Now: time.Date(2026, 12, 5, 1, 0, 0, 0, time.UTC), Today: time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)}, []int64{a.ID, b.ID, d.ID}},
	} {
		if ids := ids(must[[]store.Task](t)(s.ListTasks(ctx, u, tc.q))); !reflect.DeepEqual(ids, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, ids, tc.want)
		}
		if n := must[int](t)(s.CountTasks(ctx, u, tc.q)); n != len(tc.want) {
			t.Errorf("%s: count %d, want %d", tc.name, n, len(tc.want))
		}
	}
	for _, tc := range []struct {
		sort store.TaskSort
		want []int64
	}{
		{store.SortDue, []int64{d.ID, b.ID, a.ID, c.ID}},
		{store.SortPriority, []int64{a.ID, d.ID, c.ID, b.ID}},
	} {
		if all := ids(must[[]store.Task](t)(s.ListTasks(ctx, u, store.TaskQuery{Sort: tc.sort}))); !reflect.DeepEqual(all, tc.want) {
			t.Errorf("sort %s = %v, want %v", tc.sort, all, tc.want)
		}
		var paged []int64
		after := int64(0)
		for range 5 {
			page := must[[]store.Task](t)(s.ListTasks(ctx, u, store.TaskQuery{Sort: tc.sort, Limit: 2, After: after}))
			if len(page) == 0 {
				break
			}
			paged = append(paged, ids(page)...)
			after = page[len(page)-1].ID
		}
		if !reflect.DeepEqual(paged, tc.want) {
			t.Errorf("sort %s in pages = %v, want %v", tc.sort, paged, tc.want)
		}
	}

	// Changing one leaves the other; clearing both.
	med := store.PriorityMedium
	got = must[store.Task](t)(s.UpdateTask(ctx, u, a.ID, store.TaskPatch{Priority: &med}))
	if got.Priority != store.PriorityMedium || got.Due == nil || !got.Due.At.Equal(friday.At) {
		t.Errorf("after setting the priority: %+v %+v", got, got.Due)
	}
	monday := store.DueDate(2026, 12, 7)
	got = must[store.Task](t)(s.UpdateTask(ctx, u, a.ID, store.TaskPatch{SetDue: true, Due: &monday}))
	if got.Priority != store.PriorityMedium || got.Due == nil || !got.Due.At.Equal(monday.At) || !got.Due.DateOnly {
		t.Errorf("after moving the due date: %+v %+v", got, got.Due)
	}
	none := store.Priority("")
	got = must[store.Task](t)(s.UpdateTask(ctx, u, a.ID, store.TaskPatch{Priority: &none, SetDue: true}))
	if got.Priority != "" || got.Due != nil {
		t.Errorf("after clearing both: %+v %+v", got, got.Due)
	}
	got = must[store.Task](t)(s.UpdateTask(ctx, u, a.ID, store.TaskPatch{Title: ptr("Pay the rent")}))
	if got.Priority != "" || got.Due != nil || got.Title != "Pay the rent" {
		t.Errorf("after a rename: %+v", got)
	}
}

// testTaskLimit: a user's tasks stop at the limit, exactly, even when adds
// race; other users and other writes are not limited.
func testTaskLimit(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := user(t)
	var wg sync.WaitGroup
	var ok, limited atomic.Int64
	for i := range 12 {
		wg.Go(func() {
			_, err := s.AddTask(ctx, u, store.NewTask{Title: fmt.Sprintf("Task %d", i)})
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, store.ErrTaskLimit):
				limited.Add(1)
			default:
				t.Errorf("add %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 5 || limited.Load() != 7 {
		t.Errorf("12 racing adds at a limit of 5: %d added, %d refused", ok.Load(), limited.Load())
	}
	if n := must[int](t)(s.CountTasks(ctx, u, store.TaskQuery{})); n != 5 {
		t.Errorf("%d tasks stored", n)
	}
	// Inside a unit of work too, and nothing of it is kept.
	_, _, err := s.RunIdempotent(ctx, u, "limit-key", "h", func(ctx context.Context, tx store.Tasks) (json.RawMessage, error) {
		_, err := tx.AddTask(ctx, u, store.NewTask{Title: "One too many"})
		return nil, err
	})
	if !errors.Is(err, store.ErrTaskLimit) {
		t.Errorf("add in a unit of work at the limit: %v", err)
	}
	ts := must[[]store.Task](t)(s.ListTasks(ctx, u, store.TaskQuery{}))
	if _, err := s.DeleteTask(ctx, u, ts[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddTask(ctx, u, store.NewTask{Title: "Room again"}); err != nil {
		t.Errorf("add after a delete: %v", err)
	}
	if _, err := s.AddTask(ctx, user(t), store.NewTask{Title: "Someone else"}); err != nil {
		t.Errorf("another user's add: %v", err)
	}
}

func testTaskPatch(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := user(t)
	task := must[store.Task](t)
	a := task(s.AddTask(ctx, u, store.NewTask{Title: "Water plants", Description: "the ferns", Completed: true}))
	if !a.Completed || a.UserID != u {
		t.Fatalf("created = %+v", a)
	}
	if got := task(s.GetTask(ctx, u, a.ID)); got != a {
		t.Errorf("GetTask = %+v, want %+v", got, a)
	}
	toggled := task(s.UpdateTask(ctx, u, a.ID, store.TaskPatch{Toggle: true}))
	if toggled.Completed || toggled.Title != a.Title || toggled.Description != a.Description {
		t.Errorf("toggled = %+v", toggled)
	}
	back := task(s.UpdateTask(ctx, u, a.ID, store.TaskPatch{Toggle: true, Completed: ptr(false)}))
	if !back.Completed {
		t.Errorf("toggle wins over completed: %+v", back)
	}
	set := task(s.UpdateTask(ctx, u, a.ID, store.TaskPatch{Completed: ptr(false)}))
	if set.Completed {
		t.Errorf("set pending = %+v", set)
	}
	cleared := task(s.UpdateTask(ctx, u, a.ID, store.TaskPatch{Description: ptr("")}))
	if cleared.Description != "" || cleared.Title != a.Title {
		t.Errorf("cleared description = %+v", cleared)
	}
	same := task(s.UpdateTask(ctx, u, a.ID, store.TaskPatch{}))
	if same.Title != a.Title || same.Completed || same.Description != "" {
		t.Errorf("empty patch = %+v", same)
	}
	if _, err := s.GetTask(ctx, user(t), a.ID); !errors.Is(err, store.ErrTaskNotFound) {
		t.Errorf("another user's GetTask: %v, want ErrTaskNotFound", err)
	}
}

// testRunIdempotent runs a write once per key and replays its response.
func testRunIdempotent(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := user(t)
	var runs atomic.Int64
	create := func(title string) func(context.Context, store.Tasks) (json.RawMessage, error) {
		return func(ctx context.Context, tx store.Tasks) (json.RawMessage, error) {
			runs.Add(1)
			task, err := tx.AddTask(ctx, u, store.NewTask{Title: title})
			return json.RawMessage(fmt.Sprintf(`{"id":%d}`, task.ID)), err
		}
	}
	first, replayed, err := s.RunIdempotent(ctx, u, "k1", "h1", create("once"))
	if err != nil || replayed {
		t.Fatalf("first = %s %v %v", first, replayed, err)
	}
	again, replayed, err := s.RunIdempotent(ctx, u, "k1", "h1", create("once"))
	if err != nil || !replayed || string(again) != string(first) || runs.Load() != 1 {
		t.Errorf("replay = %s %v %v after %d runs", again, replayed, err, runs.Load())
	}
	if _, _, err := s.RunIdempotent(ctx, u, "k1", "other", create("once")); !errors.Is(err, store.ErrKeyReused) {
		t.Errorf("reused key: %v", err)
	}
	// A failing write keeps nothing, and its key can be used again.
	_, _, err = s.RunIdempotent(ctx, u, "k2", "h2", func(ctx context.Context, tx store.Tasks) (json.RawMessage, error) {
		if _, err := tx.AddTask(ctx, u, store.NewTask{Title: "rolled back"}); err != nil {
			return nil, err
		}
		return nil, errors.New("boom")
	})
	if err == nil {
		t.Fatal("the failing write succeeded")
	}
	if _, _, err := s.RunIdempotent(ctx, u, "k2", "h2", create("second try")); err != nil {
		t.Errorf("retry after failure: %v", err)
	}
	// Without a key it simply runs.
	if _, replayed, err := s.RunIdempotent(ctx, u, "", "", create("no key")); err != nil || replayed {
		t.Errorf("no key: %v %v", replayed, err)
	}
	var titles []string
	for _, task := range must[[]store.Task](t)(s.ListTasks(ctx, u, store.TaskQuery{})) {
		titles = append(titles, task.Title)
	}
	if want := []string{"once", "second try", "no key"}; !reflect.DeepEqual(titles, want) {
		t.Errorf("tasks = %v, want %v", titles, want)
	}
}

func testTaskIsolation(t *testing.T, s store.Store) {
	ctx := context.Background()
	owner, other := user(t), user(t)
	task := must[store.Task](t)
	a := task(s.AddTask(ctx, owner, store.NewTask{Title: "Secret"}))
	title := "hijacked"

	for name, fn := range map[string]func(u string, id int64) error{
		"complete": func(u string, id int64) error { _, err := s.UpdateTask(ctx, u, id, completed); return err },
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
	if got := must[[]store.Task](t)(s.ListTasks(ctx, other, store.TaskQuery{Filter: store.TasksAll})); len(got) != 0 {
		t.Errorf("other user sees %v", got)
	}
	got := must[[]store.Task](t)(s.ListTasks(ctx, owner, store.TaskQuery{Filter: store.TasksAll}))
	if len(got) != 1 || got[0].Title != "Secret" || got[0].Completed {
		t.Errorf("owner's task changed: %+v", got)
	}
}

func testConversations(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := user(t)
	conv := must[store.Conversation](t)

	long := strings.Repeat("word ", 40)
	c := conv(startTurn(ctx, s, u, 0, "  Add a task\n to buy   groceries  "))
	if c.ID <= 0 || c.Title != "Add a task to buy groceries" || c.MessageCount != 1 {
		t.Errorf("created = %+v", c)
	}
	checkTime(t, "created_at", c.CreatedAt)
	l := conv(startTurn(ctx, s, u, 0, long))
	if n := len([]rune(l.Title)); n != store.TitleMaxChars || !strings.HasSuffix(l.Title, "…") {
		t.Errorf("long title %q has %d chars", l.Title, n)
	}
	got := conv(s.GetConversation(ctx, u, c.ID))
	if got.ID != c.ID || got.Title != c.Title || !got.CreatedAt.Equal(c.CreatedAt) || got.MessageCount != 1 {
		t.Errorf("get = %+v, want %+v", got, c)
	}
	again := conv(startTurn(ctx, s, u, c.ID, "second"))
	if again.ID != c.ID || again.UpdatedAt.Before(c.UpdatedAt) {
		t.Errorf("second turn = %+v", again)
	}
	if got := conv(s.GetConversation(ctx, u, c.ID)); got.MessageCount != 2 || got.Title != c.Title || !got.UpdatedAt.Equal(again.UpdatedAt) {
		t.Errorf("after the second turn = %+v, want %+v with 2 messages", got, again)
	}
	if _, err := startTurn(ctx, s, user(t), c.ID, "intrude"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("StartTurn in another user's conversation: err = %v", err)
	}
	if _, err := startTurn(ctx, s, u, c.ID+1_000_000, "nowhere"); !errors.Is(err, store.ErrNotFound) {
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
		c := must[store.Conversation](t)(startTurn(ctx, s, u, 0, fmt.Sprintf("conversation %d", i)))
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
	c := must[store.Conversation](t)(startTurn(ctx, s, u, 0, "hello"))
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
	c := must[store.Conversation](t)(startTurn(ctx, s, u, 0, "paging"))
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
	c := must[store.Conversation](t)(startTurn(ctx, s, u, 0, "bye"))
	keep := must[store.Conversation](t)(startTurn(ctx, s, u, 0, "keep"))
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

func testDeleteConversations(t *testing.T, s store.Store) {
	ctx := context.Background()
	u, other := user(t), user(t)
	for range 3 {
		must[store.Conversation](t)(startTurn(ctx, s, u, 0, "mine"))
	}
	keep := must[store.Conversation](t)(startTurn(ctx, s, other, 0, "theirs"))
	if n := must[int](t)(s.DeleteConversations(ctx, u)); n != 3 {
		t.Errorf("deleted %d conversations, want 3", n)
	}
	if got := must[[]store.Conversation](t)(s.ListConversations(ctx, u, store.Page{Limit: 10})); len(got) != 0 {
		t.Errorf("left %+v", got)
	}
	if _, err := s.GetConversation(ctx, other, keep.ID); err != nil {
		t.Errorf("another user's conversation went too: %v", err)
	}
	if n := must[int](t)(s.DeleteConversations(ctx, u)); n != 0 {
		t.Errorf("deleting none said %d", n)
	}
}

func testConversationIsolation(t *testing.T, s store.Store) {
	ctx := context.Background()
	owner, other := user(t), user(t)
	c := must[store.Conversation](t)(startTurn(ctx, s, owner, 0, "mine"))
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
	pre := must[store.Task](t)(s.AddTask(ctx, u, store.NewTask{Title: "before"}))

	// A failing turn keeps nothing: no conversation, no message, no task change.
	_, _, err := s.RunTurn(ctx, store.Turn{UserID: u, Content: "rolled back"}, func(ctx context.Context, tx store.TurnTx, conv store.Conversation) (store.Message, json.RawMessage, error) {
		if conv.ID <= 0 || conv.MessageCount != 1 || conv.Title != "rolled back" {
			return store.Message{}, nil, fmt.Errorf("conversation in turn = %+v", conv)
		}
		if _, err := tx.AddTask(ctx, u, store.NewTask{Title: "rolled back"}); err != nil {
			return store.Message{}, nil, err
		}
		if _, err := tx.UpdateTask(ctx, u, pre.ID, completed); err != nil {
			return store.Message{}, nil, err
		}
		if _, err := tx.DeleteTask(ctx, u, pre.ID); err != nil {
			return store.Message{}, nil, err
		}
		return store.Message{}, nil, errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("RunTurn err = %v, want the callback's error", err)
	}
	tasks := must[[]store.Task](t)(s.ListTasks(ctx, u, store.TaskQuery{Filter: store.TasksAll}))
	if len(tasks) != 1 || tasks[0].ID != pre.ID || tasks[0].Completed {
		t.Errorf("after rollback tasks = %+v", tasks)
	}
	if cs := must[[]store.Conversation](t)(s.ListConversations(ctx, u, store.Page{Limit: 10})); len(cs) != 0 {
		t.Errorf("after rollback conversations = %+v", cs)
	}

	// A good turn keeps everything, and reads inside it see its own writes.
	calls := []store.ToolCall{{Tool: "complete_task", Arguments: json.RawMessage(`{"task_id":1}`), Result: json.RawMessage(`{"ok":true}`)}}
	var convID int64
	res, replayed, err := s.RunTurn(ctx, store.Turn{UserID: u, Content: "kept"}, func(ctx context.Context, tx store.TurnTx, conv store.Conversation) (store.Message, json.RawMessage, error) {
		convID = conv.ID
		if got, err := tx.ListMessages(ctx, u, conv.ID, store.Page{Limit: 10}); err != nil || len(got) != 1 || got[0].Content != "kept" || conv.MessageCount != 1 {
			return store.Message{}, nil, fmt.Errorf("read own write: %+v, %+v, %v", conv, got, err)
		}
		if _, err := tx.UpdateTask(ctx, u, pre.ID, completed); err != nil {
			return store.Message{}, nil, err
		}
		return store.Message{Role: store.RoleAssistant, Content: "Done.", ToolCalls: calls}, json.RawMessage(`{"r":1}`), nil
	})
	if err != nil || replayed || string(res) != `{"r":1}` {
		t.Fatalf("RunTurn = %s, %v, %v", res, replayed, err)
	}
	msgs := must[[]store.Message](t)(s.ListMessages(ctx, u, convID, store.Page{Limit: 10}))
	if len(msgs) != 2 || msgs[0].Role != store.RoleAssistant || msgs[0].Content != "Done." || len(msgs[0].ToolCalls) != 1 ||
		msgs[1].Role != store.RoleUser || msgs[1].Content != "kept" {
		t.Errorf("stored turn = %+v", msgs)
	}
	if tasks := must[[]store.Task](t)(s.ListTasks(ctx, u, store.TaskQuery{Filter: store.TasksCompleted})); len(tasks) != 1 {
		t.Errorf("committed completion missing: %+v", tasks)
	}

	// The next turn continues the conversation; a foreign one is not found
	// and the callback never runs.
	answer := func(context.Context, store.TurnTx, store.Conversation) (store.Message, json.RawMessage, error) {
		return store.Message{Role: store.RoleAssistant, Content: "Again."}, json.RawMessage(`{}`), nil
	}
	if _, _, err := s.RunTurn(ctx, store.Turn{UserID: u, ConversationID: convID, Content: "again"}, answer); err != nil {
		t.Fatal(err)
	}
	if got := must[store.Conversation](t)(s.GetConversation(ctx, u, convID)); got.MessageCount != 4 {
		t.Errorf("second turn: %+v", got)
	}
	ran := false
	_, _, err = s.RunTurn(ctx, store.Turn{UserID: user(t), ConversationID: convID, Content: "intrude"}, func(ctx context.Context, tx store.TurnTx, c store.Conversation) (store.Message, json.RawMessage, error) {
		ran = true
		return answer(ctx, tx, c)
	})
	if !errors.Is(err, store.ErrNotFound) || ran {
		t.Errorf("turn in another user's conversation: err = %v, callback ran = %v", err, ran)
	}
	if got := must[store.Conversation](t)(s.GetConversation(ctx, u, convID)); got.MessageCount != 4 {
		t.Errorf("foreign turn changed the conversation: %+v", got)
	}
}

// countingTurn answers with a response naming how many times it ran.
func countingTurn(runs *atomic.Int64) store.TurnFunc {
	return func(ctx context.Context, tx store.TurnTx, conv store.Conversation) (store.Message, json.RawMessage, error) {
		n := runs.Add(1)
		return store.Message{Role: store.RoleAssistant, Content: "ok"}, json.RawMessage(fmt.Sprintf(`{"run":%d}`, n)), nil
	}
}

func testRateLimit(t *testing.T, s store.Store) {
	ctx := context.Background()
	u, other := user(t), user(t)
	var runs atomic.Int64
	for i := range 3 {
		if _, _, err := s.RunTurn(ctx, store.Turn{UserID: u, Content: fmt.Sprint(i), RateLimit: 3}, countingTurn(&runs)); err != nil {
			t.Fatalf("turn %d: %v", i, err)
		}
	}
	_, _, err := s.RunTurn(ctx, store.Turn{UserID: u, Content: "one too many", RateLimit: 3}, countingTurn(&runs))
	var rl *store.RateLimitError
	if !errors.As(err, &rl) || !errors.Is(err, store.ErrRateLimited) || rl.RetryAfter <= 0 || rl.RetryAfter > time.Minute {
		t.Fatalf("fourth turn: %v", err)
	}
	if _, _, err := s.StartTurn(ctx, store.Turn{UserID: u, Content: "via start", RateLimit: 3}); !errors.Is(err, store.ErrRateLimited) {
		t.Errorf("StartTurn over the limit: %v", err)
	}
	if runs.Load() != 3 {
		t.Errorf("callback ran %d times", runs.Load())
	}
	if cs := must[[]store.Conversation](t)(s.ListConversations(ctx, u, store.Page{Limit: 10})); len(cs) != 3 {
		t.Errorf("refused turns were stored: %d conversations", len(cs))
	}
	// Limits are per user; 0 means none.
	if _, _, err := s.RunTurn(ctx, store.Turn{UserID: other, Content: "x", RateLimit: 3}, countingTurn(&runs)); err != nil {
		t.Errorf("another user: %v", err)
	}
	if _, _, err := s.RunTurn(ctx, store.Turn{UserID: u, Content: "x"}, countingTurn(&runs)); err != nil {
		t.Errorf("no limit: %v", err)
	}
}

func testIdempotency(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := user(t)
	var runs atomic.Int64
	turn := store.Turn{UserID: u, Content: "Add a task", IdempotencyKey: "key-1", RequestHash: "h1", RateLimit: 100}

	first, replayed, err := s.RunTurn(ctx, turn, countingTurn(&runs))
	if err != nil || replayed || string(first) != `{"run":1}` {
		t.Fatalf("first = %s %v %v", first, replayed, err)
	}
	again, replayed, err := s.RunTurn(ctx, turn, countingTurn(&runs))
	if err != nil || !replayed || string(again) == "" {
		t.Fatalf("replay = %s %v %v", again, replayed, err)
	}
	sameJSON(t, "replayed response", again, first)
	if _, replay, err := s.StartTurn(ctx, turn); err != nil || replay == nil {
		t.Errorf("StartTurn with a used key: %s %v", replay, err)
	}
	reused := turn
	reused.RequestHash = "h2"
	if _, _, err := s.RunTurn(ctx, reused, countingTurn(&runs)); !errors.Is(err, store.ErrKeyReused) {
		t.Errorf("key with another request: %v", err)
	}
	if runs.Load() != 1 {
		t.Errorf("the turn ran %d times", runs.Load())
	}
	if cs := must[[]store.Conversation](t)(s.ListConversations(ctx, u, store.Page{Limit: 10})); len(cs) != 1 || cs[0].MessageCount != 2 {
		t.Errorf("replays wrote: %+v", cs)
	}
	// Keys belong to a user.
	if _, replayed, err := s.RunTurn(ctx, store.Turn{UserID: user(t), Content: "x", IdempotencyKey: "key-1", RequestHash: "h1"}, countingTurn(&runs)); err != nil || replayed {
		t.Errorf("another user's same key: %v %v", replayed, err)
	}

	// A turn started with a key and not finished holds it; abandoning frees it.
	long := store.Turn{UserID: u, Content: "slow", IdempotencyKey: "key-2", RequestHash: "h"}
	conv, replay, err := s.StartTurn(ctx, long)
	if err != nil || replay != nil {
		t.Fatalf("start: %v %s", err, replay)
	}
	if _, _, err := s.StartTurn(ctx, long); !errors.Is(err, store.ErrKeyInUse) {
		t.Errorf("duplicate while running: %v", err)
	}
	if err := s.AbandonTurn(ctx, long); err != nil {
		t.Fatal(err)
	}
	if _, replay, err := s.StartTurn(ctx, long); err != nil || replay != nil {
		t.Errorf("after abandon: %v %s", err, replay)
	}
	if err := s.FinishTurn(ctx, long, store.Message{ConversationID: conv.ID, Role: store.RoleAssistant, Content: "done"}, json.RawMessage(`{"slow":true}`)); err != nil {
		t.Fatal(err)
	}
	if _, replay, err := s.StartTurn(ctx, long); err != nil {
		t.Errorf("after finish: %v", err)
	} else {
		sameJSON(t, "replay after FinishTurn", replay, json.RawMessage(`{"slow":true}`))
	}
}

func testConcurrentDuplicates(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := user(t)
	var runs atomic.Int64
	turn := store.Turn{UserID: u, Content: "Add a task", IdempotencyKey: "same", RequestHash: "h"}
	const n = 8
	results := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			res, _, err := s.RunTurn(ctx, turn, countingTurn(&runs))
			if err != nil {
				results[i] = "error: " + err.Error()
				return
			}
			var v any
			_ = json.Unmarshal(res, &v)
			b, _ := json.Marshal(v)
			results[i] = string(b)
		})
	}
	wg.Wait()
	if runs.Load() != 1 {
		t.Errorf("%d simultaneous duplicates ran the turn %d times", n, runs.Load())
	}
	for i, r := range results {
		if r != `{"run":1}` {
			t.Errorf("duplicate %d got %s", i, r)
		}
	}
}

func testConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := user(t)
	c := must[store.Conversation](t)(startTurn(ctx, s, u, 0, "busy"))
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Go(func() {
			if _, err := s.AddTask(ctx, u, store.NewTask{Title: fmt.Sprint("task ", i)}); err != nil {
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
	tasks := must[[]store.Task](t)(s.ListTasks(ctx, u, store.TaskQuery{Filter: store.TasksAll}))
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
	if _, err := s.AddTask(ctx, u, store.NewTask{Title: "never"}); err == nil {
		t.Error("AddTask with a canceled context succeeded")
	}
	if got := must[[]store.Task](t)(s.ListTasks(context.Background(), u, store.TaskQuery{Filter: store.TasksAll})); len(got) != 0 {
		t.Errorf("canceled write stored %v", got)
	}
}
