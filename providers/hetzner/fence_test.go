package hetzner_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/ownership"
	"github.com/cloudswitch/cloudswitch/providers/hetzner"
	"github.com/cloudswitch/cloudswitch/providers/hetzner/hetznertest"
)

// Deprovision destroys a server only when its labels name the workspace and
// installation the Instance names.

func TestDeprovisionNeverDeletesAServerLabelledForAnotherWorkspace(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, nil)
	inst := provision(t, d, request("ws-mine"))
	wrong := inst
	wrong.WorkspaceID = "ws-theirs"
	err := d.Deprovision(ctx, wrong)
	require.ErrorIs(t, err, cloudswitch.ErrNotOurs, "a record naming another workspace must not destroy this server")
	assert.ErrorIs(t, err, cloudswitch.ErrRefused)
	assert.NotErrorIs(t, err, cloudswitch.ErrInstanceNotFound)
	_, ok := vmByID(t, srv, inst.ID)
	require.True(t, ok, "the server was deleted")
	assert.Zero(t, srv.CallCount(hetznertest.OpDeleteServer), "a DELETE was sent for a server that is not ours")
}

func TestDeprovisionNeverDeletesAServerOfAnotherInstallation(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, nil)
	req := request("ws-inst")
	req.Installation = "Install.A"
	inst := provision(t, d, req)
	wrong := inst
	wrong.Installation = "install-b"
	require.ErrorIs(t, d.Deprovision(ctx, wrong), cloudswitch.ErrNotOurs)
	_, ok := vmByID(t, srv, inst.ID)
	require.True(t, ok, "the server of another installation was deleted")
	require.NoError(t, d.Deprovision(ctx, inst), "Deprovision naming the right installation")
}

func TestDeprovisionNeverDeletesAServerWithoutOwnershipLabels(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, nil)
	vm := srv.AddInstance("someone-elses", map[string]string{"team": "red"})
	err := d.Deprovision(ctx, cloudswitch.Instance{Provider: cloudswitch.Hetzner, ID: itoa(vm.ID), WorkspaceID: "ws-1"})
	require.ErrorIs(t, err, cloudswitch.ErrNotOurs)
	_, ok := vmByID(t, srv, itoa(vm.ID))
	require.True(t, ok, "a server created outside cloudswitch was deleted")
}

func TestTheInstallationIsLabelledAndReadBack(t *testing.T) {
	srv, d := setup(t, nil)
	req := request("ws-installed")
	req.Installation = "Installation-42.Prod"
	req.Compute.Image = "debian-12"
	inst := provision(t, d, req)
	assert.Equal(t, req.Installation, inst.Installation, "Provision must read the installation back")
	assert.Equal(t, "cpx21", inst.InstanceType, "Provision must say which server type runs")
	assert.Equal(t, "debian-12", inst.Image, "Provision must say which image runs")
	vm, ok := vmByID(t, srv, inst.ID)
	require.True(t, ok)
	want, err := ownership.EncodeLabel(req.Installation)
	require.NoError(t, err)
	assert.Equal(t, want, vm.Labels[ownership.InstallationKey])

	listed := list(t, d, owner)
	require.Len(t, listed, 1)
	assert.Equal(t, req.Installation, listed[0].Installation)
	assert.Equal(t, "cpx21", listed[0].InstanceType)
	assert.Equal(t, "debian-12", listed[0].Image)

	plain := provision(t, d, request("ws-plain"))
	assert.Empty(t, plain.Installation)
	vm, _ = vmByID(t, srv, plain.ID)
	assert.NotContains(t, vm.Labels, ownership.InstallationKey, "no installation, no label")
}

func TestAServerOfAnotherInstallationIsNeverAdopted(t *testing.T) {
	ctx := t.Context()
	_, d := setup(t, nil)
	req := request("ws-adopt")
	req.Installation = "inst-a"
	provision(t, d, req)
	req.Installation = "inst-b"
	_, err := d.Provision(ctx, req)
	require.ErrorIs(t, err, cloudswitch.ErrNotOurs)
	assert.ErrorIs(t, err, cloudswitch.ErrRefused, "nothing was created: a refusal")
}

func TestWithLabelsMayNotSetTheInstallationLabel(t *testing.T) {
	_, err := hetzner.New(hetznertest.NewServer(t).Client(), hetzner.WithLabels(map[string]string{ownership.InstallationKey: "x"}))
	require.Error(t, err)
	assert.False(t, errors.Is(err, cloudswitch.ErrTransient))
}
