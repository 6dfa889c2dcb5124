package cloudswitch_test

// One test (or a few) per invariant of the design, each failing if its
// invariant breaks. The fixture records every store and provider call in
// order.

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
)

// Invariant 1: validate first.

func TestSwitchRefusesUnknownProviderBeforeAnyIO(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	_, err := f.switcher().Switch(ctx, "ws", cloudswitch.Request{Compute: cloudswitch.Compute{Provider: "azure"}, ConfirmRecreate: true})
	var ve *cloudswitch.ValidationError
	if !errors.As(err, &ve) || ve.Field != "provider" {
		t.Fatalf("got %v; want a *ValidationError on the provider field", err)
	}
	if !errors.Is(err, cloudswitch.ErrInvalid) || !errors.Is(err, cloudswitch.ErrUnknownProvider) {
		t.Fatalf("an unknown provider must match ErrInvalid and ErrUnknownProvider: %v", err)
	}
	if len(ve.Allowed) != 3 {
		t.Fatalf("the error must list the allowed providers, got %v", ve.Allowed)
	}
	if calls := f.log.all(); len(calls) != 0 {
		t.Fatalf("a request naming an unknown provider did I/O: %v", calls)
	}
}

func TestSwitchRefusesWrongCaseProviderWithAHint(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	_, err := f.switcher().Switch(ctx, "ws", cloudswitch.Request{Compute: cloudswitch.Compute{Provider: "AWS"}, ConfirmRecreate: true})
	if !errors.Is(err, cloudswitch.ErrInvalid) || !strings.Contains(err.Error(), `"aws"`) {
		t.Fatalf("got %v; want ErrInvalid suggesting the lowercase name", err)
	}
	if calls := f.log.all(); len(calls) != 0 {
		t.Fatalf("I/O happened before validation: %v", calls)
	}
}

func TestSwitchRefusesAnotherProvidersInstanceTypeBeforeAnyIO(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	_, err := f.switcher().Switch(ctx, "ws", cloudswitch.Request{
		Compute: cloudswitch.Compute{Provider: cloudswitch.Hetzner, InstanceType: "t3.medium"}, ConfirmRecreate: true})
	var ve *cloudswitch.ValidationError
	if !errors.As(err, &ve) || ve.Field != "instance_type" || !strings.Contains(err.Error(), `of provider "aws"`) {
		t.Fatalf("got %v; want a *ValidationError saying t3.medium is an aws type", err)
	}
	if calls := f.log.all(); len(calls) != 0 {
		t.Fatalf("I/O happened before validation: %v", calls)
	}
}

func TestSwitchValidatesKeptProviderRightAfterTheRead(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	// No provider named: the target is known only once the record is read.
	_, err := f.switcher().Switch(ctx, "ws", cloudswitch.Request{Compute: cloudswitch.Compute{InstanceType: "cpx31"}})
	if !errors.Is(err, cloudswitch.ErrInvalid) {
		t.Fatalf("got %v; want ErrInvalid for a hetzner type on the kept aws provider", err)
	}
	if calls := f.log.all(); len(calls) != 1 || !strings.HasPrefix(calls[0], "store.get") {
		t.Fatalf("calls %v; want exactly the read, then the refusal", calls)
	}
}

func TestProviderChangeTakesTheNewProvidersDefaultsForEmptyFields(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	seeded := f.seed("ws", cloudswitch.AWS, "t3.large", true)
	seeded.Compute.Region, seeded.Compute.Image = "eu-west-1", ubuntuAMI
	_, err := f.mem.Update(ctx, seeded)
	require.NoError(t, err)
	res, err := f.switcher().Switch(ctx, "ws", toHetzner)
	require.NoError(t, err)
	want := cloudswitch.Compute{Provider: cloudswitch.Hetzner, InstanceType: "cpx31"}
	if res.Workspace.Compute != want {
		t.Fatalf("switched to %+v; want %+v: the new provider's default type, the driver's default region and image", res.Workspace.Compute, want)
	}
}

// ubuntuAMI is an image the default allowlist allows on AWS.
const ubuntuAMI = "resolve:ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id"

func TestSameProviderEditKeepsEmptyFields(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	seeded := f.seed("ws", cloudswitch.AWS, "t3.large", false)
	seeded.Compute.Region, seeded.Compute.Image = "eu-west-1", ubuntuAMI
	_, err := f.mem.Update(ctx, seeded)
	require.NoError(t, err)
	res, err := f.switcher().Switch(ctx, "ws", cloudswitch.Request{Compute: cloudswitch.Compute{Region: "us-east-1"}})
	require.NoError(t, err)
	want := cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.large", Region: "us-east-1", Image: ubuntuAMI}
	if res.Workspace.Compute != want {
		t.Fatalf("got %+v; want %+v: empty fields keep their values on the same provider", res.Workspace.Compute, want)
	}
}

func TestSwitchRefusesEmptyWorkspaceIDAndNegativeVersion(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	sw := f.switcher()
	if _, err := sw.Switch(ctx, "", cloudswitch.Request{}); !errors.Is(err, cloudswitch.ErrInvalid) {
		t.Fatalf("empty id: got %v; want ErrInvalid", err)
	}
	if _, err := sw.Resume(ctx, ""); !errors.Is(err, cloudswitch.ErrInvalid) {
		t.Fatalf("Resume with empty id: got %v; want ErrInvalid", err)
	}
	if _, err := sw.Switch(ctx, "ws", cloudswitch.Request{IfVersion: -1}); !errors.Is(err, cloudswitch.ErrInvalid) {
		t.Fatalf("negative IfVersion: got %v; want ErrInvalid", err)
	}
	if calls := f.log.all(); len(calls) != 0 {
		t.Fatalf("bad input reached the store: %v", calls)
	}
}

// Invariant 2: fail-closed read.

func TestReadFailureAbortsWithoutProviderCallOrWrite(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	f.store.failGets(errors.New("dial tcp 10.0.0.5:5432: connection refused"))
	_, err := f.switcher().Switch(ctx, "ws", toHetzner)
	requireAbort(t, err, cloudswitch.StageRead)
	if errors.Is(err, cloudswitch.ErrNotFound) {
		t.Fatalf("a failed read must never look like a missing workspace: %v", err)
	}
	f.requireNoWrites()
	f.requireNoProviderCalls()
}

func TestMissingWorkspaceIsNotFoundNotAbort(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	_, err := f.switcher().Switch(ctx, "nope", toHetzner)
	if !errors.Is(err, cloudswitch.ErrNotFound) {
		t.Fatalf("got %v; want ErrNotFound", err)
	}
	var abort *cloudswitch.AbortError
	if errors.As(err, &abort) {
		t.Fatalf("a missing workspace is not an aborted switch: %v", err)
	}
	f.requireNoProviderCalls()
}

// Invariant 3: same provider.

func TestSameProviderTypeChangeResizesTheVMInPlace(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	seeded := f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	res, err := f.switcher().Switch(ctx, "ws", cloudswitch.Request{Compute: cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.xlarge"}})
	require.NoError(t, err)
	if n := f.log.count("aws.deprovision") + f.log.count("aws.provision"); n != 0 {
		t.Fatalf("a resize destroyed or created a VM: %v", f.log.all())
	}
	if n := f.log.count("store.update"); n != 2 {
		t.Fatalf("%d writes; want the claim and the commit of a journaled resize", n)
	}
	if !res.Resized || res.Switched || res.Deprovisioned != nil || res.Workspace.Instance.ID != seeded.Instance.ID {
		t.Fatalf("a resize replaced the VM: %+v", res)
	}
	if res.Workspace.Compute.InstanceType != "t3.xlarge" || res.Workspace.Instance.InstanceType != "t3.xlarge" {
		t.Fatalf("the record must describe the machine the VM is now: %+v", res.Workspace)
	}
	if !f.aws.Exists(seeded.Instance.ID) {
		t.Fatal("the VM was destroyed by a same-provider edit")
	}
}

func TestSameProviderEditIsCompareAndSwap(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	seeded := f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	_, err := f.switcher().Switch(ctx, "ws", cloudswitch.Request{Compute: cloudswitch.Compute{InstanceType: "t3.large"}, IfVersion: seeded.Version + 1})
	if !errors.Is(err, cloudswitch.ErrConflict) {
		t.Fatalf("got %v; want ErrConflict for a stale IfVersion", err)
	}
	f.requireNoWrites()
}

func TestUnchangedRequestWritesNothing(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	res, err := f.switcher().Switch(ctx, "ws", cloudswitch.Request{Compute: cloudswitch.Compute{Provider: cloudswitch.AWS}})
	if err != nil || res.Switched {
		t.Fatalf("got %+v, %v", res, err)
	}
	f.requireNoWrites()
	f.requireNoProviderCalls()
}

// Invariant 4: deprovision before write.

func TestOldVMIsDestroyedOnOldProviderBeforeNewComputeIsWritten(t *testing.T) {
	ctx := t.Context()
	forEachStrategy(t, func(t *testing.T, strategy cloudswitch.Strategy) {
		f := newFixture(t)
		seeded := f.seed("ws", cloudswitch.AWS, "t3.medium", true)
		res, err := f.switcher(cloudswitch.WithStrategy(strategy)).Switch(ctx, "ws", toHetzner)
		require.NoError(t, err)
		stop := f.log.index("aws.deprovision " + seeded.Instance.ID)
		write := f.log.index("store.update compute=hetzner")
		if stop < 0 || write < 0 || stop > write {
			t.Fatalf("the old VM must be destroyed on aws before the hetzner compute is written; calls: %v", f.log.all())
		}
		if f.log.count("hetzner.deprovision") != 0 || f.log.count("gcp.") != 0 {
			t.Fatalf("a provider other than the old one was asked to destroy: %v", f.log.all())
		}
		if strategy == cloudswitch.MakeBeforeBreak && f.log.index("hetzner.provision") > stop {
			t.Fatalf("make-before-break must create the new VM before destroying the old: %v", f.log.all())
		}
		if strategy == cloudswitch.BreakBeforeMake && f.log.index("hetzner.provision") < stop {
			t.Fatalf("break-before-make must destroy the old VM before creating the new: %v", f.log.all())
		}
		if claim := f.log.index("store.update"); claim < 0 || claim > f.log.index("aws.") || claim > f.log.index("hetzner.") {
			t.Fatalf("the intent must be written before any provider call: %v", f.log.all())
		}
		if !res.Switched || res.Deprovisioned == nil || res.Deprovisioned.ID != seeded.Instance.ID || res.Provisioned == nil {
			t.Fatalf("result does not report the switch: %+v", res)
		}
		f.requireOnlyRecordedVM("ws")
	})
}

func TestSuccessfulSwitchTakesFourRoundTrips(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	_, err := f.switcher().Switch(ctx, "ws", toHetzner)
	require.NoError(t, err)
	if n := f.log.count("store."); n != 4 {
		t.Fatalf("%d store round trips; want 4 (read, claim, commit, record): %v", n, f.log.all())
	}
}

// Invariant 5: retrying, error-returning stop.

func TestTransientStopErrorsAreRetried(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	f.aws.FailNext(memprovider.OpDeprovision, 2, memprovider.ErrThrottled)
	var retries []cloudswitch.RetryEvent
	obs := &retryRecorder{events: &retries}
	if _, err := f.switcher(cloudswitch.WithObserver(obs)).Switch(ctx, "ws", toHetzner); err != nil {
		t.Fatalf("two throttled stops then success must switch: %v", err)
	}
	if n := f.log.count("aws.deprovision"); n != 3 {
		t.Fatalf("%d stop attempts; want 3 (two throttled, one good)", n)
	}
	if len(retries) != 2 || retries[0].Attempt != 1 || retries[1].Attempt != 2 || !errors.Is(retries[0].Err, cloudswitch.ErrTransient) {
		t.Fatalf("retry events %+v; want attempts 1 and 2 with the transient cause", retries)
	}
}

type retryRecorder struct {
	cloudswitch.NopObserver
	mu     sync.Mutex
	events *[]cloudswitch.RetryEvent
}

func (r *retryRecorder) Retried(_ context.Context, e cloudswitch.RetryEvent) {
	r.mu.Lock()
	*r.events = append(*r.events, e)
	r.mu.Unlock()
}

func TestPermanentStopErrorIsTriedOnceAndNeverSleeps(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	f.aws.FailNext(memprovider.OpDeprovision, 1, memprovider.ErrDenied)
	slow := cloudswitch.WithRetryPolicy(cloudswitch.RetryPolicy{InitialInterval: time.Hour, MaxInterval: time.Hour, MaxAttempts: 5})
	var retries []cloudswitch.RetryEvent
	_, err := f.switcher(slow, cloudswitch.WithObserver(&retryRecorder{events: &retries})).Switch(ctx, "ws", toHetzner)
	requireAbort(t, err, cloudswitch.StageDeprovision)
	if n := f.log.count("aws.deprovision"); n != 1 {
		t.Fatalf("a permanent error was attempted %d times; want 1", n)
	}
	if len(retries) != 0 {
		t.Fatalf("a permanent error scheduled retries: %+v", retries)
	}
}

func TestVMAlreadyGoneCountsAsStopped(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	seeded := f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	require.NoError(t, f.aws.Deprovision(ctx, *seeded.Instance)) // gone behind our back
	res, err := f.switcher().Switch(ctx, "ws", toHetzner)
	if err != nil || !res.Switched {
		t.Fatalf("a VM already gone must not fail the switch: %+v, %v", res, err)
	}
}

func TestRetriesStopAtMaxAttempts(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	f.aws.FailNext(memprovider.OpDeprovision, 10, memprovider.ErrUnavailable)
	_, err := f.switcher().Switch(ctx, "ws", toHetzner) // fastRetries: MaxAttempts 3
	if n := f.log.count("aws.deprovision"); n != 3 {
		t.Fatalf("%d attempts; want MaxAttempts = 3 counting the first", n)
	}
	if !errors.Is(err, memprovider.ErrUnavailable) {
		t.Fatalf("the last cause must be reachable with errors.Is: %v", err)
	}
	// The stop's outcome is unknown after transient errors: journaled, not
	// "nothing changed".
	requireIncomplete(t, err, cloudswitch.StageDeprovision)
	if f.get("ws").Compute.Provider != cloudswitch.AWS {
		t.Fatal("the compute was written although the stop failed")
	}
}

// Invariant 6: abort before write.

func TestFailedStopAbortsWithRecordUntouchedAndRetryWorks(t *testing.T) {
	ctx := t.Context()
	forEachStrategy(t, func(t *testing.T, strategy cloudswitch.Strategy) {
		f := newFixture(t)
		seeded := f.seed("ws", cloudswitch.AWS, "t3.medium", true)
		f.aws.FailNext(memprovider.OpDeprovision, 1, memprovider.ErrDenied)
		sw := f.switcher(cloudswitch.WithStrategy(strategy))
		_, err := sw.Switch(ctx, "ws", toHetzner)
		requireAbort(t, err, cloudswitch.StageDeprovision)
		if !errors.Is(err, memprovider.ErrDenied) {
			t.Fatalf("the abort must wrap the stop's cause: %v", err)
		}
		after := f.get("ws")
		if after.Compute != seeded.Compute || after.Instance.ID != seeded.Instance.ID || after.Pending != nil {
			t.Fatalf("record changed by an aborted switch: %+v", after)
		}
		if f.log.index("store.update compute=hetzner") >= 0 {
			t.Fatalf("the new compute was written after the stop failed: %v", f.log.all())
		}
		f.requireOnlyRecordedVM("ws") // MakeBeforeBreak: the new VM was destroyed again
		if _, err := sw.Switch(ctx, "ws", toHetzner); err != nil {
			t.Fatalf("a retry after an abort must work: %v", err)
		}
		f.requireOnlyRecordedVM("ws")
	})
}

func TestFailedHookAbortsBeforeTheStop(t *testing.T) {
	ctx := t.Context()
	forEachStrategy(t, func(t *testing.T, strategy cloudswitch.Strategy) {
		f := newFixture(t)
		seeded := f.seed("ws", cloudswitch.AWS, "t3.medium", true)
		var saw cloudswitch.Workspace
		hooks := cloudswitch.Hooks{BeforeDeprovision: func(_ context.Context, w cloudswitch.Workspace) error {
			saw = w
			return errors.New("backup failed")
		}}
		_, err := f.switcher(cloudswitch.WithHooks(hooks), cloudswitch.WithStrategy(strategy)).Switch(ctx, "ws", toHetzner)
		requireAbort(t, err, cloudswitch.StageHook)
		if saw.Pending == nil || saw.Pending.To.Provider != cloudswitch.Hetzner {
			t.Fatalf("the hook must see the journaled intent: %+v", saw.Pending)
		}
		if f.log.count("aws.deprovision") != 0 || !f.aws.Exists(seeded.Instance.ID) {
			t.Fatal("the old VM was destroyed although the hook failed")
		}
		f.requireOnlyRecordedVM("ws")
	})
}

func TestRollbackThatCannotDestroyTheNewVMStaysJournaled(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	seeded := f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	f.aws.FailNext(memprovider.OpDeprovision, 1, memprovider.ErrDenied) // the old VM cannot be stopped
	f.hz.FailNext(memprovider.OpDeprovision, 1, memprovider.ErrDenied)  // nor the new one destroyed again
	sw := f.switcher(cloudswitch.WithStrategy(cloudswitch.MakeBeforeBreak))
	_, err := sw.Switch(ctx, "ws", toHetzner)
	requireIncomplete(t, err, cloudswitch.StageRollback)
	w := f.get("ws")
	if w.Pending == nil || w.Pending.Phase != cloudswitch.PhaseRollback || w.Pending.New == nil {
		t.Fatalf("the new VM must stay recorded in a rollback intent: %+v", w.Pending)
	}
	if !f.hz.Exists(w.Pending.New.ID) || w.Compute != seeded.Compute {
		t.Fatalf("unexpected state: %+v", w)
	}
	res, err := sw.Resume(ctx, "ws")
	if err != nil || !res.RolledBack {
		t.Fatalf("Resume must finish the rollback: %+v, %v", res, err)
	}
	f.requireOnlyRecordedVM("ws")
	if f.get("ws").Instance.ID != seeded.Instance.ID {
		t.Fatal("the rollback lost the old VM")
	}
}

// Invariant 7: one switch at a time, across processes.

func TestSecondSwitcherGetsSwitchInProgress(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	entered, release := make(chan struct{}), make(chan struct{})
	hooks := cloudswitch.Hooks{BeforeDeprovision: func(context.Context, cloudswitch.Workspace) error {
		close(entered)
		<-release
		return nil
	}}
	first := f.switcher(cloudswitch.WithHooks(hooks))
	second := f.switcher() // another process sharing the store
	done := make(chan error)
	go func() {
		_, err := first.Switch(ctx, "ws", toHetzner)
		done <- err
	}()
	<-entered

	for name, req := range map[string]cloudswitch.Request{
		"provider change":    {Compute: cloudswitch.Compute{Provider: cloudswitch.GCP}, ConfirmRecreate: true},
		"same-provider edit": {Compute: cloudswitch.Compute{InstanceType: "t3.large"}},
	} {
		_, err := second.Switch(ctx, "ws", req)
		if !errors.Is(err, cloudswitch.ErrSwitchInProgress) || !errors.Is(err, cloudswitch.ErrConflict) {
			t.Errorf("%s during a pending switch: got %v; want ErrSwitchInProgress (matching ErrConflict)", name, err)
		}
	}
	if _, err := second.Resume(ctx, "ws"); !errors.Is(err, cloudswitch.ErrSwitchInProgress) {
		t.Errorf("Resume within the lease: got %v; want ErrSwitchInProgress", err)
	}
	close(release)
	require.NoError(t, <-done, "the first switch failed")
	f.requireOnlyRecordedVM("ws")
}

func TestExpiredIntentStillBlocksSwitchUntilResumed(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	f.hz.FailNext(memprovider.OpProvision, 3, memprovider.ErrUnavailable)
	now := time.Now()
	clock := func() time.Time { return now }
	sw := f.switcher(cloudswitch.WithClock(clock))
	if _, err := sw.Switch(ctx, "ws", toHetzner); err == nil {
		t.Fatal("the switch should have stopped at provisioning")
	}
	now = now.Add(time.Hour) // long past the lease
	_, err := sw.Switch(ctx, "ws", cloudswitch.Request{Compute: cloudswitch.Compute{Provider: cloudswitch.GCP}, ConfirmRecreate: true})
	if !errors.Is(err, cloudswitch.ErrSwitchInProgress) {
		t.Fatalf("got %v; want ErrSwitchInProgress until Resume settles the expired intent", err)
	}
	_, err = sw.Resume(ctx, "ws")
	require.NoError(t, err)
	if _, err := sw.Switch(ctx, "ws", cloudswitch.Request{Compute: cloudswitch.Compute{Provider: cloudswitch.GCP}, ConfirmRecreate: true}); err != nil {
		t.Fatalf("after Resume the workspace must switch again: %v", err)
	}
	f.requireOnlyRecordedVM("ws")
}

func TestSwitchNeverRunsPastItsLease(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	f.aws.Inject(memprovider.OpDeprovision, 1, memprovider.Fault{Latency: time.Minute})
	_, err := f.switcher(cloudswitch.WithLease(50*time.Millisecond)).Switch(ctx, "ws", toHetzner)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v; want the lease to end the switch's context", err)
	}
	requireIncomplete(t, err, cloudswitch.StageDeprovision)
	// The lease was released: another process may resume at once.
	res, err := f.switcher().Resume(ctx, "ws")
	if err != nil || !res.Switched {
		t.Fatalf("Resume after the lease: %+v, %v", res, err)
	}
	f.requireOnlyRecordedVM("ws")
}

func TestLeaseCanBeResumedOnlyAfterExpiry(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	now := time.Now()
	sw := f.switcher(cloudswitch.WithClock(func() time.Time { return now }))
	f.store.failUpdates(func(w cloudswitch.Workspace) (error, bool) {
		if w.Pending != nil && w.Pending.Phase == cloudswitch.PhaseDeprovision {
			return nil, false // the claim lands
		}
		return errors.New("process killed"), false // nothing after it does
	})
	if _, err := sw.Switch(ctx, "ws", toHetzner); err == nil {
		t.Fatal("expected the switch to stop")
	}
	f.store.failUpdates(nil)
	w := f.get("ws")
	if w.Pending == nil {
		t.Fatal("the intent must still be journaled")
	}
	// The killed process could not release its lease: it stands until it expires.
	now = w.Pending.LeaseExpires.Add(-time.Second)
	if _, err := sw.Resume(ctx, "ws"); !errors.Is(err, cloudswitch.ErrSwitchInProgress) {
		t.Fatalf("Resume before expiry: got %v; want ErrSwitchInProgress", err)
	}
	now = w.Pending.LeaseExpires
	if _, err := sw.Resume(ctx, "ws"); err != nil {
		t.Fatalf("Resume at expiry: %v", err)
	}
	f.requireOnlyRecordedVM("ws")
}

// Invariant 8: crash safety (see also suite_test.go).

func TestWriteWithUnknownOutcomeIsIncompleteNotAbort(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	f.store.failUpdates(func(w cloudswitch.Workspace) (error, bool) {
		if w.Compute.Provider == cloudswitch.Hetzner && w.Pending != nil && w.Pending.Committed {
			return errors.New("connection reset by peer"), true // the commit landed; the reply was lost
		}
		return nil, false
	})
	sw := f.switcher()
	_, err := sw.Switch(ctx, "ws", toHetzner)
	f.store.failUpdates(nil)
	requireIncomplete(t, err, cloudswitch.StageCommit)
	res, err := sw.Resume(ctx, "ws")
	if err != nil || !res.Switched {
		t.Fatalf("Resume: %+v, %v", res, err)
	}
	f.requireOnlyRecordedVM("ws")
}

func TestResumeWithoutIntentChangesNothing(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	seeded := f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	res, err := f.switcher().Resume(ctx, "ws")
	if err != nil || res.Workspace.Version != seeded.Version || res.Switched || res.RolledBack {
		t.Fatalf("got %+v, %v; want the workspace unchanged", res, err)
	}
	f.requireNoWrites()
	f.requireNoProviderCalls()
}

func TestResumeFollowsTheJournalNotItsOptions(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	f.hz.FailNext(memprovider.OpProvision, 3, memprovider.ErrUnavailable)
	_, err := f.switcher().Switch(ctx, "ws", toHetzner) // provisioning on
	requireIncomplete(t, err, cloudswitch.StageProvision)
	res, err := f.switcher(cloudswitch.WithProvisioning(false)).Resume(ctx, "ws")
	if err != nil || res.Provisioned == nil {
		t.Fatalf("a switch journaled with provisioning must be finished with it: %+v, %v", res, err)
	}
	f.requireOnlyRecordedVM("ws")
}

func TestWorkspaceDeletedMidSwitchLeavesNoVMBehind(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	hooks := cloudswitch.Hooks{BeforeDeprovision: func(context.Context, cloudswitch.Workspace) error {
		return f.mem.Delete(ctx, "ws") // someone deletes the workspace meanwhile
	}}
	_, err := f.switcher(cloudswitch.WithHooks(hooks), cloudswitch.WithStrategy(cloudswitch.MakeBeforeBreak)).Switch(ctx, "ws", toHetzner)
	if !errors.Is(err, cloudswitch.ErrNotFound) {
		t.Fatalf("got %v; want ErrNotFound once the workspace is gone", err)
	}
	for _, inst := range f.hz.Live() {
		t.Errorf("VM %s created for the deleted workspace is still alive", inst.ID)
	}
}

// Invariant 9: no stale pointers.

func TestProviderChangeClearsTheOldInstanceInTheSameWrite(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	seeded := f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	res, err := f.switcher(cloudswitch.WithProvisioning(false)).Switch(ctx, "ws", toHetzner)
	require.NoError(t, err)
	if res.Workspace.Instance != nil {
		t.Fatalf("the record names %s under provider hetzner: a stale pointer to the old aws VM", res.Workspace.Instance.ID)
	}
	for _, e := range f.log.all() {
		if strings.HasPrefix(e, "store.update compute=hetzner") && strings.Contains(e, seeded.Instance.ID) {
			t.Fatalf("a write paired the new provider with the old instance: %s", e)
		}
	}
}

// Invariant 10: never trust a guess.

func TestUnknownStoredProviderAborts(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	w, _ := f.mem.Create(ctx, cloudswitch.Workspace{ID: "ws", Compute: cloudswitch.Compute{Provider: "azure", InstanceType: "b2s"},
		Instance: &cloudswitch.Instance{Provider: "azure", ID: "vm-1"}})
	_ = w
	_, err := f.switcher().Switch(ctx, "ws", cloudswitch.Request{Compute: cloudswitch.Compute{Provider: cloudswitch.AWS}, ConfirmRecreate: true})
	requireAbort(t, err, cloudswitch.StageValidate)
	if !errors.Is(err, cloudswitch.ErrUnknownProvider) {
		t.Fatalf("got %v; want ErrUnknownProvider", err)
	}
	f.requireNoWrites()
	f.requireNoProviderCalls()
}

func TestProviderWithoutDriverAborts(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, onClouds(cloudswitch.AWS, cloudswitch.Hetzner))
	f.seed("ws", cloudswitch.GCP, "e2-small", true)
	_, err := f.switcher().Switch(ctx, "ws", toHetzner)
	requireAbort(t, err, cloudswitch.StageValidate)
	if !errors.Is(err, cloudswitch.ErrUnknownProvider) {
		t.Fatalf("got %v; want ErrUnknownProvider", err)
	}
	f.requireNoWrites()
	f.requireNoProviderCalls()
}

func TestInstanceOnAnotherProviderThanItsComputeAborts(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	// The original server's bug left rows like this: an aws instance id
	// under a hetzner compute.
	_, _ = f.mem.Create(ctx, cloudswitch.Workspace{ID: "ws", Compute: cloudswitch.Compute{Provider: cloudswitch.Hetzner, InstanceType: "cpx31"},
		Instance: &cloudswitch.Instance{Provider: cloudswitch.AWS, ID: "i-0abc"}})
	_, err := f.switcher().Switch(ctx, "ws", cloudswitch.Request{Compute: cloudswitch.Compute{Provider: cloudswitch.GCP}, ConfirmRecreate: true})
	requireAbort(t, err, cloudswitch.StageValidate)
	f.requireNoProviderCalls()
}

// An error a driver did not mark as a refusal leaves the outcome unknown: the
// switch neither assumes the VM gone nor claims that nothing changed.
func TestDriverThatCannotTellLeavesTheSwitchJournaled(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	seeded := f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	f.aws.FailNext(memprovider.OpDeprovision, 1, errors.New("describe instances: malformed response"))
	_, err := f.switcher().Switch(ctx, "ws", toHetzner)
	requireIncomplete(t, err, cloudswitch.StageDeprovision)
	if w := f.get("ws"); w.Instance == nil || w.Instance.ID != seeded.Instance.ID || w.Compute.Provider != cloudswitch.AWS {
		t.Fatalf("an uncertain stop was taken for a gone VM: %+v", w)
	}
}

func TestLegacyEmptyProviderMeansAWS(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	seeded := f.seed("ws", "", "t3.medium", true) // a row written before providers existed
	res, err := f.switcher().Switch(ctx, "ws", toHetzner)
	require.NoError(t, err)
	if res.Deprovisioned == nil || res.Deprovisioned.ID != seeded.Instance.ID || f.aws.Exists(seeded.Instance.ID) {
		t.Fatalf("the stored empty provider must be read as aws and its VM destroyed there: %+v", res)
	}
}

// Invariant 11: no implicit switch.

func TestEmptyProviderInRequestKeepsCurrentProvider(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	seeded := f.seed("ws", cloudswitch.Hetzner, "cpx31", true)
	res, err := f.switcher().Switch(ctx, "ws", cloudswitch.Request{Compute: cloudswitch.Compute{InstanceType: "cpx41"}})
	require.NoError(t, err)
	if res.Workspace.Compute.Provider != cloudswitch.Hetzner || res.Switched || !f.hz.Exists(seeded.Instance.ID) {
		t.Fatalf("an omitted provider was read as a switch (the original server read it as aws): %+v", res)
	}
	f.requireNoProviderCalls()
}

func TestProviderChangeWithoutConfirmationChangesNothing(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	_, err := f.switcher().Switch(ctx, "ws", cloudswitch.Request{Compute: cloudswitch.Compute{Provider: cloudswitch.Hetzner}})
	if !errors.Is(err, cloudswitch.ErrConfirmRequired) {
		t.Fatalf("got %v; want ErrConfirmRequired", err)
	}
	f.requireNoWrites()
	f.requireNoProviderCalls()
}

// Every VM a switch creates carries the ownership the drivers tag it with.
func TestProvisionRequestCarriesOwnershipAndAStableToken(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	f.hz.LoseResponse(memprovider.OpProvision, 1, memprovider.ErrUnavailable) // created, reply lost
	res, err := f.switcher(cloudswitch.WithOwner("acme-prod")).Switch(ctx, "ws", toHetzner)
	require.NoError(t, err)
	var tokens []string
	for _, c := range f.hz.Calls() {
		if c.Op == memprovider.OpProvision {
			tokens = append(tokens, c.Token)
		}
	}
	if len(tokens) != 2 || tokens[0] != tokens[1] || tokens[0] == "" {
		t.Fatalf("provision tokens %v; want the same token on the retry", tokens)
	}
	if len(f.hz.Live()) != 1 {
		t.Fatalf("a retried provision created %d VMs; want 1", len(f.hz.Live()))
	}
	if res.Provisioned.WorkspaceID != "ws" || res.Provisioned.Token != tokens[0] {
		t.Fatalf("provisioned VM lacks its ownership: %+v", res.Provisioned)
	}
	if got := f.hz.Instances(ctx, "acme-prod"); got == nil {
		t.Fatal("nil iterator")
	}
	n := 0
	for inst, err := range f.hz.Instances(ctx, "acme-prod") {
		require.NoError(t, err)
		if inst.ID == res.Provisioned.ID {
			n++
		}
	}
	if n != 1 {
		t.Fatal("the VM is not listed under the switcher's owner")
	}
}

func TestFirstVMIsProvisionedThroughTheJournal(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.Hetzner, "cpx21", false)
	res, err := f.switcher().Switch(ctx, "ws", cloudswitch.Request{})
	if err != nil || res.Provisioned == nil || res.Switched {
		t.Fatalf("a workspace without a VM must get one, on its provider: %+v, %v", res, err)
	}
	if claim, prov := f.log.index("store.update"), f.log.index("hetzner.provision"); claim > prov {
		t.Fatalf("the VM was created before the intent was journaled: %v", f.log.all())
	}
	f.requireOnlyRecordedVM("ws")
	f.log.reset()
	_, err = f.switcher(cloudswitch.WithProvisioning(false)).Switch(ctx, "ws", cloudswitch.Request{})
	require.NoError(t, err)
	f.requireNoProviderCalls()
}

// A refusal met by Resume proves nothing: the interrupted run may already
// have destroyed the old VM (its answer lost). Undoing the switch would leave
// a record naming a VM that is gone — or, make-before-break, no VM at all —
// so the switch stays journaled until the refusal is lifted.
func TestResumeNeverUndoesASwitchWhoseOldVMMayBeGone(t *testing.T) {
	ctx := t.Context()
	forEachStrategy(t, func(t *testing.T, strategy cloudswitch.Strategy) {
		f := newFixture(t)
		seeded := f.seed("ws", cloudswitch.AWS, "t3.medium", true)
		// The stop takes effect but its answer is lost, then the
		// cloud throttles until the retries run out.
		f.aws.LoseResponse(memprovider.OpDeprovision, 1, memprovider.ErrUnavailable)
		f.aws.FailNext(memprovider.OpDeprovision, 2, memprovider.ErrThrottled)
		sw := f.switcher(cloudswitch.WithStrategy(strategy))
		_, err := sw.Switch(ctx, "ws", toHetzner)
		requireIncomplete(t, err, cloudswitch.StageDeprovision)
		if f.aws.Exists(seeded.Instance.ID) {
			t.Fatal("the lost stop should have destroyed the old VM")
		}

		f.aws.FailNext(memprovider.OpDeprovision, 1, memprovider.ErrDenied)
		res, err := sw.Resume(ctx, "ws")
		if res.RolledBack {
			t.Fatalf("Resume undid a switch whose old VM is gone: %+v", f.get("ws"))
		}
		requireIncomplete(t, err, cloudswitch.StageDeprovision)
		if w := f.get("ws"); w.Pending == nil {
			t.Fatal("the switch must stay journaled")
		}
		if res, err := sw.Resume(ctx, "ws"); err != nil || !res.Switched {
			t.Fatalf("once the refusal is lifted Resume must finish the switch: %+v, %v", res, err)
		}
		f.requireOnlyRecordedVM("ws")
	})
}

// A hook that completed is journaled, so a resumed switch never runs it
// again — against an old VM that may already be gone, where a backup hook
// would fail and block the switch for good.
func TestResumeDoesNotRerunAHookThatCompleted(t *testing.T) {
	ctx := t.Context()
	forEachStrategy(t, func(t *testing.T, strategy cloudswitch.Strategy) {
		f := newFixture(t)
		seeded := f.seed("ws", cloudswitch.AWS, "t3.medium", true)
		f.aws.LoseResponse(memprovider.OpDeprovision, 1, memprovider.ErrUnavailable)
		f.aws.FailNext(memprovider.OpDeprovision, 2, memprovider.ErrThrottled)
		calls := 0
		hooks := cloudswitch.Hooks{BeforeDeprovision: func(_ context.Context, w cloudswitch.Workspace) error {
			calls++
			if calls > 1 {
				return errors.New("backup failed: the VM to back up is gone")
			}
			return nil
		}}
		sw := f.switcher(cloudswitch.WithStrategy(strategy), cloudswitch.WithHooks(hooks))
		_, err := sw.Switch(ctx, "ws", toHetzner)
		requireIncomplete(t, err, cloudswitch.StageDeprovision)
		if f.aws.Exists(seeded.Instance.ID) {
			t.Fatal("the lost stop should have destroyed the old VM")
		}
		if w := f.get("ws"); !w.Pending.HookDone {
			t.Fatalf("the journal must record that the hook completed: %+v", w.Pending)
		}
		res, err := sw.Resume(ctx, "ws")
		if err != nil || !res.Switched {
			t.Fatalf("Resume must finish the switch without the hook: %+v, %v", res, err)
		}
		if calls != 1 {
			t.Fatalf("the hook ran %d times; a completed hook must not run again", calls)
		}
		f.requireOnlyRecordedVM("ws")
	})
}

// The same for make-before-break's new VM: a refused provision on Resume
// does not prove that no VM exists for the token, since the interrupted run
// may have created it before losing the answer.
func TestResumeNeverAbandonsAVMAnEarlierRunMayHaveCreated(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	f.hz.LoseResponse(memprovider.OpProvision, 1, memprovider.ErrUnavailable) // created, answer lost
	f.hz.FailNext(memprovider.OpProvision, 2, memprovider.ErrThrottled)
	sw := f.switcher(cloudswitch.WithStrategy(cloudswitch.MakeBeforeBreak))
	_, err := sw.Switch(ctx, "ws", toHetzner)
	requireIncomplete(t, err, cloudswitch.StageProvision)
	if len(f.hz.Live()) != 1 {
		t.Fatal("the lost provision should have created the new VM")
	}
	f.hz.FailNext(memprovider.OpProvision, 1, memprovider.ErrDenied)
	res, err := sw.Resume(ctx, "ws")
	if res.RolledBack {
		t.Fatalf("Resume abandoned the switch and with it VM %s, which no record names", f.hz.Live()[0].ID)
	}
	requireIncomplete(t, err, cloudswitch.StageProvision)
	if res, err := sw.Resume(ctx, "ws"); err != nil || !res.Switched {
		t.Fatalf("once the refusal is lifted Resume must finish the switch: %+v, %v", res, err)
	}
	f.requireOnlyRecordedVM("ws")
}

// A journal this version cannot act on is refused, never guessed at.
func TestResumeRefusesAnIntentItCannotRead(t *testing.T) {
	ctx := t.Context()
	for name, corrupt := range map[string]func(*cloudswitch.Intent){
		"unknown phase":              func(in *cloudswitch.Intent) { in.Phase = "teleport" },
		"unknown strategy":           func(in *cloudswitch.Intent) { in.Strategy = "sideways" },
		"provisioning without token": func(in *cloudswitch.Intent) { in.Token = "" },
		"provision phase, no VM":     func(in *cloudswitch.Intent) { in.Provision = false },
		"committed rollback":         func(in *cloudswitch.Intent) { in.Committed, in.Phase = true, cloudswitch.PhaseRollback },
		"deprovision without old VM": func(in *cloudswitch.Intent) { in.Phase, in.Old = cloudswitch.PhaseDeprovision, nil },
		"no target provider":         func(in *cloudswitch.Intent) { in.To.Provider = "" },
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			seeded := f.seed("ws", cloudswitch.AWS, "t3.medium", true)
			in := &cloudswitch.Intent{ID: "0123456789abcdef0123456789abcdef", Strategy: cloudswitch.MakeBeforeBreak,
				Phase: cloudswitch.PhaseProvision, From: seeded.Compute, Old: seeded.Instance,
				To:        cloudswitch.Compute{Provider: cloudswitch.Hetzner, InstanceType: "cpx31"},
				Provision: true, Token: "0123456789abcdef0123456789abcdef", Holder: "h", Claims: 1}
			corrupt(in)
			seeded.Pending = in
			_, err := f.mem.Update(ctx, seeded)
			require.NoError(t, err)
			f.log.reset()
			_, err = f.switcher().Resume(ctx, "ws")
			requireAbort(t, err, cloudswitch.StageValidate)
			f.requireNoWrites()
			f.requireNoProviderCalls()
		})
	}
}
