package fleet_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/fleet"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
	"github.com/cloudswitch/cloudswitch/store/memstore"
)

// countingStore is a memstore that counts writes, so that a test can say
// "nothing was written".
type countingStore struct {
	*memstore.Store
	updates atomic.Int64
}

func (s *countingStore) Update(ctx context.Context, w cloudswitch.Workspace) (cloudswitch.Workspace, error) {
	s.updates.Add(1)
	return s.Store.Update(ctx, w)
}

// preflighting is a memprovider that also answers preflight checks, and
// counts them; refuse names the instance types it refuses.
type preflighting struct {
	*memprovider.Provider
	preflights atomic.Int64
	refuse     map[string]error
}

func (p *preflighting) Preflight(ctx context.Context, req cloudswitch.ProvisionRequest) error {
	p.preflights.Add(1)
	if err := req.Check(cloudswitch.GCP); err != nil {
		return err // what every driver checks first
	}
	if err, ok := p.refuse[req.Compute.InstanceType]; ok {
		return err
	}
	return nil
}

// world is a store of workspaces and the in-memory clouds they run on.
type world struct {
	store     *countingStore
	aws, hz   *memprovider.Provider
	gcp       *preflighting
	providers map[string]cloudswitch.Provider
}

const owner = cloudswitch.DefaultOwner

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{
		store: &countingStore{Store: memstore.New()},
		aws:   memprovider.New(cloudswitch.AWS),
		hz:    memprovider.New(cloudswitch.Hetzner),
		gcp:   &preflighting{Provider: memprovider.New(cloudswitch.GCP)},
	}
	w.providers = map[string]cloudswitch.Provider{cloudswitch.AWS: w.aws, cloudswitch.Hetzner: w.hz, cloudswitch.GCP: w.gcp}
	return w
}

// add creates workspace id on compute c, with a VM when vm is set.
func (w *world) add(t *testing.T, id string, c cloudswitch.Compute, vm bool) cloudswitch.Workspace {
	t.Helper()
	ws := cloudswitch.Workspace{ID: id, Compute: c}
	if vm {
		var inst cloudswitch.Instance
		switch cloudswitch.NormalizeProvider(c.Provider) {
		case cloudswitch.AWS:
			inst = w.aws.Add(owner, id, c)
		case cloudswitch.Hetzner:
			inst = w.hz.Add(owner, id, c)
		case cloudswitch.GCP:
			inst = w.gcp.Add(owner, id, c)
		}
		ws.Instance = &inst
	}
	created, err := w.store.Create(t.Context(), ws)
	require.NoError(t, err)
	return created
}

// addAWS creates n workspaces ws-0000… on AWS, each with a VM, and returns
// their ids.
func (w *world) addAWS(t *testing.T, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range n {
		ids[i] = fmt.Sprintf("ws-%04d", i)
		w.add(t, ids[i], cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"}, true)
	}
	return ids
}

func (w *world) switcher(t *testing.T, providers map[string]cloudswitch.Provider, opts ...cloudswitch.Option) *cloudswitch.Switcher {
	t.Helper()
	if providers == nil {
		providers = w.providers
	}
	sw, err := cloudswitch.New(w.store, providers, opts...)
	require.NoError(t, err)
	return sw
}

func (w *world) planner(t *testing.T) *fleet.Planner {
	t.Helper()
	p, err := fleet.NewPlanner(w.store, w.providers)
	require.NoError(t, err)
	return p
}

func (w *world) get(t *testing.T, id string) cloudswitch.Workspace {
	t.Helper()
	ws, err := w.store.Get(t.Context(), id)
	require.NoError(t, err)
	return ws
}

// toHetzner is the request of most apply tests: every workspace moves to
// Hetzner.
var toHetzner = cloudswitch.Request{Compute: cloudswitch.Compute{Provider: cloudswitch.Hetzner}, ConfirmRecreate: true}

// planAll plans req over ids.
func (w *world) planAll(t *testing.T, ids []string, req cloudswitch.Request) *fleet.Plan {
	t.Helper()
	plan, err := w.planner(t).Plan(t.Context(), fleet.IDList(ids...), req)
	require.NoError(t, err)
	return plan
}

// apply applies plan with a Switcher over providers (nil: the world's).
func (w *world) apply(t *testing.T, ctx context.Context, sw *cloudswitch.Switcher, plan *fleet.Plan, opts fleet.Options) fleet.Summary {
	t.Helper()
	a, err := fleet.NewApplier(sw, w.store)
	require.NoError(t, err)
	sum, err := a.Apply(ctx, plan.Header, plan.All(), opts)
	require.NoError(t, err)
	return sum
}

// events collects progress events.
type events struct {
	mu  sync.Mutex
	all []fleet.Event
}

func (e *events) add(ev fleet.Event) {
	e.mu.Lock()
	e.all = append(e.all, ev)
	e.mu.Unlock()
}

func (e *events) kinds(k fleet.EventKind) []fleet.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []fleet.Event
	for _, ev := range e.all {
		if ev.Kind == k {
			out = append(out, ev)
		}
	}
	return out
}

// onHetzner counts the workspaces that run on Hetzner with a VM and no
// pending switch.
func (w *world) onHetzner(t *testing.T, ids []string) int {
	n := 0
	for _, id := range ids {
		ws := w.get(t, id)
		if ws.Compute.Provider == cloudswitch.Hetzner && ws.Instance != nil && ws.Pending == nil && w.hz.Exists(ws.Instance.ID) {
			n++
		}
	}
	return n
}

var farFuture = time.Now().Add(24 * time.Hour)
