// Package storetest checks a cloudswitch.Store against the contract the
// switch protocol relies on, as testing/fstest.TestFS checks a file system:
// run it on your own Store.
//
//	func TestMyStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) cloudswitch.Store { return newEmptyStore(t) })
//	}
//
// The store must also implement Creator, so the suite can seed workspaces.
// Besides the storage contract — ErrNotFound versus ErrConflict, exactly one
// winner among concurrent compare-and-swap writes, no lost update, copies,
// Pending — Run drives real switches through the store (with in-memory
// providers): a crash at every step, random faults, concurrent switchers,
// and a deterministic simulation of switchers, resumers, reconcilers and
// users under faults at every call, whose failures replay from their seed
// (SIM_SEED=n on the same go test command).
package storetest

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/sim"
	"github.com/cloudswitch/cloudswitch/internal/switchtest"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
)

// Creator is a Store that can create workspaces: Create stores w and
// returns it with its first Version, or fails with an error matching
// cloudswitch.ErrConflict if the id exists.
type Creator interface {
	Create(ctx context.Context, w cloudswitch.Workspace) (cloudswitch.Workspace, error)
}

// Deleter is a Store that can delete workspaces; the suite checks it when
// present.
type Deleter interface {
	Delete(ctx context.Context, id string) error
}

// Options tune Run.
type Options struct {
	// Concurrency is the number of goroutines racing on one row (default 16).
	Concurrency int
	// RandomRounds is the number of rounds of the random-fault switch suite
	// (default 100; negative: skip it).
	RandomRounds int
	// SkipSwitcher skips the suites that drive real switches through the
	// store.
	SkipSwitcher bool

	// Delete removes a workspace, for the clause that a workspace deleted
	// and created again never repeats a version (default: the store's own
	// Delete, when it implements Deleter; without either the clause is
	// skipped).
	Delete func(ctx context.Context, st cloudswitch.Store, id string) error
	// Reopen returns another Store on the database of st — another pool,
	// as another replica would open it — for the clause that every handle
	// on one database has the same installation id. Without it that check
	// is skipped.
	Reopen func(t *testing.T, st cloudswitch.Store) cloudswitch.Store
	// Corrupt makes the stored record of id undecodable (a column of
	// invalid JSON, say), for the clause that a BatchGetter reports such a
	// record for its id alone. Without it that check is skipped.
	Corrupt func(t *testing.T, st cloudswitch.Store, id string)
	// SimulationSeeds is the number of seeds of the deterministic
	// simulation run over the store (default 3; negative: skip it). The
	// environment widens it: SIM_SEEDS=n, or SIM_SEED=n for one seed.
	SimulationSeeds int
}

// Run runs the suite; newStore returns an empty store for one subtest.
func Run(t *testing.T, newStore func(t *testing.T) cloudswitch.Store) {
	RunWithOptions(t, newStore, Options{})
}

// RunWithOptions is Run with options.
func RunWithOptions(t *testing.T, newStore func(t *testing.T) cloudswitch.Store, opts Options) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 16
	}
	if opts.RandomRounds == 0 {
		opts.RandomRounds = 100
	}
	if opts.SimulationSeeds == 0 {
		opts.SimulationSeeds = 3
	}
	open := func(t *testing.T) (cloudswitch.Store, Creator) {
		t.Helper()
		st := newStore(t)
		c, ok := st.(Creator)
		if !ok {
			t.Fatalf("storetest: %T does not implement storetest.Creator (Create(ctx, Workspace) (Workspace, error))", st)
		}
		return st, c
	}
	cases := []struct {
		name string
		fn   func(*testing.T, cloudswitch.Store, Creator)
	}{
		{"GetMissingIsNotFound", testGetMissing},
		{"CreateThenGetRoundTripsEveryField", testRoundTrip},
		{"CreateExistingIsConflict", testCreateExisting},
		{"UpdateBumpsVersion", testUpdateBumpsVersion},
		{"UpdateStaleVersionIsConflictAndWritesNothing", testUpdateStale},
		{"UpdateMissingIsNotFoundNotConflict", testUpdateMissing},
		{"UpdateClearsInstanceAndIntent", testUpdateClears},
		{"ConcurrentUpdatesOfOneVersionHaveExactlyOneWinner", func(t *testing.T, st cloudswitch.Store, c Creator) {
			testOneWinner(t, st, c, opts.Concurrency)
		}},
		{"ConcurrentReadModifyWriteLosesNoUpdate", func(t *testing.T, st cloudswitch.Store, c Creator) {
			testNoLostUpdate(t, st, c, opts.Concurrency)
		}},
		{"ReturnedWorkspacesAreCopies", testCopies},
		{"PendingYieldsExactlyThePendingWorkspaces", testPending},
		{"PendingAllowsWritesWhileIterating", testPendingWhileWriting},
		{"CancelledContextIsNeitherNotFoundNorConflict", testCancelled},
		{"DeleteRemovesTheWorkspace", testDelete},
		{"DeleteIfIsCompareAndSwap", testDeleteIf},
		{"RecreatedWorkspaceNeverRepeatsAVersion", func(t *testing.T, st cloudswitch.Store, c Creator) {
			testRecreate(t, st, c, opts.Delete)
		}},
		{"InstallationIDIsValidAndStable", func(t *testing.T, st cloudswitch.Store, _ Creator) {
			testInstallation(t, st, opts.Reopen)
		}},
		{"GetBatchAnswersEachIDInOrder", testBatch},
		{"GetBatchReportsAnUndecodableRecordForItsIDAlone", func(t *testing.T, st cloudswitch.Store, c Creator) {
			testBatchUndecodable(t, st, c, opts.Corrupt)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, cr := open(t)
			c.fn(t, st, cr)
		})
	}
	if opts.SkipSwitcher {
		return
	}
	env := switchtest.Env{
		NewStore: func(t *testing.T) (cloudswitch.Store, switchtest.CreateFunc) {
			st, c := open(t)
			return st, c.Create
		},
		NewClouds: memClouds,
	}
	t.Run("Switcher", func(t *testing.T) {
		t.Run("CrashAtEveryStep", func(t *testing.T) { switchtest.CrashAtEveryStep(t, env) })
		t.Run("ConcurrentSwitches", func(t *testing.T) { switchtest.ConcurrentSwitches(t, env) })
		if opts.RandomRounds > 0 {
			t.Run("RandomFaults", func(t *testing.T) {
				switchtest.RandomFaults(t, env, switchtest.RandomConfig{Rounds: opts.RandomRounds, Workspaces: 5})
			})
		}
		if opts.SimulationSeeds > 0 {
			t.Run("Simulation", func(t *testing.T) { simulate(t, open, opts.SimulationSeeds) })
		}
	})
}

func memClouds(*testing.T) []switchtest.Cloud {
	var clouds []switchtest.Cloud
	for _, name := range []string{cloudswitch.AWS, cloudswitch.Hetzner, cloudswitch.GCP} {
		p := memprovider.New(name, memprovider.WithoutCallLog())
		clouds = append(clouds, switchtest.Cloud{Name: name, Provider: p,
			Live: func(context.Context) ([]cloudswitch.Instance, error) { return p.Live(), nil }})
	}
	return clouds
}

// sample returns a workspace with every field set.
func sample(id string) cloudswitch.Workspace {
	created := time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC)
	return cloudswitch.Workspace{
		ID:      id,
		Compute: cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium", Region: "eu-west-1", Image: "ami-0abc"},
		Instance: &cloudswitch.Instance{Provider: cloudswitch.AWS, ID: "i-0123456789abcdef0", Region: "eu-west-1",
			WorkspaceID: id, Token: "3f2a9c0d1e4b5a6978c0d1e2f3a4b5c6", CreatedAt: created,
			Installation: "acme-prod", InstanceType: "t3.medium", Image: "ami-0abc"},
	}
}

func sampleIntent() *cloudswitch.Intent {
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 987654321, time.UTC)
	return &cloudswitch.Intent{
		ID: "0123456789abcdef0123456789abcdef", Strategy: cloudswitch.MakeBeforeBreak, Phase: cloudswitch.PhaseRollback,
		From:      cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"},
		To:        cloudswitch.Compute{Provider: cloudswitch.Hetzner, InstanceType: "cpx31", Region: "fsn1"},
		Old:       &cloudswitch.Instance{Provider: cloudswitch.AWS, ID: "i-0123456789abcdef0"},
		New:       &cloudswitch.Instance{Provider: cloudswitch.Hetzner, ID: "4711", Region: "fsn1", CreatedAt: t0},
		Provision: true, Token: "0123456789abcdef0123456789abcdef", Owner: "acme", Holder: "h1",
		LeaseExpires: t0.Add(10 * time.Minute), StartedAt: t0, Claims: 2, LastError: "denied",
	}
}

func mustCreate(t *testing.T, c Creator, w cloudswitch.Workspace) cloudswitch.Workspace {
	ctx := t.Context()
	t.Helper()
	got, err := c.Create(ctx, w)
	if err != nil {
		t.Fatalf("Create(%q): %v", w.ID, err)
	}
	return got
}

// diff returns how got differs from want, as cmp.Diff reports it (- want,
// + got), or "" when they are equal. Times compare by instant (cmp uses
// time.Time's Equal), so a store may keep another location or monotonic
// reading.
func diff(want, got any) string { return cmp.Diff(want, got) }

func testGetMissing(t *testing.T, st cloudswitch.Store, _ Creator) {
	ctx := t.Context()
	_, err := st.Get(ctx, "missing")
	if !errors.Is(err, cloudswitch.ErrNotFound) {
		t.Fatalf("Get of a missing workspace: got %v; want ErrNotFound", err)
	}
	if errors.Is(err, cloudswitch.ErrConflict) {
		t.Fatalf("ErrNotFound must not also match ErrConflict: %v", err)
	}
}

func testRoundTrip(t *testing.T, st cloudswitch.Store, c Creator) {
	ctx := t.Context()
	w := sample("rt")
	w.Pending = sampleIntent()
	created := mustCreate(t, c, w)
	if created.Version <= 0 {
		t.Fatalf("Create returned version %d; want a positive first version", created.Version)
	}
	got, err := st.Get(ctx, "rt")
	if err != nil {
		t.Fatal(err)
	}
	w.Version = created.Version
	if d := diff(w, got); d != "" {
		t.Fatalf("Get did not return what Create was given (-given +got):\n%s", d)
	}
	if d := diff(created, got); d != "" {
		t.Fatalf("Create and Get returned different workspaces (-create +get):\n%s", d)
	}
}

func testCreateExisting(t *testing.T, st cloudswitch.Store, c Creator) {
	ctx := t.Context()
	first := mustCreate(t, c, sample("dup"))
	_, err := c.Create(ctx, cloudswitch.Workspace{ID: "dup", Compute: cloudswitch.Compute{Provider: cloudswitch.GCP}})
	if !errors.Is(err, cloudswitch.ErrConflict) {
		t.Fatalf("Create of an existing id: got %v; want ErrConflict", err)
	}
	got, _ := st.Get(ctx, "dup")
	if d := diff(first, got); d != "" {
		t.Fatalf("a refused Create changed the row (-before +after):\n%s", d)
	}
}

func testUpdateBumpsVersion(t *testing.T, st cloudswitch.Store, c Creator) {
	ctx := t.Context()
	w := mustCreate(t, c, sample("up"))
	w.Compute.InstanceType = "t3.large"
	w.Pending = sampleIntent()
	got, err := st.Update(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version <= w.Version {
		t.Fatalf("Update returned version %d after %d; want it bumped", got.Version, w.Version)
	}
	stored, _ := st.Get(ctx, "up")
	if d := diff(got, stored); d != "" {
		t.Fatalf("Update returned one workspace and the store holds another (-returned +stored):\n%s", d)
	}
	w.Version = got.Version
	if d := diff(w, got); d != "" {
		t.Fatalf("Update did not store what it was given (-given +stored):\n%s", d)
	}
}

func testUpdateStale(t *testing.T, st cloudswitch.Store, c Creator) {
	ctx := t.Context()
	w := mustCreate(t, c, sample("stale"))
	next := w
	next.Compute.InstanceType = "t3.large"
	if _, err := st.Update(ctx, next); err != nil {
		t.Fatal(err)
	}
	stale := w
	stale.Compute.InstanceType = "t3.xlarge"
	_, err := st.Update(ctx, stale)
	if !errors.Is(err, cloudswitch.ErrConflict) {
		t.Fatalf("Update at a stale version: got %v; want ErrConflict", err)
	}
	if errors.Is(err, cloudswitch.ErrNotFound) {
		t.Fatalf("a conflict must not match ErrNotFound: %v", err)
	}
	got, _ := st.Get(ctx, "stale")
	if got.Compute.InstanceType != "t3.large" {
		t.Fatalf("a conflicting Update wrote %q", got.Compute.InstanceType)
	}
}

func testUpdateMissing(t *testing.T, st cloudswitch.Store, _ Creator) {
	ctx := t.Context()
	w := sample("ghost")
	w.Version = 1
	_, err := st.Update(ctx, w)
	if !errors.Is(err, cloudswitch.ErrNotFound) || errors.Is(err, cloudswitch.ErrConflict) {
		t.Fatalf("Update of a missing workspace: got %v; want ErrNotFound and not ErrConflict", err)
	}
	if _, err := st.Get(ctx, "ghost"); !errors.Is(err, cloudswitch.ErrNotFound) {
		t.Fatalf("Update created a missing workspace: %v", err)
	}
}

func testUpdateClears(t *testing.T, st cloudswitch.Store, c Creator) {
	ctx := t.Context()
	w := sample("clear")
	w.Pending = sampleIntent()
	w = mustCreate(t, c, w)
	w.Instance, w.Pending = nil, nil
	if _, err := st.Update(ctx, w); err != nil {
		t.Fatal(err)
	}
	got, _ := st.Get(ctx, "clear")
	if got.Instance != nil || got.Pending != nil {
		t.Fatalf("Update did not clear instance and intent: %+v %+v", got.Instance, got.Pending)
	}
}

func testOneWinner(t *testing.T, st cloudswitch.Store, c Creator, n int) {
	ctx := t.Context()
	for round := range 5 {
		id := fmt.Sprintf("race-%d", round)
		w := mustCreate(t, c, sample(id))
		var wins, conflicts atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				next := w.Clone()
				next.Compute.Image = fmt.Sprintf("img-%d", i)
				<-start
				_, err := st.Update(ctx, next)
				switch {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, cloudswitch.ErrConflict):
					conflicts.Add(1)
				default:
					errs <- err
				}
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("a racing Update failed with neither success nor ErrConflict: %v", err)
		}
		if wins.Load() != 1 {
			t.Fatalf("round %d: %d of %d concurrent updates of version %d won; want exactly 1", round, wins.Load(), n, w.Version)
		}
	}
}

func testNoLostUpdate(t *testing.T, st cloudswitch.Store, c Creator, n int) {
	ctx := t.Context()
	const each = 10
	mustCreate(t, c, cloudswitch.Workspace{ID: "counter", Compute: cloudswitch.Compute{Provider: cloudswitch.AWS, Image: "0"}})
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done := 0; done < each; {
				w, err := st.Get(ctx, "counter")
				if err != nil {
					errs <- err
					return
				}
				var v int
				fmt.Sscan(w.Compute.Image, &v)
				w.Compute.Image = fmt.Sprint(v + 1)
				if _, err := st.Update(ctx, w); err == nil {
					done++
				} else if !errors.Is(err, cloudswitch.ErrConflict) {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("read-modify-write failed: %v", err)
	}
	w, _ := st.Get(ctx, "counter")
	if w.Compute.Image != fmt.Sprint(n*each) {
		t.Fatalf("counter is %s after %d successful increments: updates were lost", w.Compute.Image, n*each)
	}
}

func testCopies(t *testing.T, st cloudswitch.Store, c Creator) {
	ctx := t.Context()
	in := sample("copy")
	in.Pending = sampleIntent()
	created := mustCreate(t, c, in)
	in.Instance.ID = "mutated-input"
	in.Pending.Old.ID = "mutated-input"
	created.Instance.ID = "mutated-result"
	created.Pending.Phase = cloudswitch.PhaseDeprovision

	got, _ := st.Get(ctx, "copy")
	if got.Instance.ID != "i-0123456789abcdef0" || got.Pending.Old.ID != "i-0123456789abcdef0" || got.Pending.Phase != cloudswitch.PhaseRollback {
		t.Fatalf("mutating a workspace given to or returned by Create changed the store: %+v %+v", got.Instance, got.Pending)
	}
	got.Instance.Region = "mutated-get"
	again, _ := st.Get(ctx, "copy")
	if again.Instance.Region != "eu-west-1" {
		t.Fatal("mutating a workspace returned by Get changed the store")
	}
	upd, err := st.Update(ctx, again)
	if err != nil {
		t.Fatal(err)
	}
	upd.Pending.New.ID = "mutated-update"
	final, _ := st.Get(ctx, "copy")
	if final.Pending.New.ID != "4711" {
		t.Fatal("mutating a workspace returned by Update changed the store")
	}
}

func testPending(t *testing.T, st cloudswitch.Store, c Creator) {
	ctx := t.Context()
	var want []string
	for i := range 40 {
		w := sample(fmt.Sprintf("p-%02d", i))
		if i%7 == 0 {
			w.Pending = sampleIntent()
			want = append(want, w.ID)
		}
		mustCreate(t, c, w)
	}
	var got []string
	for w, err := range st.Pending(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if w.Pending == nil {
			t.Fatalf("Pending yielded %s, which has no intent", w.ID)
		}
		if d := diff(sampleIntent(), w.Pending); d != "" {
			t.Fatalf("Pending yielded a different intent for %s (-stored +yielded):\n%s", w.ID, d)
		}
		got = append(got, w.ID)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("Pending yielded %v; want %v", got, want)
	}
	// Clearing an intent removes the workspace from Pending.
	w, _ := st.Get(ctx, want[0])
	w.Pending = nil
	if _, err := st.Update(ctx, w); err != nil {
		t.Fatal(err)
	}
	for w, err := range st.Pending(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if w.ID == want[0] {
			t.Fatalf("Pending still yields %s after its intent was cleared", w.ID)
		}
	}
	// Stopping early is allowed.
	for range st.Pending(ctx) {
		break
	}
}

func testPendingWhileWriting(t *testing.T, st cloudswitch.Store, c Creator) {
	ctx := t.Context()
	for i := range 5 {
		w := sample(fmt.Sprintf("pw-%d", i))
		w.Pending = sampleIntent()
		mustCreate(t, c, w)
	}
	n := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		for w, err := range st.Pending(ctx) {
			if err != nil {
				t.Error(err)
				return
			}
			n++
			w.Pending = nil
			if _, err := st.Update(ctx, w); err != nil {
				t.Errorf("Update while iterating Pending: %v", err)
				return
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("writing while iterating Pending deadlocked")
	}
	if n != 5 {
		t.Fatalf("Pending yielded %d of 5 while its rows were written", n)
	}
}

func testCancelled(t *testing.T, st cloudswitch.Store, c Creator) {
	ctx := t.Context()
	w := mustCreate(t, c, sample("cancel"))
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := st.Get(cctx, "cancel"); err == nil || errors.Is(err, cloudswitch.ErrNotFound) || errors.Is(err, cloudswitch.ErrConflict) {
		t.Fatalf("Get with a cancelled context: got %v; want an error that is neither ErrNotFound nor ErrConflict", err)
	}
	if _, err := st.Update(cctx, w); err == nil || errors.Is(err, cloudswitch.ErrNotFound) || errors.Is(err, cloudswitch.ErrConflict) {
		t.Fatalf("Update with a cancelled context: got %v; want an error that is neither ErrNotFound nor ErrConflict", err)
	}
	for _, err := range st.Pending(cctx) {
		if err == nil {
			t.Fatal("Pending with a cancelled context yielded rows without an error")
		}
		break
	}
}

func testDelete(t *testing.T, st cloudswitch.Store, c Creator) {
	ctx := t.Context()
	d, ok := st.(Deleter)
	if !ok {
		t.Skipf("%T does not implement Delete", st)
	}
	mustCreate(t, c, sample("del"))
	if err := d.Delete(ctx, "del"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Get(ctx, "del"); !errors.Is(err, cloudswitch.ErrNotFound) {
		t.Fatalf("Get after Delete: got %v; want ErrNotFound", err)
	}
	if err := d.Delete(ctx, "del"); !errors.Is(err, cloudswitch.ErrNotFound) {
		t.Fatalf("Delete of a missing workspace: got %v; want ErrNotFound", err)
	}
}

// testDeleteIf checks cloudswitch.Deleter, which Decommission needs: a
// delete at a stale version deletes nothing.
func testDeleteIf(t *testing.T, st cloudswitch.Store, c Creator) {
	ctx := t.Context()
	d, ok := st.(cloudswitch.Deleter)
	if !ok {
		t.Skipf("%T does not implement cloudswitch.Deleter", st)
	}
	w := mustCreate(t, c, sample("delif"))
	stale := w
	w.Compute.Image = "changed"
	w, err := st.Update(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.DeleteIf(ctx, stale); !errors.Is(err, cloudswitch.ErrConflict) || errors.Is(err, cloudswitch.ErrNotFound) {
		t.Fatalf("DeleteIf at a stale version: got %v; want ErrConflict", err)
	}
	if _, err := st.Get(ctx, "delif"); err != nil {
		t.Fatalf("a DeleteIf that conflicted deleted the workspace: %v", err)
	}
	if err := d.DeleteIf(ctx, w); err != nil {
		t.Fatalf("DeleteIf at the stored version: %v", err)
	}
	if _, err := st.Get(ctx, "delif"); !errors.Is(err, cloudswitch.ErrNotFound) {
		t.Fatalf("Get after DeleteIf: got %v; want ErrNotFound", err)
	}
	if err := d.DeleteIf(ctx, w); !errors.Is(err, cloudswitch.ErrNotFound) || errors.Is(err, cloudswitch.ErrConflict) {
		t.Fatalf("DeleteIf of a missing workspace: got %v; want ErrNotFound", err)
	}
}

func testRecreate(t *testing.T, st cloudswitch.Store, c Creator, del func(context.Context, cloudswitch.Store, string) error) {
	ctx := t.Context()
	if del == nil {
		d, ok := st.(Deleter)
		if !ok {
			t.Skipf("%T does not implement Delete and Options.Delete is not set: cannot check that a re-created workspace never repeats a version", st)
		}
		del = func(ctx context.Context, _ cloudswitch.Store, id string) error { return d.Delete(ctx, id) }
	}
	const updates = 4
	had := map[int64]bool{}
	w := mustCreate(t, c, sample("aba"))
	had[w.Version] = true
	for i := range updates {
		w.Compute.Image = fmt.Sprintf("first-%d", i)
		var err error
		if w, err = st.Update(ctx, w); err != nil {
			t.Fatal(err)
		}
		had[w.Version] = true
	}
	// A switch that read the first workspace, and is slow.
	stale := w.Clone()
	stale.Compute.Image = "stale write"
	if err := del(ctx, st, "aba"); err != nil {
		t.Fatalf("deleting the workspace: %v", err)
	}
	next := sample("aba")
	next.Compute.Image = "second"
	for i := 0; i <= updates+1; i++ {
		var err error
		if i == 0 {
			next = mustCreate(t, c, next)
		} else {
			next.Compute.Image = fmt.Sprintf("second-%d", i)
			if next, err = st.Update(ctx, next); err != nil {
				t.Fatal(err)
			}
		}
		if had[next.Version] {
			t.Fatalf("the re-created workspace took version %d, which its deleted predecessor had: a compare-and-swap prepared against the old workspace would land on the new one", next.Version)
		}
		if _, err := st.Update(ctx, stale); !errors.Is(err, cloudswitch.ErrConflict) {
			t.Fatalf("an Update prepared against the deleted workspace (version %d) on its successor at version %d: got %v; want ErrConflict", stale.Version, next.Version, err)
		}
	}
	if got, _ := st.Get(ctx, "aba"); got.Compute.Image == "stale write" {
		t.Fatal("an Update prepared against the deleted workspace wrote its successor")
	}
}

// installationIDShape is what cloudswitch.InstallationStore promises.
var installationIDShape = regexp.MustCompile(`^[a-z0-9_-]{1,63}$`)

func testInstallation(t *testing.T, st cloudswitch.Store, reopen func(*testing.T, cloudswitch.Store) cloudswitch.Store) {
	ctx := t.Context()
	is, ok := st.(cloudswitch.InstallationStore)
	if !ok {
		t.Skipf("%T does not implement cloudswitch.InstallationStore", st)
	}
	id, err := is.InstallationID(ctx)
	if err != nil {
		t.Fatalf("InstallationID: %v", err)
	}
	if !installationIDShape.MatchString(id) {
		t.Fatalf("InstallationID returned %q; want 1 to 63 lowercase letters, digits, '-' or '_'", id)
	}
	if again, err := is.InstallationID(ctx); err != nil || again != id {
		t.Fatalf("a second InstallationID returned %q, %v; want %q, the same", again, err, id)
	}
	if reopen == nil {
		t.Log("Options.Reopen is not set: not checking that another handle on the database has the same installation id")
		return
	}
	other, ok := reopen(t, st).(cloudswitch.InstallationStore)
	if !ok {
		t.Fatal("Options.Reopen returned a store that is not an InstallationStore")
	}
	if got, err := other.InstallationID(ctx); err != nil || got != id {
		t.Fatalf("another handle on the same database has installation id %q, %v; want %q: the installations would judge each other's VMs foreign", got, err, id)
	}
}

func testBatch(t *testing.T, st cloudswitch.Store, c Creator) {
	ctx := t.Context()
	bg, ok := st.(cloudswitch.BatchGetter)
	if !ok {
		t.Skipf("%T does not implement cloudswitch.BatchGetter", st)
	}
	a, b := sample("batch-a"), sample("batch-b")
	b.Pending = sampleIntent()
	a, b = mustCreate(t, c, a), mustCreate(t, c, b)

	got, err := bg.GetBatch(ctx, nil)
	if err != nil || len(got) != 0 {
		t.Fatalf("GetBatch of no ids: got %d lookups, %v; want none and no error", len(got), err)
	}
	ids := []string{"batch-b", "batch-missing", "batch-a", "batch-b"}
	got, err = bg.GetBatch(ctx, ids)
	if err != nil {
		t.Fatalf("GetBatch(%v): %v", ids, err)
	}
	if len(got) != len(ids) {
		t.Fatalf("GetBatch(%v) returned %d lookups; want one per id, %d", ids, len(got), len(ids))
	}
	want := map[string]cloudswitch.Workspace{"batch-a": a, "batch-b": b}
	for i, id := range ids {
		l := got[i]
		if l.ID != id {
			t.Fatalf("lookup %d is for %q; want %q: lookups must come in the order of the ids", i, l.ID, id)
		}
		w, exists := want[id]
		switch {
		case !exists && (!errors.Is(l.Err, cloudswitch.ErrNotFound) || errors.Is(l.Err, cloudswitch.ErrConflict)):
			t.Fatalf("lookup of missing %q: got error %v; want ErrNotFound", id, l.Err)
		case exists && l.Err != nil:
			t.Fatalf("lookup of %q: %v", id, l.Err)
		case exists && diff(w, l.Workspace) != "":
			t.Fatalf("lookup of %q returned another workspace than the store holds (-stored +returned):\n%s", id, diff(w, l.Workspace))
		}
	}
	// Each answer is a copy of its own, the duplicate's included.
	got[0].Workspace.Pending.Phase = cloudswitch.PhaseDeprovision
	if got[3].Workspace.Pending.Phase != cloudswitch.PhaseRollback {
		t.Fatal("the two lookups of one id share their intent: mutating one changed the other")
	}
	if again, _ := st.Get(ctx, "batch-b"); again.Pending.Phase != cloudswitch.PhaseRollback {
		t.Fatal("mutating a workspace returned by GetBatch changed the store")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if got, err := bg.GetBatch(cctx, ids); err == nil {
		for _, l := range got {
			if errors.Is(l.Err, cloudswitch.ErrNotFound) {
				t.Fatalf("GetBatch with a cancelled context answered %q not found", l.ID)
			}
		}
	}
}

func testBatchUndecodable(t *testing.T, st cloudswitch.Store, c Creator, corrupt func(*testing.T, cloudswitch.Store, string)) {
	ctx := t.Context()
	bg, ok := st.(cloudswitch.BatchGetter)
	if !ok {
		t.Skipf("%T does not implement cloudswitch.BatchGetter", st)
	}
	if corrupt == nil {
		t.Skip("Options.Corrupt is not set: cannot make a record undecodable")
	}
	mustCreate(t, c, sample("bad-1"))
	good := mustCreate(t, c, sample("bad-2"))
	mustCreate(t, c, sample("bad-3"))
	corrupt(t, st, "bad-1")
	corrupt(t, st, "bad-3")
	got, err := bg.GetBatch(ctx, []string{"bad-1", "bad-2", "bad-3", "bad-4"})
	if err != nil {
		t.Fatalf("GetBatch with undecodable records among the ids failed as a whole: %v; want each reported for its id", err)
	}
	if len(got) != 4 {
		t.Fatalf("GetBatch returned %d lookups; want 4", len(got))
	}
	for _, i := range []int{0, 2} {
		if l := got[i]; l.Err == nil || errors.Is(l.Err, cloudswitch.ErrNotFound) || errors.Is(l.Err, cloudswitch.ErrConflict) {
			t.Fatalf("lookup of undecodable %q: got %v; want an error that is neither ErrNotFound nor ErrConflict", l.ID, l.Err)
		}
	}
	if l := got[1]; l.Err != nil || diff(good, l.Workspace) != "" {
		t.Fatalf("lookup of %q beside undecodable records: error %v; workspace (-stored +returned):\n%s", l.ID, l.Err, diff(good, l.Workspace))
	}
	if l := got[3]; !errors.Is(l.Err, cloudswitch.ErrNotFound) {
		t.Fatalf("lookup of missing %q beside undecodable records: got %v; want ErrNotFound", l.ID, l.Err)
	}
}

// simulate runs the deterministic simulation (switchers, resumers,
// reconcilers, users creating and deleting workspaces, crashes and faults at
// every call) over the store, with in-memory clouds. The store's calls run
// outside the simulation's bubble, so that a database's connections and
// real I/O work as they do in production.
func simulate(t *testing.T, open func(*testing.T) (cloudswitch.Store, Creator), seeds int) {
	cfg := sim.Config{
		Steps:        1000,
		StoreOutside: true,
		NewStore: func() sim.Store {
			st, c := open(t)
			return simStore{Store: st, Creator: c}
		},
	}
	sim.Check(t, cfg, seeds)
}

// simStore is the store under test as the simulator takes it.
type simStore struct {
	cloudswitch.Store
	Creator
}

// Delete lets simulated users delete workspaces when the store can.
func (s simStore) Delete(ctx context.Context, id string) error {
	d, ok := s.Store.(Deleter)
	if !ok {
		return errors.ErrUnsupported
	}
	return d.Delete(ctx, id)
}

// InstallationID passes the store's installation id on, or "" when it has
// none.
func (s simStore) InstallationID(ctx context.Context) (string, error) {
	if is, ok := s.Store.(interface {
		InstallationID(context.Context) (string, error)
	}); ok {
		return is.InstallationID(ctx)
	}
	return "", nil
}
