package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pogo-websocket/pogo-websocket/bench/internal/pusher"
	"github.com/pogo-websocket/pogo-websocket/bench/internal/stats"
)

// publisher sends signed HTTP API publishes over keep-alive connections.
type publisher struct {
	client *http.Client
	base   string // http://addr
	url    string // http://addr/apps/{id}/events
	creds  pusher.Credentials
	pad    string
}

func newPublisher(addr string, creds pusher.Credentials, conns, payload int, tlsConf *tls.Config) *publisher {
	scheme := "http://"
	if tlsConf != nil {
		scheme = "https://"
	}
	tr := &http.Transport{
		TLSClientConfig:     tlsConf,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &publisher{
		client: &http.Client{Transport: tr, Timeout: 10 * time.Second},
		base:   scheme + addr,
		url:    scheme + addr + creds.EventsPath(),
		creds:  creds,
		pad:    strings.Repeat("x", max(payload-len("bench:00:1700000000000000000:"), 0)),
	}
}

// publish sends event "bench" to channel; its data carries the step and the
// send time in Unix nanoseconds. It returns the HTTP status.
func (p *publisher) publish(ctx context.Context, channel string, step int) (int, error) {
	data := "bench:" + strconv.Itoa(step) + ":" + strconv.FormatInt(time.Now().UnixNano(), 10) + ":" + p.pad
	body := pusher.EventBody("bench", []string{channel}, data)
	q := p.creds.SignQuery(http.MethodPost, p.creds.EventsPath(), body, time.Now().Unix())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url+"?"+q, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, err
	}
	// Drain the body so that the connection is reused.
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// get sends a signed GET of an HTTP API path and returns the body of a 200.
func (p *publisher) get(ctx context.Context, path string) ([]byte, error) {
	return p.getRaw(ctx, path+"?"+p.creds.SignQuery(http.MethodGet, path, nil, time.Now().Unix()))
}

// getRaw sends a GET of pathQuery (path and query) and returns the body of a 200.
func (p *publisher) getRaw(ctx context.Context, pathQuery string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+pathQuery, nil)
	if err != nil {
		return nil, err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d %.200s", pathQuery, resp.StatusCode, body)
	}
	return body, nil
}

func (p *publisher) close() { p.client.CloseIdleConnections() }

// closedLoop runs workers publishers until stepCtx ends, each sending back to
// back, round-robin over channels (worker w takes channels w, w+workers, …),
// for step; every outcome goes to stats. It returns the deliveries to
// expect: the subscribers (perChannel) of each channel a publish reached.
// The request in flight when stepCtx ends still completes, under ctx: the
// server may have taken it, and then delivers it.
func (p *publisher) closedLoop(ctx, stepCtx context.Context, workers int, channels []string, perChannel []int64, step int, stats *publishStats) int64 {
	var wg sync.WaitGroup
	var want atomic.Int64
	for w := range workers {
		wg.Go(func() {
			var expected int64
			for n := w; stepCtx.Err() == nil; n += workers {
				ch := n % len(channels)
				t0 := time.Now()
				status, err := p.publish(ctx, channels[ch], step)
				stats.record(status, err, time.Since(t0))
				if err == nil && status == 200 {
					expected += perChannel[ch]
				}
			}
			want.Add(expected)
		})
	}
	wg.Wait()
	return want.Load()
}

// publishStats counts the publishes of one step.
type publishStats struct {
	ok, failed atomic.Int64
	firstErr   atomic.Value // string
	latency    stats.Histogram
}

// record notes one publish's outcome.
func (s *publishStats) record(status int, err error, d time.Duration) {
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("HTTP %d", status)
	}
	if err != nil {
		s.failed.Add(1)
		s.firstErr.CompareAndSwap(nil, err.Error())
		return
	}
	s.ok.Add(1)
	s.latency.Record(d)
}

func (s *publishStats) firstError() string {
	if v, ok := s.firstErr.Load().(string); ok {
		return v
	}
	return ""
}

// recorder attributes each delivery to its step by the step number in the
// event data, and records its publish→receive latency.
type recorder struct {
	steps    []stepDeliveries
	received atomic.Int64 // every delivery, for windowed rates
	other    atomic.Int64 // text messages that are not deliveries
}

type stepDeliveries struct {
	n       atomic.Int64
	latency stats.Histogram
}

func newRecorder(steps int) *recorder { return &recorder{steps: make([]stepDeliveries, steps)} }

var benchMarker = []byte("bench:")

// deliver is the fleet's delivery callback; it parses "bench:<step>:<ns>:"
// out of the event without decoding the JSON.
func (r *recorder) deliver(msg []byte, at time.Time) {
	i := bytes.Index(msg, benchMarker)
	if i < 0 {
		r.other.Add(1)
		return
	}
	p := msg[i+len(benchMarker):]
	step, p, ok1 := parseUint(p)
	sent, _, ok2 := parseUint(p)
	if !ok1 || !ok2 || step >= uint64(len(r.steps)) {
		r.other.Add(1)
		return
	}
	r.received.Add(1)
	s := &r.steps[step]
	s.n.Add(1)
	s.latency.Record(at.Sub(time.Unix(0, int64(sent))))
}

// parseUint parses decimal digits up to a ':' and returns the rest after it.
func parseUint(p []byte) (uint64, []byte, bool) {
	var v uint64
	for i, c := range p {
		if c == ':' {
			return v, p[i+1:], i > 0
		}
		if c < '0' || c > '9' {
			return 0, nil, false
		}
		v = v*10 + uint64(c-'0')
	}
	return 0, nil, false
}

// delivered returns the deliveries attributed to every step so far.
func (r *recorder) delivered() int64 {
	var n int64
	for i := range r.steps {
		n += r.steps[i].n.Load()
	}
	return n
}

// drain waits until want deliveries arrived, or no delivery arrived for
// quiet, or ctx ends.
func (r *recorder) drain(ctx context.Context, want int64, quiet time.Duration) {
	last, lastChange := r.delivered(), time.Now()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		n := r.delivered()
		if n >= want {
			return
		}
		if n != last {
			last, lastChange = n, time.Now()
		} else if time.Since(lastChange) > quiet {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
