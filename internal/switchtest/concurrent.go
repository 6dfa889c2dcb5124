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
// the store would) on one workspace at once, each to a different target —
// among them a resize on the same provider and, on a store that can delete,
// a decommission — and checks that exactly one ran — the others got
// ErrSwitchInProgress or ErrConflict — and that exactly one VM is alive, the
// one the record names (none, if the decommission won).
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
			req := cloudswitch.Request{Compute: cloudswitch.Compute{Provider: to}, ConfirmRecreate: true, IfVersion: seeded.Version}
			_, canDelete := w.store.(cloudswitch.Deleter)
			decommission := i == 0 && round%2 == 1 && canDelete
			if i == 1 {
				req.Compute = cloudswitch.Compute{Provider: from, InstanceType: instanceType(from, 1)} // a resize, or a recreate
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if decommission {
					switched[i], results[i] = sw.Decommission(context.Background(), id,
						cloudswitch.DecommissionRequest{ConfirmDestroy: true, IfVersion: seeded.Version})
					return
				}
				switched[i], results[i] = sw.Switch(context.Background(), id, req)
			}()
		}
		close(start)
		wg.Wait()

		winners := 0
		for i, err := range results {
			switch {
			case err == nil:
				winners++
				if r := switched[i]; !r.Switched && !r.Resized && !r.Recreated && !r.Deleted {
					t.Errorf("round %d: racer %d returned nil without changing anything: %+v", round, i, r)
				}
			case errors.Is(err, cloudswitch.ErrConflict):
				// ErrSwitchInProgress matches ErrConflict too: both are a lost race.
			case errors.Is(err, cloudswitch.ErrNotFound) && results[0] == nil && switched[0].Deleted:
				// Lost to the decommission, which had already deleted it.
			default:
				t.Errorf("round %d: racer %d: %v (want nil for one racer, ErrSwitchInProgress or ErrConflict for the rest)", round, i, err)
			}
		}
		if winners != 1 {
			t.Errorf("round %d: %d of %d concurrent switches ran; want exactly 1", round, winners, racers)
		}
		if _, err := w.store.Get(context.Background(), id); errors.Is(err, cloudswitch.ErrNotFound) {
			w.requireGone(id, fmt.Sprintf("round %d", round))
			continue
		}
		w.checkNoOrphan(id, fmt.Sprintf("round %d", round))
	}
}
