package hetzner_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/hetzner/hetznertest"
)

func TestResizeStopsChangesTheTypeAndStartsKeepingTheServer(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, nil)
	inst := provision(t, d, request("ws-resize"))
	got, err := d.Resize(ctx, inst, "cpx41")
	require.NoError(t, err)
	assert.Equal(t, inst.ID, got.ID, "a resize keeps the server")
	assert.Equal(t, "cpx41", got.InstanceType)
	assert.Equal(t, inst.WorkspaceID, got.WorkspaceID)
	vm, ok := vmByID(t, srv, inst.ID)
	require.True(t, ok)
	assert.Equal(t, "cpx41", vm.Type)
	assert.Equal(t, hetznertest.StatusRunning, vm.Status)
	assert.Equal(t, 1, srv.CallCount(hetznertest.OpShutdownServer), "the guest is asked to shut down first")
}

func TestResizeIsIdempotentAndFinishesAnInterruptedResize(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, nil)
	inst := provision(t, d, request("ws-again"))
	_, err := d.Resize(ctx, inst, "cpx41")
	require.NoError(t, err)
	again, err := d.Resize(ctx, inst, "cpx41")
	require.NoError(t, err)
	assert.Equal(t, "cpx41", again.InstanceType)
	assert.Equal(t, 1, srv.CallCount(hetznertest.OpChangeServerType), "resizing to the type it has changes nothing")

	// Interrupted after the type changed: the power-on's answer is lost.
	srv.Inject(hetznertest.Fault{Op: hetznertest.OpPoweronServer, Times: 1, Status: http.StatusServiceUnavailable, Code: "service_error"})
	_, err = d.Resize(ctx, inst, "cpx51")
	require.ErrorIs(t, err, cloudswitch.ErrTransient)
	assert.NotErrorIs(t, err, cloudswitch.ErrRefused, "the server is off: not as it was")
	vm, _ := vmByID(t, srv, inst.ID)
	require.Equal(t, hetznertest.StatusOff, vm.Status)
	done, err := d.Resize(ctx, inst, "cpx51")
	require.NoError(t, err)
	assert.Equal(t, "cpx51", done.InstanceType)
	vm, _ = vmByID(t, srv, inst.ID)
	assert.Equal(t, hetznertest.StatusRunning, vm.Status, "the repeat finishes the resize")
}

func TestAResizeRefusedByTheAPIStartsTheServerAgain(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, nil)
	inst := provision(t, d, request("ws-norooom"))
	srv.SetUnavailable(hetznertest.Unavailable{ServerType: "cpx51"})
	_, err := d.Resize(ctx, inst, "cpx51")
	require.Error(t, err)
	assert.NotErrorIs(t, err, cloudswitch.ErrRefused, "the server was shut down before change_type was refused: the cloud acted")
	vm, _ := vmByID(t, srv, inst.ID)
	assert.Equal(t, "cpx21", vm.Type)
	assert.Equal(t, hetznertest.StatusRunning, vm.Status, "a refused resize must start the server again")

	shutdowns := srv.CallCount(hetznertest.OpShutdownServer)
	_, err = d.Resize(ctx, inst, "cx99")
	require.ErrorIs(t, err, cloudswitch.ErrRefused, "an unknown type is refused")
	vm, _ = vmByID(t, srv, inst.ID)
	assert.Zero(t, srv.CallCount(hetznertest.OpShutdownServer)-shutdowns, "an unknown type is refused before the server is shut down")
	assert.Equal(t, hetznertest.StatusRunning, vm.Status)
}

func TestResizeNeverTouchesAnotherWorkspacesServer(t *testing.T) {
	ctx := t.Context()
	srv, d := setup(t, nil)
	inst := provision(t, d, request("ws-mine"))
	wrong := inst
	wrong.WorkspaceID = "ws-theirs"
	_, err := d.Resize(ctx, wrong, "cpx41")
	require.ErrorIs(t, err, cloudswitch.ErrNotOurs)
	assert.Zero(t, srv.CallCount(hetznertest.OpShutdownServer))
}
