package agent_test

import (
	"context"
	"testing"

	"github.com/taskchat/taskchat/internal/agent"
	"github.com/taskchat/taskchat/internal/store"
)

// BenchmarkOffline measures the offline agent's whole answer (parse, tool,
// reply) on the memory store, for a few typical messages.
func BenchmarkOffline(b *testing.B) {
	for _, msg := range []string{"Add a task to buy groceries", "What's pending?", "Mark task 1 as done", "Delete the meeting task", "asdf qwerty"} {
		b.Run(msg, func(b *testing.B) {
			s := store.NewMemory()
			_, _ = s.AddTask(context.Background(), "u", store.NewTask{Title: "Team meeting"})
			for b.Loop() {
				tb := agent.NewToolbox(s, "u")
				if _, err := (agent.Offline{}).Respond(context.Background(), agent.Input{Message: msg, Tools: tb}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
