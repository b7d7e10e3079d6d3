package slackfake

import (
	"maps"
	"math"
	"net/http"
	"time"
)

// Slack's rate limits, as its documentation states them (sources in doc.go
// and testdata/SOURCES.md). Slack counts per app per workspace; the fake is
// one of each. A refused call is answered 429 with {"ok":false,
// "error":"ratelimited"} and Retry-After in whole seconds, which slack-go
// turns into *slack.RateLimitedError.
//
// chat.postMessage is limited per channel (Options.RatePerChannel after a
// burst of Options.Burst, SetRate) and counts messages posted: a call
// refused for another reason spends nothing. Every other method the bot
// calls is limited per workspace by its tier (DefaultMethodRates,
// Options.MethodRates, SetMethodRate), counting every call made with a
// valid token.

// Slack's Web API tiers: calls a minute at least.
const (
	Tier2 = 20
	Tier3 = 50
	Tier4 = 100
)

// MethodRate is a method's limit in the workspace: PerMinute calls a minute
// once Burst calls are spent. A negative PerMinute lifts the limit.
type MethodRate struct {
	PerMinute float64
	Burst     int
}

// tier is a tier's limit: its calls a minute, which may all come at once
// (Slack evaluates its limits per minute and allows bursts).
func tier(perMinute int) MethodRate {
	return MethodRate{PerMinute: float64(perMinute), Burst: perMinute}
}

// DefaultMethodRates returns the limits of the methods the fake serves, by
// method, from the tier each method's page gives. chat.getPermalink and
// auth.test are "special" ("hundreds of requests per minute"): they get
// Tier 4's 100, the least that wording allows. chat.postMessage has only its
// per-channel limit: Slack documents a workspace-wide one of "several
// hundred messages per minute" without a figure (SetMethodRate adds one).
// apps.connections.open is Tier 1 on Slack but unlimited here: Socket Mode
// tests reconnect often, and slack-go waits for a 429's Retry-After before
// it reconnects (SetMethodRate limits it).
func DefaultMethodRates() map[string]MethodRate {
	return map[string]MethodRate{
		"api.test":                       tier(Tier4),
		"auth.test":                      tier(Tier4),
		"chat.getPermalink":              tier(Tier4),
		"chat.update":                    tier(Tier3),
		"chat.delete":                    tier(Tier3),
		"chat.postEphemeral":             tier(Tier4),
		"conversations.history":          tier(Tier3),
		"conversations.replies":          tier(Tier3),
		"conversations.info":             tier(Tier3),
		"conversations.join":             tier(Tier3),
		"users.info":                     tier(Tier4),
		"usergroups.users.list":          tier(Tier2),
		"reactions.add":                  tier(Tier3),
		"views.open":                     tier(Tier4),
		"views.push":                     tier(Tier4),
		"views.update":                   tier(Tier4),
		"views.publish":                  tier(Tier4),
		"apps.event.authorizations.list": tier(Tier4),
		"files.getUploadURLExternal":     tier(Tier4),
		"files.completeUploadExternal":   tier(Tier4),
	}
}

// SetRate sets chat.postMessage's limit for one channel: perSecond once burst
// is spent (burst <= 0 means 1); perSecond < 0 disables the limit there.
func (f *Fake) SetRate(channelID string, perSecond float64, burst int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if burst <= 0 {
		burst = 1
	}
	f.rateFor[channelID] = f.fullBucket(perSecond, float64(burst))
}

// SetMethodRate sets a method's limit in the workspace: perMinute calls a
// minute once burst calls are spent (burst <= 0 means a minute's worth);
// perMinute < 0 lifts the limit. On chat.postMessage it adds a
// workspace-wide limit to the per-channel one.
func (f *Fake) SetMethodRate(method string, perMinute float64, burst int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.methodRate[method] = f.methodBucket(MethodRate{PerMinute: perMinute, Burst: burst})
}

// methodBucket is a full bucket for a method's limit.
func (f *Fake) methodBucket(r MethodRate) *bucket {
	if r.PerMinute < 0 {
		return &bucket{rate: -1}
	}
	burst := float64(r.Burst)
	if burst <= 0 {
		burst = max(1, math.Floor(r.PerMinute))
	}
	return f.fullBucket(r.PerMinute/60, burst)
}

// fullBucket is a bucket of rate tokens a second, its burst unspent.
func (f *Fake) fullBucket(rate, burst float64) *bucket {
	return &bucket{rate: rate, burst: burst, tokens: burst, last: f.now()}
}

// methodRates is the limits of a new fake: Slack's, changed by opts.
func (f *Fake) methodRates(opts map[string]MethodRate) map[string]*bucket {
	rates := DefaultMethodRates()
	maps.Copy(rates, opts)
	out := map[string]*bucket{}
	for m, r := range rates {
		out[m] = f.methodBucket(r)
	}
	return out
}

// bucket is a token bucket.
type bucket struct {
	rate   float64 // tokens per second; < 0 means unlimited
	burst  float64
	tokens float64
	last   time.Time
}

// take spends a token, or says how many whole seconds until one is back.
func (b *bucket) take(now time.Time) (retryAfter int, ok bool) {
	if b.rate < 0 {
		return 0, true
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(b.burst, b.tokens+elapsed*b.rate)
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	if b.rate == 0 {
		return 60, false
	}
	return max(1, int(math.Ceil((1-b.tokens)/b.rate))), false
}

func ratelimited(retryAfter int) *apiError {
	return &apiError{code: "ratelimited", status: http.StatusTooManyRequests, retryAfter: retryAfter}
}

// rateLimitLocked spends one of the channel's chat.postMessage tokens.
func (f *Fake) rateLimitLocked(channelID string) *apiError {
	b := f.rateFor[channelID]
	if b == nil {
		b = f.fullBucket(f.opts.RatePerChannel, float64(f.opts.Burst))
		f.rateFor[channelID] = b
	}
	return f.spendLocked(b)
}

// methodLimitLocked spends one of the method's tokens in the workspace.
func (f *Fake) methodLimitLocked(method string) *apiError {
	if b := f.methodRate[method]; b != nil {
		return f.spendLocked(b)
	}
	return nil
}

// spendLocked spends one of b's tokens, or refuses the call with the wait
// until one is back.
func (f *Fake) spendLocked(b *bucket) *apiError {
	if retry, ok := b.take(f.now()); !ok {
		return ratelimited(retry)
	}
	return nil
}
