package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
	"github.com/cloudswitch/cloudswitch/store/sqlstore"
)

// replicas returns n Stores on one table, each on a pool of its own, as n
// replicas of a workspace server would have.
func replicas(t *testing.T, b backend, n int) []*sqlstore.Store {
	t.Helper()
	table := b.newTable(t)
	stores := make([]*sqlstore.Store, n)
	for i := range stores {
		stores[i] = b.storeOn(t, b.open(t), table)
	}
	return stores
}

// race runs f(i) in n goroutines released at once and waits for them.
func race(n int, f func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			f(i)
		})
	}
	close(start)
	wg.Wait()
}

func TestReplicasRacingCompareAndSwap(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		stores := replicas(t, b, 4)
		const racers = 16 // four per replica

		t.Run("ExactlyOneWinnerPerVersion", func(t *testing.T) {
			w, err := stores[0].Create(ctx, cloudswitch.Workspace{ID: "one-winner", Compute: cloudswitch.Compute{Provider: cloudswitch.AWS}})
			require.NoError(t, err)
			for round := range 10 {
				var winners []int
				var won cloudswitch.Workspace
				var mu sync.Mutex
				race(racers, func(i int) {
					next := w.Clone()
					next.Compute.Image = fmt.Sprintf("img-%d", i)
					res, err := stores[i%len(stores)].Update(ctx, next)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						winners = append(winners, i)
						won = res
					case !errors.Is(err, cloudswitch.ErrConflict):
						t.Errorf("round %d: racer %d: %v; want success or ErrConflict", round, i, err)
					}
				})
				if len(winners) != 1 {
					t.Fatalf("round %d: %d of %d Updates of version %d from %d pools won (%v); want exactly 1",
						round, len(winners), racers, w.Version, len(stores), winners)
				}
				got, err := stores[(round+1)%len(stores)].Get(ctx, w.ID)
				require.NoError(t, err)
				if want := fmt.Sprintf("img-%d", winners[0]); got.Compute.Image != want || got.Version != won.Version || won.Version <= w.Version {
					t.Fatalf("round %d: stored image %q at version %d; want the winner's %q at the version its Update returned, %d, past %d",
						round, got.Compute.Image, got.Version, want, won.Version, w.Version)
				}
				w = got
			}
		})

		t.Run("ReadModifyWriteLosesNoUpdate", func(t *testing.T) {
			const each = 15
			if _, err := stores[0].Create(ctx, cloudswitch.Workspace{ID: "counter", Compute: cloudswitch.Compute{Image: "0"}}); err != nil {
				t.Fatal(err)
			}
			var conflicts, last atomic.Int64
			race(racers, func(i int) {
				st := stores[i%len(stores)]
				for done := 0; done < each; {
					w, err := st.Get(ctx, "counter")
					if err != nil {
						t.Error(err)
						return
					}
					var n int
					fmt.Sscan(w.Compute.Image, &n)
					w.Compute.Image = fmt.Sprint(n + 1)
					switch res, err := st.Update(ctx, w); {
					case err == nil:
						done++
						if res.Compute.Image == fmt.Sprint(racers*each) {
							last.Store(res.Version)
						}
					case errors.Is(err, cloudswitch.ErrConflict):
						conflicts.Add(1)
					default:
						t.Error(err)
						return
					}
				}
			})
			w, err := stores[1].Get(ctx, "counter")
			require.NoError(t, err)
			if want := fmt.Sprint(racers * each); w.Compute.Image != want || w.Version != last.Load() {
				t.Fatalf("counter %s at version %d after %d successful increments from %d pools; want %s at version %d, the last increment's: updates were lost",
					w.Compute.Image, w.Version, racers*each, len(stores), want, last.Load())
			}
			t.Logf("%d increments, %d conflicts", racers*each, conflicts.Load())
		})

		t.Run("ExactlyOneIntentClaimPerVersion", func(t *testing.T) {
			w, err := stores[0].Create(ctx, cloudswitch.Workspace{ID: "claims", Compute: cloudswitch.Compute{Provider: cloudswitch.AWS}})
			require.NoError(t, err)
			for round := range 10 {
				claimed := make([]bool, racers)
				race(racers, func(i int) {
					next := w.Clone()
					next.Pending = &cloudswitch.Intent{ID: fmt.Sprintf("switch-%d-%d", round, i), Phase: cloudswitch.PhaseProvision,
						Strategy: cloudswitch.BreakBeforeMake, To: cloudswitch.Compute{Provider: cloudswitch.Hetzner},
						Holder: fmt.Sprint(i), LeaseExpires: time.Now().Add(time.Minute)}
					_, err := stores[i%len(stores)].Update(ctx, next)
					switch {
					case err == nil:
						claimed[i] = true
					case !errors.Is(err, cloudswitch.ErrConflict):
						t.Errorf("round %d: claimant %d: %v; want success or ErrConflict", round, i, err)
					}
				})
				winner := slices.Index(claimed, true)
				if n := len(slices.DeleteFunc(slices.Clone(claimed), func(c bool) bool { return !c })); n != 1 {
					t.Fatalf("round %d: %d of %d claims of version %d won; want exactly 1", round, n, racers, w.Version)
				}
				got, err := stores[3].Get(ctx, w.ID)
				require.NoError(t, err)
				if got.Pending == nil || got.Pending.ID != fmt.Sprintf("switch-%d-%d", round, winner) {
					t.Fatalf("round %d: the stored intent is %+v; want the winning claim switch-%d-%d", round, got.Pending, round, winner)
				}
				got.Pending = nil // the switch ends
				if w, err = stores[0].Update(ctx, got); err != nil {
					t.Fatal(err)
				}
			}
		})
	})
}

// TestReplicasRacingSwitches starts Switchers on several pools at once, each
// moving one workspace, at one version, to another provider: exactly one
// switch runs, and exactly the VM the record names is alive.
func TestReplicasRacingSwitches(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		stores := replicas(t, b, 4)
		names := []string{cloudswitch.AWS, cloudswitch.Hetzner, cloudswitch.GCP}
		clouds := map[string]*memprovider.Provider{}
		providers := map[string]cloudswitch.Provider{}
		for _, n := range names {
			clouds[n] = memprovider.New(n)
			providers[n] = clouds[n]
		}
		switchers := make([]*cloudswitch.Switcher, len(stores))
		for i, st := range stores {
			sw, err := cloudswitch.New(st, providers)
			require.NoError(t, err)
			switchers[i] = sw
		}
		for round := range 5 {
			id := fmt.Sprintf("ws-%d", round)
			from := names[round%len(names)]
			c := cloudswitch.Compute{Provider: from, InstanceType: cloudswitch.DefaultAllowlist().DefaultInstanceType(from)}
			if _, err := stores[0].Create(ctx, cloudswitch.Workspace{ID: id, Compute: c}); err != nil {
				t.Fatal(err)
			}
			first, err := switchers[0].Switch(ctx, id, cloudswitch.Request{}) // its first VM
			require.NoError(t, err)
			const racers = 8
			errs := make([]error, racers)
			race(racers, func(i int) {
				to := names[(round+1+i%2)%len(names)]
				_, errs[i] = switchers[i%len(switchers)].Switch(ctx, id,
					cloudswitch.Request{Compute: cloudswitch.Compute{Provider: to}, ConfirmRecreate: true, IfVersion: first.Workspace.Version})
			})
			ran := 0
			for i, err := range errs {
				switch {
				case err == nil:
					ran++
				case !errors.Is(err, cloudswitch.ErrConflict): // ErrSwitchInProgress matches it too
					t.Errorf("round %d: switcher %d: %v; want nil or a lost race", round, i, err)
				}
			}
			if ran != 1 {
				t.Errorf("round %d: %d of %d racing switches from %d pools ran; want exactly 1", round, ran, racers, len(stores))
			}
			w, err := stores[2].Get(ctx, id)
			require.NoError(t, err)
			if w.Pending != nil || w.Instance == nil {
				t.Fatalf("round %d: after the race %s has intent %+v and instance %+v; want a recorded VM and no intent", round, id, w.Pending, w.Instance)
			}
			if live := liveVMs(clouds, id); !slices.Equal(live, []string{w.Instance.Provider + "/" + w.Instance.ID}) {
				t.Errorf("round %d: live VMs of %s: %v; the record names %s/%s", round, id, live, w.Instance.Provider, w.Instance.ID)
			}
		}
	})
}

// liveVMs returns the VMs of workspace id alive on any cloud, as
// "provider/id", sorted.
func liveVMs(clouds map[string]*memprovider.Provider, id string) []string {
	var live []string
	for name, c := range clouds {
		for _, inst := range c.Live() {
			if inst.WorkspaceID == id {
				live = append(live, name+"/"+inst.ID)
			}
		}
	}
	slices.Sort(live)
	return live
}
