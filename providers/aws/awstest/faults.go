package awstest

import (
	"net/http"
	"time"

	"github.com/cloudswitch/cloudswitch/internal/fault"
)

// Fault is a scripted misbehaviour of the server.
type Fault struct {
	// Op is the EC2 action it applies to ("RunInstances",
	// "TerminateInstances", "DescribeInstances"); "" applies to every action.
	Op string
	// Times is how many calls it applies to; 0 means every call until
	// ClearFaults.
	Times int
	// Status and Code make the call fail without effect, with this HTTP
	// status and EC2 error code (and Message). A Code without a Status
	// answers 400; a Status without a Code gets the code EC2 would use
	// (401 AuthFailure, 403 UnauthorizedOperation, 503 Unavailable, other
	// 5xx InternalError, other 4xx InvalidParameterValue).
	Status  int
	Code    string
	Message string
	// Latency is added before the call is answered (or fails).
	Latency time.Duration
	// Drop makes the call take effect and then closes the connection
	// without an answer, as when a response is lost: the client sees a
	// broken connection (EOF or a reset).
	Drop bool
}

// Inject queues f after the faults already queued; of several faults for an
// action, the first queued applies first.
func (s *Server) Inject(f Fault) {
	if f.Code != "" && f.Status == 0 {
		f.Status = http.StatusBadRequest
	}
	if f.Status != 0 && f.Code == "" {
		f.Code = defaultCode(f.Status)
	}
	if f.Status != 0 && f.Message == "" {
		f.Message = "awstest: injected fault " + f.Code
	}
	s.faults.Add(fault.Rule{
		Op: f.Op, Times: f.Times, Status: f.Status, Code: f.Code, Message: f.Message,
		Latency: f.Latency, Drop: f.Drop,
	})
}

// ClearFaults drops every queued fault; the latency and the listing lag
// stay.
func (s *Server) ClearFaults() { s.faults.Clear() }

// SetLatency adds d to every call from now on.
func (s *Server) SetLatency(d time.Duration) { s.faults.SetLatency(d) }

// SetListLag makes instances created from now on invisible to
// DescribeInstances for d (EC2 lists new instances late): a filtered listing
// skips them and a lookup by id answers InvalidInstanceID.NotFound.
// RunInstances and TerminateInstances see them at once.
func (s *Server) SetListLag(d time.Duration) { s.faults.SetListLag(d) }

// SetConsistencyDelay makes instances launched from now on answer
// InvalidInstanceID.NotFound to DescribeInstances by id and to
// TerminateInstances for d after their launch, as EC2's eventual
// consistency does; 0 turns it off.
func (s *Server) SetConsistencyDelay(d time.Duration) {
	s.mu.Lock()
	s.opts.consistencyDelay = max(d, 0)
	s.mu.Unlock()
}

// Hide makes the instance with this id unknown to DescribeInstances by id
// and to TerminateInstances (InvalidInstanceID.NotFound), as EC2's eventual
// consistency does to an instance just launched, until reveal is called.
// Filtered listings and the ground truth (Instances) are unaffected.
func (s *Server) Hide(id string) (reveal func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.byID[id]
	if v == nil {
		return func() {}
	}
	v.knownAt = farFuture
	return func() {
		s.mu.Lock()
		v.knownAt = time.Time{}
		s.mu.Unlock()
	}
}

// farFuture is a time no test reaches.
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// ExpirePageTokens makes every NextToken issued so far invalid: the next
// DescribeInstances that presents one is answered InvalidPaginationToken, as
// EC2 answers an expired token.
func (s *Server) ExpirePageTokens() {
	s.mu.Lock()
	s.tokensValidFrom = s.now().Add(time.Nanosecond)
	s.mu.Unlock()
}

// SetInstanceLimit sets the instance quota per region (see
// WithInstanceLimit); 0 removes it.
func (s *Server) SetInstanceLimit(n int) {
	s.mu.Lock()
	s.opts.instanceLimit = max(n, 0)
	s.mu.Unlock()
}

// The state reasons of a launch that fails, as EC2 reports them in an
// instance's StateReason.
const (
	ReasonVolumeLimitExceeded  = "Client.VolumeLimitExceeded"
	ReasonInvalidSnapshot      = "Client.InvalidSnapshot.NotFound"
	ReasonClientInternalError  = "Client.InternalError"
	ReasonServerInternalError  = "Server.InternalError"
	ReasonInsufficientCapacity = "Server.InsufficientInstanceCapacity"
)

// FailLaunches makes the next n instances RunInstances launches fail: each
// is pending in the RunInstances answer and then goes straight to
// terminated (at the moment it would have been running) with StateReason
// reason (one of the Reason constants, or any "Client."/"Server." code),
// as EC2's "instance terminates immediately" does.
func (s *Server) FailLaunches(n int, reason string) {
	s.mu.Lock()
	for range n {
		s.failing = append(s.failing, reason)
	}
	s.mu.Unlock()
}

// SetPageSize caps how many instances one DescribeInstances page holds, below
// the request's MaxResults; n <= 0 removes the cap.
func (s *Server) SetPageSize(n int) {
	s.mu.Lock()
	s.pageSize = max(n, 0)
	s.mu.Unlock()
}

// Calls returns how many signed calls of the EC2 action op the server
// received, failed ones included ("" for all actions).
func (s *Server) Calls(op string) int { return s.faults.Calls(op) }

// ResetCalls zeroes the call counts.
func (s *Server) ResetCalls() { s.faults.ResetCalls() }
