package emulated_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/emulated"
	"github.com/cloudswitch/cloudswitch/providers/aws/awstest"
	"github.com/cloudswitch/cloudswitch/store/memstore"
)

// A process that knows only the control URL drives real switches across the
// three emulated clouds, and the ground truth shows exactly one live VM.
func TestDriversOnRemoteEmulatorsSwitchAcrossAllThreeClouds(t *testing.T) {
	set, err := emulated.Start(emulated.Addrs{})
	require.NoError(t, err)
	defer set.Close()
	ctl := httptest.NewServer(set.Handler())
	defer ctl.Close()
	remote := emulated.Remote{URL: ctl.URL}

	ctx := t.Context()
	ep, err := remote.Endpoints(ctx)
	require.NoError(t, err)
	drivers, closeDrivers, err := emulated.Drivers(ctx, ep)
	require.NoError(t, err)
	defer closeDrivers()
	store := memstore.New()
	sw, err := cloudswitch.New(store, drivers, cloudswitch.WithRetryPolicy(cloudswitch.RetryPolicy{
		InitialInterval: 10 * time.Millisecond, MaxAttempts: 3}))
	require.NoError(t, err)
	if _, err := store.Create(ctx, cloudswitch.Workspace{ID: "ws-1", Compute: cloudswitch.Compute{Provider: "aws", InstanceType: "t3.medium"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := sw.Switch(ctx, "ws-1", cloudswitch.Request{}); err != nil {
		t.Fatal(err)
	}
	// A throttled stop on the way, injected through the control API.
	require.NoError(t, remote.Inject(ctx, emulated.Fault{Provider: "aws", Op: awstest.OpTerminateInstances, Times: 1, Status: 503}))
	for _, to := range []string{cloudswitch.Hetzner, cloudswitch.GCP, cloudswitch.AWS} {
		res, err := sw.Switch(ctx, "ws-1", cloudswitch.Request{Compute: cloudswitch.Compute{Provider: to}, ConfirmRecreate: true})
		require.NoErrorf(t, err, "switch to %s", to)
		vms, err := remote.VMs(ctx)
		require.NoError(t, err)
		var live []emulated.VM
		for _, v := range vms {
			if v.Live {
				live = append(live, v)
			}
		}
		if len(live) != 1 || live[0].Provider != to || live[0].ID != res.Workspace.Instance.ID || live[0].WorkspaceID != "ws-1" {
			t.Fatalf("after switching to %s the live VMs are %+v; want exactly the recorded %s", to, live, res.Workspace.Instance.ID)
		}
	}
	if err := remote.Inject(ctx, emulated.Fault{Provider: "azure"}); err == nil {
		t.Fatal("a fault for an unknown provider was accepted")
	}
	if err := remote.Inject(ctx, emulated.Fault{Provider: "aws", Op: "TerminateInstance", Times: 1}); err == nil {
		t.Fatal("a fault for an action the EC2 emulator does not serve was accepted")
	}
	require.NoError(t, remote.ClearFaults(ctx))
	if _, _, err := emulated.Drivers(ctx, emulated.Endpoints{}); err == nil || errors.Is(err, context.Canceled) {
		t.Fatal("Drivers accepted empty endpoints")
	}
}
