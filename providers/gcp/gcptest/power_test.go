package gcptest_test

import (
	"net/http"
	"testing"

	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/cloudswitch/cloudswitch/providers/gcp/gcptest"
)

func TestMachineTypeChangesOnlyOnAStoppedInstanceToATypeTheZoneOffers(t *testing.T) {
	ctx := t.Context()
	srv := gcptest.NewServer(t)
	srv.AddInstance(zone, "vm-1", nil)
	ic, _ := clients(t, srv)
	set := func(mt string) error {
		op, err := ic.SetMachineType(ctx, &computepb.SetMachineTypeInstanceRequest{
			Project: srv.Project(), Zone: zone, Instance: "vm-1",
			InstancesSetMachineTypeRequestResource: &computepb.InstancesSetMachineTypeRequest{MachineType: proto.String("zones/" + zone + "/machineTypes/" + mt)},
		}, noRetry)
		if err != nil {
			return err
		}
		return op.Wait(ctx, noRetry)
	}
	wantAPIError(t, set("e2-standard-4"), http.StatusBadRequest, "invalidResourceUsage")

	op, err := ic.Stop(ctx, &computepb.StopInstanceRequest{Project: srv.Project(), Zone: zone, Instance: "vm-1"}, noRetry)
	require.NoError(t, err)
	require.NoError(t, op.Wait(ctx, noRetry))
	assert.Equal(t, gcptest.StatusTerminated, status(t, srv, "vm-1"))

	wantAPIError(t, set("e2-standard-96"), http.StatusBadRequest, "invalid")
	require.NoError(t, set("e2-standard-4"))
	op, err = ic.Start(ctx, &computepb.StartInstanceRequest{Project: srv.Project(), Zone: zone, Instance: "vm-1"}, noRetry)
	require.NoError(t, err)
	require.NoError(t, op.Wait(ctx, noRetry))
	got, err := ic.Get(ctx, &computepb.GetInstanceRequest{Project: srv.Project(), Zone: zone, Instance: "vm-1"}, noRetry)
	require.NoError(t, err)
	assert.Equal(t, gcptest.StatusRunning, got.GetStatus())
	assert.Contains(t, got.GetMachineType(), "/machineTypes/e2-standard-4")
	assert.NotEmpty(t, got.GetLastStartTimestamp())
	assert.NotEmpty(t, got.GetLastStopTimestamp())
}

func TestInsertRefusesMachineTypesAndImagesComputeEngineDoesNotHave(t *testing.T) {
	srv := gcptest.NewServer(t)
	ic, _ := clients(t, srv)
	r := resource("vm-1", nil)
	r.MachineType = proto.String("zones/" + zone + "/machineTypes/e2-standard-96")
	_, err := insert(t.Context(), ic, srv.Project(), "", r)
	wantAPIError(t, err, http.StatusBadRequest, "invalid")

	r = resource("vm-1", nil)
	r.Disks[0].InitializeParams.SourceImage = proto.String("projects/debian-cloud/global/images/family/debian-99")
	_, err = insert(t.Context(), ic, srv.Project(), "", r)
	gerr := wantAPIError(t, err, http.StatusNotFound, "notFound")
	assert.Equal(t, "The resource 'projects/debian-cloud/global/images/family/debian-99' was not found", gerr.Message)
	assert.Empty(t, srv.Instances())
}
