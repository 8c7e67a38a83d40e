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

// TestDebugExplore2: lines "titles | utterance" with titles comma-separated (* marks done).
func TestDebugExplore2(t *testing.T) {
	path := os.Getenv("EXPLORE2")
	if path == "" {
		t.Skip()
	}
	f, _ := os.Open(path)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		titles, say, _ := strings.Cut(line, " | ")
		ctx := context.Background()
		s := store.NewMemory()
		for i, title := range strings.Split(titles, ",") {
			title = strings.TrimSpace(title)
			done := strings.HasPrefix(title, "*")
			s.AddTask(ctx, "u", store.NewTask{Title: strings.TrimPrefix(title, "*")})
			if done {
				d := true
				s.UpdateTask(ctx, "u", int64(i+1), store.TaskPatch{Completed: &d})
			}
		}
		tb := agent.NewToolbox(s, "u")
		rep, _ := agent.Offline{}.Respond(ctx, agent.Input{Message: say, Tools: tb, History: func(context.Context) ([]store.Message, error) { return nil, nil }})
		var calls []string
		for _, c := range tb.Calls() {
			if c.Tool != "list_tasks" {
				calls = append(calls, c.Tool+string(c.Arguments))
			}
		}
		r := strings.ReplaceAll(rep.Text, "\n", " / ")
		if len(r) > 70 {
			r = r[:70]
		}
		fmt.Printf("%-55s | %-40s | %s\n", say, strings.Join(calls, " "), r)
	}
}
