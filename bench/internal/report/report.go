// Package report prints benchmark results as aligned Markdown tables, so
// that a run's output can be pasted into bench/README.md as it is.
package report

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"
)

// Table is a Markdown table built row by row.
type Table struct {
	header []string
	rows   [][]string
	// right marks the columns aligned to the right (numbers).
	right []bool
}

// NewTable starts a table. A column name starting with '>' is a number
// column, right-aligned; the '>' is not printed.
func NewTable(columns ...string) *Table {
	t := &Table{}
	for _, c := range columns {
		name, right := strings.CutPrefix(c, ">")
		t.header = append(t.header, name)
		t.right = append(t.right, right)
	}
	return t
}

// Row appends a row; each cell is formatted with fmt's %v.
func (t *Table) Row(cells ...any) {
	row := make([]string, len(t.header))
	for i := range row {
		if i < len(cells) {
			row[i] = fmt.Sprint(cells[i])
		}
	}
	t.rows = append(t.rows, row)
}

// Print writes the table to w.
func (t *Table) Print(w io.Writer) {
	width := make([]int, len(t.header))
	for i, h := range t.header {
		width[i] = max(3, utf8.RuneCountInString(h))
	}
	for _, r := range t.rows {
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	line := func(cells []string) {
		var b strings.Builder
		b.WriteString("|")
		for i, c := range cells {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if t.right[i] {
				fmt.Fprintf(&b, " %s%s |", pad, c)
			} else {
				fmt.Fprintf(&b, " %s%s |", c, pad)
			}
		}
		fmt.Fprintln(w, b.String())
	}
	line(t.header)
	sep := make([]string, len(t.header))
	for i := range sep {
		if t.right[i] {
			sep[i] = strings.Repeat("-", width[i]-1) + ":"
		} else {
			sep[i] = strings.Repeat("-", width[i])
		}
	}
	line(sep)
	for _, r := range t.rows {
		line(r)
	}
}

// Dur formats a duration with three significant digits in a unit chosen
// for it (ns, µs, ms, s).
func Dur(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return fmt.Sprintf("%d ns", d.Nanoseconds())
	case d < time.Millisecond:
		return sig3(float64(d)/1e3) + " µs"
	case d < time.Second:
		return sig3(float64(d)/1e6) + " ms"
	default:
		return sig3(float64(d)/1e9) + " s"
	}
}

// Num formats a number with thousands separators, no decimals.
func Num(x float64) string {
	s := fmt.Sprintf("%.0f", x)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Pct formats a ratio as a percentage with one decimal (two below 1%).
func Pct(ratio float64) string {
	if ratio != 0 && ratio < 0.01 {
		return fmt.Sprintf("%.2f%%", 100*ratio)
	}
	return fmt.Sprintf("%.1f%%", 100*ratio)
}

// Bytes formats a byte count in B, KiB or MiB.
func Bytes(n float64) string {
	switch {
	case n < 0:
		return "-" + Bytes(-n)
	case n < 1024:
		return fmt.Sprintf("%.0f B", n)
	case n < 1<<20:
		return sig3(n/1024) + " KiB"
	default:
		return sig3(n/(1<<20)) + " MiB"
	}
}

func sig3(x float64) string {
	switch {
	case x >= 100:
		return fmt.Sprintf("%.0f", x)
	case x >= 10:
		return fmt.Sprintf("%.1f", x)
	default:
		return fmt.Sprintf("%.2f", x)
	}
}

// LoadAvg returns the 1, 5 and 15 minute load averages from /proc/loadavg.
// On this 2-core machine, a benchmark is only clean when the 1-minute figure
// stays near what the benchmark itself adds (≈1-2): more means other work
// shared the cores.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "n/a"
	}
	return strings.Join(f[:3], " ")
}
