package slackfake_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
)

// A message shortcut reaches the app as Slack documents it, over Socket Mode
// and HTTP mode, even from a channel the bot is not in; its trigger opens a
// modal once, and its response_url answers the person alone.
func TestMessageShortcut(t *testing.T) {
	f := mustStart(t, func(o *slackfake.Options) { o.AckTimeout = 5 * time.Second })
	s := dialRaw(t, f)
	s.next() // hello
	ts, err := f.Post(alice, random, "Where is the export button?")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.MessageShortcut(alice, random, ts, "send_to_team"); err != nil {
		t.Fatal(err)
	}
	frame := s.next() // the bot is not in #random: no message event came first
	if frame["type"] != "interactive" {
		t.Fatalf("frame = %v, want an interactive envelope", frame)
	}
	p := frame["payload"].(map[string]any)
	sameShape(t, "interactive_message_action.json", p)
	msg, _ := p["message"].(map[string]any)
	if p["type"] != "message_action" || p["callback_id"] != "send_to_team" || p["message_ts"] != ts ||
		msg["ts"] != ts || msg["user"] != alice || msg["text"] != "Where is the export button?" ||
		p["channel"].(map[string]any)["id"] != random || p["user"].(map[string]any)["id"] != alice {
		t.Fatalf("payload = %s", jsonString(p))
	}

	c := api(f)
	modal := slack.ModalViewRequest{Type: slack.VTModal, Title: slack.NewTextBlockObject(slack.PlainTextType, "Send to team", false, false),
		Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewSectionBlock(slack.NewTextBlockObject(slack.PlainTextType, "Pick a route", false, false), nil, nil)}}}
	if _, err := c.OpenView(p["trigger_id"].(string), modal); err != nil {
		t.Fatalf("views.open with the shortcut's trigger: %v", err)
	}
	if _, err := c.OpenView(p["trigger_id"].(string), modal); err == nil || !strings.Contains(err.Error(), "exchanged_trigger_id") {
		t.Errorf("a trigger used twice: %v", err)
	}
	if err := slack.PostWebhook(p["response_url"].(string), &slack.WebhookMessage{Text: "Sent to the team", ResponseType: slack.ResponseTypeEphemeral}); err != nil {
		t.Fatal(err)
	}
	e := f.Ephemerals(alice)
	if len(e) != 1 || e[0].Channel != random || e[0].Text != "Sent to the team" || len(f.Ephemerals(bob)) != 0 {
		t.Errorf("ephemerals = %+v", e)
	}
	if msgs := f.Messages(random); len(msgs) != 1 {
		t.Errorf("#random holds %d messages, want the member's alone", len(msgs))
	}

	if err := f.MessageShortcut(bob, random, ts, "send_to_team"); err == nil {
		t.Error("a shortcut by someone outside the channel was delivered")
	}
	if err := f.MessageShortcut(alice, random, "1.000000", "send_to_team"); err == nil {
		t.Error("a shortcut on no message was delivered")
	}
}

func TestMessageShortcutHTTPMode(t *testing.T) {
	f := mustStart(t)
	a := startApp(t, f.SigningSecret())
	f.SetHTTPEndpoints(a.srv.URL+"/events", a.srv.URL+"/interactive", a.srv.URL+"/commands")
	ts, err := f.Post(alice, random, "Is there an API?")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.MessageShortcut(alice, random, ts, "member_history"); err != nil {
		t.Fatal(err)
	}
	wait(t, f, "the shortcut's ack", func() bool { return len(f.Acks()) == 1 })
	var got []received
	for _, r := range a.requests() {
		if r.path == "/interactive" {
			got = append(got, r)
		}
	}
	if len(got) != 1 {
		t.Fatalf("%d interactivity requests, want 1", len(got))
	}
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(got[0].body))
	req.Header.Set("Content-Type", got[0].header.Get("Content-Type"))
	cb, err := slack.InteractionCallbackParse(req)
	if err != nil || got[0].problem != "" {
		t.Fatalf("callback: %v %s", err, got[0].problem)
	}
	if cb.Type != slack.InteractionTypeMessageAction || cb.CallbackID != "member_history" || cb.Channel.ID != random ||
		cb.Message.Timestamp != ts || cb.Message.User != alice || cb.User.ID != alice || cb.TriggerID == "" || cb.ResponseURL == "" {
		t.Errorf("callback = %+v", cb)
	}
}
