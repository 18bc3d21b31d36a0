package hub

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pogo-websocket/pogo-websocket/host-go/engine"
	"github.com/pogo-websocket/pogo-websocket/host-go/metricalias"
)

// The collectors are shared by every hub of the process, so that their values
// survive Caddy reloads: each config load registers them into its own registry.
var metrics = struct {
	connections     prometheus.Gauge
	subscriptions   prometheus.Gauge
	broadcasts      prometheus.Counter
	messages        prometheus.Counter
	framesSent      prometheus.Counter
	slowCloses      prometheus.Counter
	droppedMessages prometheus.Counter
	batches         prometheus.Counter
	engineErrors    prometheus.Counter
	engineRecovery  prometheus.Counter
	batchDuration   prometheus.Histogram
	publishFailures *prometheus.CounterVec
	remoteDropped   prometheus.Counter
	authRequests    *prometheus.CounterVec
	authFailures    *prometheus.CounterVec
	authDuration    prometheus.Histogram
	breakerOpen     prometheus.Counter
	engineMemory    prometheus.Gauge
}{
	connections: prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: "pogo_websocket", Name: "connections_active",
		Help: "Open WebSocket connections.",
	}),
	subscriptions: prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: "pogo_websocket", Name: "subscriptions_active",
		Help: "Channel subscriptions of the connections of this node.",
	}),
	broadcasts: prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "pogo_websocket", Name: "messages_total",
		Help: "Messages broadcast to a channel's subscribers on this node, each counted once per engine shard with recipients, whatever their number.",
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
	droppedMessages: prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "pogo_websocket", Name: "client_dropped_messages_total",
		Help: "Frames dropped, unwritten, when a slow client's outbound queue overflowed.",
	}),
	batches: prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "pogo_websocket", Name: "engine_batches_total",
		Help: "Event batches processed by the engine.",
	}),
	engineErrors: prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "pogo_websocket", Name: "engine_errors_total",
		Help: "Engine calls that trapped, and malformed action batches.",
	}),
	engineRecovery: prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "pogo_websocket", Name: "engine_recoveries_total",
		Help: "Engine calls that overran their deadline or trapped, each followed by a fresh engine instance.",
	}),
	batchDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "pogo_websocket", Name: "engine_batch_duration_seconds",
		Help:    "Time to process one event batch and dispatch its actions.",
		Buckets: prometheus.ExponentialBuckets(10e-6, 4, 10), // 10µs to ~2.6s
	}),
	publishFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "pogo_websocket", Name: "publish_failures_total",
		Help: "Publishes refused, native (PHP) or through the HTTP API, by app and reason.",
	}, []string{"app", "reason"}),
	remoteDropped: prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "pogo_websocket", Name: "remote_dropped_total",
		Help: "Events from other nodes dropped because the event queue was full.",
	}),
	authRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "pogo_websocket", Name: "auth_fallback_total",
		Help: "Subscribes without auth sent to the auth workers, by outcome (answered, failed, refused: no workers).",
	}, []string{"outcome"}),
	authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "pogo_websocket", Name: "auth_failures_total",
		Help: "Authorisations the PHP auth workers could not answer, by reason (concurrency_limit, worker_error).",
	}, []string{"reason"}),
	authDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "pogo_websocket", Name: "auth_duration_seconds",
		Help:    "Time the PHP auth workers took to answer an authorisation.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 10), // 1ms to ~3.8s
	}),
	breakerOpen: prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "pogo_websocket", Name: "circuit_breaker_open_total",
		Help: "Authorisations refused at once because the auth workers' circuit breaker was open.",
	}),
	engineMemory: prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: "pogo_websocket", Name: "engine_memory_bytes",
		Help: "Size of the engine's WebAssembly linear memory.",
	}),
}

// firstReleaseNames are the first release's names of two hub metrics, kept
// beside the current ones for the dashboards and alerts written against it.
var firstReleaseNames = []prometheus.Collector{
	metricalias.New(metrics.subscriptions, "pogo_websocket_subscriptions_total",
		"Channel subscriptions of the connections of this node (the first release's name of subscriptions_active).",
		prometheus.GaugeValue),
	metricalias.New(metrics.droppedMessages, "pogo_websocket_messages_dropped_total",
		"Frames dropped when a slow client's outbound queue overflowed (the first release's name of client_dropped_messages_total).",
		prometheus.CounterValue),
}

// RegisterMetrics registers the hub's Prometheus collectors into reg (in
// Caddy, ctx.GetMetricsRegistry()). Registering into a registry that already
// has them is not an error.
func RegisterMetrics(reg prometheus.Registerer) error {
	for _, c := range append([]prometheus.Collector{
		metrics.connections, metrics.subscriptions, metrics.broadcasts, metrics.messages,
		metrics.framesSent, metrics.slowCloses, metrics.droppedMessages, metrics.batches,
		metrics.engineErrors, metrics.engineRecovery, metrics.batchDuration, metrics.publishFailures,
		metrics.remoteDropped, metrics.authRequests, metrics.authFailures, metrics.authDuration,
		metrics.breakerOpen, metrics.engineMemory,
	}, firstReleaseNames...) {
		if err := reg.Register(c); err != nil && !errors.As(err, &prometheus.AlreadyRegisteredError{}) {
			return fmt.Errorf("registering hub metrics: %w", err)
		}
	}
	if hot != nil {
		for _, c := range []prometheus.Collector{hot.fanout, hot.queueDepth, hot.writeDuration} {
			if err := reg.Register(c); err != nil && !errors.As(err, &prometheus.AlreadyRegisteredError{}) {
				return fmt.Errorf("registering hot path metrics: %w", err)
			}
		}
	}
	return nil
}

func init() {
	// Known label values start at 0, so that dashboards and alerts see
	// every series from the start.
	for _, r := range []AuthFailure{AuthConcurrencyLimit, AuthWorkerError} {
		metrics.authFailures.WithLabelValues(string(r))
	}
}

// Reasons a publish is refused: the PHP functions' codes 1 to 10, and the
// HTTP API's refusals.
const (
	PublishHubMissing          = "hub_missing"
	PublishChannelInvalid      = "channel_invalid"
	PublishEventInvalid        = "event_invalid"
	PublishPayloadTooLarge     = "payload_too_large"
	PublishPayloadInvalid      = "payload_invalid"
	PublishBrokerPublishFailed = "broker_publish_failed"
	PublishChannelsInvalid     = "channels_invalid"
	PublishBrokerQueueFull     = "broker_queue_full"
	PublishShardQueueFull      = "shard_queue_full"
	PublishSocketIDInvalid     = "socket_id_invalid"
	PublishUnauthorized        = "unauthorized"
	PublishInvalidRequest      = "invalid_request"
	PublishTimeout             = "timeout"
)

var publishReasons = []string{
	PublishHubMissing, PublishChannelInvalid, PublishEventInvalid, PublishPayloadTooLarge,
	PublishPayloadInvalid, PublishBrokerPublishFailed, PublishChannelsInvalid, PublishBrokerQueueFull,
	PublishShardQueueFull, PublishSocketIDInvalid, PublishUnauthorized, PublishInvalidRequest, PublishTimeout,
}

// CountPublishFailure counts a publish to app refused for reason (one of
// the Publish* reasons).
func CountPublishFailure(app, reason string) {
	metrics.publishFailures.WithLabelValues(app, reason).Inc()
}

// initPublishFailures creates the series of every reason of apps at 0.
func initPublishFailures(apps []engine.App) {
	for _, app := range apps {
		for _, r := range publishReasons {
			metrics.publishFailures.WithLabelValues(app.ID, r)
		}
	}
}

// AuthFailure is why the auth workers could not answer an authorisation.
type AuthFailure string

// Auth failure reasons.
const (
	// AuthConcurrencyLimit: max_concurrent_auth authorisations were in flight.
	AuthConcurrencyLimit AuthFailure = "concurrency_limit"
	// AuthWorkerError: the script failed, timed out or answered garbage.
	AuthWorkerError AuthFailure = "worker_error"
)

// ObserveAuth records one authorisation the auth workers ran for d.
func ObserveAuth(d time.Duration) {
	metrics.authDuration.Observe(d.Seconds())
}

// CountAuthFailure counts an authorisation that failed for reason.
func CountAuthFailure(reason AuthFailure) {
	metrics.authFailures.WithLabelValues(string(reason)).Inc()
}

// CountBreakerOpen counts an authorisation refused by the open circuit breaker.
func CountBreakerOpen() {
	metrics.breakerOpen.Inc()
}

// countSubscriptions moves the subscriptions gauge by the engine's change
// since it last looked (a fresh or closed engine holds none). Engine
// goroutine, or Shutdown once it has stopped.
func (h *Hub) countSubscriptions() {
	n := int64(0)
	if h.eng != nil {
		n = int64(h.eng.Subscriptions())
	}
	if d := n - h.subscriptions; d != 0 {
		metrics.subscriptions.Add(float64(d))
		h.subscriptions = n
	}
}

// hot holds the hot path's histograms, nil (and nothing observed, nothing
// registered) unless POGO_WS_HOT_PATH_METRICS=true.
var hot = newHotPathMetrics(os.Getenv("POGO_WS_HOT_PATH_METRICS") == "true")

type hotPathMetrics struct {
	fanout        prometheus.Histogram
	queueDepth    prometheus.Histogram
	writeDuration prometheus.Histogram
}

func newHotPathMetrics(on bool) *hotPathMetrics {
	if !on {
		return nil
	}
	return &hotPathMetrics{
		fanout: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "pogo_websocket", Name: "fanout_size",
			Help:    "Recipients on one engine shard of this node of one broadcast message.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 10), // 1 to 262144
		}),
		queueDepth: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "pogo_websocket", Name: "queue_depth_bytes",
			Help:    "Bytes waiting in a connection's outbound queue when a frame is added.",
			Buckets: prometheus.ExponentialBuckets(64, 4, 10), // 64 B to 16 MiB
		}),
		writeDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "pogo_websocket", Name: "write_duration_seconds",
			Help:    "Time of one write of queued frames to a client socket.",
			Buckets: prometheus.ExponentialBuckets(10e-6, 4, 10), // 10µs to ~2.6s
		}),
	}
}
