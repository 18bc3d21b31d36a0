package engine

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkEngine_Process runs batches of 100 messages (a subscribe or a
// ping from each of 100 connections) through the real engine, with the
// call deadline armed.
func BenchmarkEngine_Process(b *testing.B) {
	e, err := New()
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	e.SetTimeout(time.Second)
	var setup Batch
	if err := setup.App(0, App{ID: "1", Key: "k", Secret: "s"}); err != nil {
		b.Fatal(err)
	}
	for id := uint32(1); id <= 100; id++ {
		setup.Open(id, "k", "", "protocol=7")
	}
	if _, err := e.Process(setup.Bytes()); err != nil {
		b.Fatal(err)
	}
	var batch Batch
	for id := uint32(1); id <= 100; id++ {
		if id%2 == 0 {
			batch.Message(id, []byte(`{"event":"pusher:ping","data":{}}`))
		} else {
			batch.Message(id, fmt.Appendf(nil, `{"event":"pusher:subscribe","data":{"channel":"bench-%d"}}`, id))
		}
	}
	b.ResetTimer()
	for range b.N {
		if _, err := e.Process(batch.Bytes()); err != nil {
			b.Fatal(err)
		}
	}
}
