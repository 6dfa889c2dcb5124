// Package fault is the fault-injection machinery the cloud emulators
// (awstest, hetznertest, gcptest) share: scripted error answers for the next
// N calls of an operation, added latency, "take effect, then drop the
// connection", late listing of new VMs, and a count of the calls each
// operation received.
//
// An emulator names its operations (an EC2 action, "POST /servers", …),
// calls Take at the start of each request, and acts on the Decision:
//
//	d := s.faults.Take(ctx, "RunInstances")   // counts the call, sleeps its latency
//	if d.Fail() { writeError(w, d.Status, d.Code, d.Message); return }
//	… perform the call …
//	if d.Drop { fault.DropConnection(w); return } // effect taken, answer lost
//	… write the answer …
package fault

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// Rule is one scripted fault.
type Rule struct {
	// Op is the operation it applies to; "" applies to every operation.
	Op string
	// Times is how many calls it applies to; 0 means every call until
	// Clear.
	Times int
	// Status and Code make the call fail, without effect, with this HTTP
	// status and the cloud's error code (and Message).
	Status  int
	Code    string
	Message string
	// Latency is added before the call is answered (or fails).
	Latency time.Duration
	// Drop makes the call take effect and then drops the connection without
	// an answer, as when a response is lost.
	Drop bool
}

// Decision is what happens to one call.
type Decision struct {
	Status  int
	Code    string
	Message string
	Drop    bool
}

// Fail reports whether the call must fail with an error answer, without
// effect.
func (d Decision) Fail() bool { return d.Status != 0 }

// Injector holds the scripted faults of one emulator and counts its calls.
// The zero value is ready to use; it is safe for concurrent use.
type Injector struct {
	mu      sync.Mutex
	rules   []*Rule
	latency time.Duration
	listLag time.Duration
	calls   map[string]int
}

// Add queues r after the rules already queued. Of several rules for an
// operation, the first queued applies first.
func (in *Injector) Add(r Rule) {
	in.mu.Lock()
	defer in.mu.Unlock()
	rc := r
	in.rules = append(in.rules, &rc)
}

// Clear drops every rule; latency and listing lag stay.
func (in *Injector) Clear() {
	in.mu.Lock()
	in.rules = nil
	in.mu.Unlock()
}

// SetLatency adds d to every call.
func (in *Injector) SetLatency(d time.Duration) {
	in.mu.Lock()
	in.latency = d
	in.mu.Unlock()
}

// SetListLag makes VMs created from now on invisible to listings for d.
func (in *Injector) SetListLag(d time.Duration) {
	in.mu.Lock()
	in.listLag = d
	in.mu.Unlock()
}

// ListLag returns the listing lag for VMs created now.
func (in *Injector) ListLag() time.Duration {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.listLag
}

// Calls returns how many calls op received ("" for all operations).
func (in *Injector) Calls(op string) int {
	in.mu.Lock()
	defer in.mu.Unlock()
	if op != "" {
		return in.calls[op]
	}
	n := 0
	for _, c := range in.calls {
		n += c
	}
	return n
}

// ResetCalls zeroes the call counts.
func (in *Injector) ResetCalls() {
	in.mu.Lock()
	in.calls = nil
	in.mu.Unlock()
}

// Take counts one call of op, consumes the first rule that applies to it,
// waits the latency (the injector's and the rule's; cut short when ctx
// ends), and returns what must happen to the call.
func (in *Injector) Take(ctx context.Context, op string) Decision {
	in.mu.Lock()
	if in.calls == nil {
		in.calls = make(map[string]int)
	}
	in.calls[op]++
	latency := in.latency
	var d Decision
	for i, r := range in.rules {
		if r.Op != "" && r.Op != op {
			continue
		}
		d = Decision{Status: r.Status, Code: r.Code, Message: r.Message, Drop: r.Drop}
		latency += r.Latency
		if r.Times > 0 {
			r.Times--
			if r.Times == 0 {
				in.rules = append(in.rules[:i:i], in.rules[i+1:]...)
			}
		}
		break
	}
	in.mu.Unlock()
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
	return d
}

// DropConnection closes the connection of w without an answer, so the client
// sees a broken connection (io.EOF or a reset) after sending its request.
// It falls back to panicking the handler with http.ErrAbortHandler, which
// net/http also answers by closing the connection.
func DropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}
