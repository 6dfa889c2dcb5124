package sim

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
)

// fault is one class of fault the scheduler may inject. A run draws from a
// set of them; shrinking drops classes while the failure persists.
type fault uint

const (
	faultCrash     fault = 1 << iota // a process dies; a fresh one takes over
	faultSkew                        // processes' clocks are off by up to skewBound
	faultStoreFail                   // a store call fails, nothing done (outcome unknown to the caller)
	faultStoreLost                   // a store write lands, its answer is lost
	faultRefusal                     // a provider refuses (throttled, denied)
	faultTransient                   // a provider answers 503 before acting
	faultUnmarked                    // a provider error no driver marked, before or after the effect
	faultLatency                     // a call takes long, past the lease
	faultListing                     // listings lag and end early
	faultHookFail                    // a hook fails
	faultHookOdd                     // a hook's error wraps ErrNotFound or ErrConflict
	faultHookHang                    // a hook hangs or outlives the lease
	faultHookAbort                   // a hook's error wraps an *AbortError
	faultObserver                    // a process's observer drops the deadline of every context it is given
	faultAll       = faultObserver<<1 - 1
)

var faultNames = []string{"crash", "skew", "store-fail", "store-lost", "refusal", "transient", "unmarked",
	"latency", "listing", "hook-fail", "hook-odd", "hook-hang", "hook-abort", "observer"}

// faultSet is a set of fault classes.
type faultSet fault

func (s faultSet) has(f fault) bool { return fault(s)&f != 0 }

func (s faultSet) String() string {
	var names []string
	for i, n := range faultNames {
		if fault(s)&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ",")
}

// swarm stands for a set drawn from the seed: each class on with
// probability one half ("swarm testing": a run without some faults reaches
// states that the faults which fail first would otherwise always mask).
const swarm = faultSet(1 << 62)

// parseFaults reads a comma-separated list of fault class names ("all" for
// every one).
func parseFaults(s string) (faultSet, error) {
	switch s {
	case "", "swarm":
		return swarm, nil
	case "all":
		return faultSet(faultAll), nil
	case "none":
		return 0, nil
	}
	var set fault
	for _, n := range strings.Split(s, ",") {
		i := slices.Index(faultNames, n)
		if i < 0 {
			return 0, fmt.Errorf("sim: unknown fault class %q (known: %s)", n, strings.Join(faultNames, ","))
		}
		set |= 1 << i
	}
	return faultSet(set), nil
}

// The errors the simulated store and clouds return.
var (
	errStoreUnknown = errors.New("sim: store connection lost, outcome unknown")
	errUnmarked     = errors.New("sim: connection reset after the request was sent")
	errListing      = fmt.Errorf("sim: listing broke off: %w", cloudswitch.ErrTransient)
)

// chance reports true with probability pct/1000 scaled by the run's fault
// rate, if the fault class is on.
//
// It draws from the seed whether or not the class is on, so that a run
// with fewer fault classes (see shrinking) takes the same other decisions
// until its paths part.
func (w *world) chance(f fault, permille int) bool {
	hit := w.rng.IntN(100000) < permille*w.rate
	return hit && !w.quiet && w.faults.has(f)
}

func (w *world) lateness() time.Duration {
	return []time.Duration{2 * time.Second, 20 * time.Second, lease - 5*time.Second, lease + 10*time.Second, 3 * lease}[w.rng.IntN(5)]
}

// decide draws what happens to call c.
func (w *world) decide(c *call) decision {
	switch c.kind {
	case "next":
		return decision{kind: proceed, op: c.a.nextOp(w)}
	case "get", "pending", "create", "delete", "deleteif":
		switch {
		case !c.late && w.chance(faultLatency, 20):
			return decision{kind: delay, d: w.lateness()}
		case w.chance(faultStoreFail, 40):
			return decision{kind: failBefore, err: errStoreUnknown}
		case c.kind == "pending" && w.chance(faultListing, 40):
			return decision{kind: truncate, n: w.rng.IntN(3), err: errStoreUnknown}
		case (c.kind == "create" || c.kind == "delete" || c.kind == "deleteif") && w.chance(faultStoreLost, 40):
			return decision{kind: failAfter, err: errStoreUnknown}
		}
	case "update":
		switch {
		case !c.late && w.chance(faultLatency, 20):
			return decision{kind: delay, d: w.lateness()}
		case w.chance(faultStoreFail, 40):
			return decision{kind: failBefore, err: errStoreUnknown}
		case w.chance(faultStoreLost, 50):
			return decision{kind: failAfter, err: errStoreUnknown}
		}
	case "preflight":
		switch {
		case w.chance(faultRefusal, 30):
			return decision{kind: failBefore, err: memprovider.ErrThrottled}
		case w.chance(faultTransient, 30):
			return decision{kind: failBefore, err: memprovider.ErrUnavailable}
		}
	case "provision", "deprovision", "resize":
		switch {
		case !c.late && w.chance(faultLatency, 40):
			return decision{kind: delay, d: w.lateness()}
		case w.chance(faultRefusal, 50):
			return decision{kind: failBefore, err: memprovider.ErrThrottled}
		case w.chance(faultRefusal, 30):
			return decision{kind: failBefore, err: memprovider.ErrDenied}
		case w.chance(faultTransient, 40):
			return decision{kind: failBefore, err: memprovider.ErrUnavailable}
		case w.chance(faultTransient, 30):
			return decision{kind: failAfter, err: memprovider.ErrUnavailable}
		case w.chance(faultUnmarked, 30):
			return decision{kind: failBefore, err: errUnmarked}
		case w.chance(faultUnmarked, 50):
			return decision{kind: failAfter, err: errUnmarked}
		}
	case "list":
		switch {
		case !c.late && w.chance(faultLatency, 20):
			return decision{kind: delay, d: w.lateness()}
		case w.chance(faultListing, 60):
			return decision{kind: truncate, n: w.rng.IntN(4), err: errListing}
		case w.chance(faultTransient, 30):
			return decision{kind: failBefore, err: memprovider.ErrUnavailable}
		}
	case "hook":
		if c.late {
			return decision{kind: proceed}
		}
		switch {
		case w.chance(faultHookFail, 60):
			return decision{kind: failBefore, err: errors.New("sim: backup failed")}
		case w.chance(faultHookOdd, 30):
			return decision{kind: failBefore, err: fmt.Errorf("sim: backup target missing: %w", cloudswitch.ErrNotFound)}
		case w.chance(faultHookAbort, 20):
			return decision{kind: failBefore, err: fmt.Errorf("sim: backup gave up: %w",
				&cloudswitch.AbortError{Stage: cloudswitch.StageHook, WorkspaceID: c.ws, Err: errors.New("backup service aborted")})}
		case w.chance(faultHookOdd, 20):
			return decision{kind: failBefore, err: fmt.Errorf("sim: backup raced: %w", cloudswitch.ErrConflict)}
		case w.chance(faultHookHang, 20):
			return decision{kind: hang}
		case w.chance(faultHookHang, 30):
			return decision{kind: delay, d: w.lateness()}
		}
	}
	return decision{kind: proceed}
}
