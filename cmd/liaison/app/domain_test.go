package app

import (
	"os"
	"slices"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/config"
)

// TestDomainFromConfig: the example config becomes the domain's router,
// settings and profiles, every field carried over.
func TestDomainFromConfig(t *testing.T) {
	data, err := os.ReadFile("../../../liaison.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"DISCORD_TOKEN":             "discord-token",
		"COMMUNITY_SLACK_BOT_TOKEN": "xoxb-community", "COMMUNITY_SLACK_APP_TOKEN": "xapp-community",
		"SLACK_BOT_TOKEN": "xoxb-internal", "SLACK_APP_TOKEN": "xapp-internal",
	}
	cfg, err := config.Parse(data, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	s := settings(cfg)
	if s.Company != "Acme" || s.ReplyPrefix != "!reply " || s.MaxRelayChars != 1500 || s.AdminConn != "internal-slack" || s.AdminChannel != "C0LIAISONADM" {
		t.Errorf("settings = %+v", s)
	}
	r := router(cfg)
	src, ok := r.Source("community-discord", "1100000000000000003")
	if !ok || src.Name != "discord-feedback" {
		t.Fatalf("source of #ideas = %+v, %v", src, ok)
	}
	if rt := r.Match(src, "my payment failed twice"); rt == nil || rt.Name != "billing" {
		t.Errorf("a payment failure goes to %+v, want billing (by regex)", rt)
	}
	if rt := r.Match(src, "dark mode please"); rt == nil || rt.Name != "product-feedback" {
		t.Errorf("feedback goes to %+v, want product-feedback (by source)", rt)
	}
	billing := r.Route("billing")
	want := bot.Policy{Mode: bot.ApprovalRequired, Approvers: []string{"U0MARIEFIN", "S0BILLINGLEADS"}, SLA: 4 * time.Hour}
	if billing.DestConn != "internal-slack" || billing.DestChannel != "C0BILLING" || billing.Policy.Mode != want.Mode ||
		len(billing.Policy.Approvers) != 2 || billing.Policy.Approvers[1] != "S0BILLINGLEADS" || billing.Policy.SLA != want.SLA || billing.Tags[0] != "billing" {
		t.Errorf("billing route = %+v", billing)
	}
	if fb := r.Route("product-feedback"); !slices.Equal(fb.Policy.Responders, []string{"S0PRODUCTTEAM"}) {
		t.Errorf("product-feedback responders = %q", fb.Policy.Responders)
	}
	if d := r.Route("support"); d == nil || !d.Default {
		t.Errorf("support route = %+v, want the default", d)
	}
	ps := staffProfiles(cfg)
	if len(ps) == 0 {
		t.Fatal("no profiles")
	}
	alice := ps[0]
	if alice.Name != "Alice Martin" || alice.Title != "Product Manager" || alice.Pronouns != "she/her" || !slices.Equal(alice.TrustedOn, []string{"product-feedback"}) ||
		alice.ConsentedAt == nil || !alice.ConsentedAt.Equal(time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)) ||
		len(alice.Identities) != 1 || alice.Identities[0] != (bot.Identity{Conn: "internal-slack", UserID: "U0ALICE"}) {
		t.Errorf("alice = %+v", alice)
	}
}
