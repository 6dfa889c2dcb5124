package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
	"github.com/cloudswitch/cloudswitch/store/memstore"
)

// Store is a store the simulator can run: a cloudswitch.Store that can
// create workspaces. One that also implements Deleter lets the simulated
// users delete and re-create workspaces.
type Store interface {
	cloudswitch.Store
	Create(ctx context.Context, w cloudswitch.Workspace) (cloudswitch.Workspace, error)
}

// Deleter is a Store that can delete workspaces.
type Deleter interface {
	Delete(ctx context.Context, id string) error
}

// Cloud is one simulated cloud: a driver and its ground truth.
type Cloud struct {
	// Name is the provider name the driver serves (cloudswitch.AWS, …).
	Name     string
	Provider cloudswitch.Provider
	// Live returns every VM that exists now, with the WorkspaceID and Token
	// of its tags, whatever the listing delays.
	Live func(ctx context.Context) ([]cloudswitch.Instance, error)
	// SetListLag, if set, makes VMs created from now on invisible to
	// listings for d.
	SetListLag func(d time.Duration)
	// Outside runs the cloud's calls outside the simulation (see
	// Config.StoreOutside), for a driver that does real I/O.
	Outside bool
}

// Config is one simulated run.
type Config struct {
	// Seed decides everything the run does.
	Seed uint64
	// Steps is the number of scheduler steps with faults on before the
	// system is made to quiesce (default 2000).
	Steps int
	// Faults is the set of fault classes: comma-separated names, "all",
	// "none", or "swarm" (the default): a set drawn from the seed, each
	// class on with probability one half. Result.Faults names the set a run
	// used.
	Faults string
	// NewStore returns the store of the run (default: a memstore); it is
	// called outside the simulation, before the run starts.
	NewStore func() Store
	// StoreOutside runs the store's calls on a goroutine outside the
	// simulation's bubble, one at a time, for a store that does real I/O or
	// keeps connection goroutines (a database): it then sees real time and
	// contexts without deadlines, and replay is exact only if it is
	// deterministic.
	StoreOutside bool
	// NewClouds returns the clouds of the run; it is called outside the
	// simulation, before the run starts. In-memory clouds (memprovider, on
	// the simulation's clock) make up the number to two: by default AWS and
	// Hetzner.
	NewClouds func() []Cloud
	// KeepTrace keeps every step in Result.Trace.
	KeepTrace bool
}

// Result is what a run did.
type Result struct {
	Seed  uint64
	Steps int
	// Hash is a hash of the run's trace, with random ids canonicalised:
	// equal for two runs of one seed.
	Hash uint64
	// Violation is the invariant that broke, empty on a clean run; Tail is
	// the last steps before it.
	Violation string
	Tail      []string
	Faults    string
	// Trace is every step, when Config.KeepTrace is set.
	Trace []string
}

// Failed reports whether an invariant broke.
func (r Result) Failed() bool { return r.Violation != "" }

// Report formats a failure for a test log.
func (r Result) Report(replay string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "simulation seed %d broke an invariant after %d steps (faults %s):\n  %s\nlast steps:\n", r.Seed, r.Steps, r.Faults, r.Violation)
	for _, l := range r.Tail {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	fmt.Fprintf(&b, "replay: %s", replay)
	return b.String()
}

// workspaces is how many workspace ids the simulated users play with.
const workspaces = 4

// Run simulates one seed inside a testing/synctest bubble and returns what
// it found; it fails t only if the simulation itself cannot run.
func Run(t *testing.T, cfg Config) Result {
	t.Helper()
	if cfg.Steps <= 0 {
		cfg.Steps = 2000
	}
	faults, err := parseFaults(cfg.Faults)
	if err != nil {
		t.Fatal(err)
	}
	var res Result
	var st Store
	var clouds []Cloud
	if cfg.NewStore != nil {
		st = cfg.NewStore()
	}
	if cfg.NewClouds != nil {
		clouds = cfg.NewClouds()
	}
	outside := cfg.StoreOutside
	for _, c := range clouds {
		outside = outside || c.Outside
	}
	var ex *executor
	if outside {
		ex = newExecutor()
		defer ex.close()
	}
	realStart := time.Now()
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(cfg, faults, ex, realStart, st, clouds)
		w.loop()
		// Let every goroutine of the run end: crashed ones stop at their
		// next call, and the scheduler is no longer deciding.
		w.drain()
		res = Result{Seed: cfg.Seed, Steps: w.step, Hash: w.tr.hash, Violation: w.violation, Faults: w.faults.String(), Trace: w.tr.all}
		if res.Violation != "" {
			res.Tail = w.tr.tail()
		}
	})
	return res
}

func newWorld(cfg Config, faults faultSet, outside *executor, realStart time.Time, st Store, clouds []Cloud) *world {
	w := &world{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0x5eed)), tr: newTrace(),
		faults: faults, outside: outside,
		incarnation: make(map[string]int), intents: make(map[string]*intentLog),
		byToken: make(map[string]*intentLog), hookDone: make(map[string]bool)}
	w.tr.keep = cfg.KeepTrace
	if outside != nil {
		// Virtual time starts at the real time, so that VMs a cloud outside
		// the bubble stamps with real times look their age.
		w.offset = time.Until(realStart)
	}
	w.rate = 30 + w.rng.IntN(171) // 0.3× to 2× the base fault rates
	// Drawn whatever the configuration, so that a run replayed with the
	// fault set a swarm run drew takes the same decisions.
	drawn := faultSet(w.rng.Uint64()) & faultSet(faultAll)
	if faults == swarm {
		w.faults = drawn
	}
	w.hooks = hookPolicy(w.rng.IntN(4))
	w.store, w.clouds = st, clouds
	if w.store == nil {
		w.store = memstore.New()
	}
	var mem []string
	for _, name := range []string{cloudswitch.AWS, cloudswitch.Hetzner, cloudswitch.GCP} {
		if len(w.clouds)+len(mem) < 2 && !slices.ContainsFunc(w.clouds, func(c Cloud) bool { return c.Name == name }) {
			mem = append(mem, name)
		}
	}
	w.clouds = append(w.clouds, memClouds(mem, w.now)...)
	lag := time.Duration(w.rng.Int64N(int64(listLag)))
	if !w.faults.has(faultListing) {
		lag = 0
	}
	w.provs = make(map[string]cloudswitch.Provider)
	w.types = make(map[string][]string)
	allow := cloudswitch.DefaultAllowlist()
	for _, c := range w.clouds {
		w.provs[c.Name] = w.gated(c)
		w.types[c.Name] = allow.InstanceTypes(c.Name)
		if c.SetListLag != nil {
			c.SetListLag(lag)
		}
	}
	gs := gatedStore{w: w}
	w.gstore = &gs
	if is, ok := w.store.(interface {
		InstallationID(context.Context) (string, error)
	}); ok {
		w.gstore = &gatedInstallationStore{gatedStore: gs, id: is.InstallationID}
	}
	for i := range workspaces {
		w.wsIDs = append(w.wsIDs, fmt.Sprintf("ws-%d", i))
	}
	// The users' process never crashes; it creates the first workspaces.
	users := &process{name: "users", killed: make(chan struct{}), hooks: w.hookFor(), provision: true,
		strategy: cloudswitch.BreakBeforeMake}
	ctx := context.WithValue(context.Background(), actorKey{}, &actor{name: "setup", proc: users, role: "setup"})
	for _, id := range w.wsIDs {
		var err error
		w.run(ctx, cfg.StoreOutside, func(ctx context.Context) {
			_, err = w.store.Create(ctx, cloudswitch.Workspace{ID: id, Compute: w.initialCompute()})
		})
		if err != nil {
			w.violate("creating workspace %s: %v", id, err)
		}
		w.incarnation[id] = 1
	}
	w.startProcess(users, false, "user")
	for range 3 {
		w.spawnProcess(true)
	}
	return w
}

// drain wakes every goroutine still waiting once the run is over.
func (w *world) drain() {
	w.mu.Lock()
	for _, p := range w.procs {
		if !p.dead {
			p.dead = true
			close(p.killed)
		}
	}
	pend := w.pending
	w.pending = nil
	w.mu.Unlock()
	for _, c := range pend {
		c.reply <- decision{kind: crashed, err: errCrashed}
	}
	for {
		synctest.Wait()
		w.mu.Lock()
		pend, n := w.pending, w.actors
		w.pending = nil
		w.mu.Unlock()
		for _, c := range pend {
			c.reply <- decision{kind: crashed, err: errCrashed}
		}
		if n == 0 && len(pend) == 0 {
			return
		}
		if len(pend) == 0 {
			time.Sleep(time.Minute)
		}
	}
}

// memClouds are in-memory clouds on the simulation's clock.
func memClouds(names []string, now func() time.Time) []Cloud {
	var out []Cloud
	for _, name := range names {
		p := memprovider.New(name, memprovider.WithoutCallLog(), memprovider.WithClock(now))
		out = append(out, Cloud{Name: name, Provider: p,
			Live:       func(context.Context) ([]cloudswitch.Instance, error) { return p.Live(), nil },
			SetListLag: p.SetListLag})
	}
	return out
}

// Shrink looks for a shorter fault schedule that still breaks an invariant:
// it runs the failing seed again without each fault class in turn, and
// keeps a class out whenever the run still fails. It returns the failure
// with the fewest fault classes found and the Config that replays it.
func Shrink(t *testing.T, cfg Config, failed Result) (Config, Result) {
	t.Helper()
	set, err := parseFaults(failed.Faults)
	if err != nil {
		return cfg, failed
	}
	cfg.Faults = failed.Faults
	best := failed
	for i := range faultNames {
		f := fault(1) << i
		if !set.has(f) {
			continue
		}
		try := cfg
		try.Faults = (set &^ faultSet(f)).String()
		if r := Run(t, try); r.Failed() {
			set &^= faultSet(f)
			cfg, best = try, r
		}
	}
	return cfg, best
}
