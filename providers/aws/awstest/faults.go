package awstest

import (
	"time"

	"github.com/cloudswitch/cloudswitch/providers/emulator"
)

// The operations of the emulator, the EC2 actions it serves: the names
// Fault.Op and CallCount take.
const (
	OpRunInstances            = "RunInstances"
	OpTerminateInstances      = "TerminateInstances"
	OpDescribeInstances       = "DescribeInstances"
	OpStopInstances           = "StopInstances"
	OpStartInstances          = "StartInstances"
	OpModifyInstanceAttribute = "ModifyInstanceAttribute"
)

// ops are the operations of the emulator, as Inject checks Fault.Op.
var ops = []string{OpRunInstances, OpTerminateInstances, OpDescribeInstances,
	OpStopInstances, OpStartInstances, OpModifyInstanceAttribute}

// Fault is a scripted misbehaviour of the server: the shape every emulator
// of this module takes. Its Op is one of the Op constants.
type Fault = emulator.Fault

// Inject queues f after the faults already queued; of several faults for an
// action, the first queued applies first. A Code without a Status answers
// 400; a Status without a Code gets the code EC2 would use (401
// AuthFailure, 403 UnauthorizedOperation, 503 Unavailable, other 5xx
// InternalError, other 4xx InvalidParameterValue). A fault whose Op is not
// one of the Op constants (nor "") never applies: Inject returns an error
// matching emulator.ErrUnknownOp, and reports it as a test error for a
// server made by NewServer.
func (s *Server) Inject(f Fault) error {
	if err := emulator.CheckOp(f.Op, ops); err != nil {
		return s.misuse("Inject: %w", err)
	}
	s.faults.Add(f.Completed("awstest", defaultCode))
	return nil
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

// CallCount returns how many signed calls of the EC2 action op the server
// received, failed ones included ("" for all actions).
func (s *Server) CallCount(op string) int { return s.faults.CallCount(op) }

// ResetCalls zeroes the call counts.
func (s *Server) ResetCalls() { s.faults.ResetCalls() }
