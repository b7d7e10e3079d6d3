package bench

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
	"github.com/liaison-bot/liaison/internal/pause"
)

// A burst: new items, then follow-ups that reply to them, posted at once
// into the world's watched channels. Every message carries a marker, so
// that its card or thread post can be found in the internal Slack.

// planItem is one new public message.
type planItem struct {
	marker  string
	channel int
	root    string    // its Discord message id
	posted  time.Time // when the fake dispatched it
}

// planFollowUp is one reply to an item.
type planFollowUp struct {
	marker string
	item   *planItem
	posted time.Time
}

// plan is what a burst posts.
type plan struct {
	channels  int
	items     []*planItem
	followUps []*planFollowUp
}

// newPlan spreads items over the channels in turn, and follow-ups over
// the items in turn, so that every item of a channel gets its share.
func newPlan(channels, items, followUps int) *plan {
	p := &plan{channels: channels}
	for i := range items {
		p.items = append(p.items, &planItem{marker: fmt.Sprintf("Q%04dx", i), channel: i % channels})
	}
	for j := range followUps {
		if items == 0 {
			break
		}
		p.followUps = append(p.followUps, &planFollowUp{marker: fmt.Sprintf("F%04dx", j), item: p.items[j%items]})
	}
	return p
}

// messages is the number of public messages of the burst.
func (p *plan) messages() int { return len(p.items) + len(p.followUps) }

// busiest is the number of messages of the channel that gets the most.
func (p *plan) busiest() int {
	n := make([]int, p.channels)
	for _, it := range p.items {
		n[it.channel]++
	}
	for _, f := range p.followUps {
		n[f.item.channel]++
	}
	return slices.Max(append(n, 0))
}

// loads is what each channel must receive at least.
func (p *plan) loads() []channelLoad {
	loads := make([]channelLoad, p.channels)
	followed := map[*planItem]bool{}
	for _, f := range p.followUps {
		followed[f.item] = true
	}
	for _, it := range p.items {
		loads[it.channel].cards++
		if followed[it] {
			// In a burst every follow-up waits behind the limit, so each
			// item with follow-ups needs one thread post at least.
			loads[it.channel].threads++
		}
	}
	return loads
}

// post posts the burst into the Discord fake, items first, and returns
// when it started.
func (p *plan) post(w *world) (time.Time, error) {
	start := time.Now()
	for i, it := range p.items {
		m, err := w.discord.Post(memberID(i%members), discordChannel(it.channel),
			it.marker+" Since this morning the export fails with an error 500. Is anyone else seeing this?")
		if err != nil {
			return start, fmt.Errorf("post item %s: %w", it.marker, err)
		}
		it.root, it.posted = m.ID, m.Timestamp
	}
	for j, f := range p.followUps {
		m, err := w.discord.Reply(memberID((j+7)%members), discordChannel(f.item.channel), f.item.root,
			f.marker+" Same here, any news?")
		if err != nil {
			return start, fmt.Errorf("post follow-up %s: %w", f.marker, err)
		}
		f.posted = m.Timestamp
	}
	return start, nil
}

var markerRE = regexp.MustCompile(`[QF]\d{4}x`)

func markers(s string) []string {
	ms := markerRE.FindAllString(s, -1)
	slices.Sort(ms)
	return slices.Compact(ms)
}

// sighting is where and when a marker was seen in the internal Slack.
type sighting struct {
	n  int       // how many posts show it
	at time.Time // the first one's time
	ts string    // the first one's ts
}

func (s *sighting) add(ts string) {
	at := tsTime(ts)
	if s.n == 0 || at.Before(s.at) {
		s.at, s.ts = at, ts
	}
	s.n++
}

// census is what the internal Slack shows of a burst.
type census struct {
	cards  map[string]*sighting // item marker → its cards
	notes  map[string]*sighting // follow-up marker → thread posts of its item's card that show it
	astray map[string]int       // follow-up marker → posts elsewhere that show it
}

// visible counts the items with a card and the follow-ups shown in their
// card's thread.
func (c census) visible() int { return len(c.cards) + len(c.notes) }

// take reads the bot's posts in every channel of the plan. A card is a
// top-level post whose text names the item; a follow-up is visible when
// a reply in its item's card's thread shows its marker (several
// follow-ups may share one post).
func (p *plan) take(f *slackfake.Fake) census {
	c := census{cards: map[string]*sighting{}, notes: map[string]*sighting{}, astray: map[string]int{}}
	byMarker := map[string]*planFollowUp{}
	for _, fu := range p.followUps {
		byMarker[fu.marker] = fu
	}
	for ch := range p.channels {
		msgs := f.Messages(slackChannel(ch))
		var replies []slackfake.Message
		for _, m := range msgs {
			if m.BotID != slackBotID || m.Deleted {
				continue
			}
			if m.ThreadTS != "" && m.ThreadTS != m.TS {
				replies = append(replies, m)
				continue
			}
			for _, mk := range markers(m.Text) {
				switch mk[0] {
				case 'Q':
					s := c.cards[mk]
					if s == nil {
						s = &sighting{}
						c.cards[mk] = s
					}
					s.add(m.TS)
				case 'F':
					c.astray[mk]++
				}
			}
		}
		for _, m := range replies {
			for _, mk := range markers(slackfake.Shown(m)) {
				fu := byMarker[mk]
				if fu == nil {
					continue
				}
				card := c.cards[fu.item.marker]
				if card == nil || card.ts != m.ThreadTS || fu.item.channel != ch {
					c.astray[mk]++
					continue
				}
				s := c.notes[mk]
				if s == nil {
					s = &sighting{}
					c.notes[mk] = s
				}
				s.add(m.TS)
			}
		}
	}
	return c
}

// tsTime reads a Slack ts, "seconds.micros".
func tsTime(ts string) time.Time {
	sec, frac, _ := strings.Cut(ts, ".")
	s, _ := strconv.ParseInt(sec, 10, 64)
	us, _ := strconv.ParseInt((frac + "000000")[:6], 10, 64)
	return time.Unix(s, us*1000)
}

// complete reports whether every item has a card and every follow-up is
// shown in its card's thread.
func (p *plan) complete(c census) bool {
	return p.missing(c) == 0
}

// missing counts the items and follow-ups not visible.
func (p *plan) missing(c census) int {
	n := 0
	for _, it := range p.items {
		if c.cards[it.marker] == nil {
			n++
		}
	}
	for _, f := range p.followUps {
		if c.notes[f.marker] == nil {
			n++
		}
	}
	return n
}

// await waits until the burst is complete, or nothing new has become
// visible for stall, or limit has passed since start. It reports when it
// saw the burst complete (the zero time if it did not).
func (p *plan) await(ctx context.Context, f *slackfake.Fake, start time.Time, stall, limit time.Duration, progress func(visible int)) (time.Time, error) {
	last, lastChange := -1, time.Now()
	nextReport := time.Now().Add(30 * time.Second)
	for {
		c := p.take(f)
		if p.complete(c) {
			return time.Now(), nil
		}
		if v := c.visible(); v != last {
			last, lastChange = v, time.Now()
		}
		if progress != nil && time.Now().After(nextReport) {
			progress(last)
			nextReport = time.Now().Add(30 * time.Second)
		}
		switch {
		case time.Since(lastChange) > stall:
			return time.Time{}, nil
		case time.Since(start) > limit:
			return time.Time{}, nil
		}
		if !pause.For(ctx, 250*time.Millisecond) {
			return time.Time{}, ctx.Err()
		}
	}
}

// burstFigures are the figures of one burst, computed from what the fakes
// show once it is over.
type burstFigures struct {
	complete     bool
	cardsVisible time.Duration // burst start → last card; -1 if some never came
	allVisible   time.Duration // burst start → last card or follow-up; -1 if some never came
	cardWaitP50  time.Duration // each card from its message's post
	noteWaitP50  time.Duration // each follow-up from its post
	posts        int           // successful chat.postMessage calls
	calls        int           // every API call to either fake
	calls429     int
	by429        map[string]int // 429s by Slack method or Discord route
	lost         int            // messages never visible
	duplicated   int            // messages visible more than once
	astray       int            // follow-ups shown elsewhere than their card's thread
}

// figures computes a burst's figures from the census and the calls the
// fakes answered since start.
func (p *plan) figures(c census, slackCalls []slackfake.Call, discordCalls []discordfake.Call, start time.Time) burstFigures {
	var fg burstFigures
	var last, lastCard time.Time
	var cardWaits, noteWaits []time.Duration
	for _, it := range p.items {
		s := c.cards[it.marker]
		switch {
		case s == nil:
			fg.lost++
			continue
		case s.n > 1:
			fg.duplicated++
		}
		lastCard = maxTime(lastCard, s.at)
		cardWaits = append(cardWaits, s.at.Sub(it.posted))
	}
	last = lastCard
	for _, f := range p.followUps {
		s := c.notes[f.marker]
		switch {
		case s == nil:
			fg.lost++
			continue
		case s.n > 1 || c.astray[f.marker] > 0:
			fg.duplicated++
		}
		last = maxTime(last, s.at)
		noteWaits = append(noteWaits, s.at.Sub(f.posted))
	}
	for _, f := range p.followUps {
		if c.astray[f.marker] > 0 {
			fg.astray++
		}
	}
	fg.complete = fg.lost == 0
	fg.cardsVisible, fg.allVisible = -1, -1
	if len(cardWaits) == len(p.items) {
		fg.cardsVisible = lastCard.Sub(start)
	}
	if fg.complete {
		fg.allVisible = last.Sub(start)
	}
	fg.cardWaitP50 = percentile(cardWaits, 50)
	fg.noteWaitP50 = percentile(noteWaits, 50)
	fg.by429 = map[string]int{}
	for _, call := range slackCalls {
		if call.At.Before(start) {
			continue
		}
		fg.calls++
		if call.Status == 429 {
			fg.calls429++
			fg.by429[call.Method]++
		}
		if call.Method == "chat.postMessage" && call.Error == "" {
			fg.posts++
		}
	}
	for _, call := range discordCalls {
		if call.At.Before(start) {
			continue
		}
		fg.calls++
		if call.Status == 429 {
			fg.calls429++
			fg.by429[call.Route]++
		}
	}
	return fg
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
