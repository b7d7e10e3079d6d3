package slackfake_test

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// TestBlockLimits: blocks Slack refuses for a Block Kit limit are refused
// with invalid_blocks and a reason naming the place, and store nothing.
func TestBlockLimits(t *testing.T) {
	f := mustStart(t)
	c := api(f)
	long := func(n int) string { return strings.Repeat("x", n) }
	text := func(s string) string { return fmt.Sprintf(`{"type":"mrkdwn","text":%q}`, s) }
	plainText := func(s string) string { return fmt.Sprintf(`{"type":"plain_text","text":%q}`, s) }
	fields := func(n, size int) string {
		var fs []string
		for range n {
			fs = append(fs, text(long(size)))
		}
		return `[{"type":"section","fields":[` + strings.Join(fs, ",") + `]}]`
	}
	button := func(label, extra string) string {
		return `[{"type":"actions","elements":[{"type":"button","action_id":"a","text":` + plainText(label) + extra + `}]}]`
	}
	confirm := func(title, body, ok, deny string) string {
		return `,"confirm":{"title":` + plainText(title) + `,"text":` + plainText(body) + `,"confirm":` + plainText(ok) + `,"deny":` + plainText(deny) + `}`
	}
	checkboxes := func(n int, initial string) string {
		var opts []string
		for i := range n {
			opts = append(opts, fmt.Sprintf(`{"text":%s,"value":"v%d"}`, plainText("option"), i))
		}
		return `[{"type":"input","label":` + plainText("Consent") + `,"element":{"type":"checkboxes","action_id":"value","options":[` + strings.Join(opts, ",") + `]` + initial + `}}]`
	}
	for _, tc := range []struct {
		name, blocks, at string // at: the json-pointer the reason names; "" when accepted
	}{
		{"TenFields", fields(10, 2000), ""},
		{"ElevenFields", fields(11, 10), "/blocks/0/fields"},
		{"LongField", fields(2, 2001), "/blocks/0/fields/0/text"},
		{"SectionText", `[{"type":"section","text":` + text(long(3001)) + `}]`, "/blocks/0/text/text"},
		{"EmptySection", `[{"type":"section"}]`, "/blocks/0"},
		{"ButtonText", button(long(76), ""), "/blocks/0/elements/0/text/text"},
		{"ButtonMrkdwn", `[{"type":"actions","elements":[{"type":"button","action_id":"a","text":` + text("Go") + `}]}]`, "/blocks/0/elements/0/text/type"},
		{"ButtonStyle", button("Go", `,"style":"loud"`), "/blocks/0/elements/0/style"},
		{"Confirm", button("Go", confirm(long(100), long(300), long(30), long(30))), ""},
		{"ConfirmTitle", button("Go", confirm(long(101), "sure?", "Yes", "No")), "/blocks/0/elements/0/confirm/title/text"},
		{"ConfirmText", button("Go", confirm("Sure?", long(301), "Yes", "No")), "/blocks/0/elements/0/confirm/text/text"},
		{"ConfirmOK", button("Go", confirm("Sure?", "sure?", long(31), "No")), "/blocks/0/elements/0/confirm/confirm/text"},
		{"ConfirmNoDeny", button("Go", `,"confirm":{"title":`+plainText("Sure?")+`,"text":`+plainText("sure?")+`,"confirm":`+plainText("Yes")+`}`), "/blocks/0/elements/0/confirm/deny"},
		{"ElevenContext", `[{"type":"context","elements":[` + strings.TrimSuffix(strings.Repeat(text("x")+",", 11), ",") + `]}]`, "/blocks/0/elements"},
		{"ImageNoAlt", `[{"type":"context","elements":[{"type":"image","image_url":"https://example.com/a.png"}]}]`, "/blocks/0/elements/0/alt_text"},
		{"Checkbox", checkboxes(1, `,"initial_options":[{"text":`+plainText("option")+`,"value":"v0"}]`), ""},
		{"ElevenCheckboxes", checkboxes(11, ""), "/blocks/0/element/options"},
		{"CheckboxInitialElsewhere", checkboxes(1, `,"initial_options":[{"text":`+plainText("option")+`,"value":"v9"}]`), "/blocks/0/element/initial_options/0"},
		{"InitialBeyondMax", `[{"type":"input","label":` + plainText("Reply") + `,"element":{"type":"plain_text_input","action_id":"value","max_length":5,"initial_value":"123456"}}]`, "/blocks/0/element/initial_value"},
		{"MaxLength", `[{"type":"input","label":` + plainText("Reply") + `,"element":{"type":"plain_text_input","action_id":"value","max_length":3001}}]`, "/blocks/0/element/max_length"},
		{"Placeholder", `[{"type":"input","label":` + plainText("Reply") + `,"element":{"type":"plain_text_input","action_id":"value","placeholder":` + plainText(long(151)) + `}}]`, "/blocks/0/element/placeholder/text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := c.PostMessage(general, slack.MsgOptionText("x", false),
				slack.UnsafeMsgOptionEndpoint(f.APIURL()+"chat.postMessage", func(v url.Values) { v.Set("blocks", tc.blocks) }))
			if tc.at == "" {
				if err != nil {
					t.Errorf("refused: %v", err)
				}
				return
			}
			var se slack.SlackErrorResponse
			if !errors.As(err, &se) || se.Err != "invalid_blocks" {
				t.Fatalf("error = %v, want invalid_blocks", err)
			}
			if why := strings.Join(se.ResponseMetadata.Messages, " "); !strings.Contains(why, "[json-pointer:"+tc.at+"]") {
				t.Errorf("reason %q does not point at %s", why, tc.at)
			}
		})
	}
	if n := len(f.Messages(general)); n != 3 {
		t.Errorf("%d messages stored, want the 3 accepted ones", n)
	}
}

// TestModalLimits: a modal's title, submit and close are plain_text of at
// most 24 characters.
func TestModalLimits(t *testing.T) {
	f := mustStart(t)
	c := api(f)
	s := mustConnect(t, f)
	_, ts, err := c.PostMessage(general, slack.MsgOptionText("card", false),
		slack.MsgOptionBlocks(slack.NewActionBlock("", slack.NewButtonBlockElement("open", "1", slack.NewTextBlockObject(slack.PlainTextType, "Open", false, false)))))
	if err != nil {
		t.Fatal(err)
	}
	title := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
	}
	input := slack.NewInputBlock("text", title("Reply"), nil, slack.NewPlainTextInputBlockElement(nil, "value"))
	for _, tc := range []struct {
		name string
		view slack.ModalViewRequest
		ok   bool
	}{
		{"Title24", slack.ModalViewRequest{Type: slack.VTModal, Title: title(strings.Repeat("t", 24)), Submit: title("Save"), Blocks: slack.Blocks{BlockSet: []slack.Block{input}}}, true},
		{"Title25", slack.ModalViewRequest{Type: slack.VTModal, Title: title(strings.Repeat("t", 25)), Submit: title("Save"), Blocks: slack.Blocks{BlockSet: []slack.Block{input}}}, false},
		{"Submit25", slack.ModalViewRequest{Type: slack.VTModal, Title: title("Reply"), Submit: title(strings.Repeat("s", 25)), Blocks: slack.Blocks{BlockSet: []slack.Block{input}}}, false},
		{"Close25", slack.ModalViewRequest{Type: slack.VTModal, Title: title("Reply"), Submit: title("Save"), Close: title(strings.Repeat("c", 25)), Blocks: slack.Blocks{BlockSet: []slack.Block{input}}}, false},
		{"NoSubmitWithInputs", slack.ModalViewRequest{Type: slack.VTModal, Title: title("Reply"), Blocks: slack.Blocks{BlockSet: []slack.Block{input}}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := f.Click(alice, general, ts, "open"); err != nil {
				t.Fatal(err)
			}
			ev := s.next(socketmode.EventTypeInteractive)
			s.Ack(*ev.Request)
			_, err := c.OpenView(ev.Data.(slack.InteractionCallback).TriggerID, tc.view)
			if tc.ok != (err == nil) {
				t.Errorf("views.open: err = %v, want ok = %v", err, tc.ok)
			}
			if err != nil && slackError(err) != "invalid_arguments" {
				t.Errorf("error = %v, want invalid_arguments", err)
			}
		})
	}
}
