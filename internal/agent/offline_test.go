package agent_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/taskchat/taskchat/internal/agent"
	"github.com/taskchat/taskchat/internal/store"
)

// seed gives a fresh store with tasks 1 "Buy groceries", 2 "Team meeting",
// 3 "Pay bills" (completed) and 4 "Call mom", plus any extra titles.
func seed(t *testing.T, extra ...string) store.Store {
	t.Helper()
	ctx := context.Background()
	s := store.NewMemory()
	for _, title := range append([]string{"Buy groceries", "Team meeting", "Pay bills", "Call mom"}, extra...) {
		if _, err := s.AddTask(ctx, "u", store.NewTask{Title: title}); err != nil {
			t.Fatal(err)
		}
	}
	done := true
	if _, err := s.UpdateTask(ctx, "u", 3, store.TaskPatch{Completed: &done}); err != nil {
		t.Fatal(err)
	}
	return s
}

type wantCall struct {
	tool string
	args string
}

func TestOfflineUtterances(t *testing.T) {
	list := func(status string) wantCall { return wantCall{"list_tasks", `{"status":"` + status + `"}`} }
	id := func(tool string, n string) wantCall { return wantCall{tool, `{"task_id":` + n + `}`} }
	add := func(args string) wantCall { return wantCall{"add_task", args} }
	upd := func(args string) wantCall { return wantCall{"update_task", args} }

	for _, tc := range []struct {
		say   string
		extra []string
		calls []wantCall
		reply string
	}{
		// The eight examples the README lists under "The agents".
		{say: "Add a task to buy groceries", calls: []wantCall{add(`{"title":"Buy groceries"}`)}, reply: `Added "Buy groceries" to your tasks (task 5).`},
		{say: "Show me all my tasks", calls: []wantCall{list("all")}, reply: "You have 4 tasks (3 pending, 1 completed):\n- [ ] 1. Buy groceries"},
		{say: "What's pending?", calls: []wantCall{list("pending")}, reply: "You have 3 pending tasks:"},
		{say: "Mark task 3 as complete", calls: []wantCall{id("complete_task", "3")}, reply: `Marked task 3 "Pay bills" as complete.`},
		{say: "Delete the meeting task", calls: []wantCall{list("all"), id("delete_task", "2")}, reply: `Deleted task 2 "Team meeting".`},
		{say: "Change task 1 to 'Call mom tonight'", calls: []wantCall{upd(`{"task_id":1,"title":"Call mom tonight"}`)}, reply: `Updated task 1: it's now "Call mom tonight".`},
		{say: "I need to remember to pay bills", calls: []wantCall{add(`{"title":"Pay bills"}`)}, reply: `Added "Pay bills"`},
		{say: "What have I completed?", calls: []wantCall{list("completed")}, reply: "You've completed 1 task:\n- [x] 3. Pay bills"},

		// Adding, as people say it.
		{say: "remind me to call the dentist tomorrow", calls: []wantCall{add(`{"title":"Call the dentist tomorrow","due_date":"2026-12-02"}`)}},
		{say: `Add "Renew passport"`, calls: []wantCall{add(`{"title":"Renew passport"}`)}},
		{say: "please add water the plants to my list", calls: []wantCall{add(`{"title":"Water the plants"}`)}},
		{say: "Create a new task called Prepare slides", calls: []wantCall{add(`{"title":"Prepare slides"}`)}},
		{say: "new task: book flights", calls: []wantCall{add(`{"title":"Book flights"}`)}},
		{say: "add a task to buy milk with description 2 litres, oat", calls: []wantCall{add(`{"title":"Buy milk","description":"2 litres, oat"}`)}},
		{say: "Don't let me forget to feed the cat!", calls: []wantCall{add(`{"title":"Feed the cat"}`)}},
		{say: "todo: renew car insurance", calls: []wantCall{add(`{"title":"Renew car insurance"}`)}},
		{say: "Could you add “Email the landlord” please?", calls: []wantCall{add(`{"title":"Email the landlord"}`)}},
		{say: "add to my list: pick up dry cleaning", calls: []wantCall{add(`{"title":"Pick up dry cleaning"}`)}},
		{say: "Add task", reply: "What should the task say?"},

		// Listing.
		{say: "Can you show my pending tasks?", calls: []wantCall{list("pending")}},
		{say: "list completed tasks", calls: []wantCall{list("completed")}},
		{say: "what's left", calls: []wantCall{list("pending")}},
		{say: "What do I have to do?", calls: []wantCall{list("pending")}},
		{say: "what's on my to-do list", calls: []wantCall{list("all")}},
		{say: "Show tasks", calls: []wantCall{list("all")}},
		{say: "my tasks", calls: []wantCall{list("all")}},
		{say: "Do I have anything pending?", calls: []wantCall{list("pending")}},
		{say: "How many tasks do I have?", calls: []wantCall{list("all")}},
		{say: "Which tasks are not done yet?", calls: []wantCall{list("pending")}},
		{say: "What did I finish?", calls: []wantCall{list("completed")}},

		// Completing.
		{say: "mark task three as done", calls: []wantCall{id("complete_task", "3")}},
		{say: "Complete task #4", calls: []wantCall{id("complete_task", "4")}},
		{say: "I'm done with task 2", calls: []wantCall{id("complete_task", "2")}},
		{say: "I finished task two", calls: []wantCall{id("complete_task", "2")}},
		{say: "task 4 is done", calls: []wantCall{id("complete_task", "4")}},
		{say: "mark 2 done", calls: []wantCall{id("complete_task", "2")}},
		{say: "finished buying groceries", calls: []wantCall{list("all"), id("complete_task", "1")}, reply: `Marked task 1 "Buy groceries" as complete.`},
		{say: "Check off call mom", calls: []wantCall{list("all"), id("complete_task", "4")}},
		{say: "Mark the groceries task as done", calls: []wantCall{list("all"), id("complete_task", "1")}},
		{say: "I've done the bills", calls: []wantCall{list("all"), id("complete_task", "3")}},
		{say: "Mark task twenty-one as done", calls: []wantCall{id("complete_task", "21")}, reply: `I couldn't find task 21.`},
		{say: "i have completed task one hundred and five", calls: []wantCall{id("complete_task", "105")}, reply: "I couldn't find task 105."},
		{say: "I finished the meeting", extra: []string{"Meeting notes"}, calls: []wantCall{list("all")}, reply: "More than one task matches \"meeting\":\n- task 2 \"Team meeting\"\n- task 5 \"Meeting notes\""},

		// Deleting.
		{say: "clear task 4", calls: []wantCall{id("delete_task", "4")}},
		{say: "Remove task twelve", calls: []wantCall{id("delete_task", "12")}, reply: "I couldn't find task 12."},
		{say: "can you please delete task 1 for me", calls: []wantCall{id("delete_task", "1")}},
		{say: "cancel the dentist appointment", calls: []wantCall{list("all")}, reply: `I couldn't find a task matching "dentist appointment".`},
		{say: "Delete the meeting task", extra: []string{"Meeting notes"}, calls: []wantCall{list("all")}, reply: "Which one do you mean?"},
		{say: "remove pay bills from my list", calls: []wantCall{list("all"), id("delete_task", "3")}},
		{say: "Delete everything", reply: "one at a time"},

		// Updating.
		{say: "rename 2 to Weekly sync", calls: []wantCall{upd(`{"task_id":2,"title":"Weekly sync"}`)}},
		{say: "Update task 1 description to get oat milk", calls: []wantCall{upd(`{"task_id":1,"description":"get oat milk"}`)}, reply: `Updated the description of task 1 "Buy groceries".`},
		{say: "change the description of task 4 to before 9pm", calls: []wantCall{upd(`{"task_id":4,"description":"before 9pm"}`)}},
		{say: "rename 'call mom' to 'Call mom and dad'", calls: []wantCall{list("all"), upd(`{"task_id":4,"title":"Call mom and dad"}`)}},
		{say: "change task 1 to go to the gym", calls: []wantCall{upd(`{"task_id":1,"title":"Go to the gym"}`)}},

		// Talk.
		{say: "hello", reply: "I'm your task assistant"},
		{say: "Good morning!", reply: "I'm your task assistant"},
		{say: "help", reply: "\"Add a task to buy groceries\""},
		{say: "What can you do?", reply: "I manage your to-do list."},
		{say: "Thanks!", reply: "You're welcome!"},
		{say: "bye", reply: "Goodbye!"},
		{say: "asdf qwerty", reply: "Sorry, I didn't understand that."},
		{say: "The weather is nice today", reply: "Sorry, I didn't understand that."},
	} {
		t.Run(tc.say, func(t *testing.T) {
			t.Parallel()
			s := seed(t, tc.extra...)
			tb := agent.NewToolbox(s, "u").At(time.Date(2026, 12, 1, 14, 30, 0, 0, time.UTC), time.UTC)
			rep, err := agent.Offline{}.Respond(context.Background(), agent.Input{Message: tc.say, Tools: tb})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Agent != "offline" {
				t.Errorf("agent = %q", rep.Agent)
			}
			calls := tb.Calls()
			if len(calls) != len(tc.calls) {
				t.Fatalf("calls = %s, want %v\nreply: %s", show(calls), tc.calls, rep.Text)
			}
			for i, c := range calls {
				if c.Tool != tc.calls[i].tool || !jsonEqual(t, c.Arguments, tc.calls[i].args) {
					t.Errorf("call %d = %s %s, want %s %s", i, c.Tool, c.Arguments, tc.calls[i].tool, tc.calls[i].args)
				}
			}
			if !strings.Contains(rep.Text, tc.reply) {
				t.Errorf("reply = %q, want it to contain %q", rep.Text, tc.reply)
			}
		})
	}
}

func show(calls []store.ToolCall) string {
	var b strings.Builder
	for _, c := range calls {
		b.WriteString(c.Tool + string(c.Arguments) + " ")
	}
	return "[" + b.String() + "]"
}

func jsonEqual(t *testing.T, got json.RawMessage, want string) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("arguments %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want %s: %v", want, err)
	}
	return reflect.DeepEqual(g, w)
}
