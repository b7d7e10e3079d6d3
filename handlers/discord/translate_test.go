package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	dg "github.com/bwmarrin/discordgo"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// Channels of the fixtures' guild.
const (
	fxGuild   = "197038439483310086"
	fxText    = "290926798999357250" // text channel of the fixtures
	fxForum   = "290926798999357300"
	fxPost    = "1234567890123456000" // a forum post (thread) in fxForum
	fxThread  = "334385199974967042"  // a thread started from a message of fxText
	fxBotUser = "111111111111111111"
)

func loadMessage(t *testing.T, name string) *dg.Message {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var m dg.Message
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &m
}

// offlineConn is a Conn that knows the fixtures' channels and its bot user,
// so translating needs no network.
func offlineConn(t *testing.T, svc *bot.Service) *Conn {
	t.Helper()
	if svc == nil {
		svc = bot.NewService(nil, nil, bot.NewRouter(nil, nil), bot.Settings{})
	}
	c, err := New(Options{Name: "community", Token: "x", GuildID: fxGuild}, svc)
	if err != nil {
		t.Fatal(err)
	}
	c.botID = fxBotUser
	for _, ch := range []*dg.Channel{
		{ID: fxText, GuildID: fxGuild, Name: "general", Type: dg.ChannelTypeGuildText},
		{ID: fxForum, GuildID: fxGuild, Name: "help", Type: dg.ChannelTypeGuildForum},
		{ID: fxPost, GuildID: fxGuild, Name: "Login broken", Type: dg.ChannelTypeGuildPublicThread, ParentID: fxForum},
		{ID: fxThread, GuildID: fxGuild, Name: "discussion", Type: dg.ChannelTypeGuildPublicThread, ParentID: fxText},
	} {
		c.remember(ch)
	}
	return c
}

func TestIncoming(t *testing.T) {
	c := offlineConn(t, nil)
	ctx := context.Background()

	reply := c.incoming(ctx, loadMessage(t, "message_create_reply.json"))
	want := bot.Incoming{
		Conn: "community", Channel: fxText, ID: "1234567890123456789", ReplyTo: "334385199974967042",
		AuthorID: "53908099506183680", AuthorName: "Mason (beta tester)",
		Text:        "Same problem here, see the screenshot\n[embed] Status page — Login: degraded performance — https://status.example.com/",
		Attachments: []bot.Attachment{{Name: "screenshot.png", URL: "https://cdn.discordapp.com/attachments/290926798999357250/1234567890123456790/screenshot.png"}},
		Link:        "https://discord.com/channels/197038439483310086/290926798999357250/1234567890123456789",
		At:          time.Date(2017, 7, 11, 17, 27, 7, 299000000, time.UTC),
	}
	if fmt.Sprint(reply) != fmt.Sprint(want) || !reply.At.Equal(want.At) {
		t.Errorf("reply:\n got %+v\nwant %+v", reply, want)
	}

	tests := []struct {
		name   string
		change func(m *dg.Message)
		check  func(in bot.Incoming) bool
	}{
		{"webhook", func(m *dg.Message) { *m = *loadMessage(t, "message_create_webhook.json") },
			func(in bot.Incoming) bool { return in.Webhook && in.Bot && !in.Self }},
		{"other bot", func(m *dg.Message) { m.Author.Bot = true }, func(in bot.Incoming) bool { return in.Bot && !in.Webhook }},
		{"self", func(m *dg.Message) { m.Author.ID = fxBotUser }, func(in bot.Incoming) bool { return in.Self }},
		{"forward is not a reply", func(m *dg.Message) { m.MessageReference.Type = dg.MessageReferenceTypeForward },
			func(in bot.Incoming) bool { return in.ReplyTo == "" }},
		{"forum post opens a thread", func(m *dg.Message) { m.ChannelID, m.ID, m.MessageReference = fxPost, fxPost, nil },
			func(in bot.Incoming) bool {
				return in.NewThread && in.ThreadID == fxPost && in.ParentChannel == fxForum && in.Channel == fxPost &&
					strings.HasPrefix(in.Text, "Login broken\nSame problem here")
			}},
		{"forum follow-up", func(m *dg.Message) { m.ChannelID, m.MessageReference = fxPost, nil },
			func(in bot.Incoming) bool {
				return !in.NewThread && in.ThreadID == fxPost && in.ParentChannel == fxForum
			}},
		{"thread of a text channel", func(m *dg.Message) { m.ChannelID, m.MessageReference = fxThread, nil },
			func(in bot.Incoming) bool {
				return !in.NewThread && in.ThreadID == fxThread && in.ParentChannel == fxText
			}},
		{"no nick: display name", func(m *dg.Message) { m.Member = nil }, func(in bot.Incoming) bool { return in.AuthorName == "Mason" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := loadMessage(t, "message_create_reply.json")
			tt.change(m)
			if in := c.incoming(ctx, m); !tt.check(in) {
				t.Errorf("incoming = %+v", in)
			}
		})
	}
}

// TestRedeliveredGatewayEvent: the same MESSAGE_CREATE handled twice (a
// gateway replay) opens one item.
func TestRedeliveredGatewayEvent(t *testing.T) {
	ctx := context.Background()
	svc := bot.NewService(storagetest.Open(t, "sqlite"), nil,
		bot.NewRouter([]bot.Source{{Name: "community", Conn: "community", Channels: []string{fxText}}},
			[]bot.Route{{Name: "all", Default: true, DestConn: "internal", DestChannel: "C1"}}),
		bot.Settings{})
	c := offlineConn(t, svc)
	m := loadMessage(t, "message_create_reply.json")
	m.MessageReference = nil
	c.onMessage(ctx, m)
	c.onMessage(ctx, m)
	var items []*bot.Item
	if err := svc.Store.InTx(ctx, func(tx bot.Tx) (err error) {
		items, err = tx.ItemsByAuthor(ctx, "community", m.Author.ID, 10)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 {
		t.Errorf("%d items after a redelivery, want 1", len(items))
	}
}

func restErr(status, code int, body string) error {
	re := &dg.RESTError{Response: &http.Response{StatusCode: status, Status: http.StatusText(status)}, ResponseBody: []byte(body)}
	if code != 0 {
		re.Message = &dg.APIErrorMessage{Code: code}
	}
	return re
}

func TestClassify(t *testing.T) {
	body, err := os.ReadFile("testdata/rate_limited.json")
	if err != nil {
		t.Fatal(err)
	}
	rl := &dg.RateLimitError{RateLimit: &dg.RateLimit{TooManyRequests: &dg.TooManyRequests{RetryAfter: 1500 * time.Millisecond}, URL: "u"}}
	tests := []struct {
		name  string
		err   error
		kind  bot.SendErrorKind
		after time.Duration
	}{
		{"discordgo rate limit", rl, bot.RetryAfterKind, 1500 * time.Millisecond},
		{"429 body", restErr(429, 0, string(body)), bot.RetryAfterKind, 64570 * time.Millisecond},
		{"missing permissions", restErr(403, codeMissingPermissions, ""), bot.PermanentKind, 0},
		{"missing access", restErr(403, codeMissingAccess, ""), bot.PermanentKind, 0},
		{"unknown channel", restErr(404, codeUnknownChannel, ""), bot.PermanentKind, 0},
		{"unknown message", restErr(404, codeUnknownMessage, ""), bot.PermanentKind, 0},
		{"invalid form body", restErr(400, codeInvalidFormBody, ""), bot.PermanentKind, 0},
		{"bad token", restErr(401, 0, ""), bot.NotAppliedKind, 0},
		{"server error", restErr(500, 0, ""), bot.UnknownOutcome, 0},
		{"network", errors.New("connection reset by peer"), bot.UnknownOutcome, 0},
		{"already classified", bot.NotApplied(errors.New("x")), bot.NotAppliedKind, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var se *bot.SendError
			got := classify(fmt.Errorf("wrapped: %w", tt.err))
			kind, after := bot.UnknownOutcome, time.Duration(0)
			if errors.As(got, &se) {
				kind, after = se.Kind, se.After
			}
			if kind != tt.kind || math.Abs(float64(after-tt.after)) > float64(time.Millisecond) {
				t.Errorf("classify = kind %d after %v, want kind %d after %v", kind, after, tt.kind, tt.after)
			}
		})
	}
}

func TestWebhookUsername(t *testing.T) {
	for in, want := range map[string]string{
		"Alice Martin · Acme":        "Alice Martin · Acme",
		"Discord Dan · Acme":         "Dan · Acme",
		"Alice · DISCORDIA":          "Alice · IA",
		"Clyde":                      "Liaison",
		"  ":                         "Liaison",
		strings.Repeat("é", 100):     strings.Repeat("é", 79) + "…",
		"Bob \t\n Smith · Acme":      "Bob Smith · Acme",
		"Clyde Discord · Acme":       "Acme",
		"Marie-Claire · Clydesdales": "Marie-Claire · sdales",
	} {
		got := webhookUsername(in)
		if got != want {
			t.Errorf("webhookUsername(%q) = %q, want %q", in, got, want)
		}
		if n := utf8.RuneCountInString(got); n < 1 || n > 80 || strings.Contains(strings.ToLower(got), "discord") || strings.Contains(strings.ToLower(got), "clyde") {
			t.Errorf("webhookUsername(%q) = %q breaks Discord's rules", in, got)
		}
	}
}

func TestNonceOf(t *testing.T) {
	if got := nonceOf("liaison-job-42"); got != "liaison-job-42" {
		t.Errorf("short key changed: %q", got)
	}
	long := "liaison-job-123456789012345678"
	a, b := nonceOf(long), nonceOf(long+"9")
	if len(a) > 25 || a == "" || a != nonceOf(long) || a == b {
		t.Errorf("nonceOf long keys: %q, %q", a, b)
	}
}

func TestCustomID(t *testing.T) {
	for _, act := range []string{actReply, actClaim, actTag, actIgnore, actApprove, actEdit, actReject, actWithdraw, actCorrect, actRetract, actProfile} {
		id := customID(act, math.MaxInt64)
		if len(id) > maxCustomID {
			t.Errorf("%q is longer than Discord's 100 characters", id)
		}
		if a, n, ok := parseCustomID(id); !ok || a != act || n != math.MaxInt64 {
			t.Errorf("parseCustomID(%q) = %q, %d, %v", id, a, n, ok)
		}
	}
	for _, bad := range []string{"", "liaison", "liaison:claim", "liaison:claim:x", "other:claim:1", "liaison:claim:1:2", "liaison::1", "liaison:claim:-1"} {
		if _, _, ok := parseCustomID(bad); ok {
			t.Errorf("parseCustomID(%q) accepted", bad)
		}
	}
}

func TestRenderWithinLimits(t *testing.T) {
	long := strings.Repeat("word ", 2000)
	c := &bot.Card{ItemID: 7, Status: bot.ItemNew, Source: strings.Repeat("s", 300), AuthorName: strings.Repeat("a", 300),
		Text: long, Tags: []string{strings.Repeat("t", 2000)}, Link: "not a url"}
	e := cardEmbed(c)
	if utf8.RuneCountInString(e.Title) > maxTitle || utf8.RuneCountInString(e.Description) > maxDescription || utf8.RuneCountInString(e.Author.Name) > maxAuthorName || e.URL != "" {
		t.Errorf("card embed breaks a limit: title %d, description %d, author %d, url %q",
			utf8.RuneCountInString(e.Title), utf8.RuneCountInString(e.Description), utf8.RuneCountInString(e.Author.Name), e.URL)
	}
	for _, f := range e.Fields {
		if f.Value == "" || utf8.RuneCountInString(f.Value) > maxFieldValue {
			t.Errorf("field %q has %d characters", f.Name, utf8.RuneCountInString(f.Value))
		}
	}
	if n := utf8.RuneCountInString(threadName(c)); n < 1 || n > maxThreadName {
		t.Errorf("thread name has %d characters", n)
	}
	for state, want := range map[bot.DraftState]int{bot.DraftPending: 4, bot.DraftFailed: 1, bot.DraftPublished: 2, bot.DraftRejected: 0, bot.DraftWithdrawn: 0} {
		comps := draftComponents(&bot.DraftCard{DraftID: 3, Kind: bot.DraftReply, State: state})
		n := 0
		if len(comps) > 0 {
			n = len(comps[0].(dg.ActionsRow).Components)
		}
		if n != want || comps == nil {
			t.Errorf("draft %s: %d buttons, want %d (and a non-nil list, to clear old ones)", state, n, want)
		}
	}
}
