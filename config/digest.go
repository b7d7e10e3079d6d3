package config

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Digest is a statistics post on a schedule, with a chart.
//
//	digests:
//	  - name: weekly
//	    schedule: "0 9 * * MON"
//	    time_zone: Europe/Paris
//	    destination: {connection: internal-slack, channel: C0LEADS}
//	    routes: [billing]   # optional: all routes when left out
type Digest struct {
	Name        string      `yaml:"name"`
	Schedule    string      `yaml:"schedule"`
	TimeZone    string      `yaml:"time_zone"`
	Destination Destination `yaml:"destination"`
	Routes      []string    `yaml:"routes"`
}

// MinDigestInterval is the shortest time a digest schedule may leave
// between two posts: a schedule that fires every minute of an hour
// ("* 9 * * MON") is a common slip that would flood a channel.
const MinDigestInterval = time.Hour

// Plan returns when the digest fires, in its time zone (UTC when none is
// set). The config must have been validated.
func (d Digest) Plan() (cron.Schedule, *time.Location, error) {
	loc, err := digestLocation(d.TimeZone)
	if err != nil {
		return nil, nil, err
	}
	s, err := digestSchedule(d.Schedule)
	if err != nil {
		return nil, nil, err
	}
	return s, loc, nil
}

func digestLocation(tz string) (*time.Location, error) {
	switch tz {
	case "", "UTC":
		return time.UTC, nil
	case "Local":
		// time.Local is the machine's zone: replicas could disagree.
		return nil, errors.New(`"Local" depends on the machine Liaison runs on`)
	}
	return time.LoadLocation(tz)
}

// digestSchedule parses a standard five-field cron expression, or a
// descriptor that stands for one (@daily, @weekly…).
func digestSchedule(spec string) (cron.Schedule, error) {
	spec = strings.TrimSpace(spec)
	switch {
	case spec == "":
		return nil, errors.New("empty")
	case strings.HasPrefix(spec, "CRON_TZ=") || strings.HasPrefix(spec, "TZ="):
		return nil, errors.New("sets a time zone: the digest's time_zone key does that")
	case strings.HasPrefix(spec, "@every"):
		return nil, errors.New("@every counts from whenever Liaison started, not from the clock")
	case !strings.HasPrefix(spec, "@") && len(strings.Fields(spec)) != 5:
		return nil, fmt.Errorf("has %d fields, not 5 (minute hour day-of-month month day-of-week)", len(strings.Fields(spec)))
	}
	return cron.ParseStandard(spec)
}

// digests validates the digests section.
func (v *validator) digests() {
	first := map[string]int{}
	routes := map[string]bool{}
	var routeNames []string
	for _, r := range v.c.Routes {
		if !routes[r.Name] {
			routes[r.Name] = true
			routeNames = append(routeNames, r.Name)
		}
	}
	for i, d := range v.c.Digests {
		key := fmt.Sprintf("digests[%d]", i)
		switch j, dup := first[d.Name]; {
		case d.Name == "":
			v.add(key+".name", "required: a short name for the digest, e.g. weekly")
		case !nameRe.MatchString(d.Name) || len(d.Name) > 40:
			v.addf(key+".name", "%q is not a valid name (want at most 40 lowercase letters, digits and -, e.g. weekly)", d.Name)
		case dup:
			v.addf(key+".name", "%q is already the name of digests[%d]", d.Name, j)
		default:
			first[d.Name] = i
		}

		loc, err := digestLocation(d.TimeZone)
		if err != nil {
			v.addf(key+".time_zone", "%q is not a time zone Liaison knows: %v (want an IANA name, e.g. Europe/Paris, or leave it out for UTC)", d.TimeZone, err)
			loc = time.UTC
		}
		if d.Schedule == "" {
			v.add(key+".schedule", `required: when to post, as a cron expression (minute hour day-of-month month day-of-week), e.g. "0 9 * * MON" for Mondays at 9:00`)
		} else if s, err := digestSchedule(d.Schedule); err != nil {
			v.addf(key+".schedule", `%q is not a cron expression Liaison takes: %v (want minute hour day-of-month month day-of-week, e.g. "0 9 * * MON" for Mondays at 9:00)`, d.Schedule, err)
		} else if p := scheduleProblem(s, time.Now().In(loc)); p != "" {
			v.addf(key+".schedule", "%q %s", d.Schedule, p)
		}

		v.destination(key+".destination", d.Destination, false)

		seen := map[string]bool{}
		for k, r := range d.Routes {
			rkey := fmt.Sprintf("%s.routes[%d]", key, k)
			switch {
			case !routes[r]:
				v.addf(rkey, "no route named %q (%s)", r, known("route", routeNames))
			case seen[r]:
				v.addf(rkey, "route %q is listed twice", r)
			}
			seen[r] = true
		}
	}
}

// scheduleProblem says what is wrong with when s fires, looking from now:
// never, or twice within MinDigestInterval.
func scheduleProblem(s cron.Schedule, now time.Time) string {
	prev := s.Next(now)
	if prev.IsZero() {
		return "never fires (no such date within five years; want e.g. \"0 9 1 * *\" for the first of each month)"
	}
	// Two weeks of firings show the shortest gap of any schedule that
	// fires more often than hourly on some day of the week.
	for n := 0; n < 1000 && prev.Sub(now) < 15*24*time.Hour; n++ {
		next := s.Next(prev)
		if next.IsZero() {
			break
		}
		if next.Sub(prev) < MinDigestInterval {
			return fmt.Sprintf("fires at %s and again at %s: a digest may post at most once an hour (a * in the minute field means every minute; want e.g. \"0 9 * * MON\")",
				prev.Format("Mon 15:04"), next.Format("15:04"))
		}
		prev = next
	}
	return ""
}
