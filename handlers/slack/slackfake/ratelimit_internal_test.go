package slackfake

import "testing"

// TestEveryMethodHasALimit: a method added to the fake gets Slack's tier
// for it, or a reason here why it has none.
func TestEveryMethodHasALimit(t *testing.T) {
	unlimited := map[string]string{
		"chat.postMessage":      "limited per channel (rateLimitLocked)",
		"apps.connections.open": "Tier 1 on Slack; slack-go's reconnects would wait a minute (see DefaultMethodRates)",
	}
	rates := DefaultMethodRates()
	for m := range methods() {
		if _, ok := rates[m]; !ok && unlimited[m] == "" {
			t.Errorf("method %s has no limit in DefaultMethodRates", m)
		}
	}
	for m := range rates {
		if _, ok := methods()[m]; !ok {
			t.Errorf("DefaultMethodRates names %s, which the fake does not serve", m)
		}
	}
}
