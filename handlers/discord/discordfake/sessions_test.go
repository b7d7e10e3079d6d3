package discordfake_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
)

// TestSessionsShareAToken: Discord lets two sessions of one bot token run
// at once and sends each every event, interactions included; the first
// answer to an interaction wins, the second is refused.
func TestSessionsShareAToken(t *testing.T) {
	t.Parallel()
	f := discordfake.MustNew(t, discordfake.Options{})
	s1, ev1 := mustSession(t, f, allIntents)
	_, ev2 := mustSession(t, f, allIntents)
	if gi := f.Gateway(); gi.Sessions != 2 || gi.Identifies != 2 {
		t.Fatalf("Gateway() = %+v, want two sessions", gi)
	}
	postReceived(t, f, ev1, alice, general, "hello both", "the first session's MESSAGE_CREATE")
	if m := recv(t, ev2.msgCreate, "the second session's MESSAGE_CREATE"); m.Content != "hello both" {
		t.Fatalf("second session got %q", m.Content)
	}
	msg := buttonMessage(t, s1, "?", "go")
	recv(t, ev1.msgCreate, "own message")
	recv(t, ev2.msgCreate, "own message")
	if _, err := f.Click(bob, general, msg.ID, "go"); err != nil {
		t.Fatal(err)
	}
	a := recv(t, ev1.interaction, "the first session's INTERACTION_CREATE")
	b := recv(t, ev2.interaction, "the second session's INTERACTION_CREATE")
	if a.ID != b.ID {
		t.Fatalf("two interactions %s, %s for one click", a.ID, b.ID)
	}
	answer := &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredMessageUpdate}
	if err := s1.InteractionRespond(a.Interaction, answer); err != nil {
		t.Fatal(err)
	}
	restErr(t, s1.InteractionRespond(b.Interaction, answer), http.StatusBadRequest, 40060)
}

// TestPostedWhileNobodyListens: a message posted while no session is
// connected reaches nobody live, and is listed by REST.
func TestPostedWhileNobodyListens(t *testing.T) {
	t.Parallel()
	f := discordfake.MustNew(t, discordfake.Options{})
	m, err := f.Post(alice, general, "anyone?")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := mustSession(t, f, allIntents)
	got, err := s.ChannelMessages(general, 10, "", "", "")
	if err != nil || len(got) != 1 || got[0].ID != m.ID {
		t.Fatalf("listing = %v, %v; want the message", got, err)
	}
}

// TestListMessagesParams: before, after and around as Discord documents
// them: one at a time, snowflakes; newest first whatever the direction,
// after giving the oldest messages after the id.
func TestListMessagesParams(t *testing.T) {
	t.Parallel()
	f := discordfake.MustNew(t, discordfake.Options{})
	s, _ := mustSession(t, f, allIntents)
	var ids []string
	for i := range 5 {
		m, err := f.Post(alice, general, strings.Repeat("x", i+1))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	idsOf := func(ms []*discordgo.Message) string {
		var out []string
		for _, m := range ms {
			out = append(out, m.ID)
		}
		return strings.Join(out, ",")
	}
	after, err := s.ChannelMessages(general, 2, "", ids[0], "")
	if err != nil || idsOf(after) != ids[2]+","+ids[1] {
		t.Errorf("after the first, limit 2 = %s, %v; want the 3rd and 2nd, newest first", idsOf(after), err)
	}
	before, err := s.ChannelMessages(general, 2, ids[4], "", "")
	if err != nil || idsOf(before) != ids[3]+","+ids[2] {
		t.Errorf("before the last, limit 2 = %s, %v; want the 4th and 3rd", idsOf(before), err)
	}
	_, err = s.ChannelMessages(general, 2, ids[4], ids[0], "")
	restErr(t, err, http.StatusBadRequest, 50035)
	_, err = s.ChannelMessages(general, 2, "", "latest", "")
	restErr(t, err, http.StatusBadRequest, 50035)
	_, err = s.ChannelMessages(general, 101, "", "", "")
	restErr(t, err, http.StatusBadRequest, 50035)
}

// TestArchivedThreads: an archived thread leaves the active list for its
// parent's archived list, most recently archived first; a new message
// unarchives it.
func TestArchivedThreads(t *testing.T) {
	t.Parallel()
	f := discordfake.MustNew(t, discordfake.Options{})
	s, _ := mustSession(t, f, allIntents)
	a, _, err := f.OpenForumPost(alice, help, "First", "one")
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := f.OpenForumPost(bob, help, "Second", "two")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{a.ID, b.ID} {
		if err := f.ArchiveThread(id); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	active, err := s.GuildThreadsActive(guildID)
	if err != nil || len(active.Threads) != 0 {
		t.Fatalf("active threads = %+v, %v; want none", active, err)
	}
	archived, err := s.ThreadsArchived(help, nil, 2)
	if err != nil || len(archived.Threads) != 2 || archived.Threads[0].ID != b.ID || !archived.Threads[0].ThreadMetadata.Archived || archived.HasMore {
		t.Fatalf("archived threads = %+v, %v; want the second then the first", archived, err)
	}
	older, err := s.ThreadsArchived(help, &archived.Threads[0].ThreadMetadata.ArchiveTimestamp, 2)
	if err != nil || len(older.Threads) > 1 {
		t.Fatalf("archived before the latest = %+v, %v", older, err)
	}
	if _, err := f.PostInThread(bob, a.ID, "back"); err != nil {
		t.Fatal(err)
	}
	active, err = s.GuildThreadsActive(guildID)
	if err != nil || len(active.Threads) != 1 || active.Threads[0].ID != a.ID {
		t.Fatalf("active threads after a new message = %+v, %v; want the first", active, err)
	}
	_, err = s.ThreadsArchived(help, nil, 101)
	restErr(t, err, http.StatusBadRequest, 50035)
}

// TestUnansweredInteractionFails: an interaction nobody answers within 3
// seconds is recorded as failed, and an answer after that is refused.
func TestUnansweredInteractionFails(t *testing.T) {
	t.Parallel()
	clk := newClock()
	f := discordfake.MustNew(t, discordfake.Options{Now: clk.Now})
	s, ev := mustSession(t, f, allIntents)
	msg := buttonMessage(t, s, "?", "go")
	recv(t, ev.msgCreate, "the bot's own message")
	id, err := f.Click(bob, general, msg.ID, "go")
	if err != nil {
		t.Fatal(err)
	}
	ic := recv(t, ev.interaction, "INTERACTION_CREATE")
	if f.InteractionFailed(id) {
		t.Fatal("failed at once")
	}
	clk.Advance(discordfake.InteractionDeadline + time.Millisecond)
	if !f.InteractionFailed(id) {
		t.Fatal("not answered within the deadline, yet not failed")
	}
	err = s.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredMessageUpdate})
	restErr(t, err, http.StatusNotFound, 10062)
	if rs := f.InteractionResponses(id); len(rs) != 0 {
		t.Fatalf("responses %+v after the deadline", rs)
	}
}
