package cloudswitch_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
)

// Specs of Decommission: a workspace is deleted only after its VM is gone,
// through the journal, so that no VM outlives the record naming it.

func TestDecommissionOfAWorkspaceWithoutAVMIsOneCompareAndSwap(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", false)
	res, err := f.switcher().Decommission(ctx, "ws", cloudswitch.DecommissionRequest{})
	require.NoError(t, err)
	require.True(t, res.Deleted)
	_, err = f.mem.Get(ctx, "ws")
	require.ErrorIs(t, err, cloudswitch.ErrNotFound)
	f.requireNoProviderCalls()
}

func TestDecommissionRunsTheHookDestroysTheVMThenDeletesTheRecord(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	seeded := f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	var order []string
	hooks := cloudswitch.WithHooks(cloudswitch.Hooks{BeforeDeprovision: func(context.Context, cloudswitch.Workspace) error {
		order = append(order, "backup")
		require.True(t, f.aws.Exists(seeded.Instance.ID), "the hook runs while the VM is alive")
		return nil
	}})
	sw := f.switcher(hooks)
	_, err := sw.Decommission(ctx, "ws", cloudswitch.DecommissionRequest{})
	require.ErrorIs(t, err, cloudswitch.ErrConfirmRequired, "destroying the VM needs confirmation")
	f.requireNoWrites()

	res, err := sw.Decommission(ctx, "ws", cloudswitch.DecommissionRequest{ConfirmDestroy: true, IfVersion: seeded.Version})
	require.NoError(t, err)
	require.True(t, res.Deleted)
	require.Equal(t, seeded.Instance.ID, res.Deprovisioned.ID)
	require.Equal(t, []string{"backup"}, order)
	require.False(t, f.aws.Exists(seeded.Instance.ID))
	_, err = f.mem.Get(ctx, "ws")
	require.ErrorIs(t, err, cloudswitch.ErrNotFound)
	claim, destroy, del := f.log.index("store.update"), f.log.index("aws.deprovision"), f.log.index("store.delete")
	require.True(t, claim < destroy && destroy < del, "journal, then destroy the VM, then delete the record: %v", f.log.all())
}

func TestRefusedDestroyAbortsADecommissionWithTheWorkspaceIntact(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	seeded := f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	f.aws.FailNext(memprovider.OpDeprovision, 1, memprovider.ErrDenied)
	_, err := f.switcher().Decommission(ctx, "ws", cloudswitch.DecommissionRequest{ConfirmDestroy: true})
	requireAbort(t, err, cloudswitch.StageDeprovision)
	w := f.get("ws")
	require.Nil(t, w.Pending)
	require.Equal(t, seeded.Instance.ID, w.Instance.ID)
	require.True(t, f.aws.Exists(seeded.Instance.ID))
}

func TestInterruptedDecommissionIsFinishedByResumeAndBlocksSwitches(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	seeded := f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	f.aws.LoseResponse(memprovider.OpDeprovision, 1, memprovider.ErrUnexplained)
	_, err := f.switcher().Decommission(ctx, "ws", cloudswitch.DecommissionRequest{ConfirmDestroy: true})
	requireIncomplete(t, err, cloudswitch.StageDeprovision)
	require.False(t, f.aws.Exists(seeded.Instance.ID))
	require.NotNil(t, f.get("ws").Pending, "the record stays, journaled, until the VM is known gone")

	_, err = f.switcher().Switch(ctx, "ws", toHetzner)
	require.ErrorIs(t, err, cloudswitch.ErrSwitchInProgress)

	rep, err := reconcilerOf(t, f.resumer()).Reconcile(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"ws"}, rep.Resumed)
	_, err = f.mem.Get(ctx, "ws")
	require.ErrorIs(t, err, cloudswitch.ErrNotFound)
}

func TestDecommissionNeedsAStoreThatDeletesWithCompareAndSwap(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	sw := newSwitcher(t, noDelete{f.mem}, f.providers())
	_, err := sw.Decommission(ctx, "ws", cloudswitch.DecommissionRequest{ConfirmDestroy: true})
	require.Error(t, err)
	require.False(t, errors.Is(err, cloudswitch.ErrNotFound))
	f.requireNoProviderCalls()
}

// noDelete is a Store without Deleter.
type noDelete struct{ cloudswitch.Store }
