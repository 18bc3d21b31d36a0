// Package results keeps the figures of a benchmark run as JSON lines, one
// point per line, so that a later step of the same `make bench` can compare
// servers (fan-out latency as a ratio to the rawfanout floor) and plot them.
package results

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
)

// Point is one measured figure set: a server (Label), a scenario (Mode), the
// step's x value (publish rate, connection count...) and named values.
type Point struct {
	Label  string             `json:"label"`
	Mode   string             `json:"mode"`
	X      float64            `json:"x"`
	Values map[string]float64 `json:"values"`
}

// Value names shared by the writer (loadgen) and the readers.
const (
	DeliveriesPerSec = "deliveries_per_s"
	LatencyP50       = "latency_p50_s"
	LatencyP99       = "latency_p99_s"
	SentPerSec       = "pub_per_s_sent" // the publish rate achieved (open loop may fall behind)
	BytesPerConn     = "bytes_per_conn"
	// The slow consumer's own figures (mode SlowConsumer): acknowledged
	// publishes it should have received, those it did, and the close code
	// the server sent it (0: none).
	Expected  = "expected"
	Received  = "received"
	CloseCode = "close_code"
)

// The slow-consumer scenario's modes: the fan-out of the others without a
// slow consumer, with one, and without again; and the slow consumer's outcome.
const (
	SlowWithout  = "slow-without"
	SlowWith     = "slow-with"
	SlowAfter    = "slow-after"
	SlowConsumer = "slow-consumer"
)

// Append adds points to the file at path (created when missing). An empty
// path appends nothing.
func Append(path string, points ...Point) error {
	if path == "" || len(points) == 0 {
		return nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	enc := json.NewEncoder(f)
	for _, p := range points {
		if err := enc.Encode(p); err != nil {
			_ = f.Close()
			return fmt.Errorf("results %s: %w", path, err)
		}
	}
	return f.Close()
}

// Read returns every point of the file at path, in order.
func Read(path string) ([]Point, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("results: %w", err)
	}
	defer f.Close()
	var out []Point
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		var p Point
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			return nil, fmt.Errorf("results %s:%d: %w", path, line, err)
		}
		out = append(out, p)
	}
	return out, sc.Err()
}

// Series groups the points of one mode by label, each sorted by X. A label
// that measured the same X twice keeps the later point (a re-run replaces).
func Series(points []Point, mode string) map[string][]Point {
	byLabel := map[string]map[float64]Point{}
	for _, p := range points {
		if p.Mode != mode {
			continue
		}
		if byLabel[p.Label] == nil {
			byLabel[p.Label] = map[float64]Point{}
		}
		byLabel[p.Label][p.X] = p
	}
	out := make(map[string][]Point, len(byLabel))
	for label, m := range byLabel {
		s := make([]Point, 0, len(m))
		for _, p := range m {
			s = append(s, p)
		}
		sort.Slice(s, func(i, j int) bool { return s[i].X < s[j].X })
		out[label] = s
	}
	return out
}

// Labels returns the labels of a series map in a stable order.
func Labels(series map[string][]Point) []string {
	out := make([]string, 0, len(series))
	for l := range series {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// Ratio is one server's fan-out latency at one publish rate divided by the
// floor's at the same rate.
type Ratio struct {
	Label    string
	Rate     float64
	P50, P99 float64 // server ÷ floor
	// Behind is set when the server or the floor sent less than 90% of
	// the rate: the two did not carry the same load, so the ratio says little.
	Behind bool
}

// ErrNoFloor means the floor's series is missing, so no ratio can be taken.
var ErrNoFloor = errors.New("no fan-out points of the floor")

// Ratios divides every other label's fan-out p50 and p99 by the floor's at
// the same rate. Rates the floor did not measure, and floor latencies of
// zero, give no ratio.
func Ratios(points []Point, floor string) ([]Ratio, error) {
	series := Series(points, "fanout")
	ref, ok := series[floor]
	if !ok {
		return nil, ErrNoFloor
	}
	byRate := make(map[float64]Point, len(ref))
	for _, p := range ref {
		byRate[p.X] = p
	}
	var out []Ratio
	for _, label := range Labels(series) {
		if label == floor {
			continue
		}
		for _, p := range series[label] {
			f, ok := byRate[p.X]
			if !ok || f.Values[LatencyP50] <= 0 || f.Values[LatencyP99] <= 0 {
				continue
			}
			out = append(out, Ratio{
				Label:  label,
				Rate:   p.X,
				P50:    p.Values[LatencyP50] / f.Values[LatencyP50],
				P99:    p.Values[LatencyP99] / f.Values[LatencyP99],
				Behind: behind(p) || behind(f),
			})
		}
	}
	return out, nil
}

// behind tells whether a fan-out step sent less than 90% of its target
// rate; a point without the sent rate is taken as on time.
func behind(p Point) bool {
	sent, ok := p.Values[SentPerSec]
	return ok && sent < 0.9*p.X
}

// SlowRow is one server's slow-consumer figures at one fan-out rate: the
// others' p99 without, with and again without the slow consumer.
type SlowRow struct {
	Label                 string
	Rate                  float64
	Without, With, Again  float64 // p99, seconds
	Expected, Received    float64 // the slow consumer's, same for every rate
	CloseCode             int
	HasConsumer, HasAgain bool
}

// Slow returns the slow-consumer rows of every label that ran the scenario
// (those with a SlowWith point), by label and rate.
func Slow(points []Point) []SlowRow {
	with := Series(points, SlowWith)
	without := Series(points, SlowWithout)
	again := Series(points, SlowAfter)
	consumer := Series(points, SlowConsumer)
	at := func(s []Point, x float64) (Point, bool) {
		for _, p := range s {
			if p.X == x {
				return p, true
			}
		}
		return Point{}, false
	}
	var out []SlowRow
	for _, label := range Labels(with) {
		for _, p := range with[label] {
			w0, ok := at(without[label], p.X)
			if !ok {
				continue
			}
			r := SlowRow{Label: label, Rate: p.X, With: p.Values[LatencyP99], Without: w0.Values[LatencyP99]}
			if a, ok := at(again[label], p.X); ok {
				r.Again, r.HasAgain = a.Values[LatencyP99], true
			}
			if c := consumer[label]; len(c) > 0 {
				v := c[len(c)-1].Values
				r.Expected, r.Received, r.CloseCode, r.HasConsumer = v[Expected], v[Received], int(v[CloseCode]), true
			}
			out = append(out, r)
		}
	}
	return out
}
