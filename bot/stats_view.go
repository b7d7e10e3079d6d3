package bot

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// How a report reads: a title naming the period, one line a figure with
// its change from the previous period, then what waits now. The same words
// answer /liaison stats and make the digest.

// Render words the report for people, as plain text with "•" bullets and
// no platform markup, and lists the oldest waiting items as links (to
// their card, else to the public message), which the text announces last.
func (r *StatsReport) Render() (string, []Link) {
	cur, prev := r.Current, r.Previous
	if cur == nil {
		cur = &Stats{}
	}
	if prev == nil {
		prev = &Stats{}
	}
	loc := r.Location
	if loc == nil {
		loc = time.UTC
	}
	q := cur.Query
	name := periodName(q.Length())
	scope := "all routes"
	if q.Route != "" {
		scope = "route " + Sanitize(q.Route)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "📊 Last %s (%s), %s", name, periodDates(q, loc), scope)
	line := func(format string, args ...any) {
		b.WriteString("\n• ")
		fmt.Fprintf(&b, format, args...)
	}

	line("Items in: %d (%s vs previous %s)", cur.ItemsIn, countDelta(cur.ItemsIn, prev.ItemsIn), name)
	if cur.ItemsIn == 0 {
		line("Answered: no item to answer")
	} else {
		pct := percent(cur)
		change := ""
		if prev.ItemsIn > 0 {
			change = fmt.Sprintf(" (%s pts)", countDelta(pct, percent(prev)))
		}
		line("Answered: %d, %d%%%s", cur.Answered, pct, change)
	}
	line("First public answer: %s", spreadText(cur.FirstAnswer, prev.FirstAnswer))
	if cur.FirstAnswerBusiness != cur.FirstAnswer || prev.FirstAnswerBusiness != prev.FirstAnswer {
		line("In business time: %s", spreadText(cur.FirstAnswerBusiness, prev.FirstAnswerBusiness))
	}
	if cur.Approval.N > 0 {
		line("Approval: %s, %d approved", spreadText(cur.Approval, prev.Approval), cur.Approval.N)
	} else {
		line("Approval: %s", spreadText(cur.Approval, prev.Approval))
	}
	if cur.PastSLA+cur.WithinSLA+prev.PastSLA+prev.WithinSLA > 0 {
		line("Past SLA: %d (%s), %d within", cur.PastSLA, countDelta(cur.PastSLA, prev.PastSLA), cur.WithinSLA)
	}
	line("Top tags: %s", countsText(cur.TopTags, topTagsMax, "none"))
	line("Members: %d (%s), %d returning", cur.Members, countDelta(cur.Members, prev.Members), cur.Returning)
	line("Responders: %s", countsText(cur.Responders, respondersShown, "no reply published"))
	w := r.Queue
	line("Waiting now: %d unanswered, %d awaiting approval, %d past SLA", w.Unanswered, w.AwaitingApproval, w.PastSLA)

	var links []Link
	if len(w.Oldest) > 0 {
		b.WriteString("\nOldest waiting:")
		for _, it := range w.Oldest {
			label := fmt.Sprintf("#%d", it.ItemID)
			if it.Summary != "" {
				label += " “" + it.Summary + "”"
			}
			if !w.At.IsZero() {
				label += " · waiting " + shortDuration(w.At.Sub(it.Since))
			}
			links = append(links, Link{Text: label, URL: firstOf(it.CardLink, it.Link)})
		}
	}
	return b.String(), links
}

// FormatStats is the report as plain text, for any channel: Render's text
// with its links written "label (url)", one a line.
func FormatStats(r *StatsReport) string {
	text, links := r.Render()
	var b strings.Builder
	b.WriteString(text)
	for _, l := range links {
		b.WriteString("\n  – ")
		b.WriteString(l.Text)
		if l.URL != "" {
			b.WriteString(" (" + l.URL + ")")
		}
	}
	return b.String()
}

// percent is the answered share, rounded to a whole percent.
func percent(s *Stats) int { return int(math.Round(s.AnsweredShare() * 100)) }

// periodName names a period's length: "7 days", "24 hours", "hour".
func periodName(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d >= 2*day && d%day == 0:
		return fmt.Sprintf("%d days", d/day)
	case d == time.Hour:
		return "hour"
	case d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	}
	return shortDuration(d)
}

// periodDates says when a period was, in loc: its days ("22 Nov – 29 Nov",
// the last day the one To falls in, or ends with), or, for a period
// shorter than two days, its times ("28 Nov 14:00 – 29 Nov 14:00 UTC").
func periodDates(q StatsQuery, loc *time.Location) string {
	from := q.From.In(loc)
	if q.Length() < 48*time.Hour {
		to := q.To.In(loc)
		return from.Format("2 Jan 15:04") + " – " + to.Format("2 Jan 15:04 MST")
	}
	last := q.To.Add(-time.Nanosecond).In(loc)
	layout := "2 Jan"
	if from.Year() != last.Year() {
		layout = "2 Jan 2006"
	}
	return from.Format(layout) + " – " + last.Format(layout)
}

// spreadText says a spread and how it changed: "median 2h10m (−15m), p90
// 9h (+1h)"; changes only when the previous period had values too.
func spreadText(cur, prev Spread) string {
	if cur.N == 0 {
		return "none in the period"
	}
	change := func(c, p time.Duration) string {
		if prev.N == 0 {
			return ""
		}
		return " (" + durationDelta(c-p) + ")"
	}
	return fmt.Sprintf("median %s%s, p90 %s%s",
		shortDuration(cur.Median), change(cur.Median, prev.Median), shortDuration(cur.P90), change(cur.P90, prev.P90))
}

// respondersShown bounds the responders a report names, so that it fits
// a platform's message however large the team.
const respondersShown = 8

// countsText lists the first n counts as "billing 5, login 3", and says
// how many more there are; none when empty.
func countsText(cs []Count, n int, none string) string {
	if len(cs) == 0 {
		return none
	}
	var parts []string
	for _, c := range cs[:min(len(cs), n)] {
		name := strings.TrimSpace(Sanitize(c.Name))
		if name == "" {
			name = "(no name)"
		}
		parts = append(parts, fmt.Sprintf("%s %d", name, c.N))
	}
	if more := len(cs) - n; more > 0 {
		parts = append(parts, fmt.Sprintf("and %d more", more))
	}
	return strings.Join(parts, ", ")
}

// countDelta is a change in a count: "+8", "−3", "±0".
func countDelta(cur, prev int) string {
	switch d := cur - prev; {
	case d > 0:
		return fmt.Sprintf("+%d", d)
	case d < 0:
		return fmt.Sprintf("−%d", -d)
	}
	return "±0"
}

// durationDelta is a change in a duration: "+1h", "−15m", "±0".
func durationDelta(d time.Duration) string {
	switch {
	case d >= time.Minute:
		return "+" + shortDuration(d)
	case d <= -time.Minute:
		return "−" + shortDuration(-d)
	}
	return "±0"
}

// shortDuration writes a duration as people read it at a glance: "<1m",
// "45m", "2h10m", "3d4h" (minutes rounded away past a day).
func shortDuration(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d <= 0:
		return "0m"
	case d < time.Minute:
		return "<1m"
	}
	if m := d.Round(time.Minute); m < day {
		h, min := int(m/time.Hour), int(m%time.Hour/time.Minute)
		switch {
		case h == 0:
			return fmt.Sprintf("%dm", min)
		case min == 0:
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%02dm", h, min)
	}
	h := d.Round(time.Hour)
	days, hours := int(h/day), int(h%day/time.Hour)
	if hours == 0 {
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd%dh", days, hours)
}
