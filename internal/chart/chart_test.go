package chart

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
)

// week is a report of seven days in Paris, with items and answers.
func week() *bot.StatsReport {
	paris, _ := time.LoadLocation("Europe/Paris")
	from := time.Date(2025, 3, 3, 0, 0, 0, 0, paris)
	r := &bot.StatsReport{Location: paris, Current: &bot.Stats{Query: bot.StatsQuery{From: from, To: from.AddDate(0, 0, 7)}}}
	for i := range 7 {
		d := bot.Day{Date: from.AddDate(0, 0, i), In: 3 + i, Answered: 2 + i%3, FirstAnswer: time.Duration(1+i) * time.Hour}
		r.Current.Days = append(r.Current.Days, d)
		r.Current.ItemsIn += d.In
		r.Current.Answered += d.Answered
	}
	return r
}

// decode checks the chart is a PNG of the documented size and counts its
// pixels of each series' colour.
func decode(t *testing.T, b []byte) map[color.RGBA]int {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("not a PNG: % x…", b[:min(len(b), 8)])
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if got := img.Bounds().Size(); got != (image.Point{X: Width, Y: Height}) {
		t.Fatalf("size %v, want %dx%d", got, Width, Height)
	}
	n := map[color.RGBA]int{}
	rgba := image.NewRGBA(img.Bounds())
	draw.Draw(rgba, rgba.Bounds(), img, image.Point{}, draw.Src)
	for i := 0; i < len(rgba.Pix); i += 4 {
		n[color.RGBA{R: rgba.Pix[i], G: rgba.Pix[i+1], B: rgba.Pix[i+2], A: rgba.Pix[i+3]}]++
	}
	return n
}

func TestPNG(t *testing.T) {
	b, err := PNG(week())
	if err != nil {
		t.Fatal(err)
	}
	n := decode(t, b)
	white := n[color.RGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xff}]
	if white > Width*Height*95/100 {
		t.Errorf("%d of %d pixels are white: the chart looks blank", white, Width*Height)
	}
	// Bars of seven days of several items each, and a line: thousands of
	// pixels of each colour.
	for name, c := range map[string]color.RGBA{"items in": inColor, "answered": answeredColor, "time to first answer": timeColor} {
		if n[c] < 1000 {
			t.Errorf("%d pixels of the %s colour, want the series drawn", n[c], name)
		}
	}
}

// TestPNGMoreItemsMoreInk: the bars grow with the figures.
func TestPNGMoreItemsMoreInk(t *testing.T) {
	small := week()
	big := week()
	for i := range big.Current.Days {
		big.Current.Days[i].Answered = 0
	}
	big.Current.Days[6].In = 100 // one busy day: the others shrink
	bs, err := PNG(small)
	if err != nil {
		t.Fatal(err)
	}
	bb, err := PNG(big)
	if err != nil {
		t.Fatal(err)
	}
	ns, nb := decode(t, bs), decode(t, bb)
	if nb[answeredColor] > 500 { // the legend's swatch only
		t.Errorf("%d answered-colour pixels with nothing answered", nb[answeredColor])
	}
	if nb[timeColor] > 500 {
		t.Errorf("%d time-colour pixels with no answer to time", nb[timeColor])
	}
	if ns[inColor] == nb[inColor] {
		t.Error("different figures drew the same bars")
	}
}

// TestPNGQuietAndLong: a period with no item, and a month of days, still
// draw at the same size.
func TestPNGQuietAndLong(t *testing.T) {
	quiet := week()
	for i := range quiet.Current.Days {
		quiet.Current.Days[i] = bot.Day{Date: quiet.Current.Days[i].Date}
	}
	quiet.Current.ItemsIn, quiet.Current.Answered = 0, 0
	month := week()
	from := month.Current.Days[0].Date
	month.Current.Days = nil
	for i := range 31 {
		month.Current.Days = append(month.Current.Days, bot.Day{Date: from.AddDate(0, 0, i), In: i % 5, Answered: i % 3, FirstAnswer: time.Duration(i) * time.Minute})
	}
	noDays := week()
	noDays.Current.Days = nil
	for name, r := range map[string]*bot.StatsReport{"quiet": quiet, "month": month, "no days": noDays} {
		b, err := PNG(r)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		decode(t, b)
	}
	if _, err := PNG(&bot.StatsReport{}); err == nil {
		t.Error("a report without figures drew a chart")
	}
}
