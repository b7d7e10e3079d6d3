package discordfake_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
)

// TestEditThread: PATCH /channels/{id} renames a thread and dispatches THREAD_UPDATE; an
// archived thread refuses a rename (50083) unless the same request unarchives it.
func TestEditThread(t *testing.T) {
	f, s, ev := fakeSession(t, allIntents)
	_, th := botThread(t, s, "card", "#1 Maria: my words", 10080)

	got, err := s.ChannelEdit(th.ID, &discordgo.ChannelEdit{Name: "#1 Maria"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "#1 Maria" || got.ID != th.ID || got.ThreadMetadata == nil || got.ThreadMetadata.Archived {
		t.Fatalf("renamed thread = %+v", got)
	}
	if c, _ := f.Channel(th.ID); c.Name != "#1 Maria" {
		t.Fatalf("the fake holds the name %q", c.Name)
	}
	var upd struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if err := json.Unmarshal(ev.rawN(t, "THREAD_UPDATE", 1), &upd); err != nil || upd.ID != th.ID || upd.Name != "#1 Maria" {
		t.Fatalf("THREAD_UPDATE = %+v, %v", upd, err)
	}
	var recorded bool
	for _, c := range f.Calls() {
		recorded = recorded || (c.Route == "PATCH /channels/{channel.id}" && c.Status == http.StatusOK)
	}
	if !recorded {
		t.Error("the edit is not among the recorded calls")
	}

	// Archived: a rename alone is refused and changes nothing.
	if err := f.ArchiveThread(th.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.ChannelEdit(th.ID, &discordgo.ChannelEdit{Name: "#1 A community member"})
	restErr(t, err, http.StatusBadRequest, 50083)
	_, err = s.ChannelEdit(th.ID, &discordgo.ChannelEdit{Name: "#1 A community member", Archived: ptr(true)})
	restErr(t, err, http.StatusBadRequest, 50083)
	if c, _ := s.Channel(th.ID); c.Name != "#1 Maria" || !c.ThreadMetadata.Archived {
		t.Fatalf("after refused renames the thread is %q, archived %v", c.Name, c.ThreadMetadata.Archived)
	}
	// archived and locked alone may change on an archived thread.
	if _, err := s.ChannelEdit(th.ID, &discordgo.ChannelEdit{Archived: ptr(true), Locked: ptr(false)}); err != nil {
		t.Fatalf("re-archiving an archived thread: %v", err)
	}
	// A rename that unarchives is allowed.
	got, err = s.ChannelEdit(th.ID, &discordgo.ChannelEdit{Name: "#1 A community member", Archived: ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "#1 A community member" || got.ThreadMetadata.Archived {
		t.Fatalf("unarchived rename = %q, archived %v", got.Name, got.ThreadMetadata.Archived)
	}
	// And the thread can be archived again.
	if got, err = s.ChannelEdit(th.ID, &discordgo.ChannelEdit{Archived: ptr(true)}); err != nil || !got.ThreadMetadata.Archived {
		t.Fatalf("archive = %+v, %v", got, err)
	}
	archived, err := s.ThreadsArchived(general, nil, 10)
	if err != nil || len(archived.Threads) != 1 || archived.Threads[0].ID != th.ID {
		t.Fatalf("archived threads = %+v, %v", archived, err)
	}
}

// TestEditChannelRefusals: bad bodies get 50035 and change nothing; unknown and hidden
// channels, a member's thread without MANAGE_THREADS and a channel without MANAGE_CHANNELS
// are refused.
func TestEditChannelRefusals(t *testing.T) {
	f, s, _ := fakeSession(t, allIntents)
	_, th := botThread(t, s, "card", "thread", 60)
	path := "/channels/" + th.ID
	for _, body := range []string{
		`{"name": ""}`,
		`{"name": "` + strings.Repeat("x", 101) + `"}`,
		`{"name": 5}`,
		`{"archived": "yes"}`,
		`{"auto_archive_duration": 30}`,
		`["name"]`,
	} {
		status, _, b := rawCall(t, f, "PATCH", path, f.BotToken(), body)
		var e struct {
			Code   int            `json:"code"`
			Errors map[string]any `json:"errors"`
		}
		if err := json.Unmarshal(b, &e); err != nil || status != http.StatusBadRequest || e.Code != 50035 || len(e.Errors) == 0 {
			t.Errorf("PATCH %s → %d %s, want 400 with code 50035 and its errors", body, status, b)
		}
	}
	if status, _, b := rawCall(t, f, "PATCH", path, f.BotToken(), `{"name": "`+strings.Repeat("é", 100)+`"}`); status != http.StatusOK {
		t.Errorf("a name of 100 characters → %d %s", status, b)
	}
	if status, _, _ := rawCall(t, f, "PATCH", path, f.BotToken(), `not json`); status != http.StatusBadRequest {
		t.Errorf("malformed JSON → %d", status)
	}
	if c, _ := f.Channel(th.ID); c.Name != strings.Repeat("é", 100) {
		t.Errorf("after refused edits the name is %q", c.Name)
	}

	_, err := s.ChannelEdit("2999999999999999999", &discordgo.ChannelEdit{Name: "x"})
	restErr(t, err, http.StatusNotFound, 10003)

	// A member's thread: the bot needs MANAGE_THREADS.
	root, err := f.Post(alice, general, "hello")
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := f.StartThread(alice, general, root.ID, "alice's")
	if err != nil {
		t.Fatal(err)
	}
	f.SetBotPermissions(general, discordfake.PermAll&^(1<<34))
	_, err = s.ChannelEdit(theirs.ID, &discordgo.ChannelEdit{Name: "mine now"})
	restErr(t, err, http.StatusForbidden, 50013)
	if _, err := s.ChannelEdit(th.ID, &discordgo.ChannelEdit{Name: "own thread"}); err != nil {
		t.Errorf("the bot's own thread needs no MANAGE_THREADS: %v", err)
	}
	// A channel: MANAGE_CHANNELS.
	f.SetBotPermissions(general, discordfake.PermAll&^(1<<4))
	_, err = s.ChannelEdit(general, &discordgo.ChannelEdit{Name: "renamed"})
	restErr(t, err, http.StatusForbidden, 50013)
	// A channel the bot cannot see.
	f.SetBotPermissions(general, discordfake.PermAll&^discordfake.PermViewChannel)
	_, err = s.ChannelEdit(th.ID, &discordgo.ChannelEdit{Name: "hidden"})
	restErr(t, err, http.StatusForbidden, 50001)
	if c, _ := f.Channel(general); c.Name != "general" {
		t.Errorf("the refused channel rename left %q", c.Name)
	}
	if c, _ := f.Channel(theirs.ID); c.Name != "alice's" {
		t.Errorf("the refused thread rename left %q", c.Name)
	}
}

// TestEditChannel: a guild channel renamed with MANAGE_CHANNELS dispatches CHANNEL_UPDATE.
func TestEditChannel(t *testing.T) {
	f, s, ev := fakeSession(t, allIntents)
	got, err := s.ChannelEdit(general, &discordgo.ChannelEdit{Name: "lobby"})
	if err != nil || got.Name != "lobby" {
		t.Fatalf("rename = %+v, %v", got, err)
	}
	var upd struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if err := json.Unmarshal(ev.rawN(t, "CHANNEL_UPDATE", 1), &upd); err != nil || upd.ID != general || upd.Name != "lobby" {
		t.Fatalf("CHANNEL_UPDATE = %+v, %v", upd, err)
	}
	if c, _ := f.Channel(general); c.Name != "lobby" {
		t.Fatalf("the fake holds %q", c.Name)
	}
}
