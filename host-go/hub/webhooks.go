package hub

import (
	"context"

	"github.com/pogo-websocket/pogo-websocket/host-go/engine"
	"github.com/pogo-websocket/pogo-websocket/host-go/webhook"
)

// Webhooks delivers the webhook events the engine reports for apps with
// engine.OptionWebhooks (package webhook). The hub owns it once passed in
// Config.
type Webhooks interface {
	// Add queues one event of app appID without blocking; it copies what it keeps.
	Add(appID []byte, ev webhook.Event)
	// Close stops the delivery.
	Close(ctx context.Context) error
}

// webhook hands one WEBHOOK action to the delivery.
func (h *Hub) webhook(a *engine.Actions) {
	w, err := a.Webhook()
	if err != nil {
		metrics.engineErrors.Inc()
		h.log.Error("malformed webhook", "error", err)
		return
	}
	if h.cfg.Webhooks == nil {
		return
	}
	h.cfg.Webhooks.Add(w.AppID, webhook.Event{
		Kind: webhook.Kind(w.Type), Local: w.Local, Channel: w.Channel, User: w.User, JSON: w.Event,
	})
}
