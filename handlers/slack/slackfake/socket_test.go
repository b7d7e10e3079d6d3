package slackfake_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
)

// messageEvent unwraps the message event of an events_api event.
func messageEvent(t *testing.T, ev socketmode.Event) *slackevents.MessageEvent {
	t.Helper()
	outer, ok := ev.Data.(slackevents.EventsAPIEvent)
	if !ok || outer.Type != slackevents.CallbackEvent {
		t.Fatalf("event data = %#v, want an event_callback", ev.Data)
	}
	msg, ok := outer.InnerEvent.Data.(*slackevents.MessageEvent)
	if !ok {
		t.Fatalf("inner event = %#v, want a message", outer.InnerEvent.Data)
	}
	return msg
}

func TestSocketModeDeliversAndRecordsAcks(t *testing.T) {
	f := mustStart(t)
	s := mustConnect(t, f)

	ts, err := f.Post(alice, general, "Where is the changelog?")
	if err != nil {
		t.Fatal(err)
	}
	ev := s.next(socketmode.EventTypeEventsAPI)
	msg := messageEvent(t, ev)
	if msg.User != alice || msg.Text != "Where is the changelog?" || msg.Channel != general || msg.TimeStamp != ts || msg.ChannelType != "channel" || msg.ClientMsgID == "" {
		t.Errorf("message event = %+v", msg)
	}
	outer := ev.Data.(slackevents.EventsAPIEvent)
	cb := outer.Data.(*slackevents.EventsAPICallbackEvent)
	if cb.EventID == "" || cb.EventTime == 0 || outer.TeamID != "T0FAKE" || outer.APIAppID != "A0FAKE" || len(cb.Authorizations) != 1 || cb.Authorizations[0].UserID != bot {
		t.Errorf("callback = %+v", cb)
	}
	if ev.Request.RetryAttempt != 0 || ev.Request.AcceptsResponsePayload {
		t.Errorf("envelope = %+v", ev.Request)
	}
	s.Ack(*ev.Request)
	wait(t, f, "the ack", func() bool { return len(f.Acks()) == 1 })
	if ack := f.Acks()[0]; ack.EnvelopeID != ev.Request.EnvelopeID || ack.Type != "events_api" || ack.Transport != "socket" {
		t.Errorf("ack = %+v", ack)
	}

	t.Run("PrivateChannel", func(t *testing.T) {
		if _, err := f.Post(alice, staff, "internal"); err != nil {
			t.Fatal(err)
		}
		ev := s.next(socketmode.EventTypeEventsAPI)
		s.Ack(*ev.Request)
		if msg := messageEvent(t, ev); msg.ChannelType != "group" {
			t.Errorf("channel_type = %q, want group", msg.ChannelType)
		}
	})
	t.Run("NoEventWhereTheBotIsNotAMember", func(t *testing.T) {
		before := len(f.Deliveries())
		if _, err := f.Post(alice, random, "not for the bot"); err != nil {
			t.Fatal(err)
		}
		if n := len(f.Deliveries()); n != before {
			t.Errorf("%d deliveries, want %d", n, before)
		}
	})
}

func TestSocketModeRedeliversUnackedEvents(t *testing.T) {
	f := mustStart(t)
	s := mustConnect(t, f)
	if _, err := f.Post(alice, general, "hello?"); err != nil {
		t.Fatal(err)
	}
	first := s.next(socketmode.EventTypeEventsAPI)
	// No ack: Slack sends it again after the ack timeout.
	second := s.next(socketmode.EventTypeEventsAPI)
	if second.Request.EnvelopeID != first.Request.EnvelopeID || second.Request.RetryAttempt != 1 || second.Request.RetryReason != "timeout" {
		t.Fatalf("redelivery = %+v, first = %+v", second.Request, first.Request)
	}
	if messageEvent(t, second).ClientMsgID != messageEvent(t, first).ClientMsgID {
		t.Error("a redelivery must carry the same message")
	}
	s.Ack(*second.Request)
	wait(t, f, "the ack", func() bool { return len(f.Acks()) == 1 })
	if ack := f.Acks()[0]; ack.RetryAttempt != 1 {
		t.Errorf("ack = %+v", ack)
	}
	d := f.Deliveries()[0]
	if d.Attempts != 2 || !d.Acked || d.Failed {
		t.Errorf("delivery = %+v", d)
	}
}

func TestSocketModeGivesUpAfterThreeRetries(t *testing.T) {
	f := mustStart(t, func(o *slackfake.Options) { o.AckTimeout = 50 * time.Millisecond })
	s := mustConnect(t, f)
	if _, err := f.Post(alice, general, "anyone?"); err != nil {
		t.Fatal(err)
	}
	for attempt := range 4 {
		ev := s.next(socketmode.EventTypeEventsAPI)
		if ev.Request.RetryAttempt != attempt {
			t.Fatalf("attempt %d has retry_attempt %d", attempt, ev.Request.RetryAttempt)
		}
	}
	wait(t, f, "Slack to give up", func() bool { return f.Deliveries()[0].Failed })
	if d := f.Deliveries()[0]; d.Attempts != 4 {
		t.Errorf("delivery = %+v", d)
	}
}

func TestDropSocketReconnects(t *testing.T) {
	f := mustStart(t)
	s := mustConnect(t, f)
	f.DropSocket()
	if _, err := f.Post(alice, general, "sent while the socket is down"); err != nil {
		t.Fatal(err)
	}
	s.next(socketmode.EventTypeHello)
	ev := s.next(socketmode.EventTypeEventsAPI)
	if msg := messageEvent(t, ev); msg.Text != "sent while the socket is down" {
		t.Errorf("message = %+v", msg)
	}
	s.Ack(*ev.Request)
	if n := f.Connects(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
	wait(t, f, "one open socket", func() bool { return f.Connections() == 1 })
}

func TestDisconnectRefresh(t *testing.T) {
	f := mustStart(t)
	s := mustConnect(t, f)
	f.Disconnect()
	s.next(socketmode.EventTypeHello)
	wait(t, f, "the old socket to close", func() bool { return f.Connects() == 2 && f.Connections() == 1 })
	if _, err := f.Post(alice, general, "after refresh"); err != nil {
		t.Fatal(err)
	}
	ev := s.next(socketmode.EventTypeEventsAPI)
	s.Ack(*ev.Request)
	if msg := messageEvent(t, ev); msg.Text != "after refresh" {
		t.Errorf("message = %+v", msg)
	}
}

func TestBotPostsComeBackAsEvents(t *testing.T) {
	f := mustStart(t)
	s := mustConnect(t, f)
	c := api(f)
	if _, _, err := c.PostMessage(general, slack.MsgOptionText("from the bot", false)); err != nil {
		t.Fatal(err)
	}
	ev := s.next(socketmode.EventTypeEventsAPI)
	s.Ack(*ev.Request)
	msg := messageEvent(t, ev)
	if msg.BotID != "B0BOT" || msg.User != bot || msg.SubType != "" || msg.Message.BotProfile == nil || msg.Message.BotProfile.AppID != "A0FAKE" {
		t.Errorf("echo = %+v", msg)
	}
	if _, _, err := c.PostMessage(general, slack.MsgOptionText("as Alice", false), slack.MsgOptionUsername("Alice Martin")); err != nil {
		t.Fatal(err)
	}
	ev = s.next(socketmode.EventTypeEventsAPI)
	s.Ack(*ev.Request)
	if msg := messageEvent(t, ev); msg.SubType != "bot_message" || msg.Username != "Alice Martin" || msg.BotID != "B0BOT" {
		t.Errorf("customized echo = %+v", msg)
	}
}

func TestUserActionsDeliverEvents(t *testing.T) {
	f := mustStart(t)
	s := mustConnect(t, f)
	next := func() *slackevents.MessageEvent {
		ev := s.next(socketmode.EventTypeEventsAPI)
		s.Ack(*ev.Request)
		return messageEvent(t, ev)
	}
	ts, _ := f.Post(alice, general, "original")
	next()

	replyTS, err := f.Reply(bob, general, ts, "a reply")
	if err != nil {
		t.Fatal(err)
	}
	if msg := next(); msg.ThreadTimeStamp != ts || msg.TimeStamp != replyTS || msg.Message.ParentUserId != alice {
		t.Errorf("reply = %+v", msg)
	}
	if err := f.Edit(general, ts, "edited"); err != nil {
		t.Fatal(err)
	}
	if msg := next(); msg.SubType != "message_changed" || msg.Message.Text != "edited" || msg.PreviousMessage.Text != "original" || msg.Message.Edited == nil {
		t.Errorf("edit = %+v", msg)
	}
	if err := f.Delete(general, replyTS); err != nil {
		t.Fatal(err)
	}
	if msg := next(); msg.SubType != "message_deleted" || msg.DeletedTimeStamp != replyTS || msg.PreviousMessage.Text != "a reply" {
		t.Errorf("delete = %+v", msg)
	}
	if _, err := f.PostFile(alice, general, "the log", "crash.txt", "https://files.example/crash.txt"); err != nil {
		t.Fatal(err)
	}
	if msg := next(); msg.SubType != "file_share" || len(msg.Message.Files) != 1 || msg.Message.Files[0].Name != "crash.txt" || msg.Message.Files[0].URLPrivate != "https://files.example/crash.txt" {
		t.Errorf("file share = %+v", msg)
	}
	if err := f.Join(bob, staff); err != nil {
		t.Fatal(err)
	}
	if msg := next(); msg.SubType != "channel_join" || msg.User != bob || msg.Channel != staff {
		t.Errorf("join = %+v", msg)
	}
}

func TestClickAndModal(t *testing.T) {
	clk := newClock()
	f := mustStart(t, func(o *slackfake.Options) { o.Now = clk.Now })
	s := mustConnect(t, f)
	c := api(f)
	button := slack.NewButtonBlockElement("reply_publicly", "item-42", slack.NewTextBlockObject(slack.PlainTextType, "Reply publicly", false, false))
	_, ts, err := c.PostMessage(staff, slack.MsgOptionText("card", false), slack.MsgOptionBlocks(slack.NewActionBlock("card-actions", button)))
	if err != nil {
		t.Fatal(err)
	}
	echo := s.next(socketmode.EventTypeEventsAPI)
	s.Ack(*echo.Request)

	if err := f.Click(alice, staff, ts, "nope"); err == nil {
		t.Error("clicking a missing button should fail")
	}
	if err := f.Click(alice, staff, ts, "reply_publicly"); err != nil {
		t.Fatal(err)
	}
	ev := s.next(socketmode.EventTypeInteractive)
	s.Ack(*ev.Request)
	cb := ev.Data.(slack.InteractionCallback)
	if cb.Type != slack.InteractionTypeBlockActions || cb.User.ID != alice || cb.User.Name != "alice" || cb.Channel.ID != staff || cb.Container.MessageTs != ts || cb.Message.Timestamp != ts || cb.ResponseURL == "" || cb.TriggerID == "" {
		t.Fatalf("callback = %+v", cb)
	}
	if acts := cb.ActionCallback.BlockActions; len(acts) != 1 || acts[0].ActionID != "reply_publicly" || acts[0].BlockID != "card-actions" || acts[0].Value != "item-42" {
		t.Errorf("actions = %+v", cb.ActionCallback.BlockActions)
	}

	modal := slack.ModalViewRequest{
		Type:       slack.VTModal,
		Title:      slack.NewTextBlockObject(slack.PlainTextType, "Public reply", false, false),
		Submit:     slack.NewTextBlockObject(slack.PlainTextType, "Send", false, false),
		CallbackID: "draft",
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock("answer", slack.NewTextBlockObject(slack.PlainTextType, "Answer", false, false), nil,
				slack.NewPlainTextInputBlockElement(nil, "text")),
		}},
	}
	t.Run("OpenWithFreshTrigger", func(t *testing.T) {
		res, err := c.OpenView(cb.TriggerID, modal)
		if err != nil {
			t.Fatal(err)
		}
		views := f.Views(alice)
		if len(views) != 1 || views[0].ID != res.View.ID || views[0].CallbackID != "draft" || views[0].Title != "Public reply" {
			t.Errorf("views = %+v, opened %+v", views, res.View)
		}
	})
	t.Run("ErrUsedTrigger", func(t *testing.T) {
		if _, err := c.OpenView(cb.TriggerID, modal); slackError(err) != "exchanged_trigger_id" {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("ErrUnknownTrigger", func(t *testing.T) {
		if _, err := c.OpenView("1.2.3", modal); slackError(err) != "invalid_trigger_id" {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("ErrStaleTrigger", func(t *testing.T) {
		if err := f.Click(alice, staff, ts, "reply_publicly"); err != nil {
			t.Fatal(err)
		}
		ev := s.next(socketmode.EventTypeInteractive)
		s.Ack(*ev.Request)
		clk.Advance(3100 * time.Millisecond)
		if _, err := c.OpenView(ev.Data.(slack.InteractionCallback).TriggerID, modal); slackError(err) != "expired_trigger_id" {
			t.Errorf("error = %v", err)
		}
	})

	t.Run("SubmitWithErrorsThenClose", func(t *testing.T) {
		v := f.Views(alice)[0]
		if err := f.SubmitView(alice, v.ID, map[string]map[string]string{"answer": {"text": "Soon!"}}); err != nil {
			t.Fatal(err)
		}
		ev := s.next(socketmode.EventTypeInteractive)
		sub := ev.Data.(slack.InteractionCallback)
		if sub.Type != slack.InteractionTypeViewSubmission || sub.User.ID != alice || sub.View.ID != v.ID || sub.View.State.Values["answer"]["text"].Value != "Soon!" || !ev.Request.AcceptsResponsePayload {
			t.Fatalf("submission = %+v", sub)
		}
		s.Ack(*ev.Request, slack.NewErrorsViewSubmissionResponse(map[string]string{"answer": "Too short"}))
		wait(t, f, "the errors", func() bool { v := f.Views(alice); return len(v) == 1 && v[0].Errors["answer"] == "Too short" })

		if err := f.SubmitView(alice, v.ID, map[string]map[string]string{"answer": {"text": "Next week, with the 2.0 release."}}); err != nil {
			t.Fatal(err)
		}
		ev = s.next(socketmode.EventTypeInteractive)
		s.Ack(*ev.Request)
		wait(t, f, "the modal to close", func() bool { return len(f.Views(alice)) == 0 })
		acks := f.Acks()
		var payload map[string]any
		for _, a := range acks {
			if a.Payload != nil {
				_ = json.Unmarshal(a.Payload, &payload)
			}
		}
		if payload["response_action"] != "errors" {
			t.Errorf("recorded ack payload = %v", payload)
		}
	})

	t.Run("ResponseURLReplacesTheCard", func(t *testing.T) {
		if _, _, err := c.PostMessage(staff, slack.MsgOptionText("claimed by Alice", false), slack.MsgOptionReplaceOriginal(cb.ResponseURL)); err != nil {
			t.Fatal(err)
		}
		if m, _ := f.Message(staff, ts); m.Text != "claimed by Alice" || !m.Edited {
			t.Errorf("card = %+v", m)
		}
	})
}

func TestSlashCommand(t *testing.T) {
	f := mustStart(t)
	s := mustConnect(t, f)
	if err := f.SlashCommand(alice, general, "/liaison", "stats"); err != nil {
		t.Fatal(err)
	}
	ev := s.next(socketmode.EventTypeSlashCommand)
	cmd := ev.Data.(slack.SlashCommand)
	if cmd.Command != "/liaison" || cmd.Text != "stats" || cmd.UserID != alice || cmd.UserName != "alice" || cmd.ChannelID != general || cmd.TeamID != "T0FAKE" || cmd.TriggerID == "" || cmd.ResponseURL == "" {
		t.Fatalf("command = %+v", cmd)
	}
	s.Ack(*ev.Request, map[string]any{"text": "3 items this week"})
	wait(t, f, "the ephemeral answer", func() bool {
		e := f.Ephemerals(alice)
		return len(e) == 1 && e[0].Text == "3 items this week" && e[0].Channel == general
	})
	if err := slack.PostWebhook(cmd.ResponseURL, &slack.WebhookMessage{Text: "for everyone", ResponseType: slack.ResponseTypeInChannel}); err != nil {
		t.Fatal(err)
	}
	if msgs := f.Messages(general); len(msgs) != 1 || msgs[0].Text != "for everyone" || msgs[0].BotID != "B0BOT" {
		t.Errorf("messages = %+v", msgs)
	}
}

func TestCloseViewNotifies(t *testing.T) {
	f := mustStart(t)
	s := mustConnect(t, f)
	if err := f.SlashCommand(alice, general, "/liaison", "profile"); err != nil {
		t.Fatal(err)
	}
	ev := s.next(socketmode.EventTypeSlashCommand)
	s.Ack(*ev.Request)
	modal := slack.ModalViewRequest{
		Type:          slack.VTModal,
		Title:         slack.NewTextBlockObject(slack.PlainTextType, "Profile", false, false),
		NotifyOnClose: true,
		Blocks:        slack.Blocks{BlockSet: []slack.Block{slack.NewDividerBlock()}},
	}
	res, err := api(f).OpenView(ev.Data.(slack.SlashCommand).TriggerID, modal)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.CloseView(alice, res.View.ID); err != nil {
		t.Fatal(err)
	}
	ev = s.next(socketmode.EventTypeInteractive)
	s.Ack(*ev.Request)
	if cb := ev.Data.(slack.InteractionCallback); cb.Type != slack.InteractionTypeViewClosed || cb.View.ID != res.View.ID || cb.User.ID != alice {
		t.Errorf("view_closed = %+v", cb)
	}
	if v := f.Views(alice); len(v) != 0 {
		t.Errorf("views = %+v", v)
	}
}
