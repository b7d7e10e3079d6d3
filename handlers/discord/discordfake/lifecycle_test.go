package discordfake_test

import (
	"encoding/json"
	"errors"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
)

// rawGateway is a bare websocket client for protocol-level checks discordgo would not make.
type rawGateway struct {
	t *testing.T
	c *websocket.Conn
}

func dialGateway(t *testing.T, f *discordfake.Fake) *rawGateway {
	t.Helper()
	c, _, err := f.Dialer().Dial(f.GatewayURL()+"/?v=9&encoding=json", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	g := &rawGateway{t, c}
	if op, _, _ := g.read(); op != 10 {
		t.Fatalf("first payload op %d, want 10 Hello", op)
	}
	return g
}

func (g *rawGateway) send(op int, d any) {
	g.t.Helper()
	if err := g.c.WriteJSON(map[string]any{"op": op, "d": d}); err != nil {
		g.t.Fatal(err)
	}
}

// read returns the next payload's op, event name and data.
func (g *rawGateway) read() (int, string, json.RawMessage) {
	g.t.Helper()
	_ = g.c.SetReadDeadline(time.Now().Add(eventDeadline))
	var p struct {
		Op int             `json:"op"`
		T  string          `json:"t"`
		D  json.RawMessage `json:"d"`
	}
	if err := g.c.ReadJSON(&p); err != nil {
		g.t.Fatalf("read: %v", err)
	}
	return p.Op, p.T, p.D
}

// closed waits for the server to close the connection and returns the close code; gorilla
// reports an end without a close frame as 1006.
func (g *rawGateway) closed() int {
	g.t.Helper()
	_ = g.c.SetReadDeadline(time.Now().Add(eventDeadline))
	for {
		_, _, err := g.c.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			g.t.Fatal("connection still open")
		}
		return -1
	}
}

func TestGatewayProtocolErrors(t *testing.T) {
	t.Parallel()
	f := discordfake.MustNew(t, discordfake.Options{})
	identify := func(intents int64) map[string]any {
		return map[string]any{"token": f.BotToken(), "intents": intents, "properties": map[string]string{"os": "linux"}}
	}
	t.Run("payload before Identify", func(t *testing.T) {
		g := dialGateway(t, f)
		g.send(3, map[string]any{"status": "online"})
		if code := g.closed(); code != 4003 {
			t.Fatalf("close %d, want 4003", code)
		}
	})
	t.Run("invalid intents", func(t *testing.T) {
		g := dialGateway(t, f)
		g.send(2, identify(1<<30))
		if code := g.closed(); code != 4013 {
			t.Fatalf("close %d, want 4013", code)
		}
	})
	t.Run("Identify twice", func(t *testing.T) {
		g := dialGateway(t, f)
		g.send(2, identify(1<<9))
		if op, typ, _ := g.read(); op != 0 || typ != "READY" {
			t.Fatalf("got op %d %s", op, typ)
		}
		g.send(2, identify(1<<9))
		if code := g.closed(); code != 4005 {
			t.Fatalf("close %d, want 4005", code)
		}
	})
	t.Run("heartbeat and resume of an unknown session", func(t *testing.T) {
		g := dialGateway(t, f)
		g.send(1, nil)
		if op, _, _ := g.read(); op != 11 {
			t.Fatalf("heartbeat answered with op %d", op)
		}
		g.send(6, map[string]any{"token": f.BotToken(), "session_id": "nope", "seq": 3})
		op, _, d := g.read()
		if op != 9 || string(d) != "false" {
			t.Fatalf("resume of an unknown session: op %d d %s, want op 9 false", op, d)
		}
	})
	t.Run("API version", func(t *testing.T) {
		c, _, err := f.Dialer().Dial(f.GatewayURL()+"?v=6&encoding=json", nil)
		if err != nil {
			t.Fatal(err)
		}
		g := &rawGateway{t, c}
		defer c.Close()
		if code := g.closed(); code != 4012 {
			t.Fatalf("close %d, want 4012", code)
		}
	})
}

func TestTransport(t *testing.T) {
	t.Parallel()
	f := discordfake.MustNew(t, discordfake.Options{})
	hc := f.HTTPClient()
	if _, err := hc.Get("https://example.com/"); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Fatalf("request to another host: %v", err)
	}
	resp, err := hc.Get("https://cdn.discordapp.com/avatars/1/abc.png")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("CDN: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	status, _, body := rawCall(t, f, "GET", "/gateway/bot", f.BotToken(), "")
	var gb struct {
		URL               string `json:"url"`
		Shards            int    `json:"shards"`
		SessionStartLimit struct {
			Total, Remaining, MaxConcurrency int
		} `json:"session_start_limit"`
	}
	if err := json.Unmarshal(body, &gb); err != nil || status != 200 || gb.URL != f.GatewayURL() || gb.Shards != 1 {
		t.Fatalf("gateway/bot: %d %s", status, body)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts discordfake.Options
	}{
		{"non-snowflake guild", discordfake.Options{Guilds: []discordfake.Guild{{ID: "guild-1"}}}},
		{"thread without parent", discordfake.Options{Guilds: []discordfake.Guild{{ID: "1", Channels: []discordfake.Channel{{ID: "2", Type: discordfake.ChannelPublicThread}}}}}},
		{"unknown member role", discordfake.Options{Guilds: []discordfake.Guild{{ID: "1", Members: []discordfake.Member{{User: discordfake.User{ID: "3"}, Roles: []string{"9"}}}}}}},
		{"non-privileged unapproved intent", discordfake.Options{UnapprovedIntents: discordfake.IntentGuildMessages}},
	} {
		if f, err := discordfake.New(tc.opts); err == nil {
			f.Close()
			t.Errorf("%s: New succeeded", tc.name)
		}
	}
}

// TestCloseStopsEverything is not parallel: it counts goroutines.
func TestCloseStopsEverything(t *testing.T) {
	before := runtime.NumGoroutine()
	f, err := discordfake.New(discordfake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := f.Dialer().Dial(f.GatewayURL()+"?v=9&encoding=json", nil)
	if err != nil {
		t.Fatal(err)
	}
	g := &rawGateway{t, c}
	g.read()
	g.send(2, map[string]any{"token": f.BotToken(), "intents": 1 << 9})
	if op, typ, _ := g.read(); op != 0 || typ != "READY" {
		t.Fatalf("got op %d %s", op, typ)
	}
	if status, _, _ := rawCall(t, f, "GET", "/users/@me", f.BotToken(), ""); status != 200 {
		t.Fatal(status)
	}
	f.Close()
	f.Close() // idempotent
	if code := g.closed(); code != websocket.CloseAbnormalClosure {
		t.Fatalf("close code %d, want an abrupt end (1006)", code)
	}
	_ = c.Close()
	if _, err := f.Post(alice, general, "late"); !errors.Is(err, discordfake.ErrClosed) {
		t.Fatalf("Post after Close: %v", err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines after Close, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
