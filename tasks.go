package taskchat

import (
	"net/http"

	"github.com/taskchat/taskchat/internal/store"
)

type tasksResponse struct {
	Tasks []store.Task `json:"tasks"`
}

// handleListTasks answers the user's tasks, all or by status.
func handleListTasks(tasks store.Tasks) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := store.ParseTaskFilter(r.URL.Query().Get("status"))
		if !ok {
			writeError(w, r, errorf(http.StatusBadRequest, "invalid_status", "status must be all, pending or completed."))
			return
		}
		ts, err := tasks.ListTasks(r.Context(), userOf(r), f)
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusOK, tasksResponse{Tasks: ts})
	})
}
