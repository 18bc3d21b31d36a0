package main

import (
	"math"
	"slices"
	"testing"
	"time"
)

func TestCheck_CountsGapsAsLostAndRepeatsAsDuplicates(t *testing.T) {
	var lost, dup uint64
	last := uint64(0)
	for _, seq := range []uint64{1, 2, 5, 5, 3, 6} {
		last = check(last, seq, &lost, &dup)
	}
	if last != 6 || lost != 2 || dup != 2 {
		t.Errorf("last %d, lost %d, dup %d; want 6, 2 (3 and 4), 2 (5 again, 3 late)", last, lost, dup)
	}
}

func TestRoster_KeepsAUserWhileOneOfItsConnectionsStays(t *testing.T) {
	r := newRoster([]string{"presence-a"})
	r.join("presence-a", "u1")
	r.join("presence-a", "u1")
	r.join("presence-a", "u2")
	r.leave("presence-a", "u1")
	r.leave("presence-a", "u2")
	if got := r.members("presence-a"); !slices.Equal(got, []string{"u1"}) {
		t.Errorf("members %q, want [u1]", got)
	}
	if members, joins, leaves := r.counts(); members != 1 || joins != 3 || leaves != 2 {
		t.Errorf("counts %d %d %d, want 1 member, 3 joins, 2 leaves", members, joins, leaves)
	}
}

func TestDiff_FindsGhostsAndMissingMembers(t *testing.T) {
	ghosts, missing := diff([]string{"a", "b", "x"}, []string{"a", "b", "c"})
	if !slices.Equal(ghosts, []string{"x"}) || !slices.Equal(missing, []string{"c"}) {
		t.Errorf("ghosts %q, missing %q; want [x], [c]", ghosts, missing)
	}
}

func TestTrends_FailAGrowingSeriesAndPassAFlatNoisyOne(t *testing.T) {
	sk := &soak{cfg: &config{warmup: 30 * time.Minute, maxGrowth: 0.05}, nodes: []*node{{}}}
	for i := range 361 {
		at := time.Duration(i) * 10 * time.Second
		noise := 3 * math.Sin(float64(i)) // ±3 goroutines
		sk.samples = append(sk.samples, sample{
			at: at, rss: 100 << 20, fds: 300,
			goroutines: 300 + noise,
			// 64 KiB more per sample: 11 MiB over the second half, a leak.
			engineMem: float64(i * 64 << 10),
		})
	}
	got := map[string]bool{}
	for _, tr := range sk.trends(time.Hour) {
		got[tr.s.name] = tr.ok()
		if tr.n != 181 {
			t.Errorf("%s: %d samples checked, want the 181 of the second half", tr.s.name, tr.n)
		}
	}
	want := map[string]bool{"RSS": true, "goroutines": true, "file descriptors": true, "engine memory": false}
	for name, ok := range want {
		if got[name] != ok {
			t.Errorf("%s: ok=%v, want %v", name, got[name], ok)
		}
	}
}

func TestSlope_IsTheLeastSquaresFit(t *testing.T) {
	if s := slope([]float64{0, 1, 2, 3}, []float64{1, 3, 5, 7}); math.Abs(s-2) > 1e-9 {
		t.Errorf("slope %v, want 2", s)
	}
}
