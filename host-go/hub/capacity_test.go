package hub

import (
	"sync"
	"sync/atomic"
	"testing"
)

func TestAdmitNeverOvershootsTheCapacityUnderConcurrentUpgrades(t *testing.T) {
	t.Parallel()
	h := &Hub{cfg: Config{MaxConnections: 3}, openConns: new(atomic.Int64)}
	var admitted atomic.Int32
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if h.admit() {
				admitted.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := admitted.Load(); n != 3 || h.openConns.Load() != 3 {
		t.Fatalf("admitted %d, counted %d; want 3 and 3", n, h.openConns.Load())
	}
	h.openConns.Add(-1) // one leaves
	if !h.admit() || h.admit() {
		t.Error("a freed slot is not admitted exactly once")
	}
}

func TestAdmitWithoutCapacityAdmitsAll(t *testing.T) {
	t.Parallel()
	h := &Hub{openConns: new(atomic.Int64)}
	for i := range 1000 {
		if !h.admit() {
			t.Fatalf("connection %d refused without a capacity", i+1)
		}
	}
}
