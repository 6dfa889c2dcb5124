package sim

import (
	"fmt"
	"os"
	"strconv"
	"testing"
)

// Check simulates seeds 1 to seeds over base's store and clouds and fails t
// with the report of the first seed that breaks an invariant, shrunk to the
// fewest fault classes. It is what store/storetest and
// providers/providertest run on a user's implementation. The environment
// widens or narrows it: SIM_SEED=n runs only seed n, SIM_SEEDS=n runs n
// seeds, SIM_STEPS=n sets the steps per seed, SIM_FAULTS the fault classes.
func Check(t *testing.T, base Config, seeds int) {
	t.Helper()
	first := uint64(1)
	if s, err := strconv.ParseUint(os.Getenv("SIM_SEED"), 10, 64); err == nil && s > 0 {
		first, seeds = s, 1
	} else if n, err := strconv.Atoi(os.Getenv("SIM_SEEDS")); err == nil && n > 0 {
		seeds = n
	}
	if n, err := strconv.Atoi(os.Getenv("SIM_STEPS")); err == nil && n > 0 {
		base.Steps = n
	}
	if f := os.Getenv("SIM_FAULTS"); f != "" {
		base.Faults = f
	}
	total := 0
	for seed := first; seed < first+uint64(seeds); seed++ {
		cfg := base
		cfg.Seed = seed
		res := Run(t, cfg)
		total += res.Steps
		if !res.Failed() {
			continue
		}
		replay := func(c Config) string {
			env := fmt.Sprintf("SIM_SEED=%d", c.Seed)
			if c.Steps != 0 {
				env += fmt.Sprintf(" SIM_STEPS=%d", c.Steps)
			}
			if c.Faults != "" && c.Faults != "swarm" {
				env += " SIM_FAULTS=" + c.Faults
			}
			return fmt.Sprintf("%s go test -run '^%s$' .", env, t.Name())
		}
		cfg.Faults = res.Faults
		t.Error(res.Report(replay(cfg)))
		if small, r := Shrink(t, cfg, res); small.Faults != cfg.Faults {
			t.Errorf("shrunk to fault classes %s:\n%s", small.Faults, r.Report(replay(small)))
		}
		t.FailNow()
	}
	t.Logf("%d seeds from %d, %d simulated steps, no invariant broken", seeds, first, total)
}
