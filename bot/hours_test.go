package bot_test

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
)

var (
	weekdays = [7]bool{time.Monday: true, time.Tuesday: true, time.Wednesday: true, time.Thursday: true, time.Friday: true}
	everyDay = [7]bool{true, true, true, true, true, true, true}
)

func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// local is a wall time in loc, "2026-11-27 17:00"; never an ambiguous one.
func local(t testing.TB, loc *time.Location, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// utc is an instant, "2026-03-29 00:30".
func utc(t testing.TB, s string) time.Time { return local(t, time.UTC, s) }

func office(loc *time.Location, holidays ...string) *bot.BusinessHours {
	return &bot.BusinessHours{Location: loc, Days: weekdays, Start: 9 * time.Hour, End: 18 * time.Hour, Holidays: holidays}
}

// night works 01:00 to 04:00 every day, across the hours clocks change.
func night(loc *time.Location) *bot.BusinessHours {
	return &bot.BusinessHours{Location: loc, Days: everyDay, Start: time.Hour, End: 4 * time.Hour}
}

// lateNight works 22:00 to midnight every day.
func lateNight(loc *time.Location) *bot.BusinessHours {
	return &bot.BusinessHours{Location: loc, Days: everyDay, Start: 22 * time.Hour, End: 24 * time.Hour}
}

func TestBusinessHoursElapsed(t *testing.T) {
	paris, ny := zone(t, "Europe/Paris"), zone(t, "America/New_York")
	tokyo, la := zone(t, "Asia/Tokyo"), zone(t, "America/Los_Angeles")
	santiago := zone(t, "America/Santiago")
	p := func(s string) time.Time { return local(t, paris, s) }
	lateShift := &bot.BusinessHours{Location: paris, Days: [7]bool{time.Monday: true}, Start: 22 * time.Hour, End: 24 * time.Hour}
	for _, tc := range []struct {
		name     string
		h        *bot.BusinessHours
		from, to time.Time
		want     time.Duration
	}{
		{"over the weekend", office(paris), p("2026-11-27 17:00"), p("2026-11-30 10:00"), 2 * time.Hour},
		{"within a window", office(paris), p("2026-11-30 10:00"), p("2026-11-30 12:30"), 2*time.Hour + 30*time.Minute},
		{"before to after a window", office(paris), p("2026-11-30 07:00"), p("2026-11-30 20:00"), 9 * time.Hour},
		{"both before the window", office(paris), p("2026-11-30 06:00"), p("2026-11-30 08:00"), 0},
		{"evening to next morning", office(paris), p("2026-11-30 19:00"), p("2026-12-01 08:59"), 0},
		{"from a weekend into a window", office(paris), p("2026-11-28 12:00"), p("2026-11-30 09:01"), time.Minute},
		{"a whole week", office(paris), p("2026-11-30 00:00"), p("2026-12-07 00:00"), 45 * time.Hour},
		{"from after to", office(paris), p("2026-11-30 12:00"), p("2026-11-30 10:00"), 0},
		{"from equals to", office(paris), p("2026-11-30 12:00"), p("2026-11-30 12:00"), 0},
		{"holiday skipped", office(paris, "2026-12-25"), p("2026-12-24 17:00"), p("2026-12-28 10:00"), 2 * time.Hour},
		{"without the holiday", office(paris), p("2026-12-24 17:00"), p("2026-12-28 10:00"), 11 * time.Hour},
		{"holiday on a weekend changes nothing", office(paris, "2026-12-26"), p("2026-12-24 17:00"), p("2026-12-28 10:00"), 11 * time.Hour},
		{"window to midnight", lateShift, p("2026-11-30 23:00"), p("2026-12-01 01:00"), time.Hour},
		{"no location is UTC", &bot.BusinessHours{Days: weekdays, Start: 9 * time.Hour, End: 18 * time.Hour}, utc(t, "2026-11-27 17:00"), utc(t, "2026-11-30 10:00"), 2 * time.Hour},
		{"no working day", &bot.BusinessHours{Location: paris, Start: 9 * time.Hour, End: 18 * time.Hour}, p("2026-11-01 00:00"), p("2026-12-01 00:00"), 0},

		// The same instants, Monday 00:00 to 20:00 UTC: Monday 09:00 to
		// Tuesday 05:00 in Tokyo, Sunday 16:00 to Monday 12:00 in Los Angeles.
		{"Tokyo", office(tokyo), utc(t, "2026-11-30 00:00"), utc(t, "2026-11-30 20:00"), 9 * time.Hour},
		{"Los Angeles", office(la), utc(t, "2026-11-30 00:00"), utc(t, "2026-11-30 20:00"), 3 * time.Hour},

		// Paris, 2026-03-29: 02:00 CET becomes 03:00 CEST (01:00 UTC).
		{"Paris spring forward: window an hour shorter", night(paris), p("2026-03-29 00:00"), p("2026-03-30 00:00"), 2 * time.Hour},
		{"Paris spring forward: Saturday and Sunday", night(paris), p("2026-03-28 00:00"), p("2026-03-30 00:00"), 5 * time.Hour},
		{"Paris spring forward: across the change", night(paris), utc(t, "2026-03-29 00:30"), utc(t, "2026-03-29 01:30"), time.Hour},
		{"Paris spring forward: office hours unchanged", &bot.BusinessHours{Location: paris, Days: everyDay, Start: 9 * time.Hour, End: 18 * time.Hour},
			p("2026-03-28 12:00"), p("2026-03-30 12:00"), 18 * time.Hour},
		{"Paris spring forward: start skipped begins at the change", &bot.BusinessHours{Location: paris, Days: everyDay, Start: 2*time.Hour + 30*time.Minute, End: 4 * time.Hour},
			utc(t, "2026-03-28 23:00"), utc(t, "2026-03-29 12:00"), time.Hour},
		// Paris, 2026-10-25: 03:00 CEST becomes 02:00 CET (01:00 UTC).
		{"Paris fall back: window an hour longer", night(paris), p("2026-10-25 00:00"), p("2026-10-26 00:00"), 4 * time.Hour},
		{"Paris fall back: the repeated hour counts twice", night(paris), utc(t, "2026-10-25 00:00"), utc(t, "2026-10-25 02:00"), 2 * time.Hour},
		{"Paris fall back: ambiguous start is its first occurrence", &bot.BusinessHours{Location: paris, Days: everyDay, Start: 2*time.Hour + 30*time.Minute, End: 4 * time.Hour},
			utc(t, "2026-10-24 22:00"), utc(t, "2026-10-25 12:00"), 2*time.Hour + 30*time.Minute},
		// New York, 2026-03-08: 02:00 EST becomes 03:00 EDT (07:00 UTC).
		{"New York spring forward", night(ny), local(t, ny, "2026-03-08 00:00"), local(t, ny, "2026-03-09 00:00"), 2 * time.Hour},
		{"New York spring forward: window entirely skipped", &bot.BusinessHours{Location: ny, Days: everyDay, Start: 2*time.Hour + 10*time.Minute, End: 2*time.Hour + 50*time.Minute},
			local(t, ny, "2026-03-07 00:00"), local(t, ny, "2026-03-10 00:00"), 80 * time.Minute},
		// New York, 2026-11-01: 02:00 EDT becomes 01:00 EST (06:00 UTC).
		{"New York fall back", night(ny), local(t, ny, "2026-11-01 00:00"), local(t, ny, "2026-11-02 00:00"), 4 * time.Hour},
		{"New York fall back: ambiguous start", &bot.BusinessHours{Location: ny, Days: everyDay, Start: 90 * time.Minute, End: 4 * time.Hour},
			utc(t, "2026-11-01 00:00"), utc(t, "2026-11-01 12:00"), 3*time.Hour + 30*time.Minute},

		// Santiago turns clocks back at Saturday 2026-04-04 24:00, to
		// 23:00, and forward at Saturday 2026-09-05 24:00, to 01:00.
		{"Santiago: back at midnight", lateNight(santiago), local(t, santiago, "2026-04-03 00:00"), local(t, santiago, "2026-04-07 00:00"), 9 * time.Hour},
		{"Santiago: forward at midnight", lateNight(santiago), local(t, santiago, "2026-09-04 00:00"), local(t, santiago, "2026-09-08 00:00"), 8 * time.Hour},
		{"Santiago: skipped midnight starts at the change", &bot.BusinessHours{Location: santiago, Days: everyDay, End: 2 * time.Hour},
			local(t, santiago, "2026-09-05 12:00"), local(t, santiago, "2026-09-07 00:00"), time.Hour},

		// 2026: 261 weekdays, 4 of them holidays (25 December written
		// twice, 9 May a Saturday): 257 days of 9 hours.
		{"a year of office hours", office(paris, "2026-01-01", "2026-05-01", "2026-05-09", "2026-07-14", "2026-12-25", "2026-12-25"),
			p("2026-01-01 00:00"), p("2027-01-01 00:00"), 2313 * time.Hour},
		// 365 nights of 3 hours, one shorter and one longer.
		{"a year of nights across both changes", night(ny), local(t, ny, "2026-01-01 00:00"), local(t, ny, "2027-01-01 00:00"), 1095 * time.Hour},
		{"a year of UTC", office(time.UTC), utc(t, "2026-01-01 00:00"), utc(t, "2027-01-01 00:00"), 261 * 9 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.h.Elapsed(tc.from, tc.to); got != tc.want {
				t.Errorf("Elapsed(%s, %s) = %s, want %s", tc.from, tc.to, got, tc.want)
			}
		})
	}
}

func TestBusinessHoursAdd(t *testing.T) {
	paris := zone(t, "Europe/Paris")
	p := func(s string) time.Time { return local(t, paris, s) }
	year := office(paris, "2026-01-01", "2026-05-01", "2026-07-14", "2026-12-25")
	for _, tc := range []struct {
		name string
		h    *bot.BusinessHours
		from time.Time
		d    time.Duration
		want time.Time
	}{
		{"over the weekend", office(paris), p("2026-11-27 17:00"), 2 * time.Hour, p("2026-11-30 10:00")},
		{"ends at the window's end, not the next start", office(paris), p("2026-11-27 17:00"), time.Hour, p("2026-11-27 18:00")},
		{"zero is from itself, even off hours", office(paris), p("2026-11-28 12:00"), 0, p("2026-11-28 12:00")},
		{"negative is from itself", office(paris), p("2026-11-30 12:00"), -time.Hour, p("2026-11-30 12:00")},
		{"a nanosecond off hours", office(paris), p("2026-11-28 12:00"), time.Nanosecond, p("2026-11-30 09:00").Add(time.Nanosecond)},
		{"a whole week", office(paris), p("2026-11-30 09:00"), 45 * time.Hour, p("2026-12-04 18:00")},
		{"holiday skipped", office(paris, "2026-12-25"), p("2026-12-24 17:00"), 2 * time.Hour, p("2026-12-28 10:00")},
		{"a year of office hours", year, p("2026-01-01 00:00"), 2313 * time.Hour, p("2026-12-31 18:00")},
		{"Paris spring forward", night(paris), p("2026-03-29 00:00"), 90 * time.Minute, utc(t, "2026-03-29 01:30")},
		{"Santiago: to the second midnight", lateNight(zone(t, "America/Santiago")), local(t, zone(t, "America/Santiago"), "2026-04-03 00:00"), 5 * time.Hour, utc(t, "2026-04-05 04:00")},
		{"Paris fall back", night(paris), p("2026-10-25 00:00"), 3*time.Hour + 30*time.Minute, utc(t, "2026-10-25 02:30")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.h.Add(tc.from, tc.d); !got.Equal(tc.want) {
				t.Errorf("Add(%s, %s) = %s, want %s", tc.from, tc.d, got, tc.want)
			}
		})
	}

	t.Run("no working day ends", func(t *testing.T) {
		start := time.Now()
		for _, h := range []*bot.BusinessHours{
			{Location: paris, Start: 9 * time.Hour, End: 18 * time.Hour},
			{Location: paris, Days: weekdays, Start: 18 * time.Hour, End: 9 * time.Hour},
		} {
			if got := h.Add(p("2026-11-30 12:00"), time.Hour); got.Year() < 9999 {
				t.Errorf("Add with no working time = %s, want the year 9999", got)
			}
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("took %s", d)
		}
	})
}

func TestBusinessHoursNil(t *testing.T) {
	var h *bot.BusinessHours
	from := utc(t, "2026-11-28 12:00")
	if got := h.Elapsed(from, from.Add(90*time.Minute)); got != 90*time.Minute {
		t.Errorf("Elapsed = %s, want 1h30m0s", got)
	}
	if got := h.Elapsed(from, from.Add(-time.Hour)); got != 0 {
		t.Errorf("Elapsed backwards = %s, want 0", got)
	}
	if got := h.Add(from, 90*time.Minute); !got.Equal(from.Add(90 * time.Minute)) {
		t.Errorf("Add = %s", got)
	}
	var p bot.Policy
	if got := p.Waited(from, from.Add(time.Hour)); got != time.Hour {
		t.Errorf("Policy.Waited without hours = %s, want 1h0m0s", got)
	}
	p.Hours = office(time.UTC)
	if got := p.Waited(from, from.Add(time.Hour)); got != 0 {
		t.Errorf("Policy.Waited on a Saturday = %s, want 0", got)
	}
}

// randomHours are hours in a zone that changes clocks (or not), with
// random days, a random window and a few holidays.
func randomHours(r *rand.Rand, locs []*time.Location) *bot.BusinessHours {
	h := &bot.BusinessHours{Location: locs[r.Intn(len(locs))]}
	for !slices.Contains(h.Days[:], true) {
		for i := range h.Days {
			h.Days[i] = r.Intn(3) > 0
		}
	}
	step := []time.Duration{time.Minute, 15 * time.Minute, time.Hour}[r.Intn(3)]
	a, b := time.Duration(r.Intn(int(24*time.Hour/step)+1))*step, time.Duration(r.Intn(int(24*time.Hour/step)+1))*step
	for a == b {
		b = time.Duration(r.Intn(int(24*time.Hour/step)+1)) * step
	}
	h.Start, h.End = min(a, b), max(a, b)
	for range r.Intn(4) {
		h.Holidays = append(h.Holidays, time.Date(2026, 1, 1+r.Intn(730), 0, 0, 0, 0, time.UTC).Format(time.DateOnly))
	}
	return h
}

// randomInstant lies in 2026 or 2027, often near a clock change.
func randomInstant(r *rand.Rand) time.Time {
	if r.Intn(2) == 0 {
		changes := []string{"2026-03-08", "2026-03-29", "2026-10-25", "2026-11-01", "2027-03-14", "2027-03-28", "2027-10-31", "2027-11-07", "2026-04-05", "2026-10-04", "2026-09-06"}
		d, _ := time.Parse(time.DateOnly, changes[r.Intn(len(changes))])
		return d.Add(time.Duration(r.Int63n(int64(72*time.Hour))) - 36*time.Hour)
	}
	return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.Int63n(int64(2 * 365 * 24 * time.Hour))))
}

func testZones(t testing.TB) []*time.Location {
	var locs []*time.Location
	for _, name := range []string{"Europe/Paris", "America/New_York", "Asia/Tokyo", "America/Los_Angeles", "UTC",
		"Australia/Lord_Howe", "America/Santiago", "Australia/Sydney"} {
		locs = append(locs, zone(t, name))
	}
	return locs
}

// TestBusinessHoursAddInvertsElapsed: Add(from, d) is the earliest instant
// at which Elapsed reaches d, and Elapsed adds up over consecutive spans,
// short or long.
func TestBusinessHoursAddInvertsElapsed(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	locs := testZones(t)
	for i := range 3000 {
		h := randomHours(r, locs)
		from := randomInstant(r)
		var d time.Duration
		switch r.Intn(3) {
		case 0:
			d = time.Duration(r.Int63n(int64(12 * time.Hour)))
		case 1:
			d = time.Duration(r.Int63n(int64(300 * time.Hour)))
		default:
			d = time.Duration(r.Int63n(int64(3000 * time.Hour)))
		}
		desc := fmt.Sprintf("case %d: %+v in %s, from %s, d %s", i, *h, h.Location, from, d)
		to := h.Add(from, d)
		if got := h.Elapsed(from, to); got != d {
			t.Fatalf("%s: Add = %s, Elapsed to it = %s", desc, to, got)
		}
		if d > 0 && h.Elapsed(from, to.Add(-time.Nanosecond)) >= d {
			t.Fatalf("%s: Add = %s is not the earliest", desc, to)
		}
		mid := from.Add(time.Duration(r.Int63n(int64(to.Sub(from)) + 1)))
		if a, b := h.Elapsed(from, mid), h.Elapsed(mid, to); a+b != d {
			t.Fatalf("%s: Elapsed to %s is %s, from there %s: sum %s", desc, mid, a, b, a+b)
		}
		if got := h.Add(mid, h.Elapsed(mid, to)); got.After(to) {
			t.Fatalf("%s: Add(mid, Elapsed(mid, to)) = %s, after %s", desc, got, to)
		}
	}
}

// TestBusinessHoursMatchesMinuteCount compares Elapsed with counting, a
// minute at a time, the minutes whose local time is in a working window;
// the two agree whenever the window does not start or end in an hour that
// clocks skip or repeat.
func TestBusinessHoursMatchesMinuteCount(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	locs := []*time.Location{zone(t, "Europe/Paris"), zone(t, "America/New_York"), zone(t, "Asia/Tokyo"), zone(t, "America/Los_Angeles")}
	for i := range 150 {
		h := randomHours(r, locs)
		if h.Start > 0 && h.Start < 4*time.Hour || h.End > 0 && h.End < 4*time.Hour {
			h.Start, h.End = h.Start+4*time.Hour, min(h.End+4*time.Hour, 24*time.Hour)
		}
		from := randomInstant(r).Truncate(time.Minute)
		to := from.Add(time.Duration(r.Intn(4*24*60)) * time.Minute)
		var want time.Duration
		for m := from; m.Before(to); m = m.Add(time.Minute) {
			l := m.In(h.Location)
			since := time.Duration(l.Hour())*time.Hour + time.Duration(l.Minute())*time.Minute
			if h.Days[l.Weekday()] && !slices.Contains(h.Holidays, l.Format(time.DateOnly)) && since >= h.Start && since < h.End {
				want += time.Minute
			}
		}
		if got := h.Elapsed(from, to); got != want {
			t.Fatalf("case %d: %+v in %s, %s to %s: Elapsed = %s, minute count %s", i, *h, h.Location, from, to, got, want)
		}
	}
}

// TestBusinessHoursLongSpanFast: a year, and a century, take no time.
func TestBusinessHoursLongSpanFast(t *testing.T) {
	h := office(zone(t, "America/New_York"), "2026-12-25")
	from := utc(t, "2026-01-01 00:00")
	start := time.Now()
	for range 100 {
		h.Elapsed(from, from.AddDate(1, 0, 0))
		h.Add(from, 2000*time.Hour)
	}
	h.Elapsed(from, from.AddDate(100, 0, 0))
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("100 one-year spans and a century took %s", d)
	}
}
