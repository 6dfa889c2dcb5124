package gcptest_test

import (
	"errors"
	"net/http"
	"slices"
	"testing"

	"cloud.google.com/go/compute/apiv1/computepb"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/ownership"
	"github.com/cloudswitch/cloudswitch/providers/emulator"
	"github.com/cloudswitch/cloudswitch/providers/gcp/gcptest"
	"github.com/cloudswitch/cloudswitch/providers/providertest"
)

// A Fault naming an operation the emulator does not serve is refused,
// loudly: Inject reports it to the test and returns an error, on a server
// made by NewServer and on one made by Start alike.
func TestInjectRefusesAnOperationItDoesNotServe(t *testing.T) {
	rec := &recorder{TB: t}
	srv := gcptest.NewServer(rec)
	if err := srv.Inject(gcptest.Fault{Op: "instances.insrt", Status: 503}); !errors.Is(err, emulator.ErrUnknownOp) {
		t.Fatalf("Inject of an unknown operation: %v; want ErrUnknownOp", err)
	}
	for _, op := range []string{"", gcptest.OpInsert, gcptest.OpGet, gcptest.OpDelete, gcptest.OpList,
		gcptest.OpAggregatedList, gcptest.OpOperationGet, gcptest.OpStop, gcptest.OpStart, gcptest.OpSetMachineType,
		gcptest.OpMachineTypeGet, gcptest.OpImageGet, gcptest.OpImageFromFamily} {
		if err := srv.Inject(gcptest.Fault{Op: op, Times: 1}); err != nil {
			t.Errorf("Inject(%q): %v", op, err)
		}
	}
	if len(rec.errs) != 1 {
		t.Errorf("test errors %q; want the unknown operation reported once", rec.errs)
	}

	started, err := gcptest.Start("127.0.0.1:0")
	require.NoError(t, err)
	defer started.Close()
	if err := started.Inject(gcptest.Fault{Op: "instances.lst"}); !errors.Is(err, emulator.ErrUnknownOp) {
		t.Errorf("a started server's Inject of an unknown operation: %v; want ErrUnknownOp", err)
	}
}

// Live is the ground truth of the instances that exist, with what their
// labels encode about their owner.
func TestLiveIsTheGroundTruthWithOwnership(t *testing.T) {
	srv := gcptest.NewServer(t)
	token, err := ownership.EncodeLabel("Tok/1")
	require.NoError(t, err)
	planted := srv.AddInstance(zone, "planted", map[string]string{
		ownership.WorkspaceKey: "ws-1", ownership.TokenKey: token, ownership.InstallationKey: "inst-1",
	})
	want := []cloudswitch.Instance{{
		Provider: cloudswitch.GCP, ID: "planted", Region: zone, WorkspaceID: "ws-1", Token: "Tok/1",
		Installation: "inst-1", InstanceType: planted.MachineType, Image: planted.SourceImage, CreatedAt: planted.Created,
	}}
	if got := srv.Live(); !slices.Equal(got, want) {
		t.Errorf("Live() = %+v; want %+v", got, want)
	}
}

// The harness's levers act on the emulator as Compute Engine would answer.
func TestHarnessLeversActOnTheEmulator(t *testing.T) {
	ctx := t.Context()
	srv := gcptest.NewServer(t)
	h := srv.Harness(nil)
	if h.Name != cloudswitch.GCP || h.Compute.Provider != cloudswitch.GCP || h.Fail == nil || h.LoseResponse == nil ||
		h.Live == nil || h.Busy == nil || h.ForeignCredentials == nil || h.SetDown == nil || h.SetPageSize == nil || h.ListCalls == nil {
		t.Fatalf("Harness leaves a lever the emulator serves unset: %+v", h)
	}
	ic, _ := clients(t, srv)
	h.Fail(providertest.OpList, 1, providertest.Throttled)
	it := ic.AggregatedList(ctx, &computepb.AggregatedListInstancesRequest{Project: srv.Project()}, noRetry)
	_, err := it.Next()
	wantAPIError(t, err, http.StatusTooManyRequests, "rateLimitExceeded")
	if n := h.ListCalls(); n != 1 {
		t.Errorf("ListCalls() = %d; want 1", n)
	}
	srv.AddInstance(zone, "vm-1", nil)
	h.SetDown(cloudswitch.Instance{ID: "vm-1", Region: zone})
	if got := srv.Instances(); len(got) != 1 || got[0].Status != gcptest.StatusTerminated {
		t.Errorf("after SetDown, Instances() = %+v; want the instance TERMINATED", got)
	}
}
