package cloudswitch_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
	"github.com/cloudswitch/cloudswitch/store/memstore"
)

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

// batchWorld is n workspaces on AWS, each with its recorded VM, listed in
// pages of 100, plus the VMs of two deleted workspaces, old enough to judge.
func batchWorld(t *testing.T, n int) (*batchStore, *memprovider.Provider, func(...cloudswitch.ReconcilerOption) *cloudswitch.Reconciler) {
	ctx := t.Context()
	t.Helper()
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	mem := memstore.New()
	st := &batchStore{Store: mem, mem: mem}
	aws := memprovider.New(cloudswitch.AWS, memprovider.WithoutCallLog(), memprovider.WithPageSize(100),
		memprovider.WithClock(func() time.Time { return now.Add(-24 * time.Hour) }))
	c := cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"}
	for i := range n {
		id := fmt.Sprintf("ws-%04d", i)
		inst := aws.Add(cloudswitch.DefaultOwner, id, c)
		inst.Token = "t"
		if _, err := mem.Create(ctx, cloudswitch.Workspace{ID: id, Compute: c, Instance: &inst}); err != nil {
			t.Fatal(err)
		}
	}
	aws.Add(cloudswitch.DefaultOwner, "gone-1", c)
	aws.Add(cloudswitch.DefaultOwner, "gone-2", c)
	return st, aws, func(opts ...cloudswitch.ReconcilerOption) *cloudswitch.Reconciler {
		opts = append([]cloudswitch.ReconcilerOption{
			cloudswitch.WithResumeOptions(cloudswitch.WithClock(func() time.Time { return now }), fastRetries),
		}, opts...)
		return newReconciler(t, st, map[string]cloudswitch.Provider{cloudswitch.AWS: aws}, opts...)
	}
}

func TestReconcileReadsWorkspacesABatchAtATimeFromABatchGetter(t *testing.T) {
	ctx := t.Context()
	st, _, reconciler := batchWorld(t, 2500)
	rep, err := reconciler().Reconcile(ctx)
	require.NoError(t, err)
	if got := ids(rep.Orphans); len(got) != 2 {
		t.Fatalf("found orphans %v; want the VMs of the two deleted workspaces", got)
	}
	// 2,502 VMs in batches of 1,000: three calls; one Get per orphan to
	// confirm it, and nothing else.
	if st.batches != 3 || st.batched != 2502 || st.gets != 2 {
		t.Fatalf("the pass made %d GetBatch calls for %d workspaces and %d Gets; want 3 for 2502, and 2 Gets (the orphans' confirmations)",
			st.batches, st.batched, st.gets)
	}
}

func TestReconcileNeverJudgesVMsWhoseBatchFailed(t *testing.T) {
	ctx := t.Context()
	st, aws, reconciler := batchWorld(t, 10)
	st.failBatch = errors.New("connection reset")
	rep, err := reconciler(cloudswitch.WithDeleteOrphans(true)).Reconcile(ctx)
	if err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("a pass whose batched read failed returned %v; want the read's error", err)
	}
	if len(rep.Orphans) != 0 || len(rep.Deleted) != 0 || len(aws.Live()) != 12 {
		t.Fatalf("VMs whose workspaces could not be read were judged: orphans %v, deleted %v", ids(rep.Orphans), ids(rep.Deleted))
	}
}

func TestReconcileJudgesOnlyWhatTheBatchAnswered(t *testing.T) {
	ctx := t.Context()
	st, aws, reconciler := batchWorld(t, 10)
	// The flaky workspace's record is gone too, but its read failed: its
	// VM must not be taken for an orphan.
	require.NoError(t, st.mem.Delete(ctx, "ws-0003"))
	st.failOne = map[string]error{"ws-0003": errors.New("the record does not decode")}
	rep, err := reconciler(cloudswitch.WithDeleteOrphans(true)).Reconcile(ctx)
	if err == nil || !strings.Contains(err.Error(), "ws-0003") {
		t.Fatalf("got %v; want an error naming the workspace that could not be read", err)
	}
	for _, o := range rep.Orphans {
		if o.WorkspaceID == "ws-0003" {
			t.Fatalf("the VM of a workspace whose lookup failed was judged an orphan: %v", ids(rep.Orphans))
		}
	}
	if len(rep.Deleted) != 2 || len(aws.Live()) != 10 {
		t.Fatalf("deleted %v; want exactly the two VMs of deleted workspaces", ids(rep.Deleted))
	}
}

func TestReconcileRefusesABatchAnsweredOutOfOrder(t *testing.T) {
	ctx := t.Context()
	st, _, reconciler := batchWorld(t, 10)
	st.scramble = true
	rep, err := reconciler(cloudswitch.WithDeleteOrphans(true)).Reconcile(ctx)
	if err == nil {
		t.Fatal("a pass whose store answered lookups for other ids than asked reported no error")
	}
	for _, o := range rep.Deleted {
		if !strings.HasPrefix(o.WorkspaceID, "gone-") {
			t.Fatalf("deleted %s/%s of workspace %s, a lookup answered for another id", o.Provider, o.ID, o.WorkspaceID)
		}
	}
}
