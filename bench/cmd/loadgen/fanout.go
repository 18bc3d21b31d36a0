package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/pogo-websocket/pogo-websocket/bench/internal/report"
	"github.com/pogo-websocket/pogo-websocket/bench/internal/results"
)

// maxInFlight bounds the publishes of a fan-out step in flight at once.
const maxInFlight = 16

// runFanout is scenario S2: every client subscribes to one public channel; a
// publisher sends signed HTTP publishes at each rate in turn (fanSteps), and
// every publish is delivered to every client.
func runFanout(ctx context.Context, cfg *config) error {
	const channel = "fanout"
	f, st, err := connect(ctx, cfg.dialer, cfg.conns, cfg.dialConc, func(int) string { return channel })
	printConnect(cfg, st)
	if err != nil {
		return err
	}
	defer f.close()
	slow := min(cfg.slow, len(f.clients))
	subs := int64(len(f.clients) - slow)
	rec := newRecorder(len(cfg.rates))
	f.serveFrom(slow, rec.deliver)

	pub := newPublisher(cfg.addr, cfg.creds, maxInFlight, cfg.payload, cfg.tls)
	defer pub.close()
	steps, err := fanSteps(ctx, cfg, pub, channel, cfg.rates, 0, rec, "fanout")
	if err != nil {
		return err
	}
	var want int64
	for _, s := range steps {
		want += s.pubs.ok.Load() * subs
	}
	rec.drain(ctx, want, cfg.drain)

	fmt.Fprintf(cfg.out, "\n### Fanout: 1 publisher → 1 channel × %s subscribers, %v per step, %d-byte data\n\n",
		report.Num(float64(subs)), cfg.step, cfg.payload)
	if slow > 0 {
		fmt.Fprintf(cfg.out, "Plus %d slow consumer(s) on the channel that never read; the figures are the others'.\n\n", slow)
	}
	t := report.NewTable(">pub/s target", ">pub/s sent", ">HTTP p50", ">HTTP p99", ">deliveries/s", ">delivered",
		">latency p50", ">p99", ">max", ">server CPU", ">CPU s/1M deliv.", ">client CPU", ">server RSS")
	for si, s := range steps {
		d := &rec.steps[si]
		exp := s.pubs.ok.Load() * subs
		t.Row(fmt.Sprintf("%g", s.rate), fmt.Sprintf("%.1f", s.sentRate(cfg.step)),
			report.Dur(s.pubs.latency.Quantile(0.5)), report.Dur(s.pubs.latency.Quantile(0.99)),
			report.Num(float64(s.window)/s.cpu.wall.Seconds()),
			ratio(d.n.Load(), exp),
			report.Dur(d.latency.Quantile(0.5)), report.Dur(d.latency.Quantile(0.99)), report.Dur(d.latency.Max()),
			s.cpu.Server(), s.cpu.ServerPerMillion(float64(s.window)), s.cpu.Client(), rssCell(s.rss))
		if f := s.pubs.failed.Load(); f > 0 {
			defer fmt.Fprintf(cfg.out, "step %g/s: %d publishes failed, first: %s\n", s.rate, f, s.pubs.firstError())
		}
		if s.published > cfg.step+cfg.step/10 {
			defer fmt.Fprintf(cfg.out, "step %g/s: %d publishes were in flight, so the rate fell behind (%v to send)\n",
				s.rate, maxInFlight, s.published.Round(time.Millisecond))
		}
	}
	t.Print(cfg.out)
	printTail(cfg, f, rec)
	points := make([]results.Point, 0, len(steps))
	for si, s := range steps {
		d := &rec.steps[si]
		points = append(points, results.Point{Label: cfg.label, Mode: "fanout", X: s.rate, Values: map[string]float64{
			results.DeliveriesPerSec: float64(s.window) / s.cpu.wall.Seconds(),
			results.LatencyP50:       d.latency.Quantile(0.5).Seconds(),
			results.LatencyP99:       d.latency.Quantile(0.99).Seconds(),
			results.SentPerSec:       s.sentRate(cfg.step),
		}})
	}
	return results.Append(cfg.results, points...)
}

// fanStep is what one fan-out step measured besides its deliveries.
type fanStep struct {
	rate      float64
	pubs      publishStats
	cpu       *cpuMeter
	window    int64 // deliveries received during the step, any step's
	rss       int64
	published time.Duration
}

// fanSteps publishes to channel at each rate in turn for cfg.step, open
// loop: publish k of a step is sent at k/rate whether or not the earlier
// ones were answered (up to maxInFlight at once, each on its own keep-alive
// connection), so a slow answer does not lower the offered rate. Step i's
// publishes carry the step number first+i for rec. profile names the step's
// CPU profile (-pprof).
func fanSteps(ctx context.Context, cfg *config, pub *publisher, channel string, rates []float64, first int,
	rec *recorder, profile string) ([]*fanStep, error) {
	slots := make(chan struct{}, maxInFlight)
	steps := make([]*fanStep, 0, len(rates))
	for i, rate := range rates {
		s := &fanStep{rate: rate}
		steps = append(steps, s)
		n := int(rate * cfg.step.Seconds())
		recv0 := rec.received.Load()
		wait := profileStep(ctx, cfg, fmt.Sprintf("%s-%s-%gps.pprof", cfg.label, profile, rate))
		s.cpu = startCPU(cfg.server)
		start := time.Now()
		var inFlight sync.WaitGroup
		for k := range n {
			due := start.Add(time.Duration(float64(k) / rate * float64(time.Second)))
			if !sleepUntil(ctx, due) {
				break
			}
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
			}
			if ctx.Err() != nil {
				break
			}
			inFlight.Go(func() {
				defer func() { <-slots }()
				t0 := time.Now()
				status, err := pub.publish(ctx, channel, first+i)
				s.pubs.record(status, err, time.Since(t0))
			})
		}
		s.published = time.Since(start)
		inFlight.Wait()
		sleepUntil(ctx, start.Add(cfg.step))
		s.cpu.stop()
		wait()
		s.window = rec.received.Load() - recv0
		if cfg.server != nil {
			s.rss, _, _ = cfg.server.memory()
		}
		if ctx.Err() != nil {
			return steps, ctx.Err()
		}
	}
	return steps, nil
}

// sentRate is the publish rate a step achieved.
func (s *fanStep) sentRate(step time.Duration) float64 {
	return float64(s.pubs.ok.Load()+s.pubs.failed.Load()) / max(step, s.published).Seconds()
}

// ratio formats delivered/expected, marking any loss.
func ratio(got, want int64) string {
	if want == 0 {
		return "n/a"
	}
	return report.Pct(float64(got) / float64(want))
}

func rssCell(rss int64) string {
	if rss == 0 {
		return "n/a"
	}
	return report.Bytes(float64(rss))
}

// sleepUntil sleeps until t; false if ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// printConnect reports how the fleet connected.
func printConnect(cfg *config, st *connectStats) {
	if st == nil {
		return
	}
	n := st.handshake.Count()
	fmt.Fprintf(cfg.out, "connected %s of %s in %v (%s conns/s, %d dials in flight); handshake p50 %s p99 %s",
		report.Num(float64(n)), report.Num(float64(st.want)), st.elapsed.Round(time.Millisecond),
		report.Num(float64(n)/st.elapsed.Seconds()), cfg.dialConc,
		report.Dur(st.handshake.Quantile(0.5)), report.Dur(st.handshake.Quantile(0.99)))
	if st.subscribe.Count() > 0 {
		fmt.Fprintf(cfg.out, "; subscribe p50 %s p99 %s",
			report.Dur(st.subscribe.Quantile(0.5)), report.Dur(st.subscribe.Quantile(0.99)))
	}
	if st.failures > 0 {
		fmt.Fprintf(cfg.out, "; %d failed, first: %v", st.failures, st.firstErr)
	}
	fmt.Fprintln(cfg.out)
}

// printTail reports what the fleet saw besides deliveries.
func printTail(cfg *config, f *fleet, rec *recorder) {
	if n := rec.other.Load(); n > 0 {
		fmt.Fprintf(cfg.out, "\n%d other text messages received (not deliveries)\n", n)
	}
	if n := f.readErrs.Load(); n > 0 {
		fmt.Fprintf(cfg.out, "\n%d connections ended before the run did\n", n)
	}
}
