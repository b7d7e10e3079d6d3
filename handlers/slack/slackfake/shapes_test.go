package slackfake_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"

	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
)

// paths lists the field paths of a JSON value: "a", "a.b", "a[].c"…
func paths(v any, prefix string, out map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			out[p] = true
			paths(e, p, out)
		}
	case []any:
		if len(x) > 0 {
			paths(x[0], prefix+"[]", out)
		}
	}
}

// sameShape checks that every field of the documented example is in got.
func sameShape(t *testing.T, fixture string, got any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", fixture))
	if err != nil {
		t.Fatal(err)
	}
	var want any
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatalf("%s: %v", fixture, err)
	}
	if raw, ok := got.(json.RawMessage); ok {
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatal(err)
		}
	}
	wantPaths, gotPaths := map[string]bool{}, map[string]bool{}
	paths(want, "", wantPaths)
	paths(got, "", gotPaths)
	var missing []string
	for p := range wantPaths {
		if !gotPaths[p] {
			missing = append(missing, p)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("%s: the fake's payload lacks %v\npayload: %s", fixture, missing, jsonString(got))
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// rawSocket is a bare Socket Mode connection that shows the frames as sent.
type rawSocket struct {
	t  *testing.T
	ws *websocket.Conn
}

func dialRaw(t *testing.T, f *slackfake.Fake) *rawSocket {
	_, u, err := api(f).StartSocketModeContext(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ws, res, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	t.Cleanup(func() { ws.Close() })
	return &rawSocket{t: t, ws: ws}
}

// next reads the next frame; envelopes are acked so that none comes twice.
func (s *rawSocket) next() map[string]any {
	s.t.Helper()
	_ = s.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	var frame map[string]any
	if err := s.ws.ReadJSON(&frame); err != nil {
		s.t.Fatal(err)
	}
	if id, ok := frame["envelope_id"].(string); ok {
		if err := s.ws.WriteJSON(map[string]string{"envelope_id": id}); err != nil {
			s.t.Fatal(err)
		}
	}
	return frame
}

func (s *rawSocket) event() map[string]any {
	s.t.Helper()
	return s.next()["payload"].(map[string]any)["event"].(map[string]any)
}

func (s *rawSocket) payload() map[string]any {
	s.t.Helper()
	return s.next()["payload"].(map[string]any)
}

func TestPayloadShapes(t *testing.T) {
	f := mustStart(t, func(o *slackfake.Options) { o.AckTimeout = 5 * time.Second })
	s := dialRaw(t, f)
	c := api(f)

	sameShape(t, "socket_hello.json", s.next())

	ts, _ := f.Post(alice, general, "Hello world")
	sameShape(t, "socket_events_api_message.json", s.next())

	_, _ = f.Reply(bob, general, ts, "I agree")
	sameShape(t, "event_message_reply.json", s.event())

	_ = f.Edit(general, ts, "Hello, world!")
	sameShape(t, "event_message_changed.json", s.event())

	_ = f.Delete(general, ts)
	sameShape(t, "event_message_deleted.json", s.event())

	_ = f.Join(bob, staff)
	sameShape(t, "event_channel_join.json", s.event())

	_, _ = f.PostFile(alice, general, "Here is the log", "crash.txt", "https://files.example/crash.txt")
	sameShape(t, "event_file_share.json", s.event())

	_, _, _ = c.PostMessage(general, slack.MsgOptionText("Pushing is the answer", false), slack.MsgOptionUsername("github"))
	sameShape(t, "event_bot_message.json", s.event())

	button := slack.NewButtonBlockElement("WaXA", "click_me_123", slack.NewTextBlockObject(slack.PlainTextType, "View", true, false))
	_, cardTS, err := c.PostMessage(general, slack.MsgOptionText("card", false), slack.MsgOptionBlocks(slack.NewActionBlock("", button)))
	if err != nil {
		t.Fatal(err)
	}
	s.event() // the echo of the card
	if err := f.Click(alice, general, cardTS, "WaXA"); err != nil {
		t.Fatal(err)
	}
	click := s.payload()
	sameShape(t, "interactive_block_actions.json", click)

	multiline := slack.NewPlainTextInputBlockElement(nil, "ml-value")
	multiline.Multiline = true
	modal := slack.ModalViewRequest{
		Type:            slack.VTModal,
		Title:           slack.NewTextBlockObject(slack.PlainTextType, "Modal with inputs", false, false),
		Submit:          slack.NewTextBlockObject(slack.PlainTextType, "Submit", false, false),
		CallbackID:      "modal-with-inputs",
		PrivateMetadata: "shhh-its-secret",
		NotifyOnClose:   true,
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock("multi-line", slack.NewTextBlockObject(slack.PlainTextType, "Enter your value", false, false), nil, multiline),
		}},
	}
	res, err := c.OpenView(click["trigger_id"].(string), modal)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SubmitView(alice, res.View.ID, map[string]map[string]string{"multi-line": {"ml-value": "This is my example inputted value"}}); err != nil {
		t.Fatal(err)
	}
	sameShape(t, "interactive_view_submission.json", s.payload())
	// The submission's ack had no response_action: the modal closed. Open another to close.
	if err := f.SlashCommand(alice, general, "/weather", "94070"); err != nil {
		t.Fatal(err)
	}
	cmd := s.payload()
	sameShape(t, "slash_command.json", cmd)
	res, err = c.OpenView(cmd["trigger_id"].(string), modal)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.CloseView(alice, res.View.ID); err != nil {
		t.Fatal(err)
	}
	sameShape(t, "interactive_view_closed.json", s.payload())

	f.Disconnect()
	sameShape(t, "socket_disconnect.json", s.next())
}

func TestURLVerificationShape(t *testing.T) {
	f := mustStart(t)
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ = io.ReadAll(r.Body)
		var ev struct{ Challenge string }
		_ = json.Unmarshal(body, &ev)
		_ = json.NewEncoder(w).Encode(map[string]string{"challenge": ev.Challenge})
	}))
	defer srv.Close()
	f.SetHTTPEndpoints(srv.URL, "", "")
	if err := f.VerifyURL(); err != nil {
		t.Fatal(err)
	}
	sameShape(t, "url_verification.json", json.RawMessage(body))
}
