package slack

import (
	"context"
	"strings"
	"testing"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
)

// permalinkCalls counts the chat.getPermalink calls f answered.
func permalinkCalls(f *slackfake.Fake) int {
	n := 0
	for _, c := range f.Calls() {
		if c.Method == "chat.getPermalink" {
			n++
		}
	}
	return n
}

func linkCard() *bot.Card {
	return &bot.Card{ItemID: 1, AuthorName: "Mia", Title: "#1 · community #help", Text: "Is there a dark mode?", Summary: "Mia asks about dark mode"}
}

// TestPostLinksWithoutLookup: once auth.test has given the workspace's URL,
// posting a card and a note in its thread, and finding a post again, makes
// no chat.getPermalink call, and the links have the form Slack documents for
// chat.getPermalink: the message's ts without its dot, and for a thread
// reply the thread and channel as query parameters.
func TestPostLinksWithoutLookup(t *testing.T) {
	f := startFake(t, func(o *slackfake.Options) { o.TeamDomain = "acme" })
	c := runConn(t, f, newStubDomain(), false)
	ctx := context.Background()

	card, err := c.Send(ctx, &bot.Op{Kind: bot.OpPostCard, Key: "liaison-job-1", Conn: "community", Channel: tChan, Card: linkCard()})
	if err != nil {
		t.Fatalf("post card: %v", err)
	}
	note, err := c.Send(ctx, &bot.Op{Kind: bot.OpPostNote, Key: "liaison-job-2", Conn: "community", Channel: tChan, ThreadID: card.ThreadID, Note: &bot.Note{Text: "Mia added: on mobile too"}})
	if err != nil {
		t.Fatalf("post note: %v", err)
	}
	found, ok, err := c.Find(ctx, &bot.Op{Kind: bot.OpPostNote, Key: "liaison-job-2", Conn: "community", Channel: tChan, ThreadID: card.ThreadID})
	if err != nil || !ok {
		t.Fatalf("find the note: found %v, %v", ok, err)
	}
	if n := permalinkCalls(f); n != 0 {
		t.Errorf("chat.getPermalink called %d times; want none: the links are built from auth.test's URL", n)
	}

	cardLink := "https://acme.slack.com/archives/" + tChan + "/p" + strings.Replace(card.MessageID, ".", "", 1)
	noteLink := "https://acme.slack.com/archives/" + tChan + "/p" + strings.Replace(note.MessageID, ".", "", 1) +
		"?thread_ts=" + card.MessageID + "&cid=" + tChan
	if card.Link != cardLink {
		t.Errorf("card link = %q, want %q", card.Link, cardLink)
	}
	if note.Link != noteLink {
		t.Errorf("note link = %q, want %q", note.Link, noteLink)
	}
	if found.Link != noteLink || found.MessageID != note.MessageID {
		t.Errorf("found %s at %q, want %s at %q", found.MessageID, found.Link, note.MessageID, noteLink)
	}
	// Slack itself gives the same links.
	for _, m := range []struct{ ts, link string }{{card.MessageID, card.Link}, {note.MessageID, note.Link}} {
		asked, err := c.api.GetPermalinkContext(ctx, &slackapi.PermalinkParameters{Channel: tChan, Ts: m.ts})
		if err != nil {
			t.Fatal(err)
		}
		if asked != m.link {
			t.Errorf("chat.getPermalink of %s = %q; Liaison built %q", m.ts, asked, m.link)
		}
	}
}

// TestPostLinkLookupWithoutTeamURL: before auth.test has said where the
// workspace is, a post's link is asked of Slack, once per post.
func TestPostLinkLookupWithoutTeamURL(t *testing.T) {
	f := startFake(t, func(o *slackfake.Options) { o.TeamDomain = "acme" })
	c, err := New(Options{Name: "community", BotToken: f.BotToken(), AppToken: f.AppToken(), APIURL: f.URL()}, newStubDomain())
	if err != nil {
		t.Fatal(err)
	}
	card, err := c.Send(context.Background(), &bot.Op{Kind: bot.OpPostCard, Key: "liaison-job-1", Conn: "community", Channel: tChan, Card: linkCard()})
	if err != nil {
		t.Fatalf("post card: %v", err)
	}
	if n := permalinkCalls(f); n != 1 {
		t.Errorf("chat.getPermalink called %d times; want 1", n)
	}
	want := "https://acme.slack.com/archives/" + tChan + "/p" + strings.Replace(card.MessageID, ".", "", 1)
	if card.Link != want {
		t.Errorf("card link = %q, want %q", card.Link, want)
	}
}

// TestDeclaredLimits: the worker schedules Slack posts at about one a
// second per channel with short bursts, and merges notes within 4,000
// characters.
func TestDeclaredLimits(t *testing.T) {
	f := startFake(t, nil)
	c, err := New(Options{Name: "community", BotToken: f.BotToken(), AppToken: f.AppToken(), APIURL: f.URL()}, newStubDomain())
	if err != nil {
		t.Fatal(err)
	}
	var p bot.Platform = c
	paced, ok := p.(bot.Paced)
	if !ok {
		t.Fatal("the Slack connection declares no limits")
	}
	want := bot.Limits{Post: bot.Limit{Every: postEvery, Burst: 3}, Home: bot.Limit{Every: homeEvery, Burst: homeBurst}}
	if got := paced.Limits(); got != want || got.Post.Every.Seconds() != 1 || time.Minute/got.Home.Every > 100 {
		t.Errorf("Limits() = %+v, want one post a second, burst 3, Homes within Tier 4 (100 a minute), no global limit", got)
	}
	if got := c.Capabilities().MaxNote; got != 4000 {
		t.Errorf("MaxNote = %d, want 4000", got)
	}
}
