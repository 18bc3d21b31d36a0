package broker

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pogo-websocket/pogo-websocket/host-go/metricalias"
)

// The collectors are shared by every broker of the process, so that their
// values survive Caddy reloads.
var metrics = struct {
	up       prometheus.Gauge
	sent     prometheus.Counter
	dropped  *prometheus.CounterVec
	received *prometheus.CounterVec
}{
	up: prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: "pogo_websocket", Subsystem: "broker", Name: "up",
		Help: "1 while Redis answers and this node is subscribed, else 0.",
	}),
	sent: prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "pogo_websocket", Subsystem: "broker", Name: "sent_total",
		Help: "Relay records published to Redis for the other nodes.",
	}),
	dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "pogo_websocket", Name: "broker_dropped_messages_total",
		Help: "Relay records that never reached Redis, by reason (queue_full, publish_failed).",
	}, []string{"reason"}),
	received: prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "pogo_websocket", Subsystem: "broker", Name: "received_total",
		Help: "Messages from the other nodes, by outcome (delivered, malformed).",
	}, []string{"outcome"}),
}

func init() {
	// Known label values start at 0.
	for _, r := range []string{"queue_full", "publish_failed"} {
		metrics.dropped.WithLabelValues(r)
	}
}

// firstReleaseDropped is the first release's name of
// broker_dropped_messages_total, kept for the dashboards written against it.
var firstReleaseDropped = metricalias.New(metrics.dropped, "pogo_websocket_broker_dropped_total",
	"Relay records that never reached Redis, by reason (the first release's name of broker_dropped_messages_total).",
	prometheus.CounterValue, "reason")

// RegisterMetrics registers the broker's Prometheus collectors into reg.
// Registering into a registry that already has them is not an error.
func RegisterMetrics(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{metrics.up, metrics.sent, metrics.dropped, metrics.received, firstReleaseDropped} {
		if err := reg.Register(c); err != nil && !errors.As(err, &prometheus.AlreadyRegisteredError{}) {
			return fmt.Errorf("registering broker metrics: %w", err)
		}
	}
	return nil
}
