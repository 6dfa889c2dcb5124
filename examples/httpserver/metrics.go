package main

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	cprom "github.com/cloudswitch/cloudswitch/observe/prometheus"
)

// newMetrics returns the cloudswitch Observer that records the metrics, and
// the handler of GET /metrics. The metrics live in a registry of their own,
// with the Go runtime's and the process's, rather than in the global
// default registry.
func newMetrics() (*cprom.Observer, http.Handler, error) {
	reg := prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			return nil, nil, err
		}
	}
	obs, err := cprom.NewObserver(reg)
	if err != nil {
		return nil, nil, err
	}
	return obs, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), nil
}
