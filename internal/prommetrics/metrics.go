// Package prommetrics makes go-kit metrics on Prometheus, one registry per
// service.
package prommetrics

import (
	"net/http"

	"github.com/go-kit/kit/metrics"
	kitprometheus "github.com/go-kit/kit/metrics/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics makes a service's Prometheus metrics as go-kit metrics, on a
// registry of the service's own: several services (make run, the tests)
// share one process, and the default registry would see them collide.
type Metrics struct {
	reg       *prometheus.Registry
	namespace string
}

// NewMetrics returns the metrics of the service namespace, with the Go
// runtime's and the process's.
func NewMetrics(namespace string) *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &Metrics{reg: reg, namespace: namespace}
}

// Counter registers and returns a counter.
func (m *Metrics) Counter(name, help string, labels ...string) metrics.Counter {
	cv := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: m.namespace, Name: name, Help: help}, labels)
	m.reg.MustRegister(cv)
	return kitprometheus.NewCounter(cv)
}

// Histogram registers and returns a histogram of durations in seconds.
func (m *Metrics) Histogram(name, help string, labels ...string) metrics.Histogram {
	hv := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: m.namespace, Name: name, Help: help, Buckets: prometheus.DefBuckets}, labels)
	m.reg.MustRegister(hv)
	return kitprometheus.NewHistogram(hv)
}

// StoreCommands registers and returns the counters of what a service asks
// of MongoDB, for package mongostore's CountCommands: the commands, and the
// documents they carry, by command and collection. make bench reads them by
// these names.
func (m *Metrics) StoreCommands() (commands, documents metrics.Counter) {
	return m.Counter("store_commands_total", "Commands sent to MongoDB, by command and collection.", "command", "collection"),
		m.Counter("store_documents_total", "Documents those commands inserted or deleted (1 for a find).", "command", "collection")
}

// RedisCommands registers and returns the counter of the commands a
// service sends to Redis, by command, for package pubsub's CountCommands.
// make bench reads it by this name.
func (m *Metrics) RedisCommands() metrics.Counter {
	return m.Counter("redis_commands_total", "Commands sent to Redis, by command.", "command")
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
