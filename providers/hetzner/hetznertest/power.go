package hetznertest

import (
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud/schema"
)

// The power and resize actions, as the API names their commands.
const (
	CommandShutdownServer   = "shutdown_server"
	CommandPoweroffServer   = "stop_server"
	CommandChangeServerType = "change_server_type"
)

// serverAction starts an action on the server of the path: 404 for a
// server the project does not have, 423 locked while another action runs
// on it (unless SetLocking(false)) or while it is being deleted. check, if
// set, refuses the action given the server.
func (s *Server) serverAction(r *http.Request, p *project, command, arg string, check func(*server) *apiError) (int, any, *apiError) {
	id, apiErr := pathID(r)
	if apiErr != nil {
		return 0, nil, apiErr
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	p.settle(now)
	srv := p.server(id)
	if srv == nil {
		return 0, nil, notFound("server", id)
	}
	if srv.deleting != nil || (!s.noLocks && p.busy(id)) {
		return 0, nil, &apiError{status: http.StatusLocked, code: "locked", message: "server is locked: an action is running"}
	}
	if check != nil {
		if apiErr := check(srv); apiErr != nil {
			return 0, nil, apiErr
		}
	}
	a := p.startAction(now, s.cfg.actionDuration, command, id)
	a.arg = arg
	return http.StatusCreated, schema.ActionGetResponse{Action: actionSchema(a)}, nil
}

// poweron is POST /servers/{id}/actions/poweron: a start_server action.
func (s *Server) poweron(r *http.Request, p *project) (int, any, *apiError) {
	return s.serverAction(r, p, commandStart, "", nil)
}

// shutdown is POST /servers/{id}/actions/shutdown: the guest is asked to
// shut down (the emulated guest always complies), and the server is off
// when the action ends.
func (s *Server) shutdown(r *http.Request, p *project) (int, any, *apiError) {
	return s.serverAction(r, p, CommandShutdownServer, "", nil)
}

// poweroff is POST /servers/{id}/actions/poweroff: the server is cut off.
func (s *Server) poweroff(r *http.Request, p *project) (int, any, *apiError) {
	return s.serverAction(r, p, CommandPoweroffServer, "", nil)
}

// changeType is POST /servers/{id}/actions/change_type: the server must be
// off (else 409 server_not_stopped) and the type known (else 400
// invalid_input); the server has the new type when the action ends.
func (s *Server) changeType(r *http.Request, p *project) (int, any, *apiError) {
	var req schema.ServerActionChangeTypeRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		return 0, nil, &apiError{status: http.StatusBadRequest, code: "json_error", message: "invalid JSON: " + err.Error()}
	}
	name := req.ServerType.Name
	if req.ServerType.ID > 0 && int(req.ServerType.ID) <= len(s.cfg.serverTypes) {
		name = s.cfg.serverTypes[req.ServerType.ID-1]
	}
	if !s.knownServerType(name) {
		return 0, nil, invalidInput("server_type", "server type %s not found", idOrName(req.ServerType))
	}
	return s.serverAction(r, p, CommandChangeServerType, name, func(srv *server) *apiError {
		if srv.Status != StatusOff {
			return &apiError{status: http.StatusConflict, code: "server_not_stopped", message: "the server must be off to change its type"}
		}
		if apiErr := s.capacity(name, srv.Location); apiErr != nil {
			return apiErr
		}
		return nil
	})
}
