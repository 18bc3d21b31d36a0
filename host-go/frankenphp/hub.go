package frankenphp

import "github.com/pogo-websocket/pogo-websocket/host-go/frankenphp/internal/bridge"

// lookupHub finds the hub of an app id.
// TODO(issue 5): wire to the host's package-level hub registry once it exists.
func lookupHub(appID string) (bridge.Publisher, bool) {
	return nil, false
}
