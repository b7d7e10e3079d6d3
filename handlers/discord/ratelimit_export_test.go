package discord

// SetInvalidWarn lowers the count of invalid requests in ten minutes past
// which c warns, so that a test need not make thousands.
func SetInvalidWarn(c *Conn, n int) {
	c.rates.mu.Lock()
	defer c.rates.mu.Unlock()
	c.rates.warnAt = n
}
