package discord

import "time"

// SetRegisterBackoff shortens the first wait after a failed registration of
// /liaison, so a test of the retry need not wait seconds. Call it before Run.
func SetRegisterBackoff(c *Conn, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.regBackoff = d
}

// SetInteractionBudget changes how long the domain may take on an
// interaction before it goes unanswered; it applies to the next ones.
func SetInteractionBudget(c *Conn, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.budget = d
}
