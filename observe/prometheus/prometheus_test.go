package prometheus_test

import (
	"strings"
	"testing"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/cloudswitch/cloudswitch"
	"github.com/cloudswitch/cloudswitch/observe/prometheus"
	"github.com/cloudswitch/cloudswitch/providers/memprovider"
	"github.com/cloudswitch/cloudswitch/store/memstore"
)

type world struct {
	reg   *prom.Registry
	obs   *prometheus.Observer
	store *memstore.Store
	aws   *memprovider.Provider
	hz    *memprovider.Provider
	sw    *cloudswitch.Switcher
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{reg: prom.NewRegistry(), store: memstore.New(),
		aws: memprovider.New(cloudswitch.AWS), hz: memprovider.New(cloudswitch.Hetzner)}
	var err error
	if w.obs, err = prometheus.NewObserver(w.reg); err != nil {
		t.Fatal(err)
	}
	w.sw, err = cloudswitch.New(w.store, w.providers(), cloudswitch.WithObserver(w.obs),
		cloudswitch.WithRetryPolicy(cloudswitch.RetryPolicy{InitialInterval: time.Microsecond, MaxAttempts: 3}))
	require.NoError(t, err)
	ctx := t.Context()
	if _, err := w.store.Create(ctx, cloudswitch.Workspace{ID: "ws", Compute: cloudswitch.Compute{Provider: "aws", InstanceType: "t3.medium"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.sw.Switch(ctx, "ws", cloudswitch.Request{}); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) providers() map[string]cloudswitch.Provider {
	return map[string]cloudswitch.Provider{cloudswitch.AWS: w.aws, cloudswitch.Hetzner: w.hz}
}

var toHetzner = cloudswitch.Request{Compute: cloudswitch.Compute{Provider: cloudswitch.Hetzner}, ConfirmRecreate: true}

func TestFailedStopIncrementsTheAbortCounter(t *testing.T) {
	w := newWorld(t)
	w.aws.FailNext(memprovider.OpDeprovision, 1, memprovider.ErrDenied)
	if _, err := w.sw.Switch(t.Context(), "ws", toHetzner); err == nil {
		t.Fatal("the switch should have aborted")
	}
	want := `
# HELP cloudswitch_switches_total Switch and Resume calls by outcome (switched, updated, unchanged, rejected, aborted, incomplete).
# TYPE cloudswitch_switches_total counter
cloudswitch_switches_total{outcome="aborted",resumed="false"} 1
cloudswitch_switches_total{outcome="switched",resumed="false"} 1
`
	require.NoError(t, testutil.GatherAndCompare(w.reg, strings.NewReader(want), "cloudswitch_switches_total"))
	if n := metric(t, w.reg, "cloudswitch_stage_duration_seconds", map[string]string{"stage": "deprovision", "provider": "aws", "result": "error"}); n != 1 {
		t.Fatalf("failed stops recorded in the stage latencies: %v; want 1", n)
	}
}

func TestRetriesAreCounted(t *testing.T) {
	w := newWorld(t)
	w.aws.FailNext(memprovider.OpDeprovision, 2, memprovider.ErrThrottled)
	if _, err := w.sw.Switch(t.Context(), "ws", toHetzner); err != nil {
		t.Fatal(err)
	}
	if n := metric(t, w.reg, "cloudswitch_provider_retries_total", map[string]string{"stage": "deprovision", "provider": "aws"}); n != 2 {
		t.Fatalf("retries of the stop counted: %v; want 2", n)
	}
}

func TestReconcileMetrics(t *testing.T) {
	w := newWorld(t)
	now := time.Now().Add(48 * time.Hour)
	installation, _ := w.store.InstallationID(t.Context())
	w.aws.AddForInstallation(cloudswitch.DefaultOwner, installation, "gone", cloudswitch.Compute{Provider: "aws", InstanceType: "t3.medium"})
	// A store holding no workspace at all deletes nothing: keep one.
	if _, err := w.store.Create(t.Context(), cloudswitch.Workspace{ID: "kept", Compute: cloudswitch.Compute{Provider: "aws", InstanceType: "t3.medium"}}); err != nil {
		t.Fatal(err)
	}
	r, err := cloudswitch.NewReconciler(w.store, w.providers(), cloudswitch.WithDeleteOrphans(true),
		cloudswitch.WithResumeOptions(cloudswitch.WithObserver(w.obs), cloudswitch.WithClock(func() time.Time { return now })))
	require.NoError(t, err)
	if _, err := r.Reconcile(t.Context()); err != nil {
		t.Fatal(err)
	}
	aws := map[string]string{"provider": "aws"}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"cloudswitch_orphans_found_total", aws, 1},
		{"cloudswitch_orphans_deleted_total", aws, 1},
		{"cloudswitch_pending_intents", nil, 0},
		{"cloudswitch_dangling_records", nil, 0},
		{"cloudswitch_reconcile_duration_seconds", nil, 1},
		{"cloudswitch_reconcile_errors_total", nil, 0},
	} {
		if got := metric(t, w.reg, c.name, c.labels); got != c.want {
			t.Errorf("%s = %v; want %v", c.name, got, c.want)
		}
	}
}

func TestRegisteringTwiceFails(t *testing.T) {
	reg := prom.NewRegistry()
	if _, err := prometheus.NewObserver(reg); err != nil {
		t.Fatal(err)
	}
	if _, err := prometheus.NewObserver(reg); err == nil {
		t.Fatal("a second observer on the same registry must fail, not panic or shadow the first")
	}
	if _, err := prometheus.NewObserver(nil); err == nil {
		t.Fatal("a nil registerer must be refused")
	}
}

// metric returns the value of one series as the registry exposes it.
func metric(t *testing.T, reg *prom.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue series
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return -1
}
