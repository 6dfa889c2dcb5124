package soak

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/emulated"
	"github.com/cloudswitch/cloudswitch/store/sqlstore"
)

// TestSoakWorker is one worker process of TestSoak: it attempts its rounds
// of random switches, with a Reconciler pass every few rounds, through real
// drivers wrapped in its own fault injector, and writes a summary to stderr.
// It fails on any outcome the contract does not allow under the faults it
// injects. Started any other way, it skips.
func TestSoakWorker(t *testing.T) {
	cfg, ok, err := workerFromEnv()
	if !ok {
		t.Skip("a worker of TestSoak, which starts it in a process of its own")
	}
	require.NoError(t, err)
	ctx, cancel := context.WithDeadline(t.Context(), cfg.Deadline)
	defer cancel()

	remote := emulated.Remote{URL: cfg.ControlURL}
	ep, err := remote.Endpoints(ctx)
	require.NoError(t, err, "reaching the emulators' control API")
	drivers, closeDrivers, err := emulated.Drivers(ctx, ep)
	require.NoError(t, err, "connecting the drivers to the emulators")
	defer closeDrivers()
	db, st, err := cfg.Database.open()
	require.NoError(t, err)
	defer db.Close()
	defer st.Close()

	w := newWorker(t, cfg, st, remote, drivers)
	w.run(ctx)
	line, err := w.summary().summaryLine()
	require.NoError(t, err)
	fmt.Fprintln(os.Stderr, line)
}

// worker is the state of one worker process.
type worker struct {
	t         *testing.T
	cfg       workerConfig
	rng       *rand.Rand
	store     *sqlstore.Store
	remote    emulated.Remote
	inj       *injector
	providers map[string]cloudswitch.Provider // the drivers, through inj
	obs       *resumeObserver
	rec       *cloudswitch.Reconciler
	tally     tally
}

func newWorker(t *testing.T, cfg workerConfig, st *sqlstore.Store, remote emulated.Remote, drivers map[string]cloudswitch.Provider) *worker {
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	w := &worker{t: t, cfg: cfg, rng: rng, store: st, remote: remote, tally: newTally()}
	w.inj = newInjector(rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64())), w.tokenTaken)
	w.providers = w.inj.wrap(drivers)
	w.obs = newResumeObserver(logf)
	rec, err := cloudswitch.NewReconciler(st, w.providers,
		cloudswitch.WithResumeOptions(baseOptions(cloudswitch.WithObserver(w.obs))...),
		cloudswitch.WithDeleteOrphans(true),
		cloudswitch.WithGracePeriod(grace))
	require.NoError(t, err)
	w.rec = rec
	return w
}

// logf writes a line for the parent to relay.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}

// tokenTaken reports whether any VM of the emulators carries token.
func (w *worker) tokenTaken(ctx context.Context, token string) (bool, error) {
	vms, err := w.remote.VMs(ctx)
	if err != nil {
		return false, err
	}
	for _, vm := range vms {
		if vm.Token == token {
			return true, nil
		}
	}
	return false, nil
}

// run attempts the worker's rounds.
func (w *worker) run(ctx context.Context) {
	t := w.t
	for round := 1; round <= w.cfg.Rounds; round++ {
		if err := ctx.Err(); err != nil {
			t.Fatalf("%s: round %d of %d not reached before the guard deadline (%v): the run is stuck or far too slow",
				w.cfg.Name, round, w.cfg.Rounds, err)
		}
		w.inj.setWeather(climates[w.rng.IntN(len(climates))])
		if w.rng.IntN(5) == 0 {
			require.NoErrorf(t, w.remote.Inject(ctx, cloudFault(w.rng)), "%s: injecting a fault through the control API", w.cfg.Name)
			w.tally.CloudFaults++
		}
		if round%reconcileEvery == 0 {
			w.reconcile(ctx, round)
		}
		w.switchOnce(ctx, round)
		w.tally.Rounds++
	}
}

// switchOnce switches a random workspace to a random target and judges the
// outcome.
func (w *worker) switchOnce(ctx context.Context, round int) {
	t := w.t
	id := w.cfg.Workspaces[w.rng.IntN(len(w.cfg.Workspaces))]
	cur, err := w.store.Get(ctx, id)
	require.NoErrorf(t, err, "%s: round %d: reading workspace %s", w.cfg.Name, round, id)
	p := randomPlan(w.rng, cur)
	sw, err := cloudswitch.New(w.store, w.providers, baseOptions(
		cloudswitch.WithStrategy(p.strategy), cloudswitch.WithProvisioning(p.provisioning), cloudswitch.WithObserver(w.obs))...)
	require.NoErrorf(t, err, "%s: New", w.cfg.Name)
	fmt.Fprintf(os.Stderr, "%s %d %s\n", beginMarker, round, id)
	res, err := sw.Switch(ctx, id, p.req)
	outcome := w.judgeSwitch(round, id, p, res, err)
	w.tally.Switches[outcome]++

	var incomplete *cloudswitch.IncompleteError
	if errors.As(err, &incomplete) && w.rng.IntN(2) == 0 {
		// The lease was released: resume at once, under the same faults.
		res, err := sw.Resume(ctx, id)
		w.judgeResume(round, id, res, err)
	}
}

// judgeSwitch names the outcome of a Switch and fails the worker on one the
// contract does not allow.
func (w *worker) judgeSwitch(round int, id string, p plan, res cloudswitch.Result, err error) string {
	t := w.t
	what := fmt.Sprintf("%s: round %d: Switch of %s to %+v (confirm=%v, if-version=%d, %s, provisioning=%v)",
		w.cfg.Name, round, id, p.req.Compute, p.req.ConfirmRecreate, p.req.IfVersion, p.strategy, p.provisioning)
	var abort *cloudswitch.AbortError
	var incomplete *cloudswitch.IncompleteError
	switch {
	case err == nil:
		checkSwitched(t, what, id, p, res)
		switch {
		case res.Switched:
			return "switched"
		case res.Provisioned != nil:
			return "provisioned"
		}
		return "edited"
	case errors.As(err, &incomplete):
		logf("round %d: Switch of %s to %s (%s) left intent %s journaled at stage %s: %v",
			round, id, p.target(), p.strategy, incomplete.IntentID, incomplete.Stage, err)
		return "incomplete@" + string(incomplete.Stage)
	case errors.As(err, &abort):
		if !errors.Is(err, errRefused) {
			t.Errorf("%s: aborted, but no injected refusal explains it: %v", what, err)
		}
		logf("round %d: Switch of %s to %s (%s) aborted at stage %s: %v", round, id, p.target(), p.strategy, abort.Stage, err)
		return "aborted@" + string(abort.Stage)
	case errors.Is(err, cloudswitch.ErrSwitchInProgress):
		return "in-progress"
	case errors.Is(err, cloudswitch.ErrConflict):
		return "conflict"
	case errors.Is(err, cloudswitch.ErrConfirmRequired):
		if p.req.ConfirmRecreate {
			t.Errorf("%s: ErrConfirmRequired for a confirmed request: %v", what, err)
		}
		return "confirm-required"
	}
	t.Errorf("%s: %v: not an outcome a switch may have (want success, ErrSwitchInProgress, ErrConflict, ErrConfirmRequired, *AbortError or *IncompleteError)", what, err)
	return "unexpected"
}

// checkSwitched checks what a successful Switch promises about the record
// it returns: the target is recorded, no intent is left, no pointer is
// stale, and the VM is there exactly when provisioning is on.
func checkSwitched(t *testing.T, what, id string, p plan, res cloudswitch.Result) {
	ws := res.Workspace
	switch {
	case ws.ID != id:
		t.Errorf("%s: returned nil with workspace %q", what, ws.ID)
	case ws.Pending != nil:
		t.Errorf("%s: returned nil but left intent %s pending at phase %s", what, ws.Pending.ID, ws.Pending.Phase)
	case ws.Instance != nil && ws.Instance.Provider != cloudswitch.NormalizeProvider(ws.Compute.Provider):
		t.Errorf("%s: the record names VM %s/%s but compute on %s: a stale pointer", what, ws.Instance.Provider, ws.Instance.ID, ws.Compute.Provider)
	case p.req.Compute.Provider != "" && ws.Compute.Provider != p.req.Compute.Provider:
		t.Errorf("%s: returned nil but the workspace is on %q", what, ws.Compute.Provider)
	case p.req.Compute.InstanceType != "" && ws.Compute.InstanceType != p.req.Compute.InstanceType:
		t.Errorf("%s: returned nil but the workspace runs %q", what, ws.Compute.InstanceType)
	case p.provisioning && ws.Instance == nil:
		t.Errorf("%s: returned nil with provisioning on, but the workspace has no VM", what)
	case !p.provisioning && res.Switched && ws.Instance != nil:
		t.Errorf("%s: switched with provisioning off, yet the record names VM %s/%s", what, ws.Instance.Provider, ws.Instance.ID)
	}
}

// judgeResume fails the worker on a Resume outcome the contract does not
// allow; the observer counts the outcomes.
func (w *worker) judgeResume(round int, id string, res cloudswitch.Result, err error) {
	t := w.t
	what := fmt.Sprintf("%s: round %d: Resume of %s", w.cfg.Name, round, id)
	var incomplete *cloudswitch.IncompleteError
	switch {
	case err == nil:
		if ws := res.Workspace; ws.Pending != nil {
			t.Errorf("%s: returned nil but left intent %s pending at phase %s", what, ws.Pending.ID, ws.Pending.Phase)
		}
	case errors.As(err, &incomplete), errors.Is(err, cloudswitch.ErrSwitchInProgress):
		// Still journaled, or claimed by another process meanwhile.
	default:
		t.Errorf("%s: %v: not an outcome a Resume may have here (want nil, *IncompleteError or ErrSwitchInProgress)", what, err)
	}
}

// reconcile runs one Reconciler pass, deleting orphans older than the grace
// period, and fails the worker on an error no injected fault explains.
func (w *worker) reconcile(ctx context.Context, round int) {
	t := w.t
	rep, err := w.rec.Reconcile(ctx)
	w.tally.Passes++
	w.tally.Orphans += len(rep.Orphans)
	w.tally.Deleted += len(rep.Deleted)
	w.tally.PassErrors += len(rep.Errors)
	if err != nil && len(rep.Errors) == 0 {
		t.Fatalf("%s: round %d: the Reconciler refused to run: %v", w.cfg.Name, round, err)
	}
	for _, o := range rep.Orphans {
		logf("round %d: a Reconciler pass found orphan %s/%s of workspace %s (created %s)",
			round, o.Provider, o.ID, o.WorkspaceID, o.CreatedAt.Format("15:04:05.000"))
	}
	for _, d := range rep.Dangling {
		logf("round %d: a Reconciler pass found the record of %s naming %s/%s, which its provider does not list",
			round, d.WorkspaceID, d.Provider, d.ID)
	}
	for _, e := range rep.Errors {
		var incomplete *cloudswitch.IncompleteError
		if !errors.Is(e, cloudswitch.ErrTransient) && !errors.Is(e, errRefused) && !errors.As(e, &incomplete) {
			t.Errorf("%s: round %d: a Reconciler pass failed for a reason no injected fault explains: %v", w.cfg.Name, round, e)
		}
	}
}

// summary returns what the worker did.
func (w *worker) summary() tally {
	s := w.tally
	s.Resumes = w.obs.counts()
	s.Injected = w.inj.injected()
	return s
}
