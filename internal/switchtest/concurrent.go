package switchtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/cloudswitch/cloudswitch"
)

// ConcurrentSwitches starts several Switchers (as several processes sharing
// the store would) on one workspace at once, each to a different target, and
// checks that exactly one switch ran — the others got ErrSwitchInProgress or
// ErrConflict — and that exactly one VM is alive, the one the record names.
func ConcurrentSwitches(t *testing.T, env Env) {
	w := newWorld(t, env)
	const racers = 8
	for round := range 5 {
		id := fmt.Sprintf("%s-c%d", w.prefix, round)
		from := w.clouds[round%len(w.clouds)].Name
		seeded := w.seed(id, from, true)

		start := make(chan struct{})
		results := make([]error, racers)
		switched := make([]cloudswitch.Result, racers)
		var wg sync.WaitGroup
		for i := range racers {
			to := w.clouds[(round+1+i)%len(w.clouds)].Name
			if to == from {
				to = w.clouds[(round+2+i)%len(w.clouds)].Name
			}
			sw := w.switcher(nil)
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				switched[i], results[i] = sw.Switch(context.Background(), id,
					cloudswitch.Request{Compute: cloudswitch.Compute{Provider: to}, ConfirmRecreate: true, IfVersion: seeded.Version})
			}()
		}
		close(start)
		wg.Wait()

		winners := 0
		for i, err := range results {
			switch {
			case err == nil:
				winners++
				if !switched[i].Switched {
					t.Errorf("round %d: racer %d returned nil without switching", round, i)
				}
			case errors.Is(err, cloudswitch.ErrConflict):
				// ErrSwitchInProgress matches ErrConflict too: both are a lost race.
			default:
				t.Errorf("round %d: racer %d: %v (want nil for one racer, ErrSwitchInProgress or ErrConflict for the rest)", round, i, err)
			}
		}
		if winners != 1 {
			t.Errorf("round %d: %d of %d concurrent switches ran; want exactly 1", round, winners, racers)
		}
		w.checkNoOrphan(id, fmt.Sprintf("round %d", round))
	}
}
