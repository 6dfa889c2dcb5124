package switchtest

import (
	"context"
	"errors"
	"fmt"

	"github.com/cloudswitch/cloudswitch"
)

// crashDecommission lets a decommission's process die at each of its
// operations and checks that a resume by a new process leaves the workspace
// either exactly as it was (record, VM, no intent) or exactly gone (no
// record, no VM).
func (w *world) crashDecommission(base, cloud string) {
	t := w.t
	ctx := context.Background()
	req := cloudswitch.DecommissionRequest{ConfirmDestroy: true}

	ref := w.seed(base+"ref", cloud, true)
	p := &process{}
	if _, err := w.switcher(p, w.hooks(nil)).Decommission(ctx, ref.ID, req); err != nil {
		t.Fatalf("undisturbed decommission failed: %v (steps %v)", err, p.steps())
	}
	steps := p.steps()
	t.Logf("an undisturbed decommission takes %d steps: %v", len(steps), steps)
	w.requireGone(ref.ID, "undisturbed decommission")

	deleted := 0
	for k := 1; k <= len(steps); k++ {
		before := w.seed(fmt.Sprintf("%sk%02d", base, k), cloud, true)
		when := fmt.Sprintf("crash at step %d (%s) of %v", k, steps[k-1], steps)
		dying := &process{crashAt: k}
		_, _ = w.switcher(dying, w.hooks(nil)).Decommission(ctx, before.ID, req)
		if !dying.dead {
			t.Fatalf("%s: the process never reached step %d", when, k)
		}
		w.clock.expireLeases()
		res, err := w.switcher(nil, w.hooks(nil)).Resume(ctx, before.ID)
		switch {
		case errors.Is(err, cloudswitch.ErrNotFound) || (err == nil && res.Deleted):
			w.requireGone(before.ID, when)
			deleted++
			continue
		case err != nil:
			t.Fatalf("%s: Resume by a new process: %v", when, err)
		}
		after := w.checkNoOrphan(before.ID, when)
		if res.RolledBack || after.Compute != before.Compute || !sameID(after.Instance, before.Instance) {
			t.Errorf("%s: the workspace is neither unchanged nor gone: %s (before %s)", when, describe(after), describe(before))
		}
	}
	if deleted == 0 {
		t.Errorf("no crash point ended with the workspace deleted")
	}
}

// requireGone fails unless workspace id has no record and no live VM.
func (w *world) requireGone(id, when string) {
	w.t.Helper()
	if _, err := w.store.Get(context.Background(), id); !errors.Is(err, cloudswitch.ErrNotFound) {
		w.t.Errorf("%s: workspace %s: got %v; want it deleted", when, id, err)
	}
	if live := w.liveOf(id); len(live) != 0 {
		w.t.Errorf("%s: workspace %s is deleted but its VMs %v are alive", when, id, live)
	}
}

// deletingStore is a process's store that can also delete with
// compare-and-swap, for a store under test that can.
type deletingStore struct{ store }

func (s deletingStore) DeleteIf(ctx context.Context, ws cloudswitch.Workspace) error {
	return s.p.do("store.delete", func() error {
		return s.inner.(cloudswitch.Deleter).DeleteIf(ctx, ws)
	})
}
