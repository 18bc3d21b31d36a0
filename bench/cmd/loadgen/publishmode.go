package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/pogo-websocket/pogo-websocket/bench/internal/report"
)

// publishSubs are the subscribers per channel of the publish mode's steps.
var publishSubs = []int{0, 10}

// runPublish measures signed HTTP publishes in closed loop, to channels
// with no subscriber (the HTTP and signature path alone) and to channels
// with 10 each: -channels/10 channels (at most -conns/10) get 10 clients
// each, and for each subscriber count and each -publishers count, the
// publishers send back to back, round-robin over the channels, for -step.
func runPublish(ctx context.Context, cfg *config) error {
	k := max(min(cfg.channels, cfg.conns/10), 1)
	names := func(subs int) []string {
		l := make([]string, k)
		for i := range l {
			l[i] = "pub" + strconv.Itoa(subs) + "-" + strconv.Itoa(i)
		}
		return l
	}
	subscribed, unsubscribed := names(10), names(0)
	f, st, err := connect(ctx, cfg.dialer, 10*k, cfg.dialConc, func(i int) string { return subscribed[i%k] })
	printConnect(cfg, st)
	if err != nil {
		return err
	}
	defer f.close()
	perChannel := make([]int64, k)
	for i := range len(f.clients) {
		perChannel[i%k]++
	}
	nobody := make([]int64, k) // subscribers of the unsubscribed channels
	type step struct {
		subs, publishers int
		pubs             publishStats
		cpu              *cpuMeter
		want             int64
	}
	var steps []*step
	for _, subs := range publishSubs {
		for _, conc := range cfg.publishers {
			steps = append(steps, &step{subs: subs, publishers: conc})
		}
	}
	rec := newRecorder(len(steps))
	f.serve(rec.deliver)
	pub := newPublisher(cfg.addr, cfg.creds, maxInt(cfg.publishers), cfg.payload, cfg.tls)
	defer pub.close()
	var want int64
	for si, s := range steps {
		sctx, cancel := context.WithTimeout(ctx, cfg.step)
		s.cpu = startCPU(cfg.server)
		if s.subs > 0 {
			s.want = pub.closedLoop(ctx, sctx, s.publishers, subscribed, perChannel, si, &s.pubs)
		} else {
			s.want = pub.closedLoop(ctx, sctx, s.publishers, unsubscribed, nobody, si, &s.pubs)
		}
		cancel()
		s.cpu.stop()
		want += s.want
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rec.drain(ctx, want, cfg.drain)
	}

	fmt.Fprintf(cfg.out, "\n### Signed HTTP publishes, closed loop: %d channels with no subscriber, then %d channels × 10 subscribers, %v per step, %d-byte data\n\n",
		k, k, cfg.step, cfg.payload)
	t := report.NewTable(">subscribers/channel", ">publishers", ">publishes/s", ">HTTP p50", ">HTTP p99", ">delivered",
		">latency p99", ">server CPU", ">CPU s/1M pub.", ">client CPU")
	for si, s := range steps {
		d := &rec.steps[si]
		ok := float64(s.pubs.ok.Load())
		delivered, lat := "n/a", ""
		if s.subs > 0 {
			delivered, lat = ratio(d.n.Load(), s.want), report.Dur(d.latency.Quantile(0.99))
		}
		t.Row(s.subs, s.publishers, report.Num(ok/s.cpu.wall.Seconds()),
			report.Dur(s.pubs.latency.Quantile(0.5)), report.Dur(s.pubs.latency.Quantile(0.99)), delivered, lat,
			s.cpu.Server(), s.cpu.ServerPerMillion(ok), s.cpu.Client())
		if n := s.pubs.failed.Load(); n > 0 {
			defer fmt.Fprintf(cfg.out, "%d subscribers, %d publishers: %d publishes failed, first: %s\n", s.subs, s.publishers, n, s.pubs.firstError())
		}
	}
	t.Print(cfg.out)
	printTail(cfg, f, rec)
	return nil
}
