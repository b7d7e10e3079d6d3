package slack_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/handlers/slack"
)

// TestRefusalsAreLoggedAtABoundedRate: anyone can send HTTP-mode requests
// that are refused. A hundred of them — forged signatures, bodies that
// cannot be read — are all refused, and leave one warning per reason, not
// one per request.
func TestRefusalsAreLoggedAtABoundedRate(t *testing.T) {
	var logs bytes.Buffer
	svc := bot.NewService(nil, nil, bot.NewRouter(nil, nil), bot.Settings{})
	c, err := slack.New(slack.Options{
		Name: "community", BotToken: "xoxb-1", SigningSecret: "secret", HTTPMode: true,
		Log: slog.New(slog.NewTextHandler(&logs, nil)),
	}, svc)
	check(t, err)
	h := c.Handler()
	for i := range 100 {
		body := []byte(`{"type":"event_callback"}`)
		req := httptest.NewRequest(http.MethodPost, "/events", bytes.NewReader(body))
		if i%2 == 0 {
			req.Header = signed("not-the-secret", time.Now(), body)
		} else {
			req = httptest.NewRequest(http.MethodPost, "/events", iotest.ErrReader(errors.New("connection reset by peer")))
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("request %d: status %d, want 401", i, rec.Code)
		}
	}
	var warnings []string
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "level=WARN") {
			warnings = append(warnings, line)
		}
	}
	if len(warnings) != 2 || !strings.Contains(warnings[0], "signature") || !strings.Contains(warnings[1], "body") {
		t.Fatalf("%d warnings after 100 refused requests, want one per reason (signature, body):\n%s", len(warnings), strings.Join(warnings, "\n"))
	}
}
