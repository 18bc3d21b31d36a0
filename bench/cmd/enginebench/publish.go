package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pogo-websocket/pogo-websocket/bench/internal/pusher"
	"github.com/pogo-websocket/pogo-websocket/bench/internal/stats"
	"github.com/pogo-websocket/pogo-websocket/host-go/engine"
)

// The publish scenario: one event to a channel of N subscribers, as a signed
// HTTP API request (HTTP record: query parsing, MD5 of the body, HMAC-SHA256
// of the request, JSON parsing, encoding) and as a native PUBLISH record
// (the PHP/Redis path, no signature). The engine encodes the frame once and
// returns one BROADCAST with N connection ids; the time measured is the one
// Process call, which is what the hub's engine goroutine spends per publish
// before it copies the frame and queues it on N connections.

// fanoutChannel names the channel that the first n connections subscribe to.
func fanoutChannel(n int) string { return "fanout-" + strconv.Itoa(n) }

// publishResult is the measurement of one kind of publish to one channel size.
type publishResult struct {
	kind        string
	subscribers int
	// summary is the wall time of each Process call (checked one by one).
	summary stats.Summary
	// cpuMean is the process CPU time per publish over a second, unchecked
	// series: unlike wall time, it does not count time the core spent on
	// other processes.
	cpuMean time.Duration
}

// publishReport is the outcome of the publish scenario.
type publishReport struct {
	results []publishResult
	// memory is the engine's linear memory once every connection subscribed.
	memory uint32
	// collect is the median time of one full garbage collection of the
	// engine (__collect) in that state.
	collect time.Duration
	// tick is the median time of a batch holding one TICK (the hub sends
	// one per second: ping and timeout checks over every connection).
	tick time.Duration
}

// runPublish subscribes maxSubs connections and measures publishes to
// channels of each size in sizes (all ≤ maxSubs).
func runPublish(creds pusher.Credentials, sizes []int, runs, payload int) (*publishReport, error) {
	d, err := newDriver(creds)
	if err != nil {
		return nil, err
	}
	defer d.close()
	maxSubs := 0
	for _, n := range sizes {
		maxSubs = max(maxSubs, n)
	}
	const chunk = 1000
	for first := 1; first <= maxSubs; first += chunk {
		n := min(chunk, maxSubs-first+1)
		if _, err := d.open(uint32(first), uint32(n)); err != nil {
			return nil, err
		}
		var conns []uint32
		var msgs [][]byte
		for c := first; c < first+n; c++ {
			for _, size := range sizes {
				if c <= size {
					conns = append(conns, uint32(c))
					msgs = append(msgs, pusher.Subscribe(fanoutChannel(size), ""))
				}
			}
		}
		t, err := d.messages(conns, msgs)
		if err != nil {
			return nil, fmt.Errorf("subscribing: %w", err)
		}
		if t.sends != len(msgs) {
			return nil, fmt.Errorf("subscribing: %d answers to %d subscriptions", t.sends, len(msgs))
		}
	}

	rep := &publishReport{memory: d.eng.MemorySize()}
	if rep.collect, err = collectTime(d, 21); err != nil {
		return nil, err
	}
	if rep.tick, err = tickTime(d, 101); err != nil {
		return nil, err
	}

	data := benchData(payload)
	for _, size := range sizes {
		channel := fanoutChannel(size)
		body := pusher.EventBody("bench", []string{channel}, data)
		query := creds.SignQuery("POST", creds.EventsPath(), body, time.Now().Unix())
		kinds := []struct {
			name string
			add  func(b *engine.Batch, req uint32) error
			ok   func(t tally) bool
		}{
			{
				"HTTP  POST /apps/{id}/events (signed)",
				func(b *engine.Batch, req uint32) error {
					return b.HTTP(req, "POST", creds.EventsPath(), query, body)
				},
				func(t tally) bool { return t.httpResponses == 1 },
			},
			{
				"PUBLISH record (native)",
				func(b *engine.Batch, _ uint32) error {
					return b.Publish(creds.AppID, []byte(`["`+channel+`"]`), []byte("bench"), []byte(data), nil)
				},
				func(t tally) bool { return t.publishResults == 1 },
			},
		}
		for _, k := range kinds {
			s, err := measurePublish(d, size, runs, k.add, k.ok)
			if err != nil {
				return nil, fmt.Errorf("%s to %d subscribers: %w", strings.TrimSpace(k.name), size, err)
			}
			cpu, err := publishCPU(d, runs, k.add)
			if err != nil {
				return nil, err
			}
			rep.results = append(rep.results, publishResult{kind: k.name, subscribers: size, summary: s, cpuMean: cpu})
		}
	}
	return rep, nil
}

// tickTime returns the median wall time of n batches holding one TICK each.
func tickTime(d *driver, n int) (time.Duration, error) {
	var ts []time.Duration
	var b engine.Batch
	for range n {
		b.Reset()
		b.Tick()
		b.SetNow(uint64(time.Now().UnixMilli()))
		start := time.Now()
		out, err := d.eng.Process(b.Bytes())
		ts = append(ts, time.Since(start))
		if err != nil {
			return 0, err
		}
		if len(out) != 0 {
			return 0, fmt.Errorf("a tick produced %d bytes of actions on fresh connections", len(out))
		}
	}
	return stats.Summarize(ts).P50, nil
}

// publishCPU returns the mean process CPU time of runs publishes, processed
// back to back (already checked by measurePublish).
func publishCPU(d *driver, runs int, add func(*engine.Batch, uint32) error) (time.Duration, error) {
	var b engine.Batch
	start := processCPU()
	for i := range runs {
		b.Reset()
		if err := add(&b, uint32(i+1)); err != nil {
			return 0, err
		}
		b.SetNow(uint64(time.Now().UnixMilli()))
		if _, err := d.eng.Process(b.Bytes()); err != nil {
			return 0, err
		}
	}
	return (processCPU() - start) / time.Duration(runs), nil
}

// measurePublish times runs publishes (after a warm-up of runs/10) and checks
// every answer: one BROADCAST to want connections and a success result.
func measurePublish(d *driver, want, runs int, add func(*engine.Batch, uint32) error, ok func(tally) bool) (stats.Summary, error) {
	warmup := max(runs/10, 10)
	samples := make([]time.Duration, 0, runs)
	var b engine.Batch
	for i := range warmup + runs {
		b.Reset()
		if err := add(&b, uint32(i+1)); err != nil {
			return stats.Summary{}, err
		}
		b.SetNow(uint64(time.Now().UnixMilli()))
		start := time.Now()
		out, err := d.eng.Process(b.Bytes())
		elapsed := time.Since(start)
		if err != nil {
			return stats.Summary{}, err
		}
		t, err := count(out, true)
		if err != nil {
			return stats.Summary{}, err
		}
		if t.broadcasts != 1 || t.deliveries != want || !ok(t) {
			return stats.Summary{}, fmt.Errorf("answer: %+v, want one BROADCAST to %d connections and a success", t, want)
		}
		if err := checkSuccess(out); err != nil {
			return stats.Summary{}, err
		}
		if i >= warmup {
			samples = append(samples, elapsed)
		}
	}
	return stats.Summarize(samples), nil
}

// checkSuccess fails unless every HTTP response is a 200 and every publish
// result is 0.
func checkSuccess(out []byte) error {
	for a := engine.NewActions(out); a.Next(); {
		switch a.Kind() {
		case engine.ActionHTTPResponse:
			status, body, err := a.HTTPResponse()
			if err != nil {
				return err
			}
			if status != 200 {
				return fmt.Errorf("HTTP %d: %s", status, body)
			}
		case engine.ActionPublishResult:
			code, err := a.PublishResult()
			if err != nil {
				return err
			}
			if code != 0 {
				return fmt.Errorf("publish refused with code %d", code)
			}
		}
	}
	return nil
}

// benchData returns an event `data` string of n bytes, shaped like the load
// generator's (a step, a timestamp, padding).
func benchData(n int) string {
	s := "bench:0:" + strconv.FormatInt(time.Now().UnixNano(), 10) + ":"
	if len(s) < n {
		s += strings.Repeat("x", n-len(s))
	}
	return s
}
