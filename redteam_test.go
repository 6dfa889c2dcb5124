package cloudswitch_test

// Specs a hostile review found broken: each test names the guarantee of
// doc.go (or of the safety and same-provider contracts) that the scenario
// breaks. They fail on the code they were written against.

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"os/exec"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
	"github.com/cloudswitch/cloudswitch/store/memstore"
)

// legacyRecord creates workspace id on AWS whose record names VM vmID the
// way a record written before instances carried their ownership does: a
// provider and an id, nothing else.
func (w *world[S]) legacyRecord(id, vmID string) {
	w.t.Helper()
	_, err := w.mem.Create(w.t.Context(), cloudswitch.Workspace{ID: id,
		Compute:  cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"},
		Instance: &cloudswitch.Instance{Provider: cloudswitch.AWS, ID: vmID}})
	require.NoError(w.t, err)
	w.log.reset()
}

// Destruction is fenced: the workspace a VM is destroyed (or resized) for
// is the record's own id, known for certain, whether or not the stored
// Instance repeats it. A record that names another workspace's VM (restored
// from a stale backup, an id an emulator reused) must never reach that VM.
func TestDestructionIsFencedByTheRecordsWorkspaceEvenWhenTheStoredInstanceOmitsIt(t *testing.T) {
	ctx := t.Context()
	t.Run("switch", func(t *testing.T) {
		f := newFixture(t)
		theirs := f.seed("theirs", cloudswitch.AWS, "t3.medium", true)
		f.legacyRecord("ws", theirs.Instance.ID)
		_, err := f.switcher().Switch(ctx, "ws", toHetzner)
		require.True(t, f.aws.Exists(theirs.Instance.ID), "a switch of ws destroyed workspace theirs' VM")
		require.ErrorIs(t, err, cloudswitch.ErrNotOurs)
	})
	t.Run("decommission", func(t *testing.T) {
		f := newFixture(t)
		theirs := f.seed("theirs", cloudswitch.AWS, "t3.medium", true)
		f.legacyRecord("ws", theirs.Instance.ID)
		_, err := f.switcher().Decommission(ctx, "ws", cloudswitch.DecommissionRequest{ConfirmDestroy: true})
		require.True(t, f.aws.Exists(theirs.Instance.ID), "decommissioning ws destroyed workspace theirs' VM")
		require.ErrorIs(t, err, cloudswitch.ErrNotOurs)
	})
	t.Run("resize", func(t *testing.T) {
		f := newFixture(t)
		theirs := f.seed("theirs", cloudswitch.AWS, "t3.medium", true)
		f.legacyRecord("ws", theirs.Instance.ID)
		_, err := f.switcher().Switch(ctx, "ws", cloudswitch.Request{Compute: cloudswitch.Compute{InstanceType: "t3.large"}})
		for _, inst := range f.aws.Live() {
			if inst.ID == theirs.Instance.ID {
				require.Equal(t, "t3.medium", inst.InstanceType, "a resize of ws stopped and resized workspace theirs' VM")
			}
		}
		require.ErrorIs(t, err, cloudswitch.ErrNotOurs)
	})
}

// listsUnderAnotherName is a driver whose listing names its VMs' provider
// differently from the name it is registered under (a display name, a
// case difference) — a partial or wrong Instance, as issue 11 #5 found for
// Provision.
type listsUnderAnotherName struct {
	*memprovider.Provider
	name string
}

func (p listsUnderAnotherName) Instances(ctx context.Context, owner string) iter.Seq2[cloudswitch.Instance, error] {
	return func(yield func(cloudswitch.Instance, error) bool) {
		for inst, err := range p.Provider.Instances(ctx, owner) {
			inst.Provider = p.name
			if !yield(inst, err) {
				return
			}
		}
	}
}

// No panics in library code, and none in a goroutine a caller cannot
// recover: a driver that misbehaves gets an error. A listing that names its
// VMs' provider differently from the name the driver is registered under
// (a display name, a case difference — a wrong Instance, as issue 11 #5
// found for Provision) makes the VM the record references (aws, id) look
// like an orphan (AWS, id); pass.destroy then hands it to the retrying
// deprovision, which looks the driver up by the listed name (deprovision.go:
// s.providers[inst.Provider]), gets nil and panics in a deleteOrphans
// goroutine: the whole process dies. (Had the name been another registered
// provider's, the deprovision would go to that other cloud and be reported
// as Deleted when it answers "not found".) The pass runs in a child process
// so that the crash fails this test only.
func TestReconcilerSurvivesADriverThatListsVMsUnderAnotherProviderName(t *testing.T) {
	ctx := t.Context()
	inChildProcess(t, func() {
		f := newFixture(t)
		w := f.seed("ws", cloudswitch.AWS, "t3.medium", true)
		rep, _ := f.reconcilerOver(f.providersWith(cloudswitch.AWS, listsUnderAnotherName{f.aws, "AWS"}),
			cloudswitch.WithDeleteOrphans(true), cloudswitch.WithGracePeriod(0)).Reconcile(ctx)
		require.Empty(t, rep.Deleted, "the Reconciler destroyed a VM a record references")
		require.True(t, f.aws.Exists(w.Instance.ID), "the workspace's recorded VM was destroyed")
	})
}

// inChildProcess runs body in a child test process, so that a panic in a
// goroutine the library started fails the calling test only; the test
// fails if the child crashes or fails.
func inChildProcess(t *testing.T, body func()) {
	t.Helper()
	if os.Getenv("CLOUDSWITCH_REDTEAM_CHILD") == t.Name() {
		body()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), "CLOUDSWITCH_REDTEAM_CHILD="+t.Name())
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "the scenario crashed or failed in its own process:\n%s", out)
}

// nilListing is a driver whose Instances returns no sequence at all.
type nilListing struct{ *memprovider.Provider }

func (nilListing) Instances(context.Context, string) iter.Seq2[cloudswitch.Instance, error] {
	return nil
}

// nilPending is a store whose Pending returns no sequence at all.
type nilPending struct{ *loggingStore }

func (nilPending) Pending(context.Context) iter.Seq2[cloudswitch.Workspace, error] { return nil }

// No panics in library code: a plug-in that returns a nil sequence gets an
// error in the Report. Ranging over a nil iter.Seq2 panics — for a driver
// inside pass.scan's goroutine (reconcile.go, scan: range prov.Instances),
// which kills the process, and for a store in resumeExpired.
func TestReconcilerSurvivesPlugInsThatReturnNoSequence(t *testing.T) {
	ctx := t.Context()
	t.Run("a driver's Instances", func(t *testing.T) {
		inChildProcess(t, func() {
			f := newFixture(t)
			f.seed("ws", cloudswitch.AWS, "t3.medium", true)
			_, err := f.reconcilerOver(f.providersWith(cloudswitch.GCP, nilListing{f.gcp})).Reconcile(ctx)
			require.Error(t, err, "a listing that could not be had must be reported")
		})
	})
	t.Run("a store's Pending", func(t *testing.T) {
		inChildProcess(t, func() {
			f := newFixture(t)
			f.seed("ws", cloudswitch.AWS, "t3.medium", true)
			_, err := newReconciler(t, nilPending{f.store}, f.providers()).Reconcile(ctx)
			require.Error(t, err, "pending intents that could not be listed must be reported")
		})
	})
}

// forgetsTokens is a driver whose listing does not read the token tag back
// (a partial Instance).
type forgetsTokens struct{ *memprovider.Provider }

func (p forgetsTokens) Instances(ctx context.Context, owner string) iter.Seq2[cloudswitch.Instance, error] {
	return func(yield func(cloudswitch.Instance, error) bool) {
		for inst, err := range p.Provider.Instances(ctx, owner) {
			inst.Token = ""
			if !yield(inst, err) {
				return
			}
		}
	}
}

// A VM a pending intent holds is never an orphan. A switch blocked on its
// hook (Report.Blocked) holds its new VM by token only; a listing that does
// not carry the token makes the Reconciler destroy it, although the
// workspace's record is mid-switch and says so. Afterwards the switch can
// never finish: its token names a destroyed VM.
func TestReconcilerNeverDestroysAVMOfAWorkspaceWhoseSwitchIsPending(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	failing := cloudswitch.WithHooks(cloudswitch.Hooks{BeforeDeprovision: func(context.Context, cloudswitch.Workspace) error {
		return errors.New("backup service down")
	}})
	f.store.loseFirstClaim()
	_, err := f.switcher(failing, cloudswitch.WithStrategy(cloudswitch.MakeBeforeBreak)).Switch(ctx, "ws", toHetzner)
	requireIncomplete(t, err, cloudswitch.StageClaim)
	_, err = f.resumer(failing).Resume(ctx, "ws")
	requireIncomplete(t, err, cloudswitch.StageHook)
	require.Len(t, f.hz.Live(), 1, "the resumed make-before-break switch created its VM")
	held := f.hz.Live()[0]
	require.Equal(t, f.get("ws").Pending.Token, held.Token, "the pending intent holds the new VM by its token")

	later := func() time.Time { return time.Now().Add(2 * time.Hour) }
	rep, _ := f.reconcilerOver(f.providersWith(cloudswitch.Hetzner, forgetsTokens{f.hz}), cloudswitch.WithDeleteOrphans(true),
		cloudswitch.WithGracePeriod(0), cloudswitch.WithResumeOptions(cloudswitch.WithClock(later))).Reconcile(ctx)
	require.Len(t, rep.Blocked, 1)
	require.NotNil(t, f.get("ws").Pending, "the switch is still pending")
	require.True(t, f.hz.Exists(held.ID), "the Reconciler destroyed the VM a pending switch holds")
}

// slowPreflight answers preflight after a pause, as a cloud's dry run does
// (or its retries after throttling).
type slowPreflight struct {
	*memprovider.Provider
	pause time.Duration
}

func (p slowPreflight) Preflight(ctx context.Context, req cloudswitch.ProvisionRequest) error {
	time.Sleep(p.pause)
	return p.Provider.Preflight(ctx, req)
}

// No provider call (or hook) of a switch outlives its lease. The lease
// written in the claim is measured from before the installation read and the
// preflight (newIntent), but the run's context from after the claim: the
// holder keeps acting after the lease the journal shows has expired, while a
// resumer — which trusts the journal — may already have taken the switch
// over. With the default retry policy a preflight may take two minutes.
func TestNoCallOfASwitchOutlivesTheLeaseItsJournalShows(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	var deadline, lease time.Time
	hooks := cloudswitch.WithHooks(cloudswitch.Hooks{BeforeDeprovision: func(ctx context.Context, w cloudswitch.Workspace) error {
		deadline, _ = ctx.Deadline()
		lease = w.Pending.LeaseExpires
		return nil
	}})
	slow := f.providersWith(cloudswitch.Hetzner, slowPreflight{f.hz, 50 * time.Millisecond})
	sw := f.switcherOver(slow, hooks, cloudswitch.WithLease(time.Minute))
	_, err := sw.Switch(ctx, "ws", toHetzner)
	require.NoError(t, err)
	require.False(t, deadline.IsZero(), "the hook ran without a deadline")
	require.False(t, deadline.After(lease),
		"the switch acts until %s but its journal says the lease ends at %s (%v earlier): a resumer may take over while it still acts",
		deadline.Format(time.RFC3339Nano), lease.Format(time.RFC3339Nano), deadline.Sub(lease))
}

// recreateAfterProvision deletes and re-creates workspace id just after it
// provisions, as an operator or another service would.
type recreateAfterProvision struct {
	*memprovider.Provider
	mem *memstore.Store
	id  string
}

func (p recreateAfterProvision) Provision(ctx context.Context, req cloudswitch.ProvisionRequest) (cloudswitch.Instance, error) {
	inst, err := p.Provider.Provision(ctx, req)
	if err == nil && req.WorkspaceID == p.id {
		if p.mem.Delete(ctx, p.id) == nil {
			_, _ = p.mem.Create(ctx, cloudswitch.Workspace{ID: p.id,
				Compute: cloudswitch.Compute{Provider: cloudswitch.GCP, InstanceType: "e2-small"}})
		}
	}
	return inst, err
}

// Every VM the library creates is its workspace's Instance or held by its
// pending intent while the workspace's record exists. A workspace deleted
// and created again after the switch created its VM leaves that VM with no
// record pointing at it and no intent holding it: write() reports the
// successor as ErrSwitchInProgress, incomplete() then writes nothing and
// returns IncompleteError ("journaled; Resume finishes it") with no intent
// left anywhere, and the VM is neither destroyed (as vanished() would for a
// deleted workspace) nor journaled.
func TestAVMCreatedForAWorkspaceDeletedAndCreatedAgainMidSwitchIsNotLeftBehind(t *testing.T) {
	ctx := t.Context()
	requireNoUnheldVM := func(t *testing.T, f *world[*loggingStore], err error) {
		t.Helper()
		w := f.get("ws")
		require.Nil(t, w.Instance, "the successor records no VM")
		require.Nil(t, w.Pending, "the successor holds no intent")
		require.Empty(t, f.hz.Live(), "a VM created for the deleted workspace is alive with no record or intent pointing at it, while workspace ws exists")
		var inc *cloudswitch.IncompleteError
		require.False(t, errors.As(err, &inc), "IncompleteError says the switch is journaled, but no intent remains: %v", err)
	}
	t.Run("make-before-break, during the hook", func(t *testing.T) {
		f := newFixture(t)
		f.seed("ws", cloudswitch.AWS, "t3.medium", true)
		hooks := cloudswitch.WithHooks(cloudswitch.Hooks{BeforeDeprovision: func(ctx context.Context, _ cloudswitch.Workspace) error {
			require.NoError(t, f.mem.Delete(ctx, "ws"))
			_, err := f.mem.Create(ctx, cloudswitch.Workspace{ID: "ws", Compute: cloudswitch.Compute{Provider: cloudswitch.GCP, InstanceType: "e2-small"}})
			require.NoError(t, err)
			return nil
		}})
		_, err := f.switcher(hooks, cloudswitch.WithStrategy(cloudswitch.MakeBeforeBreak)).Switch(ctx, "ws", toHetzner)
		require.Error(t, err)
		requireNoUnheldVM(t, f, err)
	})
	t.Run("break-before-make, during the provision", func(t *testing.T) {
		f := newFixture(t)
		f.seed("ws", cloudswitch.AWS, "t3.medium", true)
		sw := f.switcherOver(f.providersWith(cloudswitch.Hetzner, recreateAfterProvision{f.hz, f.mem, "ws"}))
		_, err := sw.Switch(ctx, "ws", toHetzner)
		require.Error(t, err)
		requireNoUnheldVM(t, f, err)
	})
}

// dropsIntent is a Store whose Update stores the workspace but answers with
// a copy that lacks the intent (a store that re-reads the row and cannot
// decode the journal column, say).
type dropsIntent struct{ *loggingStore }

func (s dropsIntent) Update(ctx context.Context, w cloudswitch.Workspace) (cloudswitch.Workspace, error) {
	stored, err := s.loggingStore.Update(ctx, w)
	stored.Pending = nil
	return stored, err
}

// No panics in library code; a plug-in that misbehaves gets an error. A
// store whose successful Update answers without the intent just written makes
// the Switcher dereference a nil intent (run.drive).
func TestAStoreAnsweringAClaimWithoutItsIntentNeverPanicsTheSwitcher(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	sw, err := cloudswitch.New(dropsIntent{f.store}, f.providers(), fastRetries)
	require.NoError(t, err)
	require.NotPanics(t, func() { _, err = sw.Switch(ctx, "ws", toHetzner) }, "a misbehaving store made the Switcher panic")
	require.Error(t, err)
}

// resizesUnderAnotherName is a Resizer that reports the resized VM under
// another provider's name, as wrongName does for Provision.
type resizesUnderAnotherName struct{ *memprovider.Provider }

func (p resizesUnderAnotherName) Resize(ctx context.Context, inst cloudswitch.Instance, typ string) (cloudswitch.Instance, error) {
	out, err := p.Provider.Resize(ctx, inst, typ)
	out.Provider = "elsewhere"
	return out, err
}

// No record ever names a VM of another provider than its compute, and a VM
// its record references is never an orphan. completeInstance refuses a
// provisioned VM reported under another provider's name, but
// completeResized (resize.go) accepts whatever provider the Resizer
// reports: the record then names (elsewhere, id) while the cloud lists
// (aws, id), and the next Reconcile pass destroys the workspace's only VM
// through the aws driver, whose tags agree.
func TestAResizedVMReportedUnderAnotherProviderNameIsNeitherRecordedSoNorDestroyed(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	w := f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	sw := f.switcherOver(f.providersWith(cloudswitch.AWS, resizesUnderAnotherName{f.aws}))
	_, _ = sw.Switch(ctx, "ws", cloudswitch.Request{Compute: cloudswitch.Compute{InstanceType: "t3.large"}})

	_, _ = f.reconciler(cloudswitch.WithDeleteOrphans(true), cloudswitch.WithGracePeriod(0)).Reconcile(ctx)
	require.True(t, f.aws.Exists(w.Instance.ID), "the Reconciler destroyed the workspace's only VM after a resize")
	now := f.get("ws")
	require.NotNil(t, now.Instance)
	require.Equal(t, cloudswitch.AWS, now.Instance.Provider, "the record names a VM of another provider than its compute")
}

// returnsExisting is a driver whose Provision creates the VM asked for but
// answers with another one it already runs (idempotency keyed on the
// workspace instead of the token, say).
type returnsExisting struct {
	*memprovider.Provider
	existing cloudswitch.Instance
}

func (p returnsExisting) Provision(ctx context.Context, req cloudswitch.ProvisionRequest) (cloudswitch.Instance, error) {
	if _, err := p.Provider.Provision(ctx, req); err != nil {
		return cloudswitch.Instance{}, err
	}
	return p.existing, nil
}

// Every VM is its workspace's Instance or held by its intent, and a record
// never names a destroyed VM. A same-provider recreate (make-before-break)
// whose driver answers Provision with the old VM itself destroys that VM
// as the old one and then records it as the new one: the workspace points
// at nothing while the VM really created runs unreferenced. Nothing in
// completeInstance checks that a "new" VM is not the intent's Old.
func TestAProvisionedVMThatIsTheOldVMIsNeverDestroyedAndRecorded(t *testing.T) {
	ctx := t.Context()
	recreate := cloudswitch.Request{Compute: cloudswitch.Compute{Region: "eu-west-1"}, ConfirmRecreate: true}
	t.Run("the switch goes through", func(t *testing.T) {
		f := newFixture(t)
		w := f.seed("ws", cloudswitch.AWS, "t3.medium", true)
		answersWithOld := f.providersWith(cloudswitch.AWS, returnsExisting{f.aws, *w.Instance})
		sw := f.switcherOver(answersWithOld, cloudswitch.WithStrategy(cloudswitch.MakeBeforeBreak))
		_, _ = sw.Switch(ctx, "ws", recreate)
		now := f.get("ws")
		if now.Instance != nil && now.Pending == nil {
			require.True(t, f.aws.Exists(now.Instance.ID), "the record names VM %s, which the switch destroyed as the old VM", now.Instance.ID)
			f.requireOnlyRecordedVM("ws")
			return
		}
		// The switch stays journaled: every live VM is the recorded one or
		// held by the pending intent's token, and the recorded one lives.
		require.NotNil(t, now.Pending)
		require.True(t, f.aws.Exists(now.Instance.ID), "the workspace's recorded VM was destroyed")
		for _, inst := range f.liveOf("ws") {
			require.True(t, inst.ID == now.Instance.ID || inst.Token == now.Pending.Token, "VM %s is neither recorded nor held by the journal", inst.ID)
		}
	})
	t.Run("the hook fails and the switch is undone", func(t *testing.T) {
		// The rollback destroys the "new" VM — the workspace's own — and
		// the switch still reports AbortError: nothing changed.
		f := newFixture(t)
		w := f.seed("ws", cloudswitch.AWS, "t3.medium", true)
		failing := cloudswitch.WithHooks(cloudswitch.Hooks{BeforeDeprovision: func(context.Context, cloudswitch.Workspace) error {
			return errors.New("backup service down")
		}})
		answersWithOld := f.providersWith(cloudswitch.AWS, returnsExisting{f.aws, *w.Instance})
		sw := f.switcherOver(answersWithOld, failing, cloudswitch.WithStrategy(cloudswitch.MakeBeforeBreak))
		_, err := sw.Switch(ctx, "ws", recreate)
		var abort *cloudswitch.AbortError
		if errors.As(err, &abort) {
			require.True(t, f.aws.Exists(w.Instance.ID), "AbortError (nothing changed), yet the workspace's recorded VM was destroyed by the rollback")
		}
		require.True(t, f.aws.Exists(w.Instance.ID), "the workspace's recorded VM was destroyed although its switch was undone")
	})
}

// Validate first: an error that matches ErrInvalid says the target was
// refused before anything was written or destroyed — doc.go's own example
// maps it to "400: the allowlist refused the target" before it looks for
// an IncompleteError. A break-before-make switch whose provision the cloud
// refuses with a *ValidationError after preflight (its catalog changed
// meanwhile) has already destroyed the old VM and committed; the
// IncompleteError it returns unwraps to the driver's *ValidationError, so
// the caller is told to fix a field while the workspace has no VM.
func TestAnErrorMatchingErrInvalidMeansNothingWasWrittenOrDestroyed(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	w := f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	hooks := cloudswitch.WithHooks(cloudswitch.Hooks{BeforeDeprovision: func(context.Context, cloudswitch.Workspace) error {
		// Between preflight and provision the cloud stops offering the type.
		f.hz.SetCatalog(memprovider.Catalog{InstanceTypes: []string{"cax11"}})
		return nil
	}})
	_, err := f.switcher(hooks).Switch(ctx, "ws", toHetzner)
	require.Error(t, err)
	require.False(t, f.aws.Exists(w.Instance.ID), "the old VM was destroyed before the provision")
	require.NotErrorIs(t, err, cloudswitch.ErrInvalid,
		"the switch destroyed the old VM and is journaled, yet its error reads as a request refused before anything was done: %v", err)
}

// Issue 11 #9: Resume must not run the hook against a VM the switch already
// destroyed, or a backup hook that fails on a missing VM blocks the switch
// forever. HookDone closes that for a switch started with the hook; one
// started without it (Hook false) and resumed by a Switcher that has one
// still runs the hook after the old VM is gone — the journal does not say
// the deprovision happened — and with claims > 1 every such resume stays
// incomplete.
func TestResumeNeverRunsTheHookAgainstAnOldVMTheSwitchAlreadyDestroyed(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	w := f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	f.store.failUpdates(func(next cloudswitch.Workspace) (error, bool) {
		if next.Pending != nil && next.Pending.Committed {
			return errors.New("connection reset by peer"), false // the commit never lands
		}
		return nil, false
	})
	_, err := f.switcher().Switch(ctx, "ws", toHetzner)
	requireIncomplete(t, err, cloudswitch.StageCommit)
	require.False(t, f.aws.Exists(w.Instance.ID), "the old VM was destroyed before the commit failed")
	f.store.failUpdates(nil)

	ranOnGoneVM := false
	backup := cloudswitch.WithHooks(cloudswitch.Hooks{BeforeDeprovision: func(_ context.Context, w cloudswitch.Workspace) error {
		if !f.aws.Exists(w.Pending.Old.ID) {
			ranOnGoneVM = true
			return errors.New("backup: the VM to back up does not exist")
		}
		return nil
	}})
	_, err = f.resumer(backup).Resume(ctx, "ws")
	require.False(t, ranOnGoneVM, "Resume ran the BeforeDeprovision hook against a VM the switch had already destroyed")
	require.NoError(t, err)
	f.requireOnlyRecordedVM("ws")
}

// Installations are fenced, and destruction with them: a switch never
// destroys a VM tagged for another installation. The Switcher knows its
// own installation (the store's), but oldInstance passes the recorded
// Instance on as it is, and a record written before instances carried their
// installation (or imported from another installation's database) names
// none — so the driver's installation check is skipped, and a second
// installation sharing the cloud account destroys the first one's VM for a
// workspace of the same id.
func TestASwitchNeverDestroysAVMTaggedForAnotherInstallation(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	theirs := f.seed("ws", cloudswitch.AWS, "t3.medium", true) // installation A: the fixture's store
	require.NotEmpty(t, theirs.Instance.Installation)

	other := memstore.New() // installation B, same cloud account, same owner
	_, err := other.Create(ctx, cloudswitch.Workspace{ID: "ws",
		Compute:  cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"},
		Instance: &cloudswitch.Instance{Provider: cloudswitch.AWS, ID: theirs.Instance.ID, WorkspaceID: "ws"}})
	require.NoError(t, err)
	_, err = newSwitcher(t, other, f.providers(), fastRetries).Switch(ctx, "ws", toHetzner)
	require.True(t, f.aws.Exists(theirs.Instance.ID), "installation B's switch destroyed installation A's VM")
	require.ErrorIs(t, err, cloudswitch.ErrNotOurs)
}

// Resume brings an interrupted switch to one of its two end states. A
// resize of a VM that no longer exists (gone out of band: retired by the
// cloud, deleted in its console) gets ErrInstanceNotFound — which a driver
// returns only when it is sure — but resize() counts it as an unknown
// outcome, so the first run stays journaled, every Resume fails the same
// way for ever, and the pending intent blocks every later switch and the
// workspace's decommission.
func TestAResizeOfAVMThatNoLongerExistsNeverWedgesTheWorkspace(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	w := f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	require.NoError(t, f.aws.Deprovision(ctx, *w.Instance)) // gone out of band
	_, _ = f.switcher().Switch(ctx, "ws", cloudswitch.Request{Compute: cloudswitch.Compute{InstanceType: "t3.large"}})
	for range 3 {
		_, _ = f.resumer().Resume(ctx, "ws")
	}
	require.Nil(t, f.get("ws").Pending, "the resize of a VM that does not exist is still pending after every Resume")
	_, err := f.switcher().Decommission(ctx, "ws", cloudswitch.DecommissionRequest{ConfirmDestroy: true})
	require.NoError(t, err, "the workspace can no longer be decommissioned")
}

func TestAnImagePatternCannotBeEscapedWithDotDot(t *testing.T) {
	err := cloudswitch.DefaultAllowlist().Validate(cloudswitch.Compute{Provider: cloudswitch.GCP, InstanceType: "e2-small",
		Image: "projects/debian-cloud/global/images/../../../attacker-project/global/images/backdoor"})
	require.ErrorIs(t, err, cloudswitch.ErrInvalid)
}

// A hook's error that carries another switch's IncompleteError must not
// make this switch's abort read as "journaled".
func TestAHookErrorCarryingAnIncompleteErrorIsNotThisSwitchsOutcome(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t)
	f.seed("ws", cloudswitch.AWS, "t3.medium", true)
	hooks := cloudswitch.WithHooks(cloudswitch.Hooks{BeforeDeprovision: func(context.Context, cloudswitch.Workspace) error {
		return fmt.Errorf("backup: %w", &cloudswitch.IncompleteError{Stage: cloudswitch.StageCommit, Err: errors.New("another switch")})
	}})
	_, err := f.switcher(hooks).Switch(ctx, "ws", toHetzner)
	var incomplete *cloudswitch.IncompleteError
	require.False(t, errors.As(err, &incomplete), "the switch aborted; nothing of it is journaled: %v", err)
	requireAbort(t, err, cloudswitch.StageHook)
	require.Nil(t, f.get("ws").Pending)
}
