package hub

import "time"

// Health describes a hub for health checks.
type Health struct {
	// Alive is true while the hub runs and every shard's engine processed
	// a batch in the last five seconds (a tick is queued every second).
	Alive bool `json:"alive"`
	// Connections is the number of open WebSocket connections.
	Connections int64 `json:"connections"`
	// LastBatch is when the engine last finished a batch: of the shards,
	// the one that finished its last batch earliest.
	LastBatch time.Time `json:"last_batch"`
	// Broker is "up" or "down", or empty without a broker.
	Broker string `json:"broker,omitempty"`
}

// Health reports whether the hub and its engine are running.
func (h *Hub) Health() Health {
	last := h.oldestBatch()
	hl := Health{
		Alive:       !h.stopping.Load() && time.Since(last) < 5*time.Second,
		Connections: h.openConns.Load(),
		LastBatch:   last,
	}
	if b := h.cfg.Broker; b != nil {
		hl.Broker = map[bool]string{true: "up", false: "down"}[b.Up()]
	}
	return hl
}
