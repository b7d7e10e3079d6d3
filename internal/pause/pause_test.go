package pause

import (
	"context"
	"testing"
	"time"
)

func TestForWaits(t *testing.T) {
	start := time.Now()
	if !For(context.Background(), 20*time.Millisecond) {
		t.Fatal("For reported a live context as ended")
	}
	if waited := time.Since(start); waited < 20*time.Millisecond {
		t.Fatalf("For returned after %s, want at least 20ms", waited)
	}
}

func TestForEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(10 * time.Millisecond); cancel() }()
	done := make(chan bool, 1)
	go func() { done <- For(ctx, time.Hour) }()
	select {
	case live := <-done:
		if live {
			t.Fatal("For reported a cancelled context as live")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("For kept waiting after its context ended")
	}
}
