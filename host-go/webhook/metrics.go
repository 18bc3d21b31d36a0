package webhook

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Reasons a webhook event is dropped, the values of the reason label.
const (
	// ReasonQueueFull: the intake, hold-back or URL queue was full.
	ReasonQueueFull = "queue_full"
	// ReasonFailed: the request still failed (timeout, refused, 5xx) after every retry.
	ReasonFailed = "failed"
	// ReasonRejected: the receiver answered with a 4xx status, which is not retried.
	ReasonRejected = "rejected"
	// ReasonShutdown: the server stopped before the event was sent.
	ReasonShutdown = "shutdown"
)

// The collectors are shared by every sender of the process, so that their
// values survive Caddy reloads.
var metrics = func() (m struct {
	dropped   *prometheus.CounterVec
	delivered prometheus.Counter
}) {
	m.dropped = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "pogo_websocket", Name: "webhook_dropped_total",
		Help: "Webhook events dropped, by reason (queue_full, failed, rejected, shutdown).",
	}, []string{"reason"})
	// Every known reason starts at 0, so that dashboards see each series.
	for _, r := range []string{ReasonQueueFull, ReasonFailed, ReasonRejected, ReasonShutdown} {
		m.dropped.WithLabelValues(r)
	}
	m.delivered = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "pogo_websocket", Name: "webhook_delivered_total",
		Help: "Webhook events delivered (the receiver answered 2xx).",
	})
	return m
}()

// RegisterMetrics registers the webhook collectors into reg. Registering
// into a registry that already has them is not an error.
func RegisterMetrics(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{metrics.dropped, metrics.delivered} {
		if err := reg.Register(c); err != nil && !errors.As(err, &prometheus.AlreadyRegisteredError{}) {
			return fmt.Errorf("registering webhook metrics: %w", err)
		}
	}
	return nil
}
