package bench

import (
	"math"
	"slices"
	"time"
)

// The goals a run is checked against.
const (
	// goalMargin is what a burst may take beyond its bound.
	goalMargin = 5 * time.Second
	// goal429Share is the most of a burst's calls that may be answered 429.
	goal429Share = 0.01
	// goalP99 is the most a relayed message may wait, at the 99th
	// percentile, when nothing is rate limited.
	goalP99 = 20 * time.Millisecond
	// goalRSSIdle and goalRSSPeak bound the bot's resident memory.
	goalRSSIdle = 40 << 20
	goalRSSPeak = 150 << 20
	// goalIntakeRatio is the least intake may reach of the raw one-row
	// INSERT's rate when messages arrive concurrently.
	goalIntakeRatio = 1.0
)

// percentile returns the p-th percentile (0 < p ≤ 100) of ds by nearest
// rank: the smallest value that at least p % of the values do not exceed.
// It returns 0 for no values.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	rank = min(max(rank, 1), len(s))
	return s[rank-1]
}

// channelLoad is what one internal channel must receive in a burst.
type channelLoad struct {
	cards   int // one per new item
	threads int // one thread post per item whose follow-ups waited
}

// posts is the number of posts the channel cannot do without: a card per
// item and one merged thread post per item with follow-ups.
func (l channelLoad) posts() int { return l.cards + l.threads }

// slackLimit is a channel's posting limit. Its burst allowance (a few
// posts at once) is left out of the bounds, as the goals define them.
type slackLimit struct {
	perSecond float64
}

// duration is how long n posts take at the limit's rate.
func (l slackLimit) duration(n int) time.Duration {
	return time.Duration(float64(n) / l.perSecond * float64(time.Second))
}

// bounds are the floors a burst is measured against.
type bounds struct {
	cards time.Duration // every card, at the limit
	all   time.Duration // every post that cannot be avoided, at the limit
	posts int           // the posts that cannot be avoided in the busiest channel
}

// burstBounds computes, over the channels of a burst, the longest time
// the limit imposes on their cards alone and on all their unavoidable
// posts: channels are fed in parallel, so the slowest one decides.
func burstBounds(loads []channelLoad, limit slackLimit) bounds {
	var b bounds
	for _, l := range loads {
		b.cards = max(b.cards, limit.duration(l.cards))
		if d := limit.duration(l.posts()); d >= b.all {
			b.all, b.posts = d, l.posts()
		}
	}
	return b
}

// share is part ÷ whole, 0 when whole is 0.
func share(part, whole int) float64 {
	if whole == 0 {
		return 0
	}
	return float64(part) / float64(whole)
}

// within reports whether a measured time meets a goal of bound + margin.
// A burst that never completed (took < 0) meets nothing.
func within(took, bound time.Duration) bool {
	return took >= 0 && took <= bound+goalMargin
}

// ratio is a ÷ b, 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
