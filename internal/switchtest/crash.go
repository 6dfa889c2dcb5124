package switchtest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/cloudswitch/cloudswitch"
)

// scenario is one kind of switch.
type scenario struct {
	strategy     cloudswitch.Strategy
	provisioning bool
	from, to     string // providers; equal for a same-provider change
	withVM       bool
}

func (s scenario) String() string {
	vm := "with-vm"
	if !s.withVM {
		vm = "no-vm"
	}
	return fmt.Sprintf("%s/provisioning=%v/%s-to-%s/%s", s.strategy, s.provisioning, s.from, s.to, vm)
}

func (s scenario) request() cloudswitch.Request {
	req := cloudswitch.Request{Compute: cloudswitch.Compute{Provider: s.to}, ConfirmRecreate: true}
	if s.from == s.to {
		req.Compute.InstanceType = instanceType(s.to, 1)
	}
	return req
}

func scenarios(clouds []Cloud) []scenario {
	a, b := clouds[0].Name, clouds[1].Name
	var out []scenario
	for _, st := range []cloudswitch.Strategy{cloudswitch.BreakBeforeMake, cloudswitch.MakeBeforeBreak} {
		for _, prov := range []bool{true, false} {
			out = append(out, scenario{st, prov, a, b, true}, scenario{st, prov, b, a, true})
		}
	}
	return append(out,
		scenario{cloudswitch.BreakBeforeMake, true, a, b, false}, // a provider change without a VM
		scenario{cloudswitch.BreakBeforeMake, true, a, a, false}, // the first VM of a workspace
		scenario{cloudswitch.BreakBeforeMake, true, a, a, true},  // a same-provider edit
	)
}

// CrashAtEveryStep lets a switch's process die at its k-th operation (the
// operation takes effect, the caller never hears back, nothing after it
// happens) for every k of an undisturbed switch, lets a new process resume
// once the lease has expired, and checks that the workspace is exactly
// unchanged or exactly switched, with exactly the VM its record names alive.
// A same-provider change of instance type is a resize on a driver that can
// resize. On a store that deletes with compare-and-swap, it does the same
// for a decommission, which must leave the workspace unchanged or gone.
func CrashAtEveryStep(t *testing.T, env Env) {
	w := newWorld(t, env)
	for i, sc := range scenarios(w.clouds) {
		t.Run(sc.String(), func(t *testing.T) {
			w := *w
			w.t = t
			w.crashEverywhere(fmt.Sprintf("%s-s%d-", w.prefix, i), sc)
		})
	}
	if _, ok := w.store.(cloudswitch.Deleter); ok {
		for i, c := range w.clouds[:2] {
			t.Run("decommission/"+c.Name, func(t *testing.T) {
				w := *w
				w.t = t
				w.crashDecommission(fmt.Sprintf("%s-d%d-", w.prefix, i), c.Name)
			})
		}
	}
}

func (w *world) crashEverywhere(base string, sc scenario) {
	t := w.t
	ctx := context.Background()
	opts := []cloudswitch.Option{cloudswitch.WithStrategy(sc.strategy), cloudswitch.WithProvisioning(sc.provisioning)}

	// An undisturbed switch tells how many operations there are.
	ref := w.seed(base+"ref", sc.from, sc.withVM)
	p := &process{}
	res, err := w.switcher(p, opts...).Switch(ctx, ref.ID, sc.request())
	if err != nil {
		t.Fatalf("undisturbed switch failed: %v (steps %v)", err, p.steps())
	}
	target := res.Workspace.Compute
	steps := p.steps()
	t.Logf("an undisturbed switch takes %d steps: %v", len(steps), steps)
	w.checkNoOrphan(ref.ID, "undisturbed switch")

	switched := 0
	for k := 1; k <= len(steps); k++ {
		before := w.seed(fmt.Sprintf("%sk%02d", base, k), sc.from, sc.withVM)
		when := fmt.Sprintf("crash at step %d (%s) of %v", k, steps[k-1], steps)

		dying := &process{crashAt: k}
		_, _ = w.switcher(dying, opts...).Switch(ctx, before.ID, sc.request())
		if !dying.dead {
			t.Fatalf("%s: the process never reached step %d", when, k)
		}

		w.clock.expireLeases()
		res, err := w.switcher(nil, opts...).Resume(ctx, before.ID)
		if err != nil {
			t.Fatalf("%s: Resume by a new process: %v", when, err)
		}
		after := w.checkNoOrphan(before.ID, when)
		if w.settledAs(before, after, target, sc, when) {
			switched++
			if res.RolledBack {
				t.Errorf("%s: Resume reported a rollback, but the workspace switched", when)
			}
		}
	}
	if switched == 0 {
		t.Errorf("no crash point ended switched: the resumed switches never went forward")
	}
}

// settledAs checks that after is exactly before or exactly switched to
// target, and reports which.
func (w *world) settledAs(before, after cloudswitch.Workspace, target cloudswitch.Compute, sc scenario, when string) bool {
	t := w.t
	sameVM := func(a, b *cloudswitch.Instance) bool {
		if a == nil || b == nil {
			return a == b
		}
		return a.Provider == b.Provider && a.ID == b.ID
	}
	if after.Compute == before.Compute && sameVM(after.Instance, before.Instance) {
		if before.Instance != nil && !w.alive(*before.Instance) {
			t.Errorf("%s: workspace unchanged but its VM %s is gone", when, before.Instance.ID)
		}
		return false
	}
	if after.Compute != target {
		t.Errorf("%s: workspace is neither unchanged nor switched: %s (before %s, target %+v)", when, describe(after), describe(before), target)
		return false
	}
	changesProvider := sc.from != sc.to
	if before.Instance != nil && changesProvider && w.alive(*before.Instance) {
		t.Errorf("%s: switched, but the old VM %s is alive", when, before.Instance.ID)
	}
	_, resizes := w.cloud(sc.to).Provider.(cloudswitch.Resizer)
	switch {
	case !changesProvider && before.Instance != nil && resizes:
		if !sameVM(after.Instance, before.Instance) {
			t.Errorf("%s: a change of instance type on a driver that resizes replaced the VM: %s", when, describe(after))
		}
	case !changesProvider && before.Instance != nil:
		if sameVM(after.Instance, before.Instance) || w.alive(*before.Instance) {
			t.Errorf("%s: a change of instance type on a driver that cannot resize must recreate the VM: %s", when, describe(after))
		}
	case sc.provisioning:
		if after.Instance == nil || after.Instance.Provider != target.Provider || !w.alive(*after.Instance) {
			t.Errorf("%s: switched with provisioning on, but no live VM on %s is recorded: %s", when, target.Provider, describe(after))
		}
	default:
		if after.Instance != nil {
			t.Errorf("%s: switched without provisioning, but the record names VM %s", when, after.Instance.ID)
		}
	}
	return true
}

func (w *world) alive(inst cloudswitch.Instance) bool {
	for _, id := range w.liveOf(inst.WorkspaceID) {
		if id == inst.Provider+"/"+inst.ID {
			return true
		}
	}
	return false
}

// errorKind names the kind of a Switch error, for messages.
func errorKind(err error) string {
	var abort *cloudswitch.AbortError
	var incomplete *cloudswitch.IncompleteError
	switch {
	case err == nil:
		return "nil"
	case errors.As(err, &incomplete):
		return "incomplete"
	case errors.As(err, &abort):
		return "aborted"
	case errors.Is(err, cloudswitch.ErrSwitchInProgress):
		return "in-progress"
	case errors.Is(err, cloudswitch.ErrConflict):
		return "conflict"
	case errors.Is(err, cloudswitch.ErrConfirmRequired):
		return "confirm-required"
	case errors.Is(err, cloudswitch.ErrInvalid):
		return "invalid"
	}
	return "other: " + err.Error()
}
