// Package frankenphp puts Pogo WebSocket inside FrankenPHP: it registers the
// PHP extension "pogo_websocket", whose functions publish to the hubs of the
// pogo_websocket Caddy handlers running in the same process.
//
//	pogo_websocket_publish(string $appId, string $channel, string $event, string $data, ?string $socketId = null): int
//	pogo_websocket_broadcast_multi(string $appId, string $channels, string $event, string $data, ?string $socketId = null): int
//
// $data must be JSON (at most the app's payload limit) and $channels a JSON
// array of channel names; the connection with socket id $socketId, if any, is
// left out (Laravel's toOthers()). Both functions return 0 once the event is queued for
// delivery (at most once) and never wait for a queue; the other return codes
// are listed in internal/bridge and are PHP constants (POGO_WEBSOCKET_*).
//
// Importing this package needs cgo and a thread-safe libphp with the embed
// SAPI; it lives in its own module so that the plain Caddy build needs neither.
package frankenphp

// #include "pogo_websocket.h"
import "C"
import (
	"github.com/pogo-websocket/pogo-websocket/host-go/frankenphp/internal/bridge"
)

var phpBridge = bridge.New(lookupHub)

// The C constants PHP sees must be the bridge's codes: a mismatch makes an
// index out of range or negative, which does not compile.
var (
	_ = [1]struct{}{}[C.POGO_WEBSOCKET_OK-bridge.OK]
	_ = [1]struct{}{}[C.POGO_WEBSOCKET_HUB_MISSING-bridge.HubMissing]
	_ = [1]struct{}{}[C.POGO_WEBSOCKET_CHANNEL_INVALID-bridge.ChannelInvalid]
	_ = [1]struct{}{}[C.POGO_WEBSOCKET_EVENT_INVALID-bridge.EventInvalid]
	_ = [1]struct{}{}[C.POGO_WEBSOCKET_PAYLOAD_TOO_LARGE-bridge.PayloadTooLarge]
	_ = [1]struct{}{}[C.POGO_WEBSOCKET_PAYLOAD_INVALID-bridge.PayloadInvalid]
	_ = [1]struct{}{}[C.POGO_WEBSOCKET_BROKER_PUBLISH_FAILED-bridge.BrokerPublishFailed]
	_ = [1]struct{}{}[C.POGO_WEBSOCKET_CHANNELS_INVALID-bridge.ChannelsInvalid]
	_ = [1]struct{}{}[C.POGO_WEBSOCKET_BROKER_QUEUE_FULL-bridge.BrokerQueueFull]
	_ = [1]struct{}{}[C.POGO_WEBSOCKET_SHARD_QUEUE_FULL-bridge.ShardQueueFull]
	_ = [1]struct{}{}[C.POGO_WEBSOCKET_SOCKET_ID_INVALID-bridge.SocketIDInvalid]
)

// The extension is not registered with frankenphp.RegisterExtension, which
// loses it at the first Caddy reload (php/frankenphp#2572), but through PHP's
// own startup hook, at every start of PHP (pogo_websocket.c).
func init() {
	C.pogo_websocket_install()
}
