package hub

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/pogo-websocket/pogo-websocket/host-go/engine"
)

// ErrBroker is returned, wrapping the broker's reason, when an event
// published now would not reach the other nodes: the publish is refused
// rather than delivered on this node only.
var ErrBroker = errors.New("hub: the broker cannot carry events to the other nodes")

// Broker carries events between the nodes that serve the same apps
// (package broker). The hub owns it once passed in Config.
type Broker interface {
	// Start begins handing what the other nodes send to the hub: their relay
	// records to deliver, with a number the broker gives each node (from 1,
	// never reused); gone, when a node stopped answering; and sync, when a
	// node needs every other's subscription counts and presence members;
	// and digest, every digest period, when the engine must relay its digest.
	Start(deliver func(node uint32, record []byte), gone func(node uint32), sync, digest func())
	// Send hands relay record of app appID, from engine shard shard, to the
	// other nodes without waiting; it copies record. Each shard is a node of
	// its own to the other nodes, and they all leave with this node.
	Send(shard uint16, appID, record []byte) error
	// Err tells why an event published now would not reach the other
	// nodes, or returns nil when it would.
	Err() error
	// Up reports whether the broker is connected.
	Up() bool
	// Rejoin tells the other nodes that engine shard shard of this node
	// restarted empty: they drop what it relayed before (as for a node that
	// left) and relay all they have to it again.
	Rejoin(shard uint16)
	// Close stops the broker.
	Close() error
}

// withRelay returns apps with the engine's Relay option set to 1, so that
// the engine hands what the other nodes must know to the broker.
func withRelay(apps []engine.App) []engine.App {
	out := make([]engine.App, len(apps))
	for i, app := range apps {
		opts := make([]engine.AppOption, 0, len(app.Options)+1)
		for _, o := range app.Options {
			if o.ID != engine.OptionRelay {
				opts = append(opts, o)
			}
		}
		app.Options = append(opts, engine.AppOption{ID: engine.OptionRelay, Value: 1})
		out[i] = app
	}
	return out
}

// brokerErr returns why an event published now would reach this node only,
// or nil when there is no broker or it can carry the event.
func (h *Hub) brokerErr() error {
	if h.cfg.Broker == nil {
		return nil
	}
	if err := h.cfg.Broker.Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrBroker, err)
	}
	return nil
}

// writes reports whether an HTTP API request changes state: in the Pusher
// HTTP API only POSTs do (events, batch events, terminating connections),
// and they are what the other nodes must see.
func writes(method string) bool {
	return method == http.MethodPost
}

// remote queues a relay record from node for every shard's engine. It never
// waits: a shard whose event queue is full drops the record, counted.
func (h *Hub) remote(node uint32, record []byte) {
	if h.stopping.Load() {
		return
	}
	for _, s := range h.shards {
		if err := s.q.lockOrFail(engine.RemoteSize(record)); err != nil {
			metrics.remoteDropped.Inc()
			continue
		}
		s.q.cur.batch.Remote(node, record)
		s.q.unlock()
	}
}

// nodeGone queues NODE_GONE for every shard: node's subscriptions and
// presence members leave. Like the other lockAlways events it is accepted
// whatever the batch's size while the hub runs, or they would stay forever.
func (h *Hub) nodeGone(node uint32) {
	for _, s := range h.shards {
		if s.q.lockAlways() == nil {
			s.q.cur.batch.NodeGone(node)
			s.q.unlock()
		}
	}
}

// sync queues SYNC for every shard: each engine relays its subscription
// counts and presence members.
func (h *Hub) sync() {
	for _, s := range h.shards {
		if s.q.lockAlways() == nil {
			s.q.cur.batch.Sync()
			s.q.unlock()
		}
	}
}

// digest queues DIGEST for every shard: each engine relays the digest of its
// subscription counts and presence members, which the other nodes check
// theirs against.
func (h *Hub) digest() {
	for _, s := range h.shards {
		if s.q.lockAlways() == nil {
			s.q.cur.batch.Digest()
			s.q.unlock()
		}
	}
}
