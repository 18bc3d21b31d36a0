package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"strconv"
	"time"
)

// sample is one node's state at one instant.
type sample struct {
	at          time.Duration // since the start of the load
	node        int
	rss         float64 // VmRSS from /proc, bytes
	fds         float64 // entries of /proc/<pid>/fd
	goroutines  float64 // go_goroutines
	engineMem   float64 // pogo_websocket_engine_memory_bytes
	serverConns float64 // pogo_websocket_connections
	clientConns int64   // connections the generator holds open (every node)
	apiMembers  int     // presence members over every soak channel, from the HTTP API
	truth       int     // the same count, as the generator knows it
	published   int64   // HTTP publishes acknowledged so far
	clientSent  int64   // client events sent so far by stayers
}

var csvHeader = []string{
	"t_s", "node", "rss_bytes", "fds", "goroutines", "engine_memory_bytes", "server_connections",
	"client_connections", "presence_members_api", "presence_members_truth", "published", "client_events_sent",
}

func (s sample) record() []string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	return []string{
		strconv.FormatFloat(s.at.Seconds(), 'f', 1, 64), strconv.Itoa(s.node),
		f(s.rss), f(s.fds), f(s.goroutines), f(s.engineMem), f(s.serverConns),
		strconv.FormatInt(s.clientConns, 10), strconv.Itoa(s.apiMembers), strconv.Itoa(s.truth),
		strconv.FormatInt(s.published, 10), strconv.FormatInt(s.clientSent, 10),
	}
}

// takeSamples samples every node; a node that cannot be read is an error.
func (sk *soak) takeSamples(ctx context.Context) ([]sample, error) {
	truth, _, _ := sk.truth.counts()
	var sent int64
	for _, s := range sk.stayers {
		sent += int64(s.sent.Load())
	}
	open := sk.churnOpened.Load() - sk.churnClosed.Load() + int64(sk.stayersAlive())
	out := make([]sample, 0, len(sk.nodes))
	for i, n := range sk.nodes {
		s := sample{
			at: time.Since(sk.start), node: i, truth: truth, clientConns: open,
			published: sk.published.Load(), clientSent: sent,
		}
		rss, err := procRSS(n.pid)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n.name, err)
		}
		fds, err := procFDs(n.pid)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n.name, err)
		}
		s.rss, s.fds = float64(rss), float64(fds)
		m, err := sk.api.scrape(ctx, n, "go_goroutines", "pogo_websocket_engine_memory_bytes", "pogo_websocket_connections")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n.name, err)
		}
		s.goroutines, s.engineMem, s.serverConns = m["go_goroutines"], m["pogo_websocket_engine_memory_bytes"], m["pogo_websocket_connections"]
		for _, ch := range sk.presenceChannels {
			ids, err := sk.api.users(ctx, n, ch)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", n.name, err)
			}
			s.apiMembers += len(ids)
		}
		out = append(out, s)
	}
	return out, nil
}

// sampleLoop samples every period until ctx ends, appending to sk.samples
// and to the CSV. A sampling error ends the run.
func (sk *soak) sampleLoop(ctx context.Context, w *csv.Writer, fail func(error)) {
	t := time.NewTicker(sk.cfg.period)
	defer t.Stop()
	for {
		ss, err := sk.takeSamples(ctx)
		if err != nil {
			if ctx.Err() == nil {
				fail(fmt.Errorf("sampling: %w", err))
			}
			return
		}
		sk.addSamples(w, ss)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (sk *soak) addSamples(w *csv.Writer, ss []sample) {
	sk.mu.Lock()
	sk.samples = append(sk.samples, ss...)
	sk.mu.Unlock()
	for _, s := range ss {
		_ = w.Write(s.record())
		if sk.cfg.verbose {
			fmt.Fprintf(sk.cfg.log, "%7.0fs node %d: RSS %.1f MiB, %0.f goroutines, %0.f fds, engine %.2f MiB, %0.f conns (generator %d), presence %d (truth %d), %d published, %d client events\n",
				s.at.Seconds(), s.node, s.rss/(1<<20), s.goroutines, s.fds, s.engineMem/(1<<20), s.serverConns, s.clientConns, s.apiMembers, s.truth, s.published, s.clientSent)
		}
	}
	w.Flush()
}
