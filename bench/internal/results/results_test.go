package results

import (
	"errors"
	"path/filepath"
	"testing"
)

func fan(label string, rate, p50, p99 float64) Point {
	return Point{Label: label, Mode: "fanout", X: rate, Values: map[string]float64{LatencyP50: p50, LatencyP99: p99}}
}

func TestRatiosDivideEachServerByTheFloorAtTheSameRate(t *testing.T) {
	pts := []Point{
		fan("rawfanout", 1, 0.100, 0.200),
		fan("rawfanout", 10, 0.050, 0.400),
		fan("pogo", 1, 0.120, 0.300),
		fan("pogo", 10, 0.050, 0.200),
		fan("pogo", 40, 0.5, 1), // the floor did not measure 40/s
		{Label: "pogo", Mode: "idle", X: 10000, Values: map[string]float64{BytesPerConn: 6500}},
	}
	got, err := Ratios(pts, "rawfanout")
	if err != nil {
		t.Fatal(err)
	}
	want := []Ratio{{"pogo", 1, 1.2, 1.5, false}, {"pogo", 10, 1, 0.5, false}}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Label != w.Label || g.Rate != w.Rate || !near(g.P50, w.P50) || !near(g.P99, w.P99) {
			t.Errorf("ratio %d: got %+v, want %+v", i, g, w)
		}
	}
}

func TestRatiosFlagAStepThatFellBehindItsRate(t *testing.T) {
	floor := fan("rawfanout", 40, 0.1, 0.2)
	floor.Values[SentPerSec] = 28.9
	onTime := fan("pogo", 40, 0.1, 0.2)
	onTime.Values[SentPerSec] = 39.5
	got, err := Ratios([]Point{floor, onTime, fan("rawfanout", 5, 1, 1), fan("pogo", 5, 1, 1)}, "rawfanout")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Rate != 5 || got[0].Behind || got[1].Rate != 40 || !got[1].Behind {
		t.Fatalf("got %+v: want 5/s on time and 40/s behind (the floor sent 28.9/s)", got)
	}
}

func TestRatiosWithoutTheFloorFail(t *testing.T) {
	if _, err := Ratios([]Point{fan("pogo", 1, 1, 1)}, "rawfanout"); !errors.Is(err, ErrNoFloor) {
		t.Fatalf("got %v, want ErrNoFloor", err)
	}
}

func TestSeriesKeepsTheLaterPointOfARepeatedStep(t *testing.T) {
	s := Series([]Point{fan("pogo", 5, 1, 1), fan("pogo", 1, 1, 1), fan("pogo", 5, 2, 2)}, "fanout")["pogo"]
	if len(s) != 2 || s[0].X != 1 || s[1].X != 5 || s[1].Values[LatencyP50] != 2 {
		t.Fatalf("got %+v", s)
	}
}

func TestAppendThenReadRoundTrips(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.jsonl")
	if err := Append(path, fan("a", 1, 2, 3)); err != nil {
		t.Fatal(err)
	}
	if err := Append(path, fan("b", 4, 5, 6)); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Label != "a" || got[1].X != 4 || got[1].Values[LatencyP99] != 6 {
		t.Fatalf("got %+v", got)
	}
}

func near(a, b float64) bool { d := a - b; return d < 1e-9 && d > -1e-9 }

func TestSlowPairsEachRateWithoutWithAndAgainAndTheConsumer(t *testing.T) {
	p99 := func(label, mode string, rate, v float64) Point {
		return Point{Label: label, Mode: mode, X: rate, Values: map[string]float64{LatencyP99: v}}
	}
	pts := []Point{
		p99("pogo", SlowWithout, 5, 0.1), p99("pogo", SlowWith, 5, 0.2), p99("pogo", SlowAfter, 5, 0.15),
		p99("pogo", SlowWith, 10, 0.3), // no "without" at 10/s: no row
		{Label: "pogo", Mode: SlowConsumer, Values: map[string]float64{Expected: 100, Received: 40, CloseCode: 4100}},
		p99("other", SlowWithout, 5, 1), p99("other", SlowWith, 5, 1.1),
		fan("rawfanout", 5, 0.1, 0.1),
	}
	got := Slow(pts)
	want := []SlowRow{
		{Label: "other", Rate: 5, Without: 1, With: 1.1},
		{Label: "pogo", Rate: 5, Without: 0.1, With: 0.2, Again: 0.15, Expected: 100, Received: 40, CloseCode: 4100,
			HasConsumer: true, HasAgain: true},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}
