package emulator

import (
	"context"
	"sync"
	"time"
)

// Injector holds the scripted faults of one emulator and counts its calls.
// The zero value is ready to use; it is safe for concurrent use.
type Injector struct {
	mu      sync.Mutex
	faults  []*Fault
	latency time.Duration
	listLag time.Duration
	calls   map[string]int
}

// Add queues f after the faults already queued. Of several faults for an
// operation, the first queued applies first. Add does not check f.Op: the
// emulator does, with CheckOp, before it calls Add.
func (in *Injector) Add(f Fault) {
	in.mu.Lock()
	defer in.mu.Unlock()
	fc := f
	in.faults = append(in.faults, &fc)
}

// Clear drops every queued fault; latency and listing lag stay.
func (in *Injector) Clear() {
	in.mu.Lock()
	in.faults = nil
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

// CallCount returns how many calls op received ("" for all operations),
// failed ones included.
func (in *Injector) CallCount(op string) int {
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

// Take counts one call of op, consumes the first fault that applies to it,
// waits the latency (the injector's and the fault's; cut short when ctx
// ends), and returns what must happen to the call.
func (in *Injector) Take(ctx context.Context, op string) Decision {
	in.mu.Lock()
	if in.calls == nil {
		in.calls = make(map[string]int)
	}
	in.calls[op]++
	latency := in.latency
	var d Decision
	for i, f := range in.faults {
		if f.Op != "" && f.Op != op {
			continue
		}
		d = Decision{Status: f.Status, Code: f.Code, Message: f.Message, Drop: f.Drop}
		latency += f.Latency
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				in.faults = append(in.faults[:i:i], in.faults[i+1:]...)
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
