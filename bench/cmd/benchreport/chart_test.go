package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pogo-websocket/pogo-websocket/bench/internal/results"
)

func TestLogTicksLabelOneTwoAndFiveOfEachDecade(t *testing.T) {
	var labels []string
	for _, tk := range (logTicks{}).Ticks(0.8, 60) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if got := strings.Join(labels, " "); got != "1 2 5 10 20 50" {
		t.Errorf("labels %q, want 1 2 5 10 20 50", got)
	}
}

func TestDrawWritesOneSeriesPerServer(t *testing.T) {
	pts := []results.Point{
		{Label: "pogo", Mode: "idle", X: 1000, Values: map[string]float64{results.BytesPerConn: 6000}},
		{Label: "pogo", Mode: "idle", X: 2000, Values: map[string]float64{results.BytesPerConn: 5500}},
		{Label: "other", Mode: "idle", X: 1000, Values: map[string]float64{results.BytesPerConn: 150000}},
	}
	path := filepath.Join(t.TempDir(), "idle.svg")
	c := chart{file: "idle", mode: "idle", value: results.BytesPerConn, title: "t", x: "x", y: "y", scale: 1}
	ok, err := c.draw(pts, path)
	if err != nil || !ok {
		t.Fatalf("draw: %v, %v", ok, err)
	}
	svg, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, label := range []string{">pogo<", ">other<"} {
		if !strings.Contains(string(svg), label) {
			t.Errorf("the chart has no legend entry %s", label)
		}
	}
}

func TestDrawSkipsAModeThatWasNotRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none.svg")
	c := chart{file: "none", mode: "fanout", value: results.LatencyP99, title: "t", x: "x", y: "y", scale: 1}
	if ok, err := c.draw(nil, path); ok || err != nil {
		t.Fatalf("draw of no points: %v, %v", ok, err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a chart without points was written: %v", err)
	}
}
