package bot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// How the figures of stats.go are computed. The store reads compact rows
// of one period (Tx.Stats*); everything else is done here, one way for the
// command, the digest and the dashboard.
//
// Definitions:
//   - The items of a period are those opened (CreatedAt) in [From, To), on
//     Query.Route when set. Ignored and closed items count: they were said,
//     in the items in, the tags and the days, and, unanswered, they lower
//     the answered share.
//   - An item is answered when its first public answer (FirstAnsweredAt)
//     came before To. FirstAnswer spreads FirstAnsweredAt − CreatedAt over
//     the answered items; FirstAnswerBusiness the same counted in the
//     business hours of the item's route (wall-clock where it has none, or
//     when the route is no longer configured).
//   - Median and P90 are nearest-rank percentiles of the sorted values:
//     the value at rank ⌈p·N/100⌉ (1-based). With an even count the median
//     is the lower of the two middle values; every figure shown is one
//     that happened.
//   - Approval spreads DecidedAt − CreatedAt (when the draft was submitted)
//     over the drafts a person approved in the period: decided in
//     [From, To) with an approver, and not rejected (a rejection records an
//     approver and a decision time too). Drafts the policy let through
//     without review have no approver and do not count.
//   - SLA: an item of a period on a route with an SLA is within it when
//     answered in at most the SLA (business time where the route has
//     hours), past it when answered later or when, still unanswered at To
//     (or now, if sooner), it had waited longer than the SLA. An item
//     ignored or closed without ever being answered was owed no answer: it
//     is neither, as reminders pass it over too.
//   - Members are the distinct community members (connection, author id)
//     who wrote a message, original or follow-up, in the period; on a
//     route only messages of its items count. Returning members wrote any
//     message before From.
//   - Responders ranks the signers (their public name) of the replies
//     published in the period.
//   - Days are the local days the period touches, in the report's time
//     zone, each with the items opened that day.
//   - The queue is what waits when the report is computed (the service's
//     clock), whatever the period: items waiting for a public answer, and
//     drafts pending or awaiting their signer.

// StatsItem is an item as statistics read it.
type StatsItem struct {
	ID              int64
	Route           string
	Status          ItemStatus
	Tags            []string
	CreatedAt       time.Time
	FirstAnsweredAt *time.Time
}

// StatsApproval is a draft a person approved.
type StatsApproval struct {
	DraftID     int64
	Route       string
	SubmittedAt time.Time // the draft's CreatedAt
	DecidedAt   time.Time
}

const (
	topTagsMax     = 5
	oldestMax      = 5
	summaryMaxRune = 80
)

// Stats computes the report of q (days cut in loc; UTC when nil).
func (s *Service) Stats(ctx context.Context, q StatsQuery, loc *time.Location) (*StatsReport, error) {
	if loc == nil {
		loc = time.UTC
	}
	if !q.To.After(q.From) {
		return nil, Errorf(EINVALID, "A period must end after it starts.")
	}
	now := s.Clock()
	r := &StatsReport{Location: loc}
	err := s.Store.View(ctx, func(tx Tx) (err error) {
		if r.Current, err = s.periodStats(ctx, tx, q, loc, now); err != nil {
			return err
		}
		if r.Previous, err = s.periodStats(ctx, tx, q.Previous(), loc, now); err != nil {
			return err
		}
		r.Queue, err = s.queue(ctx, tx, q.Route, now)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("stats of %s – %s: %w", q.From.Format(time.RFC3339), q.To.Format(time.RFC3339), err)
	}
	return r, nil
}

// policyOf returns the policy of a route; the zero policy (no SLA,
// wall-clock time) for a route no longer configured.
func (s *Service) policyOf(route string) Policy {
	if rt := s.Router.Route(route); rt != nil {
		return rt.Policy
	}
	return Policy{}
}

// periodStats computes the figures of one period. Waiting items are
// judged at q.To, or at now when that is sooner.
func (s *Service) periodStats(ctx context.Context, tx Tx, q StatsQuery, loc *time.Location, now time.Time) (*Stats, error) {
	items, err := tx.StatsItems(ctx, q.From, q.To, q.Route)
	if err != nil {
		return nil, err
	}
	end := q.To
	if now.Before(end) {
		end = now
	}
	st := &Stats{Query: q, ItemsIn: len(items)}
	days, dayIndex := periodDays(q, loc)
	dayWaits := make([][]time.Duration, len(days))
	tags := map[string]int{}
	var wall, business []time.Duration
	for _, it := range items {
		p := s.policyOf(it.Route)
		for _, t := range it.Tags {
			tags[t]++
		}
		day, inDays := dayIndex[dayKey(it.CreatedAt.In(loc))]
		if inDays {
			days[day].In++
		}
		if it.FirstAnsweredAt != nil && it.FirstAnsweredAt.Before(q.To) {
			st.Answered++
			w := max(0, it.FirstAnsweredAt.Sub(it.CreatedAt))
			b := p.Waited(it.CreatedAt, *it.FirstAnsweredAt)
			wall, business = append(wall, w), append(business, b)
			if inDays {
				days[day].Answered++
				dayWaits[day] = append(dayWaits[day], w)
			}
			if p.SLA > 0 {
				if b <= p.SLA {
					st.WithinSLA++
				} else {
					st.PastSLA++
				}
			}
			continue
		}
		owed := it.FirstAnsweredAt != nil || (it.Status != ItemIgnored && it.Status != ItemClosed)
		if p.SLA > 0 && owed && p.Waited(it.CreatedAt, end) > p.SLA {
			st.PastSLA++
		}
	}
	for i := range days {
		days[i].FirstAnswer = spreadOf(dayWaits[i]).Median
	}
	st.Days = days
	st.FirstAnswers = sorted(wall)
	st.FirstAnswer = spreadOf(wall)
	st.FirstAnswerBusiness = spreadOf(business)
	st.TopTags = ranked(tags, topTagsMax)

	approvals, err := tx.StatsApprovals(ctx, q.From, q.To, q.Route)
	if err != nil {
		return nil, err
	}
	var waits []time.Duration
	for _, a := range approvals {
		waits = append(waits, max(0, a.DecidedAt.Sub(a.SubmittedAt)))
	}
	st.Approval = spreadOf(waits)

	responders, err := tx.StatsResponders(ctx, q.From, q.To, q.Route)
	if err != nil {
		return nil, err
	}
	st.Responders = sortCounts(responders)

	st.Members, st.Returning, err = tx.StatsMembers(ctx, q.From, q.To, q.Route)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// queue is what waits at now, on route ("" for all).
func (s *Service) queue(ctx context.Context, tx Tx, route string, now time.Time) (Queue, error) {
	q := Queue{At: now}
	waiting, err := tx.StatsWaiting(ctx, route)
	if err != nil {
		return q, err
	}
	q.Unanswered = len(waiting)
	for _, it := range waiting {
		if p := s.policyOf(it.Route); p.SLA > 0 && p.Waited(it.CreatedAt, now) > p.SLA {
			q.PastSLA++
		}
	}
	if q.AwaitingApproval, err = tx.StatsAwaitingApproval(ctx, route); err != nil {
		return q, err
	}
	for _, w := range waiting[:min(len(waiting), oldestMax)] {
		it, err := tx.Item(ctx, w.ID)
		if err != nil {
			return q, err
		}
		m, err := tx.MessageByKey(ctx, MessageKey{Conn: it.Conn, Channel: rootChannel(it), ID: it.RootMsgID})
		if err != nil && !errors.Is(err, ErrNotFound) {
			return q, err
		}
		text := ""
		if m != nil && m.DeletedAt == nil {
			text = m.Text
		}
		q.Oldest = append(q.Oldest, Waiting{
			ItemID: it.ID, Route: it.Route, Summary: summary(text), Since: it.CreatedAt,
			Link: it.Link, CardLink: it.CardLink,
		})
	}
	return q, nil
}

// summary is the first line of a message, sanitised and clipped.
func summary(text string) string {
	line := []rune(Sanitize(firstLine(text)))
	if len(line) <= summaryMaxRune {
		return string(line)
	}
	return string(line[:summaryMaxRune-1]) + "…"
}

// periodDays lists the local days [From, To) touches, each at its local
// midnight, and indexes them by dayKey. Days are built with time.Date, so
// a day of 23 or 25 hours (a daylight-saving change) is one day.
func periodDays(q StatsQuery, loc *time.Location) ([]Day, map[string]int) {
	from := q.From.In(loc)
	var days []Day
	index := map[string]int{}
	for i := 0; ; i++ {
		d := time.Date(from.Year(), from.Month(), from.Day()+i, 0, 0, 0, 0, loc)
		if !d.Before(q.To) {
			break
		}
		index[dayKey(d)] = len(days)
		days = append(days, Day{Date: d})
	}
	return days, index
}

func dayKey(t time.Time) string { return t.Format(time.DateOnly) }

// spreadOf is the nearest-rank median and 90th percentile of ds.
func spreadOf(ds []time.Duration) Spread {
	if len(ds) == 0 {
		return Spread{}
	}
	s := sorted(ds)
	return Spread{N: len(s), Median: nearestRank(s, 50), P90: nearestRank(s, 90)}
}

// nearestRank is the p-th percentile of sorted s: the value at rank
// ⌈p·N/100⌉.
func nearestRank(s []time.Duration, p int) time.Duration {
	rank := (p*len(s) + 99) / 100
	return s[max(rank, 1)-1]
}

func sorted(ds []time.Duration) []time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s
}

// ranked turns counts into a list, most first then by name, at most n.
func ranked(counts map[string]int, n int) []Count {
	var out []Count
	for name, c := range counts {
		out = append(out, Count{Name: name, N: c})
	}
	out = sortCounts(out)
	return out[:min(len(out), n)]
}

func sortCounts(cs []Count) []Count {
	slices.SortFunc(cs, func(a, b Count) int {
		if c := cmp.Compare(b.N, a.N); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	return cs
}
