package hub

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pogo-websocket/pogo-websocket/host-go/engine"
)

// Errors returned by the hub.
var (
	// ErrClosed is returned once the hub is shutting down.
	ErrClosed = errors.New("hub: closed")
	// ErrQueueFull is returned by Publish when the event queue is full, and
	// by HTTP when it holds ShardQueueSize events.
	ErrQueueFull = errors.New("hub: shard queue full")
	// ErrTimeout is returned by HTTP when the engine did not answer in time.
	ErrTimeout = errors.New("hub: engine did not answer in time")
	// ErrTooManyConnections is returned when every connection id is taken.
	ErrTooManyConnections = errors.New("hub: too many connections")
)

// Defaults for the zero values of Config.
const (
	DefaultReadLimit     = engine.DefaultMaxMessageSize
	DefaultWriteWait     = 10 * time.Second
	DefaultMaxQueue      = 1 << 20
	DefaultQueueLimit    = 4 << 20
	DefaultHTTPTimeout   = 10 * time.Second
	DefaultShutdownGrace = 2 * time.Second
	DefaultEngineTimeout = 5 * time.Second
	DefaultShutdownTime  = 10 * time.Second
)

// Config configures a Hub. Zero values take the defaults above.
type Config struct {
	// Apps are sent to the engine, in order, before any other event.
	Apps []engine.App
	// ReadLimit is the largest incoming message in bytes; larger ones are
	// discarded and reported with TOO_LARGE. Default: the largest
	// OptionMaxMessageSize of Apps, or DefaultReadLimit.
	ReadLimit int
	// WriteWait is the deadline of one write to a client.
	WriteWait time.Duration
	// MaxQueue is the number of bytes queued for one client before it is
	// closed as too slow.
	MaxQueue int
	// QueueLimit is the size of the event batch past which producers wait.
	QueueLimit int
	// Shards is the number of engine instances, each on its own goroutine
	// with its own event queue (shards.go). Default: DefaultShards().
	Shards int
	// ShardQueueSize bounds each shard's event batch in events, beside
	// QueueLimit's bytes: past it, Publish and HTTP fail with ErrQueueFull
	// and connection readers wait. 0: no bound in events.
	ShardQueueSize int
	// HTTPTimeout bounds the wait for the engine's answer to an HTTP request.
	HTTPTimeout time.Duration
	// ShutdownGrace bounds the wait for clients to receive their close frame
	// at shutdown.
	ShutdownGrace time.Duration
	// EngineTimeout bounds one engine call: one that overruns it is
	// interrupted, and the engine replaced by a fresh instance (every client
	// is closed with 4200 and reconnects).
	EngineTimeout time.Duration
	// ShutdownTimeout bounds Shutdown, whatever the engine and the clients do.
	ShutdownTimeout time.Duration
	// MaxConnections is the node's capacity: the connection over it gets
	// pusher:error 4100 "Over capacity" and is closed. 0: no limit.
	MaxConnections int
	// Logger receives the hub's logs; nil discards them.
	Logger *slog.Logger `json:"-"`
	// Authorizer answers the engine's AUTH_REQUESTs (apps with
	// OptionAuthFallback); nil refuses them. See also SetAuthorizer.
	Authorizer Authorizer `json:"-"`
	// Broker, when set, carries the events published here to the other
	// nodes and theirs here; the hub starts it and closes it at Shutdown.
	// While it cannot carry events, publishes are refused with ErrBroker.
	Broker Broker `json:"-"`
	// Webhooks, when set, delivers the webhook events of the apps with
	// engine.OptionWebhooks; the hub closes it at Shutdown.
	Webhooks Webhooks `json:"-"`

	// newEngine instantiates the engine: engine.New, or an instrumented
	// one in tests.
	newEngine func() (*engine.Engine, error)
}

// Hub runs one engine and its connections. Its methods are safe for
// concurrent use.
type Hub struct {
	cfg  Config
	log  *slog.Logger
	eng  *engine.Engine
	q    *queue
	reqs requests
	auth atomic.Pointer[authorizerBox]

	conns   table
	readers sync.WaitGroup
	// openConns counts the connections of every shard (capacity.go).
	openConns *atomic.Int64
	// quotas count the connections of the apps with a quota, by app key,
	// across the shards (capacity.go); nil with one shard.
	quotas map[string]*appQuota
	// shards are the hub's engine shards, this one among them; shards[0]
	// is the hub New returns, which the callers use (shards.go).
	shards []*Hub
	// index is this shard's place in shards, node the number its
	// siblings' engines know it by.
	index int
	node  uint32
	// next picks the shard of the next HTTP request or Publish.
	next atomic.Uint32
	// relays is set when the engine relays: with a broker or siblings.
	relays bool
	// memory is the engine memory the gauge last saw (engine goroutine).
	memory int64
	// subscriptions is the engine's count the gauge last saw (engine goroutine).
	subscriptions int64

	life      sync.RWMutex // held for writing to start the shutdown
	stopping  atomic.Bool
	lastBatch atomic.Int64 // UnixNano of the last processed batch

	// The shutdown sequence, in the order the channels are closed.
	shutdownDispatched chan struct{} // SHUTDOWN's actions (the 4200 close frames) are dispatched
	stopEngine         chan struct{} // asks the engine goroutine to return
	engineStopped      chan struct{} // the engine goroutine has returned
	hubClosed          chan struct{} // the queue is closed: waiting producers and HTTP requests give up
	shutdownFinished   chan struct{} // the first Shutdown call has returned; later ones wait for it
}

// New starts a hub: it instantiates the engine, configures the apps and
// starts the engine goroutine. The hub is registered for Lookup under each
// of its app ids until Shutdown.
func New(cfg Config) (*Hub, error) {
	cfg = withDefaults(cfg)
	relays := cfg.Broker != nil || cfg.Shards > 1
	if relays {
		cfg.Apps = withRelay(cfg.Apps)
	}
	shards := make([]*Hub, cfg.Shards)
	open := new(atomic.Int64)
	quotas := newQuotas(cfg)
	for i := range shards {
		h := &Hub{
			cfg:                cfg,
			log:                cfg.Logger,
			q:                  newQueue(cfg.QueueLimit, cfg.ShardQueueSize),
			openConns:          open,
			quotas:             quotas,
			shards:             shards,
			index:              i,
			node:               siblingNode(i),
			relays:             relays,
			shutdownDispatched: make(chan struct{}),
			stopEngine:         make(chan struct{}),
			engineStopped:      make(chan struct{}),
			hubClosed:          make(chan struct{}),
			shutdownFinished:   make(chan struct{}),
		}
		if cfg.Shards > 1 {
			h.log = cfg.Logger.With("shard", i)
		}
		// The apps are configured synchronously so that a bad configuration
		// fails here rather than in the background.
		eng, err := h.startEngine()
		if err != nil {
			for _, s := range shards[:i] {
				_ = s.eng.Close()
			}
			return nil, fmt.Errorf("starting hub: %w", err)
		}
		h.eng = eng
		h.lastBatch.Store(time.Now().UnixNano())
		shards[i] = h
	}
	for _, h := range shards {
		go h.run()
	}
	h := shards[0]
	h.SetAuthorizer(cfg.Authorizer)
	if cfg.Broker != nil {
		cfg.Broker.Start(h.remote, h.nodeGone, h.sync, h.digest)
	}
	h.register()
	initPublishFailures(cfg.Apps)
	return h, nil
}

func withDefaults(cfg Config) Config {
	if cfg.ReadLimit <= 0 {
		for _, app := range cfg.Apps {
			for _, o := range app.Options {
				if o.ID == engine.OptionMaxMessageSize && int(o.Value) > cfg.ReadLimit {
					cfg.ReadLimit = int(o.Value)
				}
			}
		}
		if cfg.ReadLimit <= 0 {
			cfg.ReadLimit = DefaultReadLimit
		}
	}
	if cfg.WriteWait <= 0 {
		cfg.WriteWait = DefaultWriteWait
	}
	if cfg.MaxQueue <= 0 {
		cfg.MaxQueue = DefaultMaxQueue
	}
	if cfg.QueueLimit <= 0 {
		cfg.QueueLimit = DefaultQueueLimit
	}
	if cfg.Shards <= 0 {
		cfg.Shards = DefaultShards()
	}
	cfg.Shards = min(cfg.Shards, MaxShards)
	cfg.ShardQueueSize = max(cfg.ShardQueueSize, 0)
	if cfg.HTTPTimeout <= 0 {
		cfg.HTTPTimeout = DefaultHTTPTimeout
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = DefaultShutdownGrace
	}
	if cfg.EngineTimeout <= 0 {
		cfg.EngineTimeout = DefaultEngineTimeout
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = DefaultShutdownTime
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.newEngine == nil {
		cfg.newEngine = engine.New
	}
	return cfg
}

// run is the engine goroutine.
func (h *Hub) run() {
	defer close(h.engineStopped)
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	spare := &pending{}
	for {
		select {
		case <-h.q.wake:
		case <-ticker.C:
			if h.q.lockAlways() == nil {
				h.q.cur.batch.Tick()
				h.q.unlock()
			}
		case <-h.stopEngine:
			return
		}
		for {
			p := h.q.swap(spare)
			if p == nil {
				break
			}
			h.process(p)
			p.reset()
			spare = p
		}
	}
}

// process runs one batch through the engine and dispatches its actions.
func (h *Hub) process(p *pending) {
	start := time.Now()
	p.batch.SetNow(uint64(start.UnixMilli()))
	if h.eng == nil {
		h.restartEngine()
	}
	if h.eng == nil {
		h.dropBatch(p, errNoEngine)
	} else if out, err := h.eng.Process(p.batch.Bytes()); err != nil {
		h.recoverEngine(p, err)
	} else {
		h.dispatch(out)
	}
	metrics.batches.Inc()
	h.countMemory()
	h.countSubscriptions()
	// A fresh engine never saw the connections it replaced: either way, the
	// slots of these CLOSED events can be reused.
	for _, id := range p.closed {
		h.conns.remove(id, true)
	}
	if p.shutdown {
		close(h.shutdownDispatched)
	}
	end := time.Now()
	h.lastBatch.Store(end.UnixNano())
	metrics.batchDuration.Observe(end.Sub(start).Seconds())
}

// respond hands the batch's HTTP answers to their waiting requests first, so
// that a publisher waits for the engine's answer, not for the fan-out of the
// event it published to every subscriber.
func (h *Hub) respond(out []byte) {
	a := engine.NewActions(out)
	for a.Next() {
		if a.Kind() != engine.ActionHTTPResponse {
			continue
		}
		status, body, err := a.HTTPResponse()
		if err != nil {
			metrics.engineErrors.Inc()
			h.log.Error("malformed http response", "error", err)
			continue
		}
		h.reqs.respond(a.ID(), Response{Status: status, Body: bytes.Clone(body)})
	}
}

// dispatch carries out an action batch. Frames are copied out of the
// engine's memory once: a broadcast frame is one slice shared by every
// recipient's queue.
func (h *Hub) dispatch(out []byte) {
	if h.relays {
		h.relayAll(out)
	}
	h.respond(out)
	h.conns.mu.RLock()
	defer h.conns.mu.RUnlock()
	a := engine.NewActions(out)
	for a.Next() {
		switch a.Kind() {
		case engine.ActionSend:
			if c := h.conns.getLocked(a.ID()); c != nil {
				c.send(bytes.Clone(a.Payload()))
			}
		case engine.ActionBroadcast:
			frame, conns, err := a.Broadcast()
			if err != nil {
				metrics.engineErrors.Inc()
				h.log.Error("malformed broadcast", "error", err)
				continue
			}
			metrics.broadcasts.Inc()
			if hot != nil {
				hot.fanout.Observe(float64(conns.Len()))
			}
			var shared []byte
			for i := range conns.Len() {
				if c := h.conns.getLocked(conns.At(i)); c != nil {
					if shared == nil {
						shared = bytes.Clone(frame)
					}
					c.send(shared)
				}
			}
		case engine.ActionClose:
			if c := h.conns.getLocked(a.ID()); c != nil {
				c.closeAfter(bytes.Clone(a.Payload()))
			}
		case engine.ActionHTTPResponse:
			// Answered by respond, before the fan-out.
		case engine.ActionAuthRequest:
			socketID, channel, err := a.AuthRequest()
			if err != nil {
				metrics.engineErrors.Inc()
				h.log.Error("malformed auth request", "error", err)
				continue
			}
			if c := h.conns.getLocked(a.ID()); c != nil {
				h.authRequest(c, socketID, channel)
			}
		case engine.ActionRelay:
			// Relayed by relayAll, before the frames and answers.
		case engine.ActionWebhook:
			h.webhook(&a)
		case engine.ActionPublishResult:
			if code, err := a.PublishResult(); err != nil || code != engine.PublishOK {
				h.log.Debug("publish not accepted", "code", code, "error", err)
			}
		default:
			h.log.Warn("unknown engine action", "kind", a.Kind(), "id", a.ID())
		}
	}
	if err := a.Err(); err != nil {
		metrics.engineErrors.Inc()
		h.log.Error("malformed action batch", "error", err)
	}
}

// Publish queues a native publish: event with data on the channels listed
// in channelsJSON (a JSON array of names) of app appID, skipping the
// connection whose socket id is socketID (may be empty).
//
// Publish goes to the shard its channel list hashes to, so that the
// publishes to a channel keep their order. It never blocks: it fails with
// ErrQueueFull when that shard's event queue is full, with ErrBroker when the broker cannot carry the event to the other
// nodes, and with ErrClosed after Shutdown. The arguments are copied before it
// returns. The engine's verdict comes later and is only logged.
func (h *Hub) Publish(appID string, channelsJSON []byte, event, data []byte, socketID []byte) error {
	if h.stopping.Load() {
		return ErrClosed
	}
	if err := h.brokerErr(); err != nil {
		return err
	}
	s := h.shardOf(channelsJSON)
	if err := s.q.lockOrRefuse(engine.PublishSize(appID, channelsJSON, event, data, socketID)); err != nil {
		return err
	}
	err := s.q.cur.batch.Publish(appID, channelsJSON, event, data, socketID)
	s.q.unlock()
	if err != nil {
		return fmt.Errorf("publishing to app %q: %w", appID, err)
	}
	return nil
}

// Serves reports whether appID is one of the hub's apps.
func (h *Hub) Serves(appID string) bool {
	for _, app := range h.cfg.Apps {
		if app.ID == appID {
			return true
		}
	}
	return false
}

// MaxEventPayload returns the max_event_payload option of app appID in
// bytes (engine.DefaultMaxEventPayload when its config leaves it out), or 0
// when the hub does not serve that app.
func (h *Hub) MaxEventPayload(appID string) int {
	for _, app := range h.cfg.Apps {
		if app.ID != appID {
			continue
		}
		for _, o := range app.Options {
			if o.ID == engine.OptionMaxEventPayload {
				return int(o.Value)
			}
		}
		return engine.DefaultMaxEventPayload
	}
	return 0
}

// Shutdown stops the hub and every shard: the engines close every
// connection with 4200 (so clients reconnect, to the next hub after a
// reload), the close frames get up to ShutdownGrace (or until ctx ends) to
// be written, then every socket is closed, the engine goroutines stop and
// waiting HTTP requests fail with ErrClosed. Later calls wait for the first
// one to finish. The whole takes at most ShutdownTimeout, whatever the
// engines do.
func (h *Hub) Shutdown(ctx context.Context) error {
	ctx, cancelAll := context.WithTimeout(ctx, h.cfg.ShutdownTimeout)
	defer cancelAll()
	h.life.Lock()
	first := !h.stopping.Swap(true)
	h.life.Unlock()
	if !first {
		select {
		case <-h.shutdownFinished:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	defer close(h.shutdownFinished)
	h.unregister()
	for _, s := range h.shards {
		s.life.Lock()
		s.stopping.Store(true)
		s.life.Unlock()
	}

	gctx, cancel := context.WithTimeout(ctx, h.cfg.ShutdownGrace)
	defer cancel()
	for _, s := range h.shards {
		if s.q.lockAlways() == nil {
			s.q.cur.batch.Shutdown()
			s.q.cur.shutdown = true
			s.q.unlock()
			select {
			case <-s.shutdownDispatched:
			case <-gctx.Done():
			}
		}
	}
	readersDone := make(chan struct{})
	go func() {
		for _, s := range h.shards {
			s.readers.Wait()
		}
		close(readersDone)
	}()
	select {
	case <-readersDone:
	case <-gctx.Done():
	}
	for _, s := range h.shards {
		for _, c := range s.conns.all() {
			c.abort()
		}
	}
	select {
	case <-readersDone:
	case <-time.After(time.Second):
		h.log.Warn("connection readers still running after shutdown")
	case <-ctx.Done():
	}

	var errs []error
	for _, s := range h.shards {
		close(s.stopEngine)
	}
	for _, s := range h.shards {
		// The engine goroutine owns the engine: it is closed here only once
		// the goroutine is done (a call ends within EngineTimeout).
		select {
		case <-s.engineStopped:
			if s.eng != nil {
				errs = append(errs, s.eng.Close())
				s.eng = nil
			}
			s.countSubscriptions()
			s.countMemory()
		case <-ctx.Done():
			s.log.Error("the engine goroutine did not stop in time; the hub stops without it")
		}
	}
	for _, s := range h.shards {
		s.q.close()
		close(s.hubClosed)
	}
	// Before the broker, which its cluster-wide claims use.
	if w := h.cfg.Webhooks; w != nil {
		errs = append(errs, w.Close(ctx))
	}
	if b := h.cfg.Broker; b != nil {
		errs = append(errs, b.Close())
	}
	errs = append(errs, ctx.Err())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("shutting down hub: %w", err)
	}
	return nil
}
