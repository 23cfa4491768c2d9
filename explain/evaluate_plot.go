package main

// The -evaluate figures, drawn with gonum.org/v1/plot: the mean deletion
// and insertion curves per method, box plots of the AUCs, and the time
// per method.

import (
	"bytes"
	"fmt"
	"image/color"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/mavis-xai/mavis/internal/atomicfile"
)

// figure is one PNG written under figures/.
type figure struct {
	file, title, caption string
}

func writeFigures(dir string, s *evalSummary, recs []*evalRecord) ([]figure, error) {
	var figs []figure
	score := fmt.Sprint(s.Settings["curve_score"])
	for _, kind := range []string{"deletion", "insertion"} {
		p := plot.New()
		p.Title.Text = fmt.Sprintf("Mean %s curve (%d images)", kind, s.Images)
		p.X.Label.Text = "fraction of pixels " + map[string]string{"deletion": "removed", "insertion": "inserted"}[kind]
		p.Y.Label.Text = "class " + score
		p.X.Min, p.X.Max = 0, 1
		if score == "probability" {
			p.Y.Min, p.Y.Max = 0, 1
		}
		p.Add(plotter.NewGrid())
		leg := plot.NewLegend()
		for i, m := range s.Methods {
			curve := m.MeanDeletion
			if kind == "insertion" {
				curve = m.MeanInsertion
			}
			xy := make(plotter.XYs, len(curve))
			for k := range curve {
				xy[k].X, xy[k].Y = m.Fraction[k], curve[k]
			}
			l, err := plotter.NewLine(xy)
			if err != nil {
				return nil, fmt.Errorf("%s curve of %s: %v", kind, m.Method, err)
			}
			l.Color = plotutil.Color(i)
			l.Dashes = plotutil.Dashes(i)
			l.Width = vg.Points(1.5)
			p.Add(l)
			leg.Add(m.Label, l)
		}
		file := "curves_" + kind + ".png"
		if err := savePlotLegendRight(p, &leg, filepath.Join(dir, file), 6*vg.Inch, 4*vg.Inch, 2.2*vg.Inch); err != nil {
			return nil, err
		}
		cap := "Faster fall is better: the pixels the map ranks first are the ones the model needs."
		if kind == "insertion" {
			cap = "Faster rise is better: the pixels the map ranks first suffice for the prediction."
		}
		figs = append(figs, figure{file, "mean " + kind + " curves", cap})
	}

	// Box plots of the deletion and insertion AUCs and their difference.
	p := plot.New()
	p.Title.Text = "AUC per image"
	p.Y.Label.Text = "AUC"
	p.Add(plotter.NewGrid())
	w := vg.Points(18)
	var names []string
	for i, m := range s.Methods {
		names = append(names, m.Label)
		var del, ins, faith plotter.Values
		for _, r := range recs {
			if e := r.Methods[m.Method]; e != nil {
				del = append(del, e.Metrics.Deletion.AUC)
				ins = append(ins, e.Metrics.Insertion.AUC)
				faith = append(faith, e.Metrics.Faithfulness)
			}
		}
		for k, v := range []plotter.Values{del, ins, faith} {
			b, err := plotter.NewBoxPlot(w, float64(i), v)
			if err != nil {
				return nil, fmt.Errorf("box plot of %s: %v", m.Method, err)
			}
			b.Offset = vg.Length(k-1) * (w + vg.Points(3))
			b.FillColor = plotutil.Color(k)
			p.Add(b)
			if i == 0 {
				p.Legend.Add([]string{"deletion", "insertion", "insertion − deletion"}[k], swatch{plotutil.Color(k)})
			}
		}
	}
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.6, float64(len(names))-0.4
	// Room above the data for the legend.
	p.Y.Min = min(p.Y.Min, 0)
	p.Y.Max = max(p.Y.Max, 1) + 0.3*(max(p.Y.Max, 1)-p.Y.Min)
	p.Legend.Top = true
	if err := savePlot(p, filepath.Join(dir, "auc_boxplot.png"), vg.Length(max(6, 1.8*float64(len(names))))*vg.Inch, 4*vg.Inch); err != nil {
		return nil, err
	}
	figs = append(figs, figure{"auc_boxplot.png", "AUC box plots",
		"Per method, left to right: deletion AUC (lower is better), insertion AUC and insertion − deletion (higher is better); boxes span the quartiles."})

	// Means with their intervals.
	fig, err := intervalFigure(dir, s, names)
	if err != nil {
		return nil, err
	}
	figs = append(figs, fig)

	// Time per method (timings.json; not in a figure when unknown).
	if s.Timing == nil {
		return figs, nil
	}
	p = plot.New()
	p.Title.Text = "Time per image"
	p.Y.Label.Text = "seconds"
	var mapT, metT plotter.Values
	for _, m := range s.Methods {
		var mt, et float64
		if t := s.Timing.method(m.Method); t != nil {
			mt, et = t.MapSeconds.Mean, t.MetricsSeconds.Mean
		}
		mapT = append(mapT, mt)
		metT = append(metT, et)
	}
	bw := vg.Points(16)
	for k, v := range []plotter.Values{mapT, metT} {
		b, err := plotter.NewBarChart(v, bw)
		if err != nil {
			return nil, fmt.Errorf("time chart: %v", err)
		}
		b.Color = plotutil.Color(k)
		b.Offset = vg.Length(2*k-1) * bw / 2
		p.Add(b)
		p.Legend.Add([]string{"map", "metrics (deletion + insertion + confidence)"}[k], b)
	}
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.6, float64(len(names))-0.4
	p.Y.Min = 0
	p.Y.Max *= 1.3 // room for the legend
	p.Legend.Top = true
	if err := savePlot(p, filepath.Join(dir, "time.png"), vg.Length(max(5, 1.5*float64(len(names))))*vg.Inch, 4*vg.Inch); err != nil {
		return nil, err
	}
	figs = append(figs, figure{"time.png", "time per method", "Mean seconds per image to compute each map and to score it."})
	return figs, nil
}

// intervalFigure draws each method's mean faithfulness, insertion and
// deletion AUC with its 95% bootstrap interval as an error bar.
func intervalFigure(dir string, s *evalSummary, names []string) (figure, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Means with 95%% bootstrap intervals (%d images)", s.Images)
	p.Y.Label.Text = "AUC"
	p.Add(plotter.NewGrid())
	kinds := []string{"deletion AUC", "insertion AUC", "insertion − deletion"}
	for k := range kinds {
		var pts meanBars
		for i, m := range s.Methods {
			st := []stat{m.Deletion, m.Insertion, m.Faithfulness}[k]
			lo, hi := 0.0, 0.0
			if st.CI != nil {
				lo, hi = st.Mean-st.CI[0], st.CI[1]-st.Mean
			}
			pts.XYs = append(pts.XYs, plotter.XY{X: float64(i) + 0.22*float64(k-1), Y: st.Mean})
			pts.YErrors = append(pts.YErrors, struct{ Low, High float64 }{lo, hi})
		}
		bars, err := plotter.NewYErrorBars(pts)
		if err != nil {
			return figure{}, fmt.Errorf("interval figure: %v", err)
		}
		bars.Color = plotutil.Color(k)
		bars.Width = vg.Points(1.5)
		bars.CapWidth = vg.Points(6)
		dots, err := plotter.NewScatter(pts.XYs)
		if err != nil {
			return figure{}, fmt.Errorf("interval figure: %v", err)
		}
		dots.Color = plotutil.Color(k)
		dots.Shape = plotutil.Shape(k)
		dots.Radius = vg.Points(3)
		p.Add(bars, dots)
		p.Legend.Add(kinds[k], dots)
	}
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.6, float64(len(names))-0.4
	p.Y.Min = min(p.Y.Min, 0)
	p.Y.Max = max(p.Y.Max, 1) + 0.3*(max(p.Y.Max, 1)-p.Y.Min)
	p.Legend.Top = true
	if err := savePlot(p, filepath.Join(dir, "intervals.png"), vg.Length(max(6, 1.8*float64(len(names))))*vg.Inch, 4*vg.Inch); err != nil {
		return figure{}, err
	}
	return figure{"intervals.png", "means with 95% intervals",
		"Per method, left to right: mean deletion AUC (lower is better), insertion AUC and insertion − deletion (higher is better), each with its 95% bootstrap interval over the images. Overlapping intervals do not by themselves mean two methods tie: the paired tests above decide that."}, nil
}

// meanBars is points with asymmetric vertical error bars.
type meanBars struct {
	plotter.XYs
	plotter.YErrors
}

// swatch is a legend entry filled with one colour.
type swatch struct{ c color.Color }

func (s swatch) Thumbnail(c *draw.Canvas) {
	r := c.Rectangle
	c.FillPolygon(s.c, []vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}})
}

// savePlotLegendRight renders p w x h as PNG with the legend leg in a
// column lw wide on its right, where a legend of many lines covers no
// data, and writes it atomically.
func savePlotLegendRight(p *plot.Plot, leg *plot.Legend, path string, w, h, lw vg.Length) error {
	c, err := draw.NewFormattedCanvas(w+lw, h, "png")
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	dc := draw.New(c)
	p.Draw(draw.Crop(dc, 0, -lw, 0, 0))
	leg.Top, leg.Left = true, true
	leg.Draw(draw.Crop(dc, w+vg.Points(6), 0, 0, -vg.Points(24))) // from the top of the data
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return atomicfile.Write(path, buf.Bytes())
}

// savePlot renders p as PNG and writes it atomically.
func savePlot(p *plot.Plot, path string, w, h vg.Length) error {
	wt, err := p.WriterTo(w, h, "png")
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return atomicfile.Write(path, buf.Bytes())
}
