package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pogo-websocket/pogo-websocket/bench/internal/report"
	"github.com/pogo-websocket/pogo-websocket/bench/internal/results"
)

// runIdle is scenario S1: connections that subscribe to one public channel
// and then stay silent. It samples the server's RSS before any connection,
// after each stage (once it settled) and after all connections closed, and
// the server's CPU while they sit idle.
func runIdle(ctx context.Context, cfg *config) error {
	if cfg.server == nil {
		return errors.New("idle mode needs -server-pid to read the server's memory")
	}
	const channel = "idle"
	rss0, _, err := cfg.server.memory()
	if err != nil {
		return err
	}
	type sample struct {
		conns     int
		rss, peak int64
	}
	var samples []sample
	var fleets []*fleet
	defer func() {
		for _, f := range fleets {
			f.close()
		}
	}()
	rec := newRecorder(0)
	total := 0
	for _, stage := range cfg.idleStages {
		f, st, err := connect(ctx, cfg.dialer, stage-total, cfg.dialConc, func(int) string { return channel })
		printConnect(cfg, st)
		if err != nil {
			return err
		}
		fleets = append(fleets, f)
		f.serve(rec.deliver)
		total += len(f.clients)
		if !sleepUntil(ctx, time.Now().Add(cfg.settle)) {
			return ctx.Err()
		}
		rss, peak, err := cfg.server.memory()
		if err != nil {
			return err
		}
		samples = append(samples, sample{total, rss, peak})
	}

	cpu := startCPU(cfg.server)
	if !sleepUntil(ctx, time.Now().Add(cfg.hold)) {
		return ctx.Err()
	}
	cpu.stop()

	for _, f := range fleets {
		f.close()
	}
	readErrs := int64(0)
	for _, f := range fleets {
		readErrs += f.readErrs.Load()
	}
	fleets = nil
	sleepUntil(ctx, time.Now().Add(cfg.settle))
	rssAfter, peakAfter, err := cfg.server.memory()
	if err != nil {
		return err
	}

	fmt.Fprintf(cfg.out, "\n### Idle: connections subscribed to one public channel, silent (RSS sampled %v after each stage)\n\n", cfg.settle)
	t := report.NewTable(">connections", ">server RSS", ">Δ RSS from baseline", ">bytes/conn (marginal)", ">bytes/conn (this stage)")
	t.Row(0, report.Bytes(float64(rss0)), "", "", "")
	prev := sample{0, rss0, 0}
	points := make([]results.Point, 0, len(samples))
	for _, s := range samples {
		points = append(points, results.Point{Label: cfg.label, Mode: "idle", X: float64(s.conns),
			Values: map[string]float64{results.BytesPerConn: float64(s.rss-rss0) / float64(s.conns)}})
		t.Row(report.Num(float64(s.conns)), report.Bytes(float64(s.rss)), report.Bytes(float64(s.rss-rss0)),
			report.Num(float64(s.rss-rss0)/float64(s.conns)),
			report.Num(float64(s.rss-prev.rss)/float64(s.conns-prev.conns)))
		prev = s
	}
	t.Print(cfg.out)
	last := samples[len(samples)-1]
	fmt.Fprintf(cfg.out, "\nidle CPU over %v with %s connections: server %s of a core, client %s\n",
		cfg.hold, report.Num(float64(last.conns)), cpu.Server(), cpu.Client())
	fmt.Fprintf(cfg.out, "after closing them all (+%v): RSS %s; peak RSS (VmHWM) %s\n",
		cfg.settle, report.Bytes(float64(rssAfter)), report.Bytes(float64(max(peakAfter, last.peak))))
	if n := rec.other.Load() + rec.received.Load(); n > 0 {
		fmt.Fprintf(cfg.out, "%d messages arrived on idle connections\n", n)
	}
	if readErrs > 0 {
		fmt.Fprintf(cfg.out, "%d connections ended before the run did\n", readErrs)
	}
	return results.Append(cfg.results, points...)
}
