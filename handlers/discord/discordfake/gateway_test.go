package discordfake_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
)

func TestOpenIdentifiesAndGetsReady(t *testing.T) {
	t.Parallel()
	f, s, ev := fakeSession(t, allIntents)

	r := recv(t, ev.ready, "READY")
	if r.User.ID != f.Bot().ID || !r.User.Bot || r.SessionID == "" || r.Version != 9 {
		t.Fatalf("READY user=%+v session=%q v=%d", r.User, r.SessionID, r.Version)
	}
	if len(r.Guilds) != 1 || r.Guilds[0].ID != guildID || !r.Guilds[0].Unavailable {
		t.Fatalf("READY guilds = %+v, want one unavailable stub", r.Guilds)
	}
	if r.Application == nil || r.Application.ID != f.ApplicationID() {
		t.Fatalf("READY application = %+v", r.Application)
	}
	gc := recv(t, ev.guildCreate, "GUILD_CREATE")
	// @everyone, Moderators and the bot's own managed role.
	if gc.ID != guildID || gc.Name != dg.Name || len(gc.Channels) != 2 || len(gc.Roles) != 3 {
		t.Fatalf("GUILD_CREATE = %s with %d channels, %d roles", gc.Name, len(gc.Channels), len(gc.Roles))
	}
	if _, err := s.State.Channel(help); err != nil {
		t.Fatalf("state has no forum channel: %v", err)
	}
	gi := f.Gateway()
	if !gi.Connected || gi.SessionID != r.SessionID || gi.Intents != int64(allIntents) || gi.Identifies != 1 {
		t.Fatalf("Gateway() = %+v", gi)
	}
}

func TestMessageContentIntent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		intents discordgo.Intent
		want    string
	}{
		{"with MESSAGE_CONTENT", allIntents, "hello there"},
		{"without MESSAGE_CONTENT", noContent, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := discordfake.MustNew(t, discordfake.Options{})
			_, ev := mustSession(t, f, tc.intents)

			m, err := f.Post(alice, general, "hello there")
			if err != nil {
				t.Fatal(err)
			}
			got := recv(t, ev.msgCreate, "MESSAGE_CREATE")
			if got.ID != m.ID || got.Author.ID != alice || got.GuildID != guildID || got.Member == nil || got.Content != tc.want {
				t.Fatalf("MESSAGE_CREATE id=%s author=%s guild=%s member=%v content=%q, want content %q",
					got.ID, got.Author.ID, got.GuildID, got.Member != nil, got.Content, tc.want)
			}
			// Messages that mention the bot keep their content.
			mention := "<@" + f.Bot().ID + "> can you help?"
			postReceived(t, f, ev, bob, general, mention, "MESSAGE_CREATE")
			// Members see everything.
			if ms := f.Messages(general); len(ms) != 2 || ms[0].Content != "hello there" {
				t.Fatalf("Messages = %+v", ms)
			}
		})
	}
}

func TestWithoutGuildMessagesIntentNoMessageEvents(t *testing.T) {
	t.Parallel()
	f := discordfake.MustNew(t, discordfake.Options{})
	_, ev := mustSession(t, f, discordgo.IntentGuilds)
	if _, err := f.Post(alice, general, "unseen"); err != nil {
		t.Fatal(err)
	}
	th, _, err := f.OpenForumPost(alice, help, "Title", "Body")
	if err != nil {
		t.Fatal(err)
	}
	if tc := recv(t, ev.threadCreate, "THREAD_CREATE"); tc.ID != th.ID {
		t.Fatalf("THREAD_CREATE %s, want %s", tc.ID, th.ID)
	}
	none(t, ev.msgCreate, "MESSAGE_CREATE without GUILD_MESSAGES")
}

func TestUnapprovedPrivilegedIntentCloses4014(t *testing.T) {
	t.Parallel()
	f := discordfake.MustNew(t, discordfake.Options{UnapprovedIntents: discordfake.IntentMessageContent})
	_, _, err := openSession(f, allIntents)
	if err == nil || !strings.Contains(err.Error(), "4014") {
		t.Fatalf("Open with an unapproved MESSAGE_CONTENT = %v, want close 4014", err)
	}
	// Without it the same app connects, and REST reads come back blanked.
	s, _ := mustSession(t, f, noContent)
	m, err := f.Post(alice, general, "secret")
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.ChannelMessage(general, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Content != "" {
		t.Fatalf("REST content without approved intent = %q", got.Content)
	}
}

func TestBadTokenIdentifyCloses4004(t *testing.T) {
	t.Parallel()
	f := discordfake.MustNew(t, discordfake.Options{BotToken: "right"})
	s, err := discordgo.New("Bot wrong")
	if err != nil {
		t.Fatal(err)
	}
	f.Configure(s)
	s.LogLevel = -1
	if err := s.Open(); err == nil || !strings.Contains(err.Error(), "4004") {
		t.Fatalf("Open with a bad token = %v, want close 4004", err)
	}
	_, err = s.User("@me")
	re := restErr(t, err, 401, 0)
	if re.Message.Message != "401: Unauthorized" {
		t.Fatalf("401 message = %q", re.Message.Message)
	}
	if f.InvalidRequests() != 1 {
		t.Fatalf("InvalidRequests = %d, want 1", f.InvalidRequests())
	}
}

func TestDropGatewayResumesAndReplays(t *testing.T) {
	t.Parallel()
	f := discordfake.MustNew(t, discordfake.Options{HeartbeatInterval: 500 * time.Millisecond})
	_, ev := mustSession(t, f, allIntents)
	recv(t, ev.ready, "READY")

	postReceived(t, f, ev, alice, general, "one", "first message")
	f.DropGateway()
	waitFor(t, f, "the drop", func() bool { return !f.Gateway().Connected })
	for _, c := range []string{"two", "three"} {
		if _, err := f.Post(alice, general, c); err != nil {
			t.Fatal(err)
		}
	}
	// discordgo waits a second in Close, then reconnects and resumes with its last seq: the
	// fake replays what came after it, then sends RESUMED.
	for _, want := range []string{"two", "three"} {
		if m := recv(t, ev.msgCreate, "replayed message"); m.Content != want {
			t.Fatalf("replayed %q, want %q", m.Content, want)
		}
	}
	recv(t, ev.resumed, "RESUMED")
	none(t, ev.msgCreate, "second copy of a message")
	none(t, ev.ready, "READY after a resume")
	if gi := f.Gateway(); !gi.Connected || gi.Resumes != 1 || gi.Identifies != 1 {
		t.Fatalf("Gateway() = %+v, want connected after one resume", gi)
	}
	// Live events flow again.
	postReceived(t, f, ev, bob, general, "four", "live message")
}

func TestReconnectOpcodeResumes(t *testing.T) {
	t.Parallel()
	f, _, ev := fakeSession(t, allIntents)
	recv(t, ev.ready, "READY")
	f.SendReconnect()
	recv(t, ev.resumed, "RESUMED after op 7")
	if gi := f.Gateway(); gi.Resumes != 1 || gi.Identifies != 1 {
		t.Fatalf("Gateway() = %+v", gi)
	}
}

func TestInvalidSessionReidentifies(t *testing.T) {
	t.Parallel()
	f, _, ev := fakeSession(t, allIntents)
	first := recv(t, ev.ready, "READY")
	f.InvalidateSession()
	second := recv(t, ev.ready, "second READY")
	if second.SessionID == first.SessionID {
		t.Fatal("same session after op 9")
	}
	if gi := f.Gateway(); gi.Identifies != 2 || gi.SessionID != second.SessionID {
		t.Fatalf("Gateway() = %+v", gi)
	}
	postReceived(t, f, ev, alice, general, "after", "message on the new session")
}

func TestCloseThenOpenStartsANewSession(t *testing.T) {
	t.Parallel()
	f, s, ev := fakeSession(t, allIntents)
	first := recv(t, ev.ready, "READY")
	// Close sends 1000, which ends the session on Discord; discordgo keeps its session ID and
	// tries to resume on the next Open, gets op 9 and identifies.
	closeSession(t, f, s)
	waitFor(t, f, "the close", func() bool { return !f.Gateway().Connected })
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	second := recv(t, ev.ready, "READY after reopening")
	if second.SessionID == first.SessionID {
		t.Fatal("the closed session was resumed")
	}
	if gi := f.Gateway(); gi.Identifies != 2 || gi.Resumes != 0 {
		t.Fatalf("Gateway() = %+v", gi)
	}
}
