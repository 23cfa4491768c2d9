package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/mavis-xai/mavis/internal/atomicfile"
)

var historyHeader = []string{"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds"}

// encodeHistory writes the history as CSV, Keras's CSVLogger columns (an
// empty field where there was no validation data).
func encodeHistory(w io.Writer, h []Record) error {
	cw := csv.NewWriter(w)
	cw.Write(historyHeader)
	f := func(v float64) string {
		if math.IsNaN(v) {
			return ""
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	for _, r := range h {
		cw.Write([]string{strconv.Itoa(r.Epoch), f(r.Loss), f(r.Acc), f(r.ValLoss), f(r.ValAcc), strconv.FormatFloat(r.Seconds, 'f', 1, 64)})
	}
	cw.Flush()
	return cw.Error()
}

// decodeHistory reads what encodeHistory wrote.
func decodeHistory(data string) ([]Record, error) {
	rows, err := csv.NewReader(strings.NewReader(data)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("train: history: %v", err)
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != strings.Join(historyHeader, ",") {
		return nil, fmt.Errorf("train: history: want header %v", historyHeader)
	}
	var h []Record
	for i, row := range rows[1:] {
		var v [6]float64
		for j, s := range row {
			if s == "" {
				v[j] = math.NaN()
				continue
			}
			if v[j], err = strconv.ParseFloat(s, 64); err != nil {
				return nil, fmt.Errorf("train: history row %d: %v", i+1, err)
			}
		}
		h = append(h, Record{Epoch: int(v[0]), Loss: v[1], Acc: v[2], ValLoss: v[3], ValAcc: v[4], Seconds: v[5]})
	}
	return h, nil
}

// writeAtomic writes data to path through a synced temporary file in the
// same directory and a rename (internal/atomicfile).
func writeAtomic(path string, data []byte) error {
	if err := atomicfile.Write(path, data); err != nil {
		return fmt.Errorf("train: %v", err)
	}
	return nil
}

// writeHistory writes history.csv atomically.
func writeHistory(path string, h []Record) error {
	var b bytes.Buffer
	if err := encodeHistory(&b, h); err != nil {
		return err
	}
	return writeAtomic(path, b.Bytes())
}

// plotCurves draws accuracy (left) and loss (right) against the epoch,
// training and validation, side by side as the original's notebook did,
// and returns the PNG.
func plotCurves(h []Record, title string) ([]byte, error) {
	acc, vacc, loss, vloss := plotter.XYs{}, plotter.XYs{}, plotter.XYs{}, plotter.XYs{}
	for _, r := range h {
		x := float64(r.Epoch)
		acc = append(acc, plotter.XY{X: x, Y: r.Acc})
		loss = append(loss, plotter.XY{X: x, Y: r.Loss})
		if !math.IsNaN(r.ValLoss) {
			vacc = append(vacc, plotter.XY{X: x, Y: r.ValAcc})
			vloss = append(vloss, plotter.XY{X: x, Y: r.ValLoss})
		}
	}
	panel := func(name string, tr, va plotter.XYs) (*plot.Plot, error) {
		p := plot.New()
		p.Title.Text = title + ": " + name
		p.X.Label.Text = "epoch"
		p.Y.Label.Text = name
		p.Add(plotter.NewGrid())
		for i, s := range []struct {
			label string
			xy    plotter.XYs
		}{{"train", tr}, {"validation", va}} {
			if len(s.xy) == 0 {
				continue
			}
			l, pts, err := plotter.NewLinePoints(s.xy)
			if err != nil {
				return nil, fmt.Errorf("train: plot: %v", err)
			}
			c := plotColors[i]
			l.Color, pts.Color = c, c
			pts.Radius = vg.Points(2)
			p.Add(l, pts)
			p.Legend.Add(s.label, l, pts)
		}
		p.Legend.Top = name == "loss" // where the rising and falling curves leave room
		return p, nil
	}
	pa, err := panel("accuracy", acc, vacc)
	if err != nil {
		return nil, err
	}
	pl, err := panel("loss", loss, vloss)
	if err != nil {
		return nil, err
	}
	img := vgimg.New(vg.Points(720), vg.Points(300))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Points(16), PadTop: vg.Points(6), PadBottom: vg.Points(6), PadLeft: vg.Points(6), PadRight: vg.Points(6)}
	cs := plot.Align([][]*plot.Plot{{pa, pl}}, tiles, dc)
	pa.Draw(cs[0][0])
	pl.Draw(cs[0][1])
	var b bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&b); err != nil {
		return nil, fmt.Errorf("train: plot: %v", err)
	}
	return b.Bytes(), nil
}

// plotColors are matplotlib's first two default colours (train, validation).
var plotColors = []color.Color{color.RGBA{0x1f, 0x77, 0xb4, 0xff}, color.RGBA{0xff, 0x7f, 0x0e, 0xff}}
