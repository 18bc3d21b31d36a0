package frankenphp

import (
	"context"
	"strings"
	"testing"

	"github.com/pogo-websocket/pogo-websocket/host-go/engine"
	"github.com/pogo-websocket/pogo-websocket/host-go/frankenphp/internal/bridge"
	"github.com/pogo-websocket/pogo-websocket/host-go/hub"
)

// The bridge on a real hub: codes 0, 9 (tiny queue) and 1 (no hub, closed hub).
func TestBridge_Hub_Codes(t *testing.T) {
	app := engine.App{ID: "bridge-hub-test", Key: "bridge-hub-key", Secret: "s"}
	h, err := hub.New(hub.Config{Apps: []engine.App{app}, QueueLimit: 64})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			h.Shutdown(context.Background())
		}
	})
	b := bridge.New(lookupHub)
	data := []byte(`{"pad":"` + strings.Repeat("x", 100) + `"}`)

	if got := b.Publish(app.ID, "news", []byte("e"), data, nil); got != bridge.OK {
		t.Fatalf("first publish = %d, want OK", got)
	}
	full := false
	for range 10000 {
		if b.Publish(app.ID, "news", []byte("e"), data, nil) == bridge.ShardQueueFull {
			full = true
			break
		}
	}
	if !full {
		t.Fatal("10000 publishes into a 64-byte queue never got ShardQueueFull")
	}
	if got := b.BroadcastMulti("other-app", []byte(`["news"]`), []byte("e"), data, nil); got != bridge.HubMissing {
		t.Fatalf("unknown app = %d, want HubMissing", got)
	}

	p := lookupHub(app.ID)
	if err := h.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	stopped = true
	if got := b.Publish(app.ID, "news", []byte("e"), data, nil); got != bridge.HubMissing {
		t.Fatalf("after Shutdown = %d, want HubMissing", got)
	}
	// A caller that found the hub just before it stopped.
	stale := bridge.New(func(string) bridge.Publisher { return p })
	if got := stale.Publish(app.ID, "news", []byte("e"), data, nil); got != bridge.HubMissing {
		t.Fatalf("publish on a closed hub = %d, want HubMissing", got)
	}
}
