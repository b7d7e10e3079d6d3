// Package pause waits between retries without outliving the work it
// belongs to.
package pause

import (
	"context"
	"time"
)

// For waits d, or less if ctx ends; it reports whether ctx is still live.
func For(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
