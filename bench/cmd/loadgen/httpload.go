package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/pogo-websocket/pogo-websocket/bench/internal/report"
)

// runHTTP is scenario S3: clients spread over many channels (client i in
// channel i mod channels); at each step, a number of publishers send signed
// HTTP publishes back to back (closed loop, one keep-alive connection
// each), round-robin over the channels, for the step's duration.
func runHTTP(ctx context.Context, cfg *config) error {
	names := make([]string, cfg.channels)
	for i := range names {
		names[i] = "bench-" + strconv.Itoa(i)
	}
	f, st, err := connect(ctx, cfg.dialer, cfg.conns, cfg.dialConc, func(i int) string { return names[i%cfg.channels] })
	printConnect(cfg, st)
	if err != nil {
		return err
	}
	defer f.close()
	// Subscribers per channel, for the expected deliveries (a failed dial
	// leaves a hole, so count).
	perChannel := make([]int64, cfg.channels)
	for i := range len(f.clients) {
		perChannel[i%cfg.channels]++
	}
	rec := newRecorder(len(cfg.publishers))
	f.serve(rec.deliver)

	pub := newPublisher(cfg.addr, cfg.creds, maxInt(cfg.publishers), cfg.payload, cfg.tls)
	defer pub.close()
	type step struct {
		publishers int
		pubs       publishStats
		cpu        *cpuMeter
		window     int64
		want       int64
		rss        int64
	}
	steps := make([]*step, len(cfg.publishers))
	var want int64
	for si, conc := range cfg.publishers {
		s := &step{publishers: conc}
		steps[si] = s
		sctx, cancel := context.WithTimeout(ctx, cfg.step)
		recv0 := rec.received.Load()
		wait := profileStep(ctx, cfg, fmt.Sprintf("%s-http-%dpub.pprof", cfg.label, conc))
		s.cpu = startCPU(cfg.server)
		s.want = pub.closedLoop(ctx, sctx, conc, names, perChannel, si, &s.pubs)
		cancel()
		s.cpu.stop()
		wait()
		s.window = rec.received.Load() - recv0
		if cfg.server != nil {
			s.rss, _, _ = cfg.server.memory()
		}
		want += s.want
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// Let the step's deliveries land before the next step loads the server.
		rec.drain(ctx, want, cfg.drain)
	}

	fmt.Fprintf(cfg.out, "\n### HTTP publishes: %d channels × %s subscribers (%s connections), closed loop, %v per step, %d-byte data\n\n",
		cfg.channels, report.Num(float64(len(f.clients))/float64(cfg.channels)), report.Num(float64(len(f.clients))), cfg.step, cfg.payload)
	t := report.NewTable(">publishers", ">publishes/s", ">HTTP p50", ">HTTP p99", ">deliveries/s", ">delivered",
		">latency p50", ">p99", ">max", ">server CPU", ">CPU s/1M pub.", ">client CPU", ">server RSS")
	for si, s := range steps {
		d := &rec.steps[si]
		ok := float64(s.pubs.ok.Load())
		t.Row(s.publishers, report.Num(ok/s.cpu.wall.Seconds()),
			report.Dur(s.pubs.latency.Quantile(0.5)), report.Dur(s.pubs.latency.Quantile(0.99)),
			report.Num(float64(s.window)/s.cpu.wall.Seconds()), ratio(d.n.Load(), s.want),
			report.Dur(d.latency.Quantile(0.5)), report.Dur(d.latency.Quantile(0.99)), report.Dur(d.latency.Max()),
			s.cpu.Server(), s.cpu.ServerPerMillion(ok), s.cpu.Client(), rssCell(s.rss))
		if n := s.pubs.failed.Load(); n > 0 {
			defer fmt.Fprintf(cfg.out, "%d publishers: %d publishes failed, first: %s\n", s.publishers, n, s.pubs.firstError())
		}
	}
	t.Print(cfg.out)
	printTail(cfg, f, rec)
	return nil
}

func maxInt(xs []int) int {
	m := 1
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
