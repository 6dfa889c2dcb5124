package sim

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	flagSeed   = flag.Uint64("sim.seed", 0, "simulate only this seed (0: the CI budget)")
	flagSeeds  = flag.Int("sim.seeds", 0, "number of seeds to simulate (0: the CI budget; env SIM_SEEDS too)")
	flagSteps  = flag.Int("sim.steps", 0, "steps per seed before quiescence (0: default)")
	flagFaults = flag.String("sim.faults", "swarm", "fault classes: comma-separated, all, none, or swarm (drawn per seed)")
	flagFirst  = flag.Uint64("sim.first", 1, "first seed of a search")
	flagGoOn   = flag.Bool("sim.keepgoing", false, "report every failing seed of a search, not only the first")
	flagBudget = flag.Int("sim.budget", 0, "steps to simulate, summed over seeds (0: 1,000,000, or 20,000 under -short; env SIM_BUDGET)")
)

func replayCommand(seed uint64, steps int, faults string) string {
	cmd := fmt.Sprintf("go test ./internal/sim -run 'TestSimulate$' -sim.seed=%d", seed)
	if steps != 0 {
		cmd += fmt.Sprintf(" -sim.steps=%d", steps)
	}
	if faults != "" && faults != "swarm" {
		cmd += " -sim.faults=" + faults
	}
	return cmd
}

// TestSimulate runs the CI budget: seeds from -sim.first on until at least
// -sim.budget steps were simulated (1,000,000; 20,000 under -short), or
// -sim.seeds seeds (env SIM_SEEDS), or the one seed -sim.seed.
func TestSimulate(t *testing.T) {
	if *flagSeed != 0 {
		res := Run(t, Config{Seed: *flagSeed, Steps: *flagSteps, Faults: *flagFaults})
		t.Logf("seed %d: %d steps, trace hash %016x", res.Seed, res.Steps, res.Hash)
		if res.Failed() {
			fail(t, Config{Seed: *flagSeed, Steps: *flagSteps, Faults: *flagFaults}, res)
		}
		return
	}
	seeds := *flagSeeds
	if s, err := strconv.Atoi(os.Getenv("SIM_SEEDS")); err == nil && seeds == 0 {
		seeds = s
	}
	budget := *flagBudget
	if s, err := strconv.Atoi(os.Getenv("SIM_BUDGET")); err == nil && budget == 0 {
		budget = s
	}
	if budget == 0 {
		budget = 1_000_000
		if testing.Short() {
			budget = 20_000
		}
	}
	start := time.Now()
	total, n := 0, 0
	for seed := *flagFirst; ; seed++ {
		if seeds > 0 && n == seeds || seeds == 0 && total >= budget {
			break
		}
		res := Run(t, Config{Seed: seed, Steps: *flagSteps, Faults: *flagFaults})
		total += res.Steps
		n++
		if res.Failed() {
			if !*flagGoOn {
				fail(t, Config{Seed: seed, Steps: *flagSteps, Faults: *flagFaults}, res)
			}
			t.Errorf("seed %d after %d steps (%d in the search): %s", seed, res.Steps, total, res.Violation)
		}
	}
	d := time.Since(start)
	t.Logf("%d seeds from %d, %d steps in %v: %.0f steps/s", n, *flagFirst, total, d.Round(time.Millisecond), float64(total)/d.Seconds())
}

// TestSameSeedSameTrace: one seed decides everything, so two runs of it
// take the same steps, with the same trace, down to the hash.
func TestSameSeedSameTrace(t *testing.T) {
	for seed := uint64(1); seed <= 10; seed++ {
		a := Run(t, Config{Seed: seed, Steps: 1500, KeepTrace: true})
		// The replay names the fault set the first run drew.
		b := Run(t, Config{Seed: seed, Steps: 1500, KeepTrace: true, Faults: a.Faults})
		if a.Hash != b.Hash || a.Steps != b.Steps {
			for i := range min(len(a.Trace), len(b.Trace)) {
				if a.Trace[i] != b.Trace[i] {
					t.Logf("first difference at line %d:\n  %s\n  %s", i, a.Trace[i], b.Trace[i])
					for j := max(0, i-8); j < i; j++ {
						t.Logf("    %s", a.Trace[j])
					}
					break
				}
			}
			t.Fatalf("seed %d ran twice took %d and %d steps with trace hashes %016x and %016x: the run is not determined by its seed",
				seed, a.Steps, b.Steps, a.Hash, b.Hash)
		}
	}
}

// fail reports a failing run, and the same seed with the fewest fault
// classes that still fail it.
func fail(t *testing.T, cfg Config, res Result) {
	t.Helper()
	t.Error(res.Report(replayCommand(cfg.Seed, cfg.Steps, res.Faults)))
	if small, r := Shrink(t, cfg, res); small.Faults != cfg.Faults {
		t.Error("shrunk to fewer fault classes:\n" + r.Report(replayCommand(small.Seed, small.Steps, small.Faults)))
	}
	t.FailNow()
}

// regressions are the seeds that ever broke an invariant, each with what it
// found. They run on every test run and must stay clean. The first ones
// were found on commit 045ee15, the code before the safety fixes, by the
// CI search (seeds from 1, fault classes and hook mixes drawn per seed):
// "steps" is the seed's steps up to the violation, "searched" the steps the
// search had simulated by then, out of the 1,000,000 of the CI budget. The
// later ones were found the same way by earlier versions of the simulator,
// whose schedules differed.
var regressions = []struct {
	seed            uint64
	steps, searched int
	found           string
}{
	{2, 430, 2869, "an unmarked error after a deprovision took effect was taken for a refusal: AbortError, and the old VM was gone"},
	{5, 433, 7955, "an unmarked error after a provision took effect was taken for a refusal: AbortError, and the new VM was left running"},
	{6, 129, 8084, "a Switcher without the hook resumed a switch started with one and destroyed the old VM before the backup ran"},
	{21, 329, 31165, "version ABA: a delayed claim of a deleted workspace landed on the workspace created again with the same id, at a version it reached again"},
	{43, 1767, 66489, "Resume reported settled (nil) on an AbortError wrapped inside an IncompleteError while the intent stayed"},
	{70, 257, 99879, "a record named a VM that an aborted switch had destroyed"},
	{125, 480, 162803, "a VM left running, neither referenced nor held, while its workspace existed"},
	{209, 577, 273595, "vanished() misfired on a hook error wrapping ErrNotFound: a resumed make-before-break switch destroyed the new VM its intent still held"},
	// Earlier versions of the simulator, on the same old code.
	{1, 0, 0, "an unmarked error after the effect taken for a refusal"},
	{8, 0, 0, "the same, at provision"},
	{11, 0, 0, "a Reconciler resuming without the hook destroyed the unbacked old VM"},
	{12, 0, 0, "vanished() on a hook error wrapping ErrNotFound"},
	{32, 0, 0, "version ABA (with every process given the hook)"},
	{36, 0, 0, "a record naming a destroyed VM"},
	{61, 0, 0, "Resume settled on a nested AbortError"},
	{90, 0, 0, "a VM leaked while its workspace existed"},
	{117, 0, 0, "Resume settled on a nested AbortError"},
	{337, 0, 0, "version ABA"},
	{444, 0, 0, "version ABA"},
	// The simulator's own bug: its AbortError check matched an AbortError
	// wrapped in an IncompleteError; it now takes only the switch's own.
	{123, 0, 0, "a false AbortError report"},
}

// TestRegressions replays every seed that ever failed.
func TestRegressions(t *testing.T) {
	for _, r := range regressions {
		res := Run(t, Config{Seed: r.seed})
		if res.Failed() {
			t.Errorf("seed %d, which once found that %s, fails again:\n%s", r.seed, r.found, res.Report(replayCommand(r.seed, 0, res.Faults)))
		}
	}
}

// TestEveryKindOfCallIsSimulated: a few seeds reach every call the
// simulator gates and every operation its actors take, so that a silent
// change (an optional interface lost by a wrapper, an actor that never
// runs) cannot shrink what the search explores.
func TestEveryKindOfCallIsSimulated(t *testing.T) {
	want := []string{"|get|", "|update|", "|pending|", "|create|", "|delete|", "|deleteif|", "|provision|",
		"|deprovision|", "|resize|", "|preflight|", "|list|", "|hook|", "do switch", "do edit", "do resume",
		"do reconcile", "do decommission", " crash ", " advance ", "effect+fail", "delay", "truncate", "hang"}
	seen := map[string]bool{}
	for seed := uint64(1); seed <= 5; seed++ {
		res := Run(t, Config{Seed: seed, Faults: "all", KeepTrace: true})
		for _, line := range res.Trace {
			for _, w := range want {
				if strings.Contains(line, w) {
					seen[w] = true
				}
			}
		}
	}
	for _, w := range want {
		if !seen[w] {
			t.Errorf("five seeds never simulated %q", w)
		}
	}
}
