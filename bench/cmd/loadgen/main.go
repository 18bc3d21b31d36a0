// Command loadgen drives a running Pusher-protocol server over loopback with
// many cheap WebSocket clients (gobwas/ws, one reader goroutine and ~1 KiB
// of buffers each) and signed HTTP API publishes.
//
//	loadgen -mode idle   -server-pid PID [-conns 10000] [-idle-stages 2500,5000,10000]
//	loadgen -mode fanout [-conns 10000] [-rates 1,5,10,20,40] [-step 4s] [-slow 1]
//	loadgen -mode http   [-conns 10000] [-channels 1000] [-publishers 1,4,16] [-step 4s]
//	loadgen -mode storm  [-conns 10000] [-src 127.0.0.2,127.0.0.3] [-dial-concurrency 256]
//	loadgen -mode presence [-conns 10000] [-presence-members 50] [-step 4s]
//	loadgen -mode publish  [-conns 10000] [-channels 1000] [-publishers 1,4,16] [-step 4s]
//	loadgen -mode php    [-php-subs 1,1000] [-php-publishes 20000] [-php-path /publish.php]
//	loadgen -mode slow   [-conns 10000] [-slow-rates 2,5] [-fill-rate 400] [-fill-payload 4096]
//
// Any mode takes -tls [-ca root.pem] (wss:// and https://) and -results
// FILE (append the fanout and idle figures for bin/benchreport).
//
// Modes:
//
//   - idle (S1): silent subscribed connections; the server's RSS before,
//     at each stage and after, marginal bytes per connection, idle CPU.
//   - fanout (S2): one channel, every client subscribed, one publisher
//     stepping its rate; deliveries/s, delivery ratio, publish→receive
//     latency per step. With -slow N, the first N clients never read
//     after subscribing (slow consumers); the figures are the others'.
//   - http (S3): channels × (conns/channels) subscribers, closed-loop
//     publishers; publishes/s, deliveries/s, latency per step.
//   - storm: a handshake storm; connections established per second, each
//     counted at pusher:connection_established.
//   - presence: join/leave churn on presence channels; transitions/s, then
//     every roster checked exactly through GET /apps/{id}/channels/{c}/users.
//   - publish: closed-loop signed HTTP publishes to channels with no
//     subscriber and with 10; publishes/s and delivery ratio.
//   - php: a PHP loop of pogo_websocket_publish (bench/php/publish.php) to 1
//     and 1,000 subscribers; calls/s in PHP and every delivery counted.
//   - slow: fan-out latency of the others without, with and again without
//     one slow consumer among -conns, in one run; what the slow one received
//     and whether the server closed it with 4100 (slow.go).
//
// loadgen raises its own file limit to -conns + 1024 descriptors.
//
// Latency is publish→receive: the publisher stamps time.Now().UnixNano() in
// the event data and the receiving client subtracts it from its arrival
// time (client and server share the clock on loopback). It includes the
// load generator's own scheduling delay, so the client's CPU share is
// reported next to the server's: a client near 100% means the numbers are
// bounded by the client, not the server.
//
// Only loopback addresses are accepted. Every run is bounded: steps have a
// fixed length and the whole run stops at -deadline.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pogo-websocket/pogo-websocket/bench/internal/pusher"
	"github.com/pogo-websocket/pogo-websocket/bench/internal/report"
)

type config struct {
	mode       string
	label      string
	addr       string
	creds      pusher.Credentials
	conns      int
	dialConc   int
	dialer     *dialer
	server     *process
	payload    int
	step       time.Duration
	drain      time.Duration
	rates      []float64
	channels   int
	publishers []int
	idleStages []int
	settle     time.Duration
	hold       time.Duration
	out        io.Writer
	// profileURL is the server's /debug/pprof/profile endpoint; when set,
	// a CPU profile of each fanout or http step is saved in profileDir.
	profileURL string
	profileDir string
	// slow is the number of fanout clients that subscribe and then never
	// read: slow consumers, left out of the delivery and latency figures.
	slow int
	// results is the JSON-lines file the plotted figures are appended to
	// (internal/results); empty: none.
	results string
	// presenceMembers is the number of clients per presence channel.
	presenceMembers int
	// The php mode: the script's path, its subscriber counts, and the
	// bounds of one loop's publishes and deliveries.
	phpPath                     string
	phpSubs                     []int
	phpPublishes, phpDeliveries int
	// The slow mode: its fan-out rates, and the rate and size of the
	// publishes to the slow consumer's own channel.
	slowRates   []float64
	fillRate    float64
	fillPayload int
	// tls is the client TLS configuration for wss:// and https://; nil: plain.
	tls *tls.Config
}

func main() {
	cfg, deadline, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()

	// Every client is a descriptor; the publishers and this process need a few more.
	want := uint64(cfg.conns) + 1024
	if got, err := raiseFileLimit(want); err != nil || got < want {
		fatal(fmt.Errorf("file limit %d below the %d descriptors -conns %d needs (%v)", got, want, cfg.conns, err))
	}
	if err := waitForServer(ctx, cfg.addr, cfg.tls, 15*time.Second); err != nil {
		fatal(err)
	}
	fmt.Fprintf(cfg.out, "\n## loadgen %s against %s (%s), %s, load average %s\n\n",
		cfg.mode, cfg.label, cfg.addr, time.Now().UTC().Format(time.DateTime+" UTC"), report.LoadAvg())
	switch cfg.mode {
	case "idle":
		err = runIdle(ctx, cfg)
	case "fanout":
		err = runFanout(ctx, cfg)
	case "http":
		err = runHTTP(ctx, cfg)
	case "storm":
		err = runStorm(ctx, cfg)
	case "presence":
		err = runPresence(ctx, cfg)
	case "publish":
		err = runPublish(ctx, cfg)
	case "php":
		err = runPHP(ctx, cfg)
	case "slow":
		err = runSlow(ctx, cfg)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("stopped at the -deadline of %v", deadline)
	}
	if err != nil {
		fatal(err)
	}
	fmt.Fprintf(cfg.out, "\nload average at the end: %s\n", report.LoadAvg())
}

func parseFlags(args []string) (*config, time.Duration, error) {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	var (
		cfg        = &config{out: os.Stdout}
		sources    = fs.String("src", "127.0.0.1", "comma-separated loopback source addresses for the client connections (each gives ~28k ports)")
		pid        = fs.Int("server-pid", 0, "pid of the server, to read its RSS and CPU time from /proc (0: not reported)")
		rates      = fs.String("rates", "1,5,10,20,40", "fanout: publishes per second, one step each")
		publishers = fs.String("publishers", "1,4,16", "http: concurrent publishers, one step each")
		stages     = fs.String("idle-stages", "", "idle: connection counts to sample RSS at (default: conns/4, conns/2, conns)")
		deadline   = fs.Duration("deadline", 3*time.Minute, "stop the whole run after this long")
		timeout    = fs.Duration("dial-timeout", 10*time.Second, "timeout of one connection's dial, handshake and subscription")
		useTLS     = fs.Bool("tls", false, "connect with wss:// and publish with https://")
		caFile     = fs.String("ca", "", "-tls: PEM file of the CA to trust (e.g. Caddy's local root.crt); default: the system roots")
	)
	fs.StringVar(&cfg.mode, "mode", "fanout", "idle, fanout, http, storm, presence, publish, php or slow")
	fs.StringVar(&cfg.label, "label", "pogo", "name of the server in the report")
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8099", "server address (loopback only)")
	fs.StringVar(&cfg.creds.AppID, "app-id", "bench-app", "app id")
	fs.StringVar(&cfg.creds.Key, "key", "bench-key", "app key")
	fs.StringVar(&cfg.creds.Secret, "secret", "bench-secret", "app secret")
	fs.IntVar(&cfg.conns, "conns", 10000, "client connections")
	fs.IntVar(&cfg.dialConc, "dial-concurrency", 64, "connections being opened at once")
	fs.IntVar(&cfg.payload, "payload", 100, "bytes of event data per publish")
	fs.DurationVar(&cfg.step, "step", 4*time.Second, "length of one fanout or http step")
	fs.DurationVar(&cfg.drain, "drain", 3*time.Second, "wait for late deliveries until none arrived for this long")
	fs.IntVar(&cfg.channels, "channels", 1000, "http: number of channels")
	fs.IntVar(&cfg.slow, "slow", 0, "fanout: clients that subscribe and then never read (slow consumers), left out of the figures")
	fs.DurationVar(&cfg.settle, "settle", 3*time.Second, "idle: wait before sampling RSS")
	fs.DurationVar(&cfg.hold, "hold", 10*time.Second, "idle: time the connections sit idle while the server's CPU is measured")
	fs.StringVar(&cfg.profileURL, "pprof", "", "fanout, http: the server's pprof CPU profile URL (http://127.0.0.1:PORT/debug/pprof/profile); one profile per step")
	fs.StringVar(&cfg.profileDir, "pprof-dir", "out", "where -pprof profiles are written")
	fs.IntVar(&cfg.presenceMembers, "presence-members", 50, "presence: clients per presence channel (Pusher and Sockudo allow 100 members)")
	fs.StringVar(&cfg.phpPath, "php-path", "/publish.php", "php: path of the publish loop script (bench/php/publish.php)")
	phpSubs := fs.String("php-subs", "1,1000", "php: subscribers of the channel, one step each")
	fs.IntVar(&cfg.phpPublishes, "php-publishes", 20000, "php: publishes of one loop, at most")
	fs.IntVar(&cfg.phpDeliveries, "php-deliveries", 2000000, "php: deliveries of one loop, at most (fewer publishes for many subscribers)")
	slowRates := fs.String("slow-rates", "2,5", "slow: publishes per second of the fan-out, one step each, in each of the three phases")
	fs.Float64Var(&cfg.fillRate, "fill-rate", 400, "slow: publishes per second to the slow consumer's own channel (0: none)")
	fs.IntVar(&cfg.fillPayload, "fill-payload", 4096, "slow: bytes of event data of those publishes")
	fs.StringVar(&cfg.results, "results", "", "append the fanout and idle figures to this JSON-lines file (for bin/benchreport's ratios and charts)")
	if err := fs.Parse(args); err != nil {
		return nil, 0, err
	}
	if fs.NArg() > 0 {
		return nil, 0, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch cfg.mode {
	case "idle", "fanout", "http", "storm", "presence", "publish", "php", "slow":
	default:
		return nil, 0, fmt.Errorf("-mode %q: want idle, fanout, http, storm, presence, publish, php or slow", cfg.mode)
	}
	host, _, err := net.SplitHostPort(cfg.addr)
	if err != nil {
		return nil, 0, fmt.Errorf("-addr: %w", err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, 0, fmt.Errorf("-addr %s: only loopback servers may be loaded", cfg.addr)
	}
	if cfg.conns < 1 || cfg.dialConc < 1 || cfg.step <= 0 {
		return nil, 0, errors.New("-conns, -dial-concurrency and -step must be positive")
	}
	if cfg.slow < 0 || cfg.slow >= cfg.conns {
		return nil, 0, fmt.Errorf("-slow %d: want 0..conns-1", cfg.slow)
	}
	if cfg.presenceMembers < 1 {
		return nil, 0, errors.New("-presence-members must be positive")
	}
	if cfg.channels < 1 || cfg.channels > cfg.conns {
		return nil, 0, fmt.Errorf("-channels %d: want 1..conns", cfg.channels)
	}
	if *useTLS {
		if cfg.tls, err = clientTLS(host, *caFile); err != nil {
			return nil, 0, err
		}
	} else if *caFile != "" {
		return nil, 0, errors.New("-ca needs -tls")
	}
	if cfg.dialer, err = newDialer(cfg.addr, cfg.creds.Key, strings.Split(*sources, ","), *timeout, cfg.tls); err != nil {
		return nil, 0, err
	}
	if cfg.profileURL != "" {
		u, err := url.Parse(cfg.profileURL)
		if err != nil || u.Scheme != "http" {
			return nil, 0, fmt.Errorf("-pprof %q: want an http URL", cfg.profileURL)
		}
		if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, 0, fmt.Errorf("-pprof %s: only loopback servers", cfg.profileURL)
		}
		if cfg.step < 2*time.Second {
			return nil, 0, errors.New("-pprof needs steps of at least 2s")
		}
	}
	if *pid > 0 {
		cfg.server = &process{pid: *pid}
		if _, _, err := cfg.server.memory(); err != nil {
			return nil, 0, fmt.Errorf("-server-pid: %w", err)
		}
	}
	if cfg.rates, err = positiveFloats("-rates", *rates); err != nil {
		return nil, 0, err
	}
	if cfg.slowRates, err = positiveFloats("-slow-rates", *slowRates); err != nil {
		return nil, 0, err
	}
	if cfg.fillRate < 0 || cfg.fillPayload < 0 {
		return nil, 0, errors.New("-fill-rate and -fill-payload must not be negative")
	}
	if cfg.publishers, err = positiveInts("-publishers", *publishers); err != nil {
		return nil, 0, err
	}
	if cfg.phpSubs, err = positiveInts("-php-subs", *phpSubs); err != nil {
		return nil, 0, err
	}
	if cfg.phpPublishes < 1 || cfg.phpDeliveries < 1 {
		return nil, 0, errors.New("-php-publishes and -php-deliveries must be positive")
	}
	if *stages == "" {
		cfg.idleStages = []int{max(cfg.conns/4, 1), max(cfg.conns/2, 1), cfg.conns}
	} else if cfg.idleStages, err = positiveInts("-idle-stages", *stages); err != nil {
		return nil, 0, err
	}
	for i := 1; i < len(cfg.idleStages); i++ {
		if cfg.idleStages[i] <= cfg.idleStages[i-1] {
			return nil, 0, errors.New("-idle-stages must increase")
		}
	}
	return cfg, *deadline, nil
}

func positiveFloats(name, s string) ([]float64, error) {
	var out []float64
	for f := range strings.SplitSeq(s, ",") {
		r, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || r <= 0 {
			return nil, fmt.Errorf("%s %q: want positive numbers", name, s)
		}
		out = append(out, r)
	}
	return out, nil
}

func positiveInts(name, s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%s %q: want positive integers", name, s)
		}
		out = append(out, n)
	}
	return out, nil
}

// waitForServer waits until addr accepts TCP connections, and completes a
// TLS handshake when tlsConf is set (a server with a certificate from its
// local CA may listen before it has the certificate).
func waitForServer(ctx context.Context, addr string, tlsConf *tls.Config, limit time.Duration) error {
	end := time.Now().Add(limit)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil && tlsConf != nil {
			tc := tls.Client(c, tlsConf)
			_ = tc.SetDeadline(time.Now().Add(time.Second))
			if err = tc.HandshakeContext(ctx); err != nil {
				_ = c.Close()
			} else {
				c = tc
			}
		}
		if err == nil {
			return c.Close()
		}
		if time.Now().After(end) {
			return fmt.Errorf("server %s not reachable after %v: %w", addr, limit, err)
		}
		if !sleepUntil(ctx, time.Now().Add(100*time.Millisecond)) {
			return ctx.Err()
		}
	}
}

// clientTLS trusts the CA in caFile (or the system roots) for host.
func clientTLS(host, caFile string) (*tls.Config, error) {
	c := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if caFile == "" {
		return c, nil
	}
	// A server with a fresh local CA writes it as it starts, maybe after
	// this process did: wait for it, boundedly.
	var pem []byte
	var err error
	for end := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if pem, err = os.ReadFile(caFile); err == nil || !errors.Is(err, os.ErrNotExist) || time.Now().After(end) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("-ca: %w", err)
	}
	c.RootCAs = x509.NewCertPool()
	if !c.RootCAs.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("-ca %s: no PEM certificate in it", caFile)
	}
	return c, nil
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "loadgen:", err)
	os.Exit(1)
}
