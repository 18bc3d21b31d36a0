// Command enginebench measures the protocol engine alone: the real embedded
// engine (host-go/engine, wazero), fed event batches the way the hub feeds
// it, with no sockets and no other goroutine.
//
//	enginebench [-duration 500ms | -periods N] [-runs 3] [-batches 1,16,256] [-workloads all]
//	            [-instances 1] [-publish-runs 2000] [-subscribers 1,100,1000,10000] [-cpuprofile file]
//
// It reports (a) inbound protocol messages per second on one core, per
// workload and batch size, and (b) the time of one Process call that
// publishes an event to a channel of N subscribers, through the signed HTTP
// API and through a native PUBLISH record. Every answer is checked (no
// pusher:error, the expected number of deliveries), so a fast wrong engine
// cannot look good. With -instances N > 1 it also measures the aggregate rate
// of N engines at once, each on its own goroutine (as the hub's shards run);
// give the process N cores for that (GOMAXPROCS=N). -periods N makes each
// run a fixed amount of work instead of a fixed time, so that instruction
// counts (valgrind --tool=callgrind) compare builds exactly; -publish-runs 0
// skips the publish scenario.
//
// The engine runs on one goroutine by design; pin the process to one core
// (`taskset -c 1`) and set GOMAXPROCS=1 so that the garbage collector's
// background work is paid on the measured core too.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pogo-websocket/pogo-websocket/bench/internal/pusher"
	"github.com/pogo-websocket/pogo-websocket/bench/internal/report"
)

func main() {
	var (
		dur         = flag.Duration("duration", 500*time.Millisecond, "length of one inbound run")
		runs        = flag.Int("runs", 3, "inbound runs per cell (the median is reported)")
		batches     = flag.String("batches", "1,16,256", "inbound batch sizes (each must divide 10240)")
		publishRuns = flag.Int("publish-runs", 2000, "publishes timed per channel size and kind")
		subscribers = flag.String("subscribers", "1,100,1000,10000", "channel sizes of the publish scenario")
		payload     = flag.Int("payload", 100, "bytes of event data in a publish")
		workloads   = flag.String("workloads", "all", "inbound workloads: all, or some of ping,client,subunsub,mix")
		periods     = flag.Int("periods", 0, "if > 0, each inbound run is exactly this many periods of 10,240 messages instead of -duration")
		instances   = flag.Int("instances", 1, "if > 1, also measure this many engines at once, one goroutine each")
		cpuprofile  = flag.String("cpuprofile", "", "write a Go CPU profile of the inbound scenario to this file")
	)
	flag.Parse()
	sizes, err := ints(*batches)
	if err == nil && *runs < 1 {
		err = fmt.Errorf("-runs must be at least 1")
	}
	if err != nil {
		fatal(err)
	}
	subs, err := ints(*subscribers)
	if err != nil {
		fatal(err)
	}
	creds := pusher.Credentials{AppID: "bench-app", Key: "bench-key", Secret: "bench-secret"}
	w := os.Stdout
	header(w)

	if *cpuprofile != "" {
		stop, err := startProfile(*cpuprofile)
		if err != nil {
			fatal(err)
		}
		defer stop()
	}
	run := inboundRun{dur: *dur, periods: *periods}
	inbound, err := runInbound(creds, *workloads, sizes, run, *runs)
	if err != nil {
		fatal(fmt.Errorf("inbound: %w", err))
	}
	fmt.Fprintf(w, "\n### (a) Inbound messages, one engine, one goroutine (%d connections, median of %d × %v)\n\n",
		inboundConns, *runs, *dur)
	fmt.Fprintln(w, "Rates are per CPU second of the process (engine, Go host code and GC together); wall/CPU > 1.05 means the core was shared.")
	fmt.Fprintln(w)
	t := report.NewTable("workload", ">batch", ">msgs/s (1 core)", ">ns/msg", ">µs/batch", ">deliveries/msg", ">Go allocs/batch", ">wall/CPU")
	for _, r := range inbound.results {
		t.Row(r.workload, r.batch, report.Num(r.msgsPerSec), fmt.Sprintf("%.0f", r.nsPerMsg),
			fmt.Sprintf("%.2f", r.usPerBatch), fmt.Sprintf("%.2f", r.deliveries), fmt.Sprintf("%.1f", r.allocsPerBat),
			fmt.Sprintf("%.2f", r.wallPerCPU))
	}
	t.Print(w)
	fmt.Fprintf(w, "\nOne Process call on an empty batch: median %s wall; mean %s CPU including the scheduled GCs.\n"+
		"One full engine GC (__collect) in this state: %s; host-go/engine runs one whenever memory grew, and at least once a minute.\n",
		report.Dur(inbound.emptyMedian), report.Dur(inbound.empty), report.Dur(inbound.collect))

	if *instances > 1 {
		fmt.Fprintf(w, "\n### (a2) Inbound messages, %d engines at once, one goroutine each (best of %d)\n\n", *instances, *runs)
		fmt.Fprintln(w, "Rates are all instances' messages per wall second.")
		fmt.Fprintln(w)
		t := report.NewTable("workload", ">batch", ">instances", ">msgs/s (all)", ">msgs/s per instance")
		for _, size := range sizes {
			agg, err := runAggregate(creds, *workloads, size, *instances, run, *runs)
			if err != nil {
				fatal(fmt.Errorf("aggregate: %w", err))
			}
			for _, r := range agg {
				t.Row(r.workload, r.batch, r.instances, report.Num(r.msgsPerSec), report.Num(r.msgsPerSec/float64(r.instances)))
			}
		}
		t.Print(w)
	}
	if *publishRuns <= 0 {
		return
	}

	rep, err := runPublish(creds, subs, *publishRuns, *payload)
	if err != nil {
		fatal(fmt.Errorf("publish: %w", err))
	}
	fmt.Fprintf(w, "\n### (b) One publish to a channel of N subscribers: one Process call (%d runs, %d-byte data)\n\n",
		*publishRuns, *payload)
	fmt.Fprintln(w, "Wall time of each call (checked: one BROADCAST to N ids, HTTP 200 / result 0); CPU mean over a second series.")
	fmt.Fprintln(w)
	t = report.NewTable("publish", ">subscribers", ">median", ">p90", ">p99", ">max", ">CPU mean", ">ns/subscriber", ">publishes/s (1/CPU mean)")
	for _, r := range rep.results {
		s := r.summary
		t.Row(r.kind, report.Num(float64(r.subscribers)), report.Dur(s.P50), report.Dur(s.P90), report.Dur(s.P99),
			report.Dur(s.Max), report.Dur(r.cpuMean), fmt.Sprintf("%.1f", float64(r.cpuMean)/float64(r.subscribers)),
			report.Num(1/r.cpuMean.Seconds()))
	}
	t.Print(w)
	fmt.Fprintf(w, "\nWith %s subscribed connections: engine linear memory %s; one full engine GC (__collect) %s (median of 21);\n"+
		"one TICK batch (sent every second) %s (median of 101).\n",
		report.Num(float64(maxOf(subs))), report.Bytes(float64(rep.memory)), report.Dur(rep.collect), report.Dur(rep.tick))
}

// startProfile starts a Go CPU profile written to path; engine (wasm) time
// shows as runtime._ExternalCode.
func startProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}, nil
}

// processCPU returns the user plus system CPU time of this process.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// header prints the conditions of the run.
func header(w io.Writer) {
	fmt.Fprintf(w, "## Engine microbenchmark (host-go/engine, wazero %s)\n\n", depVersion("github.com/tetratelabs/wazero"))
	fmt.Fprintf(w, "%s %s/%s, GOMAXPROCS=%d, NumCPU (affinity)=%d, %s, load average %s\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), runtime.NumCPU(),
		time.Now().UTC().Format(time.DateTime+" UTC"), report.LoadAvg())
}

func depVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == path {
				return d.Version
			}
		}
	}
	return "(unknown)"
}

func ints(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q: want a comma-separated list of positive integers", s)
		}
		out = append(out, n)
	}
	return out, nil
}

func maxOf(xs []int) int {
	m := 0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "enginebench:", err)
	os.Exit(1)
}
