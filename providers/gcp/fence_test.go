package gcp_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/ownership"
	"github.com/cloudswitch/cloudswitch/providers/gcp/gcptest"
)

func TestDeprovisionDestroysOnlyAVMWhoseLabelsAgreeWithTheRecord(t *testing.T) {
	ctx := t.Context()
	for name, c := range map[string]struct {
		labels map[string]string
		inst   cloudswitch.Instance
	}{
		"another workspace": {
			labels: map[string]string{ownership.OwnerKey: "owner", ownership.WorkspaceKey: "ws-b"},
			inst:   cloudswitch.Instance{WorkspaceID: "ws-a"},
		},
		"another installation": {
			labels: map[string]string{ownership.OwnerKey: "owner", ownership.WorkspaceKey: "ws-a", ownership.InstallationKey: "inst-b"},
			inst:   cloudswitch.Instance{WorkspaceID: "ws-a", Installation: "inst-a"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, nil)
			vm := e.srv.AddInstance(zone, "cs-theirs", c.labels)
			inst := c.inst
			inst.Provider, inst.ID, inst.Region = cloudswitch.GCP, vm.Name, zone
			err := e.d.Deprovision(ctx, inst)
			assert.ErrorIs(t, err, cloudswitch.ErrNotOurs)
			assert.ErrorIs(t, err, cloudswitch.ErrRefused, "nothing was deleted")
			assert.NotErrorIs(t, err, cloudswitch.ErrInstanceNotFound)
			assert.Zero(t, e.srv.CallCount(gcptest.OpDelete), "a VM that is not the record's must never be deleted")
			got := e.srv.Instances()
			require.Len(t, got, 1)
			assert.Equal(t, gcptest.StatusRunning, got[0].Status)
		})
	}
}

// A VM without the label — created before cloudswitch or before the
// installation label existed — is not fenced by it: a workspace server's
// pre-existing VMs must stay switchable.
func TestDeprovisionOfAnUnlabelledVMIsNotFencedByTheMissingLabel(t *testing.T) {
	ctx := t.Context()
	for name, c := range map[string]struct {
		labels map[string]string
		inst   cloudswitch.Instance
	}{
		"no labels (not created by cloudswitch)": {inst: cloudswitch.Instance{WorkspaceID: "ws-a"}},
		"no installation label": {
			labels: map[string]string{ownership.OwnerKey: "owner", ownership.WorkspaceKey: "ws-a"},
			inst:   cloudswitch.Instance{WorkspaceID: "ws-a", Installation: "inst-a"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, nil)
			vm := e.srv.AddInstance(zone, "cs-legacy", c.labels)
			inst := c.inst
			inst.Provider, inst.ID, inst.Region = cloudswitch.GCP, vm.Name, zone
			require.NoError(t, e.d.Deprovision(ctx, inst))
			assert.Empty(t, e.srv.Instances())
		})
	}
}

func TestDeprovisionOfARecordNamingNoWorkspaceDeletesByName(t *testing.T) {
	ctx := t.Context()
	// The Reconciler's orphans and records of old versions name no
	// workspace: the instance is deleted by name, as before.
	e := newEnv(t, nil)
	vm := e.srv.AddInstance(zone, "cs-orphan", map[string]string{ownership.OwnerKey: "owner", ownership.WorkspaceKey: "ws-a"})
	require.NoError(t, e.d.Deprovision(ctx, cloudswitch.Instance{Provider: cloudswitch.GCP, ID: vm.Name, Region: zone}))
	assert.Empty(t, e.srv.Instances())
}

func TestProvisionLabelsTheInstallationAndReadsItBack(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	req := request("owner", "ws")
	req.Installation = "Install/One" // not a plain label value: encoded
	inst, err := e.d.Provision(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, req.Installation, inst.Installation)
	assert.Equal(t, "e2-standard-2", inst.InstanceType, "the machine type the VM runs")
	assert.Equal(t, "projects/debian-cloud/global/images/family/debian-12", inst.Image, "the image its boot disk was created from")

	want, err := ownership.EncodeLabel(req.Installation)
	require.NoError(t, err)
	assert.Equal(t, want, e.srv.Instances()[0].Labels[ownership.InstallationKey])

	listed := list(t, e.d, "owner")
	require.Len(t, listed, 1)
	assert.Equal(t, req.Installation, listed[0].Installation)
	assert.Equal(t, "e2-standard-2", listed[0].InstanceType)

	plain, err := e.d.Provision(ctx, request("owner", "ws-plain"))
	require.NoError(t, err)
	assert.Empty(t, plain.Installation)
	for _, vm := range e.srv.Instances() {
		if vm.Name == plain.ID {
			assert.NotContains(t, vm.Labels, ownership.InstallationKey, "no installation, no label")
		}
	}
}

func TestProvisionNeverAdoptsTheTokensInstanceOfAnotherInstallation(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	req := request("owner", "ws")
	token, _ := ownership.EncodeLabel(req.Token)
	e.srv.AddInstance(zone, ownership.Name(req.Token), map[string]string{
		ownership.OwnerKey: "owner", ownership.WorkspaceKey: "ws", ownership.TokenKey: token, ownership.InstallationKey: "inst-b",
	})
	req.Installation = "inst-a"
	_, err := e.d.Provision(ctx, req)
	assert.ErrorIs(t, err, cloudswitch.ErrNotOurs)
}
