package web

import (
	"log/slog"
	"strings"
	"sync"
	"time"
)

// RefusalLogEvery is how often, at most, a refused request of one kind is
// logged; the line says how many were refused in between without one.
const RefusalLogEvery = 10 * time.Second

// maxKinds bounds the memory of a Sampler whatever its callers pass as
// kinds; kinds beyond it share one count.
const maxKinds = 64

// Sampler lets the first event of each kind through in every period and
// counts the others, so that a flood of refused requests — forged
// signatures, say — leaves a line per period in the log, not one per
// request, and that line says how many it stands for.
type Sampler struct {
	Now func() time.Time // nil: time.Now

	every time.Duration
	mu    sync.Mutex
	kinds map[string]*sampled
}

type sampled struct {
	last       time.Time // when one was last let through
	suppressed int       // since then
}

// NewSampler returns a sampler that lets one event of each kind through
// every period.
func NewSampler(every time.Duration) *Sampler {
	return &Sampler{every: every, kinds: map[string]*sampled{}}
}

// Allow reports whether an event of kind is to be logged now and, if so,
// how many events of its kind were not since the last one that was.
func (s *Sampler) Allow(kind string) (ok bool, suppressed int) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	t := now()
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.kinds[kind]
	if k == nil && len(s.kinds) >= maxKinds {
		kind = "other"
		k = s.kinds[kind]
	}
	if k == nil {
		s.kinds[kind] = &sampled{last: t}
		return true, 0
	}
	if t.Sub(k.last) < s.every {
		k.suppressed++
		return false, 0
	}
	n := k.suppressed
	k.last, k.suppressed = t, 0
	return true, n
}

// sampledWriter takes the lines net/http's servers log (a handler's
// panic, a failing Accept) to slog, sampled by their first three words
// ("http: panic serving"): those name the kind, what follows the client.
type sampledWriter struct {
	log     *slog.Logger
	sampler *Sampler
}

func (w *sampledWriter) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	first, _, _ := strings.Cut(line, "\n")
	words := strings.Fields(first)
	if ok, n := w.sampler.Allow(strings.Join(words[:min(3, len(words))], " ")); ok {
		w.log.Error("http server", "said", line, "suppressed", n)
	}
	return len(p), nil
}
