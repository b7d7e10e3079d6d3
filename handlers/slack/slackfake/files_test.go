package slackfake_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
)

// slackErr is the Slack error code of err, "" when it has none.
func slackErr(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	return ""
}

// TestUploadFlow: slack-go's three-step upload shares the file in the
// channel as a message of the bot, the comment as its text; the fake keeps
// the bytes.
func TestUploadFlow(t *testing.T) {
	f := mustStart(t)
	c := api(f)
	ctx := context.Background()
	chart := bytes.Repeat([]byte("\x89PNG chart "), 100)
	sum, err := c.UploadFileContext(ctx, slack.UploadFileParameters{
		Reader: bytes.NewReader(chart), FileSize: len(chart), Filename: "liaison-weekly-2025-01-13.png",
		Title: "Digest weekly", AltTxt: "a chart", InitialComment: "*Digest* &lt;!here&gt;", Channel: general,
	})
	if err != nil {
		t.Fatal(err)
	}
	ups := f.Uploads()
	if len(ups) != 1 {
		t.Fatalf("%d uploads, want 1", len(ups))
	}
	up := ups[0]
	if up.FileID != sum.ID || !bytes.Equal(up.Data, chart) || up.Filename != "liaison-weekly-2025-01-13.png" || up.Title != "Digest weekly" || up.AltText != "a chart" || !up.Complete {
		t.Errorf("upload = %+v (answer %+v)", up, sum)
	}
	msgs := f.Messages(general)
	if len(msgs) != 1 {
		t.Fatalf("%d messages in the channel, want the shared file", len(msgs))
	}
	m := msgs[0]
	if m.BotID == "" || m.Text != "*Digest* &lt;!here&gt;" || len(m.Files) != 1 || m.Files[0].ID != sum.ID || m.Files[0].Name != "liaison-weekly-2025-01-13.png" || m.Files[0].Mimetype != "image/png" {
		t.Errorf("shared message = %+v", m)
	}
	if !slices.Equal(up.Shared, []string{general + "/" + m.TS}) {
		t.Errorf("shared in %v, want %s/%s", up.Shared, general, m.TS)
	}
	if p := slackfake.Pings(m); len(p) != 0 {
		t.Errorf("the comment pings %v", p)
	}
	// The history shows the file, as Find reads it.
	h, err := c.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: general})
	if err != nil || len(h.Messages) != 1 || len(h.Messages[0].Files) != 1 || h.Messages[0].Files[0].Name != "liaison-weekly-2025-01-13.png" {
		t.Fatalf("history = %+v, %v", h, err)
	}
}

// TestUploadPrivate: completed without a channel, the file is shared
// nowhere.
func TestUploadPrivate(t *testing.T) {
	f := mustStart(t)
	_, err := api(f).UploadFileContext(context.Background(), slack.UploadFileParameters{Content: "hello", FileSize: 5, Filename: "a.txt"})
	if err != nil {
		t.Fatal(err)
	}
	if ups := f.Uploads(); len(ups) != 1 || !ups[0].Complete || len(ups[0].Shared) != 0 || string(ups[0].Data) != "hello" {
		t.Errorf("uploads = %+v", ups)
	}
	if n := len(f.Messages(general)); n != 0 {
		t.Errorf("%d messages, want none", n)
	}
}

// TestUploadRefusals: what Slack refuses, the fake refuses, sharing
// nothing.
func TestUploadRefusals(t *testing.T) {
	ctx := context.Background()
	begin := func(t *testing.T, f *slackfake.Fake, name string, length int) *slack.GetUploadURLExternalResponse {
		t.Helper()
		u, err := api(f).GetUploadURLExternalContext(ctx, slack.GetUploadURLExternalParameters{FileName: name, FileSize: length})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(u.UploadURL, f.URL()+"/") || !strings.HasPrefix(u.FileID, "F") {
			t.Fatalf("upload url %q, file %q", u.UploadURL, u.FileID)
		}
		return u
	}
	post := func(t *testing.T, url string, body []byte) (int, string) {
		t.Helper()
		resp, err := http.Post(url, "application/octet-stream", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	complete := func(f *slackfake.Fake, channel string, ids ...string) error {
		var files []slack.FileSummary
		for _, id := range ids {
			files = append(files, slack.FileSummary{ID: id})
		}
		_, err := api(f).CompleteUploadExternalContext(ctx, slack.CompleteUploadExternalParameters{Files: files, Channel: channel})
		return err
	}

	t.Run("Arguments", func(t *testing.T) {
		f := mustStart(t)
		for _, tc := range []struct {
			params map[string]string
			want   string
		}{
			{map[string]string{"length": "3"}, "invalid_arguments"},
			{map[string]string{"filename": "a.png"}, "missing_argument"},
			{map[string]string{"filename": "a.png", "length": "0"}, "missing_argument"},
			{map[string]string{"filename": "a.png", "length": "three"}, "invalid_arguments"},
			{map[string]string{"filename": "a.png", "length": "3", "alt_txt": strings.Repeat("a", 1001)}, "alt_txt_too_large"},
			{map[string]string{"filename": "a.png", "length": "2000000000"}, "file_upload_size_restricted"},
		} {
			if got := callError(t, f, "files.getUploadURLExternal", tc.params); got != tc.want {
				t.Errorf("%v: error %q, want %q", tc.params, got, tc.want)
			}
		}
		if n := len(f.Uploads()); n != 0 {
			t.Errorf("%d uploads begun by refused calls", n)
		}
	})
	t.Run("SizeMismatch", func(t *testing.T) {
		f := mustStart(t)
		u := begin(t, f, "a.png", 10)
		if code, body := post(t, u.UploadURL, []byte("short")); code != http.StatusBadRequest || !strings.Contains(body, "size mismatch") {
			t.Errorf("short upload answered %d %q, want 400", code, body)
		}
		if err := complete(f, general, u.FileID); slackErr(err) != "file_not_found" {
			t.Errorf("completing a file never uploaded: %v, want file_not_found", err)
		}
		if code, body := post(t, u.UploadURL, []byte("0123456789")); code != http.StatusOK || body != "OK - 10" {
			t.Errorf("upload answered %d %q", code, body)
		}
		if code, _ := post(t, u.UploadURL, []byte("0123456789")); code != http.StatusBadRequest {
			t.Errorf("a second upload to the same URL answered %d, want 400", code)
		}
		if code, _ := post(t, f.URL()+"/upload/v1/nope", []byte("x")); code != http.StatusNotFound {
			t.Errorf("an unknown upload URL answered %d, want 404", code)
		}
	})
	t.Run("Complete", func(t *testing.T) {
		f := mustStart(t)
		u := begin(t, f, "a.png", 3)
		if code, _ := post(t, u.UploadURL, []byte("abc")); code != http.StatusOK {
			t.Fatalf("upload answered %d", code)
		}
		for _, tc := range []struct {
			params map[string]string
			want   string
		}{
			{map[string]string{"channel_id": general}, "invalid_arguments"},
			{map[string]string{"files": `{"id":"` + u.FileID + `"}`, "channel_id": general}, "invalid_arguments"},
			{map[string]string{"files": `[]`, "channel_id": general}, "invalid_arguments"},
			{map[string]string{"files": `[{"id":"F99999999"}]`, "channel_id": general}, "file_not_found"},
			{map[string]string{"files": `[{"id":"` + u.FileID + `"}]`, "channel_id": "C0NOWHERE"}, "channel_not_found"},
			{map[string]string{"files": `[{"id":"` + u.FileID + `"}]`, "channel_id": random}, "not_in_channel"},
			{map[string]string{"files": `[{"id":"` + u.FileID + `"}]`, "channel_id": secret}, "channel_not_found"},
			{map[string]string{"files": `[{"id":"` + u.FileID + `"}]`, "channel_id": general, "thread_ts": "123.456"}, "invalid_thread_ts"},
			{map[string]string{"files": `[{"id":"` + u.FileID + `"}]`, "channel_id": general, "initial_comment": strings.Repeat("a", 40001)}, "msg_too_long"},
		} {
			if got := callError(t, f, "files.completeUploadExternal", tc.params); got != tc.want {
				t.Errorf("%v: error %q, want %q", tc.params, got, tc.want)
			}
		}
		for _, ch := range []string{general, random} {
			if n := len(f.Messages(ch)); n != 0 {
				t.Errorf("%d messages in %s after refused calls", n, ch)
			}
		}
		if err := complete(f, general, u.FileID); err != nil {
			t.Fatal(err)
		}
		if err := complete(f, general, u.FileID); slackErr(err) != "file_not_found" {
			t.Errorf("completing twice: %v, want file_not_found", err)
		}
		if n := len(f.Messages(general)); n != 1 {
			t.Errorf("%d messages, want the file shared once", n)
		}
	})
	t.Run("Scope", func(t *testing.T) {
		f := mustStart(t, func(o *slackfake.Options) {
			o.Scopes = slices.DeleteFunc(slackfake.DefaultScopes(), func(s string) bool { return s == "files:write" })
		})
		_, err := api(f).GetUploadURLExternalContext(ctx, slack.GetUploadURLExternalParameters{FileName: "a.png", FileSize: 3})
		if slackErr(err) != "missing_scope" {
			t.Errorf("without files:write: %v, want missing_scope", err)
		}
	})
}

// callError calls a Web API method with form params and the bot token and
// returns Slack's error code.
func callError(t *testing.T, f *slackfake.Fake, method string, params map[string]string) string {
	t.Helper()
	form := make(map[string][]string)
	for k, v := range params {
		form[k] = []string{v}
	}
	form["token"] = []string{f.BotToken()}
	resp, err := http.PostForm(f.APIURL()+method, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if body.OK {
		return ""
	}
	return body.Error
}
