package main

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/cloudswitch/cloudswitch/store/sqlstore"
)

// Lists are paged: GET /workspaces?limit=N&cursor=ID answers at most N
// workspaces (defaultPageSize when limit is absent, never more than
// maxPageSize), in id order, after the workspace ID, and next_cursor names
// the cursor of the next page (absent on the last). A page is read whole
// from the database before the first byte goes out, so a client that reads
// slowly — or never — holds no database connection: it cannot pin the pool.
const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

// pageJSON is one page of GET /workspaces.
type pageJSON struct {
	Workspaces []workspaceJSON `json:"workspaces"`
	// Skipped are the records of this page that could not be decoded: they
	// are left out and named, so that the page is still valid JSON and the
	// rest of the list still readable. The server's log says why, under the
	// request id.
	Skipped    []skippedJSON `json:"skipped"`
	NextCursor string        `json:"next_cursor,omitempty"`
}

type skippedJSON struct {
	ID     string `json:"id"`
	Detail string `json:"detail"`
}

// listWorkspaces serves GET /workspaces, one page at a time.
func (a *api) listWorkspaces(w http.ResponseWriter, r *http.Request) {
	limit, cursor, ok := pageParams(w, r)
	if !ok || !a.allowed(w, r, authzRequest{Action: actionList}) {
		return
	}
	page := pageJSON{Workspaces: []workspaceJSON{}, Skipped: []skippedJSON{}}
	n, last, more := 0, "", false
	for ws, err := range a.store.List(r.Context()) {
		var undecodable *sqlstore.DecodeError
		id := ws.ID
		switch {
		case errors.As(err, &undecodable):
			id = undecodable.WorkspaceID
		case err != nil:
			a.fail(w, r, storeProblem("", err), err)
			return
		}
		if cursor != "" && id <= cursor {
			continue
		}
		if n == limit {
			more = true
			break
		}
		n, last = n+1, id
		if undecodable != nil {
			a.logger.Error("listing workspaces: a record does not decode, skipped",
				"request_id", requestID(r), "workspace", id, "err", err)
			page.Skipped = append(page.Skipped, skippedJSON{ID: id,
				Detail: "the stored record could not be decoded; the server's log says why, under this request's id"})
			continue
		}
		page.Workspaces = append(page.Workspaces, workspaceOf(ws))
	}
	if more {
		page.NextCursor = last
	}
	writeJSON(w, http.StatusOK, page)
}

// pageParams reads limit and cursor, answering 400 when they are not valid.
func pageParams(w http.ResponseWriter, r *http.Request) (limit int, cursor string, ok bool) {
	q := r.URL.Query()
	limit = defaultPageSize
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxPageSize || strconv.Itoa(n) != s {
			v := s
			if len(v) > 32 {
				v = v[:32]
			}
			writeProblem(w, problem{Type: typeInvalid, Title: "Invalid limit", Status: http.StatusBadRequest,
				Field: "limit", Value: &v, Detail: "limit is a page size from 1 to " + strconv.Itoa(maxPageSize)})
			return 0, "", false
		}
		limit = n
	}
	cursor = q.Get("cursor")
	if cursor != "" && !workspaceID.MatchString(cursor) {
		writeProblem(w, problem{Type: typeInvalid, Title: "Invalid cursor", Status: http.StatusBadRequest, Field: "cursor",
			Detail: "cursor is the next_cursor of the previous page"})
		return 0, "", false
	}
	return limit, cursor, true
}
