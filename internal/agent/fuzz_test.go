package agent_test

import (
	"context"
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/taskchat/taskchat/internal/agent"
)

// FuzzOffline checks that the parser answers anything without panicking,
// always says something, records valid JSON and is deterministic.
func FuzzOffline(f *testing.F) {
	for _, s := range []string{
		"Add a task to buy groceries", "Show me all my tasks", "What's pending?",
		"Mark task 3 as complete", "Delete the meeting task", "Change task 1 to 'Call mom tonight'",
		"I need to remember to pay bills", "What have I completed?", "rename 2 to", "add \"",
		"mark task nine hundred ninety nine thousand as done", "delete task 99999999999999999999",
		"change  to ", "“", "remind me to ''", "task 0 is done", "\x00", "hello world",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		if !utf8.ValidString(msg) {
			t.Skip("the HTTP layer refuses invalid UTF-8")
		}
		run := func() (string, string) {
			tb := agent.NewToolbox(seed(t), "u")
			rep, err := agent.Offline{}.Respond(context.Background(), agent.Input{Message: msg, Tools: tb})
			if err != nil {
				t.Fatalf("%q: %v", msg, err)
			}
			calls, err := json.Marshal(tb.Calls())
			if err != nil {
				t.Fatalf("%q: calls do not encode: %v", msg, err)
			}
			return rep.Text, string(calls)
		}
		text, calls := run()
		if text == "" {
			t.Fatalf("%q: empty reply", msg)
		}
		if text2, calls2 := run(); text2 != text || calls2 != calls {
			t.Fatalf("%q: not deterministic:\n%s %s\n%s %s", msg, text, calls, text2, calls2)
		}
	})
}
