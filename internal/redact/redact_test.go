package redact_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"syscall"
	"testing"

	"github.com/liaison-bot/liaison/internal/redact"
)

const (
	hookToken = "Qm9uam91ci1sZS1tb25kZS1jZWNpLWVzdC11bi10b2tlbg_x-Y"
	hookURL   = "https://discord.com/api/v9/webhooks/1576662780990328832/" + hookToken
)

func TestText(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"webhook execute", `Post "` + hookURL + `?wait=true": context deadline exceeded`,
			`Post "https://discord.com/api/v9/webhooks/1576662780990328832/***?wait=true": context deadline exceeded`},
		{"webhook message", hookURL + "/messages/42?thread_id=7",
			"https://discord.com/api/v9/webhooks/1576662780990328832/***/messages/42?thread_id=7"},
		{"webhook in a path only", "/api/v10/webhooks/1/" + hookToken + "/messages/@original", "/api/v10/webhooks/1/***/messages/@original"},
		{"interaction callback", "https://discord.com/api/v9/interactions/99/aW50ZXJhY3Rpb24tdG9rZW4/callback",
			"https://discord.com/api/v9/interactions/99/***/callback"},
		{"slack incoming webhook", "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX",
			"https://hooks.slack.com/services/T000/B000/***"},
		{"slack bot token", "auth with xoxb-1234-5678-abcdEFGH failed", "auth with xoxb-*** failed"},
		{"slack user token", "xoxp-1-2-3-abc", "xoxp-***"},
		{"slack app token", "token=xapp-1-A0-1-ff00", "token=xapp-***"},
		{"bot authorization", "Authorization: Bot MTA1NzYzMjc4OTMyODMyLjE2.abc.def_ghi-jkl", "Authorization: Bot " + redact.Mask},
		{"bearer", "Bearer abcdefghijklmnopqrstuvwxyz012345", "Bearer " + redact.Mask},
		{"discord bot token alone", "token MTA1NzY2Mjc4MDk5MDMyODgzMg.GhJkLm.abcdefghijklmnopqrstuvwxyz0123456789 used",
			"token " + redact.Mask + " used"},
		{"database URL", "open postgres://liaison:s3cr%40t@db.internal:5432/liaison?sslmode=require: refused",
			"open postgres://liaison:***@db.internal:5432/liaison?sslmode=require: refused"},
		{"password parameter", "postgres://liaison@db/l?sslmode=disable&password=s3cret", "postgres://liaison@db/l?sslmode=disable&password=***"},
		{"keyword DSN", "host=db user=liaison password=s3cret dbname=l", "host=db user=liaison password=*** dbname=l"},
		{"socket mode ticket", "wss://wss-primary.slack.com/link/?ticket=1a2b3c&app_id=A1", "wss://wss-primary.slack.com/link/?ticket=***&app_id=A1"},
		// What holds no secret is left as it is.
		{"webhook without token", "DELETE /api/v9/webhooks/1576662780990328832", "DELETE /api/v9/webhooks/1576662780990328832"},
		{"channel URL", `Post "https://discord.com/api/v9/channels/1/messages": EOF`, `Post "https://discord.com/api/v9/channels/1/messages": EOF`},
		{"host and port", "http://127.0.0.1:8080/a@b", "http://127.0.0.1:8080/a@b"},
		{"user without password", "postgres://postgres@127.0.0.1:5432/test", "postgres://postgres@127.0.0.1:5432/test"},
		{"prose", "Bot ready. Draft #3 could not be published: HTTP 500", "Bot ready. Draft #3 could not be published: HTTP 500"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := redact.Text(tc.in); got != tc.want {
				t.Errorf("Text(%q)\n = %q\nwant %q", tc.in, got, tc.want)
			}
			if got := redact.Text(tc.want); got != tc.want {
				t.Errorf("Text is not idempotent: Text(%q) = %q", tc.want, got)
			}
		})
	}
}

func TestURL(t *testing.T) {
	for in, want := range map[string]string{
		hookURL + "?wait=true":                           "https://discord.com/api/v9/webhooks/1576662780990328832/***?wait=true",
		"postgres://u:p%2Fw@h:5432/d":                    "postgres://u:***@h:5432/d",
		"https://discord.com/api/v9/channels/1/messages": "https://discord.com/api/v9/channels/1/messages",
	} {
		if got := redact.URL(in); got != want {
			t.Errorf("URL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestError: a failed call's *url.Error, wrapped as the adapters wrap it,
// says no token; the chain is intact for errors.Is and errors.As; the
// given secret values are hidden too; a clean error is returned as is.
func TestError(t *testing.T) {
	for _, cause := range []error{context.DeadlineExceeded, syscall.ECONNRESET} {
		ue := &url.Error{Op: "Post", URL: hookURL + "?wait=true", Err: cause}
		err := redact.Error(fmt.Errorf("execute webhook in channel 7: %w", ue), "bot-token-value")
		if strings.Contains(err.Error(), hookToken) {
			t.Errorf("%v: the token is in %q", cause, err)
		}
		if !strings.Contains(err.Error(), "/webhooks/1576662780990328832/***") || !strings.Contains(err.Error(), cause.Error()) {
			t.Errorf("%v: %q, want the URL with its token hidden and the cause", cause, err)
		}
		if !errors.Is(err, cause) {
			t.Errorf("%v: errors.Is lost the cause", cause)
		}
		var got *url.Error
		if !errors.As(err, &got) || strings.Contains(got.URL, hookToken) {
			t.Errorf("%v: the *url.Error in the chain still holds the token: %+v", cause, got)
		}
	}

	err := redact.Error(fmt.Errorf("auth failed for %s and Bot bot-token-value", "xoxb-1-2-3"), "bot-token-value")
	if strings.Contains(err.Error(), "bot-token-value") || strings.Contains(err.Error(), "xoxb-1-2-3") {
		t.Errorf("secret values in %q", err)
	}

	clean := errors.New("HTTP 500 Internal Server Error")
	if got := redact.Error(clean, "bot-token-value"); got != clean {
		t.Errorf("a clean error was rewrapped: %#v", got)
	}
	if redact.Error(nil) != nil {
		t.Error("Error(nil) is not nil")
	}
}

// TestURLsInPlace: URLs rewrites the *url.Error of every branch of a
// chain, joined errors included, so that what wraps them later is clean.
func TestURLsInPlace(t *testing.T) {
	a := &url.Error{Op: "Patch", URL: hookURL + "/messages/1", Err: errors.New("EOF")}
	b := &url.Error{Op: "Delete", URL: hookURL + "/messages/2", Err: errors.New("EOF")}
	redact.URLs(errors.Join(fmt.Errorf("edit: %w", a), b))
	later := fmt.Errorf("wrapped after: %w", a)
	for _, s := range []string{a.URL, b.URL, later.Error()} {
		if strings.Contains(s, hookToken) {
			t.Errorf("token left in %q", s)
		}
	}
}

func TestSecrets(t *testing.T) {
	s := redact.NewSecrets("abc", "", "s3cret", "s3cret-and-more")
	got := s.Hide("abc s3cret s3cret-and-more")
	if want := "abc " + redact.Mask + " " + redact.Mask; got != want {
		t.Errorf("Hide = %q, want %q (short values kept, longest first)", got, want)
	}
	s.Add("late-secret")
	if got := s.Hide("a late-secret"); got != "a "+redact.Mask {
		t.Errorf("a value added later is not hidden: %q", got)
	}
}

// FuzzText: whatever surrounds it, a webhook token in a webhook URL does
// not survive Text, and Text changes nothing the second time.
func FuzzText(f *testing.F) {
	f.Add("Post \"", hookToken, "?wait=true\": EOF")
	f.Add("", "abc", "/messages/1")
	f.Add("xoxb-1 ", "tok", " postgres://u:p@h/d")
	f.Fuzz(func(t *testing.T, before, token, after string) {
		token = strings.Map(func(r rune) rune {
			if r < 'A' || r > 'z' || (r > 'Z' && r < 'a') {
				return -1
			}
			return r
		}, token)
		if len(token) < 4 {
			return
		}
		in := before + "https://discord.com/api/v9/webhooks/123/" + token + after
		out := redact.Text(in)
		if strings.Contains(out, "/webhooks/123/"+token) {
			t.Errorf("Text(%q) = %q keeps the token", in, out)
		}
		if again := redact.Text(out); again != out {
			t.Errorf("not idempotent: %q then %q", out, again)
		}
	})
}
