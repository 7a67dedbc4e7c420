package bench

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"time"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Two plots: benchmarks.png has grouped bars, one group per scenario, of
// the notice lag p95 and the status calls per instance of each scheduler
// (destroy and create, log scales), with the 1 s floor marked; growth.png
// has lines against the number of instances.

var schedulerColors = map[string]color.RGBA{
	Provider: {R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	SCC:      {R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	HW:       {R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	Naive:    {R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
}

var (
	black = color.RGBA{A: 0xff}
	grid  = color.RGBA{R: 0xdd, G: 0xdd, B: 0xdd, A: 0xff}
)

const plotWidth, panelH, margin = 1400, 300, 70

// WritePlot draws the scheduler scenarios as a PNG.
func (r *Report) WritePlot(w io.Writer) error {
	var panels []func(img *image.RGBA, top int)
	for _, op := range []string{OpDestroy, OpCreate} {
		res := r.results(op)
		if len(res) == 0 {
			continue
		}
		panels = append(panels,
			func(img *image.RGBA, top int) {
				barPanel(img, top, op+": notice lag p95 (s, log scale)", res, func(r Result) float64 { return r.LagP95.Seconds() }, nil)
			},
			func(img *image.RGBA, top int) {
				barPanel(img, top, op+": status calls per instance (log scale; black: the 1 s floor)", res,
					func(r Result) float64 { return r.StatusPerInstance }, func(r Result) float64 { return r.Floor })
			})
	}
	img := image.NewRGBA(image.Rect(0, 0, plotWidth, len(panels)*panelH+60))
	draw.Draw(img, img.Bounds(), &image.Uniform{color.White}, image.Point{}, draw.Src)
	for i, p := range panels {
		p(img, 10+i*panelH)
	}
	legend(img, len(panels)*panelH+35, Schedulers, "(RL: under a 20 req/s rate limit)")
	return png.Encode(w, img)
}

// barPanel draws one panel of grouped bars on a log scale from 0.01 to
// 100; floor, when set, marks a value over the provider's bar.
func barPanel(img *image.RGBA, top int, title string, results []Result, value, floor func(Result) float64) {
	var scenarios []Scenario
	val := map[string]map[string]Result{}
	for _, res := range results {
		k := res.Scenario.String()
		if val[k] == nil {
			scenarios = append(scenarios, res.Scenario)
			val[k] = map[string]Result{}
		}
		val[k][res.Scheduler] = res
	}
	plotTop, plotBottom := top+30, top+panelH-40
	left, right := margin, plotWidth-20
	text(img, left, top+18, title, black)
	yOf := logScale(0.01, 100, plotTop, plotBottom)
	for v := 0.01; v <= 100.0001; v *= 10 {
		hline(img, left, right, yOf(v), grid)
		text(img, 5, yOf(v)+4, fmtNum(v), black)
	}
	groupW := float64(right-left) / float64(max(len(scenarios), 1))
	barW := int(groupW / 4)
	for i, sc := range scenarios {
		x0 := left + int(float64(i)*groupW) + barW/2
		for j, s := range Schedulers {
			res, ok := val[sc.String()][s]
			if !ok {
				continue
			}
			fill(img, image.Rect(x0+j*barW, yOf(value(res)), x0+(j+1)*barW-1, plotBottom), schedulerColors[s])
			if floor != nil && s == Provider {
				y := yOf(floor(res))
				fill(img, image.Rect(x0-2, y-1, x0+barW+1, y+1), black)
			}
		}
		label := fmt.Sprintf("%d/p%d/%s", sc.Instances, sc.Parallelism, shortDur(sc.Median))
		if sc.RateLimit > 0 {
			label += "/RL"
		}
		text(img, x0-2, plotBottom+14, label, black)
	}
	hline(img, left, right, plotBottom, black)
}

// WriteGrowthPlot draws the growth runs as a PNG: three panels against
// the number of instances (log scale).
func (r *Report) WriteGrowthPlot(w io.Writer) error {
	img := image.NewRGBA(image.Rect(0, 0, plotWidth, 3*panelH+60))
	draw.Draw(img, img.Bounds(), &image.Uniform{color.White}, image.Point{}, draw.Src)
	series := func(op string, v func(GrowthRow) float64) [][2]float64 {
		var out [][2]float64
		for _, g := range r.Growth {
			if g.Op == op {
				out = append(out, [2]float64{float64(g.Instances), v(g)})
			}
		}
		return out
	}
	destroyColor, refreshColor := schedulerColors[Provider], schedulerColors[SCC]
	linePanel(img, 10, "destroy: wall time / limit (dashed: the 1.03 target)", false, 0.98, 1.1,
		[]line{{series(OpDestroy, func(g GrowthRow) float64 { return g.ratio() }), destroyColor, false}}, 1.03)
	linePanel(img, 10+panelH, "API calls per instance (log scale)", true, 0.001, 100,
		[]line{
			{series(OpDestroy, func(g GrowthRow) float64 { return g.CallsPerInstance }), destroyColor, true},
			{series(OpRefresh, func(g GrowthRow) float64 { return g.CallsPerInstance }), refreshColor, false},
		}, 0)
	peak := 0.0
	for _, g := range r.Growth {
		peak = max(peak, float64(g.PeakRSS)/(1<<20))
	}
	linePanel(img, 10+2*panelH, "peak memory of the provider's side (MiB)", false, 0, math.Max(50, math.Ceil(peak/50)*50),
		[]line{
			{series(OpDestroy, func(g GrowthRow) float64 { return float64(g.PeakRSS) / (1 << 20) }), destroyColor, true},
			{series(OpRefresh, func(g GrowthRow) float64 { return float64(g.PeakRSS) / (1 << 20) }), refreshColor, false},
		}, 0)
	x := margin
	for _, l := range []struct {
		name string
		c    color.RGBA
	}{{"destroy", destroyColor}, {"refresh", refreshColor}} {
		fill(img, image.Rect(x, 3*panelH+35, x+14, 3*panelH+49), l.c)
		text(img, x+20, 3*panelH+47, l.name, black)
		x += 40 + 7*len(l.name)
	}
	text(img, x+20, 3*panelH+47, "x axis: instances (log scale)", black)
	return png.Encode(w, img)
}

type line struct {
	points [][2]float64
	c      color.RGBA
	// thick lines are drawn wider, so that a thin one drawn over them
	// where they meet leaves both visible.
	thick bool
}

// linePanel draws lines against the number of instances, 10 to 10,000 on
// a log scale; target, when positive, is drawn dashed.
func linePanel(img *image.RGBA, top int, title string, logY bool, lo, hi float64, lines []line, target float64) {
	plotTop, plotBottom := top+30, top+panelH-40
	left, right := margin, plotWidth-40
	text(img, left, top+18, title, black)
	yOf := func(v float64) int {
		f := (v - lo) / (hi - lo)
		return plotBottom - int(math.Max(0, math.Min(1, f))*float64(plotBottom-plotTop))
	}
	if logY {
		yOf = logScale(lo, hi, plotTop, plotBottom)
		for v := lo; v <= hi*1.0001; v *= 10 {
			hline(img, left, right, yOf(v), grid)
			text(img, 5, yOf(v)+4, fmtNum(v), black)
		}
	} else {
		for i := range 5 {
			v := lo + (hi-lo)*float64(i)/4
			hline(img, left, right, yOf(v), grid)
			text(img, 5, yOf(v)+4, fmt.Sprintf("%.3g", v), black)
		}
	}
	xOf := func(n float64) int {
		f := (math.Log10(n) - 1) / 3
		return left + 20 + int(f*float64(right-left-40))
	}
	for n := 10.0; n <= 10000; n *= 10 {
		x := xOf(n)
		for y := plotTop; y <= plotBottom; y++ {
			img.Set(x, y, grid)
		}
		text(img, x-12, plotBottom+14, fmt.Sprintf("%.0f", n), black)
	}
	if target > 0 {
		y := yOf(target)
		for x := left; x <= right; x += 8 {
			hline(img, x, x+4, y, black)
		}
	}
	for _, l := range lines {
		r, width := 3, 2
		if l.thick {
			r, width = 6, 6
		}
		for i, p := range l.points {
			x, y := xOf(p[0]), yOf(p[1])
			fill(img, image.Rect(x-r, y-r, x+r+1, y+r+1), l.c)
			if i > 0 {
				segment(img, xOf(l.points[i-1][0]), yOf(l.points[i-1][1]), x, y, width, l.c)
			}
		}
	}
	hline(img, left, right, plotBottom, black)
}

func logScale(lo, hi float64, top, bottom int) func(float64) int {
	return func(v float64) int {
		v = math.Min(math.Max(v, lo), hi)
		f := (math.Log10(v) - math.Log10(lo)) / (math.Log10(hi) - math.Log10(lo))
		return bottom - int(f*float64(bottom-top))
	}
}

func legend(img *image.RGBA, y int, names []string, note string) {
	x := margin
	for _, s := range names {
		fill(img, image.Rect(x, y, x+14, y+14), schedulerColors[s])
		text(img, x+20, y+12, s, black)
		x += 40 + 7*len(s)
	}
	text(img, x+20, y+12, note, black)
}

func shortDur(d time.Duration) string { return fmt.Sprintf("%ds", int(d.Seconds())) }

func fmtNum(v float64) string {
	if v >= 1 {
		return fmt.Sprintf("%g", v)
	}
	return fmt.Sprintf("%.2g", v)
}

func fill(img *image.RGBA, r image.Rectangle, c color.Color) {
	draw.Draw(img, r, &image.Uniform{c}, image.Point{}, draw.Src)
}

func hline(img *image.RGBA, x0, x1, y int, c color.Color) {
	for x := x0; x <= x1; x++ {
		img.Set(x, y, c)
	}
}

// segment draws a straight line, width pixels thick.
func segment(img *image.RGBA, x0, y0, x1, y1, width int, c color.Color) {
	steps := max(abs(x1-x0), abs(y1-y0), 1)
	for i := 0; i <= steps; i++ {
		x := x0 + (x1-x0)*i/steps
		y := y0 + (y1-y0)*i/steps
		for d := range width {
			img.Set(x, y-width/2+d, c)
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func text(img *image.RGBA, x, y int, s string, c color.Color) {
	d := &font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}
