package main

import (
	"fmt"
	"image/color"
	"os"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// panel is one chart of the plot: a y axis and the lines drawn on it.
type panel struct {
	title string
	lines []panelLine
}

type panelLine struct {
	name string
	get  func(sample) float64
	node int // -1: one value for the run, taken from node 0's samples
}

// plot draws the sampled series in a grid of charts over time (minutes),
// one line per node, with the warm-up and the end of the load marked.
func (sk *soak) plot(path string, loadEnd time.Duration) error {
	perNode := func(name string, get func(sample) float64) []panelLine {
		var ls []panelLine
		for i := range sk.nodes {
			ls = append(ls, panelLine{fmt.Sprintf("%s, node %d", name, i), get, i})
		}
		return ls
	}
	mib := func(f func(sample) float64) func(sample) float64 {
		return func(s sample) float64 { return f(s) / (1 << 20) }
	}
	panels := []panel{
		{"server RSS (MiB)", perNode("RSS", mib(trended[0].get))},
		{"goroutines", perNode("goroutines", trended[1].get)},
		{"file descriptors", perNode("fds", trended[2].get)},
		{"engine linear memory (MiB)", perNode("engine", mib(trended[3].get))},
		{"connections", append(perNode("server", func(s sample) float64 { return s.serverConns }),
			panelLine{"generator (all nodes)", func(s sample) float64 { return float64(s.clientConns) }, -1})},
		{"presence members (all channels)", append(perNode("HTTP API", func(s sample) float64 { return float64(s.apiMembers) }),
			panelLine{"generator's truth", func(s sample) float64 { return float64(s.truth) }, -1})},
	}
	const cols = 2
	rows := (len(panels) + cols - 1) / cols
	grid := make([][]*plot.Plot, rows)
	for i := range grid {
		grid[i] = make([]*plot.Plot, cols)
	}
	for i, pn := range panels {
		p, err := sk.chart(pn, loadEnd)
		if err != nil {
			return err
		}
		grid[i/cols][i%cols] = p
	}
	c := vgsvg.New(26*vg.Centimeter, vg.Length(rows)*8*vg.Centimeter)
	dc := draw.New(c)
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Centimeter, PadY: vg.Centimeter,
		PadTop: vg.Centimeter / 2, PadBottom: vg.Centimeter / 2, PadLeft: vg.Centimeter / 2, PadRight: vg.Centimeter / 2}
	canvases := plot.Align(grid, tiles, dc)
	for i := range grid {
		for j, p := range grid[i] {
			if p != nil {
				p.Draw(canvases[i][j])
			}
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := c.WriteTo(f); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

func (sk *soak) chart(pn panel, loadEnd time.Duration) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = pn.title
	p.X.Label.Text = "minutes"
	p.Y.Min = 0
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())
	ymax := 0.0
	for i, l := range pn.lines {
		var xys plotter.XYs
		node := max(l.node, 0)
		for _, s := range sk.samples {
			if s.node == node {
				v := l.get(s)
				xys = append(xys, plotter.XY{X: s.at.Minutes(), Y: v})
				ymax = max(ymax, v)
			}
		}
		line, err := plotter.NewLine(xys)
		if err != nil {
			return nil, err
		}
		line.Color = plotutil.Color(i)
		line.Width = vg.Points(1)
		if l.node < 0 {
			line.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		}
		p.Add(line)
		p.Legend.Add(l.name, line)
	}
	// Room above the lines for the legend; the marks span the y range.
	p.Y.Max = max(ymax*1.35, 1)
	for _, at := range []time.Duration{sk.cfg.warmup, loadEnd} {
		m, err := plotter.NewLine(plotter.XYs{{X: at.Minutes(), Y: 0}, {X: at.Minutes(), Y: p.Y.Max}})
		if err != nil {
			return nil, err
		}
		m.Color = color.Gray{Y: 150}
		m.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
		p.Add(m)
	}
	return p, nil
}
