package app

import (
	"testing"
	"time"

	"github.com/liaison-bot/liaison/config"
)

// TestRouterBusinessHours: a route's hours reach its policy, and its SLA
// clock stops over the weekend; a route without them counts wall time.
func TestRouterBusinessHours(t *testing.T) {
	cfg, err := config.Parse([]byte(`company: Acme
connections:
  - name: acme-slack
    platform: slack
    bot_token: xoxb-1-bot
    app_token: xapp-1-app
sources:
  - name: help
    connection: acme-slack
    channels: [C0HELP]
routes:
  - name: billing
    keywords: [invoice]
    destination: {connection: acme-slack, channel: C0BILLING}
    approvers: [U0BOSS]
    sla: 2h
    hours:
      time_zone: Europe/Paris
      days: [mon, tue, wed, thu, friday]
      start: "09:00"
      end: "18:00"
      holidays: ["2026-12-25"]
  - name: everything
    default: true
    destination: {connection: acme-slack, channel: C0TEAM}
    approvers: [U0BOSS]
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := router(cfg)
	h := r.Route("billing").Policy.Hours
	if h == nil {
		t.Fatal("billing has no business hours")
	}
	if h.Location.String() != "Europe/Paris" || h.Start != 9*time.Hour || h.End != 18*time.Hour || !h.Days[time.Friday] || h.Days[time.Saturday] ||
		len(h.Holidays) != 1 || h.Holidays[0] != "2026-12-25" {
		t.Errorf("billing hours = %+v", h)
	}
	// Friday 17:00 to Monday 10:00 in Paris.
	from, to := time.Date(2026, 11, 27, 16, 0, 0, 0, time.UTC), time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	if got := r.Route("billing").Policy.Waited(from, to); got != 2*time.Hour {
		t.Errorf("billing waited %s over the weekend, want 2h0m0s", got)
	}
	if p := r.Route("everything").Policy; p.Hours != nil || p.Waited(from, to) != 65*time.Hour {
		t.Errorf("everything: hours %+v, waited %s; want none and 65h0m0s", p.Hours, p.Waited(from, to))
	}
}
