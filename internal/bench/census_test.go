package bench

import (
	"context"
	"testing"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
)

// censusWorld is an internal Slack of two channels with no limit, and a
// client that posts as the bot.
func censusWorld(t *testing.T) (*slackfake.Fake, *slackapi.Client) {
	t.Helper()
	f, err := slackfake.New(slackfake.Options{
		RatePerChannel: -1,
		Users:          []slackfake.User{{ID: "U0ALICE", Name: "alice"}},
		Channels: []slackfake.Channel{
			{ID: slackChannel(0), Name: "team-00", Members: []string{"U0BOT", "U0ALICE"}},
			{ID: slackChannel(1), Name: "team-01", Members: []string{"U0BOT", "U0ALICE"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f, slackapi.New(f.BotToken(), slackapi.OptionAPIURL(f.APIURL()))
}

func post(t *testing.T, api *slackapi.Client, channel, thread, text string) string {
	t.Helper()
	opts := []slackapi.MsgOption{slackapi.MsgOptionText(text, false)}
	if thread != "" {
		opts = append(opts, slackapi.MsgOptionTS(thread))
	}
	_, ts, err := api.PostMessageContext(context.Background(), channel, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// twoItemPlan: Q0000x in channel 0 with F0000x and F0002x, Q0001x in
// channel 1 with F0001x.
func twoItemPlan() *plan {
	p := newPlan(2, 2, 3)
	now := time.Now()
	for _, it := range p.items {
		it.posted = now
	}
	for _, f := range p.followUps {
		f.posted = now
	}
	return p
}

func TestCensus(t *testing.T) {
	t.Run("EveryMessageVisibleOnce", func(t *testing.T) {
		f, api := censusWorld(t)
		p := twoItemPlan()
		start := time.Now()
		a := post(t, api, slackChannel(0), "", "Member 00: Q0000x the export fails")
		b := post(t, api, slackChannel(1), "", "Member 01: Q0001x the export fails")
		// Two follow-ups merged into one thread post.
		post(t, api, slackChannel(0), a, "2 follow-ups: F0000x Same here / F0002x any news?")
		post(t, api, slackChannel(1), b, "F0001x Same here")
		// People's own messages quoting markers are not the bot's posts.
		if _, err := f.Post("U0ALICE", slackChannel(0), "Q0001x F0001x seen"); err != nil {
			t.Fatal(err)
		}
		c := p.take(f)
		if !p.complete(c) || c.visible() != 5 {
			t.Fatalf("census: complete %v, %d visible; want complete, 5 visible", p.complete(c), c.visible())
		}
		fg := p.figures(c, f.Calls(), nil, start)
		if fg.lost != 0 || fg.duplicated != 0 || fg.astray != 0 {
			t.Errorf("lost %d, duplicated %d, astray %d; want none", fg.lost, fg.duplicated, fg.astray)
		}
		if fg.posts != 4 || fg.calls != 4 || fg.calls429 != 0 {
			t.Errorf("posts %d, calls %d, 429s %d; want 4, 4, 0", fg.posts, fg.calls, fg.calls429)
		}
		if fg.cardsVisible < 0 || fg.allVisible < fg.cardsVisible || fg.allVisible > time.Minute {
			t.Errorf("cards visible after %v, all after %v: want 0 ≤ cards ≤ all, within the test", fg.cardsVisible, fg.allVisible)
		}
	})
	t.Run("DuplicateCardAndNote", func(t *testing.T) {
		f, api := censusWorld(t)
		p := twoItemPlan()
		start := time.Now()
		a := post(t, api, slackChannel(0), "", "Q0000x")
		post(t, api, slackChannel(0), "", "Q0000x again")
		b := post(t, api, slackChannel(1), "", "Q0001x")
		post(t, api, slackChannel(0), a, "F0000x F0002x")
		post(t, api, slackChannel(1), b, "F0001x")
		post(t, api, slackChannel(1), b, "F0001x")
		fg := p.figures(p.take(f), f.Calls(), nil, start)
		if fg.lost != 0 || fg.duplicated != 2 {
			t.Errorf("lost %d, duplicated %d; want 0 lost, 2 duplicated (Q0000x, F0001x)", fg.lost, fg.duplicated)
		}
	})
	t.Run("FollowUpOutsideItsThreadIsLost", func(t *testing.T) {
		f, api := censusWorld(t)
		p := twoItemPlan()
		start := time.Now()
		a := post(t, api, slackChannel(0), "", "Q0000x")
		post(t, api, slackChannel(1), "", "Q0001x")
		post(t, api, slackChannel(0), a, "F0000x")
		post(t, api, slackChannel(0), "", "F0002x as a card of its own")
		post(t, api, slackChannel(0), a, "F0001x in the other item's thread")
		c := p.take(f)
		if p.complete(c) {
			t.Fatal("complete, with two follow-ups outside their card's thread")
		}
		fg := p.figures(c, f.Calls(), nil, start)
		if fg.lost != 2 || fg.astray != 2 || fg.complete || fg.allVisible != -1 {
			t.Errorf("lost %d, astray %d, complete %v, all visible %v; want 2 lost, 2 astray, incomplete, never", fg.lost, fg.astray, fg.complete, fg.allVisible)
		}
		if fg.cardsVisible < 0 {
			t.Errorf("cards visible %v, want a time: every card is there", fg.cardsVisible)
		}
	})
	t.Run("MissingCard", func(t *testing.T) {
		f, api := censusWorld(t)
		p := twoItemPlan()
		a := post(t, api, slackChannel(0), "", "Q0000x")
		post(t, api, slackChannel(0), a, "F0000x F0002x")
		c := p.take(f)
		if got := p.missing(c); got != 2 {
			t.Errorf("missing %d, want 2 (Q0001x and its follow-up F0001x)", got)
		}
		fg := p.figures(c, f.Calls(), nil, time.Now())
		if fg.cardsVisible != -1 || fg.lost != 2 {
			t.Errorf("cards visible %v, lost %d; want never, 2", fg.cardsVisible, fg.lost)
		}
	})
}
