package main

import (
	"fmt"

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
}

// draw writes the chart to path; false when no point has the value (the
// mode was not run), in which case nothing is written.
func (c chart) draw(points []results.Point, path string) (bool, error) {
	series := results.Series(points, c.mode)
	p := plot.New()
	p.Title.Text = c.title
	p.X.Label.Text = c.x
	p.Y.Label.Text = c.y
	if c.logX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	if c.logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	}
	p.Legend.Top = true
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
			xy = append(xy, plotter.XY{X: pt.X, Y: v})
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
	if err := p.Save(16*vg.Centimeter, 10*vg.Centimeter, path); err != nil {
		return false, fmt.Errorf("chart %s: %w", c.file, err)
	}
	return true, nil
}
