package discordfake_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
)

// restSession is a discordgo session of the fake's bot for REST calls only.
func restSession(t *testing.T, f *discordfake.Fake) *discordgo.Session {
	t.Helper()
	s, err := discordgo.New(f.BotToken())
	if err != nil {
		t.Fatal(err)
	}
	s.Client = f.HTTPClient()
	return s
}

// upload posts payload_json and files as discordgo's MultipartBodyWithJSON
// writes them.
func upload(s *discordgo.Session, channelID string, payload any, files ...*discordgo.File) (*discordgo.Message, error) {
	ctype, body, err := discordgo.MultipartBodyWithJSON(payload, files)
	if err != nil {
		return nil, err
	}
	ep := discordgo.EndpointChannelMessages(channelID)
	resp, err := s.RequestRaw("POST", ep, ctype, body, ep, 0)
	if err != nil {
		return nil, err
	}
	var m discordgo.Message
	return &m, json.Unmarshal(resp, &m)
}

func png(name string, data []byte) *discordgo.File {
	return &discordgo.File{Name: name, ContentType: "image/png", Reader: bytes.NewReader(data)}
}

// TestUploadAttachment: a file posted with a message is an attachment with
// its name, size, type, alt text and URL; an embed showing it points at
// that URL; the fake keeps the bytes.
func TestUploadAttachment(t *testing.T) {
	f := discordfake.MustNew(t, discordfake.Options{})
	s := restSession(t, f)
	chart := bytes.Repeat([]byte("\x89PNG"), 50)
	payload := map[string]any{
		"embeds":      []map[string]any{{"title": "Digest", "image": map[string]string{"url": "attachment://chart.png"}}},
		"attachments": []map[string]any{{"id": 0, "filename": "chart.png", "description": "a chart"}},
	}
	m, err := upload(s, general, payload, png("chart.png", chart))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Attachments) != 1 {
		t.Fatalf("attachments = %+v", m.Attachments)
	}
	a := m.Attachments[0]
	if a.Filename != "chart.png" || a.Size != len(chart) || a.ContentType != "image/png" || a.ID == "0" ||
		!strings.HasPrefix(a.URL, "https://cdn.discordapp.com/attachments/"+general+"/") {
		t.Errorf("attachment = %+v", a)
	}
	if len(m.Embeds) != 1 || m.Embeds[0].Image == nil || m.Embeds[0].Image.URL != a.URL {
		t.Errorf("embed image = %+v, want the attachment's URL", m.Embeds[0].Image)
	}
	stored := f.Messages(general)
	if len(stored) != 1 || stored[0].Attachments[0].Description != "a chart" {
		t.Errorf("stored = %+v", stored)
	}
	if data, ok := f.AttachmentData(a.URL); !ok || !bytes.Equal(data, chart) {
		t.Errorf("AttachmentData = %d bytes, %v; want the chart", len(data), ok)
	}
	if _, ok := f.AttachmentData("https://cdn.discordapp.com/attachments/nope"); ok {
		t.Error("AttachmentData found an attachment that does not exist")
	}
}

// TestUploadRefused: malformed uploads are refused with Discord's form
// error, and post nothing.
func TestUploadRefused(t *testing.T) {
	f := discordfake.MustNew(t, discordfake.Options{})
	s := restSession(t, f)
	var eleven []*discordgo.File
	for i := range 11 {
		eleven = append(eleven, png(fmt.Sprintf("c%d.png", i), []byte("x")))
	}
	for name, tc := range map[string]struct {
		payload any
		files   []*discordgo.File
		path    string
	}{
		"TooManyFiles": {map[string]any{"content": "x"}, eleven, "files"},
		"UnknownAttachment": {map[string]any{"content": "x", "attachments": []map[string]any{{"id": 1, "filename": "c.png"}}},
			[]*discordgo.File{png("c.png", []byte("x"))}, "attachments"},
		"NoFileName": {map[string]any{"content": "x"}, []*discordgo.File{png("", []byte("x"))}, "files[0]"},
		"LongAltText": {map[string]any{"content": "x", "attachments": []map[string]any{{"id": 0, "description": strings.Repeat("a", 1025)}}},
			[]*discordgo.File{png("c.png", []byte("x"))}, "attachments"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := upload(s, general, tc.payload, tc.files...)
			re := restErr(t, err, 400, 50035)
			if !strings.Contains(string(re.ResponseBody), `"`+tc.path+`"`) {
				t.Errorf("error %s does not name %s", re.ResponseBody, tc.path)
			}
		})
	}
	t.Run("NoAttachFiles", func(t *testing.T) {
		f.SetBotPermissions(general, discordfake.PermAll&^discordfake.PermAttachFiles)
		defer f.SetBotPermissions(general, discordfake.PermAll)
		_, err := upload(s, general, map[string]any{"content": "x"}, png("c.png", []byte("x")))
		restErr(t, err, 403, 50013)
	})
	if n := len(f.Messages(general)); n != 0 {
		t.Errorf("%d messages after refused uploads", n)
	}
}
