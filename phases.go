package cloudswitch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// The phases of a switch, as a state machine over the journaled intent. Every
// arrow that changes the record is one compare-and-swap write; every provider
// call is idempotent (destroying a VM that is gone succeeds, provisioning
// with the intent's Token returns the VM an earlier attempt created), so any
// step may be repeated after a crash.
//
//	BreakBeforeMake (or no provisioning)        MakeBeforeBreak (or no old VM)
//
//	claim: intent{deprovision}                  claim: intent{provision}
//	hook, destroy old ─ fails ─▶ clear: abort   create new ─ refused ─▶ clear: abort
//	commit: new compute, no VM,                 hook, destroy old ─ fails ─▶ intent{rollback, new}
//	        intent{provision, committed}                                     destroy new, clear: abort
//	create new (only forward now)               commit: new compute, new VM, no intent
//	record: new VM, no intent
//
// A provider call whose outcome is unknown after the retries, or a write that
// may have landed, leaves the intent journaled with its lease released:
// IncompleteError, and Resume takes the same step again. Only a call refused
// outright (a permanent error on its first attempt) on the intent's first
// claim lets a switch that has not committed abort with "nothing changed".

// run carries one claimed intent to its end: finished, undone, or left
// journaled for Resume.
type run struct {
	s       *Switcher
	t       *tracer
	ctx     context.Context // ends with the lease
	ws      Workspace       // as last stored; ws.Pending is the claimed intent
	created *Instance       // the VM this run provisioned, once known
	rotated bool            // the run journaled a fresh token after ErrTokenSpent
	res     Result
}

// cleanupTimeout bounds the writes that close a switch after its context has
// ended (clearing or releasing the intent).
const cleanupTimeout = 30 * time.Second

func (r *run) drive() (Result, error) {
	in := r.ws.Pending
	switch {
	case in.Phase == PhaseRollback:
		return r.rollback(StageRollback, errors.New("resumed an interrupted rollback: "+in.LastError))
	case in.Committed:
		return r.provisionAndRecord()
	case in.Phase == PhaseDeprovision:
		return r.breakBeforeMake()
	case in.Phase == PhaseResize:
		return r.resize()
	case in.Phase == PhaseDecommission:
		return r.decommission()
	default:
		return r.makeBeforeBreak()
	}
}

func (r *run) breakBeforeMake() (Result, error) {
	in := r.ws.Pending
	if err := r.hook(); err != nil {
		return r.stop(StageHook, err, hookFailed(err))
	}
	if refused, err := r.deprovision(StageDeprovision, *in.Old); err != nil {
		return r.stop(StageDeprovision, err, refused)
	}
	r.res.Deprovisioned = cloneInstance(in.Old)
	err := r.write(StageCommit, func(w *Workspace) {
		w.Compute = in.To
		w.Instance = nil // the old VM is gone: no stale pointer survives the commit
		if in.Provision {
			next := ownIntent(w)
			next.Phase = PhaseProvision
			next.Committed = true
		} else {
			w.Pending = nil
		}
	})
	if err != nil {
		return r.incomplete(StageCommit, err)
	}
	if !in.Provision {
		return r.done(in)
	}
	return r.provisionAndRecord()
}

func (r *run) provisionAndRecord() (Result, error) {
	in := r.ws.Pending
	if in.Old != nil {
		r.res.Deprovisioned = cloneInstance(in.Old)
	}
	inst, _, err := r.provision()
	if err != nil {
		// The old VM is gone and the record holds the new compute: the
		// only way is forward, however often it takes.
		return r.incomplete(StageProvision, err)
	}
	err = r.write(StageRecord, func(w *Workspace) {
		w.Instance = &inst
		w.Pending = nil
	})
	if err != nil {
		return r.incomplete(StageRecord, err)
	}
	r.res.Provisioned = &inst
	return r.done(in)
}

func (r *run) makeBeforeBreak() (Result, error) {
	in := r.ws.Pending
	inst, refused, err := r.provision()
	if err != nil {
		// Refused on the intent's first claim, no VM exists for the
		// token: the switch can abort.
		return r.stop(StageProvision, err, refused)
	}
	if in.Old != nil {
		if err := r.hook(); err != nil {
			return r.stop(StageHook, err, hookFailed(err))
		}
		if refused, err := r.deprovision(StageDeprovision, *in.Old); err != nil {
			return r.stop(StageDeprovision, err, refused)
		}
		r.res.Deprovisioned = cloneInstance(in.Old)
	}
	err = r.write(StageCommit, func(w *Workspace) {
		w.Compute = in.To
		w.Instance = &inst // replaces the old VM's pointer in the same write
		w.Pending = nil
	})
	if err != nil {
		return r.incomplete(StageCommit, err)
	}
	r.res.Provisioned = &inst
	return r.done(in)
}

// stop ends a switch that has not committed after a failed step.
//
// It aborts only when two things hold. The step was refused: certain is set
// when the provider said of every attempt that it did not act, or when the
// hook failed before anything was destroyed. And this run is the intent's
// first claim. Aborting means nothing changed: anything created is
// destroyed again.
//
// Otherwise an attempt may have taken effect unseen. It may be this run's,
// or an earlier holder's that crashed or stopped with an unknown outcome;
// its VM may be created or destroyed already. "Nothing changed" cannot be
// proven then. Undoing the switch could leave a VM no record points at, or
// a workspace with no VM at all. So the switch stays journaled, for Resume
// to finish once the cause is gone.
func (r *run) stop(stage Stage, cause error, certain bool) (Result, error) {
	switch {
	case errors.As(cause, new(*vanishedError)):
		return r.incomplete(stage, cause)
	case !certain:
		return r.incomplete(stage, cause)
	case r.ws.Pending.Claims > 1:
		return r.incomplete(stage, fmt.Errorf("%w (the switch was interrupted before, so an earlier attempt may already have changed VMs and it cannot be undone)", cause))
	}
	return r.abort(stage, cause)
}

// abort gives the switch up before it committed: the VM it created, if any,
// is destroyed again and the intent cleared.
func (r *run) abort(stage Stage, cause error) (Result, error) {
	if r.created != nil || r.ws.Pending.New != nil {
		return r.rollback(stage, cause)
	}
	if err := r.write(StageRollback, func(w *Workspace) { w.Pending = nil }); err != nil {
		return r.incomplete(stage, errors.Join(cause, err))
	}
	r.res.Deprovisioned = nil
	r.res.Workspace = r.ws
	return r.res, &AbortError{Stage: stage, WorkspaceID: r.ws.ID, Err: cause}
}

// rollback journals that the switch is given up, destroys the VM it created
// and clears the intent.
func (r *run) rollback(stage Stage, cause error) (Result, error) {
	if r.ws.Pending.Phase != PhaseRollback {
		created := cloneInstance(r.created)
		err := r.write(StageRollback, func(w *Workspace) {
			next := ownIntent(w)
			next.Phase = PhaseRollback
			next.New = created
			next.LastError = errText(cause)
		})
		if err != nil {
			return r.incomplete(stage, errors.Join(cause, err))
		}
	}
	if n := r.ws.Pending.New; n != nil {
		if cur := r.ws.Instance; cur != nil && cur.ID == n.ID && cur.Provider == n.Provider {
			return r.incomplete(StageRollback, errors.Join(cause, fmt.Errorf("refusing to roll back VM %s: it is the VM the record names", n.ID)))
		}
		if _, err := r.deprovision(StageRollback, *n); err != nil {
			return r.incomplete(StageRollback, errors.Join(cause, err))
		}
	}
	if err := r.write(StageRollback, func(w *Workspace) { w.Pending = nil }); err != nil {
		return r.incomplete(StageRollback, errors.Join(cause, err))
	}
	r.res = Result{Workspace: r.ws, RolledBack: true}
	return r.res, &AbortError{Stage: stage, WorkspaceID: r.ws.ID, Err: cause}
}

// incomplete leaves the intent journaled and, unless another process holds
// it now, releases the lease so that Resume may take over at once.
func (r *run) incomplete(stage Stage, cause error) (Result, error) {
	in := r.ws.Pending
	r.res.Workspace = r.ws
	ie := &IncompleteError{Stage: stage, WorkspaceID: r.ws.ID, IntentID: in.ID, Err: cause}
	if gone := new(*vanishedError); errors.As(cause, gone) {
		return r.vanished(*gone)
	}
	if sup := new(*supersededError); errors.As(cause, sup) {
		return r.superseded(*sup, cause)
	}
	if !errors.Is(cause, ErrSwitchInProgress) {
		err := r.write("", func(w *Workspace) {
			next := ownIntent(w)
			next.LeaseExpires = r.s.cfg.now()
			next.LastError = errText(cause)
		})
		if err != nil {
			attrs := append([]slog.Attr{slog.String("workspace", r.ws.ID), slog.String("intent", in.ID)}, errAttrs(err)...)
			r.s.cfg.logger.LogAttrs(r.t.ctx, slog.LevelWarn, "could not release the lease of an incomplete switch", attrs...)
		}
		r.res.Workspace = r.ws
	}
	return r.res, ie
}

// vanishedError is how write reports a workspace the store confirmed
// deleted (Update and a following Get both said ErrNotFound). Only write
// makes one: an ErrNotFound from anywhere else — a hook, a driver — never
// means the workspace is gone.
type vanishedError struct{ cause error }

func (e *vanishedError) Error() string { return e.cause.Error() }
func (e *vanishedError) Unwrap() error { return e.cause }

// vanished handles a workspace deleted while its switch ran: the VM the
// switch created has no record to point at it any more, so it is destroyed
// — within the lease only. Once the lease has ended another process may act
// on the switch, and the VM is left, tagged with its workspace, for the
// Reconciler to find as an orphan.
func (r *run) vanished(cause *vanishedError) (Result, error) {
	err := fmt.Errorf("workspace %q was deleted during switch %s: %w", r.ws.ID, r.ws.Pending.ID, cause.cause)
	if r.created != nil {
		if r.ctx.Err() != nil {
			err = errors.Join(err, fmt.Errorf("VM %s created for it is left for the Reconciler: the lease has ended", r.created.ID))
		} else if _, derr := r.deprovision(StageRollback, *r.created); derr != nil {
			err = errors.Join(err, fmt.Errorf("destroying VM %s created for it: %w", r.created.ID, derr))
		}
	}
	return Result{}, err
}

// superseded ends a switch whose intent is gone from a record that still
// exists. The VM this run created is held by no journal and named by no
// record, so it is destroyed. That happens within the lease only, and never
// if the record names the VM: a process that took the switch over after the
// lease may have recorded it. Otherwise the VM is left, tagged, for the
// Reconciler.
func (r *run) superseded(e *supersededError, cause error) (Result, error) {
	err := fmt.Errorf("switch %s: %w", e.claim, cause)
	if c := r.created; c != nil {
		cur := e.fresh.Instance
		switch {
		case cur != nil && cur.ID == c.ID && cur.Provider == c.Provider:
		case r.ctx.Err() != nil:
			err = errors.Join(err, fmt.Errorf("VM %s created for it is left for the Reconciler: the lease has ended", c.ID))
		default:
			if _, derr := r.deprovision(StageRollback, *c); derr != nil {
				err = errors.Join(err, fmt.Errorf("destroying VM %s created for it: %w", c.ID, derr))
			}
		}
	}
	return Result{Workspace: e.fresh}, err
}

func (r *run) done(in *Intent) (Result, error) {
	r.res.Workspace = r.ws
	r.res.Switched = NormalizeProvider(in.From.Provider) != in.To.Provider
	r.res.Recreated = in.Old != nil && in.Provision
	return r.res, nil
}

// hook runs BeforeDeprovision on the workspace as recorded now when the
// journal requires it and does not say it completed, and journals that it
// completed before anything is destroyed. A switch whose journal requires
// the hook cannot go on in a Switcher that has none.
func (r *run) hook() error {
	in := r.ws.Pending
	if !in.Hook || in.HookDone {
		// The journal decides: a switch started without the hook never
		// runs one — its old VM may be gone already — and a completed
		// hook never runs again.
		return nil
	}
	h := r.s.cfg.hooks.BeforeDeprovision
	if h == nil {
		return fmt.Errorf("switch %s of workspace %q: %w", in.ID, r.ws.ID, ErrHookRequired)
	}
	sp := r.t.stageCtx(r.ctx, StageHook, "", "")
	err := foreignCause(h(sp.ctx, r.ws.Clone()))
	sp.end(err)
	if err != nil {
		return err
	}
	if err := r.write("", func(w *Workspace) {
		ownIntent(w).HookDone = true
	}); err != nil {
		return &hookRecordError{err: err}
	}
	return nil
}

// hookFailed reports whether err from hook proves that nothing was
// destroyed: the hook itself failed. A hook that ran but could not be
// journaled, or a hook this Switcher lacks, proves nothing of the kind.
func hookFailed(err error) bool {
	return !errors.As(err, new(*hookRecordError)) && !errors.Is(err, ErrHookRequired)
}

// hookRecordError is a hook that ran but whose completion could not be
// journaled: the write's outcome is unknown, so the switch must not abort.
type hookRecordError struct{ err error }

func (e *hookRecordError) Error() string {
	return "journaling that the BeforeDeprovision hook completed: " + e.err.Error()
}
func (e *hookRecordError) Unwrap() error { return e.err }

// deprovision destroys inst within the run's lease, reported as a stage of
// the switch (see Switcher.deprovision).
func (r *run) deprovision(stage Stage, inst Instance) (refused bool, err error) {
	at := StageEvent{WorkspaceID: r.t.ev.WorkspaceID, IntentID: r.t.ev.IntentID, Stage: stage}
	return r.s.deprovision(r.ctx, at, r.t.quiet, inst)
}

// provision creates the intent's new VM, or finds the one an earlier attempt
// created with the same token. It reports whether a failure was a refusal:
// the provider said of every attempt that it did not act, so no VM exists
// for the token. A VM the driver returned but that cannot be accepted is not
// a refusal: it exists, and the token in the journal keeps it tracked.
func (r *run) provision() (Instance, bool, error) {
	in := r.ws.Pending
	owner := in.Owner
	if owner == "" {
		owner = r.s.cfg.owner
	}
	req := ProvisionRequest{WorkspaceID: r.ws.ID, Compute: in.To, Token: in.Token, Owner: owner, Installation: in.Installation}
	p := r.s.providers[in.To.Provider]
	sp := r.t.stageCtx(r.ctx, StageProvision, in.To.Provider, "")
	var inst Instance
	var rt refusalTally
	attempts, err := r.s.retrier(&sp).Do(sp.ctx, func(ctx context.Context) error {
		var err error
		inst, err = p.Provision(ctx, req)
		return rt.note(foreignCause(err))
	})
	refused := rt.refused(err)
	if err == nil {
		err = completeInstance(&inst, req)
	}
	if err == nil && in.Old != nil && inst.ID == in.Old.ID && inst.Provider == in.Old.Provider {
		// The old VM cannot be the new one: recording it would point at a
		// VM the switch destroys, destroying it would lose the workspace's.
		err = fmt.Errorf("provider %q answered the new VM's token %s with the old VM %s", inst.Provider, in.Token, inst.ID)
	}
	sp.ev.Attempts = attempts
	sp.ev.InstanceID = inst.ID
	sp.end(err)
	if errors.Is(err, ErrTokenSpent) && !r.rotated {
		// The token's VM is gone for good and the token cannot make
		// another: journal a fresh one, then provision with it. Nothing
		// alive is let go, and a resumed switch uses the new token.
		r.rotated = true
		if werr := r.write(StageProvision, func(w *Workspace) {
			next := ownIntent(w)
			next.Token, next.New = newID(), nil
		}); werr != nil {
			return Instance{}, false, errors.Join(err, werr)
		}
		return r.provision()
	}
	if err != nil {
		return Instance{}, refused, err
	}
	r.created = &inst
	return inst, false, nil
}

// refusalTally follows the attempts of one provider call: the call was
// refused only if every attempt that was made was refused.
type refusalTally struct {
	calls, refusals int
}

func (t *refusalTally) note(err error) error {
	t.calls++
	if err != nil && errors.Is(err, ErrRefused) {
		t.refusals++
	}
	return err
}

// refused reports whether the call, which ended with err, certainly did not
// take effect. A context that ended during an attempt leaves that attempt's
// outcome unknown; one that ended between attempts does not.
func (t *refusalTally) refused(err error) bool {
	return err != nil && t.calls > 0 && t.refusals == t.calls
}

// completeInstance fills what a driver left out of a provisioned VM and
// refuses one without an id: a VM that cannot be named cannot be tracked.
func completeInstance(inst *Instance, req ProvisionRequest) error {
	if inst.ID == "" {
		return fmt.Errorf("provider %q returned a VM without an id for token %s: %w", req.Compute.Provider, req.Token, ErrTransient)
	}
	if inst.Provider == "" {
		inst.Provider = req.Compute.Provider
	}
	if inst.Provider != req.Compute.Provider {
		return fmt.Errorf("provider %q returned VM %s as one of provider %q; the switch stays journaled with the VM's token", req.Compute.Provider, inst.ID, inst.Provider)
	}
	if inst.WorkspaceID == "" {
		inst.WorkspaceID = req.WorkspaceID
	}
	if inst.Token == "" {
		inst.Token = req.Token
	}
	if inst.InstanceType == "" {
		inst.InstanceType = req.Compute.InstanceType
	}
	if inst.Image == "" {
		inst.Image = req.Compute.Image
	}
	return nil
}

// write stores the claimed workspace changed by mutate, with compare-and-
// swap. mutate sets the record's fields and, to change the intent, edits
// the one ownIntent gives it. If the record changed but still holds this run's claim (a writer
// outside cloudswitch bumped the version), it applies mutate again to the
// fresh record; if the claim is gone, it fails with ErrSwitchInProgress.
// A stage of "" writes without reporting a stage.
func (r *run) write(stage Stage, mutate func(*Workspace)) error {
	ctx, cancel := r.liveCtx()
	defer cancel()
	claim := r.ws.Pending
	base := r.ws
	for attempt := 1; ; attempt++ {
		next := base // mutate copies the intent before changing it: see ownIntent
		mutate(&next)
		var sp span
		if stage != "" {
			sp = r.t.stageCtx(ctx, stage, "", "")
		}
		stored, err := r.s.store.Update(ctx, next)
		if stage != "" {
			sp.end(err)
		}
		if err == nil {
			if next.Pending != nil && (stored.Pending == nil || stored.Pending.ID != next.Pending.ID) {
				// A store that drops what it was given breaks the journal:
				// nothing it answers can be trusted to hold the claim.
				return fmt.Errorf("the store answered workspace %q's write without the intent it was given: %w", base.ID, errStoreBroken)
			}
			r.ws = stored
			return nil
		}
		if errors.Is(err, ErrNotFound) {
			// Gone only if a read confirms it: a store may mistake one
			// failure for another, and a deleted workspace is acted on.
			fresh, gerr := r.s.store.Get(ctx, base.ID)
			switch {
			case errors.Is(gerr, ErrNotFound):
				return &vanishedError{cause: err}
			case gerr == nil && !holdsClaim(fresh, claim):
				return r.lostClaim(fresh, claim)
			}
			return fmt.Errorf("the store answered not found for workspace %q, but a read did not confirm it: %w", base.ID, err)
		}
		if !errors.Is(err, ErrConflict) || attempt == 3 {
			return err
		}
		fresh, gerr := r.s.store.Get(ctx, base.ID)
		if gerr != nil {
			return errors.Join(err, gerr)
		}
		if !holdsClaim(fresh, claim) {
			return r.lostClaim(fresh, claim)
		}
		base = fresh
	}
}

// errStoreBroken marks a Store answer that contradicts what was written.
var errStoreBroken = errors.New("the store broke its contract")

// lostClaim explains a record that no longer holds this run's claim. Either
// another process took the same intent over, and it goes on with it. Or the
// intent is gone from the record altogether: the workspace was deleted and
// created again, or someone cleared the journal. Then nothing of this
// switch remains in the record.
func (r *run) lostClaim(fresh Workspace, claim *Intent) error {
	if fresh.Pending != nil && fresh.Pending.ID == claim.ID {
		return fmt.Errorf("switch %s of workspace %q was taken over by another process: %w", claim.ID, fresh.ID, ErrSwitchInProgress)
	}
	return &supersededError{fresh: fresh, claim: claim.ID}
}

// supersededError is a switch whose intent is no longer in its workspace's
// record. It matches ErrConflict: the workspace changed under the switch.
type supersededError struct {
	fresh Workspace
	claim string
}

func (e *supersededError) Error() string {
	return fmt.Sprintf("workspace %q no longer holds switch %s: it was deleted and created again, or its journal was cleared", e.fresh.ID, e.claim)
}

func (e *supersededError) Is(target error) bool { return target == ErrConflict }

// holdsClaim reports whether w still holds the claim: the same intent, the
// same holder.
func holdsClaim(w Workspace, claim *Intent) bool {
	return w.Pending != nil && w.Pending.ID == claim.ID && w.Pending.Holder == claim.Holder
}

// ownIntent gives w an intent of its own to change, so that a write's
// mutation never reaches the intent r.ws (and what callers hold) shares.
func ownIntent(w *Workspace) *Intent {
	p := *w.Pending
	w.Pending = &p
	return &p
}

// liveCtx returns the run's context, or, once it has ended, a short one for
// the writes that close the switch. Only writes use it: they are
// compare-and-swap and cannot clobber whoever claimed the intent since.
func (r *run) liveCtx() (context.Context, context.CancelFunc) {
	if r.ctx.Err() == nil {
		return r.ctx, func() {}
	}
	return context.WithTimeout(context.WithoutCancel(r.ctx), cleanupTimeout)
}

func isTransient(err error) bool { return errors.Is(err, ErrTransient) }

func cloneInstance(i *Instance) *Instance {
	if i == nil {
		return nil
	}
	c := *i
	return &c
}
