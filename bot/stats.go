package bot

import (
	"time"
)

// What the community lead and the managers look at: /liaison stats, the
// digest and the dashboard all read these figures, computed one way.

// StatsQuery selects the items a report is about: those opened in
// [From, To), on one route or (Route "") all of them.
type StatsQuery struct {
	From, To time.Time
	Route    string
}

// Length is the period's length; the previous period is the same length,
// just before From.
func (q StatsQuery) Length() time.Duration { return q.To.Sub(q.From) }

// Previous is the period of the same length just before q.
func (q StatsQuery) Previous() StatsQuery {
	return StatsQuery{From: q.From.Add(-q.Length()), To: q.From, Route: q.Route}
}

// Spread is the median and 90th percentile of a set of durations.
type Spread struct {
	N      int // how many durations
	Median time.Duration
	P90    time.Duration
}

// Count is a named count: a tag, a responder.
type Count struct {
	Name string
	N    int
}

// Waiting is an item still waiting for a public answer.
type Waiting struct {
	ItemID   int64
	Route    string
	Summary  string // its first line, sanitised and clipped
	Since    time.Time
	Link     string // the public message
	CardLink string // the internal card
}

// Day is one day of a period (in the report's time zone).
type Day struct {
	Date     time.Time // local midnight
	In       int       // items opened that day
	Answered int       // of those, answered publicly (by the period's end)
	// FirstAnswer is the median time to first public answer of the items
	// opened that day and answered; 0 when none was.
	FirstAnswer time.Duration
}

// Stats are the figures of one period.
type Stats struct {
	Query StatsQuery

	ItemsIn  int // items opened in the period
	Answered int // of those, with a public answer before Query.To
	// FirstAnswer spreads the time from an item's opening to its first
	// public answer, wall-clock; FirstAnswerBusiness the same in its
	// route's business time.
	FirstAnswer         Spread
	FirstAnswerBusiness Spread
	// FirstAnswers are the wall-clock times to first answer, ascending: what
	// the dashboard's distribution is drawn from.
	FirstAnswers []time.Duration
	// Approval spreads the time from a draft's submission to its approval,
	// for the drafts approved in the period.
	Approval Spread
	// PastSLA counts the items of the period answered after their route's
	// SLA (in business time where the route has hours), or still waiting
	// past it at Query.To; WithinSLA those answered in time.
	PastSLA, WithinSLA int
	TopTags            []Count // most used first, at most 5
	// Members is how many community members wrote in the period; Returning
	// how many of them had written before it.
	Members, Returning int
	// Responders ranks the signers of the replies published in the period.
	Responders []Count
	Days       []Day
}

// AnsweredShare is the share of the period's items answered, 0..1.
func (s *Stats) AnsweredShare() float64 {
	if s.ItemsIn == 0 {
		return 0
	}
	return float64(s.Answered) / float64(s.ItemsIn)
}

// Queue is what waits now.
type Queue struct {
	Unanswered       int // items waiting for a public answer
	AwaitingApproval int // drafts waiting for an approver (or their signer)
	PastSLA          int // waiting items past their route's SLA
	// Oldest are the items waiting longest, oldest first (at most 5).
	Oldest []Waiting
	// At is when the queue was read.
	At time.Time
}

// StatsReport is a period's figures beside the previous period's, and the
// queue as it stands.
type StatsReport struct {
	Current, Previous *Stats
	Queue             Queue
	// Location is the time zone days are cut in.
	Location *time.Location
}

// Service.Stats, which computes a report, is in stats_compute.go.
