package agent_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/taskchat/taskchat/internal/agent"
	"github.com/taskchat/taskchat/internal/store"
)

// A turn of the offline agent is judged by what it did to the tasks: the
// changes, written as
//
//	+Title           a task added ("+Title|description" with one)
//	done N           task N completed
//	-N               task N deleted
//	N=Title          task N renamed
//	N.desc=Text      task N's description set
//	N!high           task N's priority set ("N!" removed)
//	N@2026-12-04     task N's due date set (a time in RFC 3339, UTC; "N@" removed)
//
// and an added task's priority and due date follow its title
// ("+Pay rent!high@2026-12-04"). Every turn runs on Tuesday 2026-12-01 at
// 14:30 UTC, in the turn's zone (UTC when none).
//
// joined by "; " in the order of the task numbers, additions last. An empty
// want means nothing may change.
type turn struct {
	tasks []string // the user's tasks before, numbered from 1; "*" marks a completed one
	pre   []string // earlier messages of the same conversation
	say   string
	want  string
	reply string // a part of the reply, when it matters
	zone  string // the person's time zone
	prio  map[int]string
	due   map[int]string // tasks' due dates before, as the notation writes them
}

// turnTime is the moment every turn runs at: a Tuesday afternoon.
var turnTime = time.Date(2026, 12, 1, 14, 30, 0, 0, time.UTC)

func runTurns(t *testing.T, turns []turn) {
	t.Helper()
	for _, tc := range turns {
		t.Run(tc.say, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := store.NewMemory()
			zone, err := time.LoadLocation(tc.zone)
			if err != nil {
				t.Fatal(err)
			}
			for i, title := range tc.tasks {
				nt := store.NewTask{Title: strings.TrimPrefix(title, "*"), Priority: store.Priority(tc.prio[i+1])}
				if d, ok := tc.due[i+1]; ok {
					nt.Due = parseDue(t, d)
				}
				task, err := s.AddTask(ctx, "u", nt)
				if err != nil {
					t.Fatal(err)
				}
				if strings.HasPrefix(title, "*") {
					done := true
					if _, err := s.UpdateTask(ctx, "u", task.ID, store.TaskPatch{Completed: &done}); err != nil {
						t.Fatal(err)
					}
				}
			}
			var history []store.Message
			say := func(msg string) agent.Reply {
				history = append(history, store.Message{Role: store.RoleUser, Content: msg})
				h := slices.Clone(history)
				tb := agent.NewToolbox(s, "u").At(turnTime, zone)
				rep, err := agent.Offline{}.Respond(ctx, agent.Input{Message: msg, Tools: tb,
					History: func(context.Context) ([]store.Message, error) { return h, nil }})
				if err != nil {
					t.Fatal(err)
				}
				history = append(history, store.Message{Role: store.RoleAssistant, Content: rep.Text, ToolCalls: tb.Calls()})
				return rep
			}
			for _, p := range tc.pre {
				say(p)
			}
			before := snapshot(t, s)
			rep := say(tc.say)
			if got := changes(before, snapshot(t, s)); got != tc.want {
				t.Errorf("changes = %q, want %q\nreply: %s", got, tc.want, rep.Text)
			}
			if !strings.Contains(rep.Text, tc.reply) {
				t.Errorf("reply = %q, want it to contain %q", rep.Text, tc.reply)
			}
		})
	}
}

func snapshot(t *testing.T, s store.Store) map[int64]store.Task {
	t.Helper()
	ts, err := s.ListTasks(context.Background(), "u", store.TaskQuery{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]store.Task{}
	for _, task := range ts {
		out[task.ID] = task
	}
	return out
}

func changes(before, after map[int64]store.Task) string {
	ids := map[int64]bool{}
	for id := range before {
		ids[id] = true
	}
	for id := range after {
		ids[id] = true
	}
	sorted := make([]int64, 0, len(ids))
	for id := range ids {
		sorted = append(sorted, id)
	}
	slices.Sort(sorted)
	desc := func(t store.Task) string { return t.Description }
	due := func(t store.Task) string {
		switch {
		case t.Due == nil:
			return ""
		case t.Due.DateOnly:
			return t.Due.At.Format("2006-01-02")
		}
		return t.Due.At.UTC().Format(time.RFC3339)
	}
	var out, added []string
	for _, id := range sorted {
		b, had := before[id]
		a, has := after[id]
		switch {
		case !had:
			s := "+" + a.Title
			if d := desc(a); d != "" {
				s += "|" + d
			}
			if a.Priority != "" {
				s += "!" + string(a.Priority)
			}
			if d := due(a); d != "" {
				s += "@" + d
			}
			added = append(added, s)
		case !has:
			out = append(out, fmt.Sprintf("-%d", id))
		default:
			if a.Completed && !b.Completed {
				out = append(out, fmt.Sprintf("done %d", id))
			}
			if a.Title != b.Title {
				out = append(out, fmt.Sprintf("%d=%s", id, a.Title))
			}
			if desc(a) != desc(b) {
				out = append(out, fmt.Sprintf("%d.desc=%s", id, desc(a)))
			}
			if a.Priority != b.Priority {
				out = append(out, fmt.Sprintf("%d!%s", id, a.Priority))
			}
			if due(a) != due(b) {
				out = append(out, fmt.Sprintf("%d@%s", id, due(a)))
			}
		}
	}
	return strings.Join(append(out, added...), "; ")
}

var (
	chores  = []string{"Water the ferns", "Email the accountant", "Book a haircut"}
	petCare = []string{"Walk the dog", "Feed the cat"}
)

// Safety first: a task changes only when the words pick it out without
// doubt; otherwise the agent asks, and says so.
func TestOfflineSafety(t *testing.T) {
	runTurns(t, []turn{
		// The harms the issue names.
		{tasks: []string{"Finish the report", "*Old draft"}, say: "Clear finished tasks", want: "", reply: "one at a time"},
		{tasks: []string{"Catch up with Sam", "Call mom"}, say: "remove the cat task", want: "", reply: `Did you mean task 1 "Catch up with Sam"?`},
		{tasks: []string{"Finish slides today", "Call mom"}, say: "I'm done for today", want: ""},
		{tasks: chores, say: "Set task 3 to done", want: "done 3"},
		{tasks: chores, say: "change task 2 to high priority", want: "2!high", reply: "high priority"},
		{tasks: nil, say: "Add a task to review meeting notes", want: "+Review meeting notes"},
		{tasks: petCare, say: "add milk and mark task 2 done", want: "done 2; +Milk"},

		// Several matches, a loose match, status words: asked, not guessed.
		{tasks: []string{"Email Bob", "Email Alice"}, say: "delete the email task", want: "", reply: `task 1 "Email Bob"`},
		{tasks: []string{"Buy milk", "Buy milk"}, say: "delete buy milk", want: "", reply: "More than one task"},
		{tasks: []string{"Plan the trip", "Plan the party"}, say: "complete the plan task", want: ""},
		{tasks: []string{"Read chapter one"}, say: "delete chapter", want: "-1"},
		{tasks: []string{"Carpet cleaning", "Car insurance"}, say: "delete the car task", want: "-2"},
		{tasks: []string{"Carpet cleaning"}, say: "delete the car task", want: "", reply: "Did you mean"},
		{tasks: []string{"*Old one", "Finish the report"}, say: "remove completed", want: ""},
		{tasks: []string{"*Old one", "Finish the report"}, say: "delete the finished ones", want: ""},
		{tasks: petCare, say: "wipe my list", want: ""},
		{tasks: petCare, say: "delete them all", want: ""},
		{tasks: petCare, say: "complete all", want: ""},
		{tasks: petCare, say: "done!", want: "", reply: "Which task"},
		{tasks: petCare, say: "delete the dgo task", want: ""},
		{tasks: []string{"Delete old photos", "Call the plumber"}, say: "Delete old photos is done", want: "done 1"},
		{tasks: []string{"Update the CV", "Call the plumber"}, say: "update the CV is done", want: "done 1"},
		{tasks: []string{"Notes for the interview"}, say: "add task: notes for the interview is done", want: "+Notes for the interview is done"},

		// What the tools cannot do changes nothing, and says so.
		{tasks: petCare, say: "make task 2 high priority", want: "2!high", reply: "high priority"},
		{tasks: petCare, say: "mark task 2 as important", want: "2!high", reply: "high priority"},
		{tasks: petCare, say: "set the due date of task 1 to friday", want: "1@2026-12-04", reply: "Friday, December 4"},
		{tasks: petCare, say: "repeat task 1 every week", want: "", reply: "repeat"},
		{tasks: petCare, say: "remind me at 5pm to feed the cat", want: "", reply: `Say "add feed the cat, due 5pm"`},
		{tasks: petCare, say: "mark task 1 as not done", want: "", reply: "reopen"},
		{tasks: []string{"*Walk the dog"}, say: "uncheck the dog task", want: "", reply: "reopen"},
		{tasks: petCare, say: "tag task 2 as home", want: "", reply: "tag"},

		// Vague words name no task; a state still to come is no report.
		{tasks: chores, say: "remove one", want: "", reply: "Which task"},
		{tasks: chores, say: "task 2 should be done by friday", want: "2@2026-12-04"},
		{tasks: chores, say: "nope", want: "", reply: "nothing changed"},

		// Negations and questions change nothing.
		{tasks: petCare, say: "don't mark task 1 as done", want: ""},
		{tasks: petCare, say: "I didn't feed the cat", want: ""},
		{tasks: petCare, say: "I don't want to delete anything", want: ""},
		{tasks: petCare, say: "is task 1 done?", want: ""},
		{tasks: petCare, say: "how do I delete a task?", want: ""},

		// A report of something done that is no task is no request.
		{tasks: petCare, say: "I booked a flight", want: "", reply: "nothing changed"},
		{tasks: []string{"Fix the sink"}, say: "the sink needs to be fixed", want: ""},

		// Hostile titles are data.
		{tasks: nil, say: "Add a task to Robert'); DROP TABLE tasks;-- <b>x</b>", want: "+Robert'); DROP TABLE tasks;-- <b>x</b>"},
	})
}

// Understanding: what people type, and how they type it.
func TestOfflineUnderstanding(t *testing.T) {
	runTurns(t, []turn{
		// Politeness and chat shorthand.
		{tasks: chores, say: "could u add pick up dry cleaning thx", want: "+Pick up dry cleaning"},
		{tasks: chores, say: "pls chek off 1", want: "done 1"},
		{tasks: chores, say: "PLEASE MARK NUMBER 2 AS FINISHED", want: "done 2"},
		{tasks: chores, say: "Would you mind marking task 3 as done? 🙏", want: "done 3"},
		{tasks: chores, say: "🗑️ throw away task 2", want: "-2"},
		{tasks: petCare, say: "✅ walk the dog", want: "done 1"},
		{tasks: petCare, say: "Walk the dog ✅", want: "done 1"},

		// Typos in command words, never in titles.
		{tasks: chores, say: "remoev number 1", want: "-1"},
		{tasks: chores, say: "cmplete task 2", want: "done 2"},
		{tasks: chores, say: "delte task 3", want: "-3"},
		{tasks: nil, say: "ad a taks to buy bred", want: "+Buy bred"},
		{tasks: petCare, say: "mark teh cat one as done", want: "done 2"},
		{tasks: petCare, say: "dog walked", want: "done 1"},

		// Number words to twenty, and lists of numbers.
		{tasks: chores, say: "tick off number three", want: "done 3"},
		{tasks: chores, say: "complete tasks one and three", want: "done 1; done 3"},
		{tasks: chores, say: "complete 1 & 2", want: "done 1; done 2"},
		{tasks: chores, say: "remove 2, 3", want: "-2; -3"},
		{tasks: chores, say: "Mark task twenty as done", want: "", reply: "couldn't find task 20"},

		// Quotes of every kind.
		{tasks: chores, say: `Mark “Email the accountant” as done`, want: "done 2"},
		{tasks: chores, say: "delete 'book a haircut'", want: "-3"},
		{tasks: nil, say: `add "Call mom", "Call dad" and "Call grandma"`, want: "+Call mom; +Call dad; +Call grandma"},
		{tasks: petCare, say: `rename task 2 "Feed the cats"`, want: "2=Feed the cats"},

		// Titles that hold command words.
		{tasks: nil, say: "add task: delete old emails", want: "+Delete old emails"},
		{tasks: nil, say: "add a task called mark the essays", want: "+Mark the essays"},
		{tasks: nil, say: "add task to list the garage items for sale", want: "+List the garage items for sale"},
		{tasks: nil, say: "create a task: complete the tax return", want: "+Complete the tax return"},
		{tasks: nil, say: `add "Notes for Monday's standup"`, want: "+Notes for Monday's standup"},
		{tasks: []string{"Delete spam from inbox", "Clean the oven"}, say: "mark delete spam from inbox as complete", want: "done 1"},
		{tasks: []string{"Send the list to Tom", "Clean the oven"}, say: "Send the list to Tom — done", want: "done 1"},

		// Ranges, and the other ways to say a change.
		{tasks: chores, say: "delete tasks 1-3", want: "-1; -2; -3"},
		{tasks: chores, say: "complete tasks 1 to 2", want: "done 1; done 2"},
		{tasks: chores, say: "rename task 2 to read the book", want: "2=Read the book"},
		{tasks: chores, say: "replace task 3 with book a massage", want: "3=Book a massage"},
		{tasks: chores, say: "make task 1 say water the ferns and the orchid", want: "1=Water the ferns and the orchid"},
		{tasks: chores, say: "task 2 should say email the bookkeeper", want: "2=Email the bookkeeper"},
		{tasks: chores, say: "for the haircut task, change the title to Haircut with Sam", want: "3=Haircut with Sam"},
		{tasks: chores, pre: []string{"add a task to call the bank"}, say: "change the title to Call the bank at 9", want: "4=Call the bank at 9"},
		{tasks: nil, say: "make a task to buy milk", want: "+Buy milk"},
		{tasks: nil, say: "new: call the vet", want: "+Call the vet"},

		// Descriptions.
		{tasks: chores, say: "describe task 3 as ask for Sam", want: "3.desc=ask for Sam"},
		{tasks: chores, say: `for task 1, add the note "use rainwater"`, want: "1.desc=use rainwater"},
		{tasks: chores, say: "add a note to task 3: ask for Sam", want: "3.desc=ask for Sam"},
		{tasks: petCare, say: "give task 1 the description: long walk", want: "1.desc=long walk"},
		{tasks: petCare, say: "note for task 2: wet food only", want: "2.desc=wet food only"},
		{tasks: petCare, say: "notes on the dog task: use the long leash", want: "1.desc=use the long leash"},
		{tasks: petCare, say: "change task 1 description to 30 minutes", want: "1.desc=30 minutes"},
		{tasks: nil, say: "Add a task to repaint the fence. Use the green paint.", want: "+Repaint the fence|Use the green paint"},

		// Statements of what is done.
		{tasks: []string{"Pay rent", "Pay bills"}, say: "I paid the rent", want: "done 1"},
		{tasks: petCare, say: "I walked the dog this morning", want: "done 1"},
		{tasks: []string{"Fix the sink", "Call the plumber"}, say: "the sink is fixed", want: "done 1"},
		{tasks: []string{"Fix the sink", "Call the plumber"}, say: "plumber called", want: "done 2"},
		{tasks: []string{"Plan the trip", "Read chapter 2"}, say: "done planning the trip", want: "done 1"},
		{tasks: chores, say: "the ferns are done", want: "done 1"},

		// Several intents in one message, each run and reported.
		{tasks: petCare, say: "add milk and bread", want: "+Milk; +Bread"},
		{tasks: petCare, say: "delete task 1 and add a task to buy food", want: "-1; +Buy food"},
		{tasks: petCare, say: "add buy food then show my tasks", want: "+Buy food", reply: "You have 3 tasks"},
		{tasks: petCare, say: "done with 1, delete 2", want: "done 1; -2"},
		{tasks: petCare, say: "Feed the cat is finished, delete walk the dog", want: "-1; done 2"},
		{tasks: chores, say: "I'm done with the accountant, remove the ferns", want: "-1; done 2"},
		{tasks: petCare, say: "the dog task, delete it", want: "-1"},
		{tasks: petCare, say: "the giraffe task, delete it", want: ""},
		{tasks: petCare, say: "the dog thing - mark it done", want: "done 1"},
		{tasks: petCare, say: "add two tasks: book the venue; send the invites", want: "+Book the venue; +Send the invites"},
		{tasks: petCare, say: "mark 1 done and rename 2 to feed the kitten", want: "done 1; 2=Feed the kitten"},

		// References by position and pronoun, from the conversation's history.
		{tasks: chores, pre: []string{"show my tasks"}, say: "the third one is done", want: "done 3"},
		{tasks: chores, pre: []string{"show my tasks"}, say: "delete the 2nd", want: "-2"},
		{tasks: []string{"*Water the ferns", "Email the accountant", "Book a haircut"}, pre: []string{"what's pending?"}, say: "complete the first one", want: "done 2"},
		{tasks: chores, pre: []string{"add a task to call the bank"}, say: "actually delete that", want: "-4"},
		{tasks: chores, pre: []string{"add a task to call the bank"}, say: "rename it to call the bank at 9", want: "4=Call the bank at 9"},
		{tasks: chores, pre: []string{"add a task to call the bank"}, say: "and add a note to it: ask about the fee", want: "4.desc=ask about the fee"},
		{tasks: chores, pre: []string{"mark task 1 done"}, say: "and task 2 too", want: "done 2"},
		{tasks: chores, pre: []string{"delete task 1"}, say: "number 3 as well", want: "-3"},
		{tasks: chores, pre: []string{"delete task 1"}, say: "delete it", want: "", reply: "Which task"},
		{tasks: chores, say: "delete it", want: "", reply: "Which task"},
		{tasks: chores, say: "the haircut too", want: ""},
	})
}

// parseDue reads the notation's due date: a date or an RFC 3339 moment.
func parseDue(t *testing.T, s string) *store.Due {
	t.Helper()
	if d, err := time.Parse("2006-01-02", s); err == nil {
		due := store.DueDate(d.Date())
		return &due
	}
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return &store.Due{At: at}
}

// Priorities and due dates, by chat: set when a task is added or changed,
// read in the person's time zone, asked about when they cannot be placed,
// and never left in a title.
func TestOfflinePriorityAndDue(t *testing.T) {
	dated := map[int]string{2: "2026-12-03", 4: "2026-11-28"}
	ranked := map[int]string{2: "low", 4: "high"}
	home := []string{"Walk the dog", "Feed the cat", "Call the dentist", "Pay rent"}
	runTurns(t, []turn{
		// Adds: the attributes leave the title.
		{say: "add pay the electricity bill, high priority, due Friday", want: "+Pay the electricity bill!high@2026-12-04", reply: "due Friday, December 4"},
		{say: "add a high priority task to renew my passport", want: "+Renew my passport!high"},
		{say: "add call mom, urgent", want: "+Call mom!high"},
		{say: "add renew passport - important", want: "+Renew passport!high"},
		{say: "add an urgent call to the bank", want: "+Call to the bank!high"},
		{say: "add submit the report due next Monday 9am", want: "+Submit the report@2026-12-07T09:00:00Z", reply: "at 09:00"},
		{say: "add a task: book flights (low priority, due in 3 days)", want: "+Book flights!low@2026-12-04"},
		{say: "add pay rent - due friday, priority: high", want: "+Pay rent!high@2026-12-04"},
		{say: "add a task due Friday to pay rent", want: "+Pay rent@2026-12-04"},
		{say: `add "Call Sam" high priority`, want: "+Call Sam!high"},
		{say: "add two tasks: buy milk and call mom, due tomorrow", want: "+Buy milk@2026-12-02; +Call mom@2026-12-02"},
		{say: "remind me tomorrow at 9am to call the bank", want: "", reply: `Say "add call the bank, due tomorrow at 9am"`},
		{say: "add call the bank, due tomorrow at 9am", want: "+Call the bank@2026-12-02T09:00:00Z"},
		{say: "add feed the cat, due 5pm", want: "+Feed the cat@2026-12-01T17:00:00Z"},
		// A date that ends a title is its due date too, and stays in it.
		{say: "add a task to read 'Dune' by Sunday", want: "+Read 'Dune' by Sunday@2026-12-06"},
		{say: "add buy milk tomorrow", want: "+Buy milk tomorrow@2026-12-02"},
		{say: "add renew insurance by the 15th", want: "+Renew insurance by the 15th@2026-12-15"},
		{say: "add pay rent by end of the month", want: "+Pay rent by end of the month@2026-12-31"},
		{say: "add meeting at 3pm tomorrow", want: "+Meeting at 3pm tomorrow@2026-12-02T15:00:00Z"},
		// … but not what only looks like one.
		{say: "add book a table for Friday", want: "+Book a table for Friday"},
		{say: "schedule a dentist appointment for next Tuesday", want: "+Dentist appointment for next Tuesday"},
		{say: "add buy a gift for Monday's party", want: "+Buy a gift for Monday's party"},
		{say: "add a task to plan next week", want: "+Plan next week"},
		{say: "add take out the bins every Monday", want: "+Take out the bins every Monday"},
		{say: "add fix the roof due to the leak", want: "+Fix the roof due to the leak"},
		{say: "add pay the amount due", want: "+Pay the amount due"},
		{say: "add review the priority list", want: "+Review the priority list"},
		{say: "add a task to prepare for the deadline", want: "+Prepare for the deadline"},
		// A due date no calendar places is asked about; nothing is added.
		{say: "add water the plants due whenever", want: "", reply: "When should it be due?"},
		{say: "add send invoice due 3/4", want: "", reply: "two different dates"},
		{say: "add pay rent, due yesterday", want: "", reply: "already past"},
		{say: "add file taxes, due February 30", want: "", reply: "no date a calendar has"},
		// Unless it is the title's own words: the task is added undated.
		{say: "I need to collect the twins from judo at 4:15", want: "+Collect the twins from judo at 4:15", reply: "morning or afternoon"},
		// Changes.
		{tasks: home, say: "push the dentist task to Monday", want: "3@2026-12-07", reply: "Monday, December 7"},
		{tasks: home, say: "move task 3 to next friday", want: "3@2026-12-04"},
		{tasks: home, say: "postpone task 1 until the 15th", want: "1@2026-12-15"},
		{tasks: home, say: "reschedule the dog task for tomorrow morning", want: "1@2026-12-02T09:00:00Z"},
		{tasks: home, due: dated, say: "push task 2 back a week", want: "2@2026-12-10"},
		{tasks: home, due: dated, say: "push task 4 back by 2 days", want: "", reply: "already past"},
		{tasks: home, say: "push task 1 back a week", want: "", reply: "no due date to move"},
		{tasks: home, say: "push the dentist task to whenever", want: "", reply: "When should it be due?"},
		{tasks: home, say: "set task 2 to high priority", want: "2!high"},
		{tasks: home, say: "make task 1 low priority", want: "1!low"},
		{tasks: home, say: "mark task 3 as urgent", want: "3!high"},
		{tasks: home, say: "Bump the dog task up to high priority", want: "1!high"},
		{tasks: home, prio: ranked, say: "change the priority of task 4 to medium", want: "4!medium"},
		{tasks: home, prio: ranked, say: "lower the priority of task 4", want: "4!medium"},
		{tasks: home, prio: ranked, say: "raise the priority of task 2", want: "2!medium"},
		{tasks: home, prio: ranked, say: "lower the priority of task 2", want: "", reply: "already at low priority"},
		{tasks: home, say: "prioritize the dentist task", want: "3!high"},
		{tasks: home, say: "set the due date of task 3 to Dec 24", want: "3@2026-12-24"},
		{tasks: home, say: "change the deadline for task 1 to next Tuesday", want: "1@2026-12-08"},
		{tasks: home, say: "add a due date to task 1: March 3", want: "1@2027-03-03", reply: "March 3, 2027"},
		{tasks: home, say: "give task 3 a due date of Friday", want: "3@2026-12-04"},
		{tasks: home, say: "change task 1 to high priority and due tomorrow", want: "1!high; 1@2026-12-02"},
		{tasks: home, say: "make task 3 due tomorrow at 5pm", want: "3@2026-12-02T17:00:00Z"},
		{tasks: home, say: "change task 3 to Friday", want: "3@2026-12-04"},
		{tasks: home, say: "change task 3 to 'Friday'", want: "3=Friday"},
		{tasks: home, say: "rename task 1 to Walk the dog on Friday", want: "1=Walk the dog on Friday"},
		{tasks: home, due: dated, say: "remove the due date from task 2", want: "2@", reply: "no due date"},
		{tasks: home, prio: ranked, say: "clear the priority of task 4", want: "4!"},
		{tasks: home, say: "task 3 is due on Friday", want: "3@2026-12-04"},
		{tasks: home, say: "the dentist task is due tomorrow", want: "3@2026-12-02"},
		{tasks: home, say: "task 1 is high priority", want: "1!high"},
		{tasks: home, say: "task 3 due friday", want: "3@2026-12-04"},
		{tasks: home, pre: []string{"add buy stamps"}, say: "make it high priority", want: "5!high"},
		{tasks: home, say: "set the due date of task 3 to the 31st of February", want: "", reply: "When should it be due?"},
		// A statement about a title alone is no request.
		{tasks: home, say: "the rent is due friday", want: ""},
		// Questions: what's due, overdue, of a priority; nothing changes.
		{tasks: home, due: dated, prio: ranked, say: "what's due this week?", want: "", reply: "You have 2 tasks due by Sunday, December 6"},
		{tasks: home, due: dated, prio: ranked, say: "what's due today", want: "", reply: "4. Pay rent (high priority, due Saturday, November 28, overdue)"},
		{tasks: home, due: dated, say: "anything overdue?", want: "", reply: "1 overdue task"},
		{tasks: home, say: "anything overdue?", want: "", reply: "Nothing is overdue"},
		{tasks: home, prio: ranked, say: "show high priority tasks", want: "", reply: "1 high-priority task"},
		{tasks: home, prio: ranked, say: "what's urgent?", want: "", reply: "4. Pay rent"},
		{tasks: home, due: dated, say: "what's due?", want: "", reply: "2 pending tasks with a due date"},
		{tasks: home, due: dated, say: "which tasks are due by friday?", want: "", reply: "due by Friday, December 4"},
		{tasks: home, due: dated, say: "tasks due this month", want: "", reply: "due by Thursday, December 31"},
		{tasks: home, due: dated, say: "what do I have this week?", want: "", reply: "due by Sunday, December 6"},
		{tasks: home, due: dated, say: "show my tasks for tomorrow", want: "", reply: "due by Wednesday, December 2"},
		{tasks: home, say: "show me urgent tasks", want: "", reply: "You have no high-priority pending tasks."},
		{tasks: home, say: "how many have I checked off this week?", want: "", reply: "completed"},
		{say: "add review PR due 2026-12-10", want: "+Review PR@2026-12-10"},
		{say: "add lunch with May", want: "+Lunch with May", reply: "Added \"Lunch with May\" to your tasks (task 1)."},
		{say: "add call my friend Jan", want: "+Call my friend Jan"},
		{say: "add clean the garage this weekend", want: "+Clean the garage this weekend@2026-12-05"},
		{say: "add finish season 2 by next week", want: "+Finish season 2 by next week@2026-12-07"},
		{say: "add prepare the Q4 report end of week", want: "+Prepare the Q4 report end of week@2026-12-04"},
		{say: "add renew passport, due May", want: "+Renew passport@2027-05-01"},
		{tasks: home, prio: ranked, say: "bump task 2 up", want: "2!medium"},
		{tasks: home, prio: ranked, say: "bump up task 1", want: "1!high"},
		{tasks: home, prio: ranked, say: "bump task 4 down", want: "4!medium"},
		{tasks: home, say: "make everything high priority", want: "", reply: "one task at a time"},
		{tasks: home, say: "push all my tasks to Monday", want: "", reply: "one task at a time"},
		{tasks: home, say: "set all tasks due friday", want: "", reply: "one task at a time"},
		{say: "add dentist, due 12/15 at 3:30pm", want: "+Dentist@2026-12-15T15:30:00Z"},
		{tasks: home, say: "what's due tomorrow?", want: "", reply: "You have no pending tasks due by Wednesday, December 2."},
		{tasks: home, due: dated, prio: ranked, say: "show my tasks", want: "", reply: "2. Feed the cat (low priority, due Thursday, December 3)"},
		// The person's time zone: at 14:30 UTC it is 03:30 on the 2nd in
		// Auckland (summer time), 23:30 on the 1st in Tokyo, and 06:30 in
		// Los Angeles.
		{zone: "Pacific/Auckland", say: "add pay rent, due tomorrow", want: "+Pay rent@2026-12-03"},
		{zone: "Asia/Tokyo", say: "add pay rent, due tomorrow", want: "+Pay rent@2026-12-02"},
		{zone: "Asia/Tokyo", say: "add call mom due tomorrow at 9am", want: "+Call mom@2026-12-02T00:00:00Z"},
		{zone: "America/Los_Angeles", say: "add call mom due today at 5pm", want: "+Call mom@2026-12-02T01:00:00Z", reply: "Tuesday, December 1 at 17:00"},
		{zone: "America/Los_Angeles", say: "add call mom due at 6am", want: "+Call mom@2026-12-02T14:00:00Z"},
		{zone: "Asia/Tokyo", tasks: home, due: map[int]string{1: "2026-12-01"}, say: "anything overdue?", want: "", reply: "Nothing is overdue"},
		{zone: "Asia/Tokyo", tasks: home, due: map[int]string{1: "2026-11-30"}, say: "anything overdue?", want: "", reply: "1. Walk the dog"},
		{zone: "Asia/Tokyo", tasks: home, due: map[int]string{1: "2026-12-02T15:30:00Z"}, say: "what's due today?", want: "", reply: "no pending tasks due by Tuesday, December 1"},
		{zone: "Asia/Tokyo", tasks: home, due: map[int]string{1: "2026-12-01T14:00:00Z"}, say: "what's due today?", want: "", reply: "1. Walk the dog"},
	})
}
