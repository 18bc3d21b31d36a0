// Package stats summarizes latencies: exact percentiles of a sample, and a
// lock-free log-linear histogram for hot paths that record from many
// goroutines.
package stats

import (
	"math"
	"math/bits"
	"slices"
	"sync/atomic"
	"time"
)

// Percentile returns the q-quantile (0 ≤ q ≤ 1) of sorted by the
// nearest-rank method; 0 for an empty slice.
func Percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// Summary is the usual digest of a latency sample.
type Summary struct {
	N                        int
	Mean, P50, P90, P99, Max time.Duration
}

// Summarize sorts samples in place and digests them.
func Summarize(samples []time.Duration) Summary {
	if len(samples) == 0 {
		return Summary{}
	}
	slices.Sort(samples)
	var sum time.Duration
	for _, d := range samples {
		sum += d
	}
	return Summary{
		N:    len(samples),
		Mean: sum / time.Duration(len(samples)),
		P50:  Percentile(samples, 0.50),
		P90:  Percentile(samples, 0.90),
		P99:  Percentile(samples, 0.99),
		Max:  samples[len(samples)-1],
	}
}

// subBits sets the histogram's precision: 2^subBits buckets per power of
// two, so a bucket is at most 1/32 (3%) wide relative to its values.
const subBits = 5

// Histogram counts non-negative durations in log-linear buckets. Record is
// safe for concurrent use and allocation-free; the zero value is ready.
type Histogram struct {
	counts [64 << subBits]atomic.Uint64
	n      atomic.Uint64
	max    atomic.Int64
}

// Record adds one duration; negative ones count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := max(int64(d), 0)
	h.counts[bucket(uint64(v))].Add(1)
	h.n.Add(1)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// Count returns the number of recorded durations.
func (h *Histogram) Count() uint64 { return h.n.Load() }

// Max returns the largest recorded duration (exact).
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) }

// Quantile returns the q-quantile (0 ≤ q ≤ 1), accurate to the width of its
// bucket (≤3%): the midpoint of the bucket holding the nearest rank.
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(n)))
	rank = min(max(rank, 1), n)
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			lo, hi := bounds(i)
			return min(time.Duration(lo+(hi-lo)/2), h.Max())
		}
	}
	return h.Max()
}

// bucket maps v to its bucket: values below 2^(subBits+1) have their own
// bucket; above, the top subBits+1 significant bits select it.
func bucket(v uint64) int {
	if v < 1<<(subBits+1) {
		return int(v)
	}
	shift := bits.Len64(v) - (subBits + 1)
	return (shift+1)<<subBits + int(v>>shift) - 1<<subBits
}

// bounds returns the smallest value of bucket i and the smallest of i+1.
func bounds(i int) (lo, hi uint64) {
	if i < 1<<(subBits+1) {
		return uint64(i), uint64(i) + 1
	}
	shift := i>>subBits - 1
	m := uint64(i&(1<<subBits-1) + 1<<subBits)
	return m << shift, (m + 1) << shift
}
