package slack

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	slackapi "github.com/slack-go/slack"

	"github.com/liaison-bot/liaison/bot"
)

// A shortcut's modal carries the message in its private_metadata, within
// Slack's 3,000 characters: the files go first, then the end of the text,
// and the answer's response_url always stays.
func TestFitMeta(t *testing.T) {
	var files []shortcutFile
	for i := range 40 {
		files = append(files, shortcutFile{Name: fmt.Sprintf("log-%d.txt", i), URL: "https://acme.slack.com/files/U0MEMBER/F" + strings.Repeat("0", 100) + fmt.Sprint(i)})
	}
	base := shortcutMessage{Channel: "C0RANDOM", TS: "1700000000.000100", Thread: "1700000000.000001", User: "U0MEMBER"}
	short, long, many := base, base, base
	short.Text = "How do I export?"
	long.Text = strings.Repeat("<é> & \"ü\" ", 800) // JSON escapes <, > and & as six bytes each
	many.Text, many.Files = "see the logs", files
	for _, c := range []struct {
		name  string
		m     shortcutMessage
		whole bool
	}{{"short", short, true}, {"long text", long, false}, {"many files", many, false}} {
		orig := c.m
		meta := fitMeta(formMeta{ResponseURL: "https://hooks.slack.com/app/T0COMMUNITY/1234567890/abcdefghijklmnopqrstuvwx", Message: &c.m})
		md, _ := json.Marshal(meta)
		switch {
		case len(md) > privateMetadataMax:
			t.Errorf("%s: %d bytes of metadata", c.name, len(md))
		case meta.ResponseURL == "":
			t.Errorf("%s: the response_url was dropped", c.name)
		case !strings.HasPrefix(orig.Text, meta.Message.Text):
			t.Errorf("%s: the text is not the message's start: %q", c.name, meta.Message.Text)
		case c.whole != reflect.DeepEqual(*meta.Message, orig):
			t.Errorf("%s: kept whole = %v, want %v", c.name, !c.whole, c.whole)
		case len(c.m.Files) > 0 && meta.Message.Text != orig.Text:
			t.Errorf("%s: the text was clipped before the files were dropped", c.name)
		case !reflect.DeepEqual(c.m, orig):
			t.Errorf("%s: the caller's message was changed", c.name)
		}
		v := modalView(&bot.Form{Action: bot.ActSendToTeam, Title: "Send to team"}, meta)
		var back formMeta
		if err := json.Unmarshal([]byte(v.PrivateMetadata), &back); err != nil || back.ResponseURL == "" || back.Message == nil || back.Message.TS != orig.TS {
			t.Errorf("%s: private_metadata %q (%v)", c.name, v.PrivateMetadata, err)
		}
	}
}

// A shortcut run in a direct or group message says so, and the domain
// refuses to relay a private conversation.
func TestShortcutDirect(t *testing.T) {
	for _, c := range []struct {
		id, name string
		direct   bool
	}{
		{"C0RANDOM", "random", false},
		{"G0PRIVATE", "team-private", false},
		{"D0ALICE", "directmessage", true},
		{"C0GROUPDM", "mpdm-alice--bob--mia-1", true},
	} {
		var cb slackapi.InteractionCallback
		cb.Channel.ID, cb.Channel.Name = c.id, c.name
		cb.Message.Msg = slackapi.Msg{User: "U0MEMBER", Text: "hi", Timestamp: "1700000000.000100"}
		if got := shortcutOf(cb).Direct; got != c.direct {
			t.Errorf("%s (%s): Direct = %v, want %v", c.id, c.name, got, c.direct)
		}
	}
}
