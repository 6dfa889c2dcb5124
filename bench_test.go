package cloudswitch_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
	"github.com/cloudswitch/cloudswitch/store/memstore"
)

// benchWorld is a memstore with n workspaces on AWS, each with a VM, and
// in-memory AWS and Hetzner providers with latency.
func benchWorld(b *testing.B, n int, latency time.Duration) (*memstore.Store, *memprovider.Provider, *memprovider.Provider) {
	b.Helper()
	st := memstore.New()
	aws := memprovider.New(cloudswitch.AWS, memprovider.WithoutCallLog(), memprovider.WithLatency(latency))
	hz := memprovider.New(cloudswitch.Hetzner, memprovider.WithoutCallLog(), memprovider.WithLatency(latency))
	c := cloudswitch.Compute{Provider: cloudswitch.AWS, InstanceType: "t3.medium"}
	for i := range n {
		id := fmt.Sprintf("ws-%d", i)
		inst := aws.Add(cloudswitch.DefaultOwner, id, c)
		if _, err := st.Create(b.Context(), cloudswitch.Workspace{ID: id, Compute: c, Instance: &inst}); err != nil {
			b.Fatal(err)
		}
	}
	return st, aws, hz
}

// BenchmarkSwitch measures one journaled switch from AWS to Hetzner on
// memstore and memprovider with zero latency: the cost of the protocol
// itself. The naive flow is the original server's (read, stop, write; no
// journal) on the same fakes, for comparison.
func BenchmarkSwitch(b *testing.B) {
	ctx := b.Context()
	req := cloudswitch.Request{Compute: cloudswitch.Compute{Provider: cloudswitch.Hetzner}, ConfirmRecreate: true}
	for _, provisioning := range []bool{false, true} {
		b.Run(fmt.Sprintf("journaled/provisioning=%v", provisioning), func(b *testing.B) {
			st, aws, hz := benchWorld(b, b.N, 0)
			sw, err := cloudswitch.New(st, map[string]cloudswitch.Provider{cloudswitch.AWS: aws, cloudswitch.Hetzner: hz},
				cloudswitch.WithProvisioning(provisioning))
			require.NoError(b, err)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if _, err := sw.Switch(ctx, fmt.Sprintf("ws-%d", i), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("naive", func(b *testing.B) {
		st, aws, _ := benchWorld(b, b.N, 0)
		allow := cloudswitch.DefaultAllowlist()
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			require.NoError(b, naiveSwitch(ctx, st, aws, allow, fmt.Sprintf("ws-%d", i), cloudswitch.Hetzner))
		}
	})
}

// naiveSwitch is the original server's handler: validate, read, stop the old
// VM, overwrite the compute. It has no journal, so a crash between the stop
// and the write, or two concurrent calls, is exactly what cloudswitch exists
// to survive.
func naiveSwitch(ctx context.Context, st cloudswitch.Store, old cloudswitch.Provider, allow *cloudswitch.Allowlist, id, provider string) error {
	target := cloudswitch.Compute{Provider: provider, InstanceType: allow.DefaultInstanceType(provider)}
	if err := allow.Validate(target); err != nil {
		return err
	}
	w, err := st.Get(ctx, id)
	if err != nil {
		return err
	}
	if w.Instance != nil {
		if err := old.Deprovision(ctx, *w.Instance); err != nil {
			return err
		}
	}
	w.Compute = target
	w.Instance = nil
	_, err = st.Update(ctx, w)
	return err
}

// BenchmarkSwitchPermanentError: a stop refused with a permanent error
// returns after exactly one provider call and no backoff sleep, although the
// policy's first wait is a second.
func BenchmarkSwitchPermanentError(b *testing.B) {
	ctx := b.Context()
	st, aws, hz := benchWorld(b, b.N, 0)
	aws.SetFaultFunc(func(c memprovider.Call) memprovider.Fault {
		if c.Op == memprovider.OpDeprovision {
			return memprovider.Fault{Err: memprovider.ErrDenied}
		}
		return memprovider.Fault{}
	})
	calls := 0
	counting := countingProvider{Provider: aws, calls: &calls}
	sw, err := cloudswitch.New(st, map[string]cloudswitch.Provider{cloudswitch.AWS: counting, cloudswitch.Hetzner: hz},
		cloudswitch.WithRetryPolicy(cloudswitch.RetryPolicy{InitialInterval: time.Second, MaxInterval: time.Minute, MaxAttempts: 5}))
	require.NoError(b, err)
	req := cloudswitch.Request{Compute: cloudswitch.Compute{Provider: cloudswitch.Hetzner}, ConfirmRecreate: true}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := sw.Switch(ctx, fmt.Sprintf("ws-%d", i), req); err == nil {
			b.Fatal("the refused stop did not abort the switch")
		}
	}
	b.ReportMetric(float64(calls)/float64(b.N), "provider-calls/op")
}

type countingProvider struct {
	*memprovider.Provider
	calls *int
}

func (c countingProvider) Deprovision(ctx context.Context, inst cloudswitch.Instance) error {
	*c.calls++
	return c.Provider.Deprovision(ctx, inst)
}

// BenchmarkSwitchConcurrent switches 10,000 workspaces with 256 concurrent
// callers against providers that take 20ms per call, and reports the wall
// time against the ideal (provider calls × latency / callers): a global lock
// anywhere would show as a ratio far above 1. Run with -benchtime=1x.
func BenchmarkSwitchConcurrent(b *testing.B) {
	const (
		workspaces = 10_000
		callers    = 256
		latency    = 20 * time.Millisecond
		callsPer   = 2 // deprovision the old VM, provision the new one
	)
	ctx := b.Context()
	req := cloudswitch.Request{Compute: cloudswitch.Compute{Provider: cloudswitch.Hetzner}, ConfirmRecreate: true}
	var wall time.Duration
	for range b.N {
		b.StopTimer()
		st, aws, hz := benchWorld(b, workspaces, latency)
		sw, err := cloudswitch.New(st, map[string]cloudswitch.Provider{cloudswitch.AWS: aws, cloudswitch.Hetzner: hz})
		require.NoError(b, err)
		ids := make(chan string, workspaces)
		for i := range workspaces {
			ids <- fmt.Sprintf("ws-%d", i)
		}
		close(ids)
		b.StartTimer()
		start := time.Now()
		var wg sync.WaitGroup
		errs := make(chan error, callers)
		for range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for id := range ids {
					if _, err := sw.Switch(ctx, id, req); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		wall += time.Since(start)
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		if n := len(hz.Live()); n != workspaces {
			b.Fatalf("%d VMs on hetzner after switching %d workspaces", n, workspaces)
		}
	}
	ideal := time.Duration(workspaces*callsPer) * latency / callers
	perRun := wall / time.Duration(b.N)
	b.ReportMetric(perRun.Seconds(), "wall-s")
	b.ReportMetric(ideal.Seconds(), "ideal-s")
	b.ReportMetric(perRun.Seconds()/ideal.Seconds(), "x-ideal")
}
