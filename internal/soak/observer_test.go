package soak

import (
	"context"
	"sync"

	"github.com/cloudswitch/cloudswitch"
)

// resumeObserver counts every Resume of a worker — its own calls and those
// of its Reconciler passes — by outcome, and reports each rollback through
// logf, so that a record found pointing at nothing can be traced to the
// Resume that gave its switch up.
type resumeObserver struct {
	cloudswitch.NopObserver
	logf func(format string, args ...any)

	mu       sync.Mutex
	outcomes map[string]int
}

func newResumeObserver(logf func(format string, args ...any)) *resumeObserver {
	return &resumeObserver{logf: logf, outcomes: make(map[string]int)}
}

// SwitchEnded counts a Resume's outcome; switches are counted by the worker.
func (o *resumeObserver) SwitchEnded(_ context.Context, e cloudswitch.SwitchEvent) {
	if !e.Resumed {
		return
	}
	name := map[cloudswitch.Outcome]string{
		cloudswitch.OutcomeSwitched:   "finished",
		cloudswitch.OutcomeUpdated:    "finished",
		cloudswitch.OutcomeAborted:    "rolled-back",
		cloudswitch.OutcomeUnchanged:  "nothing-to-do",
		cloudswitch.OutcomeRejected:   "rejected",
		cloudswitch.OutcomeIncomplete: "incomplete",
	}[e.Outcome]
	if name == "" {
		name = "outcome-" + string(e.Outcome)
	}
	o.mu.Lock()
	o.outcomes[name]++
	o.mu.Unlock()
	if e.Outcome == cloudswitch.OutcomeAborted {
		o.logf("Resume rolled switch %s of workspace %s back (%s to %s, %s): the record keeps its old compute and VM",
			e.IntentID, e.WorkspaceID, e.From, e.To, e.Strategy)
	}
}

// counts returns the outcomes so far.
func (o *resumeObserver) counts() map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make(map[string]int, len(o.outcomes))
	for k, n := range o.outcomes {
		out[k] = n
	}
	return out
}
