package wiring

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/emulated"
)

// ErrEmulatedRecords is the error of CheckEmulatorsKnowRecords: the
// database records VMs on emulated clouds that the emulators at hand are
// not the clouds of.
var ErrEmulatedRecords = errors.New("the database records VMs on emulated clouds that these emulators do not have: " +
	"they are fresh (a new examples/emulators, or in-process emulators whose state file is gone), " +
	"and would reuse the recorded ids for new VMs — a switch could then destroy another workspace's VM. " +
	"Point -emulators at the emulators the database was used with, or delete the database to start afresh")

// CheckEmulatorsKnowRecords fails, with ErrEmulatedRecords, when the
// database records VMs on emulated providers (a workspace's VM, or one a
// pending switch destroys or created) and the emulators' ground truth, vms,
// shows they are not the clouds those records were written against: they
// hold no VM at all (fresh emulators, which would hand the recorded ids out
// again), or a recorded id names another workspace's VM (handed out again
// already). A recorded VM that is merely gone is not a reason: a switch may
// have destroyed it just before the last process stopped. It fails closed:
// a listing that breaks is an error too. It only reads.
func CheckEmulatorsKnowRecords(ctx context.Context, workspaces interface {
	List(context.Context) iter.Seq2[cloudswitch.Workspace, error]
}, modes map[string]Mode, vms []emulated.VM) error {
	type key struct{ provider, id string }
	truth := make(map[key]emulated.VM, len(vms))
	for _, vm := range vms {
		truth[key{vm.Provider, vm.ID}] = vm
	}
	recorded := 0
	for w, err := range workspaces.List(ctx) {
		if err != nil {
			return fmt.Errorf("checking the records against the emulated clouds: %w", err)
		}
		for _, inst := range []*cloudswitch.Instance{w.Instance, pendingOld(w), pendingNew(w)} {
			if inst == nil {
				continue
			}
			p := inst.Provider
			if p == "" { // a record from before providers: its compute's
				p = cloudswitch.NormalizeProvider(w.Compute.Provider)
			}
			if modes[p] != Emulated {
				continue
			}
			recorded++
			vm, ok := truth[key{p, inst.ID}]
			if !ok {
				continue
			}
			if vm.WorkspaceID != "" && vm.WorkspaceID != w.ID {
				return fmt.Errorf("workspace %s records %s VM %s, which the emulators hold for workspace %s: %w",
					w.ID, p, inst.ID, vm.WorkspaceID, ErrEmulatedRecords)
			}
		}
	}
	if recorded > 0 && len(vms) == 0 {
		return fmt.Errorf("%d recorded VMs, and the emulators hold none: %w", recorded, ErrEmulatedRecords)
	}
	return nil
}

func pendingOld(w cloudswitch.Workspace) *cloudswitch.Instance {
	if w.Pending == nil {
		return nil
	}
	return w.Pending.Old
}

func pendingNew(w cloudswitch.Workspace) *cloudswitch.Instance {
	if w.Pending == nil {
		return nil
	}
	return w.Pending.New
}
