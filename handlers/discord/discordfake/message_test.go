package discordfake_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
)

func TestPings(t *testing.T) {
	t.Parallel()
	f, s, _ := fakeSession(t, allIntents)
	// This test is about mentions: it posts more than the 5 messages per 5 s a channel
	// takes, and discordgo would wait for the limit.
	f.SetRouteLimit("POST /channels/{channel.id}/messages", -1, 0)
	content := "@everyone <@" + alice + "> and <@&" + modRole + "> please look"
	pings := func(t *testing.T, id string) []string {
		t.Helper()
		m, ok := f.MessageByID(id)
		if !ok {
			t.Fatalf("no message %s", id)
		}
		return f.Pings(m)
	}

	for _, tc := range []struct {
		name string
		am   *discordgo.MessageAllowedMentions
		want []string
	}{
		{"no allowed_mentions parses everything", nil, []string{"@everyone", "<@" + alice + ">", "<@&" + modRole + ">"}},
		{"parse [] blocks every ping", &discordgo.MessageAllowedMentions{}, nil},
		{"only the listed user", &discordgo.MessageAllowedMentions{Users: []string{alice}}, []string{"<@" + alice + ">"}},
		{"a listed user absent from the content is not pinged", &discordgo.MessageAllowedMentions{Users: []string{bob}}, nil},
		{"roles by type", &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{discordgo.AllowedMentionTypeRoles}}, []string{"<@&" + modRole + ">"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg, err := s.ChannelMessageSendComplex(general, &discordgo.MessageSend{Content: content, AllowedMentions: tc.am})
			if err != nil {
				t.Fatal(err)
			}
			if got := pings(t, msg.ID); !slices.Equal(got, tc.want) {
				t.Fatalf("Pings = %q, want %q", got, tc.want)
			}
			if tc.am == nil && (!msg.MentionEveryone || len(msg.Mentions) != 1 || len(msg.MentionRoles) != 1) {
				t.Fatalf("message mentions everyone=%v users=%v roles=%v", msg.MentionEveryone, msg.Mentions, msg.MentionRoles)
			}
		})
	}

	t.Run("an edit without allowed_mentions re-parses with the defaults", func(t *testing.T) {
		msg, err := s.ChannelMessageSendComplex(general, &discordgo.MessageSend{Content: content, AllowedMentions: &discordgo.MessageAllowedMentions{}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.ChannelMessageEdit(general, msg.ID, content+" (edited)"); err != nil {
			t.Fatal(err)
		}
		if got := pings(t, msg.ID); !slices.Contains(got, "@everyone") {
			t.Fatalf("Pings after edit = %q, want @everyone", got)
		}
		edit := discordgo.NewMessageEdit(general, msg.ID).SetContent(content + " (edited again)")
		edit.AllowedMentions = &discordgo.MessageAllowedMentions{}
		if _, err := s.ChannelMessageEditComplex(edit); err != nil {
			t.Fatal(err)
		}
		if got := pings(t, msg.ID); len(got) != 0 {
			t.Fatalf("Pings after a guarded edit = %q", got)
		}
	})

	t.Run("members' replies ping the replied-to author", func(t *testing.T) {
		q, err := f.Post(alice, general, "question")
		if err != nil {
			t.Fatal(err)
		}
		r, err := f.Reply(bob, general, q.ID, "answer")
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Pings(r); !slices.Equal(got, []string{"<@" + alice + ">"}) {
			t.Fatalf("reply Pings = %q", got)
		}
	})

	t.Run("the bot without MENTION_EVERYONE cannot ping everyone", func(t *testing.T) {
		f.SetBotPermissions(general, discordfake.PermAll&^discordfake.PermMentionEveryone)
		defer f.SetBotPermissions(general, discordfake.PermAll)
		msg, err := s.ChannelMessageSend(general, "@here hello")
		if err != nil {
			t.Fatal(err)
		}
		if got := pings(t, msg.ID); len(got) != 0 {
			t.Fatalf("Pings = %q", got)
		}
	})

	t.Run("parse users with a users list is refused", func(t *testing.T) {
		_, err := s.ChannelMessageSendComplex(general, &discordgo.MessageSend{Content: "x", AllowedMentions: &discordgo.MessageAllowedMentions{
			Parse: []discordgo.AllowedMentionType{discordgo.AllowedMentionTypeUsers}, Users: []string{alice},
		}})
		restErr(t, err, http.StatusBadRequest, 50035)
	})
}

func TestValidationErrors(t *testing.T) {
	t.Parallel()
	f, s, _ := fakeSession(t, allIntents)
	// This test is about validation: its many refused posts would spend the channel's 5
	// messages per 5 s, as on Discord, and discordgo would wait for the limit.
	f.SetRouteLimit("POST /channels/{channel.id}/messages", -1, 0)
	wh := relayHook(t, s, general)
	for _, tc := range []struct {
		name         string
		call         func() error
		status, code int
		errorsKey    string // a key of the "errors" object
	}{
		{"content over 2000 characters", func() error {
			_, err := s.ChannelMessageSend(general, strings.Repeat("é", 2001))
			return err
		}, 400, 50035, "content"},
		{"2000 characters are fine", func() error {
			_, err := s.ChannelMessageSend(general, strings.Repeat("é", 2000))
			return err
		}, 0, 0, ""},
		{"empty message", func() error {
			_, err := s.ChannelMessageSend(general, "   ")
			return err
		}, 400, 50006, ""},
		{"webhook name with discord", func() error {
			_, err := s.WebhookCreate(general, "My Discord Bridge", "")
			return err
		}, 400, 50035, "name"},
		{"webhook username override with clyde", func() error {
			_, err := s.WebhookExecute(wh.ID, wh.Token, true, &discordgo.WebhookParams{Content: "x", Username: "Clyde"})
			return err
		}, 400, 50035, "username"},
		{"webhook username over 80 characters", func() error {
			_, err := s.WebhookExecute(wh.ID, wh.Token, true, &discordgo.WebhookParams{Content: "x", Username: strings.Repeat("a", 81)})
			return err
		}, 400, 50035, "username"},
		{"custom_id over 100 characters", func() error {
			_, err := s.ChannelMessageSendComplex(general, &discordgo.MessageSend{Content: "x", Components: buttonRow(strings.Repeat("x", 101))})
			return err
		}, 400, 50035, "components"},
		{"duplicate custom_id", func() error {
			_, err := s.ChannelMessageSendComplex(general, &discordgo.MessageSend{Content: "x", Components: buttonRow("a", "a")})
			return err
		}, 400, 50035, "components"},
		{"button label over 80 characters", func() error {
			_, err := s.ChannelMessageSendComplex(general, &discordgo.MessageSend{Content: "x", Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
				discordgo.Button{Label: strings.Repeat("é", 81), Style: discordgo.PrimaryButton, CustomID: "a"}}}}})
			return err
		}, 400, 50035, "components"},
		{"six buttons in a row", func() error {
			_, err := s.ChannelMessageSendComplex(general, &discordgo.MessageSend{Content: "x", Components: buttonRow("a", "b", "c", "d", "e", "f")})
			return err
		}, 400, 50035, "components"},
		{"link button to a javascript: URL", func() error {
			_, err := s.ChannelMessageSendComplex(general, &discordgo.MessageSend{Content: "x", Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
				discordgo.Button{Label: "Open", Style: discordgo.LinkButton, URL: "javascript:alert(1)"}}}}})
			return err
		}, 400, 50035, "components"},
		{"embed description over 4096 characters", func() error {
			_, err := s.ChannelMessageSendEmbed(general, &discordgo.MessageEmbed{Description: strings.Repeat("é", 4097)})
			return err
		}, 400, 50035, "embeds"},
		{"embed over 6000 characters in all", func() error {
			_, err := s.ChannelMessageSendEmbed(general, &discordgo.MessageEmbed{Title: strings.Repeat("t", 256), Description: strings.Repeat("d", 4096),
				Fields: []*discordgo.MessageEmbedField{{Name: "n", Value: strings.Repeat("v", 1024)}, {Name: "n", Value: strings.Repeat("v", 1024)}}})
			return err
		}, 400, 50035, "embeds"},
		{"embed field without a value", func() error {
			_, err := s.ChannelMessageSendEmbed(general, &discordgo.MessageEmbed{Title: "t", Fields: []*discordgo.MessageEmbedField{{Name: "n"}}})
			return err
		}, 400, 50035, "embeds"},
		{"embed URL that is not http(s)", func() error {
			_, err := s.ChannelMessageSendEmbed(general, &discordgo.MessageEmbed{Title: "t", URL: "not a url"})
			return err
		}, 400, 50035, "embeds"},
		{"embed author icon on ftp", func() error {
			_, err := s.ChannelMessageSendEmbed(general, &discordgo.MessageEmbed{Title: "t", Author: &discordgo.MessageEmbedAuthor{Name: "a", IconURL: "ftp://example.com/a.png"}})
			return err
		}, 400, 50035, "embeds"},
		{"embed at its limits is fine", func() error {
			_, err := s.ChannelMessageSendEmbed(general, &discordgo.MessageEmbed{Title: strings.Repeat("t", 256), Description: strings.Repeat("d", 4096),
				URL: "https://example.com/", Author: &discordgo.MessageEmbedAuthor{Name: "a", IconURL: "https://example.com/a.png"},
				Fields: []*discordgo.MessageEmbedField{{Name: "n", Value: strings.Repeat("v", 1024)}}, Footer: &discordgo.MessageEmbedFooter{Text: strings.Repeat("f", 600)}})
			return err
		}, 0, 0, ""},
		{"unknown channel", func() error {
			_, err := s.ChannelMessageSend("1234567890123456789", "x")
			return err
		}, 404, 10003, ""},
		{"unknown message", func() error {
			_, err := s.ChannelMessage(general, "1234567890123456789")
			return err
		}, 404, 10008, ""},
		{"unknown webhook", func() error {
			_, err := s.WebhookExecute("1234567890123456789", "x", true, &discordgo.WebhookParams{Content: "x"})
			return err
		}, 404, 10015, ""},
		{"posting in a forum channel", func() error {
			_, err := s.ChannelMessageSend(help, "x")
			return err
		}, 400, 50008, ""},
		{"editing a member's message", func() error {
			m, err := f.Post(alice, general, "mine")
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.ChannelMessageEdit(general, m.ID, "hijacked")
			return err
		}, 403, 50005, ""},
		{"reply to an unknown message", func() error {
			_, err := s.ChannelMessageSendReply(general, "x", &discordgo.MessageReference{MessageID: "1234567890123456789", ChannelID: general})
			return err
		}, 400, 50035, "message_reference"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if tc.status == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			re := restErr(t, err, tc.status, tc.code)
			if tc.errorsKey != "" {
				var body struct {
					Errors map[string]json.RawMessage `json:"errors"`
				}
				if err := json.Unmarshal(re.ResponseBody, &body); err != nil || body.Errors[tc.errorsKey] == nil {
					t.Fatalf("body %s has no errors.%s", re.ResponseBody, tc.errorsKey)
				}
			}
		})
	}

	t.Run("unknown route", func(t *testing.T) {
		status, _, body := rawCall(t, f, "GET", "/nope", f.BotToken(), "")
		if status != 404 || string(body) != `{"code":0,"message":"404: Not Found"}` {
			t.Fatalf("%d %s", status, body)
		}
	})
	t.Run("malformed JSON", func(t *testing.T) {
		status, _, body := rawCall(t, f, "POST", "/channels/"+general+"/messages", f.BotToken(), "{")
		if status != 400 || !strings.Contains(string(body), "50109") {
			t.Fatalf("%d %s", status, body)
		}
	})
	t.Run("missing token", func(t *testing.T) {
		status, _, body := rawCall(t, f, "GET", "/channels/"+general, "", "")
		if status != 401 || string(body) != `{"code":0,"message":"401: Unauthorized"}` {
			t.Fatalf("%d %s", status, body)
		}
	})
}

func TestMembersActing(t *testing.T) {
	t.Parallel()
	f, s, ev := fakeSession(t, allIntents)

	th, first, err := f.OpenForumPost(alice, help, "Printer on fire", "It is on fire.")
	if err != nil {
		t.Fatal(err)
	}
	tc := recv(t, ev.threadCreate, "THREAD_CREATE")
	if tc.ID != th.ID || !tc.NewlyCreated || tc.ParentID != help || tc.OwnerID != alice || tc.Name != "Printer on fire" {
		t.Fatalf("THREAD_CREATE = %+v", tc.Channel)
	}
	mc := recv(t, ev.msgCreate, "first message")
	if mc.ID != th.ID || mc.ChannelID != th.ID || first.ID != th.ID || mc.Content != "It is on fire." {
		t.Fatalf("forum post message %s in %s, thread %s", mc.ID, mc.ChannelID, th.ID)
	}
	in, err := f.PostInThread(bob, th.ID, "Have you tried water?")
	if err != nil {
		t.Fatal(err)
	}
	if m := recv(t, ev.msgCreate, "thread message"); m.ChannelID != th.ID || m.ID != in.ID {
		t.Fatalf("thread message = %+v", m.Message)
	}

	q, err := f.Post(alice, general, "Where is the printer?")
	if err != nil {
		t.Fatal(err)
	}
	recv(t, ev.msgCreate, "question")
	r, err := f.Reply(bob, general, q.ID, "Second floor.")
	if err != nil {
		t.Fatal(err)
	}
	rc := recv(t, ev.msgCreate, "reply")
	if rc.Type != discordgo.MessageTypeReply || rc.MessageReference == nil || rc.MessageReference.MessageID != q.ID ||
		rc.ReferencedMessage == nil || rc.ReferencedMessage.Content != q.Content || len(rc.Mentions) != 1 || rc.Mentions[0].ID != alice {
		t.Fatalf("reply = %+v", rc.Message)
	}
	att, err := f.PostWithAttachment(alice, general, "photo", discordfake.Attachment{Filename: "fire.png", ContentType: "image/png", Size: 1234})
	if err != nil {
		t.Fatal(err)
	}
	if ac := recv(t, ev.msgCreate, "attachment"); len(ac.Attachments) != 1 || ac.Attachments[0].Filename != "fire.png" || ac.Attachments[0].URL == "" || att.Attachments[0].ID == "" {
		t.Fatalf("attachment = %+v", ac.Attachments)
	}

	if _, err := f.Edit(general, q.ID, "Where is the printer now?"); err != nil {
		t.Fatal(err)
	}
	if up := recv(t, ev.msgUpdate, "MESSAGE_UPDATE"); up.ID != q.ID || up.Content != "Where is the printer now?" || up.EditedTimestamp == nil {
		t.Fatalf("MESSAGE_UPDATE = %+v", up.Message)
	}
	if err := f.Delete(general, r.ID); err != nil {
		t.Fatal(err)
	}
	if del := recv(t, ev.msgDelete, "MESSAGE_DELETE"); del.ID != r.ID || del.ChannelID != general {
		t.Fatalf("MESSAGE_DELETE = %+v", del.Message)
	}

	// Backfill after a lost resume: GET messages after an ID, newest first, deleted ones gone.
	later, err := s.ChannelMessages(general, 10, "", q.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(later) != 1 || later[0].ID != att.ID {
		t.Fatalf("messages after %s = %d", q.ID, len(later))
	}
	all, err := s.ChannelMessages(general, 2, "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].ID != att.ID || all[1].ID != q.ID {
		t.Fatalf("latest messages = %v", []string{all[0].ID, all[1].ID})
	}
	if _, err := s.ChannelMessages(general, 101, "", "", ""); err == nil {
		t.Fatal("limit 101 accepted")
	}

	// DMs reach a bot with DIRECT_MESSAGES and keep their content.
	dm, err := s.UserChannelCreate(alice)
	if err != nil {
		t.Fatal(err)
	}
	if m := postReceived(t, f, ev, alice, dm.ID, "psst", "DM"); m.ChannelID != dm.ID || m.GuildID != "" {
		t.Fatalf("DM = %+v", m.Message)
	}
	if _, err := f.Post(bob, dm.ID, "not mine"); err == nil {
		t.Fatal("bob posted in alice's DM")
	}
}

func TestNonceDedupe(t *testing.T) {
	t.Parallel()
	f, s, _ := fakeSession(t, allIntents)
	send := func() *discordgo.Message {
		t.Helper()
		body, err := s.RequestWithBucketID("POST", discordgo.EndpointChannelMessages(general),
			map[string]any{"content": "once", "nonce": "outbox-42", "enforce_nonce": true}, discordgo.EndpointChannelMessages(general))
		if err != nil {
			t.Fatal(err)
		}
		var m discordgo.Message
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		return &m
	}
	a, b := send(), send()
	if a.ID != b.ID || len(f.Messages(general)) != 1 {
		t.Fatalf("enforce_nonce made %d messages (%s, %s)", len(f.Messages(general)), a.ID, b.ID)
	}
}
