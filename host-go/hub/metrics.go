package hub

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// The collectors are shared by every hub of the process, so that their values
// survive Caddy reloads: each config load registers them into its own registry.
var metrics = struct {
	connections     prometheus.Gauge
	messages        prometheus.Counter
	framesSent      prometheus.Counter
	slowCloses      prometheus.Counter
	batches         prometheus.Counter
	engineErrors    prometheus.Counter
	batchDuration   prometheus.Histogram
	publishRejected prometheus.Counter
	remoteDropped   prometheus.Counter
	authRequests    *prometheus.CounterVec
	engineMemory    prometheus.Gauge
}{
	connections: prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: "pogo_websocket", Name: "connections",
		Help: "Open WebSocket connections.",
	}),
	messages: prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "pogo_websocket", Name: "messages_received_total",
		Help: "Complete WebSocket text messages received from clients.",
	}),
	framesSent: prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "pogo_websocket", Name: "frames_sent_total",
		Help: "WebSocket frames written to clients.",
	}),
	slowCloses: prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "pogo_websocket", Name: "slow_client_closes_total",
		Help: "Connections closed because their outbound queue was full.",
	}),
	batches: prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "pogo_websocket", Name: "engine_batches_total",
		Help: "Event batches processed by the engine.",
	}),
	engineErrors: prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "pogo_websocket", Name: "engine_errors_total",
		Help: "Engine calls that trapped, and malformed action batches.",
	}),
	batchDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "pogo_websocket", Name: "engine_batch_duration_seconds",
		Help:    "Time to process one event batch and dispatch its actions.",
		Buckets: prometheus.ExponentialBuckets(10e-6, 4, 10), // 10µs to ~2.6s
	}),
	publishRejected: prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "pogo_websocket", Name: "publish_rejected_total",
		Help: "Native publishes refused because the event queue was full.",
	}),
	remoteDropped: prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "pogo_websocket", Name: "remote_dropped_total",
		Help: "Events from other nodes dropped because the event queue was full.",
	}),
	authRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "pogo_websocket", Name: "auth_fallback_total",
		Help: "Subscribes without auth sent to the auth workers, by outcome (answered, failed, refused: no workers).",
	}, []string{"outcome"}),
	engineMemory: prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: "pogo_websocket", Name: "engine_memory_bytes",
		Help: "Size of the engine's WebAssembly linear memory.",
	}),
}

// RegisterMetrics registers the hub's Prometheus collectors into reg (in
// Caddy, ctx.GetMetricsRegistry()). Registering into a registry that already
// has them is not an error.
func RegisterMetrics(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{
		metrics.connections, metrics.messages, metrics.framesSent, metrics.slowCloses,
		metrics.batches, metrics.engineErrors, metrics.batchDuration, metrics.publishRejected,
		metrics.remoteDropped, metrics.authRequests, metrics.engineMemory,
	} {
		if err := reg.Register(c); err != nil && !errors.As(err, &prometheus.AlreadyRegisteredError{}) {
			return fmt.Errorf("registering hub metrics: %w", err)
		}
	}
	return nil
}
