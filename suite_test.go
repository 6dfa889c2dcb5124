package cloudswitch_test

import (
	"context"
	"testing"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/internal/switchtest"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
	"github.com/cloudswitch/cloudswitch/store/memstore"
)

// memEnv runs the switch suites on memstore and three memproviders.
func memEnv() switchtest.Env {
	return switchtest.Env{
		NewStore: func(t *testing.T) (cloudswitch.Store, switchtest.CreateFunc) {
			st := memstore.New()
			return st, st.Create
		},
		NewClouds: func(t *testing.T) []switchtest.Cloud {
			var clouds []switchtest.Cloud
			for _, name := range []string{cloudswitch.AWS, cloudswitch.Hetzner, cloudswitch.GCP} {
				p := memprovider.New(name, memprovider.WithoutCallLog())
				clouds = append(clouds, switchtest.Cloud{
					Name: name, Provider: p,
					Live: func(context.Context) ([]cloudswitch.Instance, error) { return p.Live(), nil },
				})
			}
			return clouds
		},
	}
}

// A switch whose process dies at any step is brought by Resume to exactly
// unchanged or exactly switched, with exactly the recorded VM alive.
func TestCrashAtEveryStepConverges(t *testing.T) {
	switchtest.CrashAtEveryStep(t, memEnv())
}

// Hundreds of rounds of faulty, crashing, concurrent switches never leave a
// VM that no record points at.
func TestRandomFaultsNeverOrphanAVM(t *testing.T) {
	rounds := 300
	if testing.Short() {
		rounds = 60
	}
	switchtest.RandomFaults(t, memEnv(), switchtest.RandomConfig{Rounds: rounds, Workspaces: 6})
}

// Of several Switchers racing on one workspace, exactly one switches.
func TestConcurrentSwitchersExactlyOneWins(t *testing.T) {
	switchtest.ConcurrentSwitches(t, memEnv())
}
