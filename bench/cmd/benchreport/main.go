// Command benchreport reads the results loadgen appended during one
// `make bench` (-results) and writes what needs several servers at once:
//
//   - the fan-out latency of every server as a ratio to the rawfanout floor
//     at the same publish rate (a Markdown table on stdout);
//
//   - the slow-consumer scenario of every server side by side: the others'
//     p99 without, with and again without the slow consumer, and what the
//     slow one received and how it was closed;
//
//   - SVG charts drawn with gonum.org/v1/plot, one series per server on the
//     same axes: fan-out deliveries/s and p99 against the publish rate, and
//     idle memory per connection against the connection count.
//
//     benchreport -in out/results.jsonl -out out [-floor rawfanout] [-format svg|png]
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/pogo-websocket/pogo-websocket/bench/internal/report"
	"github.com/pogo-websocket/pogo-websocket/bench/internal/results"
)

func main() {
	in := flag.String("in", "out/results.jsonl", "results file written by loadgen -results")
	dir := flag.String("out", "out", "directory of the SVG charts")
	floor := flag.String("floor", "rawfanout", "label of the fan-out floor")
	format := flag.String("format", "svg", "chart format: svg, or png to look at one without an SVG viewer")
	flag.Parse()
	if *format != "svg" && *format != "png" {
		fmt.Fprintln(os.Stderr, "benchreport: -format: want svg or png")
		os.Exit(2)
	}
	if err := run(os.Stdout, *in, *dir, *floor, *format); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, in, dir, floor, format string) error {
	points, err := results.Read(in)
	if err != nil {
		return err
	}
	ratios, err := results.Ratios(points, floor)
	switch {
	case errors.Is(err, results.ErrNoFloor):
		fmt.Fprintf(w, "\nno fan-out run of %s in %s: no latency ratios\n", floor, in)
	case err != nil:
		return err
	default:
		fmt.Fprintf(w, "\n### Fan-out latency as a ratio to %s (same rate, same make invocation)\n\n", floor)
		t := report.NewTable("server", ">pub/s", ">p50 ÷ floor", ">p99 ÷ floor", "same load")
		behind := false
		for _, r := range ratios {
			same := "yes"
			if r.Behind {
				same, behind = "no", true
			}
			t.Row(r.Label, fmt.Sprintf("%g", r.Rate), fmt.Sprintf("%.2f", r.P50), fmt.Sprintf("%.2f", r.P99), same)
		}
		t.Print(w)
		if behind {
			fmt.Fprintln(w, "\nsame load \"no\": the server or the floor sent less than 90% of the rate in that step, so the two did not carry the same load")
		}
	}
	printSlow(w, results.Slow(points))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	charts := []chart{
		{file: "fanout-deliveries", mode: "fanout", value: results.DeliveriesPerSec,
			title: "Fan-out to one channel", x: "publishes/s (target)", y: "deliveries/s", logX: true, scale: 1},
		{file: "fanout-p99", mode: "fanout", value: results.LatencyP99,
			title: "Fan-out publish→receive latency p99", x: "publishes/s (target)", y: "p99 (ms)", logX: true, logY: true, scale: 1e3},
		{file: "idle-memory", mode: "idle", value: results.BytesPerConn,
			title: "Idle memory per subscribed connection (marginal RSS)", x: "connections", y: "KiB per connection",
			logX: true, logY: true, scale: 1.0 / 1024},
	}
	for _, c := range charts {
		path := filepath.Join(dir, c.file+"."+format)
		ok, err := c.draw(points, path)
		if err != nil {
			return err
		}
		if ok {
			fmt.Fprintf(w, "\nchart: %s\n", path)
		}
	}
	return nil
}

// printSlow prints the slow-consumer rows, if any server ran the scenario.
func printSlow(w io.Writer, rows []results.SlowRow) {
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "\n### One slow consumer: the others' fan-out p99 without, with and again without it (same run)\n\n")
	t := report.NewTable("server", ">pub/s", ">p99 without", ">p99 with", ">with ÷ without", ">p99 without again",
		">again ÷ without", ">slow one received", ">missed", ">close code")
	for _, r := range rows {
		again, noise := "", ""
		if r.HasAgain {
			again = report.Dur(time.Duration(r.Again * float64(time.Second)))
			noise = div(r.Again, r.Without)
		}
		recv, missed, code := "", "", ""
		if r.HasConsumer {
			recv = fmt.Sprintf("%s of %s", report.Num(r.Received), report.Num(r.Expected))
			missed = report.Num(r.Expected - r.Received)
			code = "none"
			if r.CloseCode != 0 {
				code = fmt.Sprint(r.CloseCode)
			}
		}
		t.Row(r.Label, fmt.Sprintf("%g", r.Rate), report.Dur(time.Duration(r.Without*float64(time.Second))),
			report.Dur(time.Duration(r.With*float64(time.Second))), div(r.With, r.Without), again, noise, recv, missed, code)
	}
	t.Print(w)
	fmt.Fprintln(w, "\n\"again ÷ without\" is the run's own noise: a \"with ÷ without\" within it is no effect of the slow consumer")
}

// div formats a/b, or n/a when b is zero.
func div(a, b float64) string {
	if b <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", a/b)
}
