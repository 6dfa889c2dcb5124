package gcptest

import (
	"net/http"
	"slices"
	"time"

	"github.com/cloudswitch/cloudswitch/providers/emulator"
)

// The operations of the emulator, the names Fault.Op, FailOperation and
// CallCount take.
const (
	OpInsert         = "instances.insert"
	OpGet            = "instances.get"
	OpDelete         = "instances.delete"
	OpList           = "instances.list"
	OpAggregatedList = "instances.aggregatedList"
	OpOperationGet   = "zoneOperations.get"
	// The calls a resize makes.
	OpStop           = "instances.stop"
	OpStart          = "instances.start"
	OpSetMachineType = "instances.setMachineType"
	// The lookups a driver's preflight makes.
	OpMachineTypeGet  = "machineTypes.get"
	OpImageGet        = "images.get"
	OpImageFromFamily = "images.getFromFamily"
)

var ops = []string{OpInsert, OpGet, OpDelete, OpList, OpAggregatedList, OpOperationGet,
	OpStop, OpStart, OpSetMachineType, OpMachineTypeGet, OpImageGet, OpImageFromFamily}

// longRunning are the operations that answer a zone operation.
var longRunning = []string{OpInsert, OpDelete, OpStop, OpStart, OpSetMachineType}

// Fault is a scripted misbehaviour of the server: the shape every emulator
// of this module takes. Its Op is one of the Op constants.
type Fault = emulator.Fault

// Inject queues f after the faults already queued; of several faults for an
// operation, the first queued applies first. A failing fault answers in
// Compute Engine's error envelope: a Code without a Status answers 400; a
// Status without a Code gets the reason Compute Engine would use (400
// invalid, 401 required, 403 forbidden, 404 notFound, 409 conflict, 429
// rateLimitExceeded, 5xx backendError). A fault whose Op is not one of the
// Op constants (nor "") never applies: Inject returns an error matching
// emulator.ErrUnknownOp, and reports it as a test error for a server made
// by NewServer.
func (s *Server) Inject(f Fault) error {
	if err := emulator.CheckOp(f.Op, ops); err != nil {
		return s.misuse("Inject: %w", err)
	}
	s.faults.Add(f.Completed("gcptest", defaultReason))
	return nil
}

// FailOperation makes the next times inserts, deletes, stops, starts or
// machine type changes (op is OpInsert, OpDelete, OpStop, OpStart or
// OpSetMachineType; "" for all) be accepted and then finish DONE with an
// error: the
// operation carries httpErrorStatusCode status, httpErrorMessage message and
// error.errors[0].code reason (such as "QUOTA_EXCEEDED" or
// "ZONE_RESOURCE_POOL_EXHAUSTED"). A failed insert leaves no instance; a
// failed delete, stop, start or machine type change leaves the instance as
// it was.
func (s *Server) FailOperation(op string, times int, status int, reason, message string) {
	if op != "" && !slices.Contains(longRunning, op) {
		s.misuse("FailOperation: operation %q has no long-running operation (want one of %v or \"\")", op, longRunning)
		return
	}
	if times <= 0 {
		return
	}
	if status == 0 {
		status = http.StatusForbidden
	}
	if reason == "" {
		reason = "OPERATION_FAILED"
	}
	if message == "" {
		message = "gcptest: injected operation failure " + reason
	}
	s.mu.Lock()
	s.opFailures = append(s.opFailures, &opFailure{op: op, times: times, status: status, reason: reason, message: message})
	s.mu.Unlock()
}

// ClearFaults drops every queued fault and operation failure; the latency,
// the listing lag and the page size stay.
func (s *Server) ClearFaults() {
	s.faults.Clear()
	s.mu.Lock()
	s.opFailures = nil
	s.mu.Unlock()
}

// SetLatency adds d to every call from now on.
func (s *Server) SetLatency(d time.Duration) { s.faults.SetLatency(d) }

// SetListLag makes instances created from now on invisible to list and
// aggregatedList for d, as Compute Engine lists new instances late. Get,
// insert and delete see them at once.
func (s *Server) SetListLag(d time.Duration) { s.faults.SetListLag(d) }

// SetPageSize caps how many instances one list or aggregatedList page holds,
// below the request's maxResults; n <= 0 removes the cap.
func (s *Server) SetPageSize(n int) {
	s.mu.Lock()
	s.pageSize = max(n, 0)
	s.mu.Unlock()
}

// CallCount returns how many calls of op the server received, failed ones
// included ("" for all operations).
func (s *Server) CallCount(op string) int { return s.faults.CallCount(op) }

// ResetCalls zeroes the call counts.
func (s *Server) ResetCalls() { s.faults.ResetCalls() }

// opFailure is a queued FailOperation.
type opFailure struct {
	op      string
	times   int
	status  int
	reason  string
	message string
}

// takeOpFailure consumes the first queued failure that applies to a new
// operation of op; s.mu is held.
func (s *Server) takeOpFailure(op string) *opFailure {
	if op == "" {
		return nil
	}
	for i, f := range s.opFailures {
		if f.op != "" && f.op != op {
			continue
		}
		taken := *f
		f.times--
		if f.times == 0 {
			s.opFailures = slices.Delete(s.opFailures, i, i+1)
		}
		return &taken
	}
	return nil
}

// defaultReason is the error reason Compute Engine answers status with.
func defaultReason(status int) string {
	switch {
	case status == http.StatusBadRequest:
		return "invalid"
	case status == http.StatusUnauthorized:
		return "required"
	case status == http.StatusForbidden:
		return "forbidden"
	case status == http.StatusNotFound:
		return "notFound"
	case status == http.StatusConflict:
		return "conflict"
	case status == http.StatusTooManyRequests:
		return "rateLimitExceeded"
	case status >= 500:
		return "backendError"
	}
	return "invalid"
}
