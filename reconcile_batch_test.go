package cloudswitch_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
)

// batchWorld is n workspaces on AWS, each with its recorded VM, listed in
// pages of 100, plus the VMs of two deleted workspaces, a day old: old
// enough to judge. Its store is a batchStore, and AWS its only driver.
func batchWorld(t *testing.T, n int) *world[*batchStore] {
	t.Helper()
	w := newWorld(t, newBatchStore, onClouds(cloudswitch.AWS), onTestClock(),
		withCloudOptions(memprovider.WithoutCallLog(), memprovider.WithPageSize(100)))
	c := cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"}
	for i := range n {
		id := fmt.Sprintf("ws-%04d", i)
		inst := w.aws.Add(cloudswitch.DefaultOwner, id, c)
		inst.Token = "t"
		_, err := w.mem.Create(t.Context(), cloudswitch.Workspace{ID: id, Compute: c, Instance: &inst})
		require.NoError(t, err)
	}
	w.aws.Add(cloudswitch.DefaultOwner, "gone-1", c)
	w.aws.Add(cloudswitch.DefaultOwner, "gone-2", c)
	w.advance(24 * time.Hour)
	return w
}

func TestReconcileReadsWorkspacesABatchAtATimeFromABatchGetter(t *testing.T) {
	ctx := t.Context()
	w := batchWorld(t, 2500)
	rep, err := w.reconciler().Reconcile(ctx)
	require.NoError(t, err)
	if got := ids(rep.Orphans); len(got) != 2 {
		t.Fatalf("found orphans %v; want the VMs of the two deleted workspaces", got)
	}
	// 2,502 VMs in batches of 1,000: three calls; one Get per orphan to
	// confirm it, and nothing else.
	if st := w.store; st.batches != 3 || st.batched != 2502 || st.gets != 2 {
		t.Fatalf("the pass made %d GetBatch calls for %d workspaces and %d Gets; want 3 for 2502, and 2 Gets (the orphans' confirmations)",
			st.batches, st.batched, st.gets)
	}
}

func TestReconcileNeverJudgesVMsWhoseBatchFailed(t *testing.T) {
	ctx := t.Context()
	w := batchWorld(t, 10)
	w.store.failBatch = errors.New("connection reset")
	rep, err := w.reconciler(cloudswitch.WithDeleteOrphans(true)).Reconcile(ctx)
	if err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("a pass whose batched read failed returned %v; want the read's error", err)
	}
	if len(rep.Orphans) != 0 || len(rep.Deleted) != 0 || len(w.aws.Live()) != 12 {
		t.Fatalf("VMs whose workspaces could not be read were judged: orphans %v, deleted %v", ids(rep.Orphans), ids(rep.Deleted))
	}
}

func TestReconcileJudgesOnlyWhatTheBatchAnswered(t *testing.T) {
	ctx := t.Context()
	w := batchWorld(t, 10)
	// The flaky workspace's record is gone too, but its read failed: its
	// VM must not be taken for an orphan.
	require.NoError(t, w.mem.Delete(ctx, "ws-0003"))
	w.store.failOne = map[string]error{"ws-0003": errors.New("the record does not decode")}
	rep, err := w.reconciler(cloudswitch.WithDeleteOrphans(true)).Reconcile(ctx)
	if err == nil || !strings.Contains(err.Error(), "ws-0003") {
		t.Fatalf("got %v; want an error naming the workspace that could not be read", err)
	}
	for _, o := range rep.Orphans {
		if o.WorkspaceID == "ws-0003" {
			t.Fatalf("the VM of a workspace whose lookup failed was judged an orphan: %v", ids(rep.Orphans))
		}
	}
	if len(rep.Deleted) != 2 || len(w.aws.Live()) != 10 {
		t.Fatalf("deleted %v; want exactly the two VMs of deleted workspaces", ids(rep.Deleted))
	}
}

func TestReconcileRefusesABatchAnsweredOutOfOrder(t *testing.T) {
	ctx := t.Context()
	w := batchWorld(t, 10)
	w.store.scramble = true
	rep, err := w.reconciler(cloudswitch.WithDeleteOrphans(true)).Reconcile(ctx)
	if err == nil {
		t.Fatal("a pass whose store answered lookups for other ids than asked reported no error")
	}
	for _, o := range rep.Deleted {
		if !strings.HasPrefix(o.WorkspaceID, "gone-") {
			t.Fatalf("deleted %s/%s of workspace %s, a lookup answered for another id", o.Provider, o.ID, o.WorkspaceID)
		}
	}
}
