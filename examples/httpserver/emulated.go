package main

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/examples/internal/wiring"
)

// errEmulatedRecords is why the server refuses in-process emulators on a
// database that already records emulated VMs.
var errEmulatedRecords = errors.New("the database records VMs on emulated clouds of an earlier run, which ended with it; " +
	"emulators started now would not have them, and would reuse their ids for new VMs. " +
	"Delete the database file to start afresh, or run go run ./examples/emulators and pass -emulators, " +
	"so that the emulated clouds outlive the server")

// checkNoEmulatedRecords fails when a workspace's record names a VM — its
// own, or one a pending switch destroys or created — on a provider that
// modes says is emulated. It fails closed: a listing that breaks is an
// error too.
func checkNoEmulatedRecords(ctx context.Context, workspaces interface {
	List(context.Context) iter.Seq2[cloudswitch.Workspace, error]
}, modes map[string]wiring.Mode) error {
	for w, err := range workspaces.List(ctx) {
		if err != nil {
			return fmt.Errorf("checking the records against the in-process emulators: %w", err)
		}
		emulated := func(inst *cloudswitch.Instance) bool {
			if inst == nil {
				return false
			}
			p := inst.Provider
			if p == "" { // a record from before providers: its compute's
				p = cloudswitch.NormalizeProvider(w.Compute.Provider)
			}
			return modes[p] == wiring.Emulated
		}
		held := w.Pending != nil && (emulated(w.Pending.Old) || emulated(w.Pending.New) ||
			(w.Pending.Provision && modes[w.Pending.To.Provider] == wiring.Emulated))
		if emulated(w.Instance) || held {
			return fmt.Errorf("workspace %s, and maybe others: %w", w.ID, errEmulatedRecords)
		}
	}
	return nil
}
