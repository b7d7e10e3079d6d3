package redact_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/liaison-bot/liaison/internal/redact"
)

type secretValuer struct{ v string }

func (s secretValuer) LogValue() slog.Value { return slog.StringValue("valuer " + s.v) }

type post struct {
	Channel string
	Token   string
}

// TestHandler: through the text and the JSON handler, a registered secret
// and a token in a URL are hidden wherever a record carries them — the
// message, string and error values, groups, values a LogValuer gives,
// printed structs, attributes bound by With and WithGroup — including a
// secret registered after the logger was derived; the rest is untouched.
func TestHandler(t *testing.T) {
	const (
		configured = "configured-bot-token"
		learnt     = "learnt-webhook-token"
	)
	for name, newHandler := range map[string]func(*bytes.Buffer) slog.Handler{
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			log := redact.Logger(slog.New(newHandler(&buf)), configured)
			conn := log.With("conn", "community", "token", configured).WithGroup("discord")
			redact.Hide(conn, learnt) // as the adapter does when it learns a webhook

			ue := &url.Error{Op: "Post", URL: "https://discord.com/api/v9/webhooks/1/" + learnt, Err: errors.New("EOF")}
			log.Info("token "+configured+" in the message", "err", fmt.Errorf("publish: %w", ue))
			conn.Warn("webhook failed",
				"reason", "Post https://discord.com/api/v9/webhooks/2/unregistered-token-value: EOF",
				slog.Group("call", "token", learnt, "status", 500),
				"valuer", secretValuer{learnt},
				"post", post{Channel: "help", Token: learnt},
				"count", 3)
			log.Info("nothing secret", "channel", "general", "post", post{Channel: "general"})

			out := buf.String()
			for _, secret := range []string{configured, learnt, "unregistered-token-value"} {
				if strings.Contains(out, secret) {
					t.Errorf("%q is in the logs:\n%s", secret, out)
				}
			}
			for _, want := range []string{redact.Mask, "/webhooks/1/***", "/webhooks/2/***", "webhook failed", "community", "nothing secret", "general", "500"} {
				if !strings.Contains(out, want) {
					t.Errorf("%q missing from the logs:\n%s", want, out)
				}
			}
			if n := strings.Count(out, "\n"); n != 3 {
				t.Errorf("%d lines, want 3:\n%s", n, out)
			}
		})
	}
}

// TestLoggerOnce: wrapping a logger that already hides secrets adds to its
// set instead of stacking a second handler; Hide leaves other loggers alone.
func TestLoggerOnce(t *testing.T) {
	var buf bytes.Buffer
	log := redact.Logger(slog.New(slog.NewTextHandler(&buf, nil)), "first-secret")
	again := redact.Logger(log, "second-secret")
	if again != log {
		t.Error("Logger wrapped a redacting logger again")
	}
	again.Info("first-secret second-secret")
	if out := buf.String(); strings.Contains(out, "-secret") || !strings.Contains(out, redact.Mask+" "+redact.Mask) {
		t.Errorf("logs = %q, want both secrets hidden", out)
	}
	redact.Hide(slog.New(slog.NewTextHandler(&buf, nil)), "ignored") // no panic, no effect
	redact.Hide(nil, "ignored")
}

// TestHandlerLevels: the wrapper asks the next handler what it takes.
func TestHandlerLevels(t *testing.T) {
	h := redact.NewHandler(slog.NewTextHandler(&bytes.Buffer{}, &slog.HandlerOptions{Level: slog.LevelWarn}), nil)
	if h.Enabled(context.Background(), slog.LevelInfo) || !h.Enabled(context.Background(), slog.LevelError) {
		t.Error("Enabled does not follow the next handler")
	}
}
