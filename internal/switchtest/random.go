package switchtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/cloudswitch/cloudswitch"
)

// RandomConfig sizes RandomFaults.
type RandomConfig struct {
	Rounds     int
	Workspaces int
	Seed       uint64 // 0: random, logged
}

// RandomFaults runs rounds of switches and resumes over several workspaces,
// one or two at once per workspace, from processes that suffer transient
// errors, refusals, unmarked errors after the effect, lost responses from
// providers and from the store, and crashes; processes differ in options
// (strategy, provisioning, a BeforeDeprovision hook that may fail with odd
// wrapped errors, an observer that drops deadlines), so resumers often have
// other options than the switch's starter. When the store can delete
// (Delete(ctx, id) error), users delete and re-create workspaces mid-switch.
// A second installation shares the clouds and the owner.
//
// Every fourth round a healthy process resumes whatever was left, a
// Reconciler with deletion on cleans the orphans of deleted workspaces, and
// every workspace must have exactly the VM its record names alive, with no
// intent pending; no VM may be destroyed before the hook its switch requires
// ran, and the other installation's VMs are never touched.
func RandomFaults(t *testing.T, env Env, cfg RandomConfig) {
	w := newWorld(t, env)
	seed := cfg.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	ids := make([]string, cfg.Workspaces)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-r%d", w.prefix, i)
		w.seed(ids[i], w.clouds[i%len(w.clouds)].Name, i%4 != 3)
	}
	neighbour := w.neighbour()
	del, canDelete := w.store.(deleter)
	if _, ok := w.store.(cloudswitch.InstallationStore); !ok {
		canDelete = false // the orphans of deleted workspaces could not be cleaned safely
	}

	tally := map[string]int{}
	history := map[string][]string{} // what happened to each workspace since the last settle
	for round := range cfg.Rounds {
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, id := range ids {
			if rng.IntN(3) == 0 {
				continue // this workspace sits the round out
			}
			before, err := w.store.Get(context.Background(), id)
			if errors.Is(err, cloudswitch.ErrNotFound) {
				continue // decommissioned: created again at the next settle
			}
			if err != nil {
				t.Fatalf("round %d: reading %s: %v", round, id, err)
			}
			attempts := 1 + rng.IntN(2)
			if canDelete && rng.IntN(12) == 0 {
				// A user deletes the workspace and creates it again
				// with the same id while switches run on it.
				attempts = 2
				wg.Add(1)
				go func() {
					defer wg.Done()
					err := w.recreate(del, id)
					mu.Lock()
					history[id] = append(history[id], fmt.Sprintf("round %d: deleted and re-created: %v", round, err))
					mu.Unlock()
				}()
			}
			for range attempts {
				a := w.randomAttempt(rng)
				wg.Add(1)
				go func() {
					defer wg.Done()
					var res cloudswitch.Result
					var err error
					switch {
					case a.resume:
						res, err = a.sw.Resume(context.Background(), id)
					case a.decommission:
						res, err = a.sw.Decommission(context.Background(), id, cloudswitch.DecommissionRequest{ConfirmDestroy: true})
					default:
						res, err = a.sw.Switch(context.Background(), id, a.req)
					}
					mu.Lock()
					tally[errorKind(err)]++
					history[id] = append(history[id], fmt.Sprintf("round %d: %s → %s %s; steps %v",
						round, a, errorKind(err), describeResult(res), a.p.steps()))
					mu.Unlock()
					if attempts == 1 && !a.p.dead && !errors.Is(err, cloudswitch.ErrHookRequired) && !res.Deleted {
						w.checkOutcome(round, id, before, a, res, err)
					}
				}()
			}
		}
		wg.Wait()
		// Intents left behind survive a few rounds, for the faulty
		// processes of later rounds to resume (or trip over).
		if round%4 == 3 || round == cfg.Rounds-1 {
			w.settle(round, ids, history)
			clear(history)
		}
	}
	t.Logf("outcomes over %d rounds: %v", cfg.Rounds, tally)
	w.checkNeighbour(neighbour)
	if tally["nil"] == 0 {
		t.Errorf("no switch succeeded in %d rounds: the faults are too dense to test anything", cfg.Rounds)
	}
}

// String describes the attempt for failure messages.
func (a attempt) String() string {
	what := fmt.Sprintf("switch to %+v confirm=%v", a.req.Compute, a.req.ConfirmRecreate)
	if a.resume {
		what = "resume"
	}
	if a.decommission {
		what = "decommission"
	}
	crash := ""
	if a.p.crashAt > 0 {
		crash = fmt.Sprintf(" crash@%d", a.p.crashAt)
	}
	return fmt.Sprintf("%s [%s provisioning=%v %s%s]", what, a.strategy, a.provisioning, a.hook, crash)
}

func describeResult(res cloudswitch.Result) string {
	s := ""
	if res.Deprovisioned != nil {
		s += " destroyed " + res.Deprovisioned.ID
	}
	if res.Provisioned != nil {
		s += " created " + res.Provisioned.ID
	}
	if res.RolledBack {
		s += " rolled back"
	}
	return s
}

type attempt struct {
	decommission bool   // call Decommission instead of Switch
	hook         string // "", "hook" or "failing-hook"
	sw           *cloudswitch.Switcher
	p            *process
	req          cloudswitch.Request
	resume       bool // call Resume instead of Switch
	strategy     cloudswitch.Strategy
	provisioning bool
}

func (w *world) randomAttempt(rng *rand.Rand) attempt {
	own := rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))
	p := &process{}
	if own.IntN(4) == 0 {
		p.crashAt = 1 + own.IntN(10)
	}
	// Each process has its own weather: calm, normal, a storm in which
	// most calls fail so that retries run out, or a cloud that refuses
	// often.
	weather := []struct{ transient, lost, denied float64 }{
		{0, 0, 0}, {0.12, 0.05, 0.02}, {0.45, 0.15, 0.03}, {0.15, 0.1, 0.3},
	}[own.IntN(4)]
	var mu sync.Mutex
	p.decide = func(op string) fault {
		mu.Lock()
		defer mu.Unlock()
		r := own.Float64()
		isStore := len(op) > 6 && op[:6] == "store."
		switch {
		case isStore && op != "store.get" && r < 0.04:
			return fault{after: errStoreLost}
		case isStore && r < 0.06:
			return fault{before: errStoreLost}
		case isStore:
			return fault{}
		case r < weather.transient:
			return fault{before: fmt.Errorf("switchtest: throttled: %w: %w", cloudswitch.ErrTransient, cloudswitch.ErrRefused)}
		case r < weather.transient+weather.lost/2:
			return fault{after: errLost}
		case r < weather.transient+weather.lost:
			// What a third-party driver returns after the cloud acted:
			// an error it did not mark, whose outcome is unknown.
			return fault{after: errUnmarked}
		case r < weather.transient+weather.lost+weather.denied:
			return fault{before: fmt.Errorf("switchtest: access denied (403): %w", cloudswitch.ErrRefused)}
		}
		return fault{}
	}
	strategy := cloudswitch.BreakBeforeMake
	if own.IntN(2) == 0 {
		strategy = cloudswitch.MakeBeforeBreak
	}
	provisioning := own.IntN(5) != 0
	opts := []cloudswitch.Option{cloudswitch.WithStrategy(strategy), cloudswitch.WithProvisioning(provisioning)}
	hook := ""
	if own.IntN(3) == 0 {
		var failure error
		switch own.IntN(6) {
		case 0:
			failure = fmt.Errorf("backup: snapshot: %w", cloudswitch.ErrNotFound)
		case 1:
			failure = fmt.Errorf("backup: %w", &cloudswitch.AbortError{Stage: cloudswitch.StageRead, Err: errors.New("its store is down")})
		case 2:
			failure = fmt.Errorf("backup: %w", cloudswitch.ErrTransient)
		}
		hook = "hook"
		if failure != nil {
			hook = "failing-hook"
		}
		opts = append(opts, w.hooks(failure))
	}
	if own.IntN(4) == 0 {
		opts = append(opts, cloudswitch.WithObserver(deadlineDropper{}))
	}
	to := w.clouds[own.IntN(len(w.clouds))].Name
	req := cloudswitch.Request{Compute: cloudswitch.Compute{Provider: to, InstanceType: instanceType(to, own.IntN(3))}, ConfirmRecreate: own.IntN(10) != 0}
	if own.IntN(5) == 0 {
		req.Compute = cloudswitch.Compute{InstanceType: ""} // keep the provider
	}
	return attempt{
		sw:   w.switcher(p, opts...),
		hook: hook,
		p:    p,
		req:  req,
		// Resuming from a faulty process too: a switch left incomplete
		// releases its lease, so the next round may take it over.
		resume:       own.IntN(4) == 0,
		decommission: own.IntN(15) == 0 && canDecommission(w.store),
		strategy:     strategy,
		provisioning: provisioning,
	}
}

// checkOutcome checks what a lone switch's result promises.
func (w *world) checkOutcome(round int, id string, before cloudswitch.Workspace, a attempt, res cloudswitch.Result, err error) {
	t := w.t
	after, gerr := w.store.Get(context.Background(), id)
	if errors.Is(gerr, cloudswitch.ErrNotFound) && (a.decommission || a.resume) {
		return // deleted by this decommission (or the one this resume finished): checked at settle
	}
	if gerr != nil {
		t.Errorf("round %d: reading %s: %v", round, id, gerr)
		return
	}
	// The switch's own abort, not an AbortError somewhere in a hook's
	// error inside an IncompleteError.
	abort, aborted := err.(*cloudswitch.AbortError)
	switch {
	case err == nil:
		if after.Pending != nil {
			t.Errorf("round %d: %s: Switch returned nil but left intent %s pending", round, id, after.Pending.ID)
		}
		if res.Workspace.Version != after.Version {
			t.Errorf("round %d: %s: Switch returned version %d, store has %d", round, id, res.Workspace.Version, after.Version)
		}
	case res.RolledBack:
		if after.Pending != nil || after.Compute != before.Compute || !sameID(after.Instance, before.Instance) {
			t.Errorf("round %d: %s: Resume undid the switch but the record is not as before it: before %s, after %s (pending %v)",
				round, id, describe(before), describe(after), after.Pending != nil)
		}
	case aborted:
		samePending := (after.Pending == nil) == (before.Pending == nil) &&
			(after.Pending == nil || after.Pending.ID == before.Pending.ID)
		if !samePending || after.Compute != before.Compute || !sameID(after.Instance, before.Instance) {
			t.Errorf("round %d: %s: aborted (%v) but the record changed: before %s, after %s (pending %v)",
				round, id, abort, describe(before), describe(after), after.Pending != nil)
		}
	case errors.Is(err, cloudswitch.ErrInvalid), errors.Is(err, cloudswitch.ErrConfirmRequired):
		if after.Version != before.Version {
			t.Errorf("round %d: %s: a refused request (%v) wrote the record", round, id, err)
		}
	}
}

func sameID(a, b *cloudswitch.Instance) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.ID == b.ID && a.Provider == b.Provider
}

// settle lets a healthy process resume every workspace, then checks the
// no-orphan invariant for each and for the clouds as a whole.
func (w *world) settle(round int, ids []string, history map[string][]string) {
	t := w.t
	defer func() {
		if t.Failed() {
			for _, id := range ids {
				for _, h := range history[id] {
					t.Logf("%s: %s", id, h)
				}
			}
		}
	}()
	w.clock.expireLeases()
	sw := w.switcher(nil, w.hooks(nil))
	w.cleanOrphans(sw, round)
	for _, id := range ids {
		for try := 0; ; try++ {
			ws, err := w.store.Get(context.Background(), id)
			if errors.Is(err, cloudswitch.ErrNotFound) {
				// Decommissioned: no VM of it may be left; users create it
				// again for the rounds to come.
				w.requireGone(id, fmt.Sprintf("round %d", round))
				c := w.clouds[len(id)%len(w.clouds)].Name
				ws, err = w.create(context.Background(), cloudswitch.Workspace{ID: id, Compute: cloudswitch.Compute{Provider: c, InstanceType: instanceType(c, 0)}})
			}
			if err != nil {
				t.Fatalf("round %d: reading %s: %v", round, id, err)
			}
			if ws.Pending == nil {
				break
			}
			if try == 3 {
				t.Fatalf("round %d: %s: intent %s (phase %s) still pending after %d resumes", round, id, ws.Pending.ID, ws.Pending.Phase, try)
			}
			if _, err := sw.Resume(context.Background(), id); err != nil {
				t.Fatalf("round %d: healthy Resume of %s: %v", round, id, err)
			}
		}
		w.checkNoOrphan(id, fmt.Sprintf("round %d", round))
	}
	if t.Failed() {
		t.FailNow()
	}
	w.checkNoForeignOrphans(round, ids)
	w.checkReconcilerAgrees(round)
}

// canDecommission reports whether st can delete a workspace with
// compare-and-swap and has installation ids (without them the orphans of
// deleted workspaces cannot be cleaned safely on shared clouds).
func canDecommission(st cloudswitch.Store) bool {
	_, del := st.(cloudswitch.Deleter)
	_, inst := st.(cloudswitch.InstallationStore)
	return del && inst
}

// checkReconcilerAgrees runs a Reconciler pass over the settled world: it
// must find no orphan, no dangling record and nothing to resume.
func (w *world) checkReconcilerAgrees(round int) {
	providers := make(map[string]cloudswitch.Provider, len(w.clouds))
	for _, c := range w.clouds {
		providers[c.Name] = c.Provider
	}
	r, err := cloudswitch.NewReconciler(w.store, providers, cloudswitch.WithGracePeriod(0),
		cloudswitch.WithResumeOptions(w.options(w.hooks(nil))...))
	if err != nil {
		w.t.Fatalf("round %d: %v", round, err)
	}
	rep, err := r.Reconcile(context.Background())
	if err != nil {
		w.t.Fatalf("round %d: reconcile pass over a settled world: %v", round, err)
	}
	for _, o := range rep.Orphans {
		if strings.HasPrefix(o.WorkspaceID, w.prefix) {
			w.t.Errorf("round %d: the Reconciler found orphan %s/%s of workspace %s", round, o.Provider, o.ID, o.WorkspaceID)
		}
	}
	for _, d := range rep.Dangling {
		if strings.HasPrefix(d.WorkspaceID, w.prefix) {
			w.t.Errorf("round %d: the Reconciler found a record of %s naming %s/%s, which does not exist", round, d.WorkspaceID, d.Provider, d.ID)
		}
	}
	if len(rep.Resumed) != 0 {
		w.t.Errorf("round %d: the Reconciler resumed %v in a settled world", round, rep.Resumed)
	}
}

// checkNoForeignOrphans fails if any live VM of the suite's workspaces is
// not the one its record names (checkNoOrphan covers each workspace; this
// covers VMs whose workspace id is not one of ours but whose token is).
func (w *world) checkNoForeignOrphans(round int, ids []string) {
	ours := make(map[string]bool, len(ids))
	for _, id := range ids {
		ours[id] = true
	}
	for _, c := range w.clouds {
		live, err := c.Live(context.Background())
		if err != nil {
			w.t.Fatalf("listing %s: %v", c.Name, err)
		}
		for _, inst := range live {
			if len(inst.WorkspaceID) > len(w.prefix) && inst.WorkspaceID[:len(w.prefix)] == w.prefix && !ours[inst.WorkspaceID] {
				w.t.Errorf("round %d: VM %s/%s belongs to no workspace of this test (%q)", round, c.Name, inst.ID, inst.WorkspaceID)
			}
		}
	}
}
