package cloudswitch_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
	"github.com/cloudswitch/cloudswitch/store/memstore"
)

// What a world puts in front of its memstore and its clouds. Each store
// shows the Switchers and Reconcilers the optional interfaces a spec needs,
// and hides the others.

// callLog records a world's store and cloud calls, in the order they
// happen.
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

// count returns how many entries have the prefix.
func (l *callLog) count(prefix string) int {
	n := 0
	for _, e := range l.all() {
		if strings.HasPrefix(e, prefix) {
			n++
		}
	}
	return n
}

// loggingProvider logs every call that creates, destroys or lists VMs
// before passing it on.
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

// loggingStore logs every call and lets a test fail them. It is an
// InstallationStore and a Deleter.
type loggingStore struct {
	inner cloudswitch.Store
	log   *callLog

	mu        sync.Mutex
	getErr    error
	updateErr func(w cloudswitch.Workspace) (err error, afterEffect bool)
}

// newLoggingStore puts a loggingStore that logs to log in front of mem.
func newLoggingStore(mem *memstore.Store, log *callLog) *loggingStore {
	return &loggingStore{inner: mem, log: log}
}

// failGets makes every Get fail with err; nil lifts it.
func (s *loggingStore) failGets(err error) {
	s.mu.Lock()
	s.getErr = err
	s.mu.Unlock()
}

// failUpdates makes every Update fail that hook fails: with its error, and
// after writing when it says afterEffect. A nil hook lifts it.
func (s *loggingStore) failUpdates(hook func(w cloudswitch.Workspace) (err error, afterEffect bool)) {
	s.mu.Lock()
	s.updateErr = hook
	s.mu.Unlock()
}

// loseFirstClaim makes the first write land and its answer get lost, as
// when the database committed and the connection broke.
func (s *loggingStore) loseFirstClaim() {
	lost := false
	s.failUpdates(func(w cloudswitch.Workspace) (error, bool) {
		if !lost && w.Pending != nil {
			lost = true
			return errors.New("connection reset by peer"), true
		}
		return nil, false
	})
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

// countingStore counts Gets per workspace and can fail reads of some. It is
// a WorkspaceLister; it hides memstore's InstallationID, so the VMs its
// Switchers create carry none.
type countingStore struct {
	cloudswitch.Store
	lister cloudswitch.WorkspaceLister
	mu     sync.Mutex
	gets   map[string]int
	failOn map[string]error
}

// newCountingStore puts a countingStore in front of mem; it logs nothing.
func newCountingStore(mem *memstore.Store, _ *callLog) *countingStore {
	return &countingStore{Store: mem, lister: mem}
}

func (s *countingStore) Get(ctx context.Context, id string) (cloudswitch.Workspace, error) {
	s.mu.Lock()
	if s.gets == nil {
		s.gets = map[string]int{}
	}
	s.gets[id]++
	err := s.failOn[id]
	s.mu.Unlock()
	if err != nil {
		return cloudswitch.Workspace{}, err
	}
	return s.Store.Get(ctx, id)
}

func (s *countingStore) List(ctx context.Context) iter.Seq2[cloudswitch.Workspace, error] {
	return s.lister.List(ctx)
}

// batchStore is a BatchGetter over memstore that counts its calls and can
// fail a whole batch, or the lookup of one workspace, or answer out of
// order.
type batchStore struct {
	cloudswitch.Store // hides memstore's InstallationID: the VMs here carry none
	mem               *memstore.Store

	mu        sync.Mutex
	batches   int
	batched   int
	gets      int
	failBatch error
	failOne   map[string]error
	scramble  bool
}

// newBatchStore puts a batchStore in front of mem; it logs nothing.
func newBatchStore(mem *memstore.Store, _ *callLog) *batchStore {
	return &batchStore{Store: mem, mem: mem}
}

func (s *batchStore) Get(ctx context.Context, id string) (cloudswitch.Workspace, error) {
	s.mu.Lock()
	s.gets++
	s.mu.Unlock()
	return s.mem.Get(ctx, id)
}

func (s *batchStore) GetBatch(ctx context.Context, ids []string) ([]cloudswitch.Lookup, error) {
	s.mu.Lock()
	s.batches++
	s.batched += len(ids)
	fail, one, scramble := s.failBatch, s.failOne, s.scramble
	s.mu.Unlock()
	if fail != nil {
		return nil, fail
	}
	out, err := s.mem.GetBatch(ctx, ids)
	for i := range out {
		if e := one[out[i].ID]; e != nil {
			out[i] = cloudswitch.Lookup{ID: out[i].ID, Err: e}
		}
	}
	if scramble && len(out) > 1 {
		out[0], out[1] = out[1], out[0]
	}
	return out, err
}
