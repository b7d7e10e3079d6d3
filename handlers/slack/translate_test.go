package slack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/liaison-bot/liaison/bot"
)

// testConn is a Conn that makes no call: its user cache is filled.
func testConn(t testing.TB) *Conn {
	t.Helper()
	svc := bot.NewService(nil, nil, bot.NewRouter(nil, nil), bot.Settings{})
	c, err := New(Options{Name: "test", BotToken: "xoxb-test", AppToken: "xapp-test", APIURL: "http://127.0.0.1:1"}, svc)
	if err != nil {
		t.Fatal(err)
	}
	c.self = identity{UserID: "U0BOT", BotID: "B0BOT", TeamURL: "https://acme.slack.com/"}
	c.users["U1"] = userInfo{Name: "mia", RealName: "Mia Lopez", Display: "Mia", at: time.Now()}
	return c
}

func TestPlainText(t *testing.T) {
	c := testConn(t)
	for _, tc := range []struct{ wire, want string }{
		{"plain", "plain"},
		{"a &lt; b &amp;&amp; c &gt; d", "a < b && c > d"},
		{"hi <@U1>", "hi @Mia"},
		{"hi <@U2|otto>", "hi @otto"},
		{"<!here> <!channel> <!everyone>", "@here @channel @everyone"},
		{"<!subteam^S1|@team> <!subteam^S2>", "@team @S2"},
		{"see <#C1|general> and <#C2>", "see #general and #C2"},
		{"<https://example.com/a?b=1&amp;c=2|the docs>", "the docs (https://example.com/a?b=1&c=2)"},
		{"<https://example.com>", "https://example.com"},
		// Slack's own masked link shows where it goes.
		{"<https://evil.example|https://acme.com>", "https://acme.com (https://evil.example)"},
		{"<https://evil.example|https://evil.example>", "https://evil.example"},
		{"<mailto:a@b.c|a@b.c>", "a@b.c"},
		{"<!date^1392734382^{date_num}|2014-02-18>", "2014-02-18"},
		{"unclosed <tag", "unclosed <tag"},
	} {
		if got := c.plainText(context.Background(), tc.wire); got != tc.want {
			t.Errorf("plainText(%q) = %q, want %q", tc.wire, got, tc.want)
		}
	}
}

// TestRelayedText: what a Slack member writes, as the other side shows it
// once the adapter has read it and the domain has sanitised it. A link
// shows where it goes, whichever syntax disguised it, and nothing reorders
// the text. Slack sends the URLs a member types wrapped in <…>.
func TestRelayedText(t *testing.T) {
	c := testConn(t)
	for _, tc := range []struct{ name, wire, want string }{
		{"SlackLink", "<https://evil.example|https://acme.com>", "https://acme.com (https://evil.example)"},
		{"MaskedLink", "[https://acme.com](<https://evil.example>)", "https://acme.com (https://evil.example)"},
		{"MaskedLinkTypedInBrackets", "[https://acme.com](&lt;https://evil.example&gt;)", "https://acme.com (https://evil.example)"},
		{"MaskedLinkBare", "see [the docs](https://evil.example/x) now", "see the docs (https://evil.example/x) now"},
		{"NestedBrackets", "[[https://acme.com]](<https://evil.example>)", "[https://acme.com] (https://evil.example)"},
		{"Escaped", "\\[https://acme.com\\](<https://evil.example>)", "https://acme.com (https://evil.example)"},
		{"SlackLinkInMaskedLink", "[https://acme.com](<https://evil.example|https://acme.com>)",
			"[https://acme.com]\u200b(https://acme.com (https://evil.example))"},
		{"MaskedLinkAsSlackLabel", "<https://evil.example|[https://acme.com](https://acme.com)>", "https://acme.com (https://evil.example)"},
		{"RLO", "safe text \u202egnp.exe", "safe text gnp.exe"},
		{"BidiInLabel", "<https://evil.example/gnp.exe|\u202egnp.exe>", "gnp.exe (https://evil.example/gnp.exe)"},
		{"Isolates", "\u2066a\u2069 \u2067b\u2069 \u2068c\u2069 \u200e\u200f\u061c", "a b c "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := bot.Sanitize(c.plainText(context.Background(), tc.wire))
			if got != tc.want {
				t.Errorf("wire %q shows as %q, want %q", tc.wire, got, tc.want)
			}
			if shown := escape(got); strings.Contains(shown, "<") {
				t.Errorf("wire %q is relayed to Slack with markup: %q", tc.wire, shown)
			}
		})
	}
}

func TestEscape(t *testing.T) {
	// Untrusted text: the domain's sanitiser breaks mentions, escaping the rest.
	if got := escapeDomain(bot.Sanitize("<@U1> <!here> & <https://x|y>")); strings.Contains(got, "<") {
		t.Errorf("untrusted text kept markup: %q", got)
	}
	// A staff mention the domain wrote stays live.
	if got := escapeDomain("Answered by <@U0ALICE> & co"); got != "Answered by <@U0ALICE> &amp; co" {
		t.Errorf("escapeDomain = %q", got)
	}
	if got := link("https://a.test/x", "a|b <c>"); got != "<https://a.test/x|a¦b &lt;c&gt;>" {
		t.Errorf("link = %q", got)
	}
	if got := link("javascript:alert(1)", "x"); got != "x javascript:alert(1)" {
		t.Errorf("unsafe link = %q", got)
	}
}

func TestChunks(t *testing.T) {
	long := strings.Repeat("word &amp; ", 1000) // 11000 characters
	parts := chunks(long, textObjectMax)
	if strings.Join(parts, "") != long {
		t.Fatal("chunks lost text")
	}
	for i, p := range parts {
		if n := utf8.RuneCountInString(p); n > textObjectMax {
			t.Errorf("part %d has %d characters", i, n)
		}
		if strings.Count(p, "&") != strings.Count(p, ";") {
			t.Errorf("part %d splits an entity", i)
		}
	}
	if got := clip("abc &amp; def", 7); got != "abc …" {
		t.Errorf("clip = %q", got)
	}
	if got := clip("ab <@U1> cd", 6); got != "ab …" {
		t.Errorf("clip = %q", got)
	}
}

func TestPublicMessage(t *testing.T) {
	p := &bot.PublicPost{Mention: "<@U1>", MentionUserID: "U1", Reply: "Yes <b> & @\u200bhere", Signature: "— Alice Martin, PM at Acme", Byline: "Alice Martin, PM at <Acme>"}
	text, blocks := publicMessage(p, true)
	if text != "<@U1> Yes &lt;b&gt; &amp; @\u200bhere" || len(blocks) != 2 {
		t.Errorf("custom: %q, %d blocks", text, len(blocks))
	}
	if got := blockJSON(t, blocks[1:]); !strings.Contains(got, `"text":"Alice Martin, PM at \u0026lt;Acme\u0026gt;"`) {
		t.Errorf("byline block = %s", got)
	}
	text, blocks = publicMessage(p, false)
	if text != "<@U1> Yes &lt;b&gt; &amp; @\u200bhere\n— Alice Martin, PM at Acme" || blocks != nil {
		t.Errorf("fallback: %q, %d blocks", text, len(blocks))
	}
	// A mention of anyone else than the member answered is not live.
	p.Mention = "<!channel>"
	if text, _ := publicMessage(p, true); !strings.HasPrefix(text, "&lt;!channel&gt;") {
		t.Errorf("foreign mention: %q", text)
	}
}

func TestClassify(t *testing.T) {
	kind := func(err error) string {
		var se *bot.SendError
		if !errors.As(err, &se) {
			return "unknown"
		}
		return map[bot.SendErrorKind]string{bot.UnknownOutcome: "unknown", bot.NotAppliedKind: "not_applied", bot.RetryAfterKind: "retry_after", bot.PermanentKind: "permanent"}[se.Kind]
	}
	slackErr := func(code string) error { return fmt.Errorf("call: %w", slackapi.SlackErrorResponse{Err: code}) }
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"RateLimited", &slackapi.RateLimitedError{RetryAfter: 3 * time.Second}, "retry_after"},
		{"ChannelNotFound", slackErr("channel_not_found"), "permanent"},
		{"NotInChannel", slackErr("not_in_channel"), "permanent"},
		{"InvalidAuth", slackErr("invalid_auth"), "permanent"},
		{"MissingScope", slackErr("missing_scope"), "permanent"},
		{"InvalidBlocks", slackErr("invalid_blocks"), "permanent"},
		{"RatelimitedBody", slackErr("ratelimited"), "not_applied"},
		{"ServiceUnavailable", slackErr("service_unavailable"), "not_applied"},
		{"InternalError", slackErr("internal_error"), "unknown"},
		{"FatalError", slackErr("fatal_error"), "unknown"},
		{"429NoHeader", slackapi.StatusCodeError{Code: 429}, "not_applied"},
		{"502", slackapi.StatusCodeError{Code: 502}, "unknown"},
		{"404", slackapi.StatusCodeError{Code: 404}, "permanent"},
		{"Dial", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, "not_applied"},
		{"Timeout", context.DeadlineExceeded, "unknown"},
		{"AlreadyPermanent", bot.Permanent(errors.New("no card")), "permanent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := kind(classify(tc.err)); got != tc.want {
				t.Errorf("classify(%v) is %s, want %s", tc.err, got, tc.want)
			}
		})
	}
	var se *bot.SendError
	if errors.As(classify(&slackapi.RateLimitedError{RetryAfter: 3 * time.Second}), &se) && se.After != 3*time.Second {
		t.Errorf("retry after %s, want 3s", se.After)
	}
}

// TestIncoming: messages of other apps, webhooks and Liaison itself are
// flagged for the domain, which drops them; nothing is looked up for them.
func TestIncoming(t *testing.T) {
	c := testConn(t)
	for _, tc := range []struct {
		name                 string
		msg                  slackevents.MessageEvent
		bot, webhook, self   bool
		authorName, username string
	}{
		{"Person", slackevents.MessageEvent{User: "U1", Text: "hi"}, false, false, false, "Mia", "mia"},
		{"FileShare", slackevents.MessageEvent{User: "U1", SubType: "file_share"}, false, false, false, "Mia", "mia"},
		{"Liaison", slackevents.MessageEvent{User: "U0BOT", BotID: "B0BOT"}, true, false, true, "", ""},
		{"LiaisonCustomized", slackevents.MessageEvent{BotID: "B0BOT", SubType: "bot_message", Username: "Alice Martin · Acme"}, true, true, true, "", ""},
		{"OtherApp", slackevents.MessageEvent{User: "U9", BotID: "B9"}, true, false, false, "", ""},
		{"Webhook", slackevents.MessageEvent{BotID: "B8", SubType: "bot_message"}, true, true, false, "", ""},
		{"PostedAsBot", slackevents.MessageEvent{User: "U1", SubType: "bot_message"}, true, false, false, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := tc.msg
			msg.Channel, msg.TimeStamp = "C1", "1700000000.000100"
			in := c.incoming(context.Background(), &msg)
			if in.Bot != tc.bot || in.Webhook != tc.webhook || in.Self != tc.self {
				t.Errorf("bot, webhook, self = %v, %v, %v; want %v, %v, %v", in.Bot, in.Webhook, in.Self, tc.bot, tc.webhook, tc.self)
			}
			if in.AuthorName != tc.authorName || in.AuthorHandle != tc.username {
				t.Errorf("author = %q (@%q), want %q (@%q)", in.AuthorName, in.AuthorHandle, tc.authorName, tc.username)
			}
			if in.Conn != "test" || in.Channel != "C1" || in.ID != msg.TimeStamp || in.AuthorID != msg.User || in.At.IsZero() {
				t.Errorf("incoming = %+v", in)
			}
		})
	}
	for sub, want := range map[string]bool{"": true, "file_share": true, "thread_broadcast": true, "bot_message": true, "channel_join": false, "channel_topic": false, "pinned_item": false} {
		if contentSubtypes[sub] != want {
			t.Errorf("subtype %q taken as content: %v, want %v", sub, contentSubtypes[sub], want)
		}
	}
}

func TestHelpers(t *testing.T) {
	ts := "1700000000.123456"
	if got := timeTS(tsTime(ts)); got != ts {
		t.Errorf("ts round trip: %q", got)
	}
	if got := builtLink("https://acme.slack.com/", "C1", "1700000000.123456", ""); got != "https://acme.slack.com/archives/C1/p1700000000123456" {
		t.Errorf("link = %q", got)
	}
	if got := builtLink("https://acme.slack.com/", "C1", "1700000001.000001", "1700000000.123456"); got != "https://acme.slack.com/archives/C1/p1700000001000001?thread_ts=1700000000.123456&cid=C1" {
		t.Errorf("reply link = %q", got)
	}
	for arg, want := range map[string]string{"<@U123|bob>": "U123", "<@W123>": "W123", "U123": "U123", "@bob": "", "<!here>": "", "": ""} {
		if got := mentionedUser(arg); got != want {
			t.Errorf("mentionedUser(%q) = %q, want %q", arg, got, want)
		}
	}
}

func TestNewValidates(t *testing.T) {
	svc := bot.NewService(nil, nil, bot.NewRouter(nil, nil), bot.Settings{})
	for name, o := range map[string]Options{
		"NoName":        {BotToken: "xoxb-1", AppToken: "xapp-1"},
		"UserToken":     {Name: "x", BotToken: "xoxp-1", AppToken: "xapp-1"},
		"SocketNoApp":   {Name: "x", BotToken: "xoxb-1"},
		"HTTPNoSecret":  {Name: "x", BotToken: "xoxb-1", HTTPMode: true},
		"AppTokenAsBot": {Name: "x", BotToken: "xapp-1", AppToken: "xapp-1"},
	} {
		if _, err := New(o, svc); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	c, err := New(Options{Name: "x", BotToken: "xoxb-1", SigningSecret: "s", HTTPMode: true}, svc)
	if err != nil {
		t.Fatalf("HTTP mode: %v", err)
	}
	if err := c.Health(); err == nil || !strings.Contains(err.Error(), "auth.test") {
		t.Errorf("Health before Run = %v, want auth.test missing", err)
	}
	for base, want := range map[string]string{
		"":                            "",
		"https://slack.com":           "https://slack.com/api/",
		"http://127.0.0.1:9000/":      "http://127.0.0.1:9000/api/",
		"http://127.0.0.1:9000/slack": "http://127.0.0.1:9000/slack/api/",
	} {
		if got, err := webAPIURL(base); err != nil || got != want {
			t.Errorf("webAPIURL(%q) = %q, %v; want %q", base, got, err, want)
		}
	}
	for _, base := range []string{"127.0.0.1:9000", "ftp://slack.com", "https://slack.com/api/", "http://127.0.0.1:9000/api"} {
		if _, err := New(Options{Name: "x", BotToken: "xoxb-1", AppToken: "xapp-1", APIURL: base}, svc); err == nil {
			t.Errorf("APIURL %q: no error", base)
		}
	}
}
