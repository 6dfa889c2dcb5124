// Package prometheus exports what cloudswitch does as Prometheus metrics: a
// cloudswitch.Observer that counts switches by outcome, times each stage,
// counts retries and orphans, and gauges the intents left pending.
//
//	obs, err := prometheus.NewObserver(prom.DefaultRegisterer)
//	sw, err := cloudswitch.New(store, drivers, cloudswitch.WithObserver(obs))
//	rec, err := sw.Reconciler() // reports to the Switcher's observer
//
// Metrics (namespace "cloudswitch"):
//
//	cloudswitch_switches_total{outcome,resumed}          switches and resumes by outcome
//	cloudswitch_switch_duration_seconds{outcome}         how long they took
//	cloudswitch_stage_duration_seconds{stage,provider,result}
//	cloudswitch_provider_retries_total{stage,provider}   transient errors retried
//	cloudswitch_orphans_found_total{provider}            VMs no record points at
//	cloudswitch_orphans_deleted_total{provider}
//	cloudswitch_pending_intents                          intents pending after the last reconcile pass
//	cloudswitch_dangling_records                         records naming a VM that no longer exists (last pass)
//	cloudswitch_reconcile_duration_seconds
//	cloudswitch_reconcile_errors_total
//
// Labels carry only bounded values (outcomes, stages, provider names): never
// workspace or instance ids.
package prometheus

import (
	"context"
	"errors"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cloudswitch/cloudswitch"
)

// Observer is a cloudswitch.Observer that records metrics. It is safe for
// concurrent use.
type Observer struct {
	cloudswitch.NopObserver

	switches       *prometheus.CounterVec
	switchDuration *prometheus.HistogramVec
	stageDuration  *prometheus.HistogramVec
	retries        *prometheus.CounterVec
	orphansFound   *prometheus.CounterVec
	orphansDeleted *prometheus.CounterVec
	pending        prometheus.Gauge
	dangling       prometheus.Gauge
	reconcileTime  prometheus.Histogram
	reconcileErrs  prometheus.Counter
}

var _ cloudswitch.Observer = (*Observer)(nil)

// NewObserver creates the metrics and registers them with reg; it fails if
// any is already registered there.
func NewObserver(reg prometheus.Registerer) (*Observer, error) {
	if reg == nil {
		return nil, errors.New("cloudswitch/observe/prometheus: nil Registerer")
	}
	const ns = "cloudswitch"
	// Provider calls take from milliseconds to minutes.
	buckets := []float64{0.005, 0.025, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600}
	o := &Observer{
		switches: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "switches_total",
			Help: "Switch and Resume calls by outcome (switched, updated, unchanged, rejected, aborted, incomplete)."},
			[]string{"outcome", "resumed"}),
		switchDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "switch_duration_seconds",
			Help: "Duration of Switch and Resume calls.", Buckets: buckets}, []string{"outcome"}),
		stageDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "stage_duration_seconds",
			Help: "Duration of each stage of a switch, retries included.", Buckets: buckets}, []string{"stage", "provider", "result"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "provider_retries_total",
			Help: "Provider calls retried after a transient error."}, []string{"stage", "provider"}),
		orphansFound: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "orphans_found_total",
			Help: "VMs found that no workspace record references or holds."}, []string{"provider"}),
		orphansDeleted: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "orphans_deleted_total",
			Help: "Orphaned VMs destroyed by the reconciler."}, []string{"provider"}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "pending_intents",
			Help: "Switch intents still pending after the last reconcile pass."}),
		dangling: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "dangling_records",
			Help: "Workspace records naming a VM their provider no longer lists, at the last reconcile pass."}),
		reconcileTime: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "reconcile_duration_seconds",
			Help: "Duration of reconcile passes.", Buckets: buckets}),
		reconcileErrs: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "reconcile_errors_total",
			Help: "Errors met by reconcile passes (unreadable workspaces, failed listings, failed resumes or deletions)."}),
	}
	for _, c := range []prometheus.Collector{o.switches, o.switchDuration, o.stageDuration, o.retries,
		o.orphansFound, o.orphansDeleted, o.pending, o.dangling, o.reconcileTime, o.reconcileErrs} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// SwitchEnded counts the switch and records its duration.
func (o *Observer) SwitchEnded(_ context.Context, e cloudswitch.SwitchEvent) {
	o.switches.WithLabelValues(string(e.Outcome), strconv.FormatBool(e.Resumed)).Inc()
	o.switchDuration.WithLabelValues(string(e.Outcome)).Observe(e.Duration.Seconds())
}

// StageEnded records the stage's duration.
func (o *Observer) StageEnded(_ context.Context, e cloudswitch.StageEvent) {
	result := "ok"
	if e.Err != nil {
		result = "error"
	}
	o.stageDuration.WithLabelValues(string(e.Stage), e.Provider, result).Observe(e.Duration.Seconds())
}

// Retried counts a retry.
func (o *Observer) Retried(_ context.Context, e cloudswitch.RetryEvent) {
	o.retries.WithLabelValues(string(e.Stage), e.Provider).Inc()
}

// OrphanFound counts an orphan, and its deletion.
func (o *Observer) OrphanFound(_ context.Context, e cloudswitch.OrphanEvent) {
	o.orphansFound.WithLabelValues(e.Instance.Provider).Inc()
	if e.Deleted {
		o.orphansDeleted.WithLabelValues(e.Instance.Provider).Inc()
	}
}

// Reconciled records a pass.
func (o *Observer) Reconciled(_ context.Context, e cloudswitch.ReconcileEvent) {
	o.pending.Set(float64(e.Pending))
	o.dangling.Set(float64(e.Dangling))
	o.reconcileTime.Observe(e.Duration.Seconds())
	o.reconcileErrs.Add(float64(e.Errors))
}
