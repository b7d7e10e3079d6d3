package slackfake_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
)

// homeTab is a Home with a welcome line and one button.
func homeTab(text string) slack.HomeTabViewRequest {
	button := slack.NewButtonBlockElement("WaXA", "click_me_123", slack.NewTextBlockObject(slack.PlainTextType, "View", true, false))
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, nil),
		slack.NewActionBlock("", button),
	}}}
}

// TestViewsPublish: views.publish stores a person's Home, replaced whole
// at each call, and refuses what Slack refuses.
func TestViewsPublish(t *testing.T) {
	f := mustStart(t)
	c := api(f)
	ctx := t.Context()
	if _, ok := f.Home(alice); ok {
		t.Fatal("a Home before any was published")
	}
	res, err := c.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: alice, View: homeTab("Welcome, *Alice*")})
	if err != nil {
		t.Fatal(err)
	}
	h, ok := f.Home(alice)
	if !ok || h.Publishes != 1 || h.ViewID != res.View.ID || res.View.Type != slack.VTHomeTab || h.Hash != res.View.Hash {
		t.Fatalf("Home = %+v, answer %+v", h, res.View)
	}
	if !strings.Contains(h.Text(), "Welcome, *Alice*") || !strings.Contains(h.Text(), "View") {
		t.Errorf("the Home shows %q", h.Text())
	}

	// With the current hash it is replaced; with an old one it is refused.
	hash := res.View.Hash
	res, err = c.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: alice, View: homeTab("Second"), Hash: &hash})
	if err != nil {
		t.Fatal(err)
	}
	if h, _ = f.Home(alice); h.Publishes != 2 || !strings.Contains(h.Text(), "Second") || strings.Contains(h.Text(), "Welcome") {
		t.Errorf("after the second publication: %+v", h)
	}
	_, err = c.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: alice, View: homeTab("Third"), Hash: &hash})
	if code := slackError(err); code != "hash_conflict" {
		t.Errorf("publish with an old hash: %s, want hash_conflict", code)
	}
	if h, _ = f.Home(alice); h.Publishes != 2 {
		t.Errorf("a refused publication changed the Home: %+v", h)
	}

	tooMany := homeTab("many")
	for range 100 {
		tooMany.Blocks.BlockSet = append(tooMany.Blocks.BlockSet, slack.NewDividerBlock())
	}
	longHeader := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, strings.Repeat("h", 151), false, false)),
	}}}
	for name, tc := range map[string]struct {
		user string
		view slack.HomeTabViewRequest
	}{
		"UnknownUser":  {"U0NOBODY", homeTab("x")},
		"TheBot":       {bot, homeTab("x")},
		"Modal":        {bob, slack.HomeTabViewRequest{Type: slack.VTModal, Blocks: homeTab("x").Blocks}},
		"101Blocks":    {bob, tooMany},
		"LongHeader":   {bob, longHeader},
		"UnknownBlock": {bob, slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: []slack.Block{&slack.UnknownBlock{Type: "nonsense"}}}}},
	} {
		_, err := c.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: tc.user, View: tc.view})
		if code := slackError(err); code != "invalid_arguments" {
			t.Errorf("%s: %s, want invalid_arguments", name, code)
		}
	}
	if _, ok := f.Home(bob); ok {
		t.Error("a refused publication stored a Home")
	}

	// user_id is required (slack-go checks it first: ask over the wire).
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, f.APIURL()+"views.publish",
		bytes.NewReader([]byte(`{"view":{"type":"home","blocks":[]}}`)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+f.BotToken())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if body.OK || body.Error != "invalid_arguments" {
		t.Errorf("views.publish without user_id: %+v", body)
	}
	if r := slackfake.DefaultMethodRates()["views.publish"]; r.PerMinute != slackfake.Tier4 {
		t.Errorf("views.publish rate = %+v, want Tier 4", r)
	}
}

// TestHomeRateLimited: views.publish is limited per workspace at its
// tier; past it Slack answers 429 with Retry-After.
func TestHomeRateLimited(t *testing.T) {
	f := mustStart(t)
	f.SetMethodRate("views.publish", 60, 2)
	c := api(f)
	for i := range 3 {
		_, err := c.PublishViewContext(t.Context(), slack.PublishViewContextRequest{UserID: alice, View: homeTab("x")})
		var rl *slack.RateLimitedError
		switch {
		case i < 2 && err != nil:
			t.Fatalf("publication %d: %v", i+1, err)
		case i == 2 && (!errors.As(err, &rl) || rl.RetryAfter <= 0):
			t.Fatalf("publication 3 past the burst: %v, want a 429 with Retry-After", err)
		}
	}
}

// TestOpenAndClickHome: opening the Home delivers app_home_opened as Slack
// documents it, with the Home's view once one was published; a click on
// it is block_actions from the view, with a trigger that opens a modal,
// and no channel or response_url.
func TestOpenAndClickHome(t *testing.T) {
	f := mustStart(t, func(o *slackfake.Options) { o.AckTimeout = 5 * time.Second })
	s := dialRaw(t, f)
	s.next() // hello
	c := api(f)
	if err := f.ClickHome(alice, "WaXA", ""); err == nil {
		t.Error("ClickHome before any Home was published")
	}

	if err := f.OpenHome(alice); err != nil {
		t.Fatal(err)
	}
	ev := s.event()
	if ev["type"] != "app_home_opened" || ev["user"] != alice || ev["tab"] != "home" || ev["view"] != nil {
		t.Errorf("first opening = %v, want tab home and no view yet", ev)
	}
	if _, err := c.PublishViewContext(t.Context(), slack.PublishViewContextRequest{UserID: alice, View: homeTab("Welcome")}); err != nil {
		t.Fatal(err)
	}
	if err := f.OpenHome(alice); err != nil {
		t.Fatal(err)
	}
	ev = s.event()
	sameShape(t, "event_app_home_opened.json", ev)
	if err := f.OpenAppHome(alice, "messages"); err != nil {
		t.Fatal(err)
	}
	if ev := s.event(); ev["tab"] != "messages" || ev["view"] != nil {
		t.Errorf("messages tab = %v", ev)
	}
	if err := f.OpenHome(bot); err == nil {
		t.Error("the bot opened its own Home")
	}

	if err := f.ClickHome(alice, "WaXA", "not_there"); err == nil {
		t.Error("clicked a button the Home does not have")
	}
	if err := f.ClickHome(bob, "WaXA", ""); err == nil {
		t.Error("bob clicked alice's Home")
	}
	if err := f.ClickHome(alice, "WaXA", "click_me_123"); err != nil {
		t.Fatal(err)
	}
	click := s.payload()
	sameShape(t, "interactive_block_actions_home.json", click)
	if click["response_url"] != nil || click["channel"] != nil {
		t.Errorf("a click on the Home carries a channel or a response_url: %v", click)
	}
	modal := slack.ModalViewRequest{Type: slack.VTModal, Title: slack.NewTextBlockObject(slack.PlainTextType, "Answer", false, false),
		Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "Done.", false, false), nil, nil)}}}
	if _, err := c.OpenView(click["trigger_id"].(string), modal); err != nil {
		t.Fatalf("the click's trigger opens no modal: %v", err)
	}
	if vs := f.Views(alice); len(vs) != 1 || vs[0].Title != "Answer" {
		t.Errorf("views of alice = %+v", vs)
	}

	// A newer Home without the button: her client may still show the old
	// one, and a click there carries the view she saw.
	old, _ := f.Home(alice)
	plain := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: []slack.Block{
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "Nothing to click", false, false), nil, nil),
	}}}
	if _, err := c.PublishViewContext(t.Context(), slack.PublishViewContextRequest{UserID: alice, View: plain}); err != nil {
		t.Fatal(err)
	}
	if err := f.ClickHome(alice, "WaXA", ""); err == nil {
		t.Error("clicked a button the current Home no longer has")
	}
	if err := f.ClickHomeAsShown(bob, old, "WaXA", ""); err == nil {
		t.Error("bob clicked alice's Home as shown")
	}
	if err := f.ClickHomeAsShown(alice, old, "WaXA", ""); err != nil {
		t.Fatal(err)
	}
	stale := s.payload()
	if v, _ := stale["view"].(map[string]any); v["hash"] != old.Hash {
		t.Errorf("the stale click carries view %v, want the one shown (hash %s)", v, old.Hash)
	}
}
