package fleet_test

import (
	"context"
	"fmt"
	"iter"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"golang.org/x/time/rate"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/fleet"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
	"github.com/cloudswitch/cloudswitch/store/memstore"
)

// BenchmarkApply10kAtTheRateLimit applies a plan of 10,000 AWS → Hetzner
// switches against memprovider clouds whose every call takes 20 ms, with
// per-provider limits of 1,000 calls/s on AWS and 1,000 calls/s on Hetzner.
// The calls each provider received (counted through the buckets' grants)
// at its limit give the least time the fleet can take; the benchmark
// reports the wall time against the largest of them.
func BenchmarkApply10kAtTheRateLimit(b *testing.B) {
	const n = 10_000
	const latency = 20 * time.Millisecond
	limits := map[string]rate.Limit{cloudswitch.AWS: 1000, cloudswitch.Hetzner: 1000}
	const burst = 10
	for b.Loop() {
		b.StopTimer()
		store := memstore.New()
		aws := memprovider.New(cloudswitch.AWS, memprovider.WithoutCallLog(), memprovider.WithLatency(latency))
		hz := memprovider.New(cloudswitch.Hetzner, memprovider.WithoutCallLog(), memprovider.WithLatency(latency))
		plan := &fleet.Plan{Header: fleet.Header{Format: fleet.PlanFormat, Request: toHetzner}}
		for i := range n {
			id := fmt.Sprintf("ws-%05d", i)
			c := cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"}
			inst := aws.Add(owner, id, c)
			w, err := store.Create(b.Context(), cloudswitch.Workspace{ID: id, Compute: c, Instance: &inst})
			require.NoError(b, err)
			to := cloudswitch.Compute{Provider: cloudswitch.Hetzner, InstanceType: "cpx31"}
			plan.Steps = append(plan.Steps, fleet.Step{WorkspaceID: id, Version: w.Version, Action: fleet.ActionRecreate,
				From: c, To: to, Destroy: &inst, Create: &to})
		}
		limiters := map[string]*rate.Limiter{}
		for p, l := range limits {
			limiters[p] = rate.NewLimiter(l, burst)
		}
		var grants sync.Map // provider → *atomic.Int64
		for p := range limits {
			grants.Store(p, new(atomic.Int64))
		}
		providers := fleet.RateLimitAll(map[string]cloudswitch.Provider{cloudswitch.AWS: aws, cloudswitch.Hetzner: hz}, limiters,
			fleet.WithGrants(func(g fleet.Grant) {
				n, _ := grants.Load(g.Provider)
				n.(*atomic.Int64).Add(1)
			}))
		sw, err := cloudswitch.New(store, providers)
		require.NoError(b, err)
		a, err := fleet.NewApplier(sw, store)
		require.NoError(b, err)
		b.StartTimer()
		start := time.Now()
		sum, err := a.Apply(b.Context(), plan.Header, plan.All(), fleet.Options{Concurrency: 64})
		wall := time.Since(start)
		if err != nil || sum.Done != n {
			b.Fatalf("apply: %v, %d done, failures %v", err, sum.Done, sum.Failures)
		}
		bound := 0.0
		for p, l := range limits {
			calls, _ := grants.Load(p)
			bound = max(bound, float64(calls.(*atomic.Int64).Load()-burst)/float64(l))
			b.ReportMetric(float64(calls.(*atomic.Int64).Load())/n, p+"-calls/switch")
		}
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(bound, "bound-s")
		b.ReportMetric(wall.Seconds()/bound, "wall/bound")
	}
}

// BenchmarkApplyMemory measures the most heap an apply holds above what the
// store and the clouds hold, for 10,000 and 100,000 workspaces: the plan
// streams (as from a plan file), the store and the clouds keep no state that
// grows with the switches, so what grows is Apply's own.
func BenchmarkApplyMemory(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				store := &syntheticStore{}
				p := stateless{latency: time.Millisecond}
				sw, err := cloudswitch.New(store, map[string]cloudswitch.Provider{cloudswitch.AWS: p, cloudswitch.Hetzner: p})
				require.NoError(b, err)
				a, err := fleet.NewApplier(sw, store)
				require.NoError(b, err)
				runtime.GC()
				base := heapBytes()
				var peak atomic.Uint64
				stop := make(chan struct{})
				var wg sync.WaitGroup
				wg.Go(func() {
					t := time.NewTicker(2 * time.Millisecond)
					defer t.Stop()
					for {
						select {
						case <-stop:
							return
						case <-t.C:
							if h := heapBytes(); h > peak.Load() {
								peak.Store(h)
							}
						}
					}
				})
				sum, err := a.Apply(b.Context(), fleet.Header{Request: toHetzner}, syntheticPlan(n), fleet.Options{Concurrency: 64, Total: n})
				close(stop)
				wg.Wait()
				if err != nil || sum.Done != n {
					b.Fatalf("apply: %v, %d done, failures %v", err, sum.Done, sum.Failures)
				}
				over := float64(0)
				if pk := peak.Load(); pk > base {
					over = float64(pk - base)
				}
				b.ReportMetric(over/(1<<20), "peak-MiB-over-base")
			}
		})
	}
}

func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

var (
	benchFrom = cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"}
	benchTo   = cloudswitch.Compute{Provider: cloudswitch.Hetzner, InstanceType: "cpx31"}
)

// syntheticPlan yields n recreate steps, made as they are read.
func syntheticPlan(n int) iter.Seq2[fleet.Step, error] {
	return func(yield func(fleet.Step, error) bool) {
		for i := range n {
			id := "ws-" + strconv.Itoa(i)
			inst := cloudswitch.Instance{Provider: cloudswitch.AWS, ID: "i-" + id, WorkspaceID: id}
			to := benchTo
			if !yield(fleet.Step{WorkspaceID: id, Version: 1, Action: fleet.ActionRecreate, From: benchFrom, To: benchTo,
				Destroy: &inst, Create: &to}, nil) {
				return
			}
		}
	}
}

// syntheticStore holds only the workspaces being switched: an absent one
// reads as on AWS at version 1, and one that reaches its target with no
// switch pending is forgotten (its later reads are not part of the run).
type syntheticStore struct {
	mu   sync.Mutex
	rows map[string]cloudswitch.Workspace
}

func (s *syntheticStore) Get(_ context.Context, id string) (cloudswitch.Workspace, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w, ok := s.rows[id]; ok {
		return w.Clone(), nil
	}
	return cloudswitch.Workspace{ID: id, Compute: benchFrom, Version: 1,
		Instance: &cloudswitch.Instance{Provider: cloudswitch.AWS, ID: "i-" + id, WorkspaceID: id}}, nil
}

func (s *syntheticStore) Update(ctx context.Context, w cloudswitch.Workspace) (cloudswitch.Workspace, error) {
	cur, _ := s.Get(ctx, w.ID)
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur.Version != w.Version {
		return cur, cloudswitch.ErrConflict
	}
	w = w.Clone()
	w.Version++
	if s.rows == nil {
		s.rows = make(map[string]cloudswitch.Workspace)
	}
	if w.Pending == nil && w.Compute == benchTo {
		delete(s.rows, w.ID)
	} else {
		s.rows[w.ID] = w
	}
	return w.Clone(), nil
}

func (s *syntheticStore) Pending(context.Context) iter.Seq2[cloudswitch.Workspace, error] {
	return func(func(cloudswitch.Workspace, error) bool) {}
}

// stateless is a cloud that remembers nothing: every call waits latency and
// succeeds.
type stateless struct{ latency time.Duration }

func (p stateless) Provision(ctx context.Context, req cloudswitch.ProvisionRequest) (cloudswitch.Instance, error) {
	time.Sleep(p.latency)
	return cloudswitch.Instance{Provider: req.Compute.Provider, ID: "vm-" + req.Token, WorkspaceID: req.WorkspaceID,
		Token: req.Token, Installation: req.Installation, InstanceType: req.Compute.InstanceType}, nil
}

func (p stateless) Deprovision(context.Context, cloudswitch.Instance) error {
	time.Sleep(p.latency)
	return nil
}

func (p stateless) Instances(context.Context, string) iter.Seq2[cloudswitch.Instance, error] {
	return func(func(cloudswitch.Instance, error) bool) {}
}
