// Package switchtest holds the Switcher's hardest tests — a crash at every
// step, random faults, concurrent switches — written against any Store and
// any Providers, so that the root package, store/storetest and
// providers/providertest all run them on what they test.
package switchtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cloudswitch/cloudswitch"
)

// Owner is the ownership tag of every VM the suites create.
const Owner = "switchtest"

// Lease is the lease of the suites' Switchers; the clock jumps past it to
// let a new process resume.
const Lease = time.Minute

// Cloud is a provider under test with a view of its ground truth.
type Cloud struct {
	Name     string
	Provider cloudswitch.Provider
	// Live returns every VM that exists now, whatever the listing delays,
	// with the workspace id of its tags.
	Live func(ctx context.Context) ([]cloudswitch.Instance, error)
}

// CreateFunc creates a workspace in a store.
type CreateFunc func(context.Context, cloudswitch.Workspace) (cloudswitch.Workspace, error)

// Env is what the suites run on.
type Env struct {
	// NewStore returns an empty store and its Create.
	NewStore func(t *testing.T) (cloudswitch.Store, CreateFunc)
	// NewClouds returns the clouds for one test, at least two, on fresh
	// state or shared state: the suites only look at VMs of their own
	// workspaces (ids unique per test).
	NewClouds func(t *testing.T) []Cloud
	// Options are added to every Switcher the suites make.
	Options []cloudswitch.Option
}

// clock is a test clock that jumps forward on demand.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

// expireLeases moves the clock past every lease taken so far.
func (c *clock) expireLeases() {
	c.mu.Lock()
	c.off += Lease + time.Second
	c.mu.Unlock()
}

// world is one test's store, clouds and clock.
type world struct {
	t      *testing.T
	env    Env
	store  cloudswitch.Store
	create CreateFunc
	clouds []Cloud
	clock  *clock
	prefix string // of every workspace id, unique per test
	hooked *hookLog
}

func newWorld(t *testing.T, env Env) *world {
	t.Helper()
	st, create := env.NewStore(t)
	clouds := env.NewClouds(t)
	if len(clouds) < 2 {
		t.Fatalf("switchtest needs at least two clouds, got %d", len(clouds))
	}
	return &world{t: t, env: env, store: st, create: create, clouds: clouds, clock: &clock{}, prefix: "ws-" + randomHex(4), hooked: &hookLog{}}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (w *world) cloud(name string) Cloud {
	for _, c := range w.clouds {
		if c.Name == name {
			return c
		}
	}
	w.t.Fatalf("no cloud %q", name)
	return Cloud{}
}

// options returns the options of a Switcher of this world.
func (w *world) options(extra ...cloudswitch.Option) []cloudswitch.Option {
	opts := []cloudswitch.Option{
		cloudswitch.WithOwner(Owner),
		cloudswitch.WithLease(Lease),
		cloudswitch.WithClock(w.clock.now),
		cloudswitch.WithRetryPolicy(cloudswitch.RetryPolicy{
			InitialInterval: 100 * time.Microsecond, MaxInterval: time.Millisecond,
			MaxElapsedTime: 10 * time.Second, MaxAttempts: 3,
		}),
	}
	opts = append(opts, w.env.Options...)
	return append(opts, extra...)
}

// switcher returns a Switcher running as process p (nil: a healthy process
// with no faults).
func (w *world) switcher(p *process, extra ...cloudswitch.Option) *cloudswitch.Switcher {
	w.t.Helper()
	var st cloudswitch.Store = w.store
	providers := make(map[string]cloudswitch.Provider, len(w.clouds))
	for _, c := range w.clouds {
		providers[c.Name] = c.Provider
	}
	if p != nil {
		st = store{inner: w.store, p: p}
		if _, ok := w.store.(cloudswitch.Deleter); ok {
			st = deletingStore{store{inner: w.store, p: p}}
		}
		for name, pr := range providers {
			providers[name] = expose(provider{name: name, inner: pr, p: p}, pr)
		}
	}
	for name, pr := range providers {
		providers[name] = expose(guarded{inner: pr, w: w}, pr)
	}
	sw, err := cloudswitch.New(st, providers, w.options(extra...)...)
	if err != nil {
		w.t.Fatalf("New: %v", err)
	}
	return sw
}

// instanceType returns an allowlisted instance type of provider: the
// default, or its i-th alternative.
func instanceType(provider string, i int) string {
	a := cloudswitch.DefaultAllowlist()
	types := a.InstanceTypes(provider)
	if len(types) == 0 {
		return ""
	}
	if i <= 0 {
		return a.DefaultInstanceType(provider)
	}
	return types[i%len(types)]
}

// seed creates workspace id on cloud, with a VM when withVM.
func (w *world) seed(id string, cloud string, withVM bool) cloudswitch.Workspace {
	w.t.Helper()
	ctx := context.Background()
	c := cloudswitch.Compute{Provider: cloud, InstanceType: instanceType(cloud, 0)}
	ws, err := w.create(ctx, cloudswitch.Workspace{ID: id, Compute: c})
	if err != nil {
		w.t.Fatalf("seeding %s: create: %v", id, err)
	}
	if !withVM {
		return ws
	}
	var installation string
	if is, ok := w.store.(cloudswitch.InstallationStore); ok {
		var err error
		if installation, err = is.InstallationID(ctx); err != nil {
			w.t.Fatalf("seeding %s: installation id: %v", id, err)
		}
	}
	inst, err := w.cloud(cloud).Provider.Provision(ctx, cloudswitch.ProvisionRequest{
		WorkspaceID: id, Compute: c, Token: randomHex(16), Owner: Owner, Installation: installation,
	})
	if err != nil {
		w.t.Fatalf("seeding %s: provision: %v", id, err)
	}
	ws.Instance = &inst
	ws, err = w.store.Update(ctx, ws)
	if err != nil {
		w.t.Fatalf("seeding %s: record VM: %v", id, err)
	}
	return ws
}

// liveOf returns the ids of the live VMs of workspace id on every cloud.
func (w *world) liveOf(id string) []string {
	w.t.Helper()
	var ids []string
	for _, c := range w.clouds {
		live, err := c.Live(context.Background())
		if err != nil {
			w.t.Fatalf("listing %s: %v", c.Name, err)
		}
		for _, inst := range live {
			if inst.WorkspaceID == id {
				ids = append(ids, c.Name+"/"+inst.ID)
			}
		}
	}
	slices.Sort(ids)
	return ids
}

// recorded returns the VM a record names, as liveOf spells it.
func recorded(ws cloudswitch.Workspace) []string {
	if ws.Instance == nil {
		return nil
	}
	return []string{ws.Instance.Provider + "/" + ws.Instance.ID}
}

// checkNoOrphan fails unless the live VMs of the workspace are exactly the
// one its record names, and no intent is pending.
func (w *world) checkNoOrphan(id, when string) cloudswitch.Workspace {
	w.t.Helper()
	ws, err := w.store.Get(context.Background(), id)
	if err != nil {
		w.t.Fatalf("%s: reading %s: %v", when, id, err)
	}
	if ws.Pending != nil {
		w.t.Errorf("%s: workspace %s still has intent %s at phase %s", when, id, ws.Pending.ID, ws.Pending.Phase)
	}
	if live, want := w.liveOf(id), recorded(ws); !slices.Equal(live, want) {
		w.t.Errorf("%s: workspace %s: live VMs %v, record names %v: a VM no record points at, or a record pointing at nothing",
			when, id, live, want)
	}
	return ws
}

func describe(ws cloudswitch.Workspace) string {
	inst := "none"
	if ws.Instance != nil {
		inst = ws.Instance.Provider + "/" + ws.Instance.ID
	}
	return fmt.Sprintf("compute=%+v instance=%s version=%d", ws.Compute, inst, ws.Version)
}
