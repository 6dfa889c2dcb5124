package cloudswitch_test

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
	"github.com/cloudswitch/cloudswitch/store/memstore"
)

// BenchmarkReconcile100k runs one Reconcile pass over 100,000 VMs across
// three providers (pages of 1,000), each the recorded VM of its workspace,
// plus 30 orphans. It reports workspace reads per pass (memstore is a
// BatchGetter: one GetBatch per 1,000 listed VMs, plus one confirming Get
// per orphan), and the most heap one pass holds
// beyond what the store and providers hold: what a page and the
// per-workspace lookups need.
func BenchmarkReconcile100k(b *testing.B) {
	const perProvider = 33_334
	ctx := b.Context()
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	st := memstore.New()
	installation, _ := st.InstallationID(ctx)
	counting := &getCounter{Store: st}
	providers := map[string]cloudswitch.Provider{}
	for _, name := range []string{cloudswitch.AWS, cloudswitch.Hetzner, cloudswitch.GCP} {
		p := memprovider.New(name, memprovider.WithoutCallLog(), memprovider.WithPageSize(1000),
			memprovider.WithClock(func() time.Time { return now.Add(-24 * time.Hour) }))
		providers[name] = p
		c := cloudswitch.Compute{Provider: name, InstanceType: cloudswitch.DefaultAllowlist().DefaultInstanceType(name)}
		for i := range perProvider {
			id := fmt.Sprintf("%s-ws-%d", name, i)
			inst := p.AddForInstallation(cloudswitch.DefaultOwner, installation, id, c)
			inst.Token = "t" // recorded VMs made by cloudswitch carry a token
			if _, err := st.Create(ctx, cloudswitch.Workspace{ID: id, Compute: c, Instance: &inst}); err != nil {
				b.Fatal(err)
			}
		}
		for i := range 10 {
			p.AddForInstallation(cloudswitch.DefaultOwner, installation, fmt.Sprintf("%s-gone-%d", name, i), c)
		}
	}
	r := newReconciler(b, counting, providers, cloudswitch.WithResumeOptions(cloudswitch.WithClock(clock)))
	vms := 3 * (perProvider + 10)

	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		counting.n.Store(0)
		rep, err := r.Reconcile(ctx)
		require.NoError(b, err)
		if len(rep.Orphans) != 30 {
			b.Fatalf("found %d orphans; want 30", len(rep.Orphans))
		}
	}
	b.StopTimer()
	reads := counting.n.Load()
	b.ReportMetric(float64(vms), "vms/pass")
	b.ReportMetric(float64(reads), "reads/pass")
	b.ReportMetric(retainedPeak(func() { _, _ = r.Reconcile(ctx) })/(1<<20), "peak-retained-MiB")
}

// retainedPeak runs f with the collector at its most eager and returns the
// largest live heap seen during f beyond the live heap before it: what f
// holds, not the garbage a lazy collector lets pile up.
func retainedPeak(f func()) float64 {
	defer debug.SetGCPercent(debug.SetGCPercent(1))
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
		}
	}()
	f()
	close(stop)
	wg.Wait()
	if peak.Load() < base.HeapAlloc {
		return 0
	}
	return float64(peak.Load() - base.HeapAlloc)
}

type getCounter struct {
	*memstore.Store
	n atomic.Int64
}

func (g *getCounter) GetBatch(ctx context.Context, ids []string) ([]cloudswitch.Lookup, error) {
	g.n.Add(1)
	return g.Store.GetBatch(ctx, ids)
}

func (g *getCounter) Get(ctx context.Context, id string) (cloudswitch.Workspace, error) {
	g.n.Add(1)
	return g.Store.Get(ctx, id)
}
