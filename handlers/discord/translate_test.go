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
	"sync"
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

// recorder is a Domain that records what the adapter hands it.
type recorder struct {
	mu       sync.Mutex
	incoming []bot.Incoming
	requests []bot.Request
	reply    bot.Reply
}

func (r *recorder) Receive(_ context.Context, in bot.Incoming) (bot.Intake, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.incoming = append(r.incoming, in)
	return bot.IntakeIgnored, nil
}

func (r *recorder) Edit(context.Context, bot.MessageKey, string, time.Time) error { return nil }
func (r *recorder) Delete(context.Context, bot.MessageKey, time.Time) error       { return nil }
func (r *recorder) Watches(_, _ string) bool                                      { return false }
func (r *recorder) LastMessage(context.Context, string, string) (*bot.Message, error) {
	return nil, bot.ErrNotFound
}
func (r *recorder) AcquireLease(context.Context, string, string, time.Duration) (bool, error) {
	return true, nil
}
func (r *recorder) ReleaseLease(context.Context, string, string) error { return nil }

func (r *recorder) Interact(_ context.Context, req bot.Request) bot.Reply {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = append(r.requests, req)
	return r.reply
}

// offlineConn is a Conn that knows the fixtures' channels and its bot user,
// so translating needs no network.
func offlineConn(t *testing.T, d Domain) *Conn {
	t.Helper()
	if d == nil {
		d = &recorder{}
	}
	c, err := New(Options{Name: "community", Token: "x", GuildID: fxGuild}, d)
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
		AuthorID: "53908099506183680", AuthorName: "Mason (beta tester)", AuthorHandle: "Mason",
		Text:        "Same problem here, see the screenshot\nStatus page — Login: degraded performance — https://status.example.com/",
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
		{"no nick: global name", func(m *dg.Message) { m.Member, m.Author.Username, m.Author.GlobalName = nil, "mason_42", "Mason" },
			func(in bot.Incoming) bool { return in.AuthorName == "Mason" && in.AuthorHandle == "mason_42" }},
		{"no nick, no global name: username", func(m *dg.Message) { m.Member, m.Author.Username, m.Author.GlobalName = nil, "mason_42", "" },
			func(in bot.Incoming) bool { return in.AuthorName == "mason_42" && in.AuthorHandle == "mason_42" }},
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
	db := storagetest.Open(t, "sqlite")
	svc := bot.NewService(db, nil,
		bot.NewRouter([]bot.Source{{Name: "community", Conn: "community", Channels: []string{fxText}}},
			[]bot.Route{{Name: "all", Default: true, DestConn: "internal", DestChannel: "C1"}}),
		bot.Settings{})
	c := offlineConn(t, svc)
	m := loadMessage(t, "message_create_reply.json")
	m.MessageReference = nil
	c.onLiveMessage(ctx, m)
	c.onLiveMessage(ctx, m)
	if n, err := db.RowCount(ctx, "items"); err != nil || n != 1 {
		t.Errorf("%d items after a redelivery (%v), want 1", n, err)
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
	for _, act := range []bot.ActionID{bot.ActReply, bot.ActClaim, bot.ActUnclaim, bot.ActTag, bot.ActIgnore, bot.ActReopen,
		bot.ActApprove, bot.ActEditApprove, bot.ActReject, bot.ActWithdraw, bot.ActCorrect, bot.ActRetract, bot.ActProfile} {
		for _, confirmed := range []bool{false, true} {
			id := customID(act, math.MaxInt64, confirmed)
			if len(id) > maxCustomID {
				t.Errorf("%q is longer than Discord's 100 characters", id)
			}
			if a, n, c, ok := parseCustomID(id); !ok || a != act || n != math.MaxInt64 || c != confirmed {
				t.Errorf("parseCustomID(%q) = %q, %d, %v, %v", id, a, n, c, ok)
			}
		}
	}
	for _, bad := range []string{"", "liaison", "liaison:claim", "liaison:claim:x", "other:claim:1", "liaison:claim:1:2",
		"liaison::1", "liaison:claim:-1", "liaison:claim:1:ok:ok", "liaison:claim:1:yes"} {
		if _, _, _, ok := parseCustomID(bad); ok {
			t.Errorf("parseCustomID(%q) accepted", bad)
		}
	}
}

// TestRequest: interactions become requests carrying the platform's
// identity of the person, never anything the payload could forge.
func TestRequest(t *testing.T) {
	c := offlineConn(t, nil)
	member := &dg.Member{User: &dg.User{ID: "42", Username: "mona", GlobalName: "Mona"}, Nick: "Mona M.", Roles: []string{"r1"}}
	withData := func(typ dg.InteractionType, data dg.InteractionData) *dg.Interaction {
		return &dg.Interaction{Type: typ, GuildID: fxGuild, Member: member, Data: data}
	}
	tests := []struct {
		name string
		i    *dg.Interaction
		want bot.Request
	}{
		{"click", withData(dg.InteractionMessageComponent, dg.MessageComponentInteractionData{CustomID: "liaison:claim:7", ComponentType: dg.ButtonComponent}),
			bot.Request{Kind: bot.Click, Action: bot.ActClaim, Target: 7}},
		{"confirmed click", withData(dg.InteractionMessageComponent, dg.MessageComponentInteractionData{CustomID: "liaison:retract:3:ok", ComponentType: dg.ButtonComponent}),
			bot.Request{Kind: bot.Click, Action: bot.ActRetract, Target: 3, Confirmed: true}},
		{"foreign button", withData(dg.InteractionMessageComponent, dg.MessageComponentInteractionData{CustomID: "poll:yes", ComponentType: dg.ButtonComponent}),
			bot.Request{Kind: bot.Click}},
		{"form", withData(dg.InteractionModalSubmit, dg.ModalSubmitInteractionData{CustomID: "liaison:tag:7", Components: []dg.MessageComponent{
			&dg.ActionsRow{Components: []dg.MessageComponent{&dg.TextInput{CustomID: bot.FieldTagsID, Value: "a, b"}}}}}),
			bot.Request{Kind: bot.Submit, Action: bot.ActTag, Target: 7, Values: map[string]string{bot.FieldTagsID: "a, b"}}},
		{"command with a user", withData(dg.InteractionApplicationCommand, dg.ApplicationCommandInteractionData{Name: bot.CommandName, Options: []*dg.ApplicationCommandInteractionDataOption{
			{Name: string(bot.ActPromote), Type: dg.ApplicationCommandOptionSubCommand, Options: []*dg.ApplicationCommandInteractionDataOption{
				{Name: bot.UserArgName, Type: dg.ApplicationCommandOptionUser, Value: "99"}}}}}),
			bot.Request{Kind: bot.Command, Action: bot.ActPromote, Args: map[string]string{bot.UserArgName: "99"}}},
		{"command with words", withData(dg.InteractionApplicationCommand, dg.ApplicationCommandInteractionData{Name: bot.CommandName, Options: []*dg.ApplicationCommandInteractionDataOption{
			{Name: string(bot.ActStats), Type: dg.ApplicationCommandOptionSubCommand, Options: []*dg.ApplicationCommandInteractionDataOption{
				{Name: bot.StatsPeriodArg, Type: dg.ApplicationCommandOptionString, Value: "30d"},
				{Name: bot.StatsRouteArg, Type: dg.ApplicationCommandOptionString, Value: "product"}}}}}),
			bot.Request{Kind: bot.Command, Action: bot.ActStats, Args: map[string]string{bot.StatsPeriodArg: "30d", bot.StatsRouteArg: "product"}}},
		{"command option of the wrong type", withData(dg.InteractionApplicationCommand, dg.ApplicationCommandInteractionData{Name: bot.CommandName, Options: []*dg.ApplicationCommandInteractionDataOption{
			{Name: string(bot.ActPromote), Type: dg.ApplicationCommandOptionSubCommand, Options: []*dg.ApplicationCommandInteractionDataOption{
				{Name: bot.UserArgName, Type: dg.ApplicationCommandOptionString, Value: "99"}}}}}),
			bot.Request{Kind: bot.Command, Action: bot.ActPromote}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := c.request(tt.i)
			tt.want.Actor = bot.Actor{Conn: "community", UserID: "42", Name: "Mona M.", Groups: []string{"r1"}, AvatarURL: member.User.AvatarURL("")}
			if tt.want.Values == nil && got.Values != nil && len(got.Values) == 0 {
				got.Values = nil
			}
			if !ok || fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("request =\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
	dm := &dg.Interaction{Type: dg.InteractionMessageComponent, User: &dg.User{ID: "43", Username: "alice", Avatar: "abc"},
		Data: dg.MessageComponentInteractionData{CustomID: "liaison:approve:1"}}
	if got, ok := c.request(dm); !ok || got.Actor.UserID != "43" || got.Actor.Name != "alice" || !strings.Contains(got.Actor.AvatarURL, "/avatars/43/abc") {
		t.Errorf("DM request actor = %+v", got.Actor)
	}
	if _, ok := c.request(&dg.Interaction{Type: dg.InteractionMessageComponent, Data: dg.MessageComponentInteractionData{CustomID: "liaison:claim:1"}}); ok {
		t.Error("an interaction with nobody behind it became a request")
	}
}

func TestRenderCard(t *testing.T) {
	c := &bot.Card{
		ItemID: 7, Status: bot.ItemClaimed, Title: "#7 · community #help", AuthorName: "Maria (@maria)", Text: "Is it down?",
		Link: "https://discord.com/channels/1/2/3", LinkLabel: "View original", Footer: "From Discord · Liaison item #7",
		Facts: []bot.Fact{
			{Label: "Status", Value: "🙋 Claimed", Inline: true},
			{Label: "Empty"},
			{Label: "Attachments", Links: []bot.Link{{Text: "📎 a[1].png", URL: "https://cdn.example.com/a(1).png"}, {Text: "bad", URL: "javascript:alert(1)"}}},
		},
		Notes:      []string{"✏️ Edited by the author"},
		ThreadName: "#7 Maria: Is it down?",
		Actions: []bot.Button{
			{Action: bot.ActReply, Target: 7, Label: "Reply publicly", Style: bot.StylePrimary},
			{Action: bot.ActUnclaim, Target: 7, Label: "Unclaim"},
			{Action: bot.ActTag, Target: 7, Label: "Tag"},
			{Action: bot.ActIgnore, Target: 7, Label: "Ignore", Style: bot.StyleDanger},
		},
	}
	e := cardEmbed(c)
	if e.Title != c.Title || e.URL != c.Link || e.Description != c.Text || e.Author == nil || e.Author.Name != c.AuthorName {
		t.Errorf("card embed = %+v", e)
	}
	if e.Footer == nil || e.Footer.Text != "From Discord · Liaison item #7\n✏️ Edited by the author" {
		t.Errorf("footer = %+v", e.Footer)
	}
	if len(e.Fields) != 2 || e.Fields[0].Name != "Status" || e.Fields[0].Value != "🙋 Claimed" || !e.Fields[0].Inline {
		t.Fatalf("fields = %+v", e.Fields)
	}
	if got, want := e.Fields[1].Value, "[📎 a\\[1\\].png](https://cdn.example.com/a%281%29.png)\nbad"; got != want {
		t.Errorf("links field = %q, want %q", got, want)
	}
	if got := threadName(c); got != c.ThreadName {
		t.Errorf("thread name = %q", got)
	}
	comps := cardComponents(c)
	if len(comps) != 1 {
		t.Fatalf("%d rows, want 1", len(comps))
	}
	row := comps[0].(dg.ActionsRow).Components
	want := []dg.Button{
		{Label: "Reply publicly", Style: dg.PrimaryButton, CustomID: "liaison:reply:7"},
		{Label: "Unclaim", Style: dg.SecondaryButton, CustomID: "liaison:unclaim:7"},
		{Label: "Tag", Style: dg.SecondaryButton, CustomID: "liaison:tag:7"},
		{Label: "Ignore", Style: dg.DangerButton, CustomID: "liaison:ignore:7"},
		{Label: "View original", Style: dg.LinkButton, URL: c.Link},
	}
	if fmt.Sprint(row) != fmt.Sprint(want) {
		t.Errorf("buttons = %+v\nwant %+v", row, want)
	}
}

// TestMarkdownLink: the links the domain makes (an attachment, the public
// reply) render with their own text and URL; no part of the text, which
// may be an attachment's name a member chose, can end the label early and
// start a link of its own.
func TestMarkdownLink(t *testing.T) {
	for _, tc := range []struct{ name, text, url, want string }{
		{"Plain", "View the public reply", "https://discord.com/channels/1/2/3", "[View the public reply](https://discord.com/channels/1/2/3)"},
		{"Brackets", "📎 a[1].png", "https://cdn.example.com/a(1).png", "[📎 a\\[1\\].png](https://cdn.example.com/a%281%29.png)"},
		{"BackslashClosesLabel", "📎 x\\](https://evil.example) [y", "https://cdn.example.com/f",
			"[📎 x\\\\\\](https://evil.example) \\[y](https://cdn.example.com/f)"},
		{"TrailingBackslash", "📎 x\\", "https://cdn.example.com/f", "[📎 x\\\\](https://cdn.example.com/f)"},
		{"NotALink", "bad", "javascript:alert(1)", "bad"},
		{"NoText", " ", "https://cdn.example.com/f", "https://cdn.example.com/f"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := markdownLink(bot.Link{Text: tc.text, URL: tc.url}); got != tc.want {
				t.Errorf("markdownLink(%q, %q) = %q, want %q", tc.text, tc.url, got, tc.want)
			}
		})
	}
}

// TestRelayedText: what a Discord member writes, and what a staff member
// drafts, as the other side shows it once the domain has sanitised it and
// the adapter has rendered it. Discord renders [label](url) in embeds and
// in webhook posts: every such link shows where it goes, and nothing
// reorders the text.
func TestRelayedText(t *testing.T) {
	for _, tc := range []struct {
		name, content string
		embeds        []*dg.MessageEmbed
		want          string
	}{
		{"MaskedLink", "[https://acme.com](https://evil.example)", nil, "https://acme.com (https://evil.example)"},
		{"AngleURL", "[https://acme.com](<https://evil.example>)", nil, "https://acme.com (https://evil.example)"},
		{"Escaped", `\[https://acme.com\](https://evil.example)`, nil, "https://acme.com (https://evil.example)"},
		{"Nested", "[[https://acme.com]](https://evil.example)", nil, "[https://acme.com] (https://evil.example)"},
		{"RLO", "safe text \u202egnp.exe", nil, "safe text gnp.exe"},
		{"LinkPreview", "look", []*dg.MessageEmbed{{Title: "Acme \u202enigol", Description: "[Sign in](https://evil.example/login)", URL: "https://evil.example/"}},
			"look\nAcme nigol — Sign in (https://evil.example/login) — https://evil.example/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := bot.Sanitize(messageText(&dg.Message{Content: tc.content, Embeds: tc.embeds}))
			if got := cardEmbed(&bot.Card{ItemID: 1, Title: "#1 · community", Text: text}).Description; got != tc.want {
				t.Errorf("%q shows on a card as %q, want %q", tc.content, got, tc.want)
			}
		})
	}

	signer := &bot.Profile{Name: "Alice \u202eMartin", Title: "PM"}
	post := bot.Attribute(signer, "Acme", "See [https://acme.com/docs](<https://evil.example/docs>) \u2067or this\u2069", "42", "")
	if got, want := publicContent(&post, true), "<@42> See https://acme.com/docs (https://evil.example/docs) or this"; got != want {
		t.Errorf("public post = %q, want %q", got, want)
	}
	if got, want := webhookUsername(post.Username), "Alice Martin · Acme"; got != want {
		t.Errorf("webhook username = %q, want %q", got, want)
	}
	preview := draftEmbed(&bot.DraftCard{DraftID: 1, Title: "Draft #1", PreviewText: post.Reply, Preview: post})
	if want := "See https://acme.com/docs (https://evil.example/docs) or this\n— Alice Martin, PM at Acme"; preview.Description != want {
		t.Errorf("draft preview = %q, want %q", preview.Description, want)
	}
}

func TestRenderDraftCard(t *testing.T) {
	d := &bot.DraftCard{
		DraftID: 3, Kind: bot.DraftReply, State: bot.DraftPending, Title: "Draft #3 · public reply (v1)",
		Preview:     bot.PublicPost{Username: "Alice Martin · Acme", AvatarURL: "https://cdn.example.com/alice.png", Signature: "— Alice Martin, PM at Acme"},
		PreviewText: "@Maria Hello", Facts: []bot.Fact{{Label: "State", Value: "⏳ Waiting for an approver", Inline: true}},
		Notes:   []string{"⚠️ note"},
		Actions: []bot.Button{{Action: bot.ActApprove, Target: 3, Label: "Approve", Style: bot.StylePrimary}},
	}
	custom := *d
	custom.CustomIdentity = true
	e := draftEmbed(&custom)
	if e.Author == nil || e.Author.Name != "Alice Martin · Acme" || e.Author.IconURL != "https://cdn.example.com/alice.png" || e.Description != "@Maria Hello" {
		t.Errorf("custom identity preview = %+v, author %+v", e, e.Author)
	}
	signed := *d
	signed.PreviewNote = "Posted by the app."
	e = draftEmbed(&signed)
	if e.Author != nil || e.Description != "@Maria Hello\n— Alice Martin, PM at Acme" || e.Footer == nil || e.Footer.Text != "Posted by the app.\n⚠️ note" {
		t.Errorf("signed preview = %+v, footer %+v", e, e.Footer)
	}
	retraction := custom
	retraction.Kind, retraction.PreviewText = bot.DraftRetraction, "(deleted)"
	if e := draftEmbed(&retraction); e.Author != nil {
		t.Errorf("a retraction previews an author: %+v", e.Author)
	}
	if comps := draftComponents(&bot.DraftCard{DraftID: 3, State: bot.DraftRejected}); comps == nil || len(comps) != 0 {
		t.Errorf("no actions render as %#v, want an empty, non-nil list that clears old buttons", comps)
	}
}

func TestRenderWithinLimits(t *testing.T) {
	long := strings.Repeat("word ", 2000)
	var facts []bot.Fact
	for i := 0; i < 30; i++ {
		facts = append(facts, bot.Fact{Label: strings.Repeat("l", 300), Value: long, Links: []bot.Link{{Text: "x", URL: "https://example.com/"}}})
	}
	var actions []bot.Button
	for i := 0; i < 30; i++ {
		actions = append(actions, bot.Button{Action: bot.ActTag, Target: int64(i), Label: strings.Repeat("b", 100)})
	}
	c := &bot.Card{ItemID: 7, Status: bot.ItemNew, Title: strings.Repeat("s", 300), AuthorName: strings.Repeat("a", 300),
		Text: long, Link: "not a url", LinkLabel: "View original", Facts: facts, Footer: long, Notes: []string{long}, ThreadName: long, Actions: actions}
	checkEmbed(t, cardEmbed(c))
	if e := cardEmbed(c); e.URL != "" {
		t.Errorf("card links %q", e.URL)
	}
	checkRows(t, cardComponents(c))
	if n := utf8.RuneCountInString(threadName(c)); n < 1 || n > maxThreadName {
		t.Errorf("thread name has %d characters", n)
	}
	d := &bot.DraftCard{DraftID: 3, Title: strings.Repeat("t", 300), PreviewText: long, Preview: bot.PublicPost{Signature: long, Username: long},
		Facts: facts, PreviewNote: long, Notes: []string{long}, Actions: actions}
	checkEmbed(t, draftEmbed(d))
	d.CustomIdentity = true
	checkEmbed(t, draftEmbed(d))
	checkRows(t, draftComponents(d))
}

func checkEmbed(t *testing.T, e *dg.MessageEmbed) {
	t.Helper()
	total := utf8.RuneCountInString(e.Title) + utf8.RuneCountInString(e.Description)
	if utf8.RuneCountInString(e.Title) > maxTitle || utf8.RuneCountInString(e.Description) > maxDescription {
		t.Errorf("title %d, description %d characters", utf8.RuneCountInString(e.Title), utf8.RuneCountInString(e.Description))
	}
	if e.Author != nil {
		total += utf8.RuneCountInString(e.Author.Name)
		if utf8.RuneCountInString(e.Author.Name) > maxAuthorName {
			t.Errorf("author %d characters", utf8.RuneCountInString(e.Author.Name))
		}
	}
	if e.Footer != nil {
		total += utf8.RuneCountInString(e.Footer.Text)
		if utf8.RuneCountInString(e.Footer.Text) > maxFooter {
			t.Errorf("footer %d characters", utf8.RuneCountInString(e.Footer.Text))
		}
	}
	if len(e.Fields) > maxFields {
		t.Errorf("%d fields", len(e.Fields))
	}
	for _, f := range e.Fields {
		total += utf8.RuneCountInString(f.Name) + utf8.RuneCountInString(f.Value)
		if f.Name == "" || f.Value == "" || utf8.RuneCountInString(f.Name) > maxFieldName || utf8.RuneCountInString(f.Value) > maxFieldValue {
			t.Errorf("field %q has %d characters", f.Name, utf8.RuneCountInString(f.Value))
		}
	}
	if total > maxEmbedTotal {
		t.Errorf("embed totals %d characters", total)
	}
}

func checkRows(t *testing.T, rows []dg.MessageComponent) {
	t.Helper()
	if len(rows) > maxRows {
		t.Errorf("%d rows", len(rows))
	}
	for _, r := range rows {
		bs := r.(dg.ActionsRow).Components
		if len(bs) < 1 || len(bs) > maxRowLength {
			t.Errorf("a row of %d buttons", len(bs))
		}
		for _, b := range bs {
			b := b.(dg.Button)
			if utf8.RuneCountInString(b.Label) > maxButtonLabel || len(b.CustomID) > maxCustomID {
				t.Errorf("button %q (%q) breaks a limit", b.Label, b.CustomID)
			}
		}
	}
}

func TestModal(t *testing.T) {
	form := &bot.Form{Action: bot.ActProfile, Title: strings.Repeat("T", 60), Fields: []bot.Field{
		{ID: "name", Label: "Public name", Placeholder: "Alice Martin", Hint: "shown with your replies", Initial: "Alice", Required: true, MaxLen: 60},
		{ID: "text", Label: strings.Repeat("L", 60), Hint: strings.Repeat("h", 150), Multiline: true, MaxLen: 9000},
		{ID: "consent", Kind: bot.FieldCheck, Label: "Consent", Option: "I agree", Checked: true, Keyword: "yes", MaxLen: 10,
			TypedLabel: "Consent: type yes", TypedPrompt: "type yes to agree"},
		{ID: "consent2", Kind: bot.FieldCheck, Keyword: "yes", TypedLabel: "Again", TypedPrompt: "type yes"},
		{ID: "f5", Label: "Five"}, {ID: "f6", Label: "Six"},
	}}
	m := modal(form)
	if m.CustomID != "liaison:profile:0" || utf8.RuneCountInString(m.Title) != maxModalTitle || len(m.Components) != maxRows {
		t.Fatalf("modal = %q %q, %d rows", m.CustomID, m.Title, len(m.Components))
	}
	input := func(i int) dg.TextInput { return m.Components[i].(dg.ActionsRow).Components[0].(dg.TextInput) }
	want := []dg.TextInput{
		{CustomID: "name", Label: "Public name", Style: dg.TextInputShort, Placeholder: "Alice Martin", Value: "Alice", Required: true, MaxLength: 60},
		{CustomID: "text", Label: strings.Repeat("L", 44) + "…", Style: dg.TextInputParagraph, Placeholder: strings.Repeat("h", 99) + "…", MaxLength: maxInputLength},
		{CustomID: "consent", Label: "Consent: type yes", Style: dg.TextInputShort, Placeholder: "type yes to agree", Value: "yes", MaxLength: 10},
		{CustomID: "consent2", Label: "Again", Style: dg.TextInputShort, Placeholder: "type yes"},
	}
	for i, w := range want {
		if got := input(i); got != w {
			t.Errorf("input %d =\n %+v\nwant\n %+v", i, got, w)
		}
	}
}

func TestCommand(t *testing.T) {
	cmd := command()
	if cmd.Name != bot.CommandName || cmd.Description != bot.CommandDescription {
		t.Errorf("command = %q: %q", cmd.Name, cmd.Description)
	}
	subs := bot.SubCommands()
	if len(cmd.Options) != len(subs) {
		t.Fatalf("%d subcommands, want %d", len(cmd.Options), len(subs))
	}
	for i, sc := range subs {
		o := cmd.Options[i]
		if o.Name != sc.Name || o.Description != sc.Description || o.Type != dg.ApplicationCommandOptionSubCommand {
			t.Errorf("subcommand %d = %+v, want %+v", i, o, sc)
		}
		if len(o.Options) != len(sc.Args) {
			t.Errorf("subcommand %s options = %+v, want %+v", sc.Name, o.Options, sc.Args)
			continue
		}
		for j, a := range sc.Args {
			want := dg.ApplicationCommandOptionString
			if a.Kind == bot.ArgUser {
				want = dg.ApplicationCommandOptionUser
			}
			if g := o.Options[j]; g.Name != a.Name || g.Type != want || g.Description != a.Description || g.Required != a.Required {
				t.Errorf("subcommand %s option %d = %+v, want %+v", sc.Name, j, g, a)
			}
		}
	}
	// promote takes a required user; stats an optional period and route,
	// as words.
	byName := map[string]*dg.ApplicationCommandOption{}
	for _, o := range cmd.Options {
		byName[o.Name] = o
	}
	if p := byName["promote"]; p == nil || len(p.Options) != 1 || p.Options[0].Name != bot.UserArgName || p.Options[0].Type != dg.ApplicationCommandOptionUser || !p.Options[0].Required {
		t.Errorf("promote = %+v", p)
	}
	st := byName["stats"]
	if st == nil || len(st.Options) != 2 || st.Options[0].Name != "period" || st.Options[1].Name != "route" {
		t.Fatalf("stats = %+v", st)
	}
	for _, o := range st.Options {
		if o.Type != dg.ApplicationCommandOptionString || o.Required {
			t.Errorf("stats option %+v: want an optional string", o)
		}
	}
}

func TestNextBackoff(t *testing.T) {
	var got []time.Duration
	for d := registerBackoffMin; len(got) < 12; d = nextBackoff(d) {
		got = append(got, d)
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second,
		64 * time.Second, 128 * time.Second, 256 * time.Second, 5 * time.Minute, 5 * time.Minute, 5 * time.Minute}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("backoff = %v, want %v", got, want)
	}
}

// TestAPIURLRewrite: requests for discord.com go to the base URL, under its
// path; others go out untouched.
func TestAPIURLRewrite(t *testing.T) {
	var seen []string
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		seen = append(seen, r.URL.String()+" host="+r.Host)
		return &http.Response{StatusCode: 200, Body: http.NoBody, Request: r}, nil
	})
	client, err := httpClient("http://127.0.0.1:8080/discord/", base)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{dg.EndpointGateway, "https://cdn.example.com/a.png"} {
		resp, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	want := []string{"http://127.0.0.1:8080/discord/api/v9/gateway host=", "https://cdn.example.com/a.png host=cdn.example.com"}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("requests went to %q, want %q", seen, want)
	}
	for _, bad := range []string{"127.0.0.1:8080", "ftp://x", "http://", "http://h/?q=1"} {
		if _, err := httpClient(bad, nil); err == nil {
			t.Errorf("api_url %q accepted", bad)
		}
	}
	if c, err := httpClient("", nil); c != nil || err != nil {
		t.Errorf("no api_url, no transport: %v, %v; want the session's own client", c, err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
