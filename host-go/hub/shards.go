package hub

import (
	"context"
	"encoding/json"
	"hash/maphash"
	"math"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/pogo-websocket/pogo-websocket/host-go/engine"
)

// MaxShards bounds Config.Shards: beyond it the relay between siblings costs
// more than the cores it would use (and the broker's shard index is a u16).
const MaxShards = 64

// maxDefaultShards caps the default: past it measured throughput did not grow
// on the machines tried (see README.md, num_shards).
const maxDefaultShards = 8

// DefaultShards is the number of shards when Config.Shards is 0: one per
// core the Go scheduler runs on (GOMAXPROCS), at most 8.
func DefaultShards() int {
	return min(max(runtime.GOMAXPROCS(0), 1), maxDefaultShards)
}

// siblingNode is the number the engines of a hub's other shards know shard i
// by. The broker numbers the other nodes' shards from 1 up; siblings count
// down from the top of the u32 range, so the two never meet.
func siblingNode(i int) uint32 {
	return math.MaxUint32 - uint32(i)
}

// pick returns the shard for the next HTTP request or Publish, in turn.
func (h *Hub) pick() *Hub {
	if len(h.shards) <= 1 {
		return h
	}
	return h.shards[h.next.Add(1)%uint32(len(h.shards))]
}

// shardOf returns the shard for a native publish to channelsJSON: the same
// list always goes to the same shard, so that a PHP thread's publishes to a
// channel, which return before the engine has them, reach its subscribers
// in order.
func (h *Hub) shardOf(channelsJSON []byte) *Hub {
	if len(h.shards) <= 1 {
		return h
	}
	return h.shards[maphash.Bytes(shardSeed, channelsJSON)%uint64(len(h.shards))]
}

// shardSeed keys shardOf's hash for the life of the process.
var shardSeed = maphash.MakeSeed()

// leastLoaded returns the shard with the fewest connections, for a new one.
func (h *Hub) leastLoaded() *Hub {
	best, least := h, math.MaxInt
	for _, s := range h.shards {
		if n := s.conns.len(); n < least {
			best, least = s, n
		}
	}
	return best
}

// ServeWebSocket upgrades r to a WebSocket connection for the app with the
// given key, on the shard with the fewest connections, and returns as soon
// as the connection runs on its own goroutines.
//
// A failed handshake has been answered on the connection (it is hijacked
// first); the returned error is for logging only.
func (h *Hub) ServeWebSocket(w http.ResponseWriter, r *http.Request, key string) error {
	return h.leastLoaded().serveWebSocket(w, r, key)
}

// relayAll hands the RELAY actions of a batch to the sibling shards and the
// broker before any of its frames or HTTP answers is handed out: a client
// told it subscribed, or a publisher told its event was accepted, finds the
// change on every shard it asks next, because a sibling reads its queue in
// order.
func (h *Hub) relayAll(out []byte) {
	a := engine.NewActions(out)
	for a.Next() {
		if a.Kind() == engine.ActionRelay {
			h.relay(&a)
		}
	}
}

// relay hands one RELAY action to the sibling shards, as a REMOTE event from
// this shard's node number, and to the broker.
//
// A sibling's queue accepts it whatever its size (lockAlways): dropping it
// would leave that shard's counts and members wrong for good, and waiting
// for room could deadlock two shards relaying to each other. It stays
// bounded: each event of a batch relays at most a few records, so a
// sibling's queue grows by at most the relays of the batches its siblings
// process while it runs one.
func (h *Hub) relay(a *engine.Actions) {
	appID, record, err := a.Relay()
	if err != nil {
		metrics.engineErrors.Inc()
		h.log.Error("malformed relay", "error", err)
		return
	}
	for _, s := range h.shards {
		if s != h && s.q.lockAlways() == nil {
			s.q.cur.batch.Remote(h.node, record)
			s.q.unlock()
		}
	}
	if b := h.cfg.Broker; b != nil {
		if err := b.Send(uint16(h.index), appID, record); err != nil {
			h.log.Debug("event not relayed to the other nodes", "app", string(appID), "error", err)
		}
	}
}

// rejoin tells the siblings and the other nodes that this shard's engine
// restarted empty: they drop what it relayed (NODE_GONE) and relay all they
// have again (SYNC), so that it learns every member and count again.
func (h *Hub) rejoin() {
	for _, s := range h.shards {
		if s != h && s.q.lockAlways() == nil {
			s.q.cur.batch.NodeGone(h.node)
			s.q.cur.batch.Sync()
			s.q.unlock()
		}
	}
	if b := h.cfg.Broker; b != nil {
		b.Rejoin(uint16(h.index))
	}
}

// countMemory moves the engine memory gauge, the sum over every shard of
// every hub, by this shard's change since it last looked. Engine goroutine,
// or Shutdown once it has stopped.
func (h *Hub) countMemory() {
	n := int64(0)
	if h.eng != nil {
		n = int64(h.eng.MemorySize())
	}
	if d := n - h.memory; d != 0 {
		metrics.engineMemory.Add(float64(d))
		h.memory = n
	}
}

// oldestBatch returns when the shard that waited longest finished a batch.
func (h *Hub) oldestBatch() time.Time {
	oldest := int64(math.MaxInt64)
	for _, s := range h.shards {
		oldest = min(oldest, s.lastBatch.Load())
	}
	return time.Unix(0, oldest)
}

// nodeCount reports whether an HTTP API request asks for a count of this
// node's own, GET /apps/{id}/connections, which each shard's engine answers
// for its own connections only: the hub asks every shard and adds up.
func nodeCount(method, path string) bool {
	return method == http.MethodGet && strings.HasSuffix(path, "/connections") && strings.Count(path, "/") == 3
}

// askAll asks every shard the node-count request and answers the sum of
// their counts; the first answer that is not a count (a refused signature,
// an error) is the answer. It costs one request per shard, for a query
// rather than a hot path.
func (h *Hub) askAll(ctx, wctx context.Context, method, path, query string, body []byte) (Response, error) {
	type answer struct {
		resp Response
		err  error
	}
	answers := make(chan answer, len(h.shards))
	for _, s := range h.shards {
		go func() {
			resp, err := s.ask(ctx, wctx, method, path, query, body)
			answers <- answer{resp, err}
		}()
	}
	var total uint64
	var first *answer
	for range h.shards {
		a := <-answers
		var count struct {
			Connections *uint64 `json:"connections"`
		}
		if a.err == nil && a.resp.Status == http.StatusOK && json.Unmarshal(a.resp.Body, &count) == nil && count.Connections != nil {
			total += *count.Connections
		} else if first == nil {
			first = &a
		}
	}
	if first != nil {
		return first.resp, first.err
	}
	return Response{
		Status: http.StatusOK,
		Body:   append(strconv.AppendUint([]byte(`{"connections":`), total, 10), '}'),
	}, nil
}
