package hub

import (
	"math"

	"github.com/pogo-websocket/pogo-websocket/host-go/engine"
)

// Producers of connection events. Each appends one record to the current
// batch; the bounded ones wait for room until the connection or the hub
// ends, which pushes back on the client through TCP.

// open queues OPEN for c, with the Origin header and query of its upgrade request; it
// is never refused while the hub runs.
func (h *Hub) open(c *conn, key, origin, query string) error {
	if err := h.q.lockAlways(); err != nil {
		return err
	}
	h.q.cur.batch.Open(c.id, key, origin, query)
	h.q.unlock()
	return nil
}

// message queues one complete text message; false means the connection or
// the hub is gone.
func (h *Hub) message(c *conn, payload []byte) bool {
	if err := h.q.lockOrWait(engine.RecordHeaderSize+len(payload), c.done, h.hubClosed); err != nil {
		return false
	}
	h.q.cur.batch.Message(c.id, payload)
	h.q.unlock()
	metrics.messages.Inc()
	return true
}

// activity queues ACTIVITY: a ping or pong frame arrived.
func (h *Hub) activity(c *conn) {
	if err := h.q.lockOrWait(engine.RecordHeaderSize, c.done, h.hubClosed); err != nil {
		return
	}
	h.q.cur.batch.Activity(c.id)
	h.q.unlock()
}

// tooLarge queues TOO_LARGE for a discarded message of size bytes.
func (h *Hub) tooLarge(c *conn, size int64) {
	if err := h.q.lockOrWait(engine.RecordHeaderSize+4, c.done, h.hubClosed); err != nil {
		return
	}
	h.q.cur.batch.TooLarge(c.id, uint32(min(size, math.MaxUint32)))
	h.q.unlock()
}

// closed queues CLOSED for c and has its slot freed once the batch is done.
func (h *Hub) closed(c *conn) {
	h.openConns.Add(-1)
	if c.quota != nil {
		c.quota.open.Add(-1)
	}
	metrics.connections.Dec()
	defer h.readers.Done()
	if err := h.q.lockAlways(); err != nil {
		// The engine is gone (shutdown): nothing will reuse the slot.
		return
	}
	h.q.cur.batch.Closed(c.id)
	c.gone = true
	h.q.cur.closed = append(h.q.cur.closed, c.id)
	h.q.unlock()
}
