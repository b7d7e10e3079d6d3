package bot

import "time"

// Metrics receives counts of what Liaison does; handlers/web exports them
// to Prometheus. A nil Metrics counts nothing.
type Metrics interface {
	Intake(conn string, outcome Intake)
	Job(kind OpKind, result string) // "done", "retry", "rate_limited", "reconciled", "dead"
	// Latency observes one step: LatencyEventToCard (from a public
	// message's platform time to its card posted), LatencyApprovalToPublic
	// (from the approval to the public post).
	Latency(step string, d time.Duration)
	// Reconnect counts a new gateway session or Socket Mode socket of conn
	// after its first.
	Reconnect(conn string)
	// ConnState reports whether conn's live link (gateway, socket) is up.
	ConnState(conn string, up bool)
	// RateWait counts a call that waited d for its slot in a rate-limit
	// bucket of conn ("C123" for a channel's posts, "*" for the whole
	// connection).
	RateWait(conn, bucket string, d time.Duration)
	// RateLimited counts a call the platform refused with a 429 in bucket.
	RateLimited(conn, bucket string)
}

// Latency steps.
const (
	LatencyEventToCard      = "event_to_card"
	LatencyApprovalToPublic = "approval_to_public"
)

type noMetrics struct{}

func (noMetrics) Intake(string, Intake)                  {}
func (noMetrics) Job(OpKind, string)                     {}
func (noMetrics) Latency(string, time.Duration)          {}
func (noMetrics) Reconnect(string)                       {}
func (noMetrics) ConnState(string, bool)                 {}
func (noMetrics) RateWait(string, string, time.Duration) {}
func (noMetrics) RateLimited(string, string)             {}

// NoMetrics counts nothing: for adapters given no Metrics.
var NoMetrics Metrics = noMetrics{}
