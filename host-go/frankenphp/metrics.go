package frankenphp

import (
	"errors"
	"strings"
	"time"

	"github.com/pogo-websocket/pogo-websocket/host-go/frankenphp/internal/authpool"
	"github.com/pogo-websocket/pogo-websocket/host-go/frankenphp/internal/bridge"
	"github.com/pogo-websocket/pogo-websocket/host-go/hub"
)

// publishReasons names the PHP functions' failure codes in
// pogo_websocket_publish_failures_total.
var publishReasons = [...]string{
	bridge.HubMissing:          hub.PublishHubMissing,
	bridge.ChannelInvalid:      hub.PublishChannelInvalid,
	bridge.EventInvalid:        hub.PublishEventInvalid,
	bridge.PayloadTooLarge:     hub.PublishPayloadTooLarge,
	bridge.PayloadInvalid:      hub.PublishPayloadInvalid,
	bridge.BrokerPublishFailed: hub.PublishBrokerPublishFailed,
	bridge.ChannelsInvalid:     hub.PublishChannelsInvalid,
	bridge.BrokerQueueFull:     hub.PublishBrokerQueueFull,
	bridge.ShardQueueFull:      hub.PublishShardQueueFull,
	bridge.SocketIDInvalid:     hub.PublishSocketIDInvalid,
}

// countPublish counts a PHP publish to appID that returned a failure code.
// appID may alias PHP memory: the label gets a copy. An id no hub serves is
// counted under app "", so that typos cannot grow the series without bound.
func countPublish(appID string, code bridge.Code) bridge.Code {
	if code > 0 && int(code) < len(publishReasons) {
		label := ""
		if hub.Lookup(appID) != nil {
			label = strings.Clone(appID)
		}
		hub.CountPublishFailure(label, publishReasons[code])
	}
	return code
}

// observeAuth records one authorisation by the auth workers that took d
// and failed with err (nil: the script answered).
func observeAuth(d time.Duration, err error) {
	switch {
	case err == nil:
		hub.ObserveAuth(d)
	case errors.Is(err, authpool.ErrOpen):
		hub.CountBreakerOpen()
	case errors.Is(err, authpool.ErrBusy):
		hub.CountAuthFailure(hub.AuthConcurrencyLimit)
	case errors.Is(err, errAuthBodyTooLarge):
		// The client's request, not the workers: not a worker failure.
	default:
		hub.ObserveAuth(d)
		hub.CountAuthFailure(hub.AuthWorkerError)
	}
}
