package main

import (
	"fmt"
	"sync"
	"time"

	"github.com/pogo-websocket/pogo-websocket/bench/internal/pusher"
	"github.com/pogo-websocket/pogo-websocket/host-go/engine"
)

// aggregateResult is the measurement of one workload on several engine
// instances at once.
type aggregateResult struct {
	workload   string
	batch      int
	instances  int
	msgsPerSec float64 // all instances together, per wall second, best run
}

// runAggregate measures each workload on instances engines at once, each
// driven by its own goroutine over its own copy of the inbound state, as the
// hub's shards run: the aggregate rate is the messages of all instances over
// the wall time of the slowest. The best of runs is reported, since other
// processes can only slow a run down.
func runAggregate(creds pusher.Credentials, names string, size, instances int, run inboundRun, runs int) ([]aggregateResult, error) {
	m := newInboundMsgs()
	ws, err := m.selectWorkloads(names)
	if err != nil {
		return nil, err
	}
	var results []aggregateResult
	for _, w := range ws {
		// Each instance has its own batches: processing stamps them.
		drivers := make([]*driver, instances)
		batches := make([][]engine.Batch, instances)
		for i := range drivers {
			var want int
			batches[i], want, err = buildPeriod(w, size)
			if err != nil {
				closeAll(drivers)
				return nil, err
			}
			d, err := newInboundDriver(creds, w)
			if err == nil {
				err = checkPeriod(d, batches[i], want)
			}
			if err != nil {
				if d != nil {
					d.close()
				}
				closeAll(drivers)
				return nil, fmt.Errorf("%s: %w", w.name, err)
			}
			drivers[i] = d
		}
		best := 0.0
		for range runs {
			rate, err := aggregateRun(drivers, batches, size, run)
			if err != nil {
				closeAll(drivers)
				return nil, fmt.Errorf("%s: %w", w.name, err)
			}
			best = max(best, rate)
		}
		closeAll(drivers)
		results = append(results, aggregateResult{workload: w.name, batch: size, instances: instances, msgsPerSec: best})
	}
	return results, nil
}

// aggregateRun runs every driver on its own goroutine, each over its own
// copy of batches, and returns the messages of all per wall second.
func aggregateRun(drivers []*driver, batches [][]engine.Batch, size int, run inboundRun) (float64, error) {
	var wg sync.WaitGroup
	counts := make([]int, len(drivers))
	errs := make([]error, len(drivers))
	start := time.Now()
	for i, d := range drivers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			counts[i], _, errs[i] = runPeriods(d, batches[i], run)
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	total := 0
	for i := range drivers {
		if errs[i] != nil {
			return 0, errs[i]
		}
		total += counts[i] * size
	}
	return float64(total) / elapsed.Seconds(), nil
}

func closeAll(drivers []*driver) {
	for _, d := range drivers {
		if d != nil {
			d.close()
		}
	}
}
