package hub

import "sync"

// registry maps app ids to the running hub that serves them, for callers
// outside the HTTP path (the PHP bridge). A hub registers its apps when it
// starts and removes them when it shuts down, unless a newer hub has taken
// them over: during a Caddy reload the new hub starts before the old one
// stops, so the newest hub wins.
var registry = struct {
	sync.RWMutex
	hubs map[string]*Hub
}{hubs: map[string]*Hub{}}

// Lookup returns the running hub serving the app with id appID, or nil.
func Lookup(appID string) *Hub {
	registry.RLock()
	defer registry.RUnlock()
	return registry.hubs[appID]
}

func (h *Hub) register() {
	registry.Lock()
	defer registry.Unlock()
	for _, app := range h.cfg.Apps {
		registry.hubs[app.ID] = h
	}
}

func (h *Hub) unregister() {
	registry.Lock()
	defer registry.Unlock()
	for _, app := range h.cfg.Apps {
		if registry.hubs[app.ID] == h {
			delete(registry.hubs, app.ID)
		}
	}
}
