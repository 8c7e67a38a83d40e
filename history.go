package taskchat

import (
	"fmt"
	"net/http"
	"net/url"
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
			return p, errorf(http.StatusBadRequest, "invalid_before", "before must be a positive id, as the Link header's next page gives it.")
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

// setNextLink says where the next page is, as GitHub's API does (RFC 8288):
// this request's path and query with ?before= the cursor.
func setNextLink(w http.ResponseWriter, r *http.Request, next *int64) {
	if next == nil {
		return
	}
	q := r.URL.Query()
	q.Set("before", strconv.FormatInt(*next, 10))
	u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
	w.Header().Set("Link", fmt.Sprintf("<%s>; rel=\"next\"", u.String()))
}

// conversationsPage loads a page of the user's conversations.
func conversationsPage(w http.ResponseWriter, r *http.Request, st store.Store) ([]store.Conversation, bool) {
	p, err := pageParams(r, defaultConversationLimit)
	if err != nil {
		writeError(w, r, err)
		return nil, false
	}
	limit := p.Limit
	p.Limit++
	convs, err := st.ListConversations(r.Context(), userOf(r), p)
	if err != nil {
		writeError(w, r, err)
		return nil, false
	}
	convs, next := nextBefore(convs, limit, func(c store.Conversation) int64 { return c.ID })
	setNextLink(w, r, next)
	return convs, true
}

// handleListConversations answers a page of the user's conversations, most
// recently active first, as a bare array.
func handleListConversations(st store.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if convs, ok := conversationsPage(w, r, st); ok {
			encode(w, http.StatusOK, convs)
		}
	})
}

// handleTokenConversations is the conversation list of the routes that take
// the user from the token. The surveyed frontends that call it read it
// under "conversations" (DoniaBatool) and under "data" (ANOOSHA-QASIM), so
// it carries both.
func handleTokenConversations(st store.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if convs, ok := conversationsPage(w, r, st); ok {
			encode(w, http.StatusOK, map[string]any{"conversations": convs, "data": convs})
		}
	})
}

// messagesPage loads a page of a conversation's messages, oldest first,
// and says where the next (older) page is.
func messagesPage(w http.ResponseWriter, r *http.Request, st store.Store, convID int64) ([]store.Message, *int64, bool) {
	p, err := pageParams(r, defaultMessageLimit)
	if err != nil {
		writeError(w, r, err)
		return nil, nil, false
	}
	limit := p.Limit
	p.Limit++
	msgs, err := st.ListMessages(r.Context(), userOf(r), convID, p)
	if err != nil {
		writeError(w, r, err)
		return nil, nil, false
	}
	msgs, next := nextBefore(msgs, limit, func(m store.Message) int64 { return m.ID })
	msgs, next = capBytes(msgs, next)
	slices.Reverse(msgs)
	setNextLink(w, r, next)
	return msgs, next, true
}

// maxPageBytes bounds a page of messages in bytes as well as rows: a page
// ends early, its next link at the last message it holds, when one more
// would pass it. It always holds at least one message.
const maxPageBytes = 1 << 20

// capBytes cuts a page of messages, newest first, to maxPageBytes.
func capBytes(msgs []store.Message, next *int64) ([]store.Message, *int64) {
	size := 0
	for i, m := range msgs {
		n := 128 + len(m.Content)
		for _, c := range m.ToolCalls {
			n += 64 + 2*len(c.Arguments) + len(c.Result) // arguments are shown twice, as "args" too
		}
		if i > 0 && size+n > maxPageBytes {
			id := msgs[i-1].ID
			return msgs[:i], &id
		}
		size += n
	}
	return msgs, next
}

type conversationResponse struct {
	Conversation   store.Conversation `json:"conversation"`
	ConversationID int64              `json:"conversation_id"`
	Messages       []store.Message    `json:"messages"`
	NextBefore     *int64             `json:"next_before"`
}

// handleGetConversation answers a conversation with its latest page of messages.
func handleGetConversation(st store.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := conversationID(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		conv, err := st.GetConversation(r.Context(), userOf(r), id)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if msgs, next, ok := messagesPage(w, r, st, id); ok {
			encode(w, http.StatusOK, conversationResponse{Conversation: conv, ConversationID: id, Messages: msgs, NextBefore: next})
		}
	})
}

// handleListMessages answers a page of a conversation's messages as a bare
// array, oldest first.
func handleListMessages(st store.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := conversationID(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if msgs, _, ok := messagesPage(w, r, st, id); ok {
			encode(w, http.StatusOK, msgs)
		}
	})
}

// tokenMessages is a page of messages as the token routes answer it: under
// "messages" with the conversation's id (DoniaBatool's frontend) and under
// "data" (ANOOSHA-QASIM's).
type tokenMessages struct {
	ConversationID *int64          `json:"conversation_id"`
	Messages       []store.Message `json:"messages"`
	Data           []store.Message `json:"data"`
}

// handleTokenMessages is handleListMessages for the routes that take the
// user from the token.
func handleTokenMessages(st store.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := conversationID(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if msgs, _, ok := messagesPage(w, r, st, id); ok {
			encode(w, http.StatusOK, tokenMessages{ConversationID: &id, Messages: msgs, Data: msgs})
		}
	})
}

// handleLatestConversation answers the most recently active conversation's
// latest messages, or a null conversation_id and no messages.
func handleLatestConversation(st store.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		convs, err := st.ListConversations(r.Context(), userOf(r), store.Page{Limit: 1})
		if err != nil {
			writeError(w, r, err)
			return
		}
		if len(convs) == 0 {
			encode(w, http.StatusOK, tokenMessages{Messages: []store.Message{}, Data: []store.Message{}})
			return
		}
		id := convs[0].ID
		if msgs, _, ok := messagesPage(w, r, st, id); ok {
			encode(w, http.StatusOK, tokenMessages{ConversationID: &id, Messages: msgs, Data: msgs})
		}
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

// handleDeleteConversations deletes all the user's conversations.
func handleDeleteConversations(st store.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := st.DeleteConversations(r.Context(), userOf(r)); err != nil {
			writeError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
