package bot

import (
	"slices"
	"time"
)

// BusinessHours is when a route's team works: some days of the week, the
// same hours each of those days, in one time zone, holidays excepted. A
// route without them counts wall-clock time. SLAs, reminders and
// escalations count business time; statistics give both.
//
// A working day's window runs from the first moment its local clock shows
// Start to the first moment it shows End, and counts the real time in
// between: when clocks go forward inside the window it is an hour shorter,
// when they go back an hour longer. A Start or End that the change skips
// is the moment of the change.
type BusinessHours struct {
	Location *time.Location
	// Days are the working days, by time.Weekday.
	Days [7]bool
	// Start and End are the working hours of each working day, as the
	// time since local midnight (9h, 17h30m); Start < End.
	Start, End time.Duration
	// Holidays are local dates ("2026-12-25") that are not worked.
	Holidays []string
}

const day24 = 24 * time.Hour

// idleLimit bounds how many days Add looks at without finding business
// time before it gives up.
const idleLimit = 3 * 366

// never is what Add returns when no business time lies ahead.
func never() time.Time { return time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC) }

// Elapsed is the business time between from and to (0 when to is not
// after from). A nil BusinessHours counts wall-clock time.
func (h *BusinessHours) Elapsed(from, to time.Time) time.Duration {
	if h == nil {
		return max(0, to.Sub(from))
	}
	if !to.After(from) || h.Start >= h.End {
		return 0
	}
	var total time.Duration
	day := h.firstDay(from)
	for {
		midnight := h.instant(day)
		if !midnight.Before(to) {
			return total
		}
		// Whole days after from and before to, in one UTC offset, all
		// count the same: add them up without looking at each.
		if !midnight.Before(from) {
			if n := h.wholeDays(day, midnight, to); n > 0 {
				total += time.Duration(h.workdays(day, n)) * (h.End - h.Start)
				day = day.AddDate(0, 0, n)
				continue
			}
		}
		if start, end, ok := h.window(day); ok {
			start, end = later(start, from), earlier(end, to)
			if end.After(start) {
				total += end.Sub(start)
			}
		}
		day = day.AddDate(0, 0, 1)
	}
}

// Add is the instant when d of business time has passed since from. A nil
// BusinessHours adds wall-clock time.
//
// It is the earliest instant t with Elapsed(from, t) == d: from itself when
// d is not positive, the very end of a window rather than the start of the
// next one. Hours without any working time give a time in the year 9999.
func (h *BusinessHours) Add(from time.Time, d time.Duration) time.Time {
	if h == nil {
		return from.Add(d)
	}
	if d <= 0 {
		return from
	}
	week := time.Duration(h.perWeek()) * (h.End - h.Start)
	if week <= 0 {
		return never()
	}
	left := d
	idle := 0 // days looked at since the last business time
	day := h.firstDay(from)
	for {
		midnight := h.instant(day)
		if !midnight.Before(from) {
			// Skip whole weeks that surely end before d is used up.
			n := min(h.wholeDays(day, midnight, time.Time{}), 7*int((left-1)/week))
			if n > 0 {
				left -= time.Duration(h.workdays(day, n)) * (h.End - h.Start)
				day = day.AddDate(0, 0, n)
				idle = 0
				continue
			}
		}
		if start, end, ok := h.window(day); ok {
			start = later(start, from)
			if end.After(start) {
				if avail := end.Sub(start); left <= avail {
					return start.Add(left)
				} else {
					left -= avail
				}
				idle = 0
			}
		}
		if idle++; idle > idleLimit {
			return never()
		}
		day = day.AddDate(0, 0, 1)
	}
}

// The methods below work on local dates written as UTC midnights ("naive"
// dates): UTC has no daylight saving, so AddDate steps one calendar day
// and Add steps wall-clock time within it.

func (h *BusinessHours) loc() *time.Location {
	if h.Location == nil {
		return time.UTC
	}
	return h.Location
}

// firstDay is the naive local date before the one of t: no window of an
// earlier day reaches t.
func (h *BusinessHours) firstDay(t time.Time) time.Time {
	y, m, d := t.In(h.loc()).Date()
	return time.Date(y, m, d-1, 0, 0, 0, 0, time.UTC)
}

// window is the working window of the naive local date day, if it is a
// working day.
func (h *BusinessHours) window(day time.Time) (start, end time.Time, ok bool) {
	if !h.Days[day.Weekday()] || h.holiday(day) {
		return time.Time{}, time.Time{}, false
	}
	return h.instant(day.Add(h.Start)), h.instant(day.Add(h.End)), true
}

func (h *BusinessHours) holiday(day time.Time) bool {
	return len(h.Holidays) > 0 && slices.Contains(h.Holidays, day.Format(time.DateOnly))
}

// instant is the first moment the local clock shows the naive wall time
// or later: an ambiguous time (clocks went back) is its first occurrence,
// a skipped one (clocks went forward) the moment of the change.
func (h *BusinessHours) instant(wall time.Time) time.Time {
	loc := h.loc()
	// The offset in force is one of those 15h either side: offsets lie
	// between -12h and +14h.
	_, before := wall.Add(-15 * time.Hour).In(loc).Zone()
	_, after := wall.Add(15 * time.Hour).In(loc).Zone()
	if before == after {
		return wall.Add(-time.Duration(before) * time.Second)
	}
	var first time.Time
	found := false
	for _, off := range [...]int{before, after} {
		t := wall.Add(-time.Duration(off) * time.Second)
		if _, o := t.In(loc).Zone(); o == off && (!found || t.Before(first)) {
			first, found = t, true
		}
	}
	if found {
		return first
	}
	// Skipped: the clock jumped from before it to after it when the
	// offset in force at the earlier reading ended.
	t := wall.Add(-time.Duration(max(before, after)) * time.Second)
	if _, end := t.In(loc).ZoneBounds(); !end.IsZero() {
		return end
	}
	return t
}

// wholeDays is how many whole days, from the naive date day on, lie
// within the UTC offset in force at its midnight, and end before limit
// (if not zero). Those days' windows are Start to End exactly.
func (h *BusinessHours) wholeDays(day, midnight, limit time.Time) int {
	if l := midnight.In(h.loc()); l.Day() != day.Day() || l.Hour() != 0 || l.Minute() != 0 || l.Second() != 0 || l.Nanosecond() != 0 {
		return 0 // midnight was skipped
	}
	_, end := midnight.In(h.loc()).ZoneBounds()
	if end.IsZero() || (!limit.IsZero() && limit.Before(end)) {
		end = limit
	}
	if end.IsZero() {
		return 1 << 30
	}
	// The last day's next midnight is strictly before end: a change at
	// that very moment could move it.
	return int((end.Sub(midnight) - 1) / day24)
}

// workdays is how many of the n days from the naive date day on are
// working days, holidays excepted.
func (h *BusinessHours) workdays(day time.Time, n int) int {
	c := n / 7 * h.perWeek()
	for i := range n % 7 {
		if h.Days[(int(day.Weekday())+i)%7] {
			c++
		}
	}
	end := day.AddDate(0, 0, n)
	for i, s := range h.Holidays {
		if slices.Contains(h.Holidays[:i], s) {
			continue
		}
		d, err := time.Parse(time.DateOnly, s)
		if err == nil && !d.Before(day) && d.Before(end) && h.Days[d.Weekday()] {
			c--
		}
	}
	return c
}

// perWeek is how many working days a week has.
func (h *BusinessHours) perWeek() int {
	n := 0
	for _, w := range h.Days {
		if w {
			n++
		}
	}
	return n
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
