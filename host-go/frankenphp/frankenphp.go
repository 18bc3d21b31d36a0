// Package frankenphp puts Pogo WebSocket inside FrankenPHP: it registers the
// PHP extension "pogo_websocket", whose functions publish to the hubs of the
// pogo_websocket Caddy handlers running in the same process.
//
//	pogo_websocket_publish(string $appId, string $channel, string $event, string $data): int
//	pogo_websocket_broadcast_multi(string $appId, string $channels, string $event, string $data): int
//
// $data must be JSON (at most the app's payload limit) and $channels a JSON
// array of channel names. Both functions return 0 once the event is queued for
// delivery (at most once) and never wait for a queue; the other return codes
// are listed in internal/bridge.
//
// Importing this package needs cgo and a thread-safe libphp with the embed
// SAPI; it lives in its own module so that the plain Caddy build needs neither.
package frankenphp

// #include "pogo_websocket.h"
import "C"
import (
	"unsafe"

	"github.com/dunglas/frankenphp"
	"github.com/pogo-websocket/pogo-websocket/host-go/frankenphp/internal/bridge"
)

var phpBridge = bridge.New(lookupHub)

func init() {
	frankenphp.RegisterExtension(unsafe.Pointer(&C.pogo_websocket_module_entry))
}
