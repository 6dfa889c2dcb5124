package gcp_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/gcp/gcptest"
)

// vmOf returns the emulator's instance name.
func vmOf(t *testing.T, srv *gcptest.Server, name string) gcptest.Instance {
	t.Helper()
	for _, vm := range srv.Instances() {
		if vm.Name == name {
			return vm
		}
	}
	t.Fatalf("instance %s does not exist", name)
	return gcptest.Instance{}
}

// resizeCalls counts the calls a resize makes.
func resizeCalls(srv *gcptest.Server) [3]int {
	return [3]int{srv.CallCount(gcptest.OpStop), srv.CallCount(gcptest.OpSetMachineType), srv.CallCount(gcptest.OpStart)}
}

func TestResizeStopsChangesTheMachineTypeAndStartsTheSameVM(t *testing.T) {
	ctx := t.Context()
	e := newLookupEnv(t, nil)
	inst, err := e.d.Provision(ctx, request("owner", "ws"))
	require.NoError(t, err)
	got, err := e.d.Resize(ctx, inst, "e2-standard-4")
	require.NoError(t, err)
	assert.Equal(t, inst.ID, got.ID, "a resize keeps the VM")
	assert.Equal(t, "e2-standard-4", got.InstanceType)
	assert.Equal(t, inst.WorkspaceID, got.WorkspaceID)
	assert.Equal(t, inst.Token, got.Token)
	vm := vmOf(t, e.srv, inst.ID)
	assert.Equal(t, "e2-standard-4", vm.MachineType)
	assert.Equal(t, gcptest.StatusRunning, vm.Status)
	assert.Equal(t, [3]int{1, 1, 1}, resizeCalls(e.srv))
}

func TestResizeIsIdempotent(t *testing.T) {
	ctx := t.Context()
	t.Run("a VM that already has the type is returned as is", func(t *testing.T) {
		e := newLookupEnv(t, nil)
		inst, err := e.d.Provision(ctx, request("owner", "ws"))
		require.NoError(t, err)
		_, err = e.d.Resize(ctx, inst, "e2-standard-4")
		require.NoError(t, err)
		got, err := e.d.Resize(ctx, inst, "e2-standard-4")
		require.NoError(t, err)
		assert.Equal(t, "e2-standard-4", got.InstanceType)
		assert.Equal(t, [3]int{1, 1, 1}, resizeCalls(e.srv), "nothing left to do")
	})
	t.Run("a VM stopped half-way is finished", func(t *testing.T) {
		e := newLookupEnv(t, nil)
		inst, err := e.d.Provision(ctx, request("owner", "ws"))
		require.NoError(t, err)
		require.True(t, e.srv.Stop(zone, inst.ID))
		got, err := e.d.Resize(ctx, inst, "e2-standard-4")
		require.NoError(t, err)
		assert.Equal(t, "e2-standard-4", got.InstanceType)
		assert.Equal(t, gcptest.StatusRunning, vmOf(t, e.srv, inst.ID).Status)
		assert.Equal(t, [3]int{0, 1, 1}, resizeCalls(e.srv))
	})
	t.Run("a resize whose start lost its answer is finished by the next", func(t *testing.T) {
		e := newLookupEnv(t, nil)
		inst, err := e.d.Provision(ctx, request("owner", "ws"))
		require.NoError(t, err)
		e.srv.Inject(gcptest.Fault{Op: gcptest.OpStart, Times: 1, Drop: true})
		_, err = e.d.Resize(ctx, inst, "e2-standard-4")
		require.ErrorIs(t, err, cloudswitch.ErrTransient)
		assert.NotErrorIs(t, err, cloudswitch.ErrRefused, "the VM was stopped and resized: not nothing")
		got, err := e.d.Resize(ctx, inst, "e2-standard-4")
		require.NoError(t, err)
		assert.Equal(t, "e2-standard-4", got.InstanceType)
		assert.Equal(t, gcptest.StatusRunning, vmOf(t, e.srv, inst.ID).Status)
	})
}

func TestResizeRefusesOnlyWhatLeftTheVMAsItWas(t *testing.T) {
	ctx := t.Context()
	t.Run("a 403 to the stop", func(t *testing.T) {
		e := newLookupEnv(t, nil)
		inst, err := e.d.Provision(ctx, request("owner", "ws"))
		require.NoError(t, err)
		e.srv.Inject(gcptest.Fault{Op: gcptest.OpStop, Times: 1, Status: http.StatusForbidden})
		_, err = e.d.Resize(ctx, inst, "e2-standard-4")
		assert.ErrorIs(t, err, cloudswitch.ErrRefused)
		vm := vmOf(t, e.srv, inst.ID)
		assert.Equal(t, gcptest.StatusRunning, vm.Status)
		assert.Equal(t, "e2-standard-2", vm.MachineType)
	})
	t.Run("a 403 to the machine type change, after the stop", func(t *testing.T) {
		e := newLookupEnv(t, nil)
		inst, err := e.d.Provision(ctx, request("owner", "ws"))
		require.NoError(t, err)
		e.srv.Inject(gcptest.Fault{Op: gcptest.OpSetMachineType, Times: 1, Status: http.StatusForbidden})
		_, err = e.d.Resize(ctx, inst, "e2-standard-4")
		require.Error(t, err)
		assert.NotErrorIs(t, err, cloudswitch.ErrRefused, "the VM is stopped now: not as it was")
	})
	t.Run("a machine type the zone does not offer", func(t *testing.T) {
		e := newLookupEnv(t, nil)
		inst, err := e.d.Provision(ctx, request("owner", "ws"))
		require.NoError(t, err)
		_, err = e.d.Resize(ctx, inst, "e2-standard-96")
		wantInvalidField(t, err, "instance_type")
		assert.ErrorIs(t, err, cloudswitch.ErrRefused)
		assert.Equal(t, [3]int{0, 0, 0}, resizeCalls(e.srv), "refused before the stop")
		assert.Equal(t, gcptest.StatusRunning, vmOf(t, e.srv, inst.ID).Status)
	})
	t.Run("a refused machine type lookup, the VM found stopped", func(t *testing.T) {
		// An earlier attempt of this resize may have stopped it: the
		// driver cannot tell, so the refusal cannot claim nothing changed.
		e := newLookupEnv(t, nil)
		inst, err := e.d.Provision(ctx, request("owner", "ws"))
		require.NoError(t, err)
		require.True(t, e.srv.Stop(zone, inst.ID))
		e.srv.Inject(gcptest.Fault{Op: gcptest.OpMachineTypeGet, Times: 1, Status: http.StatusForbidden})
		_, err = e.d.Resize(ctx, inst, "e2-standard-4")
		require.Error(t, err)
		assert.NotErrorIs(t, err, cloudswitch.ErrRefused, "the VM is stopped, perhaps by this resize: not as it was")
	})
	t.Run("another workspace's VM", func(t *testing.T) {
		e := newLookupEnv(t, nil)
		inst, err := e.d.Provision(ctx, request("owner", "ws"))
		require.NoError(t, err)
		inst.WorkspaceID = "ws-other"
		_, err = e.d.Resize(ctx, inst, "e2-standard-4")
		assert.ErrorIs(t, err, cloudswitch.ErrNotOurs)
		assert.Equal(t, [3]int{0, 0, 0}, resizeCalls(e.srv))
	})
}

func TestResizeOfAVMThatIsSettlingIsTransient(t *testing.T) {
	ctx := t.Context()
	e := newLookupEnv(t, nil)
	inst, err := e.d.Provision(ctx, request("owner", "ws"))
	require.NoError(t, err)
	e.srv.SetStatus(zone, inst.ID, gcptest.StatusStopping)
	_, err = e.d.Resize(ctx, inst, "e2-standard-4")
	assert.ErrorIs(t, err, cloudswitch.ErrTransient)
	assert.NotErrorIs(t, err, cloudswitch.ErrRefused)
}

func TestResizeOfAVMThatIsGoneIsInstanceNotFoundOnlyWhenSure(t *testing.T) {
	ctx := t.Context()
	e := newLookupEnv(t, nil)
	inst, err := e.d.Provision(ctx, request("owner", "ws"))
	require.NoError(t, err)

	e.srv.SetCallerProject("someone-elses-project")
	_, err = e.d.Resize(ctx, inst, "e2-standard-4")
	require.Error(t, err)
	assert.NotErrorIs(t, err, cloudswitch.ErrInstanceNotFound, "credentials of another project are told 404 about every VM")
	e.srv.SetCallerProject("")

	require.True(t, e.srv.RemoveInstance(zone, inst.ID))
	_, err = e.d.Resize(ctx, inst, "e2-standard-4")
	assert.ErrorIs(t, err, cloudswitch.ErrInstanceNotFound)
	assert.NotErrorIs(t, err, cloudswitch.ErrRefused)
}
