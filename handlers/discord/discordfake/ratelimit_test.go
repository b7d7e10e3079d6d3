package discordfake_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
)

// rateLimitBody is Discord's 429 body.
type rateLimitBody struct {
	Message    string  `json:"message"`
	RetryAfter float64 `json:"retry_after"`
	Global     bool    `json:"global"`
}

func readRateLimit(t *testing.T, body []byte) rateLimitBody {
	t.Helper()
	var rl rateLimitBody
	if err := json.Unmarshal(body, &rl); err != nil {
		t.Fatalf("429 body %s: %v", body, err)
	}
	return rl
}

// headerSeconds reads a header holding seconds, as Discord writes them.
func headerSeconds(t *testing.T, h http.Header, key string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(h.Get(key), 64)
	if err != nil {
		t.Fatalf("%s = %q: %v", key, h.Get(key), err)
	}
	return v
}

// createWebhook creates a webhook in a channel through REST and returns its id and token.
func createWebhook(t *testing.T, f *discordfake.Fake, channelID string) (id, token string) {
	t.Helper()
	status, _, body := rawCall(t, f, "POST", "/channels/"+channelID+"/webhooks", f.BotToken(), `{"name":"Liaison relay"}`)
	var wh struct{ ID, Token string }
	if status != 200 || json.Unmarshal(body, &wh) != nil || wh.Token == "" {
		t.Fatalf("create webhook: %d %s", status, body)
	}
	return wh.ID, wh.Token
}

// TestMessageLimitPerChannel: a channel takes 5 bot messages per 5 seconds, announced by the
// headers of every answer; the sixth is refused with Discord's 429 and posts nothing; another
// channel, a thread included, has its own 5.
func TestMessageLimitPerChannel(t *testing.T) {
	t.Parallel()
	f := discordfake.MustNew(t, discordfake.Options{})
	post := func(channelID string) (int, http.Header, []byte) {
		return rawCall(t, f, "POST", "/channels/"+channelID+"/messages", f.BotToken(), `{"content":"hello"}`)
	}
	for i := range 5 {
		status, h, body := post(general)
		if status != 200 {
			t.Fatalf("post %d: %d %s", i+1, status, body)
		}
		if h.Get("X-RateLimit-Limit") != "5" || h.Get("X-RateLimit-Remaining") != strconv.Itoa(4-i) {
			t.Fatalf("post %d: limit %q remaining %q, want 5 and %d", i+1, h.Get("X-RateLimit-Limit"), h.Get("X-RateLimit-Remaining"), 4-i)
		}
		if after := headerSeconds(t, h, "X-RateLimit-Reset-After"); after <= 4 || after > 5 {
			t.Fatalf("post %d: X-RateLimit-Reset-After %v, want the rest of a 5 s window", i+1, after)
		}
	}
	status, h, body := post(general)
	rl := readRateLimit(t, body)
	if status != 429 || rl.Global || rl.RetryAfter <= 3 || rl.RetryAfter > 5 || h.Get("X-RateLimit-Scope") != "user" || h.Get("Retry-After") == "" {
		t.Fatalf("sixth post: %d %v %s, want a 429 of the channel's bucket waiting the rest of 5 s", status, h, body)
	}
	if n := len(f.Messages(general)); n != 5 {
		t.Errorf("%d messages in #general, want the 5 accepted", n)
	}

	// A thread is a channel of its own.
	root, err := f.Post(alice, general, "a question")
	if err != nil {
		t.Fatal(err)
	}
	th, err := f.StartThread(alice, general, root.ID, "the thread")
	if err != nil {
		t.Fatal(err)
	}
	if status, _, body := post(th.ID); status != 200 {
		t.Errorf("post in a thread while #general is limited: %d %s", status, body)
	}
	if f.RateLimited() != 1 || f.InvalidRequests() != 1 {
		t.Errorf("RateLimited = %d, InvalidRequests = %d, want 1 and 1", f.RateLimited(), f.InvalidRequests())
	}
}

// TestMessageLimitWithDiscordgo: discordgo reads the headers and waits for the window by
// itself, so a burst of posts takes the limit's time and meets no 429.
func TestMessageLimitWithDiscordgo(t *testing.T) {
	t.Parallel()
	f, s, _ := fakeSession(t, allIntents)
	start := time.Now()
	for i := range 7 {
		if _, err := s.ChannelMessageSend(general, fmt.Sprint("post ", i)); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 4*time.Second {
		t.Errorf("7 posts took %v: the 5-per-5-s limit should have held the last two", d)
	}
	if f.RateLimited() != 0 {
		t.Errorf("RateLimited = %d: discordgo should have waited for the window", f.RateLimited())
	}
}

// TestWebhookLimitPerWebhook: a webhook takes 5 executions per 2 seconds, counted together
// whatever the thread they go to (discordgo's buckets, keyed by URL, do not know); another
// webhook has its own.
func TestWebhookLimitPerWebhook(t *testing.T) {
	t.Parallel()
	f := discordfake.MustNew(t, discordfake.Options{})
	id, token := createWebhook(t, f, general)
	root, err := f.Post(alice, general, "a question")
	if err != nil {
		t.Fatal(err)
	}
	th, err := f.StartThread(alice, general, root.ID, "the thread")
	if err != nil {
		t.Fatal(err)
	}
	execute := func(id, token, query string) (int, http.Header, []byte) {
		return rawCall(t, f, "POST", "/webhooks/"+id+"/"+token+"?wait=true"+query, "", `{"content":"hi"}`)
	}
	for i := range 5 {
		query := ""
		if i%2 == 1 {
			query = "&thread_id=" + th.ID
		}
		if status, h, body := execute(id, token, query); status != 200 || h.Get("X-RateLimit-Limit") != "5" {
			t.Fatalf("execution %d: %d %v %s", i+1, status, h, body)
		}
	}
	status, _, body := execute(id, token, "&thread_id="+th.ID)
	if rl := readRateLimit(t, body); status != 429 || rl.RetryAfter <= 0 || rl.RetryAfter > 2 {
		t.Fatalf("sixth execution: %d %s, want a 429 waiting at most 2 s", status, body)
	}
	other, otherToken := createWebhook(t, f, general)
	if status, _, body := execute(other, otherToken, ""); status != 200 {
		t.Errorf("another webhook: %d %s", status, body)
	}
}

// TestGlobalLimit: by default a bot makes at most 50 requests a second over all routes;
// the 51st is refused with a global 429, while webhooks executed by token are not counted.
func TestGlobalLimit(t *testing.T) {
	t.Parallel()
	// The window is a real second: on a slow machine the 51 requests may not fit in it, and
	// the test starts again with a fresh fake.
	for attempt := 1; ; attempt++ {
		f := discordfake.MustNew(t, discordfake.Options{})
		id, token := createWebhook(t, f, general)
		start := time.Now()
		paths := []string{"/users/@me", "/channels/" + general, "/guilds/" + guildID}
		var statuses []int
		for i := range 49 { // 50 with the webhook's creation
			status, _, _ := rawCall(t, f, "GET", paths[i%len(paths)], f.BotToken(), "")
			statuses = append(statuses, status)
		}
		status, h, body := rawCall(t, f, "GET", "/users/@me", f.BotToken(), "")
		hookStatus, _, hookBody := rawCall(t, f, "POST", "/webhooks/"+id+"/"+token+"?wait=true", "", `{"content":"exempt"}`)
		if time.Since(start) > 800*time.Millisecond {
			if attempt == 3 {
				t.Skip("51 requests never fitted in a second on this machine")
			}
			continue
		}
		for i, s := range statuses {
			if s != 200 {
				t.Fatalf("request %d of 50: %d", i+2, s)
			}
		}
		if rl := readRateLimit(t, body); status != 429 || !rl.Global || h.Get("X-RateLimit-Global") != "true" || h.Get("X-RateLimit-Scope") != "global" {
			t.Fatalf("51st request: %d %v %s, want a global 429", status, h, body)
		}
		if hookStatus != 200 {
			t.Errorf("webhook executed by token during the global limit: %d %s", hookStatus, hookBody)
		}
		return
	}
}

// TestSetRouteLimit: n < 0 lifts a route's limit (no headers, no 429); 0 takes Discord's
// limit away and leaves the default route limit.
func TestSetRouteLimit(t *testing.T) {
	t.Parallel()
	f := discordfake.MustNew(t, discordfake.Options{})
	const route = "POST /channels/{channel.id}/messages"
	f.SetRouteLimit(route, -1, 0)
	for i := range 7 {
		status, h, body := rawCall(t, f, "POST", "/channels/"+general+"/messages", f.BotToken(), `{"content":"x"}`)
		if status != 200 || h.Get("X-RateLimit-Bucket") != "" {
			t.Fatalf("post %d without a limit: %d %v %s", i+1, status, h, body)
		}
	}
	f.SetRouteLimit(route, 0, 0)
	_, h, _ := rawCall(t, f, "POST", "/channels/"+general+"/messages", f.BotToken(), `{"content":"x"}`)
	if h.Get("X-RateLimit-Limit") != "50" {
		t.Errorf("after SetRouteLimit(0): X-RateLimit-Limit %q, want the default 50", h.Get("X-RateLimit-Limit"))
	}
}

// TestInvalidRequestBlock: enough 401, 403 and 429 answers within the window get the client
// blocked: every request, the right ones too, is answered 429 until the block ends, and the
// block's answers do not count again. Fewer within the window block nothing.
func TestInvalidRequestBlock(t *testing.T) {
	t.Parallel()
	const window = 300 * time.Millisecond
	f := discordfake.MustNew(t, discordfake.Options{InvalidRequestLimit: 3, InvalidRequestWindow: window, InvalidRequestBlock: time.Minute})
	unauthorized := func() {
		t.Helper()
		if status, _, body := rawCall(t, f, "GET", "/users/@me", "Bot wrong-token", ""); status != 401 {
			t.Fatalf("wrong token: %d %s", status, body)
		}
	}
	unauthorized()
	unauthorized()
	time.Sleep(window + 50*time.Millisecond)
	unauthorized() // the first two have left the window
	f.SetBotPermissions(general, 0)
	if status, _, body := rawCall(t, f, "GET", "/channels/"+general+"/messages", f.BotToken(), ""); status != 403 {
		t.Fatalf("without permissions: %d %s", status, body)
	}
	if !f.BlockedUntil().IsZero() {
		t.Fatalf("blocked after 2 invalid requests within the window (limit 3)")
	}
	unauthorized() // the third within the window
	if f.InvalidRequests() != 5 {
		t.Fatalf("InvalidRequests = %d, want 5", f.InvalidRequests())
	}
	until := f.BlockedUntil()
	if d := time.Until(until); d <= 50*time.Second || d > time.Minute {
		t.Fatalf("BlockedUntil in %v, want the minute's block", d)
	}

	// The right token is refused too, and discordgo is told to wait for the block's end.
	status, h, body := rawCall(t, f, "GET", "/users/@me", f.BotToken(), "")
	rl := readRateLimit(t, body)
	if status != 429 || !rl.Global || rl.RetryAfter < 50 || !strings.Contains(rl.Message, "blocked") || h.Get("Retry-After") != "60" {
		t.Fatalf("request while blocked: %d %v %s", status, h, body)
	}
	s, err := discordgo.New(f.BotToken())
	if err != nil {
		t.Fatal(err)
	}
	f.Configure(s)
	s.ShouldRetryOnRateLimit = false
	_, err = s.User("@me")
	var rle *discordgo.RateLimitError
	if !errors.As(err, &rle) || math.Abs(rle.RetryAfter.Seconds()-time.Until(until).Seconds()) > 2 {
		t.Fatalf("discordgo while blocked: %v (%T), want a RateLimitError until the block ends", err, err)
	}
	if f.InvalidRequests() != 5 || f.RateLimited() != 2 || !f.BlockedUntil().Equal(until) {
		t.Errorf("InvalidRequests = %d, RateLimited = %d, BlockedUntil moved: %v; the block's answers count as 429s only",
			f.InvalidRequests(), f.RateLimited(), !f.BlockedUntil().Equal(until))
	}
}
