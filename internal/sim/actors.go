package sim

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cloudswitch/cloudswitch"
)

// process is one simulated program: a Switcher (and perhaps a Reconciler)
// with its own options and clock, and the actors that use them. A crash
// kills every actor of the process at its next call.
type process struct {
	name      string
	crashable bool
	dead      bool
	killed    chan struct{}
	skew      time.Duration
	hooks     bool
	strategy  cloudswitch.Strategy
	provision bool
	recHooks  bool // the Reconciler's resume options carry the hook
	// dropDeadlines gives the process an Observer whose contexts have no
	// deadline: the library must still bound every call by the lease.
	dropDeadlines bool
	sw            *cloudswitch.Switcher
	rec           *cloudswitch.Reconciler
}

func (p *process) isDead(w *world) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return p.dead
}

func (p *process) String() string {
	return fmt.Sprintf("%s{skew=%v hooks=%v %s provision=%v rec=%v rechooks=%v nodeadline=%v}",
		p.name, p.skew, p.hooks, p.strategy, p.provision, p.rec != nil, p.recHooks, p.dropDeadlines)
}

// actor is one goroutine of a process, doing one operation after another
// as the scheduler tells it.
type actor struct {
	name string
	proc *process
	role string // "switcher", "reconciler", "user", "admin"

	// the operation in flight, for the AbortError invariant
	claim *claimSnapshot
}

// claimSnapshot is the record as the actor's switch claimed it.
type claimSnapshot struct {
	intent      *intentLog
	compute     cloudswitch.Compute
	instance    *cloudswitch.Instance
	incarnation int
	liveType    string // the instance type the recorded VM ran at the claim
}

// op is one operation an actor runs.
type op struct {
	kind   string // "switch", "edit", "resume", "reconcile", "create", "delete", "idle", "exit"
	ws     string
	target cloudswitch.Compute
	d      time.Duration
}

func (o op) String() string {
	switch o.kind {
	case "switch", "edit":
		return fmt.Sprintf("%s %s to %s/%s", o.kind, o.ws, o.target.Provider, o.target.InstanceType)
	case "idle":
		return "idle " + o.d.String()
	case "reconcile", "exit":
		return o.kind
	}
	return o.kind + " " + o.ws
}

// nextOp draws the actor's next operation; it runs in the scheduler.
func (a *actor) nextOp(w *world) op {
	if w.quiet && a.role != "admin" {
		return op{kind: "exit"}
	}
	ws := w.wsIDs[w.rng.IntN(len(w.wsIDs))]
	r := w.rng.IntN(100)
	switch a.role {
	case "reconciler":
		if r < 60 {
			return op{kind: "reconcile"}
		}
		return op{kind: "idle", d: time.Duration(1+w.rng.IntN(90)) * time.Second}
	case "user":
		switch {
		case r < 25:
			return op{kind: "create", ws: ws}
		case r < 32 || r < 40 && !w.canDecommission():
			return op{kind: "delete", ws: ws}
		case r < 40:
			return op{kind: "decommission", ws: ws}
		case r < 85:
			return op{kind: "edit", ws: ws, target: w.otherType(w.rng.IntN(len(w.clouds)))}
		}
		return op{kind: "idle", d: time.Duration(1+w.rng.IntN(30)) * time.Second}
	}
	switch {
	case r < 45:
		return op{kind: "switch", ws: ws, target: w.otherType(w.rng.IntN(len(w.clouds)))}
	case r < 60:
		return op{kind: "edit", ws: ws, target: w.otherType(w.rng.IntN(len(w.clouds)))}
	case r < 85:
		return op{kind: "resume", ws: ws}
	}
	return op{kind: "idle", d: time.Duration(1+w.rng.IntN(60)) * time.Second}
}

// otherType returns a compute on cloud i with a random allowed type.
func (w *world) otherType(i int) cloudswitch.Compute {
	name := w.clouds[i].Name
	types := w.types[name]
	return cloudswitch.Compute{Provider: name, InstanceType: types[w.rng.IntN(len(types))]}
}

// retryPolicy retries a transient error up to three attempts, after
// backoffs of a few milliseconds. The library jitters its backoffs with a
// random source the seed does not decide; so short a backoff always ends
// within the scheduler's next advance of virtual time (a second at least),
// and which call comes back first never decides what the scheduler sees.
var retryPolicy = cloudswitch.RetryPolicy{InitialInterval: time.Millisecond, MaxInterval: 2 * time.Millisecond,
	MaxElapsedTime: time.Second, MaxAttempts: 3}

// deadlineDropper is an Observer that hands back every context without its
// deadline (and keeps its values: the calling actor stays known).
type deadlineDropper struct{ cloudswitch.NopObserver }

func (deadlineDropper) SwitchStarted(ctx context.Context, _ cloudswitch.SwitchEvent) context.Context {
	return context.WithoutCancel(ctx)
}

func (deadlineDropper) StageStarted(ctx context.Context, _ cloudswitch.StageEvent) context.Context {
	return context.WithoutCancel(ctx)
}

// hookPolicy says which processes of a run have the BeforeDeprovision
// hook: some (drawn per process), all, or none. A run where all or none
// have it reaches what a mix would mask: a mixed run fails first on a
// resumer without the hook, whenever the code lets that happen.
type hookPolicy int

const (
	hooksAll  hookPolicy = 2
	hooksNone hookPolicy = 3
)

// hookFor draws whether a new process (or its Reconciler) has the hook.
func (w *world) hookFor() bool {
	h := w.rng.IntN(2) == 0
	switch w.hooks {
	case hooksAll:
		return true
	case hooksNone:
		return false
	}
	return h
}

// reconcileConcurrency exceeds the VMs a pass ever lists, so that a pass
// hands every VM (and every orphan to delete) to a goroutine of its own at
// once. The calls they make for the same workspace look alike to the
// scheduler, which releases them together; with a bounded pool, which of
// them got a worker first would decide what the pass does next.
const reconcileConcurrency = 32

// spawnProcess starts a process with options drawn from the seed.
func (w *world) spawnProcess(crashable bool) *process {
	w.mu.Lock()
	w.nProcs++
	n := w.nProcs
	w.mu.Unlock()
	p := &process{name: fmt.Sprintf("p%d", n), crashable: crashable, killed: make(chan struct{}),
		hooks: w.hookFor(), provision: w.rng.IntN(6) != 0, strategy: cloudswitch.BreakBeforeMake,
		recHooks: w.hookFor()}
	if w.rng.IntN(2) == 0 {
		p.strategy = cloudswitch.MakeBeforeBreak
	}
	skew := time.Duration(w.rng.Int64N(int64(2*skewBound+1))) - skewBound
	if w.faults.has(faultSkew) {
		p.skew = skew
	}
	drop := w.rng.IntN(4) == 0
	p.dropDeadlines = drop && w.faults.has(faultObserver)
	withRec := w.rng.IntN(3) == 0
	w.startProcess(p, withRec, "switcher")
	return p
}

// startProcess builds p's Switcher (and Reconciler) and starts its actors.
func (w *world) startProcess(p *process, withRec bool, roles ...string) {
	clock := func() time.Time { return time.Now().Add(w.offset + p.skew) }
	opts := []cloudswitch.Option{
		cloudswitch.WithClock(clock),
		cloudswitch.WithLease(lease),
		cloudswitch.WithStrategy(p.strategy),
		cloudswitch.WithProvisioning(p.provision),
		cloudswitch.WithRetryPolicy(retryPolicy),
	}
	if p.hooks {
		opts = append(opts, cloudswitch.WithHooks(cloudswitch.Hooks{BeforeDeprovision: w.hook}))
	}
	if p.dropDeadlines {
		opts = append(opts, cloudswitch.WithObserver(deadlineDropper{}))
	}
	sw, err := cloudswitch.New(w.gstore, w.provs, opts...)
	if err != nil {
		w.violate("building a Switcher: %v", err)
		return
	}
	p.sw = sw
	if withRec {
		ropts := []cloudswitch.Option{cloudswitch.WithClock(clock), cloudswitch.WithLease(lease),
			cloudswitch.WithRetryPolicy(retryPolicy)}
		if p.recHooks {
			ropts = append(ropts, cloudswitch.WithHooks(cloudswitch.Hooks{BeforeDeprovision: w.hook}))
		}
		if p.dropDeadlines {
			ropts = append(ropts, cloudswitch.WithObserver(deadlineDropper{}))
		}
		recOpts := []cloudswitch.ReconcilerOption{cloudswitch.WithDeleteOrphans(true),
			cloudswitch.WithGracePeriod(grace), cloudswitch.WithConcurrency(reconcileConcurrency), cloudswitch.WithResumeOptions(ropts...)}
		if p.name == "admin" {
			// The operator settling the system raises the blast radius for
			// one pass, as WithDeleteLimit says: a run may leak more VMs than
			// the default limit (every deleted workspace leaves its VM).
			recOpts = append(recOpts, cloudswitch.WithDeleteLimit(1000))
		}
		rec, err := cloudswitch.NewReconciler(w.gstore, w.provs, recOpts...)
		if err != nil {
			w.violate("building a Reconciler: %v", err)
			return
		}
		p.rec = rec
		roles = append(roles, "reconciler")
	}
	w.mu.Lock()
	w.procs = append(w.procs, p)
	w.mu.Unlock()
	w.addTrace(fmt.Sprintf("%d start %s", w.step, p))
	for _, role := range roles {
		w.startActor(p, role)
	}
}

func (w *world) startActor(p *process, role string) {
	a := &actor{name: p.name + "." + role, proc: p, role: role}
	w.mu.Lock()
	w.actors++
	w.mu.Unlock()
	go func() {
		defer func() {
			w.mu.Lock()
			w.actors--
			w.mu.Unlock()
		}()
		ctx := context.WithValue(context.Background(), actorKey{}, a)
		if role == "admin" {
			w.settle(ctx, a)
			return
		}
		for {
			d := w.gate(&call{a: a, kind: "next"})
			if d.kind == crashed || d.op.kind == "exit" {
				return
			}
			w.runOp(ctx, a, d.op)
		}
	}()
}

// runOp carries out one operation and checks what its result claims.
func (w *world) runOp(ctx context.Context, a *actor, o op) {
	p := a.proc
	switch o.kind {
	case "idle":
		w.sleep(ctx, p, o.d)
	case "reconcile":
		p.rec.Reconcile(ctx) //nolint:errcheck // the invariants judge the outcome
	case "create":
		w.gstore.(storeWithUsers).create(ctx, cloudswitch.Workspace{ID: o.ws, Compute: w.initialCompute()}) //nolint:errcheck
	case "delete":
		w.gstore.(storeWithUsers).remove(ctx, o.ws) //nolint:errcheck
	case "decommission":
		a.claim = nil
		_, err := p.sw.Decommission(ctx, o.ws, cloudswitch.DecommissionRequest{ConfirmDestroy: true})
		if _, aborted := err.(*cloudswitch.AbortError); aborted && !p.isDead(w) {
			w.checkAbort(a, o.ws, err)
		}
		a.claim = nil
	case "resume":
		res, err := p.sw.Resume(ctx, o.ws)
		if err == nil && res.Workspace.Pending != nil && !p.isDead(w) {
			w.violate("Resume of %s returned nil (settled) while intent %s is still pending", o.ws, res.Workspace.Pending.ID)
		}
	case "switch", "edit":
		a.claim = nil
		req := cloudswitch.Request{Compute: o.target, ConfirmRecreate: o.kind == "switch"}
		_, err := p.sw.Switch(ctx, o.ws, req)
		// The switch's own abort, returned as *AbortError — never one a
		// hook's error wraps inside an IncompleteError.
		if _, aborted := err.(*cloudswitch.AbortError); aborted && !p.isDead(w) {
			w.checkAbort(a, o.ws, err)
		}
		a.claim = nil
	}
}

// canDecommission reports whether the store under test deletes with
// compare-and-swap, as Switcher.Decommission needs.
func (w *world) canDecommission() bool {
	_, ok := w.store.(deleteIfer)
	return ok
}

// storeWithUsers is the gated store's users' side.
type storeWithUsers interface {
	create(ctx context.Context, ws cloudswitch.Workspace) error
	remove(ctx context.Context, id string) error
}

func (w *world) initialCompute() cloudswitch.Compute {
	name := w.clouds[0].Name
	return cloudswitch.Compute{Provider: name, InstanceType: w.types[name][0]}
}

// spawnAdmin starts the process that settles the system at quiescence: it
// has the hook, provisioning and a Reconciler with the hook.
func (w *world) spawnAdmin() {
	p := &process{name: "admin", killed: make(chan struct{}), hooks: true, provision: true,
		strategy: cloudswitch.BreakBeforeMake, recHooks: true}
	w.startProcess(p, true, "admin")
}

// settle is the admin's work at quiescence: wait for every other actor to
// finish, let every lease expire, resume every intent, keep one workspace
// with a VM (so that a Reconciler's store is not empty), and reconcile once
// the grace period has passed.
func (w *world) settle(ctx context.Context, a *actor) {
	for {
		w.mu.Lock()
		others := w.actors - 1
		w.mu.Unlock()
		if others == 0 {
			break
		}
		time.Sleep(10 * time.Second)
	}
	time.Sleep(lease + 2*skewBound + time.Second)
	sw := a.proc.sw
	for _, id := range w.wsIDs {
		if _, err := sw.Resume(ctx, id); err != nil && !errors.Is(err, cloudswitch.ErrNotFound) {
			w.violate("at quiescence, Resume of %s failed: %v", id, err)
			return
		}
	}
	keep := w.wsIDs[0]
	gs := w.gstore.(storeWithUsers)
	if err := gs.create(ctx, cloudswitch.Workspace{ID: keep, Compute: w.initialCompute()}); err != nil && !errors.Is(err, cloudswitch.ErrConflict) {
		w.violate("at quiescence, creating %s failed: %v", keep, err)
		return
	}
	if _, err := sw.Switch(ctx, keep, cloudswitch.Request{}); err != nil {
		w.violate("at quiescence, provisioning %s failed: %v", keep, err)
		return
	}
	time.Sleep(grace + listLag + time.Second)
	rep, err := a.proc.rec.Reconcile(ctx)
	if err != nil {
		w.violate("at quiescence, the reconcile pass failed: %v", err)
		return
	}
	w.checkQuiescent(ctx, rep)
}
