package agent_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/taskchat/taskchat/internal/agent"
	"github.com/taskchat/taskchat/internal/store"
)

// TestDebugExplore runs the utterances in $EXPLORE (one per line; "pre: x"
// lines are sent first in the same history) and prints what happened.
func TestDebugExplore(t *testing.T) {
	path := os.Getenv("EXPLORE")
	if path == "" {
		t.Skip()
	}
	f, _ := os.Open(path)
	defer f.Close()
	sc := bufio.NewScanner(f)
	var pre []string
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if p, ok := strings.CutPrefix(line, "pre: "); ok {
			pre = append(pre, p)
			continue
		}
		ctx := context.Background()
		s := store.NewMemory()
		for _, title := range []string{"Water the ferns", "Email the accountant", "Book a haircut", "Buy milk and eggs", "Finish the report"} {
			s.AddTask(ctx, "u", store.NewTask{Title: title})
		}
		done := true
		s.UpdateTask(ctx, "u", 5, store.TaskPatch{Completed: &done})
		var hist []store.Message
		for _, p := range pre {
			tb := agent.NewToolbox(s, "u")
			rep, _ := agent.Offline{}.Respond(ctx, agent.Input{Message: p, Tools: tb})
			hist = append(hist, store.Message{Role: "user", Content: p}, store.Message{Role: "assistant", Content: rep.Text, ToolCalls: tb.Calls()})
		}
		pre = nil
		tb := agent.NewToolbox(s, "u")
		h := hist
		rep, err := agent.Offline{}.Respond(ctx, agent.Input{Message: line, Tools: tb, History: func(context.Context) ([]store.Message, error) { return h, nil }})
		var calls []string
		for _, c := range tb.Calls() {
			if c.Tool != "list_tasks" {
				calls = append(calls, c.Tool+string(c.Arguments))
			}
		}
		r := strings.ReplaceAll(rep.Text, "\n", " / ")
		if len(r) > 90 {
			r = r[:90]
		}
		fmt.Printf("%-60s | %-45s | %s %v\n", line, strings.Join(calls, " "), r, err)
	}
}
