package hub

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/pogo-websocket/pogo-websocket/host-go/engine"
)

// stallingEngines returns Config.newEngine for the real engine, instrumented
// so that, while stall is set, its next `process` call spends d in a
// listener (which runs inside the call) before it goes on: with d past the
// deadline, the call is still running when the deadline fires.
func stallingEngines(stall *atomic.Bool, d time.Duration) func() (*engine.Engine, error) {
	return func() (*engine.Engine, error) {
		return engine.NewInstrumented(experimental.FunctionListenerFactoryFunc(func(def api.FunctionDefinition) experimental.FunctionListener {
			if !slices.Contains(def.ExportNames(), "process") {
				return nil
			}
			return experimental.FunctionListenerFunc(func(context.Context, api.Module, api.FunctionDefinition, []uint64, experimental.StackIterator) {
				if stall.CompareAndSwap(true, false) {
					time.Sleep(d)
				}
			})
		}))
	}
}

func TestHub_EngineOverrun_Closes4200AndKeepsServing(t *testing.T) {
	var stall atomic.Bool
	h, srv := newTestHub(t, Config{EngineTimeout: 200 * time.Millisecond, newEngine: stallingEngines(&stall, time.Second)})
	c := dial(t, srv, testApp.Key)
	c.socketID()
	c.subscribe("news")
	recoveries := testutil.ToFloat64(metrics.engineRecovery)

	stall.Store(true)
	start := time.Now()
	c.write(ws.OpText, true, []byte(`{"event":"pusher:ping","data":{}}`))
	data := c.expectEvent("pusher:error")
	if !strings.Contains(string(data), `"code":4200`) {
		t.Errorf("pusher:error data = %s, want code 4200", data)
	}
	c.expectClose(4200)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("recovered after %s with a 200ms deadline and a 1s stall", d)
	}
	if got := testutil.ToFloat64(metrics.engineRecovery) - recoveries; got != 1 {
		t.Errorf("engine recoveries counted: %v, want 1", got)
	}

	// The client reconnects and resubscribes to the fresh engine, which
	// serves it, HTTP and publishes.
	c2 := dial(t, srv, testApp.Key)
	c2.socketID()
	c2.subscribe("news")
	if err := h.Publish("1", []byte(`["news"]`), []byte("after"), []byte(`"ok"`), nil); err != nil {
		t.Fatal(err)
	}
	c2.expectEvent("after")
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	resp, err := h.HTTP(ctx, "GET", "/apps/1/channels", "", nil)
	if err != nil || resp.Status != http.StatusUnauthorized {
		t.Errorf("unsigned HTTP after the recovery: %v %d, want the engine's 401", err, resp.Status)
	}
	if hl := h.Health(); !hl.Alive {
		t.Errorf("health after the recovery: %+v", hl)
	}
}

func TestHub_EngineOverrun_HTTPRequestAnswered500(t *testing.T) {
	var stall atomic.Bool
	h, _ := newTestHub(t, Config{EngineTimeout: 200 * time.Millisecond, newEngine: stallingEngines(&stall, time.Second)})
	stall.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	resp, err := h.HTTP(ctx, "GET", "/apps/1/channels", "", nil)
	if err != nil || resp.Status != http.StatusInternalServerError {
		t.Fatalf("HTTP in the overrun batch: %v %d, want 500 at once", err, resp.Status)
	}
}

func TestHub_Shutdown_BoundedWhileTheEngineStalls(t *testing.T) {
	var stall atomic.Bool
	// The stall is longer than the shutdown bound: Shutdown must not wait
	// for the engine goroutine.
	h, err := New(Config{
		Apps: []engine.App{testApp}, EngineTimeout: time.Second,
		ShutdownTimeout: 500 * time.Millisecond, ShutdownGrace: 100 * time.Millisecond,
		newEngine: stallingEngines(&stall, 3*time.Second),
	})
	if err != nil {
		t.Fatal(err)
	}
	stall.Store(true)
	_ = h.Publish("1", []byte(`["x"]`), []byte("e"), []byte(`1`), nil) // a batch that stalls
	waitFor(t, "the stalling call to start", func() bool { return !stall.Load() })
	start := time.Now()
	_ = h.Shutdown(context.Background())
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Shutdown took %s with a 500ms bound", d)
	}
	<-h.engineStopped // let the interrupted call end before the test does
}
