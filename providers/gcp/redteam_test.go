package gcp_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch/internal/ownership"
	"github.com/cloudswitch/cloudswitch/providers/gcp/gcptest"
)

// An instance someone stops (the console, a schedule) is STOPPING for as
// long as its guest takes to shut down, then TERMINATED — it is not being
// deleted, and it still exists and bills for its disk. Instances must list
// it: a listing without it lets the Reconciler call its record dangling
// (or miss it as an orphan) for the whole stop.
func TestInstancesListsAnInstanceBeingStopped(t *testing.T) {
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
	e := newEnv(t, nil)
	orphan, err := e.d.Provision(ctx, request("acme", "ws-orphan"))
	require.NoError(t, err)
	e.srv.AddInstance(zone, "aaa-handmade", map[string]string{ownership.OwnerKey: "acme", ownership.WorkspaceKey: "x-ray"})

	got, err := listErr(e.d, ctx, "acme")
	assert.NoError(t, err, "one foreign VM's label makes every listing incomplete")
	assert.Contains(t, names(got), orphan.ID, "the cloudswitch VM is never listed")
}
