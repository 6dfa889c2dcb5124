package hetznertest

import (
	"crypto/subtle"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/cloudswitch/cloudswitch/providers/emulator"
)

// handlerFunc performs one call and returns its answer: a status and a body
// to encode as JSON, or an API error. It runs after the faults and the token
// check; the answer may still be dropped.
type handlerFunc func(r *http.Request, p *project) (int, any, *apiError)

// routes maps every endpoint the emulator serves; anything else is answered
// 404 not_found, as the API does.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(OpCreateServer, s.handle(OpCreateServer, s.createServer))
	mux.Handle(OpListServers, s.handle(OpListServers, s.listServers))
	mux.Handle(OpGetServer, s.handle(OpGetServer, s.getServer))
	mux.Handle(OpDeleteServer, s.handle(OpDeleteServer, s.deleteServer))
	mux.Handle(OpListActions, s.handle(OpListActions, s.listActions))
	mux.Handle(OpListServerActions, s.handle(OpListServerActions, s.listServerActions))
	mux.Handle(OpGetAction, s.handle(OpGetAction, s.getAction))
	mux.Handle(OpListSSHKeys, s.handle(OpListSSHKeys, s.listSSHKeys))
	mux.Handle(OpGetSSHKey, s.handle(OpGetSSHKey, s.getSSHKey))
	mux.Handle(OpPoweronServer, s.handle(OpPoweronServer, s.poweron))
	mux.Handle(OpShutdownServer, s.handle(OpShutdownServer, s.shutdown))
	mux.Handle(OpPoweroffServer, s.handle(OpPoweroffServer, s.poweroff))
	mux.Handle(OpChangeServerType, s.handle(OpChangeServerType, s.changeType))
	mux.Handle(OpListPlacementGroups, s.handle(OpListPlacementGroups, s.listPlacementGroups))
	mux.Handle(OpCreatePlacementGroup, s.handle(OpCreatePlacementGroup, s.createPlacementGroup))
	mux.Handle(OpListServerTypes, s.handle(OpListServerTypes, s.listServerTypes))
	mux.Handle(OpListLocations, s.handle(OpListLocations, s.listLocations))
	mux.Handle(OpListImages, s.handle(OpListImages, s.listImages))
	mux.Handle(OpGetImage, s.handle(OpGetImage, s.getImage))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{status: http.StatusNotFound, code: "not_found", message: "no such endpoint: " + r.Method + " " + r.URL.Path})
	})
	return mux
}

// handle runs a call through the fault injector and the token check.
func (s *Server) handle(op string, h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		d := s.faults.Take(r.Context(), op)
		if d.Fail() {
			writeError(w, &apiError{status: d.Status, code: d.Code, message: d.Message})
			return
		}
		p := s.projectOf(r)
		if p == nil {
			writeError(w, errUnauthorized)
			return
		}
		status, body, apiErr := h(r, p)
		if d.Drop {
			emulator.DropConnection(w)
			return
		}
		if apiErr != nil {
			writeError(w, apiErr)
			return
		}
		writeJSON(w, status, body)
	}
}

// projectOf returns the project whose token r bears, or nil.
func (s *Server) projectOf(r *http.Request) *project {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	switch {
	case !ok:
		return nil
	case subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.token)) == 1:
		return s.project
	case subtle.ConstantTimeCompare([]byte(got), []byte(s.otherToken)) == 1:
		return s.other
	}
	return nil
}

// pathID reads the {id} of a path.
func pathID(r *http.Request) (int64, *apiError) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, invalidInput("id", "must be a positive integer")
	}
	return id, nil
}

// sortItems orders items by the sort parameters ("key", "key:asc",
// "key:desc"), then by id; keys maps each allowed key to its comparison.
func sortItems[T any](items []T, params []string, keys map[string]func(a, b T) int) *apiError {
	type order struct {
		cmp  func(a, b T) int
		desc bool
	}
	var orders []order
	for _, p := range params {
		key, dir, _ := strings.Cut(p, ":")
		cmp, ok := keys[key]
		if !ok || (dir != "" && dir != "asc" && dir != "desc") {
			return invalidInput("sort", "unknown sort %q", p)
		}
		orders = append(orders, order{cmp, dir == "desc"})
	}
	orders = append(orders, order{cmp: keys["id"]})
	slices.SortStableFunc(items, func(a, b T) int {
		for _, o := range orders {
			c := o.cmp(a, b)
			if o.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	return nil
}
