package main

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"

	"github.com/pogo-websocket/pogo-websocket/bench/internal/pusher"
	"github.com/pogo-websocket/pogo-websocket/bench/internal/report"
	"github.com/pogo-websocket/pogo-websocket/bench/internal/results"
)

// slowPhases are the slow mode's three passes over -slow-rates: the same
// fan-out without a slow consumer, with one, and without again (the run's
// own noise, with the slow consumer gone or reading again).
var slowPhases = []struct {
	name, mode string
	paused     bool
}{
	{"without", results.SlowWithout, false},
	{"with 1 slow", results.SlowWith, true},
	{"without, again", results.SlowAfter, false},
}

// fillChannel is the slow consumer's own channel (see runSlow).
const fillChannel = "slow-fill"

// slowRcvBuf is the slow consumer's socket receive buffer: a client on a
// slow link, whose kernel does not let megabytes pile up on its side.
const slowRcvBuf = 16 << 10

// runSlow is the slow-consumer scenario of issue 12: -conns clients
// subscribe to one channel, and the -slow-rates fan-out steps run three
// times (slowPhases). One client, the slow consumer (its receive buffer
// slowRcvBuf), reads like the others in the first phase, stops reading for
// the second, and reads again in the third; the latency figures are the
// others'. So that its queue overflows within the run whatever the
// server's limit (pogo: 1 MiB; Sockudo: 1,000 messages), it is also
// subscribed to a channel of its own that gets -fill-rate publishes/s of
// -fill-payload bytes in all three phases. At the end it reads what is left and reports what it received of every acknowledged
// publish, and how its connection ended (a close frame with 4100, for a
// server that drops slow consumers as the Pusher protocol asks).
func runSlow(ctx context.Context, cfg *config) error {
	const channel = "fanout"
	if cfg.conns < 2 {
		return fmt.Errorf("slow mode needs -conns of at least 2")
	}
	c, err := cfg.dialer.dialRcvBuf(ctx, slowRcvBuf)
	if err == nil {
		if err = c.subscribe(channel, cfg.dialer.timeout); err == nil {
			err = c.subscribe(fillChannel, cfg.dialer.timeout)
		}
		if err != nil {
			c.close()
		}
	}
	if err != nil {
		return fmt.Errorf("slow consumer: %w", err)
	}
	sc := newSlowConsumer(c)
	go sc.run()
	defer sc.stop()
	f, st, err := connect(ctx, cfg.dialer, cfg.conns-1, cfg.dialConc, func(int) string { return channel })
	printConnect(cfg, st)
	if err != nil {
		return err
	}
	defer f.close()
	others := int64(len(f.clients))
	rec := newRecorder(len(slowPhases) * len(cfg.slowRates))
	f.serve(rec.deliver)

	pub := newPublisher(cfg.addr, cfg.creds, maxInFlight, cfg.payload, cfg.tls)
	defer pub.close()
	fill := startFill(ctx, cfg, len(rec.steps))
	var steps []*fanStep
	for p, ph := range slowPhases {
		sc.pause(ph.paused)
		s, err := fanSteps(ctx, cfg, pub, channel, cfg.slowRates, p*len(cfg.slowRates), rec, "slow-"+ph.mode)
		steps = append(steps, s...)
		if err != nil {
			fill.stop()
			return err
		}
	}
	fill.stop()
	var want, fanned int64
	for _, s := range steps {
		fanned += s.pubs.ok.Load()
	}
	want = fanned * others
	rec.drain(ctx, want, cfg.drain)
	sc.drain(ctx, fanned+fill.ok.Load(), cfg.drain)

	fmt.Fprintf(cfg.out, "\n### Slow consumer: 1 publisher → 1 channel × %s subscribers, %v per step, %d-byte data\n\n",
		report.Num(float64(len(f.clients)+1)), cfg.step, cfg.payload)
	fmt.Fprintf(cfg.out, "One of them, the slow consumer (socket receive buffer %d KiB), stops reading in the second phase and reads again "+
		"in the third; it also gets %g publishes/s of %d bytes on a channel of its own in every phase. "+
		"The figures are the %s others'.\n\n",
		slowRcvBuf>>10, cfg.fillRate, cfg.fillPayload, report.Num(float64(others)))
	t := report.NewTable("phase", ">pub/s target", ">pub/s sent", ">deliveries/s", ">delivered", ">latency p50", ">p99", ">max",
		">server CPU", ">client CPU", ">server RSS")
	var points []results.Point
	for si, s := range steps {
		ph := slowPhases[si/len(cfg.slowRates)]
		d := &rec.steps[si]
		t.Row(ph.name, fmt.Sprintf("%g", s.rate), fmt.Sprintf("%.1f", s.sentRate(cfg.step)),
			report.Num(float64(s.window)/s.cpu.wall.Seconds()), ratio(d.n.Load(), s.pubs.ok.Load()*others),
			report.Dur(d.latency.Quantile(0.5)), report.Dur(d.latency.Quantile(0.99)), report.Dur(d.latency.Max()),
			s.cpu.Server(), s.cpu.Client(), rssCell(s.rss))
		if n := s.pubs.failed.Load(); n > 0 {
			defer fmt.Fprintf(cfg.out, "%s, %g/s: %d publishes failed, first: %s\n", ph.name, s.rate, n, s.pubs.firstError())
		}
		points = append(points, results.Point{Label: cfg.label, Mode: ph.mode, X: s.rate, Values: map[string]float64{
			results.LatencyP50: d.latency.Quantile(0.5).Seconds(),
			results.LatencyP99: d.latency.Quantile(0.99).Seconds(),
			results.SentPerSec: s.sentRate(cfg.step),
		}})
	}
	t.Print(cfg.out)
	fmt.Fprintln(cfg.out)
	n := len(cfg.slowRates)
	for i, rate := range cfg.slowRates {
		p99 := func(phase int) float64 { return rec.steps[phase*n+i].latency.Quantile(0.99).Seconds() }
		if p99(0) > 0 {
			fmt.Fprintf(cfg.out, "p99 at %g pub/s: with the slow consumer ÷ without %.2f; without again ÷ without %.2f (the run's noise)\n",
				rate, p99(1)/p99(0), p99(2)/p99(0))
		}
	}
	expected := fanned + fill.ok.Load()
	got := sc.received.Load()
	fmt.Fprintf(cfg.out, "slow consumer: received %s of %s acknowledged publishes (%s missed); connection: %s\n",
		report.Num(float64(got)), report.Num(float64(expected)), report.Num(float64(expected-got)), sc.outcome())
	if n := fill.failed.Load(); n > 0 {
		fmt.Fprintf(cfg.out, "%d fill publishes failed, first: %s\n", n, fill.firstError())
	}
	printTail(cfg, f, rec)
	points = append(points, results.Point{Label: cfg.label, Mode: results.SlowConsumer, Values: map[string]float64{
		results.Expected:  float64(expected),
		results.Received:  float64(got),
		results.CloseCode: float64(sc.code()),
	}})
	return results.Append(cfg.results, points...)
}

// slowConsumer reads one client on its own goroutine, which can be paused:
// it counts the deliveries and records how the connection ended.
type slowConsumer struct {
	c        *client
	paused   atomic.Bool
	wake     chan struct{} // signalled when paused is cleared
	stopping atomic.Bool   // the run closes the connection
	received atomic.Int64
	done     chan struct{}
	// Set before done is closed.
	closeCode uint16
	end       string
}

func newSlowConsumer(c *client) *slowConsumer {
	return &slowConsumer{c: c, wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// pause stops reading (after the frame being read, if any) or resumes.
func (s *slowConsumer) pause(on bool) {
	s.paused.Store(on)
	if !on {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

func (s *slowConsumer) run() {
	defer close(s.done)
	for {
		for s.paused.Load() && !s.stopping.Load() {
			<-s.wake
		}
		op, p, err := s.c.next()
		if err != nil {
			s.end = err.Error()
			return
		}
		switch op {
		case ws.OpText:
			if bytes.Contains(p, benchMarker) {
				s.received.Add(1)
			} else if bytes.Contains(p, pusherPing) {
				_ = s.c.writeText(pusher.Pong)
			}
		case ws.OpPing:
			_ = s.c.write(ws.OpPong, p)
		case ws.OpClose:
			code, reason := ws.ParseCloseFrameDataUnsafe(p)
			s.closeCode = uint16(code)
			s.end = fmt.Sprintf("closed by the server with %d %q", code, reason)
			return
		}
	}
}

// drain resumes reading and waits until want deliveries arrived, the
// connection ended, or none arrived for quiet.
func (s *slowConsumer) drain(ctx context.Context, want int64, quiet time.Duration) {
	s.pause(false)
	last, lastChange := s.received.Load(), time.Now()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		n := s.received.Load()
		switch {
		case n >= want:
			return
		case n != last:
			last, lastChange = n, time.Now()
		case time.Since(lastChange) > quiet:
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-s.done:
			return
		case <-t.C:
		}
	}
}

// stop closes the connection and waits for the reader.
func (s *slowConsumer) stop() {
	s.stopping.Store(true)
	s.pause(false)
	s.c.close()
	<-s.done
}

// outcome says how the connection ended, so far.
func (s *slowConsumer) outcome() string {
	select {
	case <-s.done:
		if s.closeCode != 0 {
			return s.end
		}
		return "ended without a close frame: " + s.end
	default:
		return "still open at the end (the server did not close it)"
	}
}

// code is the close code the server sent, 0 for none (yet).
func (s *slowConsumer) code() uint16 {
	select {
	case <-s.done:
		return s.closeCode
	default:
		return 0
	}
}

// filler publishes to the slow consumer's own channel at a fixed rate.
type filler struct {
	publishStats
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startFill starts -fill-rate publishes/s of -fill-payload bytes to
// fillChannel, open loop, until stop; step tags them for no recorder step.
func startFill(ctx context.Context, cfg *config, step int) *filler {
	ctx, cancel := context.WithCancel(ctx)
	fl := &filler{cancel: cancel}
	if cfg.fillRate <= 0 {
		return fl
	}
	pub := newPublisher(cfg.addr, cfg.creds, maxInFlight, cfg.fillPayload, cfg.tls)
	fl.wg.Go(func() {
		defer pub.close()
		slots := make(chan struct{}, maxInFlight)
		var inFlight sync.WaitGroup
		defer inFlight.Wait()
		start := time.Now()
		for k := 0; ; k++ {
			if !sleepUntil(ctx, start.Add(time.Duration(float64(k)/cfg.fillRate*float64(time.Second)))) {
				return
			}
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			inFlight.Go(func() {
				defer func() { <-slots }()
				t0 := time.Now()
				// Not ctx: a publish under way when the run stops is finished and counted.
				status, err := pub.publish(context.WithoutCancel(ctx), fillChannel, step)
				fl.record(status, err, time.Since(t0))
			})
		}
	})
	return fl
}

// stop ends the fill and waits for the publishes in flight.
func (fl *filler) stop() {
	fl.cancel()
	fl.wg.Wait()
}
