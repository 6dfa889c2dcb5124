package cloudswitch

import (
	"context"
	"errors"
	"fmt"
)

// DecommissionRequest asks for a workspace to be deleted with its VM.
type DecommissionRequest struct {
	// ConfirmDestroy must be true when the workspace has a VM, since
	// decommissioning destroys it; without it Decommission returns
	// ErrConfirmRequired and changes nothing.
	ConfirmDestroy bool
	// IfVersion, when non-zero, is a precondition: Decommission returns
	// ErrConflict and changes nothing unless the workspace's Version equals
	// it.
	IfVersion int64
}

// Decommission deletes workspace id safely: journaled like a switch, it runs
// the BeforeDeprovision hook, destroys the workspace's VM, and only then
// deletes the record, so that no VM outlives the record that points at it.
// It needs a Store that implements Deleter.
//
// A workspace without a VM is deleted with one compare-and-swap. With a VM,
// an intent is journaled first; if the process dies, Resume (or the
// Reconciler) finishes the decommission. It is refused with
// ErrSwitchInProgress while a switch of the workspace is pending. Errors are
// those of Switch: ErrNotFound, ErrConflict, ErrConfirmRequired,
// *AbortError when nothing changed, *IncompleteError when it stopped
// part-way, journaled. On success Result.Deleted is true and
// Result.Deprovisioned names the VM destroyed.
func (s *Switcher) Decommission(ctx context.Context, id string, req DecommissionRequest) (Result, error) {
	t := s.trace(ctx, SwitchEvent{WorkspaceID: id})
	res, err := s.doDecommission(t, id, req)
	t.end(res, err)
	return res, err
}

func (s *Switcher) doDecommission(t *tracer, id string, req DecommissionRequest) (Result, error) {
	if id == "" {
		return Result{}, &ValidationError{Field: "workspace_id", Value: id, Reason: "is empty"}
	}
	del, ok := s.store.(Deleter)
	if !ok {
		return Result{}, fmt.Errorf("cloudswitch: Decommission: the store (%T) cannot delete a workspace with compare-and-swap (it does not implement Deleter)", s.store)
	}
	w, err := s.read(t, id)
	if err != nil {
		return Result{}, err
	}
	res := Result{Workspace: w}
	t.ev.From = NormalizeProvider(w.Compute.Provider)
	switch {
	case w.Pending != nil:
		return res, fmt.Errorf("workspace %q: switch %s at phase %s: %w", id, w.Pending.ID, w.Pending.Phase, ErrSwitchInProgress)
	case req.IfVersion != 0 && req.IfVersion != w.Version:
		return res, fmt.Errorf("workspace %q is at version %d, not %d: %w", id, w.Version, req.IfVersion, ErrConflict)
	case w.Instance != nil && !req.ConfirmDestroy:
		return res, fmt.Errorf("workspace %q: decommissioning destroys VM %s: %w", id, w.Instance.ID, ErrConfirmRequired)
	}
	if w.Instance == nil {
		sp := t.stage(StageDelete, "", "")
		err := del.DeleteIf(sp.ctx, w)
		sp.end(err)
		switch {
		case err == nil:
			t.wrote = true
			return Result{Workspace: Workspace{ID: id}, Deleted: true}, nil
		case errors.Is(err, ErrNotFound):
			return res, fmt.Errorf("workspace %q: %w", id, ErrNotFound)
		case errors.Is(err, ErrConflict):
			return res, s.conflict(t, id, err)
		}
		return res, &IncompleteError{Stage: StageDelete, WorkspaceID: id, Err: err}
	}
	old, err := s.oldInstance(w)
	if err != nil {
		return res, &AbortError{Stage: StageValidate, WorkspaceID: id, Err: err}
	}
	installation, err := s.installationID(t)
	if err != nil {
		return res, &AbortError{Stage: StageRead, WorkspaceID: id, Err: err}
	}
	if old.Installation == "" {
		old.Installation = installation
	}
	current := w.Compute
	current.Provider = NormalizeProvider(current.Provider)
	in := s.newIntent(w, current, &old, false)
	in.Phase = PhaseDecommission
	return s.claimAndRun(t, w, in)
}

// decommission runs the hook, destroys the workspace's VM, and deletes the
// record with compare-and-swap against the claimed version.
func (r *run) decommission() (Result, error) {
	in := r.ws.Pending
	if err := r.hook(); err != nil {
		return r.stop(StageHook, err, hookFailed(err))
	}
	if refused, err := r.deprovision(StageDeprovision, *in.Old); err != nil {
		return r.stop(StageDeprovision, err, refused)
	}
	r.res.Deprovisioned = cloneInstance(in.Old)
	if err := r.deleteRecord(); err != nil {
		return r.incomplete(StageDelete, err)
	}
	r.res.Workspace = Workspace{ID: r.ws.ID}
	r.res.Deleted = true
	return r.res, nil
}

// deleteRecord deletes the claimed workspace. A record that changed but
// still holds this run's claim (a writer outside cloudswitch bumped its
// version) is deleted at its new version; one that is already gone counts
// as deleted.
func (r *run) deleteRecord() error {
	del := r.s.store.(Deleter) // Decommission checked it; Resume via canDrive
	ctx, cancel := r.liveCtx()
	defer cancel()
	claim := r.ws.Pending
	w := r.ws
	for attempt := 1; ; attempt++ {
		sp := r.t.stageCtx(ctx, StageDelete, "", "")
		err := del.DeleteIf(sp.ctx, w)
		sp.end(err)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, ErrNotFound):
			if _, gerr := r.s.store.Get(ctx, w.ID); errors.Is(gerr, ErrNotFound) {
				return nil
			}
			return err
		case !errors.Is(err, ErrConflict) || attempt == 3:
			return err
		}
		fresh, gerr := r.s.store.Get(ctx, w.ID)
		if gerr != nil {
			return errors.Join(err, gerr)
		}
		if !holdsClaim(fresh, claim) {
			return fmt.Errorf("decommission %s of workspace %q was taken over by another process: %w", claim.ID, w.ID, ErrSwitchInProgress)
		}
		w = fresh
	}
}
