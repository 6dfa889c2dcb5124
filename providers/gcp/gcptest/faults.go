package gcptest

import (
	"net/http"
	"slices"
	"time"

	"github.com/cloudswitch/cloudswitch/internal/fault"
)

// The operations of the emulator, the names Fault.Op, FailOperation and
// Calls take.
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

// Fault is a scripted misbehaviour of the server.
type Fault struct {
	// Op is the operation it applies to (OpInsert, OpGet, OpDelete, OpList,
	// OpAggregatedList, OpOperationGet); "" applies to every operation.
	Op string
	// Times is how many calls it applies to; 0 means every call until
	// ClearFaults.
	Times int
	// Status and Code make the call fail without effect, with this HTTP
	// status and error reason (and Message), in Compute Engine's error
	// envelope. A Code without a Status answers 400; a Status without a Code
	// gets the reason Compute Engine would use (400 invalid, 401 required,
	// 403 forbidden, 404 notFound, 409 conflict, 429 rateLimitExceeded, 5xx
	// backendError).
	Status  int
	Code    string
	Message string
	// Latency is added before the call is answered (or fails).
	Latency time.Duration
	// Drop makes the call take effect and then closes the connection without
	// an answer, as when a response is lost: the client sees a broken
	// connection (EOF or a reset).
	Drop bool
}

// Inject queues f after the faults already queued; of several faults for an
// operation, the first queued applies first. A fault naming an operation the
// server does not have is reported as a test error (for a server made by
// NewServer) and never applies.
func (s *Server) Inject(f Fault) {
	if f.Op != "" && !slices.Contains(ops, f.Op) {
		s.misuse("Inject: unknown operation %q (want one of %v)", f.Op, ops)
		return
	}
	if f.Code != "" && f.Status == 0 {
		f.Status = http.StatusBadRequest
	}
	if f.Status != 0 && f.Code == "" {
		f.Code = defaultReason(f.Status)
	}
	if f.Status != 0 && f.Message == "" {
		f.Message = "gcptest: injected fault " + f.Code
	}
	s.faults.Add(fault.Rule(f))
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

// Calls returns how many calls of op the server received, failed ones
// included ("" for all operations).
func (s *Server) Calls(op string) int { return s.faults.Calls(op) }

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
