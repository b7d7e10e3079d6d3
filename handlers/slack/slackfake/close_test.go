package slackfake_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
)

// TestCloseStopsEverything checks that Close ends every goroutine of the fake,
// with a socket open, a delivery waiting for its ack, an HTTP delivery
// waiting for a slow app and a delayed Web API answer in flight.
func TestCloseStopsEverything(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // so that the server notices the client leave
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	defer slow.Close()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	before := runtime.NumGoroutine()

	f, err := slackfake.New(slackfake.Options{
		Users:        []slackfake.User{{ID: alice}},
		Channels:     []slackfake.Channel{{ID: general, Name: "general", Members: []string{bot, alice}}},
		AckTimeout:   5 * time.Second,
		PingInterval: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, f.APIURL()+"apps.connections.open", nil)
	req.Header.Set("Authorization", "Bearer "+f.AppToken())
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var open struct{ URL string }
	_ = json.NewDecoder(res.Body).Decode(&open)
	res.Body.Close()
	ws, wres, err := websocket.DefaultDialer.Dial(open.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	wres.Body.Close()
	defer ws.Close()
	var hello map[string]any
	if err := ws.ReadJSON(&hello); err != nil || hello["type"] != "hello" {
		t.Fatalf("hello = %v, %v", hello, err)
	}
	if _, err := f.Post(alice, general, "never acked"); err != nil {
		t.Fatal(err)
	}
	f.SetHTTPEndpoints("", "", slow.URL)
	if err := f.SlashCommand(alice, general, "/slow", ""); err != nil {
		t.Fatal(err)
	}
	f.DelayNext("auth.test", time.Minute)
	delayed := make(chan struct{})
	go func() {
		defer close(delayed)
		res, err := client.Post(f.APIURL()+"auth.test", "application/x-www-form-urlencoded", strings.NewReader("token="+f.BotToken()))
		if err == nil {
			res.Body.Close()
		}
	}()
	wait(t, f, "the delayed call", func() bool { return len(f.Calls()) == 2 })

	f.Close()
	f.Close() // twice is fine
	<-delayed
	_ = ws.Close()

	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after Close, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}
