package hub

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// BenchmarkHub_Broadcast publishes one event per iteration to subscribers
// over loopback TCP and waits until every one of them has read it.
func BenchmarkHub_Broadcast(b *testing.B) {
	const subscribers = 200
	h, srv := newTestHub(b, Config{})
	var received atomic.Int64
	clients := make([]*client, subscribers)
	for i := range clients {
		c := dial(b, srv, testApp.Key)
		c.socketID()
		c.subscribe("bench")
		clients[i] = c
		go func() {
			for {
				_ = c.nc.SetReadDeadline(time.Now().Add(time.Minute))
				f, err := ws.ReadFrame(c.br)
				if err != nil {
					return
				}
				if f.Header.OpCode == ws.OpText {
					received.Add(1)
				}
			}
		}()
	}
	channels, event, data := []byte(`["bench"]`), []byte("tick"), []byte(`{"n":1}`)
	b.ResetTimer()
	for i := range b.N {
		if err := h.Publish(testApp.ID, channels, event, data, nil); err != nil {
			b.Fatal(err)
		}
		want := int64(i+1) * subscribers
		deadline := time.Now().Add(testTimeout)
		for received.Load() < want {
			if time.Now().After(deadline) {
				b.Fatalf("%d of %d deliveries", received.Load(), want)
			}
			time.Sleep(10 * time.Microsecond)
		}
	}
	b.ReportMetric(float64(b.N*subscribers)/b.Elapsed().Seconds(), "deliveries/s")
}
