package config

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	// The time zone database, for images without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// Hours are a route's business hours: its SLA counts only the time they
// cover.
//
//	hours:
//	  time_zone: Europe/Paris
//	  days: [mon, tue, wed, thu, fri]
//	  start: "09:00"
//	  end: "18:00"
//	  holidays: ["2026-12-25", "2027-01-01"]
type Hours struct {
	TimeZone string   `yaml:"time_zone"`
	Days     []string `yaml:"days"`
	Start    string   `yaml:"start"`
	End      string   `yaml:"end"`
	Holidays []string `yaml:"holidays"`
}

// Parse returns the hours in the form the SLA clock uses: the zone, the
// working days by time.Weekday, and the working hours as the time since
// local midnight. Holidays are kept as written ("2026-12-25"). The error
// is the first problem validation would report.
func (h *Hours) Parse() (loc *time.Location, days [7]bool, start, end time.Duration, err error) {
	v := &validator{}
	v.hours("hours", h)
	if len(v.errs) > 0 {
		return nil, days, 0, 0, v.errs[0]
	}
	loc, _ = loadZone(h.TimeZone)
	for _, s := range h.Days {
		d, _ := weekday(s)
		days[d] = true
	}
	start, _ = clock(h.Start)
	end, _ = clock(h.End)
	return loc, days, start, end, nil
}

// hours validates routes[i].hours.
func (v *validator) hours(key string, h *Hours) {
	if strings.TrimSpace(h.TimeZone) == "" {
		v.add(key+".time_zone", "required: the team's IANA time zone, e.g. Europe/Paris or America/New_York")
	} else if _, err := loadZone(h.TimeZone); err != nil {
		v.addf(key+".time_zone", "%q %s (want an IANA time zone name, e.g. Europe/Paris or America/New_York)", h.TimeZone, err)
	}

	if len(h.Days) == 0 {
		v.add(key+".days", "at least one working day is required, e.g. [mon, tue, wed, thu, fri]")
	}
	seen := map[time.Weekday]int{}
	for i, s := range h.Days {
		dkey := fmt.Sprintf("%s.days[%d]", key, i)
		d, ok := weekday(s)
		if !ok {
			v.addf(dkey, "%q is not a day of the week (want mon, tue, wed, thu, fri, sat or sun)", s)
			continue
		}
		if j, dup := seen[d]; dup {
			v.addf(dkey, "%q is the same day as days[%d] (%q)", s, j, h.Days[j])
			continue
		}
		seen[d] = i
	}

	start, startOK := clock(h.Start)
	end, endOK := clock(h.End)
	switch {
	case h.Start == "":
		v.add(key+".start", `required: when the working day starts, as HH:MM, e.g. "09:00"`)
	case !startOK || start == 24*time.Hour:
		v.addf(key+".start", `%q is not a time of day (want HH:MM from 00:00 to 23:59, e.g. "09:00")`, h.Start)
		startOK = false
	}
	switch {
	case h.End == "":
		v.add(key+".end", `required: when the working day ends, as HH:MM, e.g. "18:00" (or "24:00" for midnight)`)
	case !endOK:
		v.addf(key+".end", `%q is not a time of day (want HH:MM from 00:01 to 24:00, e.g. "18:00")`, h.End)
	case startOK && end <= start:
		v.addf(key+".end", `%q is not after start (%q): a working day ends by midnight (want e.g. start "09:00", end "18:00")`, h.End, h.Start)
	}

	first := map[string]int{}
	for i, s := range h.Holidays {
		hkey := fmt.Sprintf("%s.holidays[%d]", key, i)
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			v.addf(hkey, "%q is not a date (want YYYY-MM-DD, e.g. 2026-12-25)", s)
			continue
		}
		if j, dup := first[s]; dup {
			v.addf(hkey, "%s is already holidays[%d]", s, j)
			continue
		}
		first[s] = i
	}
}

// loadZone loads an IANA time zone. "Local" is refused: it would depend on
// the machine Liaison runs on.
func loadZone(name string) (*time.Location, error) {
	if name == "Local" {
		return nil, errors.New("is this machine's zone, which may change with the host")
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, errors.New("is not a known time zone")
	}
	return loc, nil
}

var dayNames = []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

// weekday reads a day of the week: its first three letters or its full
// name, in any case.
func weekday(s string) (time.Weekday, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for d, name := range dayNames {
		if s == name || s == name[:3] {
			return time.Weekday(d), true
		}
	}
	return 0, false
}

var clockRe = regexp.MustCompile(`^([01]?[0-9]|2[0-3]):([0-5][0-9])$`)

// clock reads "HH:MM" (24-hour, "24:00" for the end of the day; "9:00"
// will do) as the time since midnight.
func clock(s string) (time.Duration, bool) {
	if s == "24:00" {
		return 24 * time.Hour, true
	}
	m := clockRe.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	h, _ := strconv.Atoi(m[1])
	mi, _ := strconv.Atoi(m[2])
	return time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute, true
}
