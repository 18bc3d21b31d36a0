package stats

import (
	"testing"
	"time"
)

func TestBucketBoundsRoundTrip(t *testing.T) {
	for _, v := range []uint64{0, 1, 31, 63, 64, 65, 1000, 123456789, 1 << 40, 1<<62 + 12345} {
		i := bucket(v)
		lo, hi := bounds(i)
		if v < lo || v >= hi {
			t.Errorf("value %d in bucket %d = [%d, %d)", v, i, lo, hi)
		}
		if v >= 64 && float64(hi-lo)/float64(lo) > 1.0/32 {
			t.Errorf("bucket %d = [%d, %d) is wider than 1/32", i, lo, hi)
		}
	}
}

func TestHistogramQuantile(t *testing.T) {
	var h Histogram
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Microsecond}, {0.99, 990 * time.Microsecond}, {1, time.Millisecond}} {
		got := h.Quantile(tc.q)
		if d := got - tc.want; d < -tc.want/32 || d > tc.want/32 {
			t.Errorf("q%.2f = %v, want %v ±3%%", tc.q, got, tc.want)
		}
	}
	if h.Max() != time.Millisecond || h.Count() != 1000 {
		t.Errorf("max %v count %d", h.Max(), h.Count())
	}
}

func TestSummarize(t *testing.T) {
	s := Summarize([]time.Duration{5, 1, 4, 2, 3})
	if s.N != 5 || s.P50 != 3 || s.Max != 5 || s.Mean != 3 || s.P99 != 5 {
		t.Errorf("summary %+v", s)
	}
}
