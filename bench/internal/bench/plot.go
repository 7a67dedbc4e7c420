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

// The plot has two panels of grouped bars, one group per scenario: the
// notice lag p95, and the status calls per instance, each on a log scale,
// for the provider and the two baselines.

var schedulerColors = map[string]color.RGBA{
	Provider: {R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	SCC:      {R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	HW:       {R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
}

// WritePlot draws the destroy results as a PNG.
func (r *Report) WritePlot(w io.Writer) error {
	var scenarios []Scenario
	seen := map[string]bool{}
	val := map[string]map[string]Result{}
	for _, res := range r.Destroys {
		k := res.Scenario.String()
		if !seen[k] {
			seen[k] = true
			scenarios = append(scenarios, res.Scenario)
			val[k] = map[string]Result{}
		}
		val[k][res.Scheduler] = res
	}
	const width, panelH, margin = 1400, 330, 70
	img := image.NewRGBA(image.Rect(0, 0, width, 2*panelH+90))
	draw.Draw(img, img.Bounds(), &image.Uniform{color.White}, image.Point{}, draw.Src)

	panel := func(top int, title string, lo, hi float64, value func(Result) float64, format func(float64) string) {
		plotTop, plotBottom := top+30, top+panelH-40
		left, right := margin, width-20
		text(img, left, top+18, title, color.Black)
		yOf := func(v float64) int {
			v = math.Max(v, lo)
			f := (math.Log10(v) - math.Log10(lo)) / (math.Log10(hi) - math.Log10(lo))
			return plotBottom - int(f*float64(plotBottom-plotTop))
		}
		for v := lo; v <= hi*1.0001; v *= 10 {
			y := yOf(v)
			hline(img, left, right, y, color.RGBA{R: 0xdd, G: 0xdd, B: 0xdd, A: 0xff})
			text(img, 5, y+4, format(v), color.Black)
		}
		groupW := float64(right-left) / float64(len(scenarios))
		barW := int(groupW / 4)
		for i, sc := range scenarios {
			x0 := left + int(float64(i)*groupW) + barW/2
			for j, s := range Schedulers {
				res, ok := val[sc.String()][s]
				if !ok {
					continue
				}
				y := yOf(value(res))
				fill(img, image.Rect(x0+j*barW, y, x0+(j+1)*barW-1, plotBottom), schedulerColors[s])
			}
			label := fmt.Sprintf("%d/p%d/%s", sc.Instances, sc.Parallelism, shortDur(sc.Delete))
			if sc.RateLimit > 0 {
				label += "/RL"
			}
			text(img, x0-2, plotBottom+14, label, color.Black)
		}
		hline(img, left, right, plotBottom, color.Black)
	}
	panel(10, "notice lag p95 (s, log scale)", 0.01, 100, func(r Result) float64 { return r.LagP95.Seconds() }, fmtNum)
	panel(10+panelH, "status calls per deleted instance (log scale)", 0.01, 100, func(r Result) float64 { return r.StatusPerInstance }, fmtNum)

	x := margin
	for _, s := range Schedulers {
		fill(img, image.Rect(x, 2*panelH+50, x+14, 2*panelH+64), schedulerColors[s])
		text(img, x+20, 2*panelH+62, s, color.Black)
		x += 40 + 7*len(s)
	}
	text(img, x+20, 2*panelH+62, "(RL: under a 20 req/s rate limit)", color.Black)
	return png.Encode(w, img)
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

func text(img *image.RGBA, x, y int, s string, c color.Color) {
	d := &font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}
