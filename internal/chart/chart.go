// Package chart draws the digest's chart from a statistics report: a PNG
// of the items in and answered each day, above the median time to a first
// public answer of each day's items, in hours. It uses gonum's plot with
// its embedded Liberation fonts, so no system font is needed.
package chart

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/liaison-bot/liaison/bot"
)

// The image's size in pixels.
const (
	Width  = 1000
	Height = 500
)

// dpi sizes the text: 96 dots per inch, as screens are commonly taken to
// have, makes a 10-point label 13 pixels high.
const dpi = 96

// maxLabels bounds the day labels under the axis; with more days, every
// few days is named.
const maxLabels = 16

var (
	inColor       = color.RGBA{R: 0x4c, G: 0x78, B: 0xa8, A: 0xff} // blue
	answeredColor = color.RGBA{R: 0x54, G: 0xa2, B: 0x4b, A: 0xff} // green
	timeColor     = color.RGBA{R: 0xe4, G: 0x57, B: 0x56, A: 0xff} // red
)

// PNG draws r's current period as a Width×Height PNG.
func PNG(r *bot.StatsReport) ([]byte, error) {
	if r == nil || r.Current == nil {
		return nil, errors.New("chart: no figures")
	}
	days := r.Current.Days
	loc := r.Location
	if loc == nil {
		loc = time.UTC
	}
	labels := dayLabels(days)

	counts := plot.New()
	counts.Title.Text = "Items in and answered, per day"
	counts.Y.Label.Text = "items"
	counts.Legend.Top = true
	frame(counts, len(days), labels)

	times := plot.New()
	times.Title.Text = "Median time to a first public answer, per day"
	times.Y.Label.Text = "hours"
	times.X.Label.Text = "day (" + loc.String() + ")"
	times.Legend.Top = true
	frame(times, len(days), labels)

	if len(days) > 0 {
		in, answered := make(plotter.Values, len(days)), make(plotter.Values, len(days))
		var points plotter.XYs
		most := 0
		for i, d := range days {
			in[i], answered[i] = float64(d.In), float64(d.Answered)
			most = max(most, d.In, d.Answered)
			if d.Answered > 0 && d.FirstAnswer > 0 {
				points = append(points, plotter.XY{X: float64(i), Y: d.FirstAnswer.Hours()})
			}
		}
		// Two bars a day fill 70% of the day's width.
		width := vg.Points(float64(plotWidth()) / float64(len(days)) * 0.35)
		inBars, err := plotter.NewBarChart(in, width)
		if err != nil {
			return nil, fmt.Errorf("chart: %w", err)
		}
		inBars.Color, inBars.LineStyle.Width, inBars.Offset = inColor, 0, -width/2
		ansBars, err := plotter.NewBarChart(answered, width)
		if err != nil {
			return nil, fmt.Errorf("chart: %w", err)
		}
		ansBars.Color, ansBars.LineStyle.Width, ansBars.Offset = answeredColor, 0, width/2
		counts.Add(inBars, ansBars)
		counts.Legend.Add("in", inBars)
		counts.Legend.Add("answered", ansBars)
		counts.Y.Min, counts.Y.Max = 0, float64(max(most, 1))*1.3 // room for the legend

		if len(points) > 0 {
			line, dots, err := plotter.NewLinePoints(points)
			if err != nil {
				return nil, fmt.Errorf("chart: %w", err)
			}
			line.Color, line.Width = timeColor, vg.Points(2)
			dots.Color, dots.Shape, dots.Radius = timeColor, draw.CircleGlyph{}, vg.Points(3)
			times.Add(line, dots)
			times.Legend.Add("median", line, dots)
			top := 0.0
			for _, p := range points {
				top = max(top, p.Y)
			}
			times.Y.Min, times.Y.Max = 0, top*1.3
		} else {
			times.Y.Min, times.Y.Max = 0, 1
		}
	} else {
		counts.Y.Min, counts.Y.Max = 0, 1
		times.Y.Min, times.Y.Max = 0, 1
	}

	canvas := vgimg.NewWith(vgimg.UseWH(points(Width), points(Height)), vgimg.UseDPI(dpi))
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadX: vg.Millimeter, PadY: 3 * vg.Millimeter,
		PadTop: 2 * vg.Millimeter, PadBottom: 2 * vg.Millimeter, PadLeft: 2 * vg.Millimeter, PadRight: 4 * vg.Millimeter}
	cells := plot.Align([][]*plot.Plot{{counts}, {times}}, tiles, draw.New(canvas))
	counts.Draw(cells[0][0])
	times.Draw(cells[1][0])

	var b bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: canvas}).WriteTo(&b); err != nil {
		return nil, fmt.Errorf("chart: encode png: %w", err)
	}
	return b.Bytes(), nil
}

// points is a length in pixels as the canvas measures it.
func points(px int) vg.Length { return vg.Length(px) * vg.Inch / dpi }

// plotWidth is roughly the width of a panel's drawing area, in points:
// the image less the axis labels.
func plotWidth() vg.Length { return points(Width) - vg.Points(90) }

// frame sets a panel's x axis: one slot per day, labelled below.
func frame(p *plot.Plot, n int, labels []string) {
	if n > 0 {
		p.NominalX(labels...)
	}
	p.X.Min, p.X.Max = -0.5, float64(max(n, 1))-0.5
	p.Add(plotter.NewGrid())
}

// dayLabels names the days under the axis, every few days when there
// are many.
func dayLabels(days []bot.Day) []string {
	step := (len(days) + maxLabels - 1) / maxLabels
	labels := make([]string, len(days))
	for i, d := range days {
		if i%max(step, 1) == 0 {
			labels[i] = d.Date.Format("Mon 2 Jan")
		}
	}
	return labels
}
