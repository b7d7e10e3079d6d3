package web

import (
	"fmt"
	"testing"
	"time"
)

func TestSampler(t *testing.T) {
	now := time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
	s := NewSampler(10 * time.Second)
	s.Now = func() time.Time { return now }
	for i, step := range []struct {
		after      time.Duration
		kind       string
		ok         bool
		suppressed int
	}{
		{0, "signature", true, 0},
		{time.Second, "signature", false, 0},
		{time.Second, "signature", false, 0},
		{0, "body", true, 0}, // each kind has its own period
		{8 * time.Second, "signature", true, 2},
		{time.Second, "signature", false, 0},
		{10 * time.Second, "signature", true, 1},
		{0, "body", true, 0},
	} {
		now = now.Add(step.after)
		if ok, n := s.Allow(step.kind); ok != step.ok || n != step.suppressed {
			t.Errorf("step %d: Allow(%q) = %v, %d; want %v, %d", i, step.kind, ok, n, step.ok, step.suppressed)
		}
	}

	// Kinds beyond maxKinds share one count: memory stays bounded whatever
	// the kinds.
	s = NewSampler(10 * time.Second)
	for i := range maxKinds {
		if ok, _ := s.Allow(fmt.Sprint(i)); !ok {
			t.Fatalf("first of kind %d not allowed", i)
		}
	}
	if ok, _ := s.Allow("one more"); !ok {
		t.Error("the first kind beyond the bound is not allowed")
	}
	for i := range 1000 {
		if ok, _ := s.Allow(fmt.Sprint("another ", i)); ok {
			t.Fatalf("kind %d beyond the bound allowed in the same period", i)
		}
	}
	if len(s.kinds) > maxKinds+1 {
		t.Errorf("%d kinds remembered, want at most %d", len(s.kinds), maxKinds+1)
	}
}
