package bot

import (
	"strings"
	"sync"
	"time"
)

// limited records a 429: the platform's Retry-After holds the bucket the
// call was in, so that no other call of that bucket is refused meanwhile:
// its channel's posts, the connection's edits and deletions (Slack's
// chat.update is limited per workspace), its publications of Homes, or with
// a global 429 every call of the connection.
func (w *Worker) limited(j *OutboxJob, se *SendError, until time.Time) {
	l := w.limits(j.Conn)
	key, lim := bucketOf(j, l)
	if se.Global {
		key, lim = GlobalBucket(j.Conn), l.Global
	}
	label := string(j.Kind)
	if key != "" {
		w.svc.Pacer.Hold(key, until, lim)
		label = bucketLabel(j.Conn, key)
	}
	w.svc.Metrics.RateLimited(j.Conn, label)
	w.svc.Log.Info("rate limited", "conn", j.Conn, "bucket", label, "retry_after", se.After, "job", j.ID, "kind", j.Kind)
}

// bucketLabel names a bucket of conn in logs and metrics: a channel's id,
// or "*" for the whole connection.
func bucketLabel(conn, key string) string { return strings.TrimPrefix(key, conn+"/") }

// waitLog counts the calls that waited for their slot, per bucket, and
// says in the log when a bucket starts making calls wait and when it has
// caught up, rather than once per call.
type waitLog struct {
	mu   sync.Mutex
	open map[string]*waitSpell
}

type waitSpell struct {
	since  time.Time
	calls  int
	waited time.Duration
}

// saw records the slot at that job j reserved in buckets (by: the one that
// set it, "" when it was free). Most of a job's wait for its slot is spent
// pending, skipped by claims while its bucket is busy: it waited for the
// limit when its slot came later after it was due (RunAt) than the
// bucket's pace alone would make a call wait.
func (l *waitLog) saw(s *Service, j *OutboxJob, buckets map[string]Limit, by string, at time.Time) {
	key := by
	if key == "" {
		key = GlobalBucket(j.Conn)
		if _, ok := buckets[ChannelBucket(j.Conn, j.Channel)]; ok {
			key = ChannelBucket(j.Conn, j.Channel)
		}
	}
	waited := at.Sub(j.RunAt)
	if waited <= max(buckets[key].step(), minWait) {
		waited = 0
	}
	if waited > 0 {
		s.Metrics.RateWait(j.Conn, bucketLabel(j.Conn, key), waited)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open == nil {
		l.open = map[string]*waitSpell{}
	}
	sp := l.open[key]
	switch {
	case waited > 0:
		if sp == nil {
			sp = &waitSpell{since: s.Clock()}
			l.open[key] = sp
			s.Log.Info("rate limit reached: calls wait for their slot", "conn", j.Conn, "bucket", bucketLabel(j.Conn, key))
		}
		sp.calls++
		sp.waited += waited
	case sp != nil:
		delete(l.open, key)
		s.Log.Info("rate limit: caught up", "conn", j.Conn, "bucket", bucketLabel(j.Conn, key),
			"calls_waited", sp.calls, "waited", sp.waited.Round(time.Millisecond), "for", s.Clock().Sub(sp.since).Round(time.Millisecond))
	}
}

// minWait: a job that went within this of being due did not wait for a
// limit, whatever its bucket.
const minWait = 100 * time.Millisecond
