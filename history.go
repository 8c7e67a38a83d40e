package taskchat

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/taskchat/taskchat/internal/store"
)

// Page limits for the history routes.
const (
	defaultConversationLimit = 20
	defaultMessageLimit      = 50
	maxPageLimit             = 100
)

// pageParams reads ?limit= and ?before= for a keyset page.
func pageParams(r *http.Request, defaultLimit int) (store.Page, error) {
	q := r.URL.Query()
	p := store.Page{Limit: defaultLimit}
	if v := q.Get("limit"); v != "" || q.Has("limit") {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageLimit {
			return p, errorf(http.StatusBadRequest, "invalid_limit", "limit must be a whole number from 1 to %d.", maxPageLimit)
		}
		p.Limit = n
	}
	if v := q.Get("before"); v != "" || q.Has("before") {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return p, errorf(http.StatusBadRequest, "invalid_before", "before must be a positive id taken from next_before.")
		}
		p.Before = n
	}
	return p, nil
}

// conversationID reads {conversation_id}; anything that is not a positive
// integer names no conversation.
func conversationID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("conversation_id"), 10, 64)
	if err != nil || id < 1 {
		return 0, errConversationNotFound
	}
	return id, nil
}

// nextBefore trims a page fetched with one extra row and returns the cursor
// for the next page, or nil at the end.
func nextBefore[T any](rows []T, limit int, id func(T) int64) ([]T, *int64) {
	if len(rows) <= limit {
		return rows, nil
	}
	rows = rows[:limit]
	next := id(rows[limit-1])
	return rows, &next
}

type conversationsResponse struct {
	Conversations []store.Conversation `json:"conversations"`
	NextBefore    *int64               `json:"next_before"`
}

// handleListConversations answers a page of the user's conversations, most
// recently active first.
func handleListConversations(st store.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := pageParams(r, defaultConversationLimit)
		if err != nil {
			writeError(w, r, err)
			return
		}
		limit := p.Limit
		p.Limit++
		convs, err := st.ListConversations(r.Context(), userOf(r), p)
		if err != nil {
			writeError(w, r, err)
			return
		}
		convs, next := nextBefore(convs, limit, func(c store.Conversation) int64 { return c.ID })
		encode(w, http.StatusOK, conversationsResponse{Conversations: convs, NextBefore: next})
	})
}

// messagesPage loads a page of messages, oldest first, and its cursor.
func messagesPage(r *http.Request, st store.Store, convID int64, p store.Page) ([]store.Message, *int64, error) {
	limit := p.Limit
	p.Limit++
	msgs, err := st.ListMessages(r.Context(), userOf(r), convID, p)
	if err != nil {
		return nil, nil, err
	}
	msgs, next := nextBefore(msgs, limit, func(m store.Message) int64 { return m.ID })
	slices.Reverse(msgs)
	return msgs, next, nil
}

// messagesParams reads the conversation id and the page of messages asked for.
func messagesParams(r *http.Request) (int64, store.Page, error) {
	id, err := conversationID(r)
	if err != nil {
		return 0, store.Page{}, err
	}
	p, err := pageParams(r, defaultMessageLimit)
	return id, p, err
}

type conversationResponse struct {
	Conversation store.Conversation `json:"conversation"`
	Messages     []store.Message    `json:"messages"`
	NextBefore   *int64             `json:"next_before"`
}

// handleGetConversation answers a conversation with its latest page of messages.
func handleGetConversation(st store.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, p, err := messagesParams(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		conv, err := st.GetConversation(r.Context(), userOf(r), id)
		if err != nil {
			writeError(w, r, err)
			return
		}
		msgs, next, err := messagesPage(r, st, id, p)
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusOK, conversationResponse{Conversation: conv, Messages: msgs, NextBefore: next})
	})
}

type messagesResponse struct {
	ConversationID int64           `json:"conversation_id"`
	Messages       []store.Message `json:"messages"`
	NextBefore     *int64          `json:"next_before"`
}

// handleListMessages answers a page of a conversation's messages.
func handleListMessages(st store.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, p, err := messagesParams(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		msgs, next, err := messagesPage(r, st, id, p)
		if err != nil {
			writeError(w, r, err)
			return
		}
		encode(w, http.StatusOK, messagesResponse{ConversationID: id, Messages: msgs, NextBefore: next})
	})
}

// handleDeleteConversation deletes a conversation and its messages.
func handleDeleteConversation(st store.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := conversationID(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if err := st.DeleteConversation(r.Context(), userOf(r), id); err != nil {
			writeError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
