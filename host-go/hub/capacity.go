package hub

import "errors"

// ErrOverCapacity is returned by ServeWebSocket when the node holds
// Config.MaxConnections connections already; the client got 4100.
var ErrOverCapacity = errors.New("hub: over capacity")

// admit counts a new connection in openConns, unless the node is at its
// capacity. Counting first and checking the sum makes concurrent upgrades
// unable to overshoot it together.
func (h *Hub) admit() bool {
	n := h.openConns.Add(1)
	if limit := h.cfg.MaxConnections; limit > 0 && n > int64(limit) {
		h.openConns.Add(-1)
		return false
	}
	return true
}

// refuse sends a connection the engine never heard of a pusher:error and a
// close frame with code, then closes its socket.
func (c *conn) refuse(code int, message string) {
	c.closeWith(code, message)
	go func() {
		c.awaitClose()
		c.abort()
	}()
}
