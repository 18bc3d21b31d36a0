package main

import (
	"fmt"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/pogo-websocket/pogo-websocket/bench/internal/results"
)

// chart is one SVG: a value of one mode against the points' X, one line per
// server label.
type chart struct {
	file, mode, value string
	title, x, y       string
	logX, logY        bool
	// scale multiplies every value (e.g. seconds to milliseconds).
	scale float64
}

// draw writes the chart to path; false when no point has the value (the
// mode was not run), in which case nothing is written.
func (c chart) draw(points []results.Point, path string) (bool, error) {
	series := results.Series(points, c.mode)
	p := plot.New()
	p.Title.Text = c.title
	p.X.Label.Text = c.x
	p.Y.Label.Text = c.y
	p.X.Tick.Marker, p.Y.Tick.Marker = plainTicks{}, plainTicks{}
	if c.logX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = logTicks{}
	}
	if c.logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
	} else {
		p.Y.Min = 0
	}
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(6), vg.Points(-4)
	p.Add(plotter.NewGrid())
	drawn := 0
	for i, label := range results.Labels(series) {
		var xy plotter.XYs
		for _, pt := range series[label] {
			v, ok := pt.Values[c.value]
			// A log axis cannot show zero: such points are left out.
			if !ok || (c.logY && v <= 0) || (c.logX && pt.X <= 0) {
				continue
			}
			xy = append(xy, plotter.XY{X: pt.X, Y: v * c.scale})
		}
		if len(xy) == 0 {
			continue
		}
		line, dots, err := plotter.NewLinePoints(xy)
		if err != nil {
			return false, fmt.Errorf("chart %s, %s: %w", c.file, label, err)
		}
		line.Color = plotutil.Color(i)
		dots.Color = plotutil.Color(i)
		dots.Shape = plotutil.Shape(i)
		p.Add(line, dots)
		p.Legend.Add(label, line, dots)
		drawn++
	}
	if drawn == 0 {
		return false, nil
	}
	// Head room above the lines for the legend, one line per series.
	if c.logY {
		p.Y.Max *= math.Pow(2, float64(drawn+1))
	} else {
		p.Y.Max *= 1 + 0.12*float64(drawn)
	}
	if err := p.Save(16*vg.Centimeter, 10*vg.Centimeter, path); err != nil {
		return false, fmt.Errorf("chart %s: %w", c.file, err)
	}
	return true, nil
}

// plainTicks are gonum's default ticks, labelled without trailing zeros.
type plainTicks struct{}

func (plainTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = strconv.FormatFloat(ticks[i].Value, 'f', -1, 64)
		}
	}
	return ticks
}

// logTicks label 1, 2 and 5 of every decade of a log axis (gonum's LogTicks
// label only the powers of ten, too few for a range of one or two decades).
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	if lo <= 0 || hi < lo {
		return ticks
	}
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		for m := 1; m <= 9; m++ {
			v := float64(m) * math.Pow(10, e)
			if v < lo || v > hi {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = strconv.FormatFloat(v, 'f', -1, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}
