package discordfake_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
)

// IDs of DefaultGuild.
var (
	dg      = discordfake.DefaultGuild()
	guildID = dg.ID
	general = dg.Channels[0].ID
	help    = dg.Channels[1].ID
	modRole = dg.Roles[0].ID
	alice   = dg.Members[0].User.ID
	bob     = dg.Members[1].User.ID
)

const (
	allIntents    = discordgo.IntentsAllWithoutPrivileged | discordgo.IntentMessageContent
	noContent     = discordgo.IntentsAllWithoutPrivileged
	eventDeadline = 20 * time.Second // generous: the race detector on 2 busy cores is slow
)

// fakeSession starts a fake with the default guild and opens a session on it.
func fakeSession(t *testing.T, intents discordgo.Intent) (*discordfake.Fake, *discordgo.Session, *events) {
	t.Helper()
	f := discordfake.MustNew(t, discordfake.Options{})
	s, ev := mustSession(t, f, intents)
	return f, s, ev
}

// relayHook creates the bot's "Liaison relay" webhook in a channel.
func relayHook(t *testing.T, s *discordgo.Session, channelID string) *discordgo.Webhook {
	t.Helper()
	wh, err := s.WebhookCreate(channelID, "Liaison relay", "")
	if err != nil {
		t.Fatal(err)
	}
	return wh
}

// postReceived posts content as a member and waits for the MESSAGE_CREATE the session gets for
// it.
func postReceived(t *testing.T, f *discordfake.Fake, ev *events, user, channelID, content, what string) *discordgo.MessageCreate {
	t.Helper()
	if _, err := f.Post(user, channelID, content); err != nil {
		t.Fatal(err)
	}
	m := recv(t, ev.msgCreate, what)
	if m.Content != content {
		t.Fatalf("%s: got %q, want %q", what, m.Content, content)
	}
	return m
}

// events collects what a discordgo session receives, in order (SyncEvents).
type events struct {
	ready        chan *discordgo.Ready
	resumed      chan *discordgo.Resumed
	guildCreate  chan *discordgo.GuildCreate
	msgCreate    chan *discordgo.MessageCreate
	msgUpdate    chan *discordgo.MessageUpdate
	msgDelete    chan *discordgo.MessageDelete
	threadCreate chan *discordgo.ThreadCreate
	interaction  chan *discordgo.InteractionCreate
	rateLimit    chan *discordgo.RateLimit

	mu       sync.Mutex
	raw      map[string][]json.RawMessage // dispatch type → raw payloads
	rawAdded chan struct{}                // closed and replaced at each new raw payload
}

// rawN waits until n raw payloads of a dispatch type arrived and returns the nth. discordgo
// calls the raw *discordgo.Event handlers after the typed ones.
func (e *events) rawN(t *testing.T, typ string, n int) json.RawMessage {
	t.Helper()
	deadline := time.After(eventDeadline)
	for {
		e.mu.Lock()
		list, added := e.raw[typ], e.rawAdded
		e.mu.Unlock()
		if len(list) >= n {
			return list[n-1]
		}
		select {
		case <-added:
		case <-deadline:
			t.Fatalf("no %d raw %s payloads within %v", n, typ, eventDeadline)
		}
	}
}

func push[T any](ch chan T, v T) {
	select {
	case ch <- v:
	case <-time.After(eventDeadline):
		panic("test event buffer full")
	}
}

// mustSession opens a discordgo session on the fake, closed before the fake at the end of the
// test.
func mustSession(t *testing.T, f *discordfake.Fake, intents discordgo.Intent) (*discordgo.Session, *events) {
	t.Helper()
	s, ev, err := openSession(f, intents)
	if err != nil {
		t.Fatalf("open session: %v", err)
	}
	t.Cleanup(func() { closeSession(t, f, s) })
	return s, ev
}

// closeSession closes a discordgo session once its heartbeat loop has run: discordgo's first
// heartbeat races with a Close that comes right after Open, and a heartbeat that fails on the
// closing socket makes discordgo reconnect.
func closeSession(t *testing.T, f *discordfake.Fake, s *discordgo.Session) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), eventDeadline)
	defer cancel()
	_ = f.WaitFor(ctx, func() bool { gi := f.Gateway(); return !gi.Connected || gi.Heartbeats > 0 })
	_ = s.Close()
}

func openSession(f *discordfake.Fake, intents discordgo.Intent) (*discordgo.Session, *events, error) {
	s, err := discordgo.New(f.BotToken())
	if err != nil {
		return nil, nil, err
	}
	f.Configure(s)
	s.Identify.Intents = intents
	s.SyncEvents = true
	s.LogLevel = -1 // discordgo logs expected reconnect errors otherwise
	const n = 256
	ev := &events{
		ready:        make(chan *discordgo.Ready, n),
		resumed:      make(chan *discordgo.Resumed, n),
		guildCreate:  make(chan *discordgo.GuildCreate, n),
		msgCreate:    make(chan *discordgo.MessageCreate, n),
		msgUpdate:    make(chan *discordgo.MessageUpdate, n),
		msgDelete:    make(chan *discordgo.MessageDelete, n),
		threadCreate: make(chan *discordgo.ThreadCreate, n),
		interaction:  make(chan *discordgo.InteractionCreate, n),
		rateLimit:    make(chan *discordgo.RateLimit, n),
		raw:          map[string][]json.RawMessage{},
		rawAdded:     make(chan struct{}),
	}
	// discordgo's state keeps (and later updates) the guilds and channels of these events, so
	// the test gets copies.
	s.AddHandler(func(_ *discordgo.Session, e *discordgo.Ready) { push(ev.ready, jsonCopy(e)) })
	s.AddHandler(func(_ *discordgo.Session, e *discordgo.Resumed) { push(ev.resumed, e) })
	s.AddHandler(func(_ *discordgo.Session, e *discordgo.GuildCreate) { push(ev.guildCreate, jsonCopy(e)) })
	s.AddHandler(func(_ *discordgo.Session, e *discordgo.MessageCreate) { push(ev.msgCreate, e) })
	s.AddHandler(func(_ *discordgo.Session, e *discordgo.MessageUpdate) { push(ev.msgUpdate, e) })
	s.AddHandler(func(_ *discordgo.Session, e *discordgo.MessageDelete) { push(ev.msgDelete, e) })
	s.AddHandler(func(_ *discordgo.Session, e *discordgo.ThreadCreate) { push(ev.threadCreate, jsonCopy(e)) })
	s.AddHandler(func(_ *discordgo.Session, e *discordgo.InteractionCreate) { push(ev.interaction, e) })
	s.AddHandler(func(_ *discordgo.Session, e *discordgo.RateLimit) { push(ev.rateLimit, e) })
	s.AddHandler(func(_ *discordgo.Session, e *discordgo.Event) {
		ev.mu.Lock()
		ev.raw[e.Type] = append(ev.raw[e.Type], append(json.RawMessage(nil), e.RawData...))
		close(ev.rawAdded)
		ev.rawAdded = make(chan struct{})
		ev.mu.Unlock()
	})
	if err := s.Open(); err != nil {
		return nil, nil, err
	}
	return s, ev, nil
}

// jsonCopy deep-copies an event through JSON.
func jsonCopy[T any](v *T) *T {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		panic(err)
	}
	return out
}

// recv waits for the next value on ch.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(eventDeadline):
		t.Fatalf("no %s within %v", what, eventDeadline)
		panic("unreachable")
	}
}

// none checks that nothing more arrived on ch.
func none[T any](t *testing.T, ch <-chan T, what string) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("unexpected %s: %+v", what, v)
	default:
	}
}

// restErr asserts err is a *discordgo.RESTError with the HTTP status and JSON code.
func restErr(t *testing.T, err error, status, code int) *discordgo.RESTError {
	t.Helper()
	var re *discordgo.RESTError
	if !errors.As(err, &re) {
		t.Fatalf("error %v (%T), want *discordgo.RESTError %d/%d", err, err, status, code)
	}
	if re.Response.StatusCode != status || re.Message == nil || re.Message.Code != code {
		t.Fatalf("REST error %d %s, want status %d code %d", re.Response.StatusCode, re.ResponseBody, status, code)
	}
	return re
}

func waitFor(t *testing.T, f *discordfake.Fake, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), eventDeadline)
	defer cancel()
	if err := f.WaitFor(ctx, cond); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// rawCall sends a request through the fake's transport, as the adapter would to
// https://discord.com, and returns status, headers and body.
func rawCall(t *testing.T, f *discordfake.Fake, method, path, auth, body string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "https://discord.com/api/v9"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := f.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// clock is a settable clock for deadline tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// buttonMessage posts, as the bot, a message in #general with one row of buttons.
func buttonMessage(t *testing.T, s *discordgo.Session, content string, customIDs ...string) *discordgo.Message {
	t.Helper()
	msg, err := s.ChannelMessageSendComplex(general, &discordgo.MessageSend{Content: content, Components: buttonRow(customIDs...)})
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// botThread posts content as the bot in #general and starts a thread from it.
func botThread(t *testing.T, s *discordgo.Session, content, name string, archiveMinutes int) (*discordgo.Message, *discordgo.Channel) {
	t.Helper()
	root, err := s.ChannelMessageSend(general, content)
	if err != nil {
		t.Fatal(err)
	}
	th, err := s.MessageThreadStart(general, root.ID, name, archiveMinutes)
	if err != nil {
		t.Fatal(err)
	}
	return root, th
}

func buttonRow(customIDs ...string) []discordgo.MessageComponent {
	var bs []discordgo.MessageComponent
	for _, id := range customIDs {
		bs = append(bs, discordgo.Button{Label: id, Style: discordgo.PrimaryButton, CustomID: id})
	}
	return []discordgo.MessageComponent{discordgo.ActionsRow{Components: bs}}
}
