package hetznertest

import (
	"net/http"
	"time"

	"github.com/cloudswitch/cloudswitch/providers/emulator"
)

// The operations of the emulator, for Fault.Op and CallCount: the method and
// path pattern of each call the driver makes.
const (
	OpCreateServer = "POST /servers"
	OpListServers  = "GET /servers"
	OpGetServer    = "GET /servers/{id}"
	OpDeleteServer = "DELETE /servers/{id}"
	// OpListServerActions is GET /servers/{id}/actions.
	OpListServerActions = "GET /servers/{id}/actions"
	OpListActions       = "GET /actions"
	OpGetAction         = "GET /actions/{id}"
	OpListSSHKeys       = "GET /ssh_keys"
	// The power and resize actions of a server.
	OpPoweronServer    = "POST /servers/{id}/actions/poweron"
	OpShutdownServer   = "POST /servers/{id}/actions/shutdown"
	OpPoweroffServer   = "POST /servers/{id}/actions/poweroff"
	OpChangeServerType = "POST /servers/{id}/actions/change_type"
	// Placement groups.
	OpListPlacementGroups  = "GET /placement_groups"
	OpCreatePlacementGroup = "POST /placement_groups"
	// The catalog: server types, locations and images.
	OpListServerTypes = "GET /server_types"
	OpListLocations   = "GET /locations"
	OpListImages      = "GET /images"
	OpGetImage        = "GET /images/{id}"
	// OpGetSSHKey is GET /ssh_keys/{id}.
	OpGetSSHKey = "GET /ssh_keys/{id}"
)

// ops are the operations of the emulator, as Inject checks Fault.Op.
var ops = []string{OpCreateServer, OpListServers, OpGetServer, OpDeleteServer,
	OpListServerActions, OpListActions, OpGetAction, OpListSSHKeys, OpGetSSHKey,
	OpPoweronServer, OpShutdownServer, OpPoweroffServer, OpChangeServerType,
	OpListPlacementGroups, OpCreatePlacementGroup,
	OpListServerTypes, OpListLocations, OpListImages, OpGetImage}

// Fault is a scripted misbehaviour of the API: the shape every emulator of
// this module takes. Its Op is one of the Op constants.
type Fault = emulator.Fault

// Inject queues f after the faults already queued; of several faults for an
// operation, the first queued applies first. A failing fault answers with
// its Status and, when Code is set, the API's error envelope
// {"error":{"code":Code,"message":Message}} as application/json (an empty
// Message gets the API's usual one). Without a Code the body is plain text,
// as from a proxy in front of the API, which hcloud-go reports as
// hcloud.ErrStatusCode. (net/http sends a GET again once when a reused
// connection breaks, so to be sure a listing sees a Drop, script it for two
// calls.) A fault whose Op is not one of the Op constants (nor "") never
// applies: Inject returns an error matching emulator.ErrUnknownOp, and
// reports it as a test error for a server made by NewServer.
func (s *Server) Inject(f Fault) error {
	if err := emulator.CheckOp(f.Op, ops); err != nil {
		return s.misuse("Inject: %w", err)
	}
	s.faults.Add(f)
	return nil
}

// ClearFaults drops every queued fault; latency and listing lag stay.
func (s *Server) ClearFaults() { s.faults.Clear() }

// SetLatency adds d to every call.
func (s *Server) SetLatency(d time.Duration) { s.faults.SetLatency(d) }

// SetListLag makes servers created from now on invisible to GET /servers
// (listings and lookups by name alike) for d, as a cloud whose listings
// lag behind. GET /servers/{id} and Servers see them at once.
func (s *Server) SetListLag(d time.Duration) { s.faults.SetListLag(d) }

// SetPageSize caps per_page of every listing at n (0: no cap beyond the
// API's 50), so that a client must follow more pages.
func (s *Server) SetPageSize(n int) {
	s.mu.Lock()
	s.pageSize = max(n, 0)
	s.mu.Unlock()
}

// CallCount returns how many calls op received ("" for every operation),
// failed and unauthorized calls included.
func (s *Server) CallCount(op string) int { return s.faults.CallCount(op) }

// ResetCalls zeroes the call counts.
func (s *Server) ResetCalls() { s.faults.ResetCalls() }

// ActionFailure makes actions end in status "error", as the Hetzner Cloud
// API reference ("Actions": an action's status is running, success or
// error, with error.code and error.message) says any action may. A failed
// create_server leaves the server in the project, "off" (its start_server
// next action fails with it); a failed delete_server leaves the server as
// it was before the delete. What Hetzner does with the server of a failed
// create is not documented; keeping it is the case that needs handling.
type ActionFailure struct {
	// Command is the action's command: CommandCreateServer,
	// CommandStartServer or CommandDeleteServer.
	Command string
	// Times is how many of the next actions of Command fail (at least 1).
	Times int
	// Code and Message are the action's error (default "action_failed"
	// and a message saying so).
	Code, Message string
}

func (f *ActionFailure) code() string {
	if f == nil || f.Code == "" {
		return "action_failed"
	}
	return f.Code
}

func (f *ActionFailure) message() string {
	if f == nil || f.Message == "" {
		return "the action failed"
	}
	return f.Message
}

// FailActions queues f: the next f.Times actions of f.Command started in
// the project of Token end in "error". Nothing fails by default: Hetzner
// does not say how often it happens.
func (s *Server) FailActions(f ActionFailure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.project.failing = append(s.project.failing, ActionFailure{Command: f.Command, Times: max(f.Times, 1), Code: f.Code, Message: f.Message})
}

// SetLocking turns the locking of servers on (the default) or off. While
// locking is on, deleting a server on which an action other than a delete
// runs (its create or start, when WithActionDuration makes them last) is
// answered 423 locked without effect — the Hetzner Cloud API reference's
// "locked: the item you are trying to access is locked (there is already an
// Action running)". Deleting a server already being deleted answers its
// delete action, as before.
func (s *Server) SetLocking(on bool) {
	s.mu.Lock()
	s.noLocks = !on
	s.mu.Unlock()
}

// Unavailable is capacity Hetzner does not have: POST /servers for
// ServerType in Location (either "" for any) is refused without effect, with
// 412 resource_unavailable ("the requested resource is currently
// unavailable (e.g. not available for order)", from the API reference's
// error table), or, with Placement, 422 placement_error ("an error during
// the placement occurred", from "Create a Server").
type Unavailable struct {
	ServerType, Location string
	Placement            bool
}

// SetUnavailable adds u to the capacity Hetzner lacks; ClearUnavailable
// gives it all back. Every combination is available by default.
func (s *Server) SetUnavailable(u Unavailable) {
	s.mu.Lock()
	s.unavailable = append(s.unavailable, u)
	s.mu.Unlock()
}

// ClearUnavailable makes every server type available in every location.
func (s *Server) ClearUnavailable() {
	s.mu.Lock()
	s.unavailable = nil
	s.mu.Unlock()
}

// capacity returns the refusal of a create of serverType in location, if
// the capacity is not there. s.mu must be held.
func (s *Server) capacity(serverType, location string) *apiError {
	for _, u := range s.unavailable {
		if (u.ServerType != "" && u.ServerType != serverType) || (u.Location != "" && u.Location != location) {
			continue
		}
		if u.Placement {
			return &apiError{status: http.StatusUnprocessableEntity, code: "placement_error", message: "server could not be placed: no capacity for " + serverType + " in " + location}
		}
		return &apiError{status: http.StatusPreconditionFailed, code: "resource_unavailable", message: "server type " + serverType + " is unavailable in " + location}
	}
	return nil
}
