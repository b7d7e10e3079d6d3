// Package bot is Liaison's domain: items, messages, drafts, profiles, routing,
// the approval policy, attribution, sanitising and the outbox worker.
//
// It imports no platform SDK and no SQL driver. It talks to the platforms
// through the Platform port and to the database through the Store interface,
// both defined here and implemented in handlers/ and storage/.
package bot

import "time"

// Platform kinds a connection can be on.
const (
	KindSlack   = "slack"
	KindDiscord = "discord"
)

// Clock returns the current time; tests replace it.
type Clock func() time.Time

// SystemClock is the wall clock, in UTC, truncated to microseconds so that
// values survive a round trip through either database engine unchanged.
func SystemClock() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
