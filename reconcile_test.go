package cloudswitch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
	"github.com/cloudswitch/cloudswitch/store/memstore"
)

// newRecWorld is the world of the Reconciler's specs: a store that counts
// its reads, clouds that list in pages of 2, and a clock the test moves.
// Its Reconcilers judge VMs older than an hour.
func newRecWorld(t *testing.T) *world[*countingStore] {
	t.Helper()
	return newWorld(t, newCountingStore, onTestClock(), withCloudOptions(memprovider.WithPageSize(2)),
		withReconcilerOptions(cloudswitch.WithGracePeriod(time.Hour)))
}

// ids names instances as provider/id, for messages.
func ids(insts []cloudswitch.Instance) []string {
	var out []string
	for _, i := range insts {
		out = append(out, i.Provider+"/"+i.ID)
	}
	return out
}

func TestReconcileReportsOnlyTrueOrphans(t *testing.T) {
	ctx := t.Context()
	w := newRecWorld(t)
	w.workspace("referenced", cloudswitch.AWS)
	gone := w.workspace("deleted-later", cloudswitch.Hetzner)
	require.NoError(t, w.mem.Delete(ctx, "deleted-later")) // the record is gone, its VM runs on
	stray := w.aws.Add(cloudswitch.DefaultOwner, "referenced", cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"})
	w.aws.Add("another-installation", "x", cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"})
	w.gcp.Add("", "", cloudswitch.Compute{Provider: cloudswitch.GCP, InstanceType: "e2-small"}) // untagged, someone's own
	w.advance(2 * time.Hour)
	young := w.hz.Add(cloudswitch.DefaultOwner, "referenced", cloudswitch.Compute{Provider: cloudswitch.Hetzner, InstanceType: "cpx31"})

	rep, err := w.reconciler().Reconcile(ctx)
	require.NoError(t, err)
	want := []string{"aws/" + stray.ID, "hetzner/" + gone.Instance.ID}
	if got := ids(rep.Orphans); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("orphans %v; want %v (not the referenced VM, not another owner's, not the untagged one, not the young %s)", got, want, young.ID)
	}
	if len(rep.Deleted) != 0 || !w.aws.Exists(stray.ID) || !w.hz.Exists(gone.Instance.ID) {
		t.Fatal("the default policy deleted orphans; it must only report them")
	}
	if rep.Listed["aws"] != 2 || rep.Listed["hetzner"] != 2 || rep.Listed["gcp"] != 0 {
		t.Fatalf("listed %v; want aws 2, hetzner 2, gcp 0 (only the owner's VMs)", rep.Listed)
	}
}

// A Reconciler lists the VMs of the owner its Switcher creates them with.
func TestReconcileListsTheOwnerOfItsResumeOptions(t *testing.T) {
	ctx := t.Context()
	w := newRecWorld(t)
	mine := w.aws.Add("acme-prod", "gone", cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"})
	w.aws.Add(cloudswitch.DefaultOwner, "gone", cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"})
	w.advance(2 * time.Hour)

	rep, err := w.reconciler(cloudswitch.WithResumeOptions(cloudswitch.WithOwner("acme-prod"))).Reconcile(ctx)
	require.NoError(t, err)
	if got := ids(rep.Orphans); len(got) != 1 || got[0] != "aws/"+mine.ID || rep.Listed["aws"] != 1 {
		t.Fatalf("listed %v, orphans %v; want only acme-prod's VM aws/%s", rep.Listed, got, mine.ID)
	}
}

func TestReconcileDeletesOrphansOnlyWhenTold(t *testing.T) {
	ctx := t.Context()
	w := newRecWorld(t)
	ref := w.workspace("ws", cloudswitch.AWS)
	stray := w.aws.Add(cloudswitch.DefaultOwner, "ws", cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"})
	w.advance(2 * time.Hour)
	rep, err := w.reconciler(cloudswitch.WithDeleteOrphans(true)).Reconcile(ctx)
	require.NoError(t, err)
	if got := ids(rep.Deleted); len(got) != 1 || got[0] != "aws/"+stray.ID || w.aws.Exists(stray.ID) {
		t.Fatalf("deleted %v; want exactly the orphan %s, destroyed", got, stray.ID)
	}
	if !w.aws.Exists(ref.Instance.ID) {
		t.Fatal("the Reconciler destroyed a VM the store references")
	}
}

func TestReconcileNeverJudgesVMsOfAnUnreadableWorkspace(t *testing.T) {
	ctx := t.Context()
	w := newRecWorld(t)
	w.workspace("ok", cloudswitch.AWS)
	w.workspace("flaky", cloudswitch.AWS)
	s1 := w.aws.Add(cloudswitch.DefaultOwner, "flaky", cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"})
	w.aws.Add(cloudswitch.DefaultOwner, "flaky", cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"})
	w.advance(2 * time.Hour)
	w.store.failOn = map[string]error{"flaky": errors.New("connection reset")}
	rep, err := w.reconciler(cloudswitch.WithDeleteOrphans(true)).Reconcile(ctx)
	if err == nil || len(rep.Errors) != 1 || !strings.Contains(err.Error(), "flaky") {
		t.Fatalf("got %v (%d errors); want one error naming the unreadable workspace", err, len(rep.Errors))
	}
	if len(rep.Orphans) != 0 || len(rep.Deleted) != 0 || !w.aws.Exists(s1.ID) {
		t.Fatalf("VMs of a workspace that could not be read were judged: orphans %v deleted %v", ids(rep.Orphans), ids(rep.Deleted))
	}
}

func TestReconcileReportsWhatAFailedListingSaw(t *testing.T) {
	ctx := t.Context()
	w := newRecWorld(t)
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		w.workspace(id, cloudswitch.AWS)
	}
	w.advance(2 * time.Hour)
	w.aws.Inject(memprovider.OpList, 1, memprovider.Fault{}) // page 1 fine
	w.aws.FailNext(memprovider.OpList, 1, memprovider.ErrUnavailable)
	// Make one recorded VM vanish: a complete listing would call it dangling.
	rec, _ := w.mem.Get(ctx, "e")
	_ = w.aws.Deprovision(ctx, *rec.Instance)
	rep, err := w.reconciler().Reconcile(ctx)
	if !errors.Is(err, cloudswitch.ErrTransient) {
		t.Fatalf("got %v; want the listing's error", err)
	}
	if rep.Listed["aws"] != 2 {
		t.Fatalf("listed %d aws VMs; want the 2 of the page that arrived", rep.Listed["aws"])
	}
	if len(rep.Dangling) != 0 || len(rep.Orphans) != 0 {
		t.Fatalf("an incomplete listing was taken for the truth: dangling %v orphans %v", ids(rep.Dangling), ids(rep.Orphans))
	}
}

func TestReconcileReportsDanglingRecords(t *testing.T) {
	ctx := t.Context()
	w := newRecWorld(t)
	w.workspace("fine", cloudswitch.GCP)
	lost := w.workspace("lost", cloudswitch.GCP)
	require.NoError(t, w.gcp.Deprovision(ctx, *lost.Instance)) // destroyed in the console
	w.advance(2 * time.Hour)
	rep, err := w.reconciler(cloudswitch.WithDeleteOrphans(true)).Reconcile(ctx)
	require.NoError(t, err)
	if len(rep.Dangling) != 1 || rep.Dangling[0].ID != lost.Instance.ID || rep.Dangling[0].WorkspaceID != "lost" {
		t.Fatalf("dangling %+v; want the record of workspace lost", rep.Dangling)
	}
	if after, _ := w.mem.Get(ctx, "lost"); after.Instance == nil || after.Version != lost.Version {
		t.Fatal("a dangling record was 'fixed' silently; it must only be reported")
	}
}

func TestReconcileResumesExpiredIntentsOnly(t *testing.T) {
	ctx := t.Context()
	w := newRecWorld(t)
	w.workspace("stuck", cloudswitch.AWS)
	w.workspace("running", cloudswitch.AWS)
	w.hz.FailNext(memprovider.OpProvision, 3, memprovider.ErrUnavailable)
	sw := w.switcher()
	if _, err := sw.Switch(ctx, "stuck", toHetzner); err == nil {
		t.Fatal("expected an incomplete switch")
	}
	// A switch of "running" holds a fresh lease (its process is still busy).
	stuck, _ := w.mem.Get(ctx, "stuck")
	running, _ := w.mem.Get(ctx, "running")
	held := *stuck.Pending
	held.ID, held.Holder, held.Token = "feedface", "other-process", "feedfacefeedfacefeedfacefeedface"
	held.LeaseExpires = w.clock().Add(time.Minute)
	held.Old = running.Instance
	held.Phase = cloudswitch.PhaseDeprovision
	held.Committed = false
	held.From = running.Compute
	running.Pending = &held
	_, err := w.mem.Update(ctx, running)
	require.NoError(t, err)

	rep, err := w.reconciler().Reconcile(ctx)
	require.NoError(t, err)
	if strings.Join(rep.Resumed, ",") != "stuck" || rep.Pending != 1 {
		t.Fatalf("resumed %v, pending %d; want stuck resumed and running left to its holder", rep.Resumed, rep.Pending)
	}
	if after, _ := w.mem.Get(ctx, "stuck"); after.Pending != nil || after.Instance == nil || after.Instance.Provider != "hetzner" {
		t.Fatalf("the expired switch was not finished: %+v", after)
	}
	if after, _ := w.mem.Get(ctx, "running"); after.Pending == nil || after.Pending.Holder != "other-process" {
		t.Fatal("the Reconciler took over a switch whose lease has not expired")
	}
}

func TestReconcileTreatsVMsHeldByAPendingIntentAsOurs(t *testing.T) {
	ctx := t.Context()
	w := newRecWorld(t)
	w.workspace("ws", cloudswitch.AWS)
	entered, release := make(chan struct{}), make(chan struct{})
	sw := w.switcher(cloudswitch.WithStrategy(cloudswitch.MakeBeforeBreak), cloudswitch.WithLease(3*time.Hour),
		cloudswitch.WithHooks(cloudswitch.Hooks{BeforeDeprovision: func(context.Context, cloudswitch.Workspace) error {
			close(entered)
			<-release
			return nil
		}}))
	done := make(chan error)
	go func() { _, err := sw.Switch(ctx, "ws", toHetzner); done <- err }()
	<-entered // the new VM exists; the record does not name it yet
	w.advance(2 * time.Hour)
	rep, err := w.reconciler(cloudswitch.WithDeleteOrphans(true)).Reconcile(ctx)
	close(release)
	require.NoError(t, err)
	if len(rep.Orphans) != 0 {
		t.Fatalf("a VM held by a pending intent was called an orphan: %v", ids(rep.Orphans))
	}
	require.NoError(t, <-done)
}

func TestReconcileReadsEachWorkspaceOnce(t *testing.T) {
	ctx := t.Context()
	w := newRecWorld(t)
	w.workspace("ws", cloudswitch.AWS)
	// The same workspace has VMs on three providers (one referenced, two
	// young leftovers): one read serves them all.
	w.hz.Add(cloudswitch.DefaultOwner, "ws", cloudswitch.Compute{Provider: cloudswitch.Hetzner, InstanceType: "cpx31"})
	w.gcp.Add(cloudswitch.DefaultOwner, "ws", cloudswitch.Compute{Provider: cloudswitch.GCP, InstanceType: "e2-small"})
	w.store.gets = nil
	_, err := w.reconciler().Reconcile(ctx)
	require.NoError(t, err)
	if n := w.store.gets["ws"]; n != 1 {
		t.Fatalf("workspace read %d times in one pass; want 1", n)
	}
}

func TestReconcileStopsPromptlyWhenCancelled(t *testing.T) {
	ctx := t.Context()
	w := newRecWorld(t)
	for _, id := range []string{"a", "b", "c", "d"} {
		w.workspace(id, cloudswitch.AWS)
	}
	w.aws.SetLatency(time.Hour)
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	done := make(chan error)
	go func() { _, err := w.reconciler().Reconcile(cctx); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v; want the pass to end with the context's error", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Reconcile ignored its context")
	}
}

func TestReconcileRefusesBadConfiguration(t *testing.T) {
	st := memstore.New()
	aws := map[string]cloudswitch.Provider{"aws": memprovider.New("aws")}
	for name, opts := range map[string]struct {
		providers map[string]cloudswitch.Provider
		opts      []cloudswitch.ReconcilerOption
	}{
		"no providers":          {nil, nil},
		"negative grace period": {aws, []cloudswitch.ReconcilerOption{cloudswitch.WithGracePeriod(-time.Minute)}},
		"bad owner":             {aws, []cloudswitch.ReconcilerOption{cloudswitch.WithResumeOptions(cloudswitch.WithOwner("Bad Owner"))}},
		"zero concurrency":      {aws, []cloudswitch.ReconcilerOption{cloudswitch.WithConcurrency(0)}},
	} {
		if r, err := cloudswitch.NewReconciler(st, opts.providers, opts.opts...); err == nil || r != nil {
			t.Errorf("%s: NewReconciler returned %v, %v; want no Reconciler and an error", name, r, err)
		}
	}
}

func TestSwitcherReconcilerRefusesBadConfiguration(t *testing.T) {
	sw, err := cloudswitch.New(memstore.New(), map[string]cloudswitch.Provider{"aws": memprovider.New("aws")})
	require.NoError(t, err)
	for name, opt := range map[string]cloudswitch.ReconcilerOption{
		"negative grace period": cloudswitch.WithGracePeriod(-time.Minute),
		"zero concurrency":      cloudswitch.WithConcurrency(0),
		"resume options":        cloudswitch.WithResumeOptions(cloudswitch.WithLease(time.Hour)),
	} {
		if r, err := sw.Reconciler(opt); err == nil || r != nil {
			t.Errorf("%s: Switcher.Reconciler returned %v, %v; want no Reconciler and an error", name, r, err)
		}
	}
}

func TestReconcileReportsWorkspacesOnProvidersWithoutDriver(t *testing.T) {
	ctx := t.Context()
	w := newRecWorld(t)
	w.workspace("on-gcp", cloudswitch.GCP)
	w.advance(2 * time.Hour)
	awsOnly := map[string]cloudswitch.Provider{cloudswitch.AWS: w.aws}
	rep, err := w.reconcilerOver(awsOnly, cloudswitch.WithDeleteOrphans(true)).Reconcile(ctx)
	if !errors.Is(err, cloudswitch.ErrUnknownProvider) {
		t.Fatalf("got %v; want a report that gcp workspaces could not be checked", err)
	}
	if len(rep.Dangling) != 0 {
		t.Fatalf("VMs of a provider without driver were taken for gone: %v", ids(rep.Dangling))
	}
}

func TestReconcileLogsAndObservesOrphans(t *testing.T) {
	ctx := t.Context()
	w := newRecWorld(t)
	w.workspace("ws", cloudswitch.AWS)
	stray := w.aws.Add(cloudswitch.DefaultOwner, "ws", cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium", Region: "eu-west-1"})
	w.advance(2 * time.Hour)
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	var orphans []cloudswitch.OrphanEvent
	obs := &orphanRecorder{events: &orphans}
	_, err := w.reconciler(cloudswitch.WithDeleteOrphans(true),
		cloudswitch.WithResumeOptions(cloudswitch.WithLogger(logger), cloudswitch.WithObserver(obs))).Reconcile(ctx)
	require.NoError(t, err)
	if len(orphans) != 1 || orphans[0].Instance.ID != stray.ID || !orphans[0].Deleted || orphans[0].Reason == "" {
		t.Fatalf("orphan events %+v; want one, deleted, with its reason", orphans)
	}
	found := false
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var rec map[string]any
		_ = json.Unmarshal([]byte(line), &rec)
		if rec["level"] == "WARN" && rec["instance"] == stray.ID {
			found = rec["provider"] == "aws" && rec["region"] == "eu-west-1" && rec["workspace"] == "ws" && rec["created_at"] != nil
		}
	}
	if !found {
		t.Fatalf("no WARN line lets an operator find the leaked VM by hand:\n%s", buf.String())
	}
}

type orphanRecorder struct {
	cloudswitch.NopObserver
	events *[]cloudswitch.OrphanEvent
}

func (o *orphanRecorder) OrphanFound(_ context.Context, e cloudswitch.OrphanEvent) {
	*o.events = append(*o.events, e)
}

// An orphan's deletion is reported as a deprovision stage, with its retries,
// as a switch's is: an operator sees every VM the Reconciler destroys, and
// every attempt.
func TestReconcileReportsTheStagesAndRetriesOfAnOrphansDeletion(t *testing.T) {
	ctx := t.Context()
	w := newRecWorld(t)
	w.workspace("ws", cloudswitch.AWS)
	stray := w.aws.Add(cloudswitch.DefaultOwner, "ws", cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"})
	w.advance(2 * time.Hour)
	w.aws.FailNext(memprovider.OpDeprovision, 1, memprovider.ErrThrottled)
	var l eventLog
	r := newReconciler(t, w.store, w.providers(), cloudswitch.WithGracePeriod(time.Hour), cloudswitch.WithDeleteOrphans(true),
		cloudswitch.WithResumeOptions(cloudswitch.WithClock(w.clock), cloudswitch.WithObserver(&l),
			cloudswitch.WithRetryPolicy(cloudswitch.RetryPolicy{InitialInterval: time.Millisecond, MaxInterval: time.Millisecond, MaxAttempts: 3})))
	rep, err := r.Reconcile(ctx)
	require.NoError(t, err)
	require.Len(t, rep.Deleted, 1)
	want := []string{"stage-start deprovision", "retry deprovision attempt=1", "stage-end deprovision err=false"}
	require.Len(t, l.lines, len(want), "events: %q", l.lines)
	for i, line := range l.lines {
		require.Truef(t, strings.HasPrefix(line, want[i]), "event %d is %q; want %q", i, line, want[i])
	}
	require.Len(t, l.stage, 1)
	if e := l.stage[0]; e.WorkspaceID != "ws" || e.Provider != cloudswitch.AWS || e.InstanceID != stray.ID || e.Attempts != 2 || e.IntentID != "" {
		t.Errorf("deprovision stage event %+v; want workspace ws, aws/%s, 2 attempts, no intent", e, stray.ID)
	}
}
