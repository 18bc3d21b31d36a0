// The Redis broker: configuration, the subscription that receives the other
// nodes' records, and the queue that sends this node's.

package broker

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
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
	headerSize = 1 + nodeIDSize + 2
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
	Logger *slog.Logger `json:"-"`
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

// Send queues relay record of app appID, from engine shard shard, for the
// other nodes; it copies record and never waits. It fails with ErrQueueFull when the queue is full.
func (r *Redis) Send(shard uint16, appID, record []byte) error {
	channel, ok := r.byApp[string(appID)]
	if !ok {
		return fmt.Errorf("broker: app %q is not served by this broker", appID)
	}
	if r.fault.drop(record) {
		metrics.dropped.WithLabelValues("fault_injection").Inc()
		return nil
	}
	if err := r.enqueue(channel, kindRecord, shard, record); err != nil {
		metrics.dropped.WithLabelValues("queue_full").Inc()
		return err
	}
	return nil
}

// enqueue queues a message of kind from shard for Redis channel channel,
// without waiting.
func (r *Redis) enqueue(channel string, kind byte, shard uint16, record []byte) error {
	payload := make([]byte, headerSize+len(record))
	payload[0] = kind
	copy(payload[1:], r.node[:])
	binary.BigEndian.PutUint16(payload[1+nodeIDSize:], shard)
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
			id := p[1 : 1+nodeIDSize]
			if id == string(r.node[:]) {
				// Our own, or a sibling shard's: the hub delivered it in-process.
				continue
			}
			shard := uint16(p[1+nodeIDSize])<<8 | uint16(p[2+nodeIDSize])
			switch p[0] {
			case kindRecord:
				metrics.received.WithLabelValues("delivered").Inc()
				deliver(r.peers.number(id, shard), []byte(p[headerSize:]))
			case kindHeartbeat:
				r.peers.heard(id)
			case kindSync:
				// It may have missed departures while it was away, or its
				// shard restarted empty: what it relayed before is dropped,
				// and every node relays all it has again.
				r.peers.forget(id, shard)
				r.sync()
			}
		}
	}
}

// Rejoin tells the other nodes that engine shard shard of this node restarted
// empty: they forget what it relayed and relay all they have again. The
// other shards of this node keep what they hold.
func (r *Redis) Rejoin(shard uint16) {
	_ = r.enqueue(r.nodes, kindSync, shard, nil)
}

// joined runs when this node's subscription starts, or starts again after an
// outage, during which departures may have been lost both ways: it drops what
// the others relayed, asks them to relay all they have, and relays its own.
func (r *Redis) joined() {
	r.peers.forgetAll()
	_ = r.enqueue(r.nodes, kindSync, allShards, nil)
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
