package slackfake_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
)

func TestAuthTest(t *testing.T) {
	f := mustStart(t)

	t.Run("OK", func(t *testing.T) {
		res, err := api(f).AuthTest()
		if err != nil {
			t.Fatal(err)
		}
		if res.UserID != bot || res.TeamID != "T0FAKE" || res.BotID != "B0BOT" || res.Team != "Fake Workspace" {
			t.Errorf("auth.test = %+v", res)
		}
		if scopes := res.Header.Get("X-OAuth-Scopes"); !strings.Contains(scopes, "chat:write.customize") {
			t.Errorf("X-OAuth-Scopes = %q", scopes)
		}
	})
	for name, tc := range map[string]struct{ token, want string }{
		"ErrInvalidAuth":   {"xoxb-wrong", "invalid_auth"},
		"ErrNotAuthed":     {"", "not_authed"},
		"ErrAppTokenOnBot": {f.AppToken(), "not_allowed_token_type"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := api(f, tc.token).AuthTest()
			if got := slackError(err); got != tc.want {
				t.Errorf("error = %v, want %s", err, tc.want)
			}
		})
	}
	t.Run("ErrBotTokenOnSocketMode", func(t *testing.T) {
		client := slack.New(f.BotToken(), slack.OptionAPIURL(f.APIURL()), slack.OptionAppLevelToken(f.BotToken()))
		_, _, err := client.StartSocketModeContext(t.Context())
		if got := slackError(err); got != "not_allowed_token_type" {
			t.Errorf("error = %v, want not_allowed_token_type", err)
		}
	})
	if calls := f.Calls(); len(calls) == 0 || calls[0].Method != "auth.test" || calls[0].Params.Has("token") {
		t.Errorf("calls = %+v", calls)
	}
}

func TestUnknownMethod(t *testing.T) {
	f := mustStart(t)
	res, err := http.PostForm(f.APIURL()+"chat.teleport", url.Values{"token": {f.BotToken()}})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || body.OK || body.Error != "unknown_method" {
		t.Errorf("answer = %d %+v", res.StatusCode, body)
	}
}

func TestJSONBodyNeedsBearer(t *testing.T) {
	f := mustStart(t)
	post := func(header string) string {
		req, _ := http.NewRequest(http.MethodPost, f.APIURL()+"auth.test", strings.NewReader(`{"token":"`+f.BotToken()+`"}`))
		req.Header.Set("Content-Type", "application/json")
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	if got := post(""); !strings.Contains(got, `"not_authed"`) {
		t.Errorf("token in JSON body: %s, want not_authed", got)
	}
	if got := post("Bearer " + f.BotToken()); !strings.Contains(got, `"ok":true`) {
		t.Errorf("Bearer token: %s", got)
	}
}

func TestPostMessageWithBlocksAndMetadata(t *testing.T) {
	f := mustStart(t)
	c := api(f)
	blocks := []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "*New item*", false, false), nil, nil),
		slack.NewActionBlock("", slack.NewButtonBlockElement("claim", "item-7", slack.NewTextBlockObject(slack.PlainTextType, "Claim", false, false))),
	}
	meta := slack.SlackMetadata{EventType: "liaison_card", EventPayload: map[string]any{"item": "7"}}
	channelID, ts, err := c.PostMessage(general,
		slack.MsgOptionText("New item from <@U0ALICE>", false),
		slack.MsgOptionBlocks(blocks...),
		slack.MsgOptionMetadata(meta))
	if err != nil {
		t.Fatal(err)
	}
	if channelID != general || ts == "" {
		t.Fatalf("posted to %s at %q", channelID, ts)
	}
	_, replyTS, err := c.PostMessage(general, slack.MsgOptionText("a thread reply", true), slack.MsgOptionTS(ts))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("RepliesWithMetadata", func(t *testing.T) {
		msgs, hasMore, _, err := c.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: general, Timestamp: ts, IncludeAllMetadata: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 2 || hasMore || msgs[0].Timestamp != ts || msgs[1].Timestamp != replyTS {
			t.Fatalf("replies = %+v", msgs)
		}
		if msgs[0].Metadata.EventType != "liaison_card" || msgs[0].Metadata.EventPayload["item"] != "7" {
			t.Errorf("metadata = %+v", msgs[0].Metadata)
		}
		if msgs[0].ReplyCount != 1 || msgs[1].ThreadTimestamp != ts || msgs[0].BotID != "B0BOT" {
			t.Errorf("thread fields: parent %+v reply %+v", msgs[0].Msg, msgs[1].Msg)
		}
		if len(msgs[0].Blocks.BlockSet) != 2 {
			t.Errorf("blocks = %+v", msgs[0].Blocks)
		}
	})
	t.Run("NoMetadataUnlessAsked", func(t *testing.T) {
		res, err := c.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: general})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Messages) != 1 || res.Messages[0].Metadata.EventType != "" {
			t.Errorf("history = %+v", res.Messages)
		}
	})
	t.Run("Recorded", func(t *testing.T) {
		m, ok := f.Message(general, ts)
		if !ok || m.User != bot || m.BotID != "B0BOT" || !strings.Contains(m.Text, "<@U0ALICE>") {
			t.Fatalf("message = %+v", m)
		}
		var stored []map[string]any
		if err := json.Unmarshal(m.Blocks, &stored); err != nil || len(stored) != 2 || stored[1]["block_id"] == "" {
			t.Errorf("stored blocks = %s (block_id filled in expected)", m.Blocks)
		}
		if got := f.Thread(general, ts); len(got) != 2 || got[1].TS != replyTS {
			t.Errorf("thread = %+v", got)
		}
		if got := slackfake.Pings(m); !slices.Equal(got, []string{alice}) {
			t.Errorf("Pings = %v", got)
		}
	})
}

func TestPostMessageErrors(t *testing.T) {
	f := mustStart(t)
	c := api(f)
	for name, tc := range map[string]struct {
		channel string
		opts    []slack.MsgOption
		want    string
	}{
		"ErrChannelNotFound":   {"C0NOPE", []slack.MsgOption{slack.MsgOptionText("x", false)}, "channel_not_found"},
		"ErrPrivateNotMember":  {secret, []slack.MsgOption{slack.MsgOptionText("x", false)}, "channel_not_found"},
		"ErrNoText":            {general, nil, "no_text"},
		"ErrInvalidBlocksJSON": {general, []slack.MsgOption{slack.UnsafeMsgOptionEndpoint(f.APIURL()+"chat.postMessage", func(v url.Values) { v.Set("blocks", "[{not json") })}, "invalid_blocks_format"},
		"ErrInvalidBlockType":  {general, []slack.MsgOption{slack.UnsafeMsgOptionEndpoint(f.APIURL()+"chat.postMessage", func(v url.Values) { v.Set("blocks", `[{"type":"sparkle"}]`) })}, "invalid_blocks"},
		"ErrThreadNotFound":    {general, []slack.MsgOption{slack.MsgOptionText("x", false), slack.MsgOptionTS("1.000001")}, "thread_not_found"},
		"ErrMetadataFormat":    {general, []slack.MsgOption{slack.MsgOptionText("x", false), slack.UnsafeMsgOptionEndpoint(f.APIURL()+"chat.postMessage", func(v url.Values) { v.Set("metadata", "{") })}, "invalid_metadata_format"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := c.PostMessage(tc.channel, tc.opts...)
			if got := slackError(err); got != tc.want {
				t.Errorf("error = %v, want %s", err, tc.want)
			}
		})
	}
	if got := f.Messages(general); len(got) != 0 {
		t.Errorf("refused posts left messages: %+v", got)
	}
}

func TestPostMessageScopes(t *testing.T) {
	scopes := slices.DeleteFunc(slackfake.DefaultScopes(), func(s string) bool {
		return s == "chat:write.customize" || s == "chat:write.public"
	})
	f := mustStart(t, func(o *slackfake.Options) { o.Scopes = scopes })
	c := api(f)

	t.Run("ErrMissingScopeForUsername", func(t *testing.T) {
		_, _, err := c.PostMessage(general, slack.MsgOptionText("hi", false), slack.MsgOptionUsername("Alice Martin · Acme"), slack.MsgOptionIconURL("https://example.com/a.png"))
		var se slack.SlackErrorResponse
		if !errors.As(err, &se) || se.Err != "missing_scope" || se.Needed != "chat:write.customize" {
			t.Errorf("error = %#v, want missing_scope needing chat:write.customize", err)
		}
	})
	t.Run("ErrNotInChannel", func(t *testing.T) {
		_, _, err := c.PostMessage(random, slack.MsgOptionText("hi", false))
		if got := slackError(err); got != "not_in_channel" {
			t.Errorf("error = %v, want not_in_channel", err)
		}
	})
	t.Run("OKAfterJoin", func(t *testing.T) {
		if _, _, _, err := c.JoinConversation(random); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.PostMessage(random, slack.MsgOptionText("hi", false)); err != nil {
			t.Errorf("post after join: %v", err)
		}
		if msgs := f.Messages(random); len(msgs) != 2 || msgs[0].Subtype != "channel_join" || msgs[0].User != bot {
			t.Errorf("messages = %+v", msgs)
		}
	})
}

func TestCustomizedPost(t *testing.T) {
	f := mustStart(t)
	_, ts, err := api(f).PostMessage(general,
		slack.MsgOptionText("Answer", false),
		slack.MsgOptionUsername("Alice Martin · Acme"),
		slack.MsgOptionIconURL("https://example.com/alice.png"))
	if err != nil {
		t.Fatal(err)
	}
	m, _ := f.Message(general, ts)
	if m.Username != "Alice Martin · Acme" || m.IconURL != "https://example.com/alice.png" || m.Subtype != "bot_message" {
		t.Errorf("message = %+v", m)
	}
}

func TestPublicChannelWithoutMembership(t *testing.T) {
	f := mustStart(t)
	if _, _, err := api(f).PostMessage(random, slack.MsgOptionText("hi", false)); err != nil {
		t.Errorf("chat:write.public should allow posting to a public channel: %v", err)
	}
	_, err := api(f).GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: random})
	if got := slackError(err); got != "not_in_channel" {
		t.Errorf("history error = %v, want not_in_channel", err)
	}
}

func TestRateLimit(t *testing.T) {
	clk := newClock()
	f := mustStart(t, func(o *slackfake.Options) { o.Now = clk.Now })
	f.SetRate(general, 1, 2)
	c := api(f)
	post := func() error {
		_, _, err := c.PostMessage(general, slack.MsgOptionText("hello", false))
		return err
	}
	for i := range 2 {
		if err := post(); err != nil {
			t.Fatalf("post %d within burst: %v", i, err)
		}
	}
	err := post()
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != time.Second {
		t.Fatalf("error = %#v, want *slack.RateLimitedError{RetryAfter: 1s}", err)
	}
	if _, _, err := c.PostMessage(staff, slack.MsgOptionText("other channel", false)); err != nil {
		t.Errorf("the limit is per channel: %v", err)
	}
	clk.Advance(time.Second)
	if err := post(); err != nil {
		t.Errorf("after Retry-After: %v", err)
	}
	if n := len(f.Messages(general)); n != 3 {
		t.Errorf("%d messages, want 3", n)
	}
	calls := f.Calls()
	if last := calls[2]; last.Error != "ratelimited" || last.Status != http.StatusTooManyRequests {
		t.Errorf("call = %+v", last)
	}
}

func TestUpdateDeleteEphemeralPermalink(t *testing.T) {
	f := mustStart(t)
	c := api(f)
	_, ts, err := c.PostMessage(general, slack.MsgOptionText("draft", false))
	if err != nil {
		t.Fatal(err)
	}
	userTS, err := f.Post(alice, general, "a question")
	if err != nil {
		t.Fatal(err)
	}

	if _, _, _, err := c.UpdateMessage(general, ts, slack.MsgOptionText("final", false)); err != nil {
		t.Fatal(err)
	}
	if m, _ := f.Message(general, ts); m.Text != "final" || !m.Edited {
		t.Errorf("updated = %+v", m)
	}
	if _, _, _, err := c.UpdateMessage(general, userTS, slack.MsgOptionText("x", false)); slackError(err) != "cant_update_message" {
		t.Errorf("updating a person's message: %v, want cant_update_message", err)
	}
	if _, _, _, err := c.UpdateMessage(general, "1.000002", slack.MsgOptionText("x", false)); slackError(err) != "message_not_found" {
		t.Errorf("updating nothing: %v, want message_not_found", err)
	}

	link, err := c.GetPermalink(&slack.PermalinkParameters{Channel: general, Ts: ts})
	if want := "https://fake-workspace.slack.com/archives/" + general + "/p" + strings.Replace(ts, ".", "", 1); err != nil || link != want {
		t.Errorf("permalink = %q, %v; want %q", link, err, want)
	}

	ets, err := c.PostEphemeral(general, alice, slack.MsgOptionText("only for you", false))
	if err != nil || ets == "" {
		t.Fatalf("ephemeral: %q, %v", ets, err)
	}
	if got := f.Ephemerals(alice); len(got) != 1 || got[0].Text != "only for you" || !got[0].Ephemeral {
		t.Errorf("ephemerals = %+v", got)
	}
	if _, err := c.PostEphemeral(staff, bob, slack.MsgOptionText("x", false)); slackError(err) != "user_not_in_channel" {
		t.Errorf("ephemeral to a non-member: %v", err)
	}

	if _, _, err := c.DeleteMessage(general, ts); err != nil {
		t.Fatal(err)
	}
	if m, _ := f.Message(general, ts); !m.Deleted {
		t.Errorf("deleted = %+v", m)
	}
	res, err := c.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: general})
	if err != nil || len(res.Messages) != 1 || res.Messages[0].Timestamp != userTS {
		t.Errorf("history after delete = %+v, %v", res, err)
	}
}

func TestHistoryPaging(t *testing.T) {
	f := mustStart(t)
	var stamps []string
	for _, text := range []string{"one", "two", "three", "four", "five"} {
		ts, err := f.Post(alice, general, text)
		if err != nil {
			t.Fatal(err)
		}
		stamps = append(stamps, ts)
	}
	c := api(f)
	var got []string
	cursor := ""
	for range 5 {
		res, err := c.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: general, Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range res.Messages {
			got = append(got, m.Text)
		}
		cursor = res.ResponseMetaData.NextCursor
		if !res.HasMore {
			break
		}
	}
	if want := []string{"five", "four", "three", "two", "one"}; !slices.Equal(got, want) {
		t.Errorf("pages = %v, want %v", got, want)
	}
	res, err := c.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: general, Oldest: stamps[1], Latest: stamps[3]})
	if err != nil || len(res.Messages) != 1 || res.Messages[0].Text != "three" {
		t.Errorf("oldest/latest exclusive = %+v, %v", res.Messages, err)
	}
	res, err = c.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: general, Oldest: stamps[1], Latest: stamps[3], Inclusive: true})
	if err != nil || len(res.Messages) != 3 {
		t.Errorf("inclusive = %+v, %v", res.Messages, err)
	}
}

func TestDirectory(t *testing.T) {
	f := mustStart(t)
	c := api(f)
	u, err := c.GetUserInfo(alice)
	if err != nil {
		t.Fatal(err)
	}
	if u.Name != "alice" || u.RealName != "Alice Martin" || u.Profile.Title != "Product Manager" || u.Profile.Image192 != "https://example.com/alice.png" || u.IsBot {
		t.Errorf("user = %+v", u)
	}
	if _, err := c.GetUserInfo("U0NOBODY"); slackError(err) != "user_not_found" {
		t.Errorf("unknown user: %v", err)
	}
	members, err := c.GetUserGroupMembers(team)
	if err != nil || !slices.Equal(members, []string{alice, bob}) {
		t.Errorf("group members = %v, %v", members, err)
	}
	ch, err := c.GetConversationInfo(&slack.GetConversationInfoInput{ChannelID: staff})
	if err != nil || ch.Name != "staff" || !ch.IsPrivate || !ch.IsMember {
		t.Errorf("conversation = %+v, %v", ch, err)
	}
	ts, _ := f.Post(alice, general, "react to me")
	if err := c.AddReaction("eyes", slack.ItemRef{Channel: general, Timestamp: ts}); err != nil {
		t.Fatal(err)
	}
	if err := c.AddReaction("eyes", slack.ItemRef{Channel: general, Timestamp: ts}); slackError(err) != "already_reacted" {
		t.Errorf("second reaction: %v", err)
	}
	if m, _ := f.Message(general, ts); len(m.Reactions) != 1 || m.Reactions[0].Name != "eyes" {
		t.Errorf("reactions = %+v", m.Reactions)
	}
}

func TestFailAndDelayNext(t *testing.T) {
	f := mustStart(t)
	c := api(f)
	f.FailNext("chat.postMessage", "internal_error")
	if _, _, err := c.PostMessage(general, slack.MsgOptionText("x", false)); slackError(err) != "internal_error" {
		t.Errorf("injected failure: %v", err)
	}
	f.FailNext("chat.postMessage", "ratelimited")
	var rl *slack.RateLimitedError
	if _, _, err := c.PostMessage(general, slack.MsgOptionText("x", false)); !errors.As(err, &rl) {
		t.Errorf("injected rate limit: %v", err)
	}
	if _, _, err := c.PostMessage(general, slack.MsgOptionText("x", false)); err != nil {
		t.Errorf("failures are used once: %v", err)
	}

	// A call that times out client-side has still happened: the outcome is unknown.
	f.DelayNext("chat.postMessage", 2*time.Second)
	slow := slack.New(f.BotToken(), slack.OptionAPIURL(f.APIURL()), slack.OptionHTTPClient(&http.Client{Timeout: 100 * time.Millisecond}))
	if _, _, err := slow.PostMessage(general, slack.MsgOptionText("did it post?", false)); err == nil {
		t.Fatal("a delayed answer should time out the client")
	}
	if msgs := f.Messages(general); msgs[len(msgs)-1].Text != "did it post?" {
		t.Errorf("the delayed post should exist: %+v", msgs)
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	for name, o := range map[string]slackfake.Options{
		"ErrBotToken":     {BotToken: "xapp-1"},
		"ErrUserID":       {Users: []slackfake.User{{ID: "alice"}}},
		"ErrChannelID":    {Channels: []slackfake.Channel{{ID: "#general", Name: "general"}}},
		"ErrMember":       {Channels: []slackfake.Channel{{ID: "C1", Name: "x", Members: []string{"U404"}}}},
		"ErrDuplicateID":  {Users: []slackfake.User{{ID: "U1"}, {ID: "U1"}}},
		"ErrGroupID":      {UserGroups: []slackfake.UserGroup{{ID: "G1"}}},
		"ErrRetryDelays":  {RetryDelays: []time.Duration{0, time.Second, time.Second, time.Second}},
		"ErrNegativeWait": {RetryDelays: []time.Duration{-time.Second}},
	} {
		t.Run(name, func(t *testing.T) {
			f, err := slackfake.New(o)
			if err == nil {
				f.Close()
				t.Fatal("New accepted bad options")
			}
			if !strings.HasPrefix(err.Error(), "slackfake: Options.") {
				t.Errorf("error %q does not name the option", err)
			}
		})
	}
}

// TestRepliesPaging: conversations.replies lists a thread oldest first, the
// parent first of all, 1000 messages a page unless told fewer, and honours
// oldest, latest and inclusive like conversations.history; a limit above a
// method's maximum is clamped to it.
func TestRepliesPaging(t *testing.T) {
	f := mustStart(t, func(o *slackfake.Options) { o.DisableBotEcho = true })
	root, err := f.Post(alice, general, "root")
	if err != nil {
		t.Fatal(err)
	}
	const n = 1200
	var stamps []string
	for i := range n {
		ts, err := f.Reply(bob, general, root, fmt.Sprintf("reply %d", i))
		if err != nil {
			t.Fatal(err)
		}
		stamps = append(stamps, ts)
	}
	c := api(f)
	msgs, more, cursor, err := c.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: general, Timestamp: root})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1000 || !more || cursor == "" || msgs[0].Text != "root" || msgs[1].Text != "reply 0" || msgs[999].Text != "reply 998" {
		t.Fatalf("first page: %d messages (%q … %q), has_more %v", len(msgs), msgs[0].Text, msgs[len(msgs)-1].Text, more)
	}
	msgs, more, _, err = c.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: general, Timestamp: root, Cursor: cursor})
	if err != nil || len(msgs) != 201 || more || msgs[0].Text != "reply 999" || msgs[200].Text != fmt.Sprintf("reply %d", n-1) {
		t.Fatalf("second page: %d messages, has_more %v, err %v", len(msgs), more, err)
	}
	msgs, _, _, err = c.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: general, Timestamp: root, Limit: 5000})
	if err != nil || len(msgs) != 1000 {
		t.Errorf("limit 5000: %d messages, err %v, want 1000", len(msgs), err)
	}
	msgs, _, _, err = c.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: general, Timestamp: root, Oldest: stamps[n-3]})
	if err != nil || len(msgs) != 2 || msgs[0].Text != fmt.Sprintf("reply %d", n-2) {
		t.Errorf("oldest, exclusive: %d messages, err %v", len(msgs), err)
	}
	msgs, _, _, err = c.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: general, Timestamp: root, Oldest: stamps[n-3], Inclusive: true})
	if err != nil || len(msgs) != 3 || msgs[0].Text != fmt.Sprintf("reply %d", n-3) {
		t.Errorf("oldest, inclusive: %d messages, err %v", len(msgs), err)
	}
	msgs, _, _, err = c.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: general, Timestamp: root, Oldest: stamps[10], Latest: stamps[12], Inclusive: true, Limit: 2})
	if err != nil || len(msgs) != 2 || msgs[0].Text != "reply 10" || msgs[1].Text != "reply 11" {
		t.Errorf("oldest and latest, limit 2: %+v, err %v", msgs, err)
	}
	// A bare Unix time is a timestamp too: everything after it.
	sec, _, _ := strings.Cut(root, ".")
	before, _ := strconv.Atoi(sec)
	msgs, _, _, err = c.GetConversationReplies(&slack.GetConversationRepliesParameters{ChannelID: general, Timestamp: root, Oldest: strconv.Itoa(before - 1)})
	if err != nil || len(msgs) != 1000 || msgs[0].Text != "root" {
		t.Errorf("oldest %d: %d messages, err %v", before-1, len(msgs), err)
	}

	res, err := c.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: general, Limit: 5000})
	if err != nil || len(res.Messages) != 1 {
		t.Errorf("history: %+v, %v (replies are not in a channel's history)", res, err)
	}
}

// TestHistoryLimitClamped: conversations.history answers at most 999
// messages a page, 100 by default.
func TestHistoryLimitClamped(t *testing.T) {
	f := mustStart(t, func(o *slackfake.Options) { o.DisableBotEcho = true })
	for i := range 1005 {
		if _, err := f.Post(alice, general, fmt.Sprintf("message %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	c := api(f)
	for _, tc := range []struct{ limit, want int }{{0, 100}, {5000, 999}, {20, 20}} {
		res, err := c.GetConversationHistory(&slack.GetConversationHistoryParameters{ChannelID: general, Limit: tc.limit})
		if err != nil || len(res.Messages) != tc.want || !res.HasMore || res.Messages[0].Text != "message 1004" {
			t.Errorf("limit %d: %d messages, err %v, want %d, newest first", tc.limit, len(res.Messages), err, tc.want)
		}
	}
}
