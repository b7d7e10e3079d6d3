package bot

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// /liaison stats [period] [route]: the figures of the last period, on one
// route or all, answered privately to the staff who asked.

// The arguments of /liaison stats.
const (
	StatsPeriodArg = "period"
	StatsRouteArg  = "route"
)

var statsArgs = []CommandArg{
	{Name: StatsPeriodArg, Description: "How far back: 24h, 7d (the default), 30d, 4w, week or month", Kind: ArgText},
	{Name: StatsRouteArg, Description: "One route's figures (every route's by default)", Kind: ArgText},
}

const statsHelp = "the figures of the last 7 days (or `24h`, `30d`, `4w`, `week`, `month`), on every route or the one you name: items in, answered, time to a first public answer, approval, SLA, tags, members, responders, and what waits now (responders and approvers)"

// The periods /liaison stats takes.
const (
	DefaultStatsPeriod = 7 * 24 * time.Hour
	MinStatsPeriod     = time.Hour
	MaxStatsPeriod     = 365 * 24 * time.Hour
)

// ErrNotStaff refuses the figures to someone who answers no route.
var ErrNotStaff = &Error{Code: EUNAUTHORIZED, Message: "Sorry, the figures are for the staff who answer the community: the responders and approvers of a route."}

var periodWords = map[string]time.Duration{
	"day":   24 * time.Hour,
	"week":  7 * 24 * time.Hour,
	"month": 30 * 24 * time.Hour,
	"year":  365 * 24 * time.Hour,
}

var periodPattern = regexp.MustCompile(`^(\d{1,5})\s*([hdw])$`)

// ParsePeriod reads a period as people type it: a number of hours, days
// or weeks (24h, 7d, 4w), or day, week (7d), month (30d), year (365d);
// empty is DefaultStatsPeriod. It must be between MinStatsPeriod and
// MaxStatsPeriod.
func ParsePeriod(s string) (time.Duration, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return DefaultStatsPeriod, nil
	}
	if d, ok := periodWords[s]; ok {
		return d, nil
	}
	m := periodPattern.FindStringSubmatch(s)
	if m == nil {
		return 0, Errorf(EINVALID, "Sorry, Liaison cannot read `%s` as a period: give a number of hours, days or weeks (24h, 7d, 4w), or week or month, as in `%s`.", typed(s), usage(ActStats))
	}
	n, _ := strconv.Atoi(m[1])
	unit := map[string]time.Duration{"h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[2]]
	d := time.Duration(n) * unit
	if d < MinStatsPeriod || d > MaxStatsPeriod {
		return 0, Errorf(EINVALID, "Sorry, a period goes from 1h to 365d; `%s` does not.", typed(s))
	}
	return d, nil
}

// typed quotes what a person typed back to them, harmlessly.
func typed(s string) string {
	return clipRunes(strings.ReplaceAll(Sanitize(s), "`", "'"), 40)
}

// isStaff reports whether actor answers the community: an approver or a
// responder of at least one route (where a route names no responders,
// whoever sees its cards is one). Staff may see the figures of every
// route: counts and times, and the oldest waiting public messages.
func (s *Service) isStaff(actor Actor) bool {
	for _, rt := range s.Router.Routes() {
		if IsApprover(&rt, actor) || IsResponder(&rt, actor) {
			return true
		}
	}
	return false
}

// statsQuery reads the arguments of /liaison stats. A lone word that is
// no period but a route's name is taken as the route, as people type it.
func (s *Service) statsQuery(args map[string]string, now time.Time) (StatsQuery, error) {
	period, route := strings.TrimSpace(args[StatsPeriodArg]), strings.TrimSpace(args[StatsRouteArg])
	if route == "" && period != "" && s.Router.Route(period) != nil {
		if _, err := ParsePeriod(period); err != nil {
			period, route = "", period
		}
	}
	d, err := ParsePeriod(period)
	if err != nil {
		return StatsQuery{}, err
	}
	if route != "" && s.Router.Route(route) == nil {
		names := namesOf(s.Router.Routes())
		if len(names) == 0 {
			return StatsQuery{}, Errorf(EINVALID, "Sorry, there is no route `%s`: no route is configured.", typed(route))
		}
		return StatsQuery{}, Errorf(EINVALID, "Sorry, there is no route `%s`. The routes are: %s.", typed(route), strings.Join(names, ", "))
	}
	return StatsQuery{From: now.Add(-d), To: now, Route: route}, nil
}

// StatsLocation is the time zone a report's days are cut in: that of the
// route's business hours, else of the first route that has hours, else
// UTC.
func (s *Service) StatsLocation(route string) *time.Location {
	routes := s.Router.Routes()
	if i := slices.IndexFunc(routes, func(rt Route) bool { return rt.Name == route }); i > 0 {
		routes = slices.Concat(routes[i:i+1], routes)
	}
	for _, rt := range routes {
		if h := rt.Policy.Hours; h != nil && h.Location != nil {
			return h.Location
		}
	}
	return time.UTC
}

// statsShow answers /liaison stats with the figures, privately.
func (s *Service) statsShow(ctx context.Context, req Request) (Reply, error) {
	if !s.isStaff(req.Actor) {
		return Reply{}, ErrNotStaff
	}
	now := s.Clock()
	q, err := s.statsQuery(req.Args, now)
	if err != nil {
		return Reply{}, err
	}
	r, err := s.Stats(ctx, q, s.StatsLocation(q.Route))
	if err != nil {
		return Reply{}, err
	}
	text, links := r.Render()
	return Reply{Text: text, Links: links}, nil
}
