package bot_test

import (
	"errors"
	"regexp"
	"testing"

	"github.com/liaison-bot/liaison/bot"
)

func TestRouterMatch(t *testing.T) {
	sources := []bot.Source{
		{Name: "discord-help", Conn: "community", Channels: []string{"1", "2"}},
		{Name: "slack-general", Conn: "slack-community", Channels: []string{"C1"}},
	}
	routes := []bot.Route{
		{Name: "billing", Keywords: []string{"invoice", "refund", "credit card"}},
		{Name: "bugs", Sources: []string{"discord-help"}, Regexps: []*regexp.Regexp{regexp.MustCompile(`(?i)\b(crash|bug)s?\b`)}},
		{Name: "slack-all", Sources: []string{"slack-general"}},
		{Name: "fallback", Default: true},
	}
	r := bot.NewRouter(sources, routes)
	tests := []struct {
		conn, channel, text, want string
	}{
		{"community", "1", "Where is my INVOICE?", "billing"},
		{"community", "1", "invoices", "fallback"}, // whole words only
		{"community", "2", "pay by credit card?", "billing"},
		{"community", "2", "found a bug on start", "bugs"},
		{"slack-community", "C1", "app crash", "slack-all"}, // bugs is Discord-only
		{"community", "1", "hello", "fallback"},
	}
	for _, tt := range tests {
		src, ok := r.Source(tt.conn, tt.channel)
		if !ok {
			t.Fatalf("no source for %s/%s", tt.conn, tt.channel)
		}
		if got := r.Match(src, tt.text); got == nil || got.Name != tt.want {
			t.Errorf("Match(%q) = %v, want %s", tt.text, got, tt.want)
		}
	}
	if _, ok := r.Source("community", "3"); ok {
		t.Error("unwatched channel has a source")
	}
	noDefault := bot.NewRouter(sources, routes[:1])
	src, _ := noDefault.Source("community", "1")
	if got := noDefault.Match(src, "hello"); got != nil {
		t.Errorf("no default: got %s", got.Name)
	}
}

func TestIsApprover(t *testing.T) {
	rt := &bot.Route{DestConn: "internal", Policy: bot.Policy{Approvers: []string{"U1", "S9"}}}
	tests := []struct {
		actor bot.Actor
		want  bool
	}{
		{bot.Actor{Conn: "internal", UserID: "U1"}, true},
		{bot.Actor{Conn: "internal", UserID: "U2", Groups: []string{"S9"}}, true},
		{bot.Actor{Conn: "internal", UserID: "U2"}, false},
		{bot.Actor{Conn: "other", UserID: "U1"}, false}, // same id, another workspace
		{bot.Actor{Conn: "internal", UserID: ""}, false},
	}
	for _, tt := range tests {
		if got := bot.IsApprover(rt, tt.actor); got != tt.want {
			t.Errorf("IsApprover(%+v) = %v", tt.actor, got)
		}
	}
}

func TestStateMachines(t *testing.T) {
	items := []struct {
		from, to bot.ItemStatus
		ok       bool
	}{
		{bot.ItemNew, bot.ItemClaimed, true},
		{bot.ItemClaimed, bot.ItemAwaitingApproval, true},
		{bot.ItemAwaitingApproval, bot.ItemAnswered, true},
		{bot.ItemAnswered, bot.ItemClosed, true},
		{bot.ItemClosed, bot.ItemNew, true},
		{bot.ItemIgnored, bot.ItemClaimed, false},
		{bot.ItemClosed, bot.ItemAnswered, false},
		{bot.ItemIgnored, bot.ItemIgnored, false},
	}
	for _, tt := range items {
		it := &bot.Item{ID: 1, Status: tt.from}
		err := it.SetStatus(tt.to)
		if (err == nil) != tt.ok {
			t.Errorf("item %s→%s: %v", tt.from, tt.to, err)
		}
		if err != nil && (it.Status != tt.from || !errors.Is(err, bot.ErrIllegalTransition)) {
			t.Errorf("item %s→%s: refused but changed or untyped: %v", tt.from, tt.to, err)
		}
	}
	drafts := []struct {
		from, to bot.DraftState
		ok       bool
	}{
		{bot.DraftPending, bot.DraftApproved, true},
		{bot.DraftApproved, bot.DraftPublished, true},
		{bot.DraftPending, bot.DraftPublished, false},
		{bot.DraftRejected, bot.DraftApproved, false},
		{bot.DraftWithdrawn, bot.DraftPending, false},
		{bot.DraftPublished, bot.DraftRetracted, true},
		{bot.DraftFailed, bot.DraftApproved, true},
	}
	for _, tt := range drafts {
		d := &bot.Draft{ID: 1, State: tt.from}
		err := d.SetState(tt.to)
		if (err == nil) != tt.ok {
			t.Errorf("draft %s→%s: %v", tt.from, tt.to, err)
		}
		if err != nil && d.State != tt.from {
			t.Errorf("draft %s→%s: refused but changed", tt.from, tt.to)
		}
	}
}
