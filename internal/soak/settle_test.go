package soak

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
)

// afterEveryLease is the clock of the parent once every worker is gone: past
// every lease a worker can have taken, so that no intent is protected any
// more, without waiting for it.
func afterEveryLease() time.Time { return time.Now().Add(lease + time.Second) }

// settle brings every workspace to rest once no worker is left: the cloud's
// faults are cleared, and a healthy Switcher, its clock past every lease,
// resumes each intent still journaled until none is left. A healthy Resume
// must settle any intent: it returns the number of Resume calls made.
func (f *fleet) settle(ctx context.Context, t *testing.T) int {
	t.Helper()
	f.set.ClearFaults()
	sw, err := cloudswitch.New(f.store, f.drivers, baseOptions(cloudswitch.WithClock(afterEveryLease))...)
	require.NoError(t, err, "New")
	resumed := 0
	for _, id := range f.ids {
		for try := 0; ; try++ {
			ws, err := f.store.Get(ctx, id)
			if err != nil {
				t.Errorf("settling: reading workspace %s: %v", id, err)
				break
			}
			in := ws.Pending
			if in == nil {
				break
			}
			if try == 3 {
				t.Errorf("settling: workspace %s: intent %s still pending at phase %s after %d healthy resumes", id, in.ID, in.Phase, try)
				break
			}
			res, err := sw.Resume(ctx, id)
			resumed++
			if err != nil {
				t.Errorf("settling: a healthy Resume of %s (intent %s at phase %s, committed=%v, claimed %d times, last error %q) failed: %v",
					id, in.ID, in.Phase, in.Committed, in.Claims, in.LastError, err)
				break
			}
			how := "finished it"
			if res.RolledBack {
				how = "rolled it back"
			}
			t.Logf("settling: workspace %s had intent %s (%s to %s, %s, phase %s, claimed %d times): a healthy Resume %s",
				id, in.ID, cloudswitch.NormalizeProvider(in.From.Provider), in.To.Provider, in.Strategy, in.Phase, in.Claims, how)
		}
	}
	return resumed
}
