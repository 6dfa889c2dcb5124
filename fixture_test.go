package cloudswitch_test

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
	"github.com/cloudswitch/cloudswitch/store/memstore"
)

// world is what a spec of the root package runs against: a memstore, the
// store S that its Switchers and Reconcilers see in front of it, and three
// memprovider clouds. Every cloud call is recorded in one log, in the order
// it happens, and so is every store call when S logs: a spec can assert on
// order.
type world[S cloudswitch.Store] struct {
	t     *testing.T
	mem   *memstore.Store // the records, as the test reads and writes them
	store S               // mem as the Switchers and Reconcilers see it
	log   *callLog
	aws   *memprovider.Provider
	hz    *memprovider.Provider
	gcp   *memprovider.Provider
	cfg   worldConfig
	mu    sync.Mutex
	now   time.Time // the test clock's time
}

// worldConfig is what varies between worlds.
type worldConfig struct {
	clouds         []string // the clouds registered with Switchers and Reconcilers
	cloudOpts      []memprovider.Option
	testClock      bool // false: the wall clock
	reconcilerOpts []cloudswitch.ReconcilerOption
}

// worldOption sets one thing that varies between worlds.
type worldOption func(*worldConfig)

// onClouds registers only the named clouds with the world's Switchers and
// Reconcilers. The other clouds still exist: a workspace may run on a cloud
// that no driver serves.
func onClouds(names ...string) worldOption {
	return func(c *worldConfig) { c.clouds = names }
}

// withCloudOptions configures every cloud of the world.
func withCloudOptions(opts ...memprovider.Option) worldOption {
	return func(c *worldConfig) { c.cloudOpts = append(c.cloudOpts, opts...) }
}

// onTestClock puts the clouds, Switchers and Reconcilers on a clock that
// stands still until the test advances it. A VM's age is then set by the
// test alone.
func onTestClock() worldOption {
	return func(c *worldConfig) { c.testClock = true }
}

// withReconcilerOptions applies opts to every Reconciler of the world,
// before the options of the call.
func withReconcilerOptions(opts ...cloudswitch.ReconcilerOption) worldOption {
	return func(c *worldConfig) { c.reconcilerOpts = append(c.reconcilerOpts, opts...) }
}

// newWorld returns a world on all three clouds and the wall clock, with the
// store that front puts in front of its memstore, changed by opts.
func newWorld[S cloudswitch.Store](t *testing.T, front func(*memstore.Store, *callLog) S, opts ...worldOption) *world[S] {
	t.Helper()
	cfg := worldConfig{clouds: []string{cloudswitch.AWS, cloudswitch.Hetzner, cloudswitch.GCP}}
	for _, o := range opts {
		o(&cfg)
	}
	mem, log := memstore.New(), &callLog{}
	w := &world[S]{t: t, mem: mem, store: front(mem, log), log: log, cfg: cfg, now: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
	cloudOpts := slices.Clone(cfg.cloudOpts)
	if cfg.testClock {
		cloudOpts = append(cloudOpts, memprovider.WithClock(w.clock))
	}
	w.aws = memprovider.New(cloudswitch.AWS, cloudOpts...)
	w.hz = memprovider.New(cloudswitch.Hetzner, cloudOpts...)
	w.gcp = memprovider.New(cloudswitch.GCP, cloudOpts...)
	return w
}

// newFixture returns the world most specs run against: a store that logs
// every call and can be told to fail, on the wall clock.
func newFixture(t *testing.T, opts ...worldOption) *world[*loggingStore] {
	t.Helper()
	return newWorld(t, newLoggingStore, opts...)
}

// clock is the world's time: its test clock, or the wall clock.
func (w *world[S]) clock() time.Time {
	if !w.cfg.testClock {
		return time.Now()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now
}

// advance moves the world's test clock by d.
func (w *world[S]) advance(d time.Duration) {
	w.t.Helper()
	require.True(w.t, w.cfg.testClock, "advance: the world runs on the wall clock (onTestClock gives it a test clock)")
	w.mu.Lock()
	w.now = w.now.Add(d)
	w.mu.Unlock()
}

// anHourLater is a clock an hour past the wall clock: past every lease a
// switch on the wall clock holds (DefaultLease is shorter).
func anHourLater() time.Time { return time.Now().Add(time.Hour) }

// provider returns the world's cloud name.
func (w *world[S]) provider(name string) *memprovider.Provider {
	w.t.Helper()
	switch name {
	case cloudswitch.AWS:
		return w.aws
	case cloudswitch.Hetzner:
		return w.hz
	case cloudswitch.GCP:
		return w.gcp
	}
	w.t.Fatalf("no provider %q", name)
	return nil
}

// providers returns the drivers of the registered clouds, each logging its
// calls.
func (w *world[S]) providers() map[string]cloudswitch.Provider {
	w.t.Helper()
	ps := make(map[string]cloudswitch.Provider, len(w.cfg.clouds))
	for _, name := range w.cfg.clouds {
		ps[name] = loggingProvider{w.provider(name), w.log}
	}
	return ps
}

// providersWith returns the world's drivers with p in place of cloud name's.
func (w *world[S]) providersWith(name string, p cloudswitch.Provider) map[string]cloudswitch.Provider {
	ps := w.providers()
	ps[name] = p
	return ps
}

// fastRetries retries quickly, so tests of exhausted retries stay fast.
var fastRetries = cloudswitch.WithRetryPolicy(cloudswitch.RetryPolicy{
	InitialInterval: 100 * time.Microsecond, MaxInterval: time.Millisecond, MaxElapsedTime: 5 * time.Second, MaxAttempts: 3,
})

// switcher returns a Switcher of the world's store and drivers: it retries
// fast and reads the world's test clock, unless opts say otherwise.
func (w *world[S]) switcher(opts ...cloudswitch.Option) *cloudswitch.Switcher {
	w.t.Helper()
	return w.switcherOver(w.providers(), opts...)
}

// switcherOver is switcher with other drivers.
func (w *world[S]) switcherOver(providers map[string]cloudswitch.Provider, opts ...cloudswitch.Option) *cloudswitch.Switcher {
	w.t.Helper()
	defaults := []cloudswitch.Option{fastRetries}
	if w.cfg.testClock {
		defaults = append(defaults, cloudswitch.WithClock(w.clock))
	}
	return newSwitcher(w.t, w.store, providers, append(defaults, opts...)...)
}

// resumer returns a Switcher whose clock is past every lease taken so far on
// the wall clock.
func (w *world[S]) resumer(opts ...cloudswitch.Option) *cloudswitch.Switcher {
	w.t.Helper()
	return w.switcher(append([]cloudswitch.Option{cloudswitch.WithClock(anHourLater)}, opts...)...)
}

// reconciler returns a Reconciler of the world's store and drivers: it
// resumes switches with fast retries on the world's test clock, and takes
// the world's Reconciler options, unless opts say otherwise.
func (w *world[S]) reconciler(opts ...cloudswitch.ReconcilerOption) *cloudswitch.Reconciler {
	w.t.Helper()
	return w.reconcilerOver(w.providers(), opts...)
}

// reconcilerOver is reconciler with other drivers.
func (w *world[S]) reconcilerOver(providers map[string]cloudswitch.Provider, opts ...cloudswitch.ReconcilerOption) *cloudswitch.Reconciler {
	w.t.Helper()
	defaults := []cloudswitch.ReconcilerOption{cloudswitch.WithResumeOptions(fastRetries)}
	if w.cfg.testClock {
		defaults = append(defaults, cloudswitch.WithResumeOptions(cloudswitch.WithClock(w.clock)))
	}
	defaults = append(defaults, w.cfg.reconcilerOpts...)
	return newReconciler(w.t, w.store, providers, append(defaults, opts...)...)
}

// newSwitcher is cloudswitch.New for arguments a test knows are good: an
// error fails the test.
func newSwitcher(t testing.TB, store cloudswitch.Store, providers map[string]cloudswitch.Provider, opts ...cloudswitch.Option) *cloudswitch.Switcher {
	t.Helper()
	sw, err := cloudswitch.New(store, providers, opts...)
	require.NoError(t, err)
	return sw
}

// newReconciler is cloudswitch.NewReconciler for options a test knows are
// good: an error fails the test.
func newReconciler(t testing.TB, store cloudswitch.Store, providers map[string]cloudswitch.Provider, opts ...cloudswitch.ReconcilerOption) *cloudswitch.Reconciler {
	t.Helper()
	r, err := cloudswitch.NewReconciler(store, providers, opts...)
	require.NoError(t, err)
	return r
}

// reconcilerOf is (*cloudswitch.Switcher).Reconciler for options a test
// knows are good: an error fails the test.
func reconcilerOf(t testing.TB, sw *cloudswitch.Switcher, opts ...cloudswitch.ReconcilerOption) *cloudswitch.Reconciler {
	t.Helper()
	r, err := sw.Reconciler(opts...)
	require.NoError(t, err)
	return r
}

// seed creates workspace id on provider with instance type typ, with a VM
// when withVM, and clears the call log. The VM is provisioned directly,
// tagged with the world's owner and installation, not by a switch.
func (w *world[S]) seed(id, provider, typ string, withVM bool) cloudswitch.Workspace {
	w.t.Helper()
	ctx := w.t.Context()
	c := cloudswitch.Compute{Provider: provider, InstanceType: typ}
	ws, err := w.mem.Create(ctx, cloudswitch.Workspace{ID: id, Compute: c})
	require.NoError(w.t, err)
	if withVM {
		inst, err := w.provider(cloudswitch.NormalizeProvider(provider)).Provision(ctx, cloudswitch.ProvisionRequest{
			WorkspaceID: id, Compute: cloudswitch.Compute{Provider: cloudswitch.NormalizeProvider(provider), InstanceType: typ},
			Token: "seed-" + id, Owner: cloudswitch.DefaultOwner, Installation: w.installation(),
		})
		require.NoError(w.t, err)
		ws.Instance = &inst
		ws, err = w.mem.Update(ctx, ws)
		require.NoError(w.t, err)
	}
	w.log.reset()
	return ws
}

// workspace creates workspace id on provider with the provider's default
// instance type, and a VM that a switch made.
func (w *world[S]) workspace(id, provider string) cloudswitch.Workspace {
	w.t.Helper()
	ctx := w.t.Context()
	typ := cloudswitch.DefaultAllowlist().DefaultInstanceType(provider)
	_, err := w.mem.Create(ctx, cloudswitch.Workspace{ID: id, Compute: cloudswitch.Compute{Provider: provider, InstanceType: typ}})
	require.NoError(w.t, err)
	res, err := w.switcher().Switch(ctx, id, cloudswitch.Request{})
	require.NoError(w.t, err)
	return res.Workspace
}

// installation is the id of the memstore's installation.
func (w *world[S]) installation() string {
	w.t.Helper()
	id, err := w.mem.InstallationID(w.t.Context())
	require.NoError(w.t, err)
	return id
}

// get reads workspace id from the memstore, unlogged.
func (w *world[S]) get(id string) cloudswitch.Workspace {
	w.t.Helper()
	ws, err := w.mem.Get(w.t.Context(), id)
	require.NoError(w.t, err)
	return ws
}

// liveOf returns the live VMs of workspace id across the three clouds.
func (w *world[S]) liveOf(id string) []cloudswitch.Instance {
	var out []cloudswitch.Instance
	for _, p := range []*memprovider.Provider{w.aws, w.hz, w.gcp} {
		for _, inst := range p.Live() {
			if inst.WorkspaceID == id {
				out = append(out, inst)
			}
		}
	}
	return out
}

// requireOnlyRecordedVM fails unless the workspace's live VMs are exactly
// the one its record names.
func (w *world[S]) requireOnlyRecordedVM(id string) {
	w.t.Helper()
	ws := w.get(id)
	live := w.liveOf(id)
	switch {
	case ws.Instance == nil && len(live) != 0:
		w.t.Fatalf("workspace %s records no VM but %d are alive: %v", id, len(live), live)
	case ws.Instance != nil && (len(live) != 1 || live[0].ID != ws.Instance.ID):
		w.t.Fatalf("workspace %s records VM %s but the live VMs are %v", id, ws.Instance.ID, live)
	}
}

// requireNoWrites fails if the logging store was written since the log was
// last cleared.
func (w *world[S]) requireNoWrites() {
	w.t.Helper()
	if n := w.log.count("store.update"); n != 0 {
		w.t.Fatalf("%d writes happened; want none. Calls: %v", n, w.log.all())
	}
}

// requireNoProviderCalls fails if a cloud was called since the log was last
// cleared.
func (w *world[S]) requireNoProviderCalls() {
	w.t.Helper()
	for _, e := range w.log.all() {
		if !strings.HasPrefix(e, "store.") {
			w.t.Fatalf("a provider was called (%s); want no provider call. Calls: %v", e, w.log.all())
		}
	}
}

// forEachStrategy runs spec once per switch strategy, as a subtest named
// after the strategy.
func forEachStrategy(t *testing.T, spec func(t *testing.T, strategy cloudswitch.Strategy)) {
	t.Helper()
	for _, strategy := range []cloudswitch.Strategy{cloudswitch.BreakBeforeMake, cloudswitch.MakeBeforeBreak} {
		t.Run(string(strategy), func(t *testing.T) { spec(t, strategy) })
	}
}

// toHetzner is a confirmed switch to Hetzner's default instance type.
var toHetzner = cloudswitch.Request{Compute: cloudswitch.Compute{Provider: cloudswitch.Hetzner}, ConfirmRecreate: true}

// requireAbort fails unless err is an *AbortError at stage.
func requireAbort(t *testing.T, err error, stage cloudswitch.Stage) *cloudswitch.AbortError {
	t.Helper()
	var abort *cloudswitch.AbortError
	if !errors.As(err, &abort) {
		t.Fatalf("got %v; want *AbortError at stage %s", err, stage)
	}
	if abort.Stage != stage {
		t.Fatalf("aborted at stage %s; want %s (%v)", abort.Stage, stage, err)
	}
	return abort
}

// requireIncomplete fails unless err is an *IncompleteError at stage.
func requireIncomplete(t *testing.T, err error, stage cloudswitch.Stage) *cloudswitch.IncompleteError {
	t.Helper()
	var inc *cloudswitch.IncompleteError
	if !errors.As(err, &inc) {
		t.Fatalf("got %v; want *IncompleteError at stage %s", err, stage)
	}
	if inc.Stage != stage {
		t.Fatalf("incomplete at stage %s; want %s (%v)", inc.Stage, stage, err)
	}
	return inc
}
