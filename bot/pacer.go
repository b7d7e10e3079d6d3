package bot

import (
	"strings"
	"sync"
	"time"
)

// Limit is the pace a platform allows in one rate-limit bucket: Burst calls
// at once, then one every Every. The zero Limit is no limit.
type Limit struct {
	Every time.Duration
	Burst int
}

// Limited reports whether l limits anything.
func (l Limit) Limited() bool { return l.Every > 0 }

// Limits are a connection's documented limits, which the worker schedules
// its calls within rather than discover them by failing.
type Limits struct {
	// Post paces the calls that create a message in one channel (a card,
	// a note, a draft card, a public reply): Slack's posting limit of about
	// one message a second per channel, Discord's per-channel bucket.
	Post Limit
	// Global paces every call of the connection (Discord's 50 requests a
	// second per bot).
	Global Limit
	// Home paces the publications of people's Homes (Slack's views.publish,
	// limited per workspace), in a bucket of their own (HomeBucket).
	Home Limit
}

// Paced is implemented by platforms with limits to schedule within.
type Paced interface {
	Limits() Limits
}

// ChannelBucket is the bucket of the posts in one channel of conn.
func ChannelBucket(conn, channel string) string { return conn + "/" + channel }

// EditBucket is the bucket of conn's calls that change or delete a message;
// only a 429 holds it.
func EditBucket(conn string) string { return conn + "/edits" }

// HomeBucket is the bucket of conn's publications of people's Homes.
func HomeBucket(conn string) string { return conn + "/home" }

// GlobalBucket is the bucket of every call of conn.
func GlobalBucket(conn string) string { return conn + "/*" }

// Pacer schedules platform calls within their buckets' limits, so that a
// call waits for its slot instead of being refused. Each bucket is a
// generic cell rate algorithm: one timestamp per bucket, the theoretical
// arrival time of the next call at the bucket's pace. What a platform says
// (a 429's Retry-After, Discord's X-RateLimit-Remaining of 0 until
// X-RateLimit-Reset-After) holds a bucket until then.
//
// A Pacer is per process. Replicas sharing a database each pace their own
// calls: together they may exceed a limit, and then the platform's 429
// holds the bucket in the replica that met it, which waits it out.
type Pacer struct {
	clock Clock
	mu    sync.Mutex
	b     map[string]*paceBucket
}

type paceBucket struct {
	tat  time.Time // theoretical arrival time of the next call
	hold time.Time // nothing goes before this
}

// NewPacer returns a Pacer reading time from clock (SystemClock if nil).
func NewPacer(clock Clock) *Pacer {
	if clock == nil {
		clock = SystemClock
	}
	return &Pacer{clock: clock, b: map[string]*paceBucket{}}
}

// Now is the time the pacer keeps: holds are given in it.
func (p *Pacer) Now() time.Time { return p.clock() }

func (p *Pacer) bucket(key string) *paceBucket {
	b := p.b[key]
	if b == nil {
		b = &paceBucket{}
		p.b[key] = b
	}
	return b
}

// next is when b's next call may go at pace l, not before now.
func (b *paceBucket) next(l Limit, now time.Time) time.Time {
	at := now
	if l.Limited() {
		tau := l.step() * time.Duration(max(l.Burst, 1)-1)
		if t := b.tat.Add(-tau); t.After(at) {
			at = t
		}
	}
	if b.hold.After(at) {
		at = b.hold
	}
	return at
}

// Reserve takes the next slot of each bucket, at its limit, and returns
// when the call may go: the latest of the slots, now at the earliest; and
// the bucket that holds it back ("" when it may go now).
func (p *Pacer) Reserve(buckets map[string]Limit) (at time.Time, by string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock()
	at = now
	for key, l := range buckets {
		if t := p.bucket(key).next(l, now); t.After(at) {
			at, by = t, key
		}
	}
	for key, l := range buckets {
		if !l.Limited() {
			continue
		}
		b := p.bucket(key)
		if at.After(b.tat) {
			b.tat = at
		}
		b.tat = b.tat.Add(l.step())
	}
	return at, by
}

// step is the spacing of calls at pace l: a hundredth wider than the limit,
// so that the jitter of their way to the platform does not make two of
// them arrive closer than it allows.
func (l Limit) step() time.Duration { return l.Every + l.Every/100 }

// Next reports when a call in bucket key, at pace l, could go if reserved
// now; now itself when it could go at once.
func (p *Pacer) Next(key string, l Limit) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock()
	b, ok := p.b[key]
	if !ok {
		return now
	}
	return b.next(l, now)
}

// Hold keeps every call of bucket key from going before until; after it,
// calls go at the bucket's pace, one at a time, whatever its burst.
func (p *Pacer) Hold(key string, until time.Time, l Limit) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.bucket(key)
	if until.After(b.hold) {
		b.hold = until
	}
	tat := until
	if l.Limited() {
		tat = until.Add(l.step() * time.Duration(max(l.Burst, 1)-1))
	}
	if tat.After(b.tat) {
		b.tat = tat
	}
}

// Busy lists the buckets of conn's channels with no slot free now, at
// pace l, and reports whether conn's global bucket has none (at pace
// global), and the earliest time one of them frees.
func (p *Pacer) Busy(conn string, l, global Limit) (channels []string, all bool, free time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock()
	prefix := conn + "/"
	for key, b := range p.b {
		if !strings.HasPrefix(key, prefix) {
			continue
		}
		lim := l
		if key == GlobalBucket(conn) {
			lim = global
		}
		t := b.next(lim, now)
		if !t.After(now) {
			continue
		}
		if free.IsZero() || t.Before(free) {
			free = t
		}
		if key == GlobalBucket(conn) {
			all = true
		} else {
			channels = append(channels, strings.TrimPrefix(key, prefix))
		}
	}
	return channels, all, free
}

// Forget drops the buckets that have been idle since before now: their
// state no longer holds anything back.
func (p *Pacer) Forget() {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clock()
	for key, b := range p.b {
		if !b.tat.After(now) && !b.hold.After(now) {
			delete(p.b, key)
		}
	}
}
