package cloudswitch_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
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

// fixture is a memstore and three memproviders whose calls are recorded in
// one log, in the order they happen, so tests can assert on order.
type fixture struct {
	t     *testing.T
	mem   *memstore.Store
	store *loggingStore
	aws   *memprovider.Provider
	hz    *memprovider.Provider
	gcp   *memprovider.Provider
	log   *callLog
}

type callLog struct {
	mu      sync.Mutex
	entries []string
}

func (l *callLog) add(format string, args ...any) {
	l.mu.Lock()
	l.entries = append(l.entries, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func (l *callLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.entries)
}

func (l *callLog) reset() {
	l.mu.Lock()
	l.entries = nil
	l.mu.Unlock()
}

// index returns the position of the first entry with the prefix, or -1.
func (l *callLog) index(prefix string) int {
	for i, e := range l.all() {
		if strings.HasPrefix(e, prefix) {
			return i
		}
	}
	return -1
}

func (l *callLog) count(prefix string) int {
	n := 0
	for _, e := range l.all() {
		if strings.HasPrefix(e, prefix) {
			n++
		}
	}
	return n
}

// loggingStore logs every call and lets a test fail them.
type loggingStore struct {
	inner cloudswitch.Store
	log   *callLog

	mu        sync.Mutex
	getErr    error
	updateErr func(w cloudswitch.Workspace) (err error, afterEffect bool)
}

func (s *loggingStore) Get(ctx context.Context, id string) (cloudswitch.Workspace, error) {
	s.log.add("store.get %s", id)
	s.mu.Lock()
	err := s.getErr
	s.mu.Unlock()
	if err != nil {
		return cloudswitch.Workspace{}, err
	}
	return s.inner.Get(ctx, id)
}

func (s *loggingStore) Update(ctx context.Context, w cloudswitch.Workspace) (cloudswitch.Workspace, error) {
	s.log.add("store.update %s", describeWrite(w))
	s.mu.Lock()
	hook := s.updateErr
	s.mu.Unlock()
	if hook != nil {
		if err, after := hook(w); err != nil {
			if after {
				_, _ = s.inner.Update(ctx, w)
			}
			return cloudswitch.Workspace{}, err
		}
	}
	return s.inner.Update(ctx, w)
}

// InstallationID forwards the inner store's installation id: a wrapper that
// hid it would make every VM it creates look like another installation's.
func (s *loggingStore) InstallationID(ctx context.Context) (string, error) {
	return s.inner.(cloudswitch.InstallationStore).InstallationID(ctx)
}

// DeleteIf forwards the inner store's compare-and-swap delete.
func (s *loggingStore) DeleteIf(ctx context.Context, w cloudswitch.Workspace) error {
	s.log.add("store.delete %s", w.ID)
	return s.inner.(cloudswitch.Deleter).DeleteIf(ctx, w)
}

func (s *loggingStore) Pending(ctx context.Context) iter.Seq2[cloudswitch.Workspace, error] {
	s.log.add("store.pending")
	return s.inner.Pending(ctx)
}

// describeWrite summarises a written workspace: compute provider, instance,
// intent phase.
func describeWrite(w cloudswitch.Workspace) string {
	inst := "none"
	if w.Instance != nil {
		inst = w.Instance.ID
	}
	phase := "none"
	if w.Pending != nil {
		phase = string(w.Pending.Phase)
	}
	return fmt.Sprintf("compute=%s/%s instance=%s intent=%s", w.Compute.Provider, w.Compute.InstanceType, inst, phase)
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	log := &callLog{}
	f := &fixture{t: t, mem: memstore.New(), log: log}
	f.store = &loggingStore{inner: f.mem, log: log}
	f.aws = memprovider.New(cloudswitch.AWS)
	f.hz = memprovider.New(cloudswitch.Hetzner)
	f.gcp = memprovider.New(cloudswitch.GCP)
	return f
}

func (f *fixture) providers() map[string]cloudswitch.Provider {
	return map[string]cloudswitch.Provider{
		cloudswitch.AWS:     loggingProvider{f.aws, f.log},
		cloudswitch.Hetzner: loggingProvider{f.hz, f.log},
		cloudswitch.GCP:     loggingProvider{f.gcp, f.log},
	}
}

// loggingProvider logs every call before passing it on.
type loggingProvider struct {
	*memprovider.Provider
	log *callLog
}

func (p loggingProvider) Provision(ctx context.Context, req cloudswitch.ProvisionRequest) (cloudswitch.Instance, error) {
	p.log.add("%s.provision %s", p.Name(), req.Token)
	return p.Provider.Provision(ctx, req)
}

func (p loggingProvider) Deprovision(ctx context.Context, inst cloudswitch.Instance) error {
	p.log.add("%s.deprovision %s", p.Name(), inst.ID)
	return p.Provider.Deprovision(ctx, inst)
}

func (p loggingProvider) Instances(ctx context.Context, owner string) iter.Seq2[cloudswitch.Instance, error] {
	p.log.add("%s.instances %s", p.Name(), owner)
	return p.Provider.Instances(ctx, owner)
}

// fastRetries retries quickly, so tests of exhausted retries stay fast.
var fastRetries = cloudswitch.WithRetryPolicy(cloudswitch.RetryPolicy{
	InitialInterval: 100 * time.Microsecond, MaxInterval: time.Millisecond, MaxElapsedTime: 5 * time.Second, MaxAttempts: 3,
})

func (f *fixture) switcher(opts ...cloudswitch.Option) *cloudswitch.Switcher {
	f.t.Helper()
	sw, err := cloudswitch.New(f.store, f.providers(), append([]cloudswitch.Option{fastRetries}, opts...)...)
	if err != nil {
		f.t.Fatalf("New: %v", err)
	}
	return sw
}

func (f *fixture) provider(name string) *memprovider.Provider {
	switch name {
	case cloudswitch.AWS:
		return f.aws
	case cloudswitch.Hetzner:
		return f.hz
	case cloudswitch.GCP:
		return f.gcp
	}
	f.t.Fatalf("no provider %q", name)
	return nil
}

// seed creates workspace id on provider with instance type typ, with a VM
// when withVM, and clears the call log.
func (f *fixture) seed(id, provider, typ string, withVM bool) cloudswitch.Workspace {
	f.t.Helper()
	ctx := context.Background()
	c := cloudswitch.Compute{Provider: provider, InstanceType: typ}
	w, err := f.mem.Create(ctx, cloudswitch.Workspace{ID: id, Compute: c})
	if err != nil {
		f.t.Fatal(err)
	}
	if withVM {
		inst, err := f.provider(cloudswitch.NormalizeProvider(provider)).Provision(ctx, cloudswitch.ProvisionRequest{
			WorkspaceID: id, Compute: cloudswitch.Compute{Provider: cloudswitch.NormalizeProvider(provider), InstanceType: typ},
			Token: "seed-" + id, Owner: cloudswitch.DefaultOwner, Installation: f.installation(),
		})
		if err != nil {
			f.t.Fatal(err)
		}
		w.Instance = &inst
		if w, err = f.mem.Update(ctx, w); err != nil {
			f.t.Fatal(err)
		}
	}
	f.log.reset()
	return w
}

func (f *fixture) installation() string {
	id, err := f.mem.InstallationID(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return id
}

func (f *fixture) get(id string) cloudswitch.Workspace {
	f.t.Helper()
	w, err := f.mem.Get(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return w
}

// liveOf returns the live VMs of workspace id across the three providers.
func (f *fixture) liveOf(id string) []cloudswitch.Instance {
	var out []cloudswitch.Instance
	for _, p := range []*memprovider.Provider{f.aws, f.hz, f.gcp} {
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
func (f *fixture) requireOnlyRecordedVM(id string) {
	f.t.Helper()
	w := f.get(id)
	live := f.liveOf(id)
	switch {
	case w.Instance == nil && len(live) != 0:
		f.t.Fatalf("workspace %s records no VM but %d are alive: %v", id, len(live), live)
	case w.Instance != nil && (len(live) != 1 || live[0].ID != w.Instance.ID):
		f.t.Fatalf("workspace %s records VM %s but the live VMs are %v", id, w.Instance.ID, live)
	}
}

func (f *fixture) requireNoWrites() {
	f.t.Helper()
	if n := f.log.count("store.update"); n != 0 {
		f.t.Fatalf("%d writes happened; want none. Calls: %v", n, f.log.all())
	}
}

func (f *fixture) requireNoProviderCalls() {
	f.t.Helper()
	for _, e := range f.log.all() {
		if !strings.HasPrefix(e, "store.") {
			f.t.Fatalf("a provider was called (%s); want no provider call. Calls: %v", e, f.log.all())
		}
	}
}

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

var toHetzner = cloudswitch.Request{Compute: cloudswitch.Compute{Provider: cloudswitch.Hetzner}, ConfirmRecreate: true}

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
