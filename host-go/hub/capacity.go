package hub

import (
	"errors"
	"sync/atomic"

	"github.com/pogo-websocket/pogo-websocket/host-go/engine"
)

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

// appQuota counts the connections of an app with a max_connections quota
// across the shards: each shard's engine sees only its own connections, so
// with several shards the hub refuses the one over the quota itself (the
// engines' own check never fires first).
type appQuota struct {
	limit int64
	open  atomic.Int64
}

// newQuotas returns the quotas of the apps with OptionMaxConnections, by app
// key, or nil with one shard (its engine counts every connection).
func newQuotas(cfg Config) map[string]*appQuota {
	if cfg.Shards <= 1 {
		return nil
	}
	quotas := map[string]*appQuota{}
	for _, app := range cfg.Apps {
		for _, o := range app.Options {
			if o.ID == engine.OptionMaxConnections && o.Value > 0 {
				quotas[app.Key] = &appQuota{limit: int64(o.Value)}
			}
		}
	}
	return quotas
}

// admitApp counts c in the quota of the app with key, unless that app holds
// its quota of connections already; the count is dropped when c closes.
func (h *Hub) admitApp(c *conn, key string) bool {
	q := h.quotas[key]
	if q == nil {
		return true
	}
	if q.open.Add(1) > q.limit {
		q.open.Add(-1)
		return false
	}
	c.quota = q
	return true
}
