package doctor_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/liaison-bot/liaison/config"
	"github.com/liaison-bot/liaison/internal/doctor"
)

func TestPrint(t *testing.T) {
	var b bytes.Buffer
	all := doctor.Print(&b, []doctor.Check{
		{Conn: "internal", Name: "bot token", OK: true, Detail: "valid"},
		{Conn: "internal", Name: "channel C0X", Detail: "#x: the bot is not a member", Remedy: "/invite @liaison in #x"},
	})
	want := "ok   internal: bot token: valid\n" +
		"FAIL internal: channel C0X: #x: the bot is not a member\n" +
		"     → /invite @liaison in #x\n"
	if all || b.String() != want {
		t.Fatalf("Print = %v,\n%s\nwant false,\n%s", all, b.String(), want)
	}
	b.Reset()
	if !doctor.Print(&b, []doctor.Check{{Conn: "c", Name: "n", OK: true, Detail: "d"}}) {
		t.Fatal("Print reports a failure when every check passed")
	}
}

func TestChannelsOf(t *testing.T) {
	c := &config.Config{
		Sources: []config.Source{
			{Name: "a", Connection: "public", Channels: []string{"C1", "C2"}},
			{Name: "b", Connection: "other", Channels: []string{"C9"}},
			{Name: "c", Connection: "public", Channels: []string{"C2", "C3"}},
		},
		Routes: []config.Route{
			{Name: "r1", Destination: config.Destination{Connection: "public", Channel: "C4"}},
			{Name: "r2", Destination: config.Destination{Connection: "public", Channel: "C4"}},
			{Name: "r3", Destination: config.Destination{Connection: "other", Channel: "C8"}},
		},
		Admin:   &config.Destination{Connection: "public", Channel: "C5"},
		Digests: []config.Digest{{Name: "weekly", Destination: config.Destination{Connection: "public", Channel: "C1"}}},
	}
	got := doctor.ChannelsOf(c, "public")
	if !slices.Equal(got.Watched, []string{"C1", "C2", "C3"}) || !slices.Equal(got.Cards, []string{"C4", "C5"}) || !slices.Equal(got.Digests, []string{"C1"}) {
		t.Fatalf("ChannelsOf = %+v, want each channel once, in config order", got)
	}
}

// Each lists a channel once, watched ones first, with all its uses.
func TestChannelsEach(t *testing.T) {
	got := doctor.Channels{Watched: []string{"C1", "C2"}, Cards: []string{"C3", "C1"}, Digests: []string{"C3", "C4"}}.Each()
	want := []struct{ id, label string }{{"C1", "watched, cards"}, {"C2", "watched"}, {"C3", "cards, digest"}, {"C4", "digest"}}
	if len(got) != len(want) {
		t.Fatalf("Each = %+v", got)
	}
	for i, w := range want {
		if got[i].ID != w.id || got[i].Label() != w.label {
			t.Errorf("channel %d = %s (%s), want %s (%s)", i, got[i].ID, got[i].Label(), w.id, w.label)
		}
	}
}
