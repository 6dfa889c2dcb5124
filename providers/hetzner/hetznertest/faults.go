package hetznertest

import (
	"time"

	"github.com/cloudswitch/cloudswitch/internal/fault"
)

// The operations of the emulator, for Fault.Op and Calls: the method and
// path pattern of each call the driver makes.
const (
	OpCreateServer = "POST /servers"
	OpListServers  = "GET /servers"
	OpGetServer    = "GET /servers/{id}"
	OpDeleteServer = "DELETE /servers/{id}"
	OpListActions  = "GET /actions"
	OpGetAction    = "GET /actions/{id}"
	OpListSSHKeys  = "GET /ssh_keys"
)

// Fault is a scripted misbehaviour of the API.
type Fault struct {
	// Op is the operation it applies to (OpCreateServer, …); "" applies to
	// every operation.
	Op string
	// Times is how many calls it applies to; 0 means every call until
	// ClearFaults.
	Times int
	// Status makes the call fail, without effect, with this HTTP status
	// and, when Code is set, the API's error envelope
	// {"error":{"code":Code,"message":Message}} as application/json (an
	// empty Message gets the API's usual one). Without a Code the body is
	// plain text, as from a proxy in front of the API, which hcloud-go
	// reports as hcloud.ErrStatusCode.
	Status  int
	Code    string
	Message string
	// Latency is added before the call is answered (or fails).
	Latency time.Duration
	// Drop makes the call take effect and then drops the connection
	// without an answer, as when a response is lost. (net/http sends a GET
	// again once when a reused connection breaks, so to be sure a listing
	// sees a drop, script it for two calls.)
	Drop bool
}

// Inject queues f after the faults already queued; of several faults for an
// operation, the first queued applies first.
func (s *Server) Inject(f Fault) {
	s.faults.Add(fault.Rule{
		Op: f.Op, Times: f.Times, Status: f.Status, Code: f.Code, Message: f.Message,
		Latency: f.Latency, Drop: f.Drop,
	})
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

// Calls returns how many calls op received ("" for every operation),
// failed and unauthorized calls included.
func (s *Server) Calls(op string) int { return s.faults.Calls(op) }

// ResetCalls zeroes the call counts.
func (s *Server) ResetCalls() { s.faults.ResetCalls() }
