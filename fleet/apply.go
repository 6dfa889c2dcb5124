package fleet

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"time"

	"github.com/cloudswitch/cloudswitch"
)

// Options bound and observe an Apply.
type Options struct {
	// Concurrency is how many switches run at once (default 8).
	Concurrency int
	// Canary is how many switches run first, alone; then Apply waits for
	// them, stops if any failed, and otherwise asks AfterCanary before it
	// starts the rest (0: no canary). Only switches that ran (done or
	// failed) make the canary: steps refused at apply time or skipped as
	// already done are not counted, and more steps start in their place.
	Canary int
	// AfterCanary is the health check (or the pause) between the canary
	// and the rest: a non-nil error stops the apply with nothing more
	// started. nil: go on at once.
	AfterCanary func(ctx context.Context, canary Progress) error
	// MaxFailures stops starting new switches once this many failed (0: no
	// limit).
	MaxFailures int
	// MaxFailureRatio stops starting new switches once more than this
	// fraction of the finished switches failed, counted from
	// MinForRatio finished switches on (0: no limit).
	MaxFailureRatio float64
	// MinForRatio is how many switches must have finished before
	// MaxFailureRatio is judged (default 10).
	MinForRatio int
	// Total is the number of steps, for the ETA (0: unknown).
	Total int
	// Progress receives every event, one at a time (never concurrently);
	// it must return quickly, as switches wait for it (see Channel).
	Progress func(Event)
	// Abort, when it ends, cancels the switches in flight too (a second
	// Ctrl-C): they stop at their next wait, journaled or aborted as the
	// Switcher decides. nil: in-flight switches always run to their end.
	Abort context.Context
	// Now is the clock of the rate and the ETA (default time.Now).
	Now func() time.Time
}

// StopReason says why an Apply started no more switches.
type StopReason string

// The reasons an Apply stops early ("" when it went through the plan).
const (
	StopCancelled     StopReason = "cancelled"
	StopCanaryFailed  StopReason = "canary failed"
	StopCanaryCheck   StopReason = "canary check refused"
	StopFailureBudget StopReason = "failure budget exhausted"
)

// Failure is one switch that failed.
type Failure struct {
	WorkspaceID string `json:"workspace_id"`
	Provider    string `json:"provider"`
	Err         string `json:"error"`
}

// Summary is what an Apply did.
type Summary struct {
	Tally
	// PerProvider tallies the steps by target provider.
	PerProvider map[string]Tally `json:"per_provider"`
	// Stopped says why the apply started no more switches ("": it went
	// through the whole plan); Detail says more.
	Stopped StopReason `json:"stopped,omitempty"`
	Detail  string     `json:"detail,omitempty"`
	// Failures are the first failed switches (at most 100; the events
	// report every one).
	Failures []Failure     `json:"failures,omitempty"`
	Elapsed  time.Duration `json:"elapsed_ns"`
}

// Outcome classifies an apply for people and exit codes.
type Outcome int

// The outcomes of an apply.
const (
	// Succeeded: every step is at its target or had nothing to do.
	Succeeded Outcome = iota
	// Partial: some switches failed, or the apply stopped before the end.
	Partial
	// Refused: nothing was switched and something was refused: steps
	// refused in the plan, or workspaces that changed since it was made.
	Refused
)

// Outcome classifies the summary.
func (s Summary) Outcome() Outcome {
	switch {
	case s.Failed > 0 || s.Stopped != "":
		return Partial
	case s.Refused > 0 && s.Done == 0:
		return Refused
	case s.Refused > 0:
		return Partial
	}
	return Succeeded
}

// Applier applies plans through a Switcher.
type Applier struct {
	sw    *cloudswitch.Switcher
	store cloudswitch.Store
}

// NewApplier returns an Applier that switches with sw and reads workspaces
// from store, the Switcher's own store. Give sw rate-limited drivers
// (RateLimit) to bound its calls per provider.
func NewApplier(sw *cloudswitch.Switcher, store cloudswitch.Store) (*Applier, error) {
	if sw == nil || store == nil {
		return nil, errors.New("fleet: NewApplier: the Switcher and the store are required")
	}
	return &Applier{sw: sw, store: store}, nil
}

// Apply carries out the plan h and steps: every step whose action acts is
// switched (Switch with the step's target, h.Request.ConfirmRecreate and
// the step's Version as IfVersion), at most opts.Concurrency at once, the
// steps read from steps only as switches can start, so that memory is
// bounded by the concurrency.
//
// A step whose workspace is already at its target is skipped as done; one
// whose workspace holds a journaled switch to the step's target is resumed
// (and switched again if Resume undid it); one whose workspace changed since
// planning is refused. Applying the same plan again after a stop or a crash
// so continues where the first apply left off.
//
// Cancelling ctx is the stop button: no new switch starts, in-flight ones
// finish (see Options.Abort), and Apply returns once they have. The error is
// non-nil only when steps could not be read; the Summary says what was done
// either way.
func (a *Applier) Apply(ctx context.Context, h Header, steps iter.Seq2[Step, error], opts Options) (Summary, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 8
	}
	if opts.MinForRatio <= 0 {
		opts.MinForRatio = 10
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := &applyRun{a: a, h: h, opts: opts, t: newTracker(opts.Now, opts.Total, opts.Progress)}
	// In-flight switches outlive the stop; only Abort ends them.
	runCtx, cancelRun := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRun()
	if opts.Abort != nil {
		stop := context.AfterFunc(opts.Abort, cancelRun)
		defer stop()
	}
	r.runCtx = runCtx

	err := r.dispatch(ctx, steps)
	r.wg.Wait()
	all, per, failures := r.t.tally()
	sum := Summary{Tally: all, PerProvider: per, Failures: failures, Elapsed: opts.Now().Sub(r.t.start)}
	sum.Stopped, sum.Detail = r.stopReason()
	return sum, err
}

// applyRun is the state of one Apply.
type applyRun struct {
	a      *Applier
	h      Header
	opts   Options
	t      *tracker
	runCtx context.Context
	wg     sync.WaitGroup

	mu      sync.Mutex
	stopped StopReason
	detail  string
}

func (r *applyRun) stop(reason StopReason, detail string) {
	r.mu.Lock()
	first := r.stopped == ""
	if first {
		r.stopped, r.detail = reason, detail
	}
	r.mu.Unlock()
	if first {
		r.t.record(Event{Kind: EventStopped, Reason: string(reason) + ": " + detail})
	}
}

func (r *applyRun) stopReason() (StopReason, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stopped, r.detail
}

// dispatch reads the steps and starts their switches while the limits
// allow.
func (r *applyRun) dispatch(ctx context.Context, steps iter.Seq2[Step, error]) error {
	slots := make(chan struct{}, r.opts.Concurrency)
	started := 0
	canaryDone := r.opts.Canary <= 0
	// canaryStarts is how many steps may start before the canary is
	// judged. A step refused at apply time (changed since planning) or
	// skipped as already done runs no switch, so it is not part of the
	// canary: when the first canaryStarts steps ran fewer than Canary
	// switches, more steps start until Canary switches ran.
	canaryStarts := r.opts.Canary
	for s, err := range steps {
		if ctx.Err() != nil {
			// Checked first: a plan streamed from a planner on ctx ends
			// with ctx's error, which is the stop, not a bad plan.
			r.stop(StopCancelled, context.Cause(ctx).Error())
			return nil
		}
		if err != nil {
			r.stop(StopCancelled, "the plan could not be read")
			return err
		}
		if reason, _ := r.stopReason(); reason != "" {
			return nil
		}
		if !s.Action.Acts() {
			r.skip(s)
			continue
		}
		if !canaryDone && started == canaryStarts {
			r.wg.Wait()
			if ran := r.t.progress().switched(); ran < r.opts.Canary {
				canaryStarts = started + r.opts.Canary - ran
			} else {
				if !r.passCanary(ctx) {
					return nil
				}
				canaryDone = true
			}
		}
		if !acquire(ctx, slots) {
			r.stop(StopCancelled, context.Cause(ctx).Error())
			return nil
		}
		if reason, _ := r.stopReason(); reason != "" {
			<-slots
			return nil
		}
		if ctx.Err() != nil {
			<-slots
			r.stop(StopCancelled, context.Cause(ctx).Error())
			return nil
		}
		started++
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			defer func() { <-slots }()
			r.apply(s)
		}()
	}
	if !canaryDone && started > 0 {
		// Fewer than Canary switches ran: the whole plan was the canary.
		// A plan no longer than its canary still gets the canary's verdict.
		r.wg.Wait()
		if r.t.progress().Failed > 0 {
			r.stop(StopCanaryFailed, "a canary switch failed")
		}
	}
	return nil
}

// acquire takes a slot, unless ctx ends first. During the canary no more
// than Canary switches start before passCanary waits for them, so the slots
// need no narrower width.
func acquire(ctx context.Context, slots chan struct{}) bool {
	select {
	case slots <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// passCanary waits for the canary switches and judges them.
func (r *applyRun) passCanary(ctx context.Context) bool {
	r.wg.Wait()
	p := r.t.progress()
	if p.Failed > 0 {
		r.stop(StopCanaryFailed, fmt.Sprintf("%d of the %d canary switches failed", p.Failed, r.opts.Canary))
		return false
	}
	r.t.record(Event{Kind: EventCanary, Reason: fmt.Sprintf("%d canary switches finished", r.opts.Canary)})
	if r.opts.AfterCanary != nil {
		if err := r.opts.AfterCanary(ctx, p); err != nil {
			r.stop(StopCanaryCheck, err.Error())
			return false
		}
	}
	if ctx.Err() != nil {
		r.stop(StopCancelled, context.Cause(ctx).Error())
		return false
	}
	return true
}

// skip reports a step that does not act.
func (r *applyRun) skip(s Step) {
	e := Event{WorkspaceID: s.WorkspaceID, Provider: s.Provider(), Action: s.Action, Reason: s.Reason}
	if s.Action == ActionRefuse {
		e.Kind = EventRefused
		e.Reason = "refused in the plan: " + s.Reason
	} else {
		e.Kind = EventSkipped
	}
	r.t.record(e)
}

// apply carries out one acting step and reports it.
func (r *applyRun) apply(s Step) {
	e := Event{WorkspaceID: s.WorkspaceID, Provider: s.Provider(), Action: s.Action}
	kind, reason, resumed, err := r.switchOne(s, func(resumed bool) {
		st := e
		st.Kind, st.Resumed = EventStarted, resumed
		r.t.record(st)
	})
	e.Kind, e.Reason, e.Resumed = kind, reason, resumed
	if err != nil {
		e.Err = err.Error()
	}
	r.t.record(e)
	if kind == EventFailed {
		r.judgeBudget()
	}
}

// switchOne brings one workspace to its step's target; started is called
// once, when a switch or resume begins. It returns the kind of the final
// event.
func (r *applyRun) switchOne(s Step, started func(resumed bool)) (EventKind, string, bool, error) {
	ctx := r.runCtx
	w, err := r.a.store.Get(ctx, s.WorkspaceID)
	if err != nil {
		started(false)
		return EventFailed, "", false, fmt.Errorf("reading the workspace: %w", err)
	}
	resumed := false
	if w.Pending != nil {
		if w.Pending.To != s.To {
			return EventRefused, fmt.Sprintf("another switch (%s, to %s) is pending", w.Pending.ID, describeCompute(w.Pending.To)), false, nil
		}
		// Journaled by an earlier apply (or an identical switch): finish it.
		started(true)
		resumed = true
		res, err := r.a.sw.Resume(ctx, s.WorkspaceID)
		if err != nil {
			return EventFailed, "", true, fmt.Errorf("resuming: %w", err)
		}
		w = res.Workspace
		if atTarget(w, s) {
			return EventDone, "resumed", true, nil
		}
		if !sameCompute(w.Compute, s.From) {
			return EventFailed, "", true, fmt.Errorf("after resuming, the workspace runs %s, neither the plan's source nor its target", describeCompute(w.Compute))
		}
		// Resume undid it: switch again from the version it left.
		s.Version = w.Version
	} else if atTarget(w, s) {
		return EventSkipped, "done: already at the target", false, nil
	}
	if w.Version != s.Version {
		return EventRefused, fmt.Sprintf("changed since planning (version %d, planned at %d)", w.Version, s.Version), resumed, nil
	}
	if !resumed {
		started(false)
	}
	req := cloudswitch.Request{Compute: s.To, ConfirmRecreate: r.h.Request.ConfirmRecreate, IfVersion: s.Version}
	if _, err := r.a.sw.Switch(ctx, s.WorkspaceID, req); err != nil {
		return EventFailed, "", resumed, err
	}
	return EventDone, "", resumed, nil
}

// judgeBudget stops the apply when the failure budget is spent.
func (r *applyRun) judgeBudget() {
	p := r.t.progress()
	switched := p.switched()
	switch {
	case r.opts.MaxFailures > 0 && p.Failed >= r.opts.MaxFailures:
		r.stop(StopFailureBudget, fmt.Sprintf("%d switches failed (limit %d)", p.Failed, r.opts.MaxFailures))
	case r.opts.MaxFailureRatio > 0 && switched >= r.opts.MinForRatio &&
		float64(p.Failed) > r.opts.MaxFailureRatio*float64(switched):
		r.stop(StopFailureBudget, fmt.Sprintf("%d of %d switches failed (limit %.0f%%)", p.Failed, switched, 100*r.opts.MaxFailureRatio))
	}
}

// atTarget reports whether w is where step s takes it, with no switch
// pending: an earlier apply did the step.
func atTarget(w cloudswitch.Workspace, s Step) bool {
	if w.Pending != nil || !sameCompute(w.Compute, s.To) {
		return false
	}
	if s.Create != nil {
		return w.Instance != nil && cloudswitch.NormalizeProvider(w.Instance.Provider) == s.To.Provider
	}
	return true
}

// sameCompute compares a stored compute with a planned one, whose provider
// is normalised.
func sameCompute(stored, planned cloudswitch.Compute) bool {
	stored.Provider = cloudswitch.NormalizeProvider(stored.Provider)
	planned.Provider = cloudswitch.NormalizeProvider(planned.Provider)
	return stored == planned
}
