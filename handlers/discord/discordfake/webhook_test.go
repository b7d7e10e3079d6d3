package discordfake_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
)

func TestWebhookExecuteWait(t *testing.T) {
	t.Parallel()
	f, s, ev := fakeSession(t, noContent)

	wh := relayHook(t, s, general)
	if wh.Token == "" || wh.ChannelID != general || wh.ApplicationID != f.ApplicationID() {
		t.Fatalf("webhook = %+v", wh)
	}
	msg, err := s.WebhookExecute(wh.ID, wh.Token, true, &discordgo.WebhookParams{
		Content:         "Alice asked: where is the printer?",
		Username:        "Alice (via Liaison)",
		AvatarURL:       "https://example.com/alice.png",
		AllowedMentions: &discordgo.MessageAllowedMentions{},
	})
	if err != nil {
		t.Fatal(err)
	}
	if msg.Author.Username != "Alice (via Liaison)" || msg.WebhookID != wh.ID || !msg.Author.Bot || msg.ChannelID != general {
		t.Fatalf("executed message author=%+v webhook=%s channel=%s", msg.Author, msg.WebhookID, msg.ChannelID)
	}
	// Dispatched like any message, flagged as a webhook's; the app's own messages keep their
	// content even without MESSAGE_CONTENT.
	got := recv(t, ev.msgCreate, "MESSAGE_CREATE of the webhook post")
	if got.ID != msg.ID || got.WebhookID != wh.ID || !got.Author.Bot || got.Content != msg.Content {
		t.Fatalf("MESSAGE_CREATE = %+v", got.Message)
	}
	ms := f.Messages(general)
	if len(ms) != 1 || ms[0].Author.Username != "Alice (via Liaison)" || ms[0].AvatarURL != "https://example.com/alice.png" || ms[0].WebhookID != wh.ID {
		t.Fatalf("Messages = %+v", ms)
	}
	if hooks := f.Webhooks(general); len(hooks) != 1 || hooks[0].ID != wh.ID {
		t.Fatalf("Webhooks = %+v", hooks)
	}

	// Without wait Discord answers 204 and discordgo returns no message.
	msg, err = s.WebhookExecute(wh.ID, wh.Token, false, &discordgo.WebhookParams{Content: "fire and forget"})
	if err != nil || msg != nil {
		t.Fatalf("execute without wait = %v, %v", msg, err)
	}
	// A wrong token is refused; the webhook's ID alone is not enough.
	_, err = s.WebhookExecute(wh.ID, "wrong", true, &discordgo.WebhookParams{Content: "x"})
	restErr(t, err, http.StatusUnauthorized, 50027)
}

func TestWebhookInThread(t *testing.T) {
	t.Parallel()
	f, s, ev := fakeSession(t, allIntents)

	root, th := botThread(t, s, "Question from Alice", "Alice's question", 1440)
	if th.ID != root.ID || th.Type != discordgo.ChannelTypeGuildPublicThread || th.ParentID != general {
		t.Fatalf("thread = %+v", th)
	}
	if tc := recv(t, ev.threadCreate, "THREAD_CREATE"); tc.ID != th.ID || !tc.NewlyCreated {
		t.Fatalf("THREAD_CREATE = %+v", tc)
	}
	_, err := s.MessageThreadStart(general, root.ID, "again", 1440)
	restErr(t, err, http.StatusBadRequest, 160004)

	wh := relayHook(t, s, general)
	msg, err := s.WebhookThreadExecute(wh.ID, wh.Token, true, th.ID, &discordgo.WebhookParams{Content: "answer", Username: "Bob"})
	if err != nil {
		t.Fatal(err)
	}
	if msg.ChannelID != th.ID {
		t.Fatalf("thread post in channel %s, want %s", msg.ChannelID, th.ID)
	}

	// discordgo's WebhookMessageEdit cannot pass thread_id: Discord looks in the parent channel
	// and answers Unknown Message.
	edited := "answer (edited)"
	_, err = s.WebhookMessageEdit(wh.ID, wh.Token, msg.ID, &discordgo.WebhookEdit{Content: &edited})
	restErr(t, err, http.StatusNotFound, 10008)

	// The adapter builds that request itself, with ?thread_id=.
	uri := discordgo.EndpointWebhookMessage(wh.ID, wh.Token, msg.ID) + "?thread_id=" + th.ID
	body, err := s.RequestWithBucketID("PATCH", uri,
		discordgo.WebhookEdit{Content: &edited, AllowedMentions: &discordgo.MessageAllowedMentions{}},
		discordgo.EndpointWebhookToken("", ""))
	if err != nil {
		t.Fatal(err)
	}
	var out discordgo.Message
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	if out.Content != edited || out.EditedTimestamp == nil {
		t.Fatalf("edited message = %q edited=%v", out.Content, out.EditedTimestamp)
	}
	ms := f.Messages(th.ID)
	if len(ms) != 1 || ms[0].Content != edited || !ms[0].Edited {
		t.Fatalf("thread messages = %+v", ms)
	}
	// Deleting needs thread_id too.
	err = s.WebhookMessageDelete(wh.ID, wh.Token, msg.ID)
	restErr(t, err, http.StatusNotFound, 10008)
	if _, err := s.RequestWithBucketID("DELETE", uri, nil, discordgo.EndpointWebhookToken("", "")); err != nil {
		t.Fatal(err)
	}
	if m, _ := f.MessageByID(msg.ID); !m.Deleted {
		t.Fatal("message not deleted")
	}
}

func TestForumWebhookNeedsThread(t *testing.T) {
	t.Parallel()
	f, s, ev := fakeSession(t, allIntents)
	wh := relayHook(t, s, help)
	_, err := s.WebhookExecute(wh.ID, wh.Token, true, &discordgo.WebhookParams{Content: "lost"})
	restErr(t, err, http.StatusBadRequest, 220001)

	msg, err := s.WebhookExecute(wh.ID, wh.Token, true, &discordgo.WebhookParams{Content: "Printer on fire", ThreadName: "Printer"})
	if err != nil {
		t.Fatal(err)
	}
	if msg.ChannelID != msg.ID {
		t.Fatalf("forum post message %s in channel %s: the thread takes the message's ID", msg.ID, msg.ChannelID)
	}
	if th := f.Threads(help); len(th) != 1 || th[0].ID != msg.ID || th[0].Name != "Printer" {
		t.Fatalf("Threads = %+v", th)
	}
	recv(t, ev.threadCreate, "THREAD_CREATE")
	if m := recv(t, ev.msgCreate, "MESSAGE_CREATE"); m.ChannelID != msg.ID {
		t.Fatalf("MESSAGE_CREATE in %s", m.ChannelID)
	}

	// thread_name outside a forum is refused.
	wh2 := relayHook(t, s, general)
	_, err = s.WebhookExecute(wh2.ID, wh2.Token, true, &discordgo.WebhookParams{Content: "x", ThreadName: "nope"})
	restErr(t, err, http.StatusBadRequest, 220003)
}

func TestMissingManageWebhooks(t *testing.T) {
	t.Parallel()
	f := discordfake.MustNew(t, discordfake.Options{BotPermissions: map[string]int64{
		general: discordfake.PermAll &^ discordfake.PermManageWebhooks,
	}})
	s, _ := mustSession(t, f, allIntents)
	_, err := s.WebhookCreate(general, "Liaison relay", "")
	re := restErr(t, err, http.StatusForbidden, 50013)
	if re.Message.Message != "Missing Permissions" {
		t.Fatalf("message = %q", re.Message.Message)
	}
	_, err = s.ChannelWebhooks(general)
	restErr(t, err, http.StatusForbidden, 50013)
	if n := f.InvalidRequests(); n != 2 {
		t.Fatalf("InvalidRequests = %d, want 2", n)
	}
	// Granting it at run time works.
	f.SetBotPermissions(general, discordfake.PermAll)
	if _, err := s.WebhookCreate(general, "Liaison relay", ""); err != nil {
		t.Fatal(err)
	}
}

func TestRateLimits(t *testing.T) {
	t.Parallel()
	const window = 400 * time.Millisecond

	// discordgo keys its buckets by URL, query included, while Discord counts a webhook's
	// executions together: posting to two threads of one webhook meets the 429 discordgo did not
	// see coming.
	setup := func(t *testing.T) (*discordfake.Fake, *discordgo.Session, *events, *discordgo.Webhook, [2]string) {
		f, s, ev := fakeSession(t, allIntents)
		wh := relayHook(t, s, general)
		var threads [2]string
		for i := range threads {
			_, th := botThread(t, s, "root", "thread", 60)
			threads[i] = th.ID
		}
		f.SetRouteLimit("POST /webhooks/{id}/{token}", 1, window)
		return f, s, ev, wh, threads
	}

	t.Run("discordgo retries by default", func(t *testing.T) {
		t.Parallel()
		f, s, ev, wh, threads := setup(t)
		start := time.Now()
		for _, th := range threads {
			if _, err := s.WebhookThreadExecute(wh.ID, wh.Token, true, th, &discordgo.WebhookParams{Content: "hi"}); err != nil {
				t.Fatal(err)
			}
		}
		// ShouldRetryOnRateLimit (default true): discordgo emits a RateLimit event, sleeps
		// retry_after and sends the request again.
		rl := recv(t, ev.rateLimit, "RateLimit event")
		if rl.RetryAfter <= 0 || rl.RetryAfter > window || !strings.Contains(rl.URL, "thread_id=") {
			t.Fatalf("RateLimit = %+v %s", rl.TooManyRequests, rl.URL)
		}
		if time.Since(start) < window/2 {
			t.Fatal("discordgo did not wait before retrying")
		}
		var statuses []int
		for _, c := range f.Calls() {
			if c.Method == "POST" && strings.HasPrefix(c.Route, "POST /webhooks/") {
				statuses = append(statuses, c.Status)
			}
		}
		if len(statuses) != 3 || statuses[0] != 200 || statuses[1] != 429 || statuses[2] != 200 {
			t.Fatalf("webhook statuses = %v, want [200 429 200]", statuses)
		}
		if f.InvalidRequests() != 1 {
			t.Fatalf("InvalidRequests = %d", f.InvalidRequests())
		}
	})

	t.Run("without retry discordgo returns RateLimitError", func(t *testing.T) {
		t.Parallel()
		_, s, _, wh, threads := setup(t)
		if _, err := s.WebhookThreadExecute(wh.ID, wh.Token, true, threads[0], &discordgo.WebhookParams{Content: "hi"}); err != nil {
			t.Fatal(err)
		}
		_, err := s.WebhookThreadExecute(wh.ID, wh.Token, true, threads[1], &discordgo.WebhookParams{Content: "hi"},
			discordgo.WithRetryOnRatelimit(false))
		var rle *discordgo.RateLimitError
		if !errors.As(err, &rle) || rle.RetryAfter <= 0 || rle.RetryAfter > window {
			t.Fatalf("error = %v (%T), want *discordgo.RateLimitError", err, err)
		}
	})

	t.Run("headers on every response", func(t *testing.T) {
		t.Parallel()
		f := discordfake.MustNew(t, discordfake.Options{})
		f.SetRouteLimit("GET /users/@me", 2, time.Minute)
		for i, want := range []string{"1", "0"} {
			status, h, _ := rawCall(t, f, "GET", "/users/@me", f.BotToken(), "")
			if status != 200 || h.Get("X-RateLimit-Limit") != "2" || h.Get("X-RateLimit-Remaining") != want ||
				h.Get("X-RateLimit-Reset") == "" || h.Get("X-RateLimit-Reset-After") == "" || h.Get("X-RateLimit-Bucket") == "" {
				t.Fatalf("call %d: %d %v", i, status, h)
			}
		}
		status, h, body := rawCall(t, f, "GET", "/users/@me", f.BotToken(), "")
		var rl struct {
			Message    string  `json:"message"`
			RetryAfter float64 `json:"retry_after"`
			Global     bool    `json:"global"`
		}
		if err := json.Unmarshal(body, &rl); err != nil {
			t.Fatal(err)
		}
		if status != 429 || rl.Message != "You are being rate limited." || rl.RetryAfter <= 0 || rl.Global ||
			h.Get("Retry-After") == "" || h.Get("X-RateLimit-Scope") != "user" || h.Get("X-RateLimit-Global") != "" {
			t.Fatalf("429: %d %v %s", status, h, body)
		}
	})

	t.Run("global limit", func(t *testing.T) {
		t.Parallel()
		f := discordfake.MustNew(t, discordfake.Options{})
		f.SetGlobalLimit(1, time.Minute)
		if status, _, _ := rawCall(t, f, "GET", "/users/@me", f.BotToken(), ""); status != 200 {
			t.Fatal(status)
		}
		status, h, body := rawCall(t, f, "GET", "/channels/"+general, f.BotToken(), "")
		if status != 429 || h.Get("X-RateLimit-Global") != "true" || h.Get("X-RateLimit-Scope") != "global" || !strings.Contains(string(body), `"global":true`) {
			t.Fatalf("global 429: %d %v %s", status, h, body)
		}
	})

	t.Run("injected 429", func(t *testing.T) {
		t.Parallel()
		f, s, _ := fakeSession(t, allIntents)
		f.FailNext("POST", "/channels/"+general+"/messages", 429, 0)
		if _, err := s.ChannelMessageSend(general, "after a 429"); err != nil {
			t.Fatal(err)
		}
		f.FailNext("POST", "/channels/"+general+"/messages", 500, 0)
		_, err := s.ChannelMessageSend(general, "boom")
		restErr(t, err, 500, 0)
		if ms := f.Messages(general); len(ms) != 1 {
			t.Fatalf("Messages = %d, want 1", len(ms))
		}
	})
}
