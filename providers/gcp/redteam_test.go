package gcp_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/ownership"
	"github.com/cloudswitch/cloudswitch/providers/gcp/gcptest"
	"github.com/cloudswitch/cloudswitch/providers/providertest"
)

// An instance someone stops (the console, a schedule) is STOPPING for as
// long as its guest takes to shut down, then TERMINATED — it is not being
// deleted, and it still exists and bills for its disk. Instances must list
// it: a listing without it lets the Reconciler call its record dangling
// (or miss it as an orphan) for the whole stop.
func TestInstancesListsAnInstanceBeingStopped(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	inst, err := e.d.Provision(ctx, request("acme", "ws-1"))
	require.NoError(t, err)
	// A stop in flight, as gcptest.Stop with a long WithOperationTime shows it.
	require.True(t, e.srv.SetStatus(zone, inst.ID, gcptest.StatusStopping))

	assert.Contains(t, names(list(t, e.d, "acme")), inst.ID,
		"an instance being stopped (not deleted) vanished from Instances")
}

// One instance carrying the owner label and a label value the driver
// cannot decode (a hand-made VM labelled cloudswitch-workspace=x-ray) ends
// every listing with an error before the instances after it: every
// Reconciler pass is incomplete for as long as that VM exists, so no orphan
// is ever found.
func TestInstancesIsNotBlockedByOneUndecodableLabel(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	orphan, err := e.d.Provision(ctx, request("acme", "ws-orphan"))
	require.NoError(t, err)
	e.srv.AddInstance(zone, "aaa-handmade", map[string]string{ownership.OwnerKey: "acme", ownership.WorkspaceKey: "x-ray"})

	got, err := providertest.Listed(ctx, e.d, "acme")
	assert.NoError(t, err, "one foreign VM's label makes every listing incomplete")
	assert.Contains(t, names(got), orphan.ID, "the cloudswitch VM is never listed")
}

// Deprovision sends one requestId per zone and name, DeleteRequestID, and
// Compute Engine answers a requestId it saw in the last 60 minutes with the
// first call's operation. Names are not unique in time: the token's insert
// requestId (sent first) is forgotten before the delete's, so a Provision
// with the same token a little over an hour later inserts a second VM under
// the same name — a token that yields two VMs — and its Deprovision is
// answered with the old, DONE delete: nil, while the second VM runs.
func TestDeprovisionNeverTakesAnEarlierDeleteOfTheSameNameForThisOne(t *testing.T) {
	ctx := t.Context()
	c := &clock{now: time.Now()}
	e := newEnv(t, []gcptest.Option{gcptest.WithClock(c.Now)})
	req := request("acme", "ws-1")
	first, err := e.d.Provision(ctx, req)
	require.NoError(t, err)
	c.Advance(gcptest.DefaultRequestIDWindow - 10*time.Minute)
	require.NoError(t, e.d.Deprovision(ctx, first))
	require.Empty(t, e.srv.Instances())

	c.Advance(20 * time.Minute) // the insert's requestId is forgotten, the delete's is not
	second, err := e.d.Provision(ctx, req)
	// Refusing the spent token would be better still, but past the insert
	// requestId's window Compute Engine keeps nothing that says the name
	// was used: a second VM can be created, and it must then be deletable.
	if err != nil {
		return
	}
	err = e.d.Deprovision(ctx, second)
	require.NoError(t, err)
	assert.Empty(t, e.srv.Instances(), "Deprovision returned nil, answered with the earlier delete's operation, while the VM runs")
}

// A resize that stopped the instance and failed before it could change the
// machine type leaves it TERMINATED; the switch calls Resize again. That
// second call meets the stopped instance, its setMachineType is answered
// 403, and the error is a refusal — "nothing changed" — while the instance
// stays stopped because of this very resize (the AWS and Hetzner drivers
// at least start it again).
func TestResizeIsNoRefusalWhileItLeavesTheInstanceItStoppedDown(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	inst, err := e.d.Provision(ctx, request("acme", "ws-1"))
	require.NoError(t, err)
	e.srv.Inject(gcptest.Fault{Op: gcptest.OpSetMachineType, Times: 1, Status: 503})
	_, err = e.d.Resize(ctx, inst, "e2-standard-4")
	require.Error(t, err, "the first attempt stopped the instance, then failed")

	e.srv.Inject(gcptest.Fault{Op: gcptest.OpSetMachineType, Times: 1, Status: 403, Code: "forbidden"})
	_, err = e.d.Resize(ctx, inst, "e2-standard-4")
	require.Error(t, err)
	var status string
	for _, vm := range e.srv.Instances() {
		if vm.Name == inst.ID {
			status = vm.Status
		}
	}
	require.Equal(t, gcptest.StatusTerminated, status, "the resize left the instance stopped")
	assert.NotErrorIs(t, err, cloudswitch.ErrRefused, "a refusal while the resize's own stop keeps the instance down")
}
