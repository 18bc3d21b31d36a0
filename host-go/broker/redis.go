// Package broker shares the events published on one node with the other
// nodes that serve the same apps, over Redis Pub/Sub.
//
// The engine decides what to share: it hands every event published on this
// node (HTTP API, native publish, client event), every terminate_connections
// and every presence arrival or departure to the host as a relay record. A
// Redis broker publishes each record on the Redis channel of its app,
// `<prefix>:<app id>`, and hands the records other nodes publish there back
// to the hub, which feeds them to its engine. Delivery between nodes is at
// most once, like Redis Pub/Sub itself: records sent while Redis is
// unreachable are lost, and counted.
//
// Nodes also talk on `<prefix>#nodes`: each sends a heartbeat every half
// ping interval, and a node that was not heard from for two and a half
// intervals is gone (its presence members leave): checked every quarter
// interval, a node killed without a goodbye is gone within three intervals,
// the three seconds README.md promises with the default interval. A node whose subscription starts, or starts
// again after an outage, forgets the others' members and asks every node to
// relay its presence members again; they forget what it relayed before, and
// it relays its own.
//
// Redis Pub/Sub may lose any message, so every digest interval the engine
// relays a digest of its subscription counts and presence members as one
// more record per app; a node that holds something else for the sender asks
// it, by record, for the part that differs, and the sender's answer replaces
// it (assembly/protocol/entropy.ts). The broker only carries these records
// and keeps the timer.
//
// A message on Redis is one kind byte (record, heartbeat, sync request), the
// sending node's 8-byte id (a node skips its own messages) and, for a
// record, the relay record.
//
// For fault-injection tests, the environment variable
// POGO_WEBSOCKET_FAULT_DROP_RELAY=<kind>:<n> makes the broker drop the next
// n relay records of that kind (the record's first byte, 4 for a
// member_removed) that this node sends, as if Redis had lost them; they are
// counted as dropped_total{reason="fault_injection"}. Never set it in
// production.
package broker

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Errors returned by Err and Send.
var (
	// ErrUnavailable means Redis does not answer, or this node is not
	// subscribed: an event published now would not reach the other nodes.
	ErrUnavailable = errors.New("broker: redis unavailable")
	// ErrQueueFull means the records waiting for Redis fill the queue.
	ErrQueueFull = errors.New("broker: queue full")
)

// Defaults for the zero values of Config.
const (
	DefaultPrefix       = "pogo_websocket"
	DefaultQueueSize    = 4096
	DefaultTimeout      = 2 * time.Second
	DefaultPingInterval = time.Second
	// DefaultDigestInterval is how often the engine's digest goes out: a
	// lost member_removed or count is repaired within about this time.
	DefaultDigestInterval = 5 * time.Second
)

// Kinds of message on Redis, their first byte.
const (
	kindRecord    = 1
	kindHeartbeat = 2
	kindSync      = 3
)

const (
	headerSize = 1 + nodeIDSize
	nodeIDSize = 8
	// maxPipeline bounds the messages sent to Redis in one round trip.
	maxPipeline = 256
	// peerTimeoutQuarters is the number of quarter ping intervals after
	// which a silent node is gone: a heartbeat goes out every two quarters,
	// so four may be late or lost before a live node is taken for gone.
	peerTimeoutQuarters = 10
)

// Config configures a Redis broker. Zero values take the defaults above.
type Config struct {
	// URL locates Redis: redis://[user:password@]host[:port][/db] or rediss:// for TLS.
	URL string
	// Prefix starts the Redis channel names, so that deployments sharing a
	// Redis never see each other's events.
	Prefix string
	// QueueSize is the number of records waiting to be sent to Redis.
	QueueSize int
	// Timeout bounds one Redis round trip (connect, publish, ping).
	Timeout time.Duration
	// PingInterval is how often Redis is pinged to tell whether it is up;
	// this node tells the others it is alive twice per interval, and a node
	// silent for two and a half intervals is gone.
	PingInterval time.Duration
	// DigestInterval is how often this node relays the digest of its
	// subscription counts and presence members, by which the others find
	// and repair what Redis lost.
	DigestInterval time.Duration
	// Logger receives the broker's logs; nil discards them.
	Logger *slog.Logger
}

// Redis is a broker over Redis Pub/Sub. Its methods are safe for concurrent use.
type Redis struct {
	cfg      Config
	log      *slog.Logger
	client   *redis.Client
	pubsub   *redis.PubSub
	channels []string          // the apps' channels, then the nodes' channel
	byApp    map[string]string // app id → its channel, so that Send builds no name
	nodes    string
	node     [nodeIDSize]byte
	out      chan outgoing
	peers    peers
	sync     func()
	digest   func()
	// fault drops outgoing relay records, for fault-injection tests.
	fault faultDrop

	pingOK     atomic.Bool
	subscribed atomic.Bool

	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

type outgoing struct {
	channel string
	payload []byte
	// flushed, set on a marker instead of a message, is closed once what
	// was queued before the marker has been sent (or has failed).
	flushed chan struct{}
}

// New returns a broker for the apps appIDs. It does not connect: Start does.
func New(cfg Config, appIDs []string) (*Redis, error) {
	cfg = withDefaults(cfg)
	opts, err := redis.ParseURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("broker: invalid redis url: %w", err)
	}
	opts.DialTimeout = cfg.Timeout
	opts.ReadTimeout = cfg.Timeout
	opts.WriteTimeout = cfg.Timeout
	opts.ContextTimeoutEnabled = true
	// A failed publish is counted and dropped, never retried: a retry after a
	// timeout could deliver twice.
	opts.MaxRetries = -1
	r := &Redis{
		cfg:    cfg,
		log:    cfg.Logger,
		client: redis.NewClient(opts),
		out:    make(chan outgoing, cfg.QueueSize),
	}
	if _, err := rand.Read(r.node[:]); err != nil {
		return nil, fmt.Errorf("broker: node id: %w", err)
	}
	kind, count, err := parseFaultDrop(os.Getenv(faultDropEnv))
	if err != nil {
		return nil, err
	}
	r.fault.kind = kind
	r.fault.left.Store(count)
	if count > 0 {
		cfg.Logger.Warn("fault injection: relay records will be dropped", "env", faultDropEnv)
	}
	r.byApp = make(map[string]string, len(appIDs))
	for _, id := range appIDs {
		r.byApp[id] = cfg.Prefix + ":" + id
		r.channels = append(r.channels, r.byApp[id])
	}
	// '#' never appears in an app id: no app's channel can be this one.
	r.nodes = cfg.Prefix + "#nodes"
	r.channels = append(r.channels, r.nodes)
	return r, nil
}

// CheckURL reports whether raw is a Redis URL New accepts.
func CheckURL(raw string) error {
	if _, err := redis.ParseURL(raw); err != nil {
		return fmt.Errorf("broker: invalid redis url: %w", err)
	}
	return nil
}

func withDefaults(cfg Config) Config {
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = DefaultPingInterval
	}
	if cfg.DigestInterval <= 0 {
		cfg.DigestInterval = DefaultDigestInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg
}

// Start subscribes to the apps' channels and starts handing what the other
// nodes send: their records to deliver (which must not keep them after it
// returns), with the number of the sending node; gone, when a node has not
// been heard from for two and a half ping intervals; sync, when this node must
// relay its presence members for the others; and digest, every digest
// interval while Redis is up, when this node must relay its digest.
func (r *Redis) Start(deliver func(node uint32, record []byte), gone func(node uint32), sync, digest func()) {
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.peers.gone = gone
	r.sync = sync
	r.digest = digest
	// Subscribe only sends the command: the confirmation arrives on the
	// channel below, and go-redis subscribes again after every reconnect.
	r.pubsub = r.client.Subscribe(r.ctx, r.channels...)
	in := r.pubsub.ChannelWithSubscriptions(
		redis.WithChannelSize(r.cfg.QueueSize),
		redis.WithChannelHealthCheckInterval(r.cfg.PingInterval),
	)
	r.wg.Add(5)
	go r.receive(in, deliver)
	go r.send()
	go r.monitor()
	go r.heartbeats()
	go r.digests()
}

// Send queues relay record of app appID for the other nodes; it copies
// record and never waits. It fails with ErrQueueFull when the queue is full.
func (r *Redis) Send(appID, record []byte) error {
	channel, ok := r.byApp[string(appID)]
	if !ok {
		return fmt.Errorf("broker: app %q is not served by this broker", appID)
	}
	if r.fault.drop(record) {
		metrics.dropped.WithLabelValues("fault_injection").Inc()
		return nil
	}
	if err := r.enqueue(channel, kindRecord, record); err != nil {
		metrics.dropped.WithLabelValues("queue_full").Inc()
		return err
	}
	return nil
}

// enqueue queues a message of kind for Redis channel channel, without waiting.
func (r *Redis) enqueue(channel string, kind byte, record []byte) error {
	payload := make([]byte, headerSize+len(record))
	payload[0] = kind
	copy(payload[1:], r.node[:])
	copy(payload[headerSize:], record)
	select {
	case r.out <- outgoing{channel: channel, payload: payload}:
		return nil
	default:
		return ErrQueueFull
	}
}

// Err tells why an event published now would not reach the other nodes:
// ErrUnavailable, ErrQueueFull, or nil when it would (at most once).
func (r *Redis) Err() error {
	switch {
	case !r.Up():
		return ErrUnavailable
	case len(r.out) >= cap(r.out):
		return ErrQueueFull
	}
	return nil
}

// Up reports whether Redis answers and this node's subscription is confirmed.
func (r *Redis) Up() bool {
	return r.pingOK.Load() && r.subscribed.Load()
}

// Close sends what is queued, such as the departures of a node shutting
// down, while Redis answers (for up to the broker's timeout), then stops the
// broker. Later calls do nothing.
func (r *Redis) Close() error {
	var err error
	r.closeOnce.Do(func() {
		if r.cancel != nil {
			if r.Up() {
				r.flush()
			}
			r.cancel()
			// Closing the PubSub ends the receive loop's channel.
			_ = r.pubsub.Close()
			r.wg.Wait()
		}
		if cerr := r.client.Close(); cerr != nil {
			err = fmt.Errorf("broker: closing redis client: %w", cerr)
		}
	})
	return err
}

// receive hands the other nodes' records to deliver, keeps track of the
// other nodes, and of the subscription's confirmations.
func (r *Redis) receive(in <-chan any, deliver func(uint32, []byte)) {
	defer r.wg.Done()
	for v := range in {
		switch m := v.(type) {
		case *redis.Subscription:
			if m.Kind != "subscribe" {
				continue
			}
			// A fresh connection confirms its channels one by one from 1: it
			// may follow a Redis restart that the pings never saw.
			first := !r.subscribed.Swap(true)
			if first {
				r.log.Info("subscribed to redis", "channels", r.channels)
			}
			if first || m.Count == 1 {
				r.joined()
			}
		case *redis.Message:
			p := m.Payload
			if len(p) < headerSize || p[0] < kindRecord || p[0] > kindSync {
				metrics.received.WithLabelValues("malformed").Inc()
				continue
			}
			id := p[1:headerSize]
			if id == string(r.node[:]) {
				continue // our own: already delivered here
			}
			switch p[0] {
			case kindRecord:
				metrics.received.WithLabelValues("delivered").Inc()
				deliver(r.peers.seen(id), []byte(p[headerSize:]))
			case kindHeartbeat:
				r.peers.seen(id)
			case kindSync:
				// It may have missed departures while it was away: what it
				// relayed before is dropped, and it relays all it has again.
				r.peers.forget(id)
				r.sync()
			}
		}
	}
}

// Rejoin tells the other nodes that this node's engine restarted empty: they
// forget its members and relay theirs again, as when its subscription starts.
func (r *Redis) Rejoin() {
	r.joined()
}

// joined runs when this node's subscription starts, or starts again after an
// outage, during which departures may have been lost both ways: it drops what
// the others relayed, asks them to relay all they have, and relays its own.
func (r *Redis) joined() {
	r.peers.forgetAll()
	_ = r.enqueue(r.nodes, kindSync, nil)
	r.sync()
}

// flush waits until what is queued now has been sent, for up to the timeout.
func (r *Redis) flush() {
	done := make(chan struct{})
	timeout := time.NewTimer(r.cfg.Timeout)
	defer timeout.Stop()
	select {
	case r.out <- outgoing{flushed: done}:
	case <-timeout.C:
		return
	}
	select {
	case <-done:
	case <-timeout.C:
	}
}

// send publishes the queued records, as many per round trip as are waiting.
func (r *Redis) send() {
	defer r.wg.Done()
	batch := make([]outgoing, 0, maxPipeline)
	for {
		select {
		case m := <-r.out:
			batch = append(batch[:0], m)
		case <-r.ctx.Done():
			return
		}
	fill:
		for len(batch) < maxPipeline {
			select {
			case m := <-r.out:
				batch = append(batch, m)
			default:
				break fill
			}
		}
		r.publish(batch)
		for _, m := range batch {
			if m.flushed != nil {
				close(m.flushed)
			}
		}
	}
}

// publish sends the messages of batch in one round trip; flush markers are skipped.
func (r *Redis) publish(batch []outgoing) {
	ctx, cancel := context.WithTimeout(r.ctx, r.cfg.Timeout)
	defer cancel()
	pipe := r.client.Pipeline()
	for _, m := range batch {
		if m.flushed == nil {
			pipe.Publish(ctx, m.channel, m.payload)
		}
	}
	n := pipe.Len()
	if n == 0 {
		return
	}
	if _, err := pipe.Exec(ctx); err != nil {
		metrics.dropped.WithLabelValues("publish_failed").Add(float64(n))
		if r.ctx.Err() == nil {
			r.setDown(err)
		}
		return
	}
	metrics.sent.Add(float64(n))
}

// monitor pings Redis and subscribes again when it comes back.
func (r *Redis) monitor() {
	defer r.wg.Done()
	ticker := time.NewTicker(r.cfg.PingInterval)
	defer ticker.Stop()
	for {
		ctx, cancel := context.WithTimeout(r.ctx, r.cfg.Timeout)
		err := r.client.Ping(ctx).Err()
		if err == nil && !r.subscribed.Load() {
			// go-redis subscribes again when it reconnects; asking again is
			// harmless and covers a connection that survived the outage.
			err = r.pubsub.Subscribe(ctx, r.channels...)
		}
		cancel()
		switch {
		case r.ctx.Err() != nil:
		case err != nil:
			r.setDown(err)
		case !r.pingOK.Swap(true):
			r.log.Info("redis is reachable", "url", redacted(r.cfg.URL))
		}
		metrics.up.Set(map[bool]float64{true: 1, false: 0}[r.Up()])
		select {
		case <-ticker.C:
		case <-r.ctx.Done():
			return
		}
	}
}

// heartbeats tells the other nodes this node is alive every half ping
// interval, and forgets the nodes that fell silent, checked every quarter.
func (r *Redis) heartbeats() {
	defer r.wg.Done()
	quarter := max(r.cfg.PingInterval/4, time.Millisecond)
	ticker := time.NewTicker(quarter)
	defer ticker.Stop()
	for n := 0; ; n++ {
		if n%2 == 0 && r.Up() {
			_ = r.enqueue(r.nodes, kindHeartbeat, nil)
		}
		r.peers.expire(time.Now().Add(-peerTimeoutQuarters * quarter))
		select {
		case <-ticker.C:
		case <-r.ctx.Done():
			return
		}
	}
}

// digests asks the engine for its digest every digest interval while Redis is up.
func (r *Redis) digests() {
	defer r.wg.Done()
	ticker := time.NewTicker(r.cfg.DigestInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ticker.C:
			if r.Up() {
				r.digest()
			}
		case <-r.ctx.Done():
			return
		}
	}
}

// setDown records that Redis failed: the broker is down until a ping
// succeeds and the subscription is confirmed again.
func (r *Redis) setDown(err error) {
	r.subscribed.Store(false)
	if r.pingOK.Swap(false) {
		r.log.Warn("redis unavailable: publishes are refused and client events stay on this node", "error", err)
	}
	metrics.up.Set(0)
}

// redacted is url with its password hidden, for logs.
func redacted(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid url)"
	}
	return u.Redacted()
}

// faultDropEnv names the fault-injection variable (see the package doc).
const faultDropEnv = "POGO_WEBSOCKET_FAULT_DROP_RELAY"

// faultDrop drops the next left outgoing relay records of one kind.
type faultDrop struct {
	kind byte
	left atomic.Int64
}

// parseFaultDrop reads "<kind>:<n>"; empty means no fault.
func parseFaultDrop(v string) (kind byte, count int64, err error) {
	if v == "" {
		return 0, 0, nil
	}
	k, n, ok := strings.Cut(v, ":")
	kv, kerr := strconv.ParseUint(k, 10, 8)
	count, nerr := strconv.ParseInt(n, 10, 64)
	if !ok || kerr != nil || nerr != nil || count < 0 {
		return 0, 0, fmt.Errorf("broker: %s=%q: want <record kind>:<count>", faultDropEnv, v)
	}
	return byte(kv), count, nil
}

// drop reports whether record must be dropped, counting it down.
func (f *faultDrop) drop(record []byte) bool {
	if len(record) == 0 || record[0] != f.kind || f.left.Load() <= 0 {
		return false
	}
	return f.left.Add(-1) >= 0
}
