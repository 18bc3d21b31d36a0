package frankenphp

import (
	"errors"

	"github.com/pogo-websocket/pogo-websocket/host-go/broker"
	"github.com/pogo-websocket/pogo-websocket/host-go/frankenphp/internal/bridge"
	"github.com/pogo-websocket/pogo-websocket/host-go/hub"
)

// lookupHub finds the running hub of an app id (the newest one during a reload).
func lookupHub(appID string) bridge.Publisher {
	h := hub.Lookup(appID)
	if h == nil {
		return nil // not a typed nil in the interface
	}
	return hubPublisher{h}
}

// hubPublisher translates the hub's errors into the bridge's.
type hubPublisher struct{ h *hub.Hub }

func (p hubPublisher) Publish(appID string, channelsJSON []byte, event, data []byte, socketID []byte) error {
	err := p.h.Publish(appID, channelsJSON, event, data, socketID)
	switch {
	case errors.Is(err, hub.ErrQueueFull):
		return bridge.ErrShardQueueFull
	case errors.Is(err, hub.ErrClosed):
		return bridge.ErrHubClosed
	case errors.Is(err, broker.ErrQueueFull):
		return bridge.ErrBrokerQueueFull
	}
	return err // hub.ErrBroker and anything else: BrokerPublishFailed
}

// MaxEventPayload is the app's max_event_payload.
func (p hubPublisher) MaxEventPayload(appID string) int {
	return p.h.MaxEventPayload(appID)
}
