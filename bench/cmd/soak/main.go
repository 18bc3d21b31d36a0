// Command soak runs a long mixed load against one or more Pogo WebSocket
// nodes and checks that nothing grows and nothing is lost:
//
//	soak -addrs 127.0.0.1:8110[,127.0.0.1:8111] -metrics URL[,URL] -pids PID[,PID] -duration 1h
//
// The load, for the whole duration:
//
//   - stayers: connections open from start to end, spread over the nodes,
//     each in one public, one private and one presence channel;
//   - HTTP publishes to the public channels, numbered per channel, each
//     channel's publishes sent one after the other to one node;
//   - client events from every stayer on its private channel, numbered per
//     sender;
//   - churners: loops that connect to a random node, join a public channel,
//     a presence channel (as one of a few shared user ids) and sometimes a
//     private channel where they send a client event, stay a few seconds
//     and leave by unsubscribing, by a close frame or by a bare TCP close.
//
// Every period it samples each node: RSS and file descriptors from /proc,
// goroutines, engine memory and connections from the admin API's /metrics,
// and the presence rosters from the signed HTTP API next to what the
// generator knows. At the end it stops the load, lets the stayers drain and
// checks:
//
//   - no upward trend after the warm-up: the least-squares slope of RSS,
//     goroutines, file descriptors and engine memory over the samples after
//     -warmup, times the length of that window, stays below
//     max(-max-growth × the window's mean, a floor per series);
//   - 0 ghost members: every node's HTTP API rosters equal the generator's;
//   - 0 lost events on the stayers: every acknowledged publish and every
//     client event between two stayers arrived, in order, once;
//   - the servers' connection gauges equal the stayers still open.
//
// It writes the samples (CSV), a summary (Markdown) and a plot (SVG) into
// -out and exits 1 when a check fails. Only loopback addresses are accepted;
// the run stops by itself at -duration plus a bounded quiesce.
package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pogo-websocket/pogo-websocket/bench/internal/pusher"
)

type config struct {
	label       string
	note        string
	creds       pusher.Credentials
	duration    time.Duration
	warmup      time.Duration
	period      time.Duration
	stayers     int
	churners    int
	churnUsers  int
	hold        time.Duration
	publishRate float64
	clientRate  float64
	channels    [3]int // public, private, presence
	timeout     time.Duration
	settle      time.Duration
	maxGrowth   float64
	out         string
	verbose     bool
	log         io.Writer
}

// soak is one run's state.
type soak struct {
	cfg              *config
	nodes            []*node
	api              *api
	publicChannels   []string
	privateChannels  []string
	presenceChannels []string
	truth            *roster
	stayers          []*stayer
	start            time.Time

	acked             []atomic.Uint64 // last acknowledged publish per public channel
	published         atomic.Int64
	publishErrors     atomic.Int64
	firstPublishError atomic.Value
	pusherErrors      atomic.Int64
	firstPusherError  atomic.Value
	churnOpened       atomic.Int64
	churnClosed       atomic.Int64
	churnFailures     atomic.Int64
	firstChurnError   atomic.Value
	churnEvents       atomic.Int64
	churnReceived     atomic.Int64

	mu      sync.Mutex
	samples []sample
}

func main() {
	cfg, nodes, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Connecting, the load, the quiesce and the checks, with room to spare.
	ctx, cancel := context.WithTimeout(ctx, cfg.duration+cfg.settle+5*time.Minute)
	defer cancel()
	ok, err := run(ctx, cfg, nodes)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}

func parseFlags(args []string) (*config, []*node, error) {
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	cfg := &config{log: os.Stdout}
	addrs := fs.String("addrs", "127.0.0.1:8110", "comma-separated server addresses, one per node (loopback only)")
	metrics := fs.String("metrics", "http://127.0.0.1:2110/metrics", "comma-separated admin /metrics URLs, one per node")
	pids := fs.String("pids", "", "comma-separated server pids, one per node (RSS and fds from /proc)")
	fs.StringVar(&cfg.label, "label", "soak", "name of the run: out/<label>.csv, .md, .svg")
	fs.StringVar(&cfg.note, "note", "", "free text for the summary (commit, machine)")
	fs.StringVar(&cfg.creds.AppID, "app-id", "bench-app", "app id")
	fs.StringVar(&cfg.creds.Key, "key", "bench-key", "app key")
	fs.StringVar(&cfg.creds.Secret, "secret", "bench-secret", "app secret")
	fs.DurationVar(&cfg.duration, "duration", time.Hour, "length of the load")
	fs.DurationVar(&cfg.warmup, "warmup", 0, "samples before this are not checked for a trend (default: half of -duration)")
	fs.DurationVar(&cfg.period, "period", 10*time.Second, "sampling period")
	fs.IntVar(&cfg.stayers, "stayers", 200, "connections open for the whole run")
	fs.IntVar(&cfg.churners, "churners", 40, "concurrent connect/stay/leave loops")
	fs.IntVar(&cfg.churnUsers, "churn-users", 40, "distinct presence user ids the churners share")
	fs.DurationVar(&cfg.hold, "hold", 5*time.Second, "mean stay of a churning connection (uniform in 0.5..1.5 × hold)")
	fs.Float64Var(&cfg.publishRate, "publish-rate", 80, "HTTP publishes per second, over every public channel")
	fs.Float64Var(&cfg.clientRate, "client-rate", 0.4, "client events per second per stayer")
	fs.IntVar(&cfg.channels[0], "public", 20, "public channels")
	fs.IntVar(&cfg.channels[1], "private", 20, "private channels (stayers' client events)")
	fs.IntVar(&cfg.channels[2], "presence", 8, "presence channels")
	fs.DurationVar(&cfg.timeout, "timeout", 10*time.Second, "timeout of a dial or a subscription")
	fs.DurationVar(&cfg.settle, "settle", 30*time.Second, "after the load: how long the drain, and then the rosters, may take to settle")
	fs.Float64Var(&cfg.maxGrowth, "max-growth", 0.05, "largest trend allowed over the checked window, as a fraction of the series' mean there")
	fs.StringVar(&cfg.out, "out", "out", "directory of the CSV, summary and plot")
	fs.BoolVar(&cfg.verbose, "v", true, "print every sample")
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	if fs.NArg() > 0 {
		return nil, nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if cfg.warmup == 0 {
		cfg.warmup = cfg.duration / 2
	}
	switch {
	case cfg.duration < 4*cfg.period || cfg.warmup >= cfg.duration-3*cfg.period:
		return nil, nil, errors.New("-duration must leave at least 3 periods after -warmup")
	case cfg.stayers < 2 || cfg.churners < 0 || cfg.churnUsers < 1 || cfg.hold <= 0:
		return nil, nil, errors.New("-stayers ≥ 2, -churners ≥ 0, -churn-users ≥ 1, -hold > 0")
	case cfg.channels[0] < 1 || cfg.channels[1] < 1 || cfg.channels[2] < 1:
		return nil, nil, errors.New("-public, -private and -presence must be positive")
	}
	as, ms, ps := strings.Split(*addrs, ","), strings.Split(*metrics, ","), strings.Split(*pids, ",")
	if len(ms) != len(as) || len(ps) != len(as) {
		return nil, nil, errors.New("-addrs, -metrics and -pids need one entry per node")
	}
	var nodes []*node
	for i, a := range as {
		if err := loopback(a); err != nil {
			return nil, nil, fmt.Errorf("-addrs: %w", err)
		}
		u, err := url.Parse(ms[i])
		if err != nil || u.Scheme != "http" || loopback(u.Host) != nil {
			return nil, nil, fmt.Errorf("-metrics %q: want an http URL on loopback", ms[i])
		}
		pid, err := strconv.Atoi(ps[i])
		if err != nil || pid <= 0 {
			return nil, nil, fmt.Errorf("-pids %q: want positive integers", *pids)
		}
		nodes = append(nodes, &node{
			name:     "node " + strconv.Itoa(i) + " (" + a + ")",
			wsURL:    "ws://" + a + "/app/" + cfg.creds.Key + "?protocol=7&client=pogo-soak&version=1.0",
			httpBase: "http://" + a,
			metrics:  ms[i],
			pid:      pid,
		})
	}
	return cfg, nodes, nil
}

func loopback(hostport string) error {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%s: only loopback addresses", hostport)
	}
	return nil
}

func channelNames(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + strconv.Itoa(i)
	}
	return out
}

func (sk *soak) stayersAlive() int {
	n := 0
	for _, s := range sk.stayers {
		select {
		case <-s.c.done:
		default:
			n++
		}
	}
	return n
}

// run does the whole soak and reports whether every check passed; err is
// for a run that could not be done.
func run(ctx context.Context, cfg *config, nodes []*node) (bool, error) {
	sk := &soak{
		cfg:              cfg,
		nodes:            nodes,
		api:              newAPI(cfg.creds),
		publicChannels:   channelNames("soak-pub-", cfg.channels[0]),
		privateChannels:  channelNames("private-soak-", cfg.channels[1]),
		presenceChannels: channelNames("presence-soak-", cfg.channels[2]),
		acked:            make([]atomic.Uint64, cfg.channels[0]),
	}
	sk.truth = newRoster(sk.presenceChannels)
	for _, n := range nodes {
		if err := waitForServer(ctx, n); err != nil {
			return false, err
		}
	}
	if err := os.MkdirAll(cfg.out, 0o755); err != nil {
		return false, err
	}
	f, err := os.Create(filepath.Join(cfg.out, cfg.label+".csv"))
	if err != nil {
		return false, err
	}
	defer f.Close()
	w := csv.NewWriter(f)
	_ = w.Write(csvHeader)

	began := time.Now()
	fmt.Fprintf(cfg.log, "soak %s: %d node(s), %v, %d stayers, %d churners, %.0f publishes/s, %.1f client events/s per stayer\n",
		cfg.label, len(nodes), cfg.duration, cfg.stayers, cfg.churners, cfg.publishRate, cfg.clientRate)
	if err := sk.connectStayers(ctx); err != nil {
		sk.closeStayers()
		return false, err
	}
	defer sk.closeStayers()
	sk.start = time.Now()

	// The load. A sampling failure stops it early and fails the run.
	loadCtx, stopLoad := context.WithTimeout(ctx, cfg.duration)
	defer stopLoad()
	var failure atomic.Value
	fail := func(err error) {
		failure.CompareAndSwap(nil, err)
		stopLoad()
	}
	var wg sync.WaitGroup
	wg.Go(func() { sk.publish(loadCtx) })
	wg.Go(func() { sk.sendClientEvents(loadCtx) })
	wg.Go(func() { sk.churn(loadCtx) })
	wg.Go(func() { sk.sampleLoop(loadCtx, w, fail) })
	wg.Wait()
	if err, _ := failure.Load().(error); err != nil {
		return false, err
	}
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	loadEnd := time.Since(sk.start)

	// Quiesce: the stayers drain, then the rosters and gauges settle.
	res := &result{began: began, loadEnd: loadEnd}
	res.drain = sk.drain(ctx)
	res.lost, res.dup, res.stayersGone = sk.finalLosses()
	res.settle, res.ghosts, res.missing, res.serverConns, err = sk.settle(ctx)
	if err != nil {
		return false, err
	}
	final, err := sk.takeSamples(ctx)
	if err != nil {
		return false, err
	}
	sk.addSamples(w, final)
	if err := w.Error(); err != nil {
		return false, err
	}
	return sk.report(res)
}

func (sk *soak) closeStayers() {
	for _, s := range sk.stayers {
		if s != nil {
			s.c.closeGracefully()
		}
	}
}

// drain waits until the stayers have every event they should, or until
// cfg.settle; it returns how long that took.
func (sk *soak) drain(ctx context.Context) time.Duration {
	t0 := time.Now()
	for time.Since(t0) < sk.cfg.settle && ctx.Err() == nil {
		if lost, _, _ := sk.finalLosses(); lost == 0 {
			break
		}
		sleepCtx(ctx, 100*time.Millisecond)
	}
	return time.Since(t0)
}

// settle polls every node until its presence rosters equal the generator's
// and its connection gauge the stayers still open, or until cfg.settle. It
// returns how long that took and, for the last poll, the ghosts, the
// missing members and the servers' connection count.
func (sk *soak) settle(ctx context.Context) (took time.Duration, ghosts, missing []string, conns float64, err error) {
	t0 := time.Now()
	for {
		ghosts, missing, conns = nil, nil, 0
		for _, n := range sk.nodes {
			for _, ch := range sk.presenceChannels {
				got, err := sk.api.users(ctx, n, ch)
				if err != nil {
					return 0, nil, nil, 0, fmt.Errorf("%s: %w", n.name, err)
				}
				g, m := diff(got, sk.truth.members(ch))
				for _, id := range g {
					ghosts = append(ghosts, fmt.Sprintf("node %d %s %s", indexOf(sk.nodes, n), ch, id))
				}
				for _, id := range m {
					missing = append(missing, fmt.Sprintf("node %d %s %s", indexOf(sk.nodes, n), ch, id))
				}
			}
			m, err := sk.api.scrape(ctx, n, "pogo_websocket_connections")
			if err != nil {
				return 0, nil, nil, 0, fmt.Errorf("%s: %w", n.name, err)
			}
			conns += m["pogo_websocket_connections"]
		}
		took = time.Since(t0)
		settled := len(ghosts) == 0 && len(missing) == 0 && int(conns) == sk.stayersAlive()
		if settled || took >= sk.cfg.settle || !sleepCtx(ctx, 250*time.Millisecond) {
			return took, ghosts, missing, conns, nil
		}
	}
}

func indexOf(nodes []*node, n *node) int {
	for i, m := range nodes {
		if m == n {
			return i
		}
	}
	return -1
}

// waitForServer waits until the node accepts TCP connections.
func waitForServer(ctx context.Context, n *node) error {
	addr := strings.TrimPrefix(n.httpBase, "http://")
	end := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(end) {
			return fmt.Errorf("%s not reachable: %w", n.name, err)
		}
		if !sleepCtx(ctx, 100*time.Millisecond) {
			return ctx.Err()
		}
	}
}
