package hetznertest

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud/schema"
)

// actionSorts are the sort keys of GET /actions.
var actionSorts = map[string]func(a, b *action) int{
	"id":       func(a, b *action) int { return cmp.Compare(a.id, b.id) },
	"status":   func(a, b *action) int { return cmp.Compare(a.status, b.status) },
	"command":  func(a, b *action) int { return cmp.Compare(a.command, b.command) },
	"started":  func(a, b *action) int { return a.started.Compare(b.started) },
	"finished": func(a, b *action) int { return a.finished.Compare(b.finished) },
	"progress": func(a, b *action) int { return cmp.Compare(progress(a), progress(b)) },
}

func progress(a *action) int {
	if a.status == actionRunning {
		return 0
	}
	return 100
}

// listActions is GET /actions?id=…: the actions with those ids (the API
// requires at least one), sorted, one page at a time. Unknown ids are left
// out, as the API does.
func (s *Server) listActions(r *http.Request, p *project) (int, any, *apiError) {
	q := r.URL.Query()
	if len(q["id"]) == 0 {
		return 0, nil, invalidInput("id", "at least one action id is required")
	}
	ids := make(map[int64]bool)
	for _, v := range q["id"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id < 1 {
			return 0, nil, invalidInput("id", "%q is not an action id", v)
		}
		ids[id] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	page, apiErr := parsePage(q, s.pageSize)
	if apiErr != nil {
		return 0, nil, apiErr
	}
	p.settle(time.Now())
	var found []*action
	for id := range ids {
		if a, ok := p.actions[id]; ok {
			found = append(found, a)
		}
	}
	if apiErr := sortItems(found, q["sort"], actionSorts); apiErr != nil {
		return 0, nil, apiErr
	}
	items, meta := paginate(found, page)
	out := actionList{Actions: make([]schema.Action, 0, len(items))}
	for _, a := range items {
		out.Actions = append(out.Actions, actionSchema(a))
	}
	out.Meta.Pagination = meta
	return http.StatusOK, out, nil
}

// getAction is GET /actions/{id}.
func (s *Server) getAction(r *http.Request, p *project) (int, any, *apiError) {
	id, apiErr := pathID(r)
	if apiErr != nil {
		return 0, nil, apiErr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p.settle(time.Now())
	a, ok := p.actions[id]
	if !ok {
		return 0, nil, notFound("action", id)
	}
	return http.StatusOK, schema.ActionGetResponse{Action: actionSchema(a)}, nil
}

// listServerActions is GET /servers/{id}/actions: the actions of one server,
// filtered by status, sorted, one page at a time; 404 not_found for a
// server the project does not have.
func (s *Server) listServerActions(r *http.Request, p *project) (int, any, *apiError) {
	id, apiErr := pathID(r)
	if apiErr != nil {
		return 0, nil, apiErr
	}
	q := r.URL.Query()
	for _, st := range q["status"] {
		if st != actionRunning && st != actionSuccess && st != actionError {
			return 0, nil, invalidInput("status", "unknown status %q", st)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	page, apiErr := parsePage(q, s.pageSize)
	if apiErr != nil {
		return 0, nil, apiErr
	}
	p.settle(time.Now())
	if p.server(id) == nil {
		return 0, nil, notFound("server", id)
	}
	var found []*action
	for _, a := range p.actions {
		if a.serverID == id && (len(q["status"]) == 0 || slices.Contains(q["status"], a.status)) {
			found = append(found, a)
		}
	}
	if apiErr := sortItems(found, q["sort"], actionSorts); apiErr != nil {
		return 0, nil, apiErr
	}
	items, meta := paginate(found, page)
	out := actionList{Actions: make([]schema.Action, 0, len(items))}
	for _, a := range items {
		out.Actions = append(out.Actions, actionSchema(a))
	}
	out.Meta.Pagination = meta
	return http.StatusOK, out, nil
}
