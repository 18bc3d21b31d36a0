package main

import (
	"context"
	"fmt"

	"github.com/pogo-websocket/pogo-websocket/bench/internal/report"
)

// runStorm is the handshake storm: -conns new connections opened as fast as
// -dial-concurrency dials in flight allow, spread over the -src addresses,
// each counted once pusher:connection_established arrived. They stay open
// until the last one is established (so the server holds them all), then
// close together.
func runStorm(ctx context.Context, cfg *config) error {
	cpu := startCPU(cfg.server)
	f, st, err := connect(ctx, cfg.dialer, cfg.conns, cfg.dialConc, nil)
	cpu.stop()
	if err != nil {
		printConnect(cfg, st)
		return err
	}
	var rss int64
	if cfg.server != nil {
		rss, _, _ = cfg.server.memory()
	}
	f.close()
	n := st.handshake.Count()
	fmt.Fprintf(cfg.out, "### Handshake storm: %s connections, %d dials in flight, from %d source address(es)\n\n",
		report.Num(float64(cfg.conns)), cfg.dialConc, len(cfg.dialer.sources))
	t := report.NewTable(">established", ">failed", ">elapsed", ">established/s", ">handshake p50", ">p99", ">max",
		">server CPU", ">client CPU", ">server RSS")
	t.Row(report.Num(float64(n)), st.failures, report.Dur(st.elapsed), report.Num(float64(n)/st.elapsed.Seconds()),
		report.Dur(st.handshake.Quantile(0.5)), report.Dur(st.handshake.Quantile(0.99)), report.Dur(st.handshake.Max()),
		cpu.Server(), cpu.Client(), rssCell(rss))
	t.Print(cfg.out)
	if st.failures > 0 {
		fmt.Fprintf(cfg.out, "\nfirst failure: %v\n", st.firstErr)
	}
	return nil
}
