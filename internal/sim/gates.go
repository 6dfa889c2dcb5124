package sim

import (
	"context"
	"fmt"
	"iter"
	"sync"

	"github.com/cloudswitch/cloudswitch"
)

// actorKey carries the calling actor in every context the library passes
// on to the store, the clouds and the hooks.
type actorKey struct{}

func actorOf(ctx context.Context) *actor {
	a, _ := ctx.Value(actorKey{}).(*actor)
	return a
}

// await parks at the gate for c; after a delay it sleeps and asks again.
func (w *world) await(ctx context.Context, c *call) decision {
	d := w.gate(c)
	if d.kind == delay {
		if !w.sleep(ctx, c.a.proc, d.d) {
			return decision{kind: crashed, err: errCrashed}
		}
		c.late = true
		d = w.gate(c)
	}
	return d
}

// effectCtx is the context an effect runs under: the caller's, or — when
// the caller's context ended while the call was slow and the scheduler
// lets the effect land anyway — one that has not ended.
func effectCtx(ctx context.Context, d decision) (context.Context, error) {
	if err := ctx.Err(); err != nil {
		if d.n%2 == 0 {
			return nil, err // the caller gave up first
		}
		return context.WithoutCancel(ctx), err // the effect landed, the caller gave up
	}
	return ctx, nil
}

// effectHooks are what a gate checks around a call that may take effect:
// before runs once the call will reach the store or the cloud, after runs
// with the result of a call that succeeded there. Either may be nil.
type effectHooks[T any] struct {
	before func()
	after  func(T)
}

// withEffect runs call, which may take effect, behind the gate's decision
// d: failBefore and crashed fail without effect; a caller whose context
// ended either gave up before the effect or after it (effectCtx); failAfter
// takes the effect and loses the answer. The world is marked touched once
// the call ran, whatever it answered.
func withEffect[T any](ctx context.Context, w *world, outside bool, d decision, hooks effectHooks[T],
	call func(context.Context) (T, error)) (T, error) {
	var zero T
	if d.kind == crashed || d.kind == failBefore {
		return zero, d.err
	}
	ectx, cerr := effectCtx(ctx, d)
	if ectx == nil {
		return zero, cerr
	}
	if hooks.before != nil {
		hooks.before()
	}
	var out T
	var err error
	w.run(ectx, outside, func(ctx context.Context) { out, err = call(ctx) })
	w.touched()
	if err == nil && hooks.after != nil {
		hooks.after(out)
	}
	switch {
	case cerr != nil:
		return zero, cerr
	case err != nil:
		return zero, err
	case d.kind == failAfter:
		return zero, d.err
	}
	return out, nil
}

// executor runs a user's Store or Provider outside the simulation's
// bubble, one call at a time, so that its connection goroutines and real
// I/O never stall the scheduler. Its channels are made outside the bubble.
type executor struct {
	mu   sync.Mutex
	reqs chan func()
	done chan struct{}
}

func newExecutor() *executor {
	e := &executor{reqs: make(chan func()), done: make(chan struct{})}
	go func() {
		for f := range e.reqs {
			f()
			e.done <- struct{}{}
		}
	}()
	return e
}

func (e *executor) close() { close(e.reqs) }

// run calls f, outside the bubble when there is an executor. Contexts do
// not cross the bubble: f gets one without the caller's deadline.
func (w *world) run(ctx context.Context, outside bool, f func(ctx context.Context)) {
	if !outside || w.outside == nil {
		f(ctx)
		return
	}
	plain := context.WithoutCancel(ctx)
	w.outside.mu.Lock()
	w.outside.reqs <- func() { f(plain) }
	<-w.outside.done
	w.outside.mu.Unlock()
}

// gatedStore is the Store every simulated process uses: each call waits
// for the scheduler, which may fail it before or after its effect, or
// delay it.
type gatedStore struct{ w *world }

// gatedInstallationStore is a gatedStore over a store that has an
// installation id. The id is read without a gate: a Switcher reads it under
// a lock, once.
type gatedInstallationStore struct {
	gatedStore
	id func(context.Context) (string, error)
}

func (s *gatedInstallationStore) InstallationID(ctx context.Context) (string, error) {
	var id string
	var err error
	s.w.run(ctx, s.w.cfg.StoreOutside, func(ctx context.Context) { id, err = s.id(ctx) })
	return id, err
}

func (s *gatedStore) enter(ctx context.Context, kind, ws, info string) (*actor, decision) {
	a := actorOf(ctx)
	if a == nil {
		s.w.violate("a store %s of workspace %s was made with a context that does not descend from the caller's", kind, ws)
		return nil, decision{kind: crashed, err: errCrashed}
	}
	return a, s.w.await(ctx, &call{a: a, kind: kind, ws: ws, info: info})
}

func (s *gatedStore) Get(ctx context.Context, id string) (cloudswitch.Workspace, error) {
	_, d := s.enter(ctx, "get", id, "")
	if d.kind == crashed || d.kind == failBefore {
		return cloudswitch.Workspace{}, d.err
	}
	ectx, cerr := effectCtx(ctx, d)
	if ectx == nil {
		return cloudswitch.Workspace{}, cerr
	}
	var ws cloudswitch.Workspace
	var err error
	s.w.run(ectx, s.w.cfg.StoreOutside, func(ctx context.Context) { ws, err = s.w.store.Get(ctx, id) })
	if cerr != nil {
		return cloudswitch.Workspace{}, cerr
	}
	return ws, err
}

func (s *gatedStore) Update(ctx context.Context, next cloudswitch.Workspace) (cloudswitch.Workspace, error) {
	info := fmt.Sprintf("v%d", next.Version)
	if next.Pending != nil {
		info += fmt.Sprintf(" intent=%s holder=%s phase=%s", next.Pending.ID, next.Pending.Holder, next.Pending.Phase)
	}
	a, d := s.enter(ctx, "update", next.ID, info)
	return withEffect(ctx, s.w, s.w.cfg.StoreOutside, d, effectHooks[cloudswitch.Workspace]{
		after: func(stored cloudswitch.Workspace) { s.w.sawWrite(a, stored) },
	}, func(ctx context.Context) (cloudswitch.Workspace, error) { return s.w.store.Update(ctx, next) })
}

func (s *gatedStore) Pending(ctx context.Context) iter.Seq2[cloudswitch.Workspace, error] {
	return gatedListing(ctx, s.w, s.w.cfg.StoreOutside, func() decision {
		_, d := s.enter(ctx, "pending", "", "")
		return d
	}, s.w.store.Pending)
}

// deleteIfer is a store that deletes with compare-and-swap
// (cloudswitch.Deleter), which Switcher.Decommission needs.
type deleteIfer interface {
	DeleteIf(ctx context.Context, w cloudswitch.Workspace) error
}

// DeleteIf deletes with compare-and-swap, through a gate. Simulated users
// decommission workspaces only when the store under test can (see
// world.canDecommission); otherwise the call fails before reaching it.
func (s *gatedStore) DeleteIf(ctx context.Context, ws cloudswitch.Workspace) error {
	del, ok := s.w.store.(deleteIfer)
	if !ok {
		return fmt.Errorf("sim: the store %T cannot delete with compare-and-swap", s.w.store)
	}
	_, d := s.enter(ctx, "deleteif", ws.ID, fmt.Sprintf("v%d", ws.Version))
	_, err := withEffect(ctx, s.w, s.w.cfg.StoreOutside, d, effectHooks[struct{}]{},
		func(ctx context.Context) (struct{}, error) { return struct{}{}, del.DeleteIf(ctx, ws) })
	return err
}

// create and remove are the users' calls, through the same gates.
func (s *gatedStore) create(ctx context.Context, ws cloudswitch.Workspace) error {
	_, d := s.enter(ctx, "create", ws.ID, "")
	if d.kind == crashed || d.kind == failBefore {
		return d.err
	}
	var err error
	s.w.run(ctx, s.w.cfg.StoreOutside, func(ctx context.Context) { _, err = s.w.store.Create(ctx, ws) })
	s.w.touched()
	if err == nil {
		s.w.mu.Lock()
		s.w.incarnation[ws.ID]++
		s.w.mu.Unlock()
		if d.kind == failAfter {
			return d.err
		}
	}
	return err
}

func (s *gatedStore) remove(ctx context.Context, id string) error {
	del, ok := s.w.store.(Deleter)
	if !ok {
		return nil
	}
	_, d := s.enter(ctx, "delete", id, "")
	if d.kind == crashed || d.kind == failBefore {
		return d.err
	}
	var err error
	s.w.run(ctx, s.w.cfg.StoreOutside, func(ctx context.Context) { err = del.Delete(ctx, id) })
	s.w.touched()
	if err == nil && d.kind == failAfter {
		return d.err
	}
	return err
}

// gatedProvider is one cloud as every simulated process reaches it.
type gatedProvider struct {
	w     *world
	cloud Cloud
}

func (p *gatedProvider) enter(ctx context.Context, kind, ws, vm, info string) (*actor, decision) {
	a := actorOf(ctx)
	if a == nil {
		p.w.violate("a %s %s call for workspace %s was made with a context that does not descend from the caller's", p.cloud.Name, kind, ws)
		return nil, decision{kind: crashed, err: errCrashed}
	}
	return a, p.w.await(ctx, &call{a: a, kind: kind, ws: ws, vm: p.cloud.Name + "/" + vm, info: info})
}

func (p *gatedProvider) Provision(ctx context.Context, req cloudswitch.ProvisionRequest) (cloudswitch.Instance, error) {
	_, d := p.enter(ctx, "provision", req.WorkspaceID, "", "token="+req.Token)
	return withEffect(ctx, p.w, p.cloud.Outside, d, effectHooks[cloudswitch.Instance]{
		before: func() { p.w.checkProvision(req) },
	}, func(ctx context.Context) (cloudswitch.Instance, error) { return p.cloud.Provider.Provision(ctx, req) })
}

func (p *gatedProvider) Deprovision(ctx context.Context, inst cloudswitch.Instance) error {
	a, d := p.enter(ctx, "deprovision", inst.WorkspaceID, inst.ID, "")
	_, err := withEffect(ctx, p.w, p.cloud.Outside, d, effectHooks[struct{}]{
		before: func() { p.w.checkDestroy(a, p.cloud, inst) },
	}, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, p.cloud.Provider.Deprovision(ctx, inst)
	})
	return err
}

func (p *gatedProvider) Instances(ctx context.Context, owner string) iter.Seq2[cloudswitch.Instance, error] {
	return gatedListing(ctx, p.w, p.cloud.Outside, func() decision {
		_, d := p.enter(ctx, "list", "", "", "")
		return d
	}, func(ctx context.Context) iter.Seq2[cloudswitch.Instance, error] {
		return p.cloud.Provider.Instances(ctx, owner)
	})
}

// gatedListing is a listing behind a gate: enter decides, when the caller
// starts to iterate, whether it fails at once, lists everything, or is cut
// short (truncate) after d.n items. The whole listing is read first, inside
// w.run (outside the simulation's clock when outside says so), then yielded.
func gatedListing[T any](ctx context.Context, w *world, outside bool, enter func() decision,
	list func(context.Context) iter.Seq2[T, error]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		d := enter()
		if d.kind == crashed || d.kind == failBefore {
			yield(zero, d.err)
			return
		}
		var all []T
		var lerr error
		w.run(ctx, outside, func(ctx context.Context) {
			for x, err := range list(ctx) {
				if err != nil {
					lerr = err
					return
				}
				all = append(all, x)
			}
		})
		for i, x := range all {
			if d.kind == truncate && i == d.n {
				yield(zero, d.err)
				return
			}
			if !yield(x, nil) {
				return
			}
		}
		if lerr != nil {
			yield(zero, lerr)
		}
	}
}

// gatedPreflighter, gatedResizer and gatedFullProvider are a gatedProvider
// over a driver that also implements cloudswitch.Preflighter,
// cloudswitch.Resizer or both: the Switcher sees exactly the optional
// interfaces the driver under test has.
type (
	gatedPreflighter  struct{ *gatedProvider }
	gatedResizer      struct{ *gatedProvider }
	gatedFullProvider struct{ *gatedProvider }
)

func (p gatedPreflighter) Preflight(ctx context.Context, req cloudswitch.ProvisionRequest) error {
	return p.preflight(ctx, req)
}

func (p gatedResizer) Resize(ctx context.Context, inst cloudswitch.Instance, instanceType string) (cloudswitch.Instance, error) {
	return p.resize(ctx, inst, instanceType)
}

func (p gatedFullProvider) Preflight(ctx context.Context, req cloudswitch.ProvisionRequest) error {
	return p.preflight(ctx, req)
}

func (p gatedFullProvider) Resize(ctx context.Context, inst cloudswitch.Instance, instanceType string) (cloudswitch.Instance, error) {
	return p.resize(ctx, inst, instanceType)
}

type preflighter interface {
	Preflight(ctx context.Context, req cloudswitch.ProvisionRequest) error
}

type resizer interface {
	Resize(ctx context.Context, inst cloudswitch.Instance, instanceType string) (cloudswitch.Instance, error)
}

// gated returns the gated driver with the optional interfaces of c's.
func (w *world) gated(c Cloud) cloudswitch.Provider {
	g := &gatedProvider{w: w, cloud: c}
	_, pf := c.Provider.(preflighter)
	_, rz := c.Provider.(resizer)
	switch {
	case pf && rz:
		return gatedFullProvider{g}
	case pf:
		return gatedPreflighter{g}
	case rz:
		return gatedResizer{g}
	}
	return g
}

// preflight asks the driver; it changes nothing, so a fault is an answer.
func (p *gatedProvider) preflight(ctx context.Context, req cloudswitch.ProvisionRequest) error {
	_, d := p.enter(ctx, "preflight", req.WorkspaceID, "", "")
	if d.kind == crashed || d.kind == failBefore || d.kind == failAfter {
		return d.err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	var err error
	p.w.run(ctx, p.cloud.Outside, func(ctx context.Context) { err = p.cloud.Provider.(preflighter).Preflight(ctx, req) })
	return err
}

// resize changes a VM's type in place, with the faults of any effect.
func (p *gatedProvider) resize(ctx context.Context, inst cloudswitch.Instance, instanceType string) (cloudswitch.Instance, error) {
	_, d := p.enter(ctx, "resize", inst.WorkspaceID, inst.ID, "to "+instanceType)
	return withEffect(ctx, p.w, p.cloud.Outside, d, effectHooks[cloudswitch.Instance]{},
		func(ctx context.Context) (cloudswitch.Instance, error) {
			return p.cloud.Provider.(resizer).Resize(ctx, inst, instanceType)
		})
}

// hook is a process's BeforeDeprovision hook: a backup that may fail, hang
// or outlive the lease, as the scheduler decides.
func (w *world) hook(ctx context.Context, ws cloudswitch.Workspace) error {
	a := actorOf(ctx)
	if a == nil {
		w.violate("the hook for workspace %s got a context that does not descend from the caller's", ws.ID)
		return errCrashed
	}
	d := w.await(ctx, &call{a: a, kind: "hook", ws: ws.ID})
	switch d.kind {
	case crashed, failBefore:
		return d.err
	case hang:
		w.sleep(ctx, a.proc, maxHang)
		if a.proc.isDead(w) {
			return errCrashed
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("sim: backup hung: %w", err)
		}
		return fmt.Errorf("sim: backup hung for %v", maxHang)
	}
	if a.proc.isDead(w) {
		return errCrashed
	}
	if ws.Pending != nil {
		w.mu.Lock()
		w.hookDone[ws.Pending.ID] = true
		w.mu.Unlock()
	}
	return nil
}
