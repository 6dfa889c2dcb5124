package hetzner_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/hetznercloud/hcloud-go/v2/hcloud"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/ownership"
	"github.com/cloudswitch/cloudswitch/providers/hetzner"
	"github.com/cloudswitch/cloudswitch/providers/hetzner/hetznertest"
)

// The driver against the behaviours the Hetzner Cloud API documents and the
// emulator models: failed actions, locks, capacity, another project's token.

func TestAServerWhoseCreateFailedIsNeverAdoptedButReplaced(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, nil)
	req := request("ws-broken")
	srv.FailActions(hetznertest.ActionFailure{Command: hetznertest.CommandCreateServer, Times: 1})
	srv.Inject(hetznertest.Fault{Op: hetznertest.OpDeleteServer, Times: 1, Status: 503, Code: "service_error"})
	_, err := d.Provision(ctx, req)
	require.Error(t, err, "the create action failed and its cleanup too")
	assert.NotErrorIs(t, err, cloudswitch.ErrRefused, "the create was accepted: not a refusal")
	broken := srv.Instances()
	require.Len(t, broken, 1, "the failed server stays, holding the token's name")

	inst, err := d.Provision(ctx, req)
	require.NoError(t, err, "the repeat replaces the failed server")
	assert.NotEqual(t, itoa(broken[0].ID), inst.ID, "a server whose create failed was adopted as provisioned")
	vms := srv.Instances()
	require.Len(t, vms, 1, "the failed server is deleted, the new one alone remains")
	assert.Equal(t, inst.ID, itoa(vms[0].ID))
	assert.Equal(t, hetznertest.StatusRunning, vms[0].Status)
}

func TestAFailedServerThatCannotBeDeletedIsNotAdoptedNorARefusal(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, nil)
	req := request("ws-stuck")
	srv.FailActions(hetznertest.ActionFailure{Command: hetznertest.CommandCreateServer, Times: 1})
	srv.Inject(hetznertest.Fault{Op: hetznertest.OpDeleteServer, Times: 2, Status: 503, Code: "service_error"})
	_, err := d.Provision(ctx, req)
	require.Error(t, err)
	_, err = d.Provision(ctx, req)
	require.Error(t, err, "a failed server that could not be deleted was returned as provisioned")
	assert.NotErrorIs(t, err, cloudswitch.ErrRefused)
	assert.ErrorIs(t, err, cloudswitch.ErrTransient, "deleting it may work next time")
}

func TestAnAdoptedServerWhoseCreateStillRunsIsWaitedFor(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, []hetznertest.Option{hetznertest.WithActionDuration(40 * time.Millisecond)})
	req := request("ws-slow")
	srv.FailActions(hetznertest.ActionFailure{Command: hetznertest.CommandCreateServer, Times: 1})
	srv.Inject(hetznertest.Fault{Op: hetznertest.OpCreateServer, Times: 1, Drop: true})
	_, err := d.Provision(ctx, req)
	require.ErrorIs(t, err, cloudswitch.ErrTransient, "the answer was lost")
	inst, err := d.Provision(ctx, req)
	require.NoError(t, err)
	vm, ok := vmByID(t, srv, inst.ID)
	require.True(t, ok)
	assert.Equal(t, hetznertest.StatusRunning, vm.Status, "the adopted server's create failed after adoption: it was reported provisioned")
}

func TestADeleteLockedByARunningActionWaitsForItAndDeletes(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, []hetznertest.Option{hetznertest.WithActionDuration(300 * time.Millisecond)})
	req := request("ws-locked")
	// Created, the answer lost: its create action runs on.
	srv.Inject(hetznertest.Fault{Op: hetznertest.OpCreateServer, Times: 1, Drop: true})
	_, err := d.Provision(ctx, req)
	require.ErrorIs(t, err, cloudswitch.ErrTransient)
	require.Len(t, srv.Instances(), 1)
	vm := srv.Instances()[0]
	inst := cloudswitch.Instance{Provider: cloudswitch.Hetzner, ID: itoa(vm.ID), WorkspaceID: req.WorkspaceID}
	require.NoError(t, d.Deprovision(ctx, inst), "a delete locked by the create action must wait for it")
	assert.Empty(t, srv.Instances())
}

func TestALockThatOutlastsTheRetriesIsTransientAndNotARefusal(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, []hetznertest.Option{hetznertest.WithActionDuration(time.Hour)})
	req := request("ws-locked-long")
	srv.Inject(hetznertest.Fault{Op: hetznertest.OpCreateServer, Times: 1, Drop: true})
	_, _ = d.Provision(ctx, req)
	require.Len(t, srv.Instances(), 1)
	vm := srv.Instances()[0]
	wait, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	err := d.Deprovision(wait, cloudswitch.Instance{Provider: cloudswitch.Hetzner, ID: itoa(vm.ID)})
	require.Error(t, err)
	assert.NotErrorIs(t, err, cloudswitch.ErrRefused)
	assert.NotErrorIs(t, err, cloudswitch.ErrInstanceNotFound)
	assert.Len(t, srv.Instances(), 1)
}

func TestNoCapacityIsARefusalThatCreatesNothing(t *testing.T) {
	ctx := t.Context()
	for name, u := range map[string]hetznertest.Unavailable{
		"resource_unavailable": {ServerType: "cpx21"},
		"placement_error":      {Location: hetzner.DefaultLocation, Placement: true},
	} {
		t.Run(name, func(t *testing.T) {
			srv, d := setup(t, nil)
			srv.SetUnavailable(u)
			_, err := d.Provision(ctx, request("ws-full"))
			require.ErrorIs(t, err, cloudswitch.ErrRefused, "no capacity: nothing was created")
			assert.ErrorIs(t, err, cloudswitch.ErrTransient, "capacity comes back")
			assert.Empty(t, srv.Instances())
		})
	}
}

func TestATokenOfAnotherProjectNeverReportsAServerGone(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, nil)
	inst := provision(t, d, request("ws-elsewhere"))
	other, err := hetzner.New(srv.Client(hcloud.WithToken(srv.OtherProjectToken()), hcloud.WithRetryOpts(hcloud.RetryOpts{MaxRetries: 0})))
	require.NoError(t, err)
	err = other.Deprovision(ctx, inst)
	require.Error(t, err, "a token of another project cannot delete the server")
	assert.NotErrorIs(t, err, cloudswitch.ErrInstanceNotFound, "a 404 from credentials that cannot see the server's project is not 'gone'")
	_, ok := vmByID(t, srv, inst.ID)
	require.True(t, ok)
}

func TestA404IsGoneWhenTheProjectIsVisible(t *testing.T) {
	ctx := t.Context()
	t.Run("through another server of the installation", func(t *testing.T) {
		_, d := setup(t, nil)
		req := request("ws-a")
		req.Installation = "inst-1"
		inst := provision(t, d, req)
		keep := request("ws-b")
		keep.Installation = "inst-1"
		provision(t, d, keep)
		require.NoError(t, d.Deprovision(ctx, inst))
		require.ErrorIs(t, d.Deprovision(ctx, inst), cloudswitch.ErrInstanceNotFound)
	})
	t.Run("through an SSH key of the project", func(t *testing.T) {
		_, d := setup(t, []hetznertest.Option{hetznertest.WithSSHKeys("ops")}, hetzner.WithSSHKeys("ops"))
		inst := provision(t, d, request("ws-last"))
		require.NoError(t, d.Deprovision(ctx, inst))
		require.ErrorIs(t, d.Deprovision(ctx, inst), cloudswitch.ErrInstanceNotFound, "the last server of the project, gone")
	})
	t.Run("through the project anchor, for the last server", func(t *testing.T) {
		srv, d := setup(t, nil)
		req := request("ws-last")
		req.Installation = "inst-1"
		inst := provision(t, d, req)
		assert.Contains(t, srv.PlacementGroups(), "cloudswitch-anchor-inst-1", "Provision keeps an anchor in the project")
		require.NoError(t, d.Deprovision(ctx, inst))
		require.ErrorIs(t, d.Deprovision(ctx, inst), cloudswitch.ErrInstanceNotFound, "the last server of the project, gone")
	})
	t.Run("not without evidence", func(t *testing.T) {
		srv, d := setup(t, nil)
		vm := srv.AddInstance("made-elsewhere", map[string]string{ownership.WorkspaceKey: "ws-alone"})
		_, _, err := srv.Client().Server.DeleteWithResult(ctx, &hcloud.Server{ID: vm.ID})
		require.NoError(t, err)
		require.Empty(t, srv.Instances())
		err = d.Deprovision(ctx, cloudswitch.Instance{Provider: cloudswitch.Hetzner, ID: itoa(vm.ID), WorkspaceID: "ws-alone"})
		require.Error(t, err)
		assert.NotErrorIs(t, err, cloudswitch.ErrInstanceNotFound, "nothing shows these credentials see the server's project")
		assert.NotErrorIs(t, err, cloudswitch.ErrRefused)
	})
	t.Run("not through an anchor younger than the server", func(t *testing.T) {
		srv, d := setup(t, nil)
		inst := provision(t, d, request("ws-old"))
		inst.CreatedAt = inst.CreatedAt.Add(-time.Hour) // a server created long before
		other, err := hetzner.New(srv.Client(hcloud.WithToken(srv.OtherProjectToken()), hcloud.WithRetryOpts(hcloud.RetryOpts{MaxRetries: 0})))
		require.NoError(t, err)
		provision(t, other, request("ws-new")) // the misconfigured driver creates its anchor now
		err = other.Deprovision(ctx, inst)
		require.Error(t, err)
		assert.NotErrorIs(t, err, cloudswitch.ErrInstanceNotFound, "an anchor made after the server does not vouch for its project")
	})
}

func TestProvisionDoesNotDependOnTheProjectAnchor(t *testing.T) {
	srv, d := setup(t, nil)
	srv.Inject(hetznertest.Fault{Op: hetznertest.OpCreatePlacementGroup, Times: 1, Status: http.StatusForbidden, Code: "forbidden"})
	provision(t, d, request("ws-no-anchor"))
	assert.Empty(t, srv.PlacementGroups(), "the anchor could not be created")
	provision(t, d, request("ws-anchor"))
	assert.Equal(t, []string{"cloudswitch-anchor"}, srv.PlacementGroups(), "the next Provision creates it")
	provision(t, d, request("ws-anchor-2"))
	assert.Equal(t, 2, srv.CallCount(hetznertest.OpListPlacementGroups), "an anchor, once ensured, is not looked up again")
}
