package taskchat_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// A call a surveyed frontend makes, as its code makes it (see the README's
// "Switching from a FastAPI backend"), and the fields it reads from the
// answer. {uid}, {task} and {conv} are filled in as its flow goes: the user,
// the task it last created and the conversation its last chat answered in.
type frontendCall struct {
	method, path, body string
	reads              []string // "field:type" paths; [] walks an array; type is number, string, bool, array, object, null, or a|b
}

type frontend struct {
	name  string
	token bool // sends Authorization: Bearer
	calls []frontendCall
}

var surveyedFrontends = []frontend{
	{"Asim04/Hackathon-II", true, []frontendCall{
		{"POST", "/api/{uid}/tasks", `{"title":"Buy milk","description":"2 litres"}`, []string{"id:number", "title:string", "description:string|null", "completed:bool"}},
		{"GET", "/api/{uid}/tasks", "", []string{"[].id:number", "[].title:string", "[].completed:bool", "[].created_at:string"}},
		{"GET", "/api/{uid}/tasks?status=pending", "", []string{"[].id:number"}},
		{"GET", "/api/{uid}/tasks/{task}", "", []string{"id:number", "title:string"}},
		{"PUT", "/api/{uid}/tasks/{task}", `{"title":"Buy oat milk","description":"1 litre"}`, []string{"title:string"}},
		{"PATCH", "/api/{uid}/tasks/{task}/complete", "", []string{"completed:bool"}},
		{"POST", "/api/{uid}/chat", `{"message":"Add a task to walk the dog","conversation_id":null}`, []string{"conversation_id:number", "message:string", "tool_calls[].tool:string", "tool_calls[].result:object"}},
		{"POST", "/api/{uid}/chat", `{"message":"What's pending?","conversation_id":{conv}}`, []string{"conversation_id:number", "message:string"}},
		{"DELETE", "/api/{uid}/tasks/{task}", "", nil},
		{"GET", "/health", "", []string{"status:string"}},
	}},
	{"DoniaBatool/TODO-Chatbot-Phase3", true, []frontendCall{
		{"POST", "/api/tasks", `{"title":"Plan the trip","description":""}`, []string{"id:number", "title:string", "completed:bool"}},
		{"GET", "/api/tasks", "", []string{"[].id:number", "[].title:string", "[].description:string|null", "[].completed:bool", "[].created_at:string", "[].updated_at:string"}},
		{"PUT", "/api/tasks/{task}", `{"title":"Plan the trip to Rome","description":"in May"}`, []string{"title:string", "description:string"}},
		{"PATCH", "/api/tasks/{task}/complete", `{"completed":true}`, []string{"completed:bool"}},
		{"POST", "/api/{uid}/chat", `{"conversation_id":null,"message":"Add a task to book the hotel"}`, []string{"conversation_id:number", "response:string", "tool_calls[].tool:string", "tool_calls[].result:object"}},
		{"GET", "/api/conversations", "", []string{"conversations[].id:number", "conversations[].title:string", "conversations[].created_at:string", "conversations[].updated_at:string", "conversations[].message_count:number"}},
		{"GET", "/api/conversations/latest", "", []string{"conversation_id:number"}},
		{"GET", "/api/conversations/{conv}/messages", "", []string{"messages[].id:number", "messages[].role:string", "messages[].content:string", "messages[].tool_calls:array", "messages[].created_at:string"}},
		{"DELETE", "/api/tasks/{task}", "", nil},
		{"DELETE", "/api/conversations/{conv}", "", nil},
		{"DELETE", "/api/conversations", "", nil},
	}},
	{"saadraza62186/TODO-APP-FULL-STACK", true, []frontendCall{
		{"POST", "/api/{uid}/tasks", `{"title":"Water plants","description":null}`, []string{"id:number", "user_id:string", "description:null"}},
		{"GET", "/api/{uid}/tasks?status=all&sort=created", "", []string{"[].id:number", "[].user_id:string", "[].title:string"}},
		{"GET", "/api/{uid}/tasks?status=completed&sort=title", "", nil},
		{"GET", "/api/{uid}/tasks?status=pending&sort=updated", "", []string{"[].id:number"}},
		{"GET", "/api/{uid}/tasks/{task}", "", []string{"id:number"}},
		{"PUT", "/api/{uid}/tasks/{task}", `{"title":"Water the plants","description":"the ferns","completed":false}`, []string{"title:string"}},
		{"PATCH", "/api/{uid}/tasks/{task}/complete", `{"completed":true}`, []string{"completed:bool"}},
		{"POST", "/api/{uid}/chat", `{"message":"Show me all my tasks"}`, []string{"conversation_id:number", "response:string", "tool_calls[].tool:string"}},
		{"DELETE", "/api/{uid}/tasks/{task}", "", nil},
		{"GET", "/health", "", []string{"status:string"}},
	}},
	{"salmansalim1/hackathon-todo", false, []frontendCall{
		{"POST", "/api/demo-user/chat", `{"conversation_id":null,"message":"Add a task to buy bread"}`, []string{"conversation_id:number", "response:string"}},
		{"POST", "/api/demo-user/chat", `{"conversation_id":{conv},"message":"Show my tasks"}`, []string{"conversation_id:number", "response:string"}},
	}},
	{"nida1khurram/todo-chatbot-phase3", true, []frontendCall{
		{"POST", "/api/{uid}/chat", `{"message":"Add a task to call the bank"}`, []string{"conversation_id:number", "response:string", "tool_calls:array"}},
		{"POST", "/api/{uid}/chat", `{"message":"What's pending?","conversation_id":"{conv}"}`, []string{"conversation_id:number", "response:string"}},
	}},
	{"MAHABRIZWAN4/PHASE-III-TODO-CHATBOT-INTEGRATION", true, []frontendCall{
		{"POST", "/api/tasks", `{"title":"Renew passport","description":"before June"}`, []string{"id:number"}},
		{"GET", "/api/tasks", "", []string{"[].id:number", "[].title:string"}},
		{"GET", "/api/tasks/{task}", "", []string{"id:number"}},
		{"PUT", "/api/tasks/{task}", `{"title":"Renew the passport"}`, []string{"title:string"}},
		{"PATCH", "/api/tasks/{task}/complete", "", []string{"completed:bool"}},
		{"POST", "/api/{uid}/chat", `{"message":"Add a task to pay the bills"}`, []string{"conversation_id:number", "response:string"}},
		{"GET", "/api/{uid}/conversations", "", []string{"[].id:number", "[].title:string"}},
		{"GET", "/api/{uid}/conversations/{conv}/messages", "", []string{"[].role:string", "[].content:string"}},
		{"DELETE", "/api/tasks/{task}", "", nil},
	}},
	{"laibatheAI/H2-P3-Todo-chatbot", true, []frontendCall{
		{"POST", "/api/tasks", `{"title":"Clean the desk"}`, []string{"id:number"}},
		{"PATCH", "/api/tasks/{task}/toggle", "", []string{"completed:bool"}},
		{"GET", "/api/health", "", []string{"status:string"}},
	}},
	{"shoaibharoon10/todo-ai-chatbot-phase3", true, []frontendCall{
		{"POST", "/api/tasks", `{"title":"Stretch","description":"10 minutes"}`, []string{"id:number", "title:string"}},
		{"GET", "/api/tasks?status=pending&sort=created", "", []string{"[].id:number", "[].title:string", "[].completed:bool"}},
		{"GET", "/api/tasks/{task}", "", []string{"id:number"}},
		{"PUT", "/api/tasks/{task}", `{"title":"Stretch for 10 minutes"}`, []string{"title:string"}},
		{"PATCH", "/api/tasks/{task}/complete", "", []string{"completed:bool"}},
		{"POST", "/api/{uid}/chat", `{"message":"Add a task to read a chapter","conversation_id":null,"user_name":"Shoaib","user_email":"s@example.com"}`,
			[]string{"response:string", "conversation_id:number", "tool_calls[].tool:string", "tool_calls[].args:object", "tool_calls[].result:object"}},
		{"GET", "/api/{uid}/conversations", "", []string{"[].id:number"}},
		{"GET", "/api/{uid}/conversations/{conv}/messages", "", []string{"[].id:number", "[].role:string", "[].content:string"}},
		{"DELETE", "/api/tasks/{task}", "", nil},
	}},
	// Its task page reads the tasks inside a {"data": …} envelope, which
	// taskchat does not answer: the bare arrays the others read win. The
	// calls themselves work.
	{"Aliyano0/Todolist-Hackathon-Phase-3", true, []frontendCall{
		{"POST", "/api/{uid}/tasks", `{"title":"Fix the bike","description":"the brakes"}`, nil},
		{"POST", "/api/{uid}/chat", `{"message":"Add a task to fix the bike","conversation_id":null}`, []string{"conversation_id:number", "message:string"}},
		{"PATCH", "/api/{uid}/tasks/{task}/toggle", "", []string{"completed:bool"}},
	}},
	{"ANOOSHA-QASIM/phase3_todo_chatbot", true, []frontendCall{
		{"POST", "/api/tasks/", `{"title":"Send invoices","description":"to both clients"}`, []string{"id:number", "title:string"}},
		{"GET", "/api/tasks/", "", []string{"[].id:number", "[].title:string"}},
		{"POST", "/api/chat", `{"message":"Add a task to email Sara"}`, []string{"message:string", "conversation_id:number"}},
		{"GET", "/api/conversations", "", []string{"data[].id:number", "data[].user_id:string", "data[].created_at:string"}},
		{"GET", "/api/conversations/{conv}/messages", "", []string{"data[].id:number", "data[].role:string", "data[].content:string", "data[].created_at:string"}},
	}},
	{"MuhammadArsalan294/Hackathon-2-Phase-3-Todo-Ai-Chatbot", true, []frontendCall{
		{"POST", "/api/tasks", `{"title":"Submit the report"}`, []string{"id:number"}},
		{"GET", "/api/tasks", "", []string{"[].id:number"}},
		{"PUT", "/api/tasks/{task}", `{"title":"Submit the final report","description":"PDF"}`, []string{"title:string"}},
		{"PATCH", "/api/tasks/{task}/complete", `{"completed":true}`, []string{"completed:bool"}},
		{"POST", "/chat", `{"message":"What have I completed?"}`, []string{"conversation_id:number", "response:string", "tool_calls:array"}},
		{"DELETE", "/api/tasks/{task}", "", nil},
	}},
}

// TestSurveyedFrontends replays, route by route, the calls the surveyed
// frontends make (those taskchat serves; the README lists the rest), with
// their exact bodies, and checks the fields each one reads.
func TestSurveyedFrontends(t *testing.T) {
	eachStore(t, func(t *testing.T, env map[string]string) {
		for i, fe := range surveyedFrontends {
			t.Run(fe.name, func(t *testing.T) {
				e := map[string]string{}
				for k, v := range env {
					e[k] = v
				}
				if fe.token {
					e["AUTH_SECRET"] = secret
				}
				h := newApp(t, e)
				uid := fmt.Sprintf("user-%d", i)
				tok := signer{method: jwt.SigningMethodHS256, key: []byte(secret)}.sign(t, claimsFor(uid))
				vars := map[string]string{"{uid}": uid, "{task}": "0", "{conv}": "0"}
				for _, c := range fe.calls {
					fill := func(s string) string {
						for k, v := range vars {
							s = strings.ReplaceAll(s, k, v)
						}
						return s
					}
					path, body := fill(c.path), fill(c.body)
					hs := []string{}
					if body != "" {
						hs = append(hs, "Content-Type", "application/json")
					}
					if fe.token {
						hs = append(hs, "Authorization", "Bearer "+tok)
					}
					res := do(t, h, c.method, path, strings.NewReader(body), hs...)
					if res.Code < 200 || res.Code > 299 {
						t.Errorf("%s %s %s = %d %s", c.method, path, body, res.Code, res.Body)
						continue
					}
					var v any
					if res.Body.Len() > 0 {
						if err := json.Unmarshal(res.Body.Bytes(), &v); err != nil {
							t.Errorf("%s %s: %v", c.method, path, err)
							continue
						}
					}
					for _, r := range c.reads {
						if err := readField(v, r); err != nil {
							t.Errorf("%s %s: reading %s: %v in %s", c.method, path, r, err, res.Body)
						}
					}
					if obj, ok := v.(map[string]any); ok {
						if id, ok := obj["id"].(float64); ok && c.method == "POST" && strings.HasSuffix(strings.TrimSuffix(c.path, "/"), "/tasks") {
							vars["{task}"] = fmt.Sprint(int64(id))
						}
						if cid, ok := obj["conversation_id"].(float64); ok {
							vars["{conv}"] = fmt.Sprint(int64(cid))
						}
					}
				}
			})
		}
	})
}

// readField follows a path such as "tool_calls[].result:object" into v and
// checks what it finds there.
func readField(v any, spec string) error {
	path, want, _ := strings.Cut(spec, ":")
	vals := []any{v}
	for _, part := range strings.Split(path, ".") {
		name, isArray := strings.CutSuffix(part, "[]")
		var next []any
		for _, x := range vals {
			if name != "" {
				obj, ok := x.(map[string]any)
				if !ok {
					return fmt.Errorf("%v is not an object", x)
				}
				f, ok := obj[name]
				if !ok {
					return fmt.Errorf("no field %q", name)
				}
				x = f
			}
			if isArray {
				arr, ok := x.([]any)
				if !ok || len(arr) == 0 {
					return fmt.Errorf("%q is not a non-empty array", part)
				}
				next = append(next, arr...)
			} else {
				next = append(next, x)
			}
		}
		vals = next
	}
	for _, x := range vals {
		got := "object"
		switch x.(type) {
		case nil:
			got = "null"
		case float64:
			got = "number"
		case string:
			got = "string"
		case bool:
			got = "bool"
		case []any:
			got = "array"
		}
		if !strings.Contains("|"+want+"|", "|"+got+"|") {
			return fmt.Errorf("is %s, want %s", got, want)
		}
	}
	return nil
}
