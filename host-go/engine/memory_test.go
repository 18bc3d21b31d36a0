package engine

import (
	"fmt"
	"testing"
	"time"
)

// TestEngine_MemoryReturnsAfterChannelPeak: 100,000 channels are created and
// emptied, three times over, through the real engine.wasm. Their memory must
// go back to the engine's allocator (the second and third peaks fit in the
// memory the first one grew, the registry is empty again) and the
// per-second tick must cost about what it did before the first peak.
func TestEngine_MemoryReturnsAfterChannelPeak(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 300,000 channels")
	}
	const (
		conns       = 100
		perConn     = 1000 // the default max_subscriptions
		cycles      = 3
		tickSamples = 200
	)
	e := newReal(t)
	app := App{ID: "1", Key: "key", Secret: "secret"}
	now := uint64(1_700_000_000_000)
	var b Batch
	run := func() []byte {
		t.Helper()
		b.SetNow(now)
		out, err := e.Process(b.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		b.Reset()
		return out
	}
	if err := b.App(0, app); err != nil {
		t.Fatal(err)
	}
	b.Open(1000, app.Key, "", "protocol=7") // stays open throughout
	run()
	// The cheapest of many ticks: scheduling noise only ever adds time.
	tickCost := func() time.Duration {
		best := time.Hour
		for range tickSamples {
			now += 1000
			b.Tick()
			start := time.Now()
			run()
			best = min(best, time.Since(start))
		}
		return best
	}
	baseTick := tickCost()

	var peakMem uint32
	for cycle := range cycles {
		for c := range uint32(conns) {
			b.Open(c+1, app.Key, "", "protocol=7")
			for i := range perConn {
				b.Message(c+1, fmt.Appendf(nil, `{"event":"pusher:subscribe","data":{"channel":"c%d-%d-%d"}}`, cycle, c, i))
			}
			out := run()
			if n := countKind(t, out, ActionSend); n != 1+perConn {
				t.Fatalf("cycle %d, connection %d: %d frames, want the handshake and %d subscription_succeeded", cycle, c, n, perConn)
			}
		}
		if got := httpGet(t, e, &b, now, app, "/apps/1/channels/c"+fmt.Sprint(cycle)+"-99-999"); got != `{"occupied":true}` {
			t.Fatalf("cycle %d: last channel = %s", cycle, got)
		}
		for c := range uint32(conns) {
			b.Closed(c + 1)
		}
		b.Tick()
		run()
		if err := e.Collect(); err != nil {
			t.Fatal(err)
		}
		if got := httpGet(t, e, &b, now, app, "/apps/1/channels"); got != `{"channels":{}}` {
			t.Fatalf("cycle %d: channels after the peak = %s", cycle, got)
		}
		mem := e.MemorySize()
		t.Logf("cycle %d: linear memory %d KiB after 100,000 channels came and went", cycle, mem>>10)
		if cycle == 0 {
			peakMem = mem
		} else if mem > peakMem {
			t.Errorf("cycle %d: memory grew to %d bytes from %d: the previous peak's memory was not returned", cycle, mem, peakMem)
		}
	}
	afterTick := tickCost()
	t.Logf("tick: %v before the peaks, %v after", baseTick, afterTick)
	if afterTick > 4*baseTick+50*time.Microsecond {
		t.Errorf("tick costs %v after the peaks, %v before", afterTick, baseTick)
	}
}

func countKind(t *testing.T, out []byte, kind ActionKind) int {
	t.Helper()
	n := 0
	a := NewActions(out)
	for a.Next() {
		if a.Kind() == kind {
			n++
		}
	}
	if err := a.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

// httpGet answers a signed GET of path in its own batch.
func httpGet(t *testing.T, e *Engine, b *Batch, now uint64, app App, path string) string {
	t.Helper()
	query := signedQuery("GET", path, map[string]string{
		"auth_key": app.Key, "auth_timestamp": fmt.Sprint(now / 1000), "auth_version": "1.0",
	}, app.Secret)
	b.Reset()
	b.SetNow(now)
	if err := b.HTTP(1, "GET", path, query, nil); err != nil {
		t.Fatal(err)
	}
	out, err := e.Process(b.Bytes())
	b.Reset()
	if err != nil {
		t.Fatal(err)
	}
	for a := NewActions(out); a.Next(); {
		if a.Kind() == ActionHTTPResponse {
			_, body, _ := a.HTTPResponse()
			return string(body)
		}
	}
	t.Fatalf("GET %s: no response", path)
	return ""
}
