package main

import (
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pogo-websocket/pogo-websocket/bench/internal/pusher"
	"github.com/pogo-websocket/pogo-websocket/bench/internal/stats"
	"github.com/pogo-websocket/pogo-websocket/host-go/engine"
)

// The inbound scenario: protocol messages from clients, in batches, through
// the real engine.
//
// State: inboundConns connections in pairs; each pair shares a private
// channel (2 subscribers), and every connection also sits in one of
// lobbies public channels. Workloads cycle over the connections:
//
//	ping        pusher:ping                               → one SEND (pong)
//	client      client event on the pair's private channel → one BROADCAST to the other member
//	sub/unsub   subscribe to another lobby, then leave it  → one SEND, then nothing
//	mix         1 ping : 2 client events : 1 sub/unsub pair (20/40/40 %)
//
// A workload is a periodic stream of messages: after one period every
// subscribe has been undone, so replaying the pre-built batches measures the
// same steady state again and again.
const (
	inboundConns = 1024
	lobbies      = 16
	// period is the number of messages after which every workload's stream
	// repeats; it is a multiple of each stream's own period and of every
	// batch size measured (up to 1024).
	period = 10 * 1024
)

// inboundMessage is one message of a workload's stream and the deliveries it
// causes.
type inboundMessage struct {
	conn       uint32
	payload    []byte
	deliveries int
}

type workload struct {
	name  string
	short string // the -workloads name
	at    func(i int) inboundMessage
}

// inboundMsgs holds every distinct message, built once; index i belongs to
// connection connID(i).
type inboundMsgs struct {
	ping       []byte
	client     [inboundConns][]byte
	sub, unsub [inboundConns][]byte
}

// connID returns the connection of the i-th message of a cycle (ids start at 1).
func connID(i int) uint32 { return uint32(i%inboundConns) + 1 }

// privateOf names the private channel conn shares with its pair.
func privateOf(conn uint32) string { return "private-pair-" + strconv.Itoa(int(conn-1)/2) }

// lobbyOf names the public channel conn stays in.
func lobbyOf(conn uint32) string { return "lobby-" + strconv.Itoa(int(conn-1)%lobbies) }

// otherLobbyOf names the public channel conn joins and leaves.
func otherLobbyOf(conn uint32) string { return "lobby-" + strconv.Itoa(int(conn)%lobbies) }

func newInboundMsgs() *inboundMsgs {
	m := &inboundMsgs{ping: pusher.Ping}
	for i := range inboundConns {
		c := connID(i)
		data, err := json.Marshal(map[string]any{"user": "user-" + strconv.Itoa(i), "typing": true, "at": 1700000000000 + i})
		if err != nil {
			panic(err)
		}
		m.client[i] = pusher.ClientEvent("client-typing", privateOf(c), data)
		m.sub[i] = pusher.Subscribe(otherLobbyOf(c), "")
		m.unsub[i] = pusher.Unsubscribe(otherLobbyOf(c))
	}
	return m
}

func (m *inboundMsgs) workloads() []workload {
	ping := func(i int) inboundMessage { return inboundMessage{connID(i), m.ping, 1} }
	client := func(i int) inboundMessage { return inboundMessage{connID(i), m.client[i%inboundConns], 1} }
	subUnsub := func(i int) inboundMessage {
		u := i / 2
		if i%2 == 0 {
			return inboundMessage{connID(u), m.sub[u%inboundConns], 1}
		}
		return inboundMessage{connID(u), m.unsub[u%inboundConns], 0}
	}
	mix := func(i int) inboundMessage {
		u, r := i/5, i%5
		switch r {
		case 0:
			return ping(u)
		case 1, 2:
			return client(2*u + r - 1)
		case 3:
			return subUnsub(2 * u)
		default:
			return subUnsub(2*u + 1)
		}
	}
	return []workload{
		{"pusher:ping", "ping", ping},
		{"client event (private, 2 subs)", "client", client},
		{"subscribe+unsubscribe (public)", "subunsub", subUnsub},
		{"mix 20% ping / 40% client / 40% sub+unsub", "mix", mix},
	}
}

// selectWorkloads returns the workloads whose short names are in names
// (comma-separated; "all" for every one).
func (m *inboundMsgs) selectWorkloads(names string) ([]workload, error) {
	all := m.workloads()
	if names == "all" {
		return all, nil
	}
	var out []workload
	for n := range strings.SplitSeq(names, ",") {
		i := slices.IndexFunc(all, func(w workload) bool { return w.short == strings.TrimSpace(n) })
		if i < 0 {
			return nil, fmt.Errorf("unknown workload %q (ping, client, subunsub, mix, all)", n)
		}
		out = append(out, all[i])
	}
	return out, nil
}

// inboundRun is how long one measured run lasts: dur of wall time, or
// exactly periods periods when periods > 0 (fixed work, for instruction
// counts under callgrind).
type inboundRun struct {
	dur     time.Duration
	periods int
}

// done reports whether a run that has processed n batches of a period of
// perPeriod batches, elapsed after its start, is over; it is asked at
// period ends only.
func (r inboundRun) done(n, perPeriod int, elapsed time.Duration) bool {
	if r.periods > 0 {
		return n >= r.periods*perPeriod
	}
	return elapsed >= r.dur
}

// setupInbound opens the connections and subscribes them to their private
// pair channel and their lobby.
func setupInbound(d *driver) error {
	sids, err := d.open(1, inboundConns)
	if err != nil {
		return err
	}
	var conns []uint32
	var msgs [][]byte
	for i := range inboundConns {
		c := connID(i)
		ch := privateOf(c)
		conns = append(conns, c, c)
		msgs = append(msgs,
			pusher.Subscribe(ch, d.creds.ChannelAuth(sids[c], ch)),
			pusher.Subscribe(lobbyOf(c), ""))
	}
	t, err := d.messages(conns, msgs)
	if err != nil {
		return fmt.Errorf("subscribing: %w", err)
	}
	if t.sends != 2*inboundConns {
		return fmt.Errorf("subscribing: %d answers for %d subscriptions", t.sends, 2*inboundConns)
	}
	return nil
}

// inboundResult is the measurement of one workload at one batch size.
type inboundResult struct {
	workload     string
	batch        int
	msgsPerSec   float64 // per CPU second, median of the runs
	nsPerMsg     float64 // CPU time
	usPerBatch   float64
	allocsPerBat float64
	deliveries   float64 // per message, checked over one period
	// wallPerCPU is wall time over CPU time: 1.0 on a quiet core, more when
	// other processes took the core.
	wallPerCPU float64
}

// inboundReport is the outcome of the inbound scenario.
type inboundReport struct {
	results []inboundResult
	// empty is the mean CPU time of one Process call on a batch with no
	// record (the fixed cost per call, scheduled GCs included), emptyMedian
	// the median wall time of one such call (the crossing alone).
	empty, emptyMedian time.Duration
	// collect is the median time of one full engine GC in the inbound state.
	collect time.Duration
}

// runInbound measures every workload at every batch size.
func runInbound(creds pusher.Credentials, names string, batchSizes []int, run inboundRun, runs int) (*inboundReport, error) {
	m := newInboundMsgs()
	ws, err := m.selectWorkloads(names)
	if err != nil {
		return nil, err
	}
	rep := &inboundReport{}
	for wi, w := range ws {
		// A fresh engine per workload, so that no workload inherits another's garbage.
		d, err := newInboundDriver(creds, w)
		if err != nil {
			return nil, err
		}
		if wi == 0 {
			if rep.empty, rep.emptyMedian, err = emptyBatch(d, 200_000); err == nil {
				rep.collect, err = collectTime(d, 21)
			}
			if err != nil {
				d.close()
				return nil, err
			}
		}
		for _, size := range batchSizes {
			r, err := measureInbound(d, w, size, run, runs)
			if err != nil {
				d.close()
				return nil, fmt.Errorf("%s, batch %d: %w", w.name, size, err)
			}
			rep.results = append(rep.results, r)
		}
		d.close()
	}
	return rep, nil
}

// newInboundDriver returns a fresh engine in the inbound state, with no
// client-event rate limit.
func newInboundDriver(creds pusher.Credentials, w workload) (*driver, error) {
	d, err := newDriver(creds, engine.AppOption{ID: engine.OptionClientEventRate, Value: math.MaxUint32})
	if err != nil {
		return nil, err
	}
	if err := setupInbound(d); err != nil {
		d.close()
		return nil, fmt.Errorf("%s: %w", w.name, err)
	}
	return d, nil
}

// emptyBatch returns the mean CPU time of n Process calls on an empty
// batch, and the median wall time of one call (timed in a second series,
// so that the clock reads do not weigh on the mean).
func emptyBatch(d *driver, n int) (mean, median time.Duration, err error) {
	var b engine.Batch
	b.SetNow(uint64(time.Now().UnixMilli()))
	start := processCPU()
	for range n {
		if _, err := d.eng.Process(b.Bytes()); err != nil {
			return 0, 0, err
		}
	}
	mean = (processCPU() - start) / time.Duration(n)
	walls := make([]time.Duration, 0, n)
	for range n {
		t0 := time.Now()
		if _, err := d.eng.Process(b.Bytes()); err != nil {
			return 0, 0, err
		}
		walls = append(walls, time.Since(t0))
	}
	return mean, stats.Summarize(walls).P50, nil
}

// collectTime returns the median wall time of n full engine collections.
func collectTime(d *driver, n int) (time.Duration, error) {
	var ts []time.Duration
	for range n {
		start := time.Now()
		if err := d.eng.Collect(); err != nil {
			return 0, err
		}
		ts = append(ts, time.Since(start))
	}
	return stats.Summarize(ts).P50, nil
}

// buildPeriod returns one period of w in batches of size messages, and the
// deliveries it causes.
func buildPeriod(w workload, size int) ([]engine.Batch, int, error) {
	if period%size != 0 {
		return nil, 0, fmt.Errorf("batch size %d does not divide the period %d", size, period)
	}
	batches := make([]engine.Batch, period/size)
	want := 0
	for i := range period {
		msg := w.at(i)
		batches[i/size].Message(msg.conn, msg.payload)
		want += msg.deliveries
	}
	return batches, want, nil
}

// checkPeriod runs one period through d and checks every answer: no
// pusher:error, want deliveries.
func checkPeriod(d *driver, batches []engine.Batch, want int) error {
	got := 0
	for i := range batches {
		batches[i].SetNow(uint64(time.Now().UnixMilli()))
		out, err := d.eng.Process(batches[i].Bytes())
		if err != nil {
			return err
		}
		t, err := count(out, true)
		if err != nil {
			return err
		}
		if t.errors > 0 {
			return fmt.Errorf("%d pusher:error answers, last: %s", t.errors, t.lastError)
		}
		got += t.deliveries
	}
	if got != want {
		return fmt.Errorf("%d deliveries over one period, want %d", got, want)
	}
	return nil
}

// runPeriods processes batches in a loop, whole periods at a time, until
// run is done; it returns the number of batches processed and the wall time.
func runPeriods(d *driver, batches []engine.Batch, run inboundRun) (int, time.Duration, error) {
	n := 0
	start := time.Now()
	for {
		b := &batches[n%len(batches)]
		b.SetNow(uint64(time.Now().UnixMilli()))
		out, err := d.eng.Process(b.Bytes())
		if err != nil {
			return n, 0, err
		}
		// The host walks every action; so does the benchmark.
		if _, err := count(out, false); err != nil {
			return n, 0, err
		}
		n++
		// Whole periods only, so that every run measures the same mix.
		if n%len(batches) == 0 {
			if elapsed := time.Since(start); run.done(n, len(batches), elapsed) {
				return n, elapsed, nil
			}
		}
	}
}

func measureInbound(d *driver, w workload, size int, run inboundRun, runs int) (inboundResult, error) {
	batches, want, err := buildPeriod(w, size)
	if err != nil {
		return inboundResult{}, err
	}
	if err := checkPeriod(d, batches, want); err != nil {
		return inboundResult{}, err
	}

	var cpuRates, wallRates, batchTimes, allocs []float64
	var ms runtime.MemStats
	for range runs {
		runtime.GC()
		runtime.ReadMemStats(&ms)
		mallocs := ms.Mallocs
		cpu0 := processCPU()
		n, elapsed, err := runPeriods(d, batches, run)
		if err != nil {
			return inboundResult{}, err
		}
		cpu := processCPU() - cpu0
		runtime.ReadMemStats(&ms)
		msgs := float64(n * size)
		cpuRates = append(cpuRates, msgs/cpu.Seconds())
		wallRates = append(wallRates, msgs/elapsed.Seconds())
		batchTimes = append(batchTimes, float64(cpu.Microseconds())/float64(n))
		allocs = append(allocs, float64(ms.Mallocs-mallocs)/float64(n))
	}
	rate := median(cpuRates)
	return inboundResult{
		workload:     w.name,
		batch:        size,
		msgsPerSec:   rate,
		nsPerMsg:     1e9 / rate,
		usPerBatch:   median(batchTimes),
		allocsPerBat: median(allocs),
		deliveries:   float64(want) / period,
		wallPerCPU:   rate / median(wallRates),
	}, nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}
