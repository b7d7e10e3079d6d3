package demo

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// TestScript runs `liaison demo --script`: the real adapters, storage and
// worker between the two fakes, every step checked against the fakes.
func TestScript(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var out, logs bytes.Buffer
	err := Run(ctx, Options{Script: true, Out: &out, Log: &logs})
	t.Log("transcript:\n" + out.String())
	if logs.Len() > 0 {
		t.Log("Liaison's warnings:\n" + logs.String())
	}
	if err != nil {
		t.Fatalf("the script failed: %v", err)
	}
}
