package fleet_test

import (
	"context"
	"errors"
	"iter"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/fleet"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
)

func TestApplyMovesEveryWorkspaceAndReportsEachOne(t *testing.T) {
	w := newWorld(t)
	ids := w.addAWS(t, 25)
	plan := w.planAll(t, ids, toHetzner)
	var ev events
	sum := w.apply(t, t.Context(), w.switcher(t, nil), plan, fleet.Options{Concurrency: 4, Total: len(plan.Steps), Progress: ev.add})

	assert.Equal(t, fleet.Succeeded, sum.Outcome())
	assert.Equal(t, 25, sum.Done)
	assert.Equal(t, 25, w.onHetzner(t, ids), "every workspace runs on Hetzner")
	assert.Empty(t, w.aws.Live(), "every AWS VM was destroyed")
	assert.Len(t, ev.kinds(fleet.EventStarted), 25)
	assert.Len(t, ev.kinds(fleet.EventDone), 25)
	last := ev.kinds(fleet.EventDone)[24].Progress
	assert.Equal(t, 25, last.PerProvider[cloudswitch.Hetzner].Done, "progress is tallied per provider")
	assert.Equal(t, 25, last.Total)
	assert.Zero(t, last.ETA, "nothing is left")
}

// concurrencyGate is a provider whose deprovisions wait until limit of
// them are in flight at once, and which records the most it ever saw.
type concurrencyGate struct {
	*memprovider.Provider
	limit    int
	mu       sync.Mutex
	inFlight int
	max      int
	release  chan struct{}
	once     sync.Once
}

func (g *concurrencyGate) Deprovision(ctx context.Context, inst cloudswitch.Instance) error {
	g.mu.Lock()
	g.inFlight++
	g.max = max(g.max, g.inFlight)
	if g.inFlight == g.limit {
		g.once.Do(func() { close(g.release) })
	}
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.inFlight--
		g.mu.Unlock()
	}()
	select {
	case <-g.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return g.Provider.Deprovision(ctx, inst)
}

func TestApplyRunsAtMostConcurrencySwitchesAtOnce(t *testing.T) {
	w := newWorld(t)
	ids := w.addAWS(t, 30)
	gate := &concurrencyGate{Provider: w.aws, limit: 3, release: make(chan struct{})}
	providers := map[string]cloudswitch.Provider{cloudswitch.AWS: gate, cloudswitch.Hetzner: w.hz}
	plan := w.planAll(t, ids, toHetzner)
	var inFlight atomic.Int64
	sum := w.apply(t, t.Context(), w.switcher(t, providers), plan, fleet.Options{Concurrency: 3, Progress: func(e fleet.Event) {
		inFlight.Store(max(inFlight.Load(), int64(e.Progress.InFlight)))
	}})
	assert.Equal(t, 30, sum.Done)
	assert.Equal(t, 3, gate.max, "the first deprovisions waited until 3 were in flight, and never more were")
	assert.LessOrEqual(t, inFlight.Load(), int64(3), "progress never counted more than 3 switches in flight")
}

// Rate per provider: every call a provider received (its call log) took one
// token of that provider's bucket, and the times the buckets let the calls
// go never exceed burst + rate·window in any window.
func TestApplyNeverCallsAProviderFasterThanItsLimit(t *testing.T) {
	w := newWorld(t)
	ids := w.addAWS(t, 40)
	limits := map[string]*rate.Limiter{
		cloudswitch.AWS:     rate.NewLimiter(200, 2),
		cloudswitch.Hetzner: rate.NewLimiter(100, 3),
	}
	var mu sync.Mutex
	grants := map[string][]time.Time{}
	providers := fleet.RateLimitAll(w.providers, limits, fleet.WithGrants(func(g fleet.Grant) {
		mu.Lock()
		grants[g.Provider] = append(grants[g.Provider], g.At)
		mu.Unlock()
	}))
	plan := w.planAll(t, ids, toHetzner)
	before := map[string]int{cloudswitch.AWS: len(w.aws.Calls()), cloudswitch.Hetzner: len(w.hz.Calls())}
	// When each call reached the cloud, as its call log would say.
	reached := map[string][]time.Time{}
	for name, p := range map[string]*memprovider.Provider{cloudswitch.AWS: w.aws, cloudswitch.Hetzner: w.hz} {
		p.SetFaultFunc(func(memprovider.Call) memprovider.Fault {
			mu.Lock()
			reached[name] = append(reached[name], time.Now())
			mu.Unlock()
			return memprovider.Fault{}
		})
	}
	sum := w.apply(t, t.Context(), w.switcher(t, providers), plan, fleet.Options{Concurrency: 16})
	require.Equal(t, 40, sum.Done)

	for name, p := range map[string]*memprovider.Provider{cloudswitch.AWS: w.aws, cloudswitch.Hetzner: w.hz} {
		lim := limits[name]
		times := grants[name]
		slices.SortFunc(times, time.Time.Compare)
		assert.Len(t, times, len(p.Calls())-before[name], "%s: every call the apply made in the provider's log waited for a token", name)
		assert.GreaterOrEqual(t, len(times), 40, "%s: at least one call per switch", name)
		// Every call reached the cloud after its grant, so the k-th call
		// the cloud saw came no earlier than the k-th grant: by any time,
		// the cloud had received no more calls than the bucket allowed.
		calls := reached[name]
		slices.SortFunc(calls, time.Time.Compare)
		require.Len(t, calls, len(times))
		for k := range calls {
			require.False(t, calls[k].Before(times[k]), "%s: call %d reached the cloud before the bucket let it go", name, k)
		}
		for i := range times {
			for j := i + 1; j < len(times); j++ {
				window := times[j].Sub(times[i]).Seconds()
				allowed := float64(lim.Burst()) + float64(lim.Limit())*window + 1e-6
				if float64(j-i+1) > allowed {
					t.Fatalf("%s: %d calls within %.4fs, the bucket allows %.2f", name, j-i+1, window, allowed)
				}
			}
		}
	}
}

func TestRateLimitKeepsTheDriversOptionalInterfaces(t *testing.T) {
	lim := rate.NewLimiter(rate.Inf, 1)
	w := newWorld(t)
	_, ok := fleet.RateLimit("plain", plain{w.aws}, lim).(cloudswitch.Preflighter)
	assert.False(t, ok, "a driver without Preflight does not gain one")
	_, ok = fleet.RateLimit("plain", plain{w.aws}, lim).(cloudswitch.Resizer)
	assert.False(t, ok, "a driver without Resize does not gain one")
	pf, ok := fleet.RateLimit("gcp", w.gcp, lim).(cloudswitch.Preflighter)
	require.True(t, ok, "a Preflighter stays a Preflighter")
	require.NoError(t, pf.Preflight(t.Context(), cloudswitch.ProvisionRequest{WorkspaceID: "w", Token: "t", Owner: owner,
		Compute: cloudswitch.Compute{Provider: cloudswitch.GCP, InstanceType: "e2-small"}}))
	assert.EqualValues(t, 1, w.gcp.preflights.Load(), "Preflight reaches the driver")
	rs, ok := fleet.RateLimit("x", resizing{plain{w.aws}}, lim).(cloudswitch.Resizer)
	require.True(t, ok, "a Resizer stays a Resizer")
	got, err := rs.Resize(t.Context(), cloudswitch.Instance{ID: "i-1"}, "t3.large")
	require.NoError(t, err)
	assert.Equal(t, "t3.large", got.InstanceType)
	both := fleet.RateLimit("y", resizingPreflighter{w.gcp}, lim)
	_, isPF := both.(cloudswitch.Preflighter)
	_, isRS := both.(cloudswitch.Resizer)
	assert.True(t, isPF && isRS, "a driver with both keeps both")
}

func TestRateLimitRefusesWhenItsWaitIsCancelled(t *testing.T) {
	w := newWorld(t)
	lim := rate.NewLimiter(rate.Every(time.Hour), 1)
	p := fleet.RateLimit("aws", w.aws, lim)
	_ = p.Deprovision(t.Context(), cloudswitch.Instance{ID: "gone"}) // takes the one token
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := p.Deprovision(ctx, cloudswitch.Instance{ID: "gone"})
	assert.ErrorIs(t, err, cloudswitch.ErrRefused, "a call that never reached the cloud is a refusal")
	assert.Len(t, w.aws.Calls(), 1, "the second call never reached the cloud")
}

// plain is a driver with none of the optional interfaces.
type plain struct{ p *memprovider.Provider }

func (d plain) Provision(ctx context.Context, req cloudswitch.ProvisionRequest) (cloudswitch.Instance, error) {
	return d.p.Provision(ctx, req)
}

func (d plain) Deprovision(ctx context.Context, inst cloudswitch.Instance) error {
	return d.p.Deprovision(ctx, inst)
}

func (d plain) Instances(ctx context.Context, owner string) iter.Seq2[cloudswitch.Instance, error] {
	return d.p.Instances(ctx, owner)
}

type resizing struct{ plain }

type resizingPreflighter struct{ *preflighting }

func (resizingPreflighter) Resize(_ context.Context, inst cloudswitch.Instance, t string) (cloudswitch.Instance, error) {
	return inst, nil
}

func (resizing) Resize(_ context.Context, inst cloudswitch.Instance, t string) (cloudswitch.Instance, error) {
	inst.InstanceType = t
	return inst, nil
}

func TestCanaryRunsFirstThenWaitsForTheCheck(t *testing.T) {
	w := newWorld(t)
	ids := w.addAWS(t, 20)
	plan := w.planAll(t, ids, toHetzner)
	var atCheck fleet.Progress
	sum := w.apply(t, t.Context(), w.switcher(t, nil), plan, fleet.Options{Concurrency: 5, Canary: 3,
		AfterCanary: func(_ context.Context, p fleet.Progress) error { atCheck = p; return nil }})
	assert.Equal(t, 3, atCheck.Started, "only the canary had started at the check")
	assert.Equal(t, 3, atCheck.Done, "the canary had finished at the check")
	assert.Equal(t, 20, sum.Done, "the rest went on after the check")
}

func TestCanaryCheckThatSaysNoStopsTheRest(t *testing.T) {
	w := newWorld(t)
	ids := w.addAWS(t, 20)
	plan := w.planAll(t, ids, toHetzner)
	sum := w.apply(t, t.Context(), w.switcher(t, nil), plan, fleet.Options{Concurrency: 5, Canary: 3,
		AfterCanary: func(context.Context, fleet.Progress) error {
			return errors.New("health check: 2 of 3 canaries unreachable")
		}})
	assert.Equal(t, fleet.StopCanaryCheck, sum.Stopped)
	assert.Contains(t, sum.Detail, "unreachable")
	assert.Equal(t, 3, sum.Started)
	assert.Equal(t, 3, w.onHetzner(t, ids), "nothing but the canary moved")
	assert.Equal(t, fleet.Partial, sum.Outcome())
}

func TestAFailingCanaryStopsTheRestWithoutAsking(t *testing.T) {
	w := newWorld(t)
	ids := w.addAWS(t, 20)
	w.aws.FailNext(memprovider.OpDeprovision, 1, memprovider.ErrDenied)
	plan := w.planAll(t, ids, toHetzner)
	asked := false
	sum := w.apply(t, t.Context(), w.switcher(t, nil), plan, fleet.Options{Concurrency: 5, Canary: 3,
		AfterCanary: func(context.Context, fleet.Progress) error { asked = true; return nil }})
	assert.Equal(t, fleet.StopCanaryFailed, sum.Stopped)
	assert.False(t, asked, "the check is not asked after a failed canary")
	assert.Equal(t, 3, sum.Started)
	assert.Equal(t, 1, sum.Failed)
}

func TestFailureBudgetStopsStartingAfterKFailures(t *testing.T) {
	w := newWorld(t)
	ids := w.addAWS(t, 30)
	w.aws.SetFaultFunc(func(c memprovider.Call) memprovider.Fault {
		return memprovider.Fault{Err: memprovider.ErrDenied} // every destroy refused: nothing changes
	})
	plan := w.planAll(t, ids, toHetzner)
	sum := w.apply(t, t.Context(), w.switcher(t, nil), plan, fleet.Options{Concurrency: 3, MaxFailures: 4})
	assert.Equal(t, fleet.StopFailureBudget, sum.Stopped)
	assert.GreaterOrEqual(t, sum.Failed, 4)
	assert.LessOrEqual(t, sum.Started, 4+2, "no switch started after the 4th failure but those already in flight")
	assert.Equal(t, sum.Started, sum.Failed+sum.Done, "every started switch finished")
	assert.Len(t, sum.Failures, sum.Failed)
}

func TestFailureBudgetStopsAtAFractionOfFailures(t *testing.T) {
	w := newWorld(t)
	ids := w.addAWS(t, 30)
	var n atomic.Int64
	w.aws.SetFaultFunc(func(c memprovider.Call) memprovider.Fault {
		if n.Add(1) <= 2 {
			return memprovider.Fault{}
		}
		return memprovider.Fault{Err: memprovider.ErrDenied}
	})
	plan := w.planAll(t, ids, toHetzner)
	sum := w.apply(t, t.Context(), w.switcher(t, nil), plan, fleet.Options{Concurrency: 1, MaxFailureRatio: 0.5, MinForRatio: 4})
	assert.Equal(t, fleet.StopFailureBudget, sum.Stopped)
	assert.Equal(t, 5, sum.Started, "2 done and 2 failed is 50%%; the 3rd failure made 60%%")
	assert.Equal(t, 3, sum.Failed)
}

func TestStopLetsInFlightSwitchesFinishAndStartsNoMore(t *testing.T) {
	w := newWorld(t)
	ids := w.addAWS(t, 30)
	w.aws.SetLatency(time.Millisecond)
	plan := w.planAll(t, ids, toHetzner)
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	var started atomic.Int64
	sum := w.apply(t, ctx, w.switcher(t, nil), plan, fleet.Options{Concurrency: 2, Progress: func(e fleet.Event) {
		if e.Kind == fleet.EventStarted && started.Add(1) == 4 {
			stop() // Ctrl-C
		}
	}})
	assert.Equal(t, fleet.StopCancelled, sum.Stopped)
	assert.LessOrEqual(t, sum.Started, 4+2, "at most the slots already taken started after the stop")
	assert.Zero(t, sum.Failed, "the in-flight switches were not cut short")
	assert.Equal(t, sum.Started, sum.Done)
	assert.Equal(t, sum.Done, w.onHetzner(t, ids), "exactly the finished switches moved; none is left half-way")

	// Applying the same plan again continues: the done ones are skipped.
	again := w.apply(t, t.Context(), w.switcher(t, nil), plan, fleet.Options{Concurrency: 4})
	assert.Equal(t, sum.Done, again.Skipped, "the workspaces switched before the stop are skipped as done")
	assert.Equal(t, 30-sum.Done, again.Done)
	assert.Equal(t, fleet.Succeeded, again.Outcome())
	assert.Equal(t, 30, w.onHetzner(t, ids))
}

func TestAbortCutsInFlightWaitsShortAndLeavesThemJournaledOrUnchanged(t *testing.T) {
	w := newWorld(t)
	ids := w.addAWS(t, 6)
	limits := map[string]*rate.Limiter{cloudswitch.AWS: rate.NewLimiter(rate.Every(time.Minute), 2)}
	providers := fleet.RateLimitAll(w.providers, limits)
	plan := w.planAll(t, ids, toHetzner)
	ctx, stop := context.WithCancel(t.Context())
	abort, abortNow := context.WithCancel(t.Context())
	// Progress is called one event at a time, so plain counters do. The
	// Ctrl-Cs come once all six switches started and two finished: the
	// other four are then certainly waiting for AWS tokens.
	var started, done int
	sum := w.apply(t, ctx, w.switcher(t, providers), plan, fleet.Options{Concurrency: 6, Abort: abort, Progress: func(e fleet.Event) {
		switch e.Kind {
		case fleet.EventStarted:
			started++
		case fleet.EventDone:
			done++
		default:
			return
		}
		if started == 6 && done == 2 {
			stop()     // first Ctrl-C
			abortNow() // second Ctrl-C: the four waiting for AWS tokens give up
		}
	}})
	assert.Equal(t, 6, sum.Started, "all six switches started before the Ctrl-Cs")
	assert.Equal(t, 2, sum.Done, "two tokens, two switches")
	assert.Equal(t, 4, sum.Failed, "the in-flight switches (waiting for tokens) were cut short")
	for _, f := range sum.Failures {
		ws := w.get(t, f.WorkspaceID)
		assert.Nil(t, ws.Pending, "%s: a wait cut short is a refusal: the switch aborted with nothing changed", f.WorkspaceID)
		assert.Equal(t, cloudswitch.AWS, ws.Compute.Provider)
	}
	assert.Equal(t, 2, w.onHetzner(t, ids))
}

// A crash mid-apply leaves switches journaled; applying the plan again
// resumes them (once their lease expired) and skips the done ones.
func TestApplyingAgainAfterACrashResumesJournaledSwitches(t *testing.T) {
	w := newWorld(t)
	ids := w.addAWS(t, 10)
	// Four creations are accepted but their answers lost, as when the
	// process dies right after the cloud acted: the switches stay journaled.
	w.hz.LoseResponse(memprovider.OpProvision, 4, memprovider.ErrUnexplained)
	plan := w.planAll(t, ids, toHetzner)
	first := w.apply(t, t.Context(), w.switcher(t, nil), plan, fleet.Options{Concurrency: 1})
	require.Equal(t, 4, first.Failed)
	pending := 0
	for _, id := range ids {
		if w.get(t, id).Pending != nil {
			pending++
		}
	}
	require.Equal(t, 4, pending, "the lost answers left four switches journaled")

	later := func() time.Time { return time.Now().Add(cloudswitch.DefaultLease + time.Minute) }
	var ev events
	second := w.apply(t, t.Context(), w.switcher(t, nil, cloudswitch.WithClock(later)), plan,
		fleet.Options{Concurrency: 3, Progress: ev.add})
	assert.Equal(t, fleet.Succeeded, second.Outcome(), "failures: %v", second.Failures)
	assert.Equal(t, 6, second.Skipped, "the six done workspaces are skipped")
	assert.Equal(t, 4, second.Done, "the four journaled ones are resumed")
	resumed := 0
	for _, e := range ev.kinds(fleet.EventDone) {
		if e.Resumed {
			resumed++
		}
	}
	assert.Equal(t, 4, resumed)
	assert.Equal(t, 10, w.onHetzner(t, ids))
	assert.Len(t, w.hz.Live(), 10, "no VM left that no record points at")
	assert.Empty(t, w.aws.Live())
}

func TestApplyRefusesWorkspacesThatChangedSincePlanning(t *testing.T) {
	w := newWorld(t)
	ids := w.addAWS(t, 5)
	plan := w.planAll(t, ids, toHetzner)
	ws := w.get(t, ids[2])
	ws.Compute.InstanceType = "t3.large"
	_, err := w.store.Update(t.Context(), ws)
	require.NoError(t, err)

	var ev events
	sum := w.apply(t, t.Context(), w.switcher(t, nil), plan, fleet.Options{Progress: ev.add})
	assert.Equal(t, 4, sum.Done)
	assert.Equal(t, 1, sum.Refused)
	refused := ev.kinds(fleet.EventRefused)
	require.Len(t, refused, 1)
	assert.Equal(t, ids[2], refused[0].WorkspaceID)
	assert.Contains(t, refused[0].Reason, "changed since planning")
	assert.Equal(t, "t3.large", w.get(t, ids[2]).Compute.InstanceType, "the changed workspace was left alone")
	assert.Equal(t, fleet.Partial, sum.Outcome())

	// A plan all of whose workspaces changed is refused as a whole.
	w2 := newWorld(t)
	ids2 := w2.addAWS(t, 2)
	plan2 := w2.planAll(t, ids2, toHetzner)
	for _, id := range ids2 {
		ws := w2.get(t, id)
		ws.Compute.InstanceType = "t3.large"
		_, err := w2.store.Update(t.Context(), ws)
		require.NoError(t, err)
	}
	assert.Equal(t, fleet.Refused, w2.apply(t, t.Context(), w2.switcher(t, nil), plan2, fleet.Options{}).Outcome())
}

func TestProgressReachesAChannel(t *testing.T) {
	w := newWorld(t)
	ids := w.addAWS(t, 3)
	plan := w.planAll(t, ids, toHetzner)
	ch := make(chan fleet.Event, 100)
	w.apply(t, t.Context(), w.switcher(t, nil), plan, fleet.Options{Progress: fleet.Channel(ch)})
	close(ch)
	n := 0
	for e := range ch {
		if e.Kind == fleet.EventDone {
			n++
		}
	}
	assert.Equal(t, 3, n)
}

// Applying a plan streamed from a planner on the same context: the stop
// ends the planner too, and that is a stop, not an unreadable plan.
func TestStopDuringAStreamedPlanIsAStopNotAnError(t *testing.T) {
	w := newWorld(t)
	ids := w.addAWS(t, 20)
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	p := w.planner(t)
	sel := fleet.Where("on aws", fleet.OnProvider(cloudswitch.AWS, ""))
	a, err := fleet.NewApplier(w.switcher(t, nil), w.store)
	require.NoError(t, err)
	var started atomic.Int64
	sum, err := a.Apply(ctx, p.Header(sel, toHetzner), p.Steps(ctx, sel, toHetzner), fleet.Options{Concurrency: 1,
		Progress: func(e fleet.Event) {
			if e.Kind == fleet.EventStarted && started.Add(1) == 2 {
				stop()
			}
		}})
	require.NoError(t, err)
	assert.Equal(t, fleet.StopCancelled, sum.Stopped)
	assert.Equal(t, sum.Done, w.onHetzner(t, ids))
}
