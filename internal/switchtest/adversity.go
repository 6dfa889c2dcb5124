package switchtest

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"sync"

	"github.com/cloudswitch/cloudswitch"
)

// The adversities RandomFaults adds to faulty processes: hooks, observers
// that misbehave, users who delete and re-create workspaces, and a second
// installation on the same clouds.

// hookLog records which switches ran their BeforeDeprovision hook.
type hookLog struct {
	mu  sync.Mutex
	ran map[string]bool // by intent id
}

func (h *hookLog) mark(intent string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ran == nil {
		h.ran = make(map[string]bool)
	}
	h.ran[intent] = true
}

func (h *hookLog) has(intent string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ran[intent]
}

// hooks returns a BeforeDeprovision hook that fails with failure, or, when
// failure is nil, records that the switch's backup ran.
func (w *world) hooks(failure error) cloudswitch.Option {
	return cloudswitch.WithHooks(cloudswitch.Hooks{BeforeDeprovision: func(_ context.Context, ws cloudswitch.Workspace) error {
		if failure != nil {
			return failure
		}
		if ws.Pending != nil {
			w.hooked.mark(ws.Pending.ID)
		}
		return nil
	}})
}

// deadlineDropper is an observer that hands every stage a context without
// the lease's deadline or the caller's cancellation.
type deadlineDropper struct{ cloudswitch.NopObserver }

func (deadlineDropper) SwitchStarted(context.Context, cloudswitch.SwitchEvent) context.Context {
	return context.Background()
}

func (deadlineDropper) StageStarted(context.Context, cloudswitch.StageEvent) context.Context {
	return context.Background()
}

// guarded is a provider that checks, before each destruction, that the
// switch destroying a VM ran the hook its journal requires, and that every
// call runs under a deadline (the lease).
type guarded struct {
	inner cloudswitch.Provider
	w     *world
}

func (g guarded) Provision(ctx context.Context, req cloudswitch.ProvisionRequest) (cloudswitch.Instance, error) {
	g.requireDeadline(ctx, "Provision")
	return g.inner.Provision(ctx, req)
}

func (g guarded) Deprovision(ctx context.Context, inst cloudswitch.Instance) error {
	g.requireDeadline(ctx, "Deprovision")
	if ws, err := g.w.store.Get(context.Background(), inst.WorkspaceID); err == nil && ws.Pending != nil {
		in := ws.Pending
		if in.Hook && in.Old != nil && in.Old.ID == inst.ID && !g.w.hooked.has(in.ID) {
			g.w.t.Errorf("VM %s of workspace %s is being destroyed by switch %s before the hook its journal requires ran",
				inst.ID, inst.WorkspaceID, in.ID)
		}
	}
	return g.inner.Deprovision(ctx, inst)
}

func (g guarded) Instances(ctx context.Context, owner string) iter.Seq2[cloudswitch.Instance, error] {
	return g.inner.Instances(ctx, owner)
}

func (g guarded) requireDeadline(ctx context.Context, call string) {
	if _, ok := ctx.Deadline(); !ok {
		g.w.t.Errorf("%s ran without a deadline: a provider call may outlive the switch's lease", call)
	}
}

// deleter is a store that can delete a workspace.
type deleter interface {
	Delete(ctx context.Context, id string) error
}

// recreate deletes workspace id and creates it again, with the same id and
// no VM, as a user of the store would.
func (w *world) recreate(d deleter, id string) error {
	ctx := context.Background()
	old, err := w.store.Get(ctx, id)
	if err != nil {
		return err
	}
	if err := d.Delete(ctx, id); err != nil {
		return err
	}
	_, err = w.create(ctx, cloudswitch.Workspace{ID: id, Compute: old.Compute})
	return err
}

// neighbour is another installation on the same clouds and owner: its own
// store, its own workspaces with VMs.
type neighbour struct {
	vms []cloudswitch.Instance
}

// neighbour creates the other installation, when the store under test has
// installation ids (without them two installations cannot be told apart).
func (w *world) neighbour() *neighbour {
	if _, ok := w.store.(cloudswitch.InstallationStore); !ok {
		return nil
	}
	st, create := w.env.NewStore(w.t)
	providers := make(map[string]cloudswitch.Provider, len(w.clouds))
	for _, c := range w.clouds {
		providers[c.Name] = c.Provider
	}
	sw, err := cloudswitch.New(st, providers, w.options()...)
	if err != nil {
		w.t.Fatalf("neighbour: New: %v", err)
	}
	n := &neighbour{}
	for i, c := range w.clouds[:2] {
		id := fmt.Sprintf("nb-%s-%d", randomHex(4), i) // not under the prefix: not this installation's
		if _, err := create(context.Background(), cloudswitch.Workspace{ID: id, Compute: cloudswitch.Compute{Provider: c.Name, InstanceType: instanceType(c.Name, 0)}}); err != nil {
			w.t.Fatalf("neighbour: create %s: %v", id, err)
		}
		res, err := sw.Switch(context.Background(), id, cloudswitch.Request{})
		if err != nil || res.Provisioned == nil {
			w.t.Fatalf("neighbour: provisioning %s: %+v, %v", id, res, err)
		}
		n.vms = append(n.vms, *res.Provisioned)
	}
	return n
}

// checkNeighbour fails if any VM of the other installation is gone.
func (w *world) checkNeighbour(n *neighbour) {
	if n == nil {
		return
	}
	for _, vm := range n.vms {
		live, err := w.cloud(vm.Provider).Live(context.Background())
		if err != nil {
			w.t.Fatalf("listing %s: %v", vm.Provider, err)
		}
		found := false
		for _, inst := range live {
			found = found || inst.ID == vm.ID
		}
		if !found {
			w.t.Errorf("VM %s/%s of another installation sharing the clouds and the owner was destroyed", vm.Provider, vm.ID)
		}
	}
}

// cleanOrphans runs a Reconciler with deletion on over the settled world,
// which destroys the VMs of deleted workspaces. Only stores with
// installation ids get one: without them, other tests' VMs on shared clouds
// would be judged too.
func (w *world) cleanOrphans(sw *cloudswitch.Switcher, round int) {
	if _, ok := w.store.(cloudswitch.InstallationStore); !ok {
		return
	}
	rec, err := sw.Reconciler(cloudswitch.WithDeleteOrphans(true), cloudswitch.WithGracePeriod(0),
		cloudswitch.WithDeleteLimit(1000))
	if err != nil {
		w.t.Fatalf("round %d: cleaning orphans: %v", round, err)
	}
	rep, err := rec.Reconcile(context.Background())
	if err != nil {
		w.t.Errorf("round %d: cleaning orphans: %v", round, err)
	}
	for _, o := range rep.Orphans {
		if !strings.HasPrefix(o.WorkspaceID, w.prefix) {
			w.t.Errorf("round %d: the Reconciler judged VM %s/%s of workspace %q, not one of this installation's", round, o.Provider, o.ID, o.WorkspaceID)
		}
	}
}
