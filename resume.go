package cloudswitch

import (
	"context"
	"errors"
	"fmt"
)

// Resume settles workspace id's interrupted switch: it claims the intent
// journaled in the record and, from the phase it records, finishes the switch
// or — when it had not committed and cannot go on — undoes it.
//
// Resume returns nil when it settled the workspace either way: Result.Switched
// says it finished, Result.RolledBack that it undid the switch (the workspace
// keeps its old compute and VM). On a workspace with no intent it changes
// nothing and returns the workspace. While the intent's lease has not expired
// it returns ErrSwitchInProgress: the switch may still be running. It
// returns *IncompleteError when the switch is still journaled (a provider is
// still failing), and *AbortError when the journal names a provider this
// Switcher has no driver for, or is one it cannot read; then nothing was
// done.
//
// Resume follows the journal, not the Switcher's options: a switch started as
// MakeBeforeBreak, or without provisioning, is finished that way. It may run
// the BeforeDeprovision hook again.
func (s *Switcher) Resume(ctx context.Context, id string) (Result, error) {
	t := s.trace(ctx, SwitchEvent{WorkspaceID: id, Resumed: true})
	res, err := s.doResume(t, id)
	t.end(res, err)
	return res, err
}

func (s *Switcher) doResume(t *tracer, id string) (Result, error) {
	if id == "" {
		return Result{}, &ValidationError{Field: "workspace_id", Value: id, Reason: "is empty"}
	}
	w, err := s.read(t, id)
	if err != nil {
		return Result{}, err
	}
	res := Result{Workspace: w}
	in := w.Pending
	if in == nil {
		return res, nil
	}
	t.ev.IntentID, t.ev.From, t.ev.To, t.ev.Strategy = in.ID, NormalizeProvider(in.From.Provider), in.To.Provider, in.Strategy
	if err := in.check(); err != nil {
		return res, &AbortError{Stage: StageValidate, WorkspaceID: id, Err: fmt.Errorf("workspace %q: %w", id, err)}
	}
	if err := s.canDrive(in); err != nil {
		return res, &AbortError{Stage: StageValidate, WorkspaceID: id, Err: fmt.Errorf("workspace %q: %w", id, err)}
	}
	now := s.cfg.now()
	if !in.Expired(now) {
		return res, fmt.Errorf("workspace %q: switch %s is leased until %s: %w",
			id, in.ID, in.LeaseExpires.Format("2006-01-02T15:04:05.000Z07:00"), ErrSwitchInProgress)
	}
	if s.needsHook(in) {
		// Left as it is, for a Switcher with the hook: neither finishing
		// nor undoing the switch is this one's to decide without it.
		return res, fmt.Errorf("workspace %q: switch %s must run the BeforeDeprovision hook before it destroys VM %s: %w",
			id, in.ID, in.Old.ID, ErrHookRequired)
	}

	ctx, cancel := context.WithTimeout(t.ctx, s.cfg.lease)
	defer cancel()
	next := w.Clone()
	next.Pending.Holder = newID()
	next.Pending.LeaseExpires = s.cfg.now().Add(s.cfg.lease) // after the deadline is set: never earlier
	next.Pending.Claims++
	sp := t.stageCtx(ctx, StageClaim, "", "")
	stored, err := s.store.Update(sp.ctx, next)
	sp.end(err)
	switch {
	case errors.Is(err, ErrNotFound):
		return res, fmt.Errorf("workspace %q was deleted: %w", id, ErrNotFound)
	case errors.Is(err, ErrConflict):
		return res, fmt.Errorf("workspace %q: switch %s was claimed by another process: %w", id, in.ID, ErrSwitchInProgress)
	case err != nil:
		return res, &IncompleteError{Stage: StageClaim, WorkspaceID: id, IntentID: in.ID, Err: err}
	case !holdsClaim(stored, next.Pending):
		return res, &IncompleteError{Stage: StageClaim, WorkspaceID: id, IntentID: in.ID,
			Err: fmt.Errorf("the store answered the claim without the intent it was given: %w", errStoreBroken)}
	}

	r := &run{s: s, t: t, ctx: ctx, ws: stored}
	res, err = r.drive()
	if _, undone := err.(*AbortError); undone && res.Workspace.Pending == nil && res.Workspace.ID != "" {
		// Undone: the workspace is settled with its old compute and VM.
		// Only the switch's own abort says so — never an AbortError
		// found somewhere inside another error's causes.
		res.RolledBack = true
		return res, nil
	}
	return res, err
}

// needsHook reports whether in's next steps destroy its old VM before the
// BeforeDeprovision hook it requires has run, with no hook here to run.
func (s *Switcher) needsHook(in *Intent) bool {
	return in.Hook && !in.HookDone && !in.Committed && in.Phase != PhaseRollback &&
		in.Old != nil && s.cfg.hooks.BeforeDeprovision == nil
}

// canDrive reports whether this Switcher has a driver for every provider the
// intent's remaining steps call.
func (s *Switcher) canDrive(in *Intent) error {
	var need []string
	switch {
	case in.Phase == PhaseRollback:
		if in.New != nil {
			need = append(need, in.New.Provider)
		}
	case in.Committed:
		need = append(need, in.To.Provider)
	case in.Phase == PhaseResize:
		if _, ok := s.providers[in.Old.Provider].(Resizer); !ok {
			return fmt.Errorf("switch %s resizes a VM of provider %q, whose driver here cannot resize: %w", in.ID, in.Old.Provider, ErrUnknownProvider)
		}
	case in.Phase == PhaseDecommission:
		if _, ok := s.store.(Deleter); !ok {
			return fmt.Errorf("switch %s decommissions the workspace, but this store cannot delete (it does not implement Deleter)", in.ID)
		}
		need = append(need, in.Old.Provider)
	default:
		if in.Old != nil {
			need = append(need, in.Old.Provider)
		}
		if in.Provision {
			need = append(need, in.To.Provider)
		}
	}
	for _, p := range need {
		if _, ok := s.providers[p]; !ok {
			return fmt.Errorf("switch %s needs provider %q, which has no driver here: %w", in.ID, p, ErrUnknownProvider)
		}
	}
	return nil
}
