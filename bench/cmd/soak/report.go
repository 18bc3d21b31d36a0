package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/pogo-websocket/pogo-websocket/bench/internal/report"
)

// result is what the end of the run found.
type result struct {
	began       time.Time
	loadEnd     time.Duration
	drain       time.Duration
	settle      time.Duration
	lost, dup   uint64
	stayersGone int
	ghosts      []string
	missing     []string
	serverConns float64
}

// series is one sampled quantity checked for a trend.
type series struct {
	name  string
	unit  string
	scale float64 // divides the raw value for display
	floor float64 // smallest growth limit, raw units
	get   func(sample) float64
}

var trended = []series{
	{"RSS", "MiB", 1 << 20, 4 << 20, func(s sample) float64 { return s.rss }},
	{"goroutines", "", 1, 20, func(s sample) float64 { return s.goroutines }},
	{"file descriptors", "", 1, 10, func(s sample) float64 { return s.fds }},
	{"engine memory", "MiB", 1 << 20, 1 << 20, func(s sample) float64 { return s.engineMem }},
}

// trend is one series' verdict on one node.
type trend struct {
	node                 int
	s                    series
	n                    int
	min, max, mean       float64
	slopePerHour, growth float64 // growth = slope × window
	limit                float64
}

func (t trend) ok() bool { return t.growth <= t.limit }

// trends fits a least-squares line to each series over the samples taken
// after the warm-up and before the load stopped.
func (sk *soak) trends(loadEnd time.Duration) []trend {
	var out []trend
	for node := range sk.nodes {
		var xs []float64
		var pts []sample
		for _, s := range sk.samples {
			if s.node == node && s.at >= sk.cfg.warmup && s.at <= loadEnd {
				xs = append(xs, s.at.Hours())
				pts = append(pts, s)
			}
		}
		if len(pts) < 2 {
			continue
		}
		window := xs[len(xs)-1] - xs[0]
		for _, se := range trended {
			ys := make([]float64, len(pts))
			t := trend{node: node, s: se, n: len(pts), min: se.get(pts[0]), max: se.get(pts[0])}
			for i, p := range pts {
				ys[i] = se.get(p)
				t.min, t.max = min(t.min, ys[i]), max(t.max, ys[i])
				t.mean += ys[i] / float64(len(ys))
			}
			t.slopePerHour = slope(xs, ys)
			t.growth = t.slopePerHour * window
			t.limit = max(sk.cfg.maxGrowth*t.mean, se.floor)
			out = append(out, t)
		}
	}
	return out
}

// slope is the least-squares slope of ys over xs.
func slope(xs, ys []float64) float64 {
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx /= float64(len(xs))
	my /= float64(len(ys))
	var num, den float64
	for i := range xs {
		num += (xs[i] - mx) * (ys[i] - my)
		den += (xs[i] - mx) * (xs[i] - mx)
	}
	if den == 0 {
		return 0
	}
	return num / den
}

// report prints and writes the summary and the plot, and returns whether
// every check passed.
func (sk *soak) report(res *result) (bool, error) {
	trends := sk.trends(res.loadEnd)
	var b strings.Builder
	pass := sk.summary(&b, res, trends)
	fmt.Fprint(sk.cfg.log, "\n"+b.String())
	md := filepath.Join(sk.cfg.out, sk.cfg.label+".md")
	if err := os.WriteFile(md, []byte(b.String()), 0o644); err != nil {
		return false, err
	}
	svg := filepath.Join(sk.cfg.out, sk.cfg.label+".svg")
	if err := sk.plot(svg, res.loadEnd); err != nil {
		return false, fmt.Errorf("plot: %w", err)
	}
	fmt.Fprintf(sk.cfg.log, "\nwritten: %s, %s, %s\n", filepath.Join(sk.cfg.out, sk.cfg.label+".csv"), md, svg)
	return pass, nil
}

func (sk *soak) summary(w io.Writer, res *result, trends []trend) bool {
	cfg := sk.cfg
	pass := true
	verdict := func(ok bool) string {
		if ok {
			return "ok"
		}
		pass = false
		return "**FAIL**"
	}
	fmt.Fprintf(w, "## Soak %s\n\n", cfg.label)
	fmt.Fprintf(w, "Started %s, load for %v (%d node(s)), %s, load average at the end %s.\n",
		res.began.UTC().Format(time.DateTime+" UTC"), res.loadEnd.Round(time.Second), len(sk.nodes), runtime.Version(), report.LoadAvg())
	if cfg.note != "" {
		fmt.Fprintf(w, "%s\n", cfg.note)
	}
	members, joins, leaves := sk.truth.counts()
	var sent uint64
	var received uint64
	for _, s := range sk.stayers {
		sent += s.sent.Load()
		s.mu.Lock()
		received += s.received
		s.mu.Unlock()
	}
	fmt.Fprintf(w, "\nLoad: %d stayers; %d churners (mean stay %v, %d shared user ids); %.0f HTTP publishes/s over %d public channels; "+
		"%.1f client events/s per stayer over %d private channels; %d presence channels. Sampled every %v; trends checked from %v.\n\n",
		cfg.stayers, cfg.churners, cfg.hold, cfg.churnUsers, cfg.publishRate, cfg.channels[0], cfg.clientRate, cfg.channels[1],
		cfg.channels[2], cfg.period, cfg.warmup)
	secs := res.loadEnd.Seconds()
	fmt.Fprintf(w, "| traffic | total | per second |\n| --- | --: | --: |\n")
	row := func(name string, v int64) { fmt.Fprintf(w, "| %s | %d | %.1f |\n", name, v, float64(v)/secs) }
	row("HTTP publishes acknowledged", sk.published.Load())
	row("client events sent by stayers", int64(sent))
	row("client events sent by churners", sk.churnEvents.Load())
	row("events delivered to stayers", int64(received))
	row("events delivered to churners", sk.churnReceived.Load())
	row("churning connections opened", sk.churnOpened.Load())
	row("churning connections closed", sk.churnClosed.Load())
	row("presence joins (confirmed)", joins)
	row("presence leaves", leaves)

	fmt.Fprintf(w, "\n| node | series | samples | min | max | mean | slope per hour | growth over the window | limit | trend |\n")
	fmt.Fprintf(w, "| --: | --- | --: | --: | --: | --: | --: | --: | --: | --- |\n")
	for _, t := range trends {
		f := func(v float64) string {
			if t.s.unit == "" {
				return fmt.Sprintf("%.1f", v/t.s.scale)
			}
			return fmt.Sprintf("%.2f %s", v/t.s.scale, t.s.unit)
		}
		fmt.Fprintf(w, "| %d | %s | %d | %s | %s | %s | %s | %s | %s | %s |\n", t.node, t.s.name, t.n,
			f(t.min), f(t.max), f(t.mean), f(t.slopePerHour), f(t.growth), f(t.limit), verdict(t.ok()))
	}
	if len(trends) == 0 {
		fmt.Fprintf(w, "| – | no samples after the warm-up | | | | | | | | %s |\n", verdict(false))
	}

	fmt.Fprintf(w, "\n| check | found | result |\n| --- | --- | --- |\n")
	fmt.Fprintf(w, "| lost events on stayers (drained in %v) | %d | %s |\n", res.drain.Round(time.Millisecond), res.lost, verdict(res.lost == 0))
	fmt.Fprintf(w, "| duplicated or reordered events on stayers | %d | %s |\n", res.dup, verdict(res.dup == 0))
	fmt.Fprintf(w, "| stayers that lost their connection | %d | %s |\n", res.stayersGone, verdict(res.stayersGone == 0))
	fmt.Fprintf(w, "| ghost members (in an HTTP API roster, not in the generator's; settled in %v) | %d%s | %s |\n",
		res.settle.Round(time.Millisecond), len(res.ghosts), list(res.ghosts), verdict(len(res.ghosts) == 0))
	fmt.Fprintf(w, "| missing members (in the generator's roster only; %d expected per node) | %d%s | %s |\n",
		members, len(res.missing), list(res.missing), verdict(len(res.missing) == 0))
	fmt.Fprintf(w, "| server connections after the churn stopped (want %d) | %.0f | %s |\n",
		sk.stayersAlive(), res.serverConns, verdict(int(res.serverConns) == sk.stayersAlive()))
	fmt.Fprintf(w, "| HTTP publishes that failed | %d%s | %s |\n", sk.publishErrors.Load(), first(&sk.firstPublishError), verdict(sk.publishErrors.Load() == 0))
	fmt.Fprintf(w, "| pusher:error messages received | %d%s | %s |\n", sk.pusherErrors.Load(), first(&sk.firstPusherError), verdict(sk.pusherErrors.Load() == 0))
	// A churner's failed dial or join is reported, not failed: the stayers'
	// checks show whether the server misbehaved.
	fmt.Fprintf(w, "| churner dials or joins that failed | %d%s | reported |\n", sk.churnFailures.Load(), first(&sk.firstChurnError))
	fmt.Fprintf(w, "\n**%s**\n", map[bool]string{true: "PASS", false: "FAIL"}[pass])
	return pass
}

func list(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	if len(ids) > 10 {
		return fmt.Sprintf(": %s, …", strings.Join(ids[:10], ", "))
	}
	return ": " + strings.Join(ids, ", ")
}

func first(v interface{ Load() any }) string {
	if s, ok := v.Load().(string); ok {
		return fmt.Sprintf(" (first: `%.160s`)", strings.ReplaceAll(s, "|", "\\|"))
	}
	return ""
}
