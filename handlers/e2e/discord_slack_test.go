// Package e2e holds end-to-end tests across adapters: Liaison as `liaison
// run` wires it (cmd/liaison/app) from a config, with the real Discord and
// Slack adapters and SDKs, against the Discord and Slack fakes on
// 127.0.0.1, on a real store on each engine.
package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	dg "github.com/bwmarrin/discordgo"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/cmd/liaison/app"
	cfgpkg "github.com/liaison-bot/liaison/config"
	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

const (
	// The public Discord guild.
	guild    = "2100000000000000001"
	help     = "2100000000000000011" // watched forum
	maria    = "2100000000000000101" // member who asks
	sam      = "2100000000000000102" // another member
	pubBot   = "2100000000000000900"
	pubToken = "community-bot-token"

	// The internal Slack workspace.
	productCh = "C0PRODUCT"
	alice     = "U0ALICE" // volunteer
	bob       = "U0BOB"   // approver
	slackBot  = "B0BOT"

	// Slack action ids, the adapter's wire protocol.
	actClaim   = "liaison_claim"
	actApprove = "liaison_approve"

	aliceAvatar = "https://example.com/alice.png"
	waitLimit   = 15 * time.Second
)

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// TestDiscordForumToSlack follows a member's forum post on the public
// Discord: it becomes a card in the internal Slack; a follow-up joins it;
// a volunteer drafts in the card's thread; an approver approves; the reply
// appears once in the forum thread under the volunteer's name and avatar,
// pinging only the member; the Slack card links to it; the member's
// @everyone pings nobody on either side.
func TestDiscordForumToSlack(t *testing.T) {
	for _, engine := range storagetest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			w := start(t, engine)

			post, _, err := w.discord.OpenForumPost(maria, help, "Export broken", "Hi @everyone, the CSV export fails since Monday. <@"+sam+"> too? @here")
			if err != nil {
				t.Fatal(err)
			}
			card := w.slackCard()
			s := slackfake.Shown(card)
			for _, want := range []string{"Maria", "the CSV export fails since Monday",
				"https://discord.com/channels/" + guild + "/" + post.ID + "/" + post.ID} {
				if !strings.Contains(s, want) {
					t.Errorf("the Slack card does not show %q:\n%s", want, s)
				}
			}

			// A follow-up in the post joins the item, in the card's thread.
			if _, err := w.discord.PostInThread(maria, post.ID, "Same with JSON. @everyone"); err != nil {
				t.Fatal(err)
			}
			w.slackNote(card.TS, "Same with JSON.")
			if n := len(w.slackCards()); n != 1 {
				t.Errorf("%d Slack cards, want the follow-up in the first one's thread", n)
			}

			// Alice drafts in the thread; Bob approves.
			if _, err := w.slack.Reply(alice, productCh, card.TS, "!reply Sorry about that, Maria: a fix ships today. @everyone"); err != nil {
				t.Fatal(err)
			}
			var draft slackfake.Message
			w.wait(w.slack, "the draft card", func() bool {
				for _, m := range w.slack.Thread(productCh, card.TS) {
					if m.BotID == slackBot && strings.Contains(string(m.Blocks), actApprove) {
						draft = m
						return true
					}
				}
				return false
			})
			if err := w.slack.Click(bob, productCh, draft.TS, actApprove); err != nil {
				t.Fatal(err)
			}

			// The reply appears once in the forum thread, under Alice's name and face.
			w.wait(w.discord, "the public reply", func() bool { return len(w.publicReplies(post.ID)) > 0 })
			reply := w.publicReplies(post.ID)[0]
			if reply.Author.Username != "Alice Martin · Acme" || reply.AvatarURL != aliceAvatar {
				t.Errorf("public reply by %q (avatar %q), want Alice Martin · Acme with her avatar", reply.Author.Username, reply.AvatarURL)
			}
			if !strings.HasPrefix(reply.Content, "<@"+maria+"> Sorry about that, Maria") || strings.Contains(reply.Content, "@everyone") {
				t.Errorf("public reply = %q", reply.Content)
			}
			if got := w.discord.Pings(reply); !slices.Equal(got, []string{"<@" + maria + ">"}) {
				t.Errorf("the public reply pings %v, want only the member", got)
			}

			// The Slack card links to it.
			link := "https://discord.com/channels/" + guild + "/" + post.ID + "/" + reply.ID
			w.wait(w.slack, "the answered card", func() bool {
				m, _ := w.slack.Message(productCh, card.TS)
				return strings.Contains(slackfake.Shown(m), link)
			})
			w.slackNote(card.TS, "Answered publicly by Alice Martin")

			// A later follow-up still arrives; Liaison's own post never does.
			if _, err := w.discord.PostInThread(maria, post.ID, "Works now, thanks!"); err != nil {
				t.Fatal(err)
			}
			w.slackNote(card.TS, "Works now, thanks!")
			if n := len(w.publicReplies(post.ID)); n != 1 {
				t.Errorf("%d public replies, want exactly one", n)
			}
			for _, m := range w.slack.Thread(productCh, card.TS) {
				if strings.Contains(slackfake.Shown(m), "Sorry about that") && m.BotID == slackBot && !strings.Contains(string(m.Blocks), "liaison_") {
					t.Errorf("Liaison relayed its own public reply back: %s", slackfake.Shown(m))
				}
			}

			// Nobody was pinged by Liaison on either side but the member, once.
			for _, m := range append(w.slack.Messages(productCh), w.slack.Thread(productCh, card.TS)...) {
				if m.BotID == slackBot {
					if p := slackfake.Pings(m); len(p) > 0 {
						t.Errorf("Slack message %s pings %v: %s", m.TS, p, slackfake.Shown(m))
					}
				}
			}
			for _, m := range w.discord.Messages(post.ID) {
				if m.Author.ID != maria && m.ID != reply.ID {
					if p := w.discord.Pings(m); len(p) > 0 {
						t.Errorf("Discord message %s pings %v", m.ID, p)
					}
				}
			}
		})
	}
}

// TestMemberNamedByNickname: the Slack card names a Discord member by their
// server nickname, with their username.
func TestMemberNamedByNickname(t *testing.T) {
	w := start(t, "sqlite")
	if _, _, err := w.discord.OpenForumPost(sam, help, "Webhooks?", "Do you have webhooks?"); err != nil {
		t.Fatal(err)
	}
	card := w.slackCard()
	if s := slackfake.Shown(card); !strings.Contains(s, "*Samantha (@sam)*") {
		t.Errorf("the card does not name Samantha (@sam):\n%s", s)
	}
}

type world struct {
	t       *testing.T
	ctx     context.Context
	discord *discordfake.Fake
	slack   *slackfake.Fake
	liaison *app.App
}

// config is Liaison's config for the story: the public Discord guild and
// the internal Slack workspace, both pointed at their fake by api_url.
const config = `
company: Acme
database: {url: "${DB_URL:-}", sqlite_path: "${DB_PATH:-unused.db}"}
http: {addr: "127.0.0.1:0"}
connections:
  - {name: community, platform: discord, role: public, token: "${DISCORD_TOKEN}", guild_id: "${GUILD}", api_url: "${DISCORD_API}"}
  - {name: internal, platform: slack, role: internal, bot_token: "${SLACK_BOT_TOKEN}", app_token: "${SLACK_APP_TOKEN}", api_url: "${SLACK_API}"}
sources:
  - {name: "community #help", connection: community, channels: ["${HELP}"]}
routes:
  - {name: product, default: true, destination: {connection: internal, channel: "${PRODUCT}"}, approval: required, approvers: ["${BOB}"]}
profiles:
  - {name: Alice Martin, title: Product Manager, avatar_url: "${ALICE_AVATAR}", consented_at: 2026-01-05T09:00:00Z,
     identities: [{connection: internal, user_id: "${ALICE}"}]}
  # Without a public name, notes would name Bob by a Slack mention, which
  # pings him.
  - {name: Bob Stone, title: Head of Product, consented_at: 2026-01-05T09:00:00Z,
     identities: [{connection: internal, user_id: "${BOB}"}]}
`

// start runs Liaison, wired by the composition root as `liaison run` does,
// between a public Discord fake and an internal Slack fake.
func start(t *testing.T, engine string) *world {
	t.Helper()
	df, err := discordfake.New(discordfake.Options{
		BotToken: pubToken, BotUserID: pubBot,
		Guilds: []discordfake.Guild{{
			ID: guild, Name: "Acme Community",
			Channels: []discordfake.Channel{{ID: help, Name: "help", Type: discordfake.ChannelForum}},
			Members: []discordfake.Member{
				{User: discordfake.User{ID: maria, Username: "maria", GlobalName: "Maria"}},
				{User: discordfake.User{ID: sam, Username: "sam", GlobalName: "Sam"}, Nick: "Samantha"},
			},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(df.Close)
	sf, err := slackfake.New(slackfake.Options{
		TeamID: "T0ACME", TeamName: "Acme", TeamDomain: "acme",
		Users: []slackfake.User{
			{ID: alice, Name: "alice", RealName: "Alice Martin", Title: "Product Manager", AvatarURL: aliceAvatar},
			{ID: bob, Name: "bob", RealName: "Bob Stone", Title: "Head of Product"},
		},
		Channels:     []slackfake.Channel{{ID: productCh, Name: "product", Members: []string{"U0BOT", alice, bob}}},
		PingInterval: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sf.Close)

	env := map[string]string{
		"DISCORD_TOKEN": pubToken, "GUILD": guild, "DISCORD_API": df.URL(), "HELP": help,
		"SLACK_BOT_TOKEN": sf.BotToken(), "SLACK_APP_TOKEN": sf.AppToken(), "SLACK_API": sf.URL(),
		"PRODUCT": productCh, "ALICE": alice, "BOB": bob, "ALICE_AVATAR": aliceAvatar,
	}
	w := &world{t: t, ctx: context.Background(), discord: df, slack: sf, liaison: runLiaison(t, engine, config, env)}
	w.wait(w.discord, "the Discord gateway", func() bool { return df.Gateway().Connected })
	w.wait(w.slack, "the Slack socket", func() bool { return sf.Connections() == 1 })
	return w
}

// runLiaison starts Liaison from a config, wired by the composition root
// as `liaison run` does, on a fresh database on engine, and stops it when
// the test ends.
func runLiaison(t *testing.T, engine, yaml string, env map[string]string) *app.App {
	t.Helper()
	if dsn := storagetest.DSN(t, engine); engine == "postgres" {
		env["DB_URL"] = dsn
	} else {
		env["DB_PATH"] = dsn
	}
	cfg, err := cfgpkg.Parse([]byte(yaml), func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Open(ctx, cfg, app.Options{
		Log: log, Owner: "e2e",
		Discord: func(_ string, s *dg.Session) { s.LogLevel = -1 },
		Worker: func(wk *bot.Worker) {
			wk.Poll, wk.BaseBackoff = 20*time.Millisecond, 50*time.Millisecond
		},
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		a.Close()
	})
	return a
}

// fake is either fake: it tells of every change.
type fake interface {
	WaitFor(ctx context.Context, cond func() bool) error
}

// wait waits until cond holds, checking after every change of f.
func (w *world) wait(f fake, what string, cond func() bool) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.ctx, waitLimit)
	defer cancel()
	if err := f.WaitFor(ctx, cond); err != nil {
		w.t.Fatalf("waiting for %s: %v", what, err)
	}
}

// staffMessage waits for a message of Liaison's bot in a channel of the
// staff Discord that match accepts, and returns the first.
func (w *world) staffMessage(f *discordfake.Fake, channel, what string, match func(discordfake.Message) bool) discordfake.Message {
	w.t.Helper()
	var found discordfake.Message
	w.wait(f, what, func() bool {
		for _, m := range f.Messages(channel) {
			if m.Author.ID == staffBot && match(m) {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

// publicReplies are Liaison's posts in a Discord thread: its webhook's.
func (w *world) publicReplies(thread string) []discordfake.Message {
	var out []discordfake.Message
	for _, m := range w.discord.Messages(thread) {
		if m.WebhookID != "" {
			out = append(out, m)
		}
	}
	return out
}

// slackCards are the item cards in the product channel (they carry Claim).
func (w *world) slackCards() []slackfake.Message {
	var out []slackfake.Message
	for _, m := range w.slack.Messages(productCh) {
		if m.BotID == slackBot && !m.Deleted && (m.ThreadTS == "" || m.ThreadTS == m.TS) && strings.Contains(string(m.Blocks), actClaim) {
			out = append(out, m)
		}
	}
	return out
}

// slackCard waits for the first card. (Its thread is known to the item by
// the time a note appears in it: the outbox records the card before it runs
// the item's next job.)
func (w *world) slackCard() slackfake.Message {
	w.t.Helper()
	var card slackfake.Message
	w.wait(w.slack, "the Slack card", func() bool {
		cs := w.slackCards()
		if len(cs) > 0 {
			card = cs[0]
		}
		return len(cs) > 0
	})
	return card
}

// slackNote waits for a bot message in the card's thread showing want.
func (w *world) slackNote(cardTS, want string) {
	w.t.Helper()
	w.wait(w.slack, fmt.Sprintf("a note %q", want), func() bool {
		for _, m := range w.slack.Thread(productCh, cardTS) {
			if m.TS != cardTS && m.BotID == slackBot && !m.Deleted && strings.Contains(slackfake.Shown(m), want) {
				return true
			}
		}
		return false
	})
}
