package cloudswitch

import (
	"context"
	"errors"
	"fmt"
)

// resize changes the VM's instance type in place through its driver's
// Resizer, then records the new compute and the VM as it is now, clearing
// the intent. Resizing is idempotent, so a resumed resize simply resizes
// again. A resize the provider refused on the intent's first claim aborts
// with nothing changed; any other failure stays journaled.
func (r *run) resize() (Result, error) {
	in := r.ws.Pending
	rz, ok := r.s.providers[in.Old.Provider].(Resizer)
	if !ok {
		// canDrive checked it for Resume; a Switch only plans a resize for
		// a Resizer.
		return r.incomplete(StageResize, fmt.Errorf("the driver of provider %q cannot resize: %w", in.Old.Provider, ErrUnknownProvider))
	}
	sp := r.t.stageCtx(r.ctx, StageResize, in.Old.Provider, in.Old.ID)
	var inst Instance
	var rt refusalTally
	attempts, err := r.s.retrier(&sp).Do(sp.ctx, func(ctx context.Context) error {
		var err error
		inst, err = rz.Resize(ctx, *in.Old, in.To.InstanceType)
		return rt.note(foreignCause(err))
	})
	if err == nil {
		err = completeResized(&inst, *in.Old, in.To)
	}
	sp.ev.Attempts = attempts
	sp.end(err)
	if errors.Is(err, ErrInstanceNotFound) && !errors.Is(err, ErrNotOurs) {
		// No VM to resize: whatever earlier attempts did, nothing of the
		// record is true of a VM, and waiting cannot bring it back. The
		// resize is given up; the record keeps naming the VM, which the
		// Reconciler reports as dangling.
		return r.abort(StageResize, err)
	}
	if err != nil {
		return r.stop(StageResize, err, rt.refused(err))
	}
	err = r.write(StageCommit, func(w *Workspace) {
		w.Compute = in.To
		w.Instance = &inst
		w.Pending = nil
	})
	if err != nil {
		return r.incomplete(StageCommit, err)
	}
	r.res.Workspace = r.ws
	r.res.Resized = true
	r.res.Provisioned = nil
	return r.res, nil
}

// completeResized fills what a driver left out of a resized VM and refuses
// one that is not the VM it was asked to resize.
func completeResized(inst *Instance, old Instance, to Compute) error {
	if inst.ID == "" {
		inst.ID = old.ID
	}
	if inst.ID != old.ID {
		return fmt.Errorf("resizing VM %s returned VM %s; a resize keeps the VM", old.ID, inst.ID)
	}
	if inst.Provider == "" {
		inst.Provider = old.Provider
	}
	if inst.Provider != old.Provider {
		return fmt.Errorf("resizing VM %s of provider %q returned it as one of provider %q", old.ID, old.Provider, inst.Provider)
	}
	for _, f := range []struct {
		dst *string
		src string
	}{
		{&inst.Region, old.Region}, {&inst.WorkspaceID, old.WorkspaceID}, {&inst.Token, old.Token},
		{&inst.Installation, old.Installation}, {&inst.Image, old.Image},
	} {
		if *f.dst == "" {
			*f.dst = f.src
		}
	}
	if inst.CreatedAt.IsZero() {
		inst.CreatedAt = old.CreatedAt
	}
	if inst.InstanceType == "" {
		inst.InstanceType = to.InstanceType
	}
	if inst.InstanceType != to.InstanceType {
		return fmt.Errorf("resizing VM %s to %s left it at %s", old.ID, to.InstanceType, inst.InstanceType)
	}
	return nil
}
