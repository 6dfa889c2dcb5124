package cloudswitch_test

// Specs of the guarantees a hostile review broke once: each test names the
// way the library could lose a VM, destroy the wrong one or claim that
// nothing changed when something did.

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
	"github.com/cloudswitch/cloudswitch/store/memstore"
)

func TestResumeWithoutTheHookNeverDestroysUnbackedData(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	seeded := f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	backups := 0
	hooks := cloudswitch.WithHooks(cloudswitch.Hooks{BeforeDeprovision: func(context.Context, cloudswitch.Workspace) error {
		backups++
		return nil
	}})
	f.store.loseFirstClaim()
	_, err := f.switcher(hooks).Switch(ctx, "ws", toHetzner)
	requireIncomplete(t, err, cloudswitch.StageClaim)
	require.True(t, f.get("ws").Pending.Hook, "the journal must say the switch requires the hook")

	_, err = f.resumer().Resume(ctx, "ws")
	require.ErrorIs(t, err, cloudswitch.ErrHookRequired, "a Switcher without the hook must not advance the switch")
	require.True(t, f.aws.Exists(seeded.Instance.ID), "the old VM was destroyed before its backup ran")

	rep, err := f.reconciler(cloudswitch.WithResumeOptions(cloudswitch.WithClock(anHourLater))).Reconcile(ctx)
	require.ErrorIs(t, err, cloudswitch.ErrHookRequired)
	require.Len(t, rep.Blocked, 1, "the Report must say which switch is blocked and why")
	assert.Equal(t, "ws", rep.Blocked[0].WorkspaceID)
	require.True(t, f.aws.Exists(seeded.Instance.ID), "a Reconciler without the hook destroyed the old VM")
	require.Zero(t, backups)

	res, err := f.resumer(hooks).Resume(ctx, "ws")
	require.NoError(t, err)
	require.True(t, res.Switched)
	require.Equal(t, 1, backups, "the hook runs once, before the old VM is destroyed")
	f.requireOnlyRecordedVM("ws")
}

func TestSwitcherReconcilerResumesWithTheSwitchersHooks(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	backups := 0
	sw := f.resumer(cloudswitch.WithHooks(cloudswitch.Hooks{BeforeDeprovision: func(context.Context, cloudswitch.Workspace) error {
		backups++
		return nil
	}}))
	f.store.loseFirstClaim()
	_, err := f.switcher(cloudswitch.WithHooks(cloudswitch.Hooks{BeforeDeprovision: func(context.Context, cloudswitch.Workspace) error {
		return errors.New("not reached: the claim's answer is lost first")
	}})).Switch(ctx, "ws", toHetzner)
	requireIncomplete(t, err, cloudswitch.StageClaim)

	rep, err := reconcilerOf(t, sw).Reconcile(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"ws"}, rep.Resumed)
	require.Equal(t, 1, backups)
	f.requireOnlyRecordedVM("ws")
}

func TestCompareAndSwapNeverLandsOnARecreatedWorkspace(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	var successor cloudswitch.Workspace
	hooks := cloudswitch.WithHooks(cloudswitch.Hooks{BeforeDeprovision: func(ctx context.Context, w cloudswitch.Workspace) error {
		// While the hook is slow, the workspace is deleted, created
		// again with the same id and written until it reaches the
		// version the switch holds.
		require.NoError(t, f.mem.Delete(ctx, "ws"))
		var err error
		successor, err = f.mem.Create(ctx, cloudswitch.Workspace{ID: "ws", Compute: cloudswitch.Compute{Provider: cloudswitch.GCP, InstanceType: "e2-small"}})
		require.NoError(t, err)
		for successor.Version < w.Version {
			successor, err = f.mem.Update(ctx, successor)
			require.NoError(t, err)
		}
		require.NotEqual(t, w.Version, successor.Version, "a re-created workspace took a version its predecessor had")
		return nil
	}})
	_, err := f.switcher(hooks).Switch(ctx, "ws", toHetzner)
	require.Error(t, err)
	now := f.get("ws")
	require.Equal(t, successor.Compute, now.Compute, "the old switch moved the new workspace")
	require.Nil(t, now.Pending)
	require.Empty(t, f.hz.Live(), "the old switch created a VM for the new workspace")
}

func TestUnmarkedErrorAfterTheEffectIsNeverANothingChanged(t *testing.T) {
	ctx := t.Context()
	for _, c := range []struct {
		name     string
		strategy cloudswitch.Strategy
		op       memprovider.Op
		seedVM   bool
		stage    cloudswitch.Stage
	}{
		{"stop", cloudswitch.BreakBeforeMake, memprovider.OpDeprovision, true, cloudswitch.StageDeprovision},
		{"make-before-break create", cloudswitch.MakeBeforeBreak, memprovider.OpProvision, true, cloudswitch.StageProvision},
		{"first VM", cloudswitch.BreakBeforeMake, memprovider.OpProvision, false, cloudswitch.StageProvision},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			f.seed("ws", cloudswitch.AWS, "t3.medium", c.seedVM)
			p := f.hz
			if c.op == memprovider.OpDeprovision {
				p = f.aws
			}
			p.LoseResponse(c.op, 1, memprovider.ErrUnexplained)
			req := toHetzner
			if !c.seedVM {
				req = cloudswitch.Request{}
				p = f.aws
				p.LoseResponse(c.op, 1, memprovider.ErrUnexplained)
			}
			_, err := f.switcher(cloudswitch.WithStrategy(c.strategy)).Switch(ctx, "ws", req)
			requireIncomplete(t, err, c.stage)
			require.NotNil(t, f.get("ws").Pending, "the switch must stay journaled: the VM may have been created or destroyed")
			res, err := f.resumer().Resume(ctx, "ws")
			require.NoError(t, err)
			require.False(t, res.RolledBack && c.op == memprovider.OpDeprovision)
			f.requireOnlyRecordedVM("ws")
		})
	}
}

func TestHookErrorWrappingNotFoundIsNotAVanishedWorkspace(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	seeded := f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	hooks := cloudswitch.WithHooks(cloudswitch.Hooks{BeforeDeprovision: func(context.Context, cloudswitch.Workspace) error {
		return fmt.Errorf("backup: snapshot: %w", cloudswitch.ErrNotFound)
	}})
	_, err := f.switcher(hooks, cloudswitch.WithStrategy(cloudswitch.MakeBeforeBreak)).Switch(ctx, "ws", toHetzner)
	requireAbort(t, err, cloudswitch.StageHook)
	w := f.get("ws")
	require.Nil(t, w.Pending, "an aborted switch leaves no intent (and no lease) behind")
	require.Equal(t, seeded.Instance.ID, w.Instance.ID)
	require.Empty(t, f.hz.Live(), "the VM created for the aborted switch must be destroyed")
	_, err = f.switcher(cloudswitch.WithStrategy(cloudswitch.MakeBeforeBreak)).Switch(ctx, "ws", toHetzner)
	require.NoError(t, err, "a retry must work")
	f.requireOnlyRecordedVM("ws")
}

func TestNoProviderCallOutlivesTheLease(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	hooks := cloudswitch.WithHooks(cloudswitch.Hooks{BeforeDeprovision: func(ctx context.Context, _ cloudswitch.Workspace) error {
		<-ctx.Done() // a hook that outlives the lease, then the workspace is gone
		_ = f.mem.Delete(t.Context(), "ws")
		return fmt.Errorf("backup interrupted: %w", ctx.Err())
	}})
	_, err := f.switcher(hooks, cloudswitch.WithLease(20*time.Millisecond), cloudswitch.WithStrategy(cloudswitch.MakeBeforeBreak)).Switch(ctx, "ws", toHetzner)
	require.Error(t, err)
	for _, e := range f.log.all()[f.log.index("hetzner.provision"):] {
		require.NotContains(t, e, "deprovision", "a provider was called after the lease ended: %v", f.log.all())
	}
	require.Len(t, f.hz.Live(), 1, "the VM is left, tagged, for the Reconciler")
}

// wrongName is a driver that reports its VMs under another provider's name.
type wrongName struct{ *memprovider.Provider }

func (w wrongName) Provision(ctx context.Context, req cloudswitch.ProvisionRequest) (cloudswitch.Instance, error) {
	inst, err := w.Provider.Provision(ctx, req)
	inst.Provider = "elsewhere"
	return inst, err
}

func TestAVMTheDriverMisreportsIsJournaledNotForgotten(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	sw := f.switcherOver(f.providersWith(cloudswitch.Hetzner, wrongName{f.hz}), cloudswitch.WithStrategy(cloudswitch.MakeBeforeBreak))
	_, err := sw.Switch(ctx, "ws", toHetzner)
	requireIncomplete(t, err, cloudswitch.StageProvision)
	require.Len(t, f.hz.Live(), 1)
	w := f.get("ws")
	require.NotNil(t, w.Pending, "the VM exists: the intent holding its token must stay")
	require.Equal(t, f.hz.Live()[0].Token, w.Pending.Token)

	res, err := f.resumer().Resume(ctx, "ws")
	require.NoError(t, err, "with a sound driver the switch finishes")
	require.Equal(t, f.hz.Live()[0].ID, res.Provisioned.ID, "the VM created before is the one recorded")
	f.requireOnlyRecordedVM("ws")
}

func TestResumeReportsSettledOnlyWhenNoIntentRemains(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	f.store.loseFirstClaim()
	backup := cloudswitch.WithHooks(cloudswitch.Hooks{BeforeDeprovision: func(context.Context, cloudswitch.Workspace) error { return nil }})
	_, err := f.switcher(backup).Switch(ctx, "ws", toHetzner) // journaled with its hook required
	requireIncomplete(t, err, cloudswitch.StageClaim)
	hooks := cloudswitch.WithHooks(cloudswitch.Hooks{BeforeDeprovision: func(context.Context, cloudswitch.Workspace) error {
		return fmt.Errorf("backup service: %w", &cloudswitch.AbortError{Stage: cloudswitch.StageRead, Err: errors.New("its own store is down")})
	}})
	res, err := f.resumer(hooks).Resume(ctx, "ws")
	require.False(t, res.RolledBack, "an AbortError inside a hook's error is not the switch's abort")
	requireIncomplete(t, err, cloudswitch.StageHook)
	require.NotNil(t, f.get("ws").Pending)
}

func TestReconcilerDeletesNothingWhenItsStoreIsEmpty(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	empty := memstore.New()
	installation, _ := empty.InstallationID(ctx)
	for i := range 9 {
		f.aws.AddForInstallation(cloudswitch.DefaultOwner, installation, fmt.Sprintf("ws-%d", i), cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"})
	}
	rec := newReconciler(t, empty, f.providers(), cloudswitch.WithDeleteOrphans(true), cloudswitch.WithGracePeriod(0))
	rep, err := rec.Reconcile(ctx)
	require.Error(t, err)
	require.Len(t, rep.Orphans, 9)
	require.Empty(t, rep.Deleted)
	require.Contains(t, rep.Withheld, "holds no workspace")
	require.Len(t, f.aws.Live(), 9, "a Reconciler on an empty store destroyed VMs")
}

func TestReconcilerDeletesNothingBeyondItsLimit(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("kept", cloudswitch.AWS, "t3.medium", true)
	installation, _ := f.mem.InstallationID(ctx)
	for i := range 5 {
		f.aws.AddForInstallation(cloudswitch.DefaultOwner, installation, fmt.Sprintf("gone-%d", i), cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"})
	}
	rep, err := f.reconciler(cloudswitch.WithDeleteOrphans(true), cloudswitch.WithGracePeriod(0), cloudswitch.WithDeleteLimit(4)).Reconcile(ctx)
	require.Error(t, err, "%+v", rep)
	require.Len(t, rep.Orphans, 5)
	require.Empty(t, rep.Deleted)
	require.Contains(t, rep.Withheld, "exceed the limit of 4")
	require.Len(t, f.aws.Live(), 6)

	rep, err = f.reconciler(cloudswitch.WithDeleteOrphans(true), cloudswitch.WithGracePeriod(0), cloudswitch.WithDeleteLimit(5)).Reconcile(ctx)
	require.NoError(t, err)
	require.Len(t, rep.Deleted, 5)
	f.requireOnlyRecordedVM("kept")
}

func TestTwoInstallationsOnOneCloudNeverTouchEachOthersVMs(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	other := memstore.New()
	otherSw := newSwitcher(t, other, f.providers())
	for i := range 3 {
		id := fmt.Sprintf("theirs-%d", i)
		_, err := other.Create(ctx, cloudswitch.Workspace{ID: id, Compute: cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"}})
		require.NoError(t, err)
		_, err = otherSw.Switch(ctx, id, cloudswitch.Request{})
		require.NoError(t, err)
	}
	f.seed("mine", cloudswitch.AWS, "t3.medium", false)
	_, err := f.switcher().Switch(ctx, "mine", cloudswitch.Request{})
	require.NoError(t, err)

	// Same owner (the default), same cloud account, another database.
	rep, err := f.reconciler(cloudswitch.WithDeleteOrphans(true), cloudswitch.WithGracePeriod(0)).Reconcile(ctx)
	require.NoError(t, err)
	require.Empty(t, rep.Orphans, "another installation's VMs were judged")
	require.Equal(t, 3, rep.Foreign[cloudswitch.AWS])
	require.Len(t, f.aws.Live(), 4, "a Reconciler destroyed another installation's VMs")
}

func TestSwitchRefusesToDestroyAVMTaggedForAnotherWorkspace(t *testing.T) {
	ctx := t.Context()
	t.Run("the record says so", func(t *testing.T) {
		f := newFixture(t)
		w := f.seed("ws", cloudswitch.AWS, "t3.medium", true)
		w.Instance.WorkspaceID = "someone-else"
		_, err := f.mem.Update(ctx, w)
		require.NoError(t, err)
		f.log.reset()
		_, err = f.switcher().Switch(ctx, "ws", toHetzner)
		requireAbort(t, err, cloudswitch.StageValidate)
		require.ErrorIs(t, err, cloudswitch.ErrNotOurs)
		f.requireNoProviderCalls()
	})
	t.Run("the VM's tags say so", func(t *testing.T) {
		f := newFixture(t)
		theirs := f.seed("theirs", cloudswitch.AWS, "t3.medium", true)
		w := f.seed("ws", cloudswitch.AWS, "t3.medium", true)
		mine := w.Instance.ID
		// A record restored from a stale backup names the other
		// workspace's VM as its own.
		w.Instance.ID = theirs.Instance.ID
		_, err := f.mem.Update(ctx, w)
		require.NoError(t, err)
		_, err = f.switcher().Switch(ctx, "ws", toHetzner)
		requireAbort(t, err, cloudswitch.StageDeprovision)
		require.ErrorIs(t, err, cloudswitch.ErrNotOurs)
		require.True(t, f.aws.Exists(theirs.Instance.ID), "another workspace's VM was destroyed")
		require.True(t, f.aws.Exists(mine))
		require.Empty(t, f.hz.Live())
	})
}

// deadlineDropper is an observer that hands stages a context without the
// lease's deadline.
type deadlineDropper struct{ cloudswitch.NopObserver }

func (deadlineDropper) StageStarted(context.Context, cloudswitch.StageEvent) context.Context {
	return context.Background()
}

func (deadlineDropper) SwitchStarted(context.Context, cloudswitch.SwitchEvent) context.Context {
	return context.Background()
}

// deadlineRecorder notes whether each provider call had a deadline.
type deadlineRecorder struct {
	*memprovider.Provider
	missing *[]string
}

func (d deadlineRecorder) Deprovision(ctx context.Context, inst cloudswitch.Instance) error {
	if _, ok := ctx.Deadline(); !ok {
		*d.missing = append(*d.missing, "deprovision")
	}
	return d.Provider.Deprovision(ctx, inst)
}

func (d deadlineRecorder) Provision(ctx context.Context, req cloudswitch.ProvisionRequest) (cloudswitch.Instance, error) {
	if _, ok := ctx.Deadline(); !ok {
		*d.missing = append(*d.missing, "provision")
	}
	return d.Provider.Provision(ctx, req)
}

func TestAnObserverCannotLiftTheLeaseFromProviderCalls(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	var missing []string
	providers := map[string]cloudswitch.Provider{
		cloudswitch.AWS: deadlineRecorder{f.aws, &missing}, cloudswitch.Hetzner: deadlineRecorder{f.hz, &missing},
	}
	_, err := f.switcherOver(providers, cloudswitch.WithObserver(deadlineDropper{})).Switch(ctx, "ws", toHetzner)
	require.NoError(t, err)
	require.Empty(t, missing, "provider calls ran without the lease's deadline")
}

func TestResumeRefusesAnIntentNeverClaimed(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	w := f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	w.Pending = &cloudswitch.Intent{ID: "x1", Strategy: cloudswitch.BreakBeforeMake, Phase: cloudswitch.PhaseDeprovision,
		From: w.Compute, To: cloudswitch.Compute{Provider: cloudswitch.Hetzner, InstanceType: "cpx31"}, Old: w.Instance, Claims: 0}
	_, err := f.mem.Update(ctx, w)
	require.NoError(t, err)
	f.log.reset()
	_, err = f.resumer().Resume(ctx, "ws")
	requireAbort(t, err, cloudswitch.StageValidate)
	f.requireNoProviderCalls()
}

func TestEmptyStoredInstanceTypeMeansTheProvidersDefault(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.Hetzner, "", false) // as the original table stored it
	res, err := f.switcher(cloudswitch.WithProvisioning(false)).Switch(ctx, "ws", cloudswitch.Request{})
	require.NoError(t, err, "a record without an instance type must stay editable")
	require.Equal(t, cloudswitch.DefaultAllowlist().DefaultInstanceType(cloudswitch.Hetzner), res.Workspace.Compute.InstanceType)
}

// A token whose VM died (dead on launch, destroyed out of band) can never
// create another: a switch past its commit would wait for ever. It journals
// a fresh token and goes on.
func TestASpentTokenIsReplacedInTheJournalNotRetriedForEver(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	f.hz.LoseResponse(memprovider.OpProvision, 1, memprovider.ErrUnavailable)
	f.hz.FailNext(memprovider.OpProvision, 2, memprovider.ErrUnavailable)
	_, err := f.switcher().Switch(ctx, "ws", toHetzner)
	requireIncomplete(t, err, cloudswitch.StageProvision)
	spent := f.get("ws").Pending.Token
	require.Len(t, f.hz.Live(), 1)
	require.NoError(t, f.hz.Deprovision(ctx, f.hz.Live()[0])) // the new VM dies before it is recorded

	res, err := f.resumer().Resume(ctx, "ws")
	require.NoError(t, err, "a spent token must not wedge the switch")
	require.NotEqual(t, spent, res.Provisioned.Token, "the VM is created with a fresh, journaled token")
	f.requireOnlyRecordedVM("ws")
}
