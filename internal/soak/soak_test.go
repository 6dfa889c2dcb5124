package soak

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSoak proves the no-orphan guarantee on real processes. Four worker
// processes share one database and one emulated cloud; each attempts random
// switches and Reconciler passes under injected faults; one is SIGKILLed in
// the middle of a switch and started again with a fresh seed while the
// others go on. Once they are done and the parent has settled what they
// left, every live VM is the one its workspace record names, no intent is
// pending, and no row was lost. A worker that fails, for any reason but the
// planned kill, fails the test.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("the multi-process soak takes tens of seconds; -short skips it")
	}
	began := time.Now()
	deadline := began.Add(budget)
	if d, ok := t.Deadline(); ok && d.Add(-time.Minute).Before(deadline) {
		deadline = d.Add(-time.Minute)
	}
	seed, err := envUint(envSeed, rand.Uint64())
	require.NoError(t, err)
	n, err := envUint(envRounds, defaultRounds)
	require.NoError(t, err)
	rounds := int(n)
	if rounds < 4 {
		t.Fatalf("%s=%d: a worker needs at least 4 rounds, so that one can be killed in the middle of its run", envRounds, rounds)
	}
	t.Logf("seed %d (%s=%d starts a run from it again; the processes interleave differently each time); %d workers, %d rounds each, %d workspaces, lease %v",
		seed, envSeed, seed, workers, rounds, workspaces, lease)
	rng := rand.New(rand.NewPCG(seed, seed^0x5bd1e9955bd1e995))
	// Only a failure guard for the parent's own calls.
	ctx, cancel := context.WithDeadline(t.Context(), deadline.Add(30*time.Second))
	defer cancel()

	f := newFleet(ctx, t)
	t.Logf("created %d workspaces with their first VMs in %v", len(f.ids), time.Since(began).Round(time.Millisecond))

	ps := &procs{t: t}
	defer ps.stopAll()
	config := func(name string, rounds int) workerConfig {
		return workerConfig{Name: name, Database: f.db, ControlURL: f.control, Workspaces: f.ids,
			Seed: rng.Uint64(), Rounds: rounds, Deadline: deadline}
	}
	victim := rng.IntN(workers)
	killAt := rounds/4 + 1 + rng.IntN(rounds/4) // a quarter to half-way through
	var doomed *proc
	for i := range workers {
		at := 0
		if i == victim {
			at = killAt
		}
		p, err := ps.start(config(fmt.Sprintf("worker-%d", i+1), rounds), at)
		require.NoError(t, err)
		if i == victim {
			doomed = p
		}
	}

	select {
	case <-doomed.reached:
	case <-doomed.done:
		_, err := doomed.result()
		t.Fatalf("%s ended (%v) before its switch %d, where it was to be killed; its test output:\n%s", doomed.name, err, killAt, doomed.verdict())
	case <-time.After(time.Until(deadline)):
		t.Fatalf("%s did not reach its switch %d, where it was to be killed, by the guard deadline", doomed.name, killAt)
	}
	time.Sleep(time.Duration(rng.IntN(30)) * time.Millisecond) // somewhere inside that switch
	require.NoError(t, doomed.kill())
	<-doomed.done
	begun, last := doomed.progress()
	if !doomed.killedBySignal() {
		_, err := doomed.result()
		t.Errorf("%s was sent SIGKILL but ended otherwise (%v): the kill did not interrupt it", doomed.name, err)
	}
	left := rounds - begun + 1
	t.Logf("SIGKILLed %s during its switch %d (round and workspace %q): %s; restarting it with a fresh seed for the %d rounds left",
		doomed.name, begun, last, f.leftBehind(ctx, last), left)
	if _, err := ps.start(config(doomed.name+"-restarted", left), 0); err != nil {
		t.Fatal(err)
	}

	ps.waitAll(deadline)
	total := newTally()
	for _, p := range ps.all {
		if p == doomed {
			continue
		}
		summary, err := p.result()
		switch {
		case err != nil:
			t.Errorf("%s failed (%v); its test output:\n%s", p.name, err, p.verdict())
		case summary == nil:
			t.Errorf("%s exited without its summary; its test output:\n%s", p.name, p.verdict())
		default:
			total.add(*summary)
		}
	}
	workersDone := time.Since(began)

	settled := f.settle(ctx, t)
	f.checkNoOrphan(ctx, t, ps.about)

	t.Logf("workers done after %v, settled and checked after %v", workersDone.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
	t.Logf("switches across workers: %s (%d rounds, plus %d begun by %s before it was killed, whose counts died with it)",
		counts(total.Switches), total.Rounds, begun, doomed.name)
	t.Logf("resumes by the workers and their Reconciler passes: %s; resumes by the parent when settling: %d", counts(total.Resumes), settled)
	t.Logf("reconciler passes: %d by the workers (%d orphans reported, %d deleted, %d pass errors from faults), 1 report-only pass at the end",
		total.Passes, total.Orphans, total.Deleted, total.PassErrors)
	t.Logf("faults injected: %s into provider calls, %d into the emulators", counts(total.Injected), total.CloudFaults)
	if total.Switches["switched"] == 0 && !t.Failed() {
		t.Errorf("no switch changed a provider in the whole run: the faults are too dense for the soak to prove anything")
	}
}

// leftBehind says what the killed worker's last switch ("<round>
// <workspace>") left in the record: read at once, while its lease still
// keeps everyone else off the intent.
func (f *fleet) leftBehind(ctx context.Context, last string) string {
	_, id, _ := strings.Cut(last, " ")
	ws, err := f.store.Get(ctx, id)
	switch {
	case err != nil:
		return fmt.Sprintf("reading %s: %v", id, err)
	case ws.Pending == nil:
		return fmt.Sprintf("%s has no intent (killed before its claim or after its last write, or the switch needed none)", id)
	}
	return fmt.Sprintf("%s is left with intent %s at phase %s, committed=%v", id, ws.Pending.ID, ws.Pending.Phase, ws.Pending.Committed)
}
