package e2e

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	dg "github.com/bwmarrin/discordgo"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/cmd/liaison/app"
	cfgpkg "github.com/liaison-bot/liaison/config"
	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
	"github.com/liaison-bot/liaison/internal/chart"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// The digests here fire on Mondays at 9:00 in Paris; the one they post
// covers the week to Monday 13 January 2025, 9:00 (8:00 UTC).
var (
	digestFiring = time.Date(2025, 1, 13, 8, 0, 0, 0, time.UTC)
	digestWeek   = 7 * 24 * time.Hour
)

const (
	leadsCh      = "C0LEADS"
	slackHelpCh  = "C0HELP"
	teamGuild    = "4100000000000000001"
	teamGeneral  = "4100000000000000010"
	teamFeedback = "4100000000000000011"
	teamLeads    = "4100000000000000012"
	teamBot      = "4100000000000000900"
	teamToken    = "team-bot-token"
)

// digestClock is Liaison's clock in these tests: it stands still at the
// firing time (just after it), as if Liaison had started then.
type digestClock struct {
	mu sync.Mutex
	at time.Time
}

func (c *digestClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at
}

// logBook keeps a replica's logs, to be searched, and shows them in the
// test's.
type logBook struct {
	t  *testing.T
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBook) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.b.Write(p)
	l.mu.Unlock()
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// waitLog waits until the replica logged want.
func (l *logBook) waitLog(want string) {
	l.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		l.mu.Lock()
		found := strings.Contains(l.b.String(), want)
		l.mu.Unlock()
		if found {
			return
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("the replica never logged %q", want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// replica is one Liaison process of a deployment.
type replica struct {
	app  *app.App
	log  *logBook
	stop func()
}

// openReplica opens Liaison from a config as `liaison run` does, on its
// clock, its digests looking at the clock every few milliseconds; it is
// not running yet.
func openReplica(t *testing.T, cfg *cfgpkg.Config, owner string, clock *digestClock) *replica {
	t.Helper()
	book := &logBook{t: t}
	a, err := app.Open(context.Background(), cfg, app.Options{
		Log: slog.New(slog.NewTextHandler(book, &slog.HandlerOptions{Level: slog.LevelInfo})), Owner: owner,
		Discord: func(_ string, s *dg.Session) { s.LogLevel = -1 },
		Worker: func(wk *bot.Worker) {
			wk.Poll, wk.BaseBackoff = 20*time.Millisecond, 50*time.Millisecond
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	a.Service.Clock = clock.Now
	a.Digests.Tick = 10 * time.Millisecond
	r := &replica{app: a, log: book}
	r.stop = func() { a.Close() }
	t.Cleanup(func() { r.stop() })
	return r
}

// run starts the replica until it is stopped or the test ends.
func (r *replica) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.app.Run(ctx) }()
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
			r.app.Close()
		})
	}
}

// seedWeek writes the items of the week the digest covers: A (answered
// in 2h) and B (30m) and C (waiting) in it, P the week before.
func seedWeek(t *testing.T, a *app.App, conn, channel string) {
	t.Helper()
	ctx := context.Background()
	for i, s := range []struct {
		ago      time.Duration
		answered time.Duration
	}{
		{6 * 24 * time.Hour, 2 * time.Hour},
		{3 * 24 * time.Hour, 30 * time.Minute},
		{24 * time.Hour, 0},
		{10 * 24 * time.Hour, time.Hour},
	} {
		created := digestFiring.Add(-s.ago)
		id := fmt.Sprintf("seed-%d", i)
		it := &bot.Item{Conn: conn, Channel: channel, ThreadID: id, RootMsgID: id, Link: "https://example.com/" + id,
			AuthorID: "member-" + id, AuthorName: "Member " + id, Route: "team", Status: bot.ItemNew,
			CardConn: conn, CardChannel: channel, CreatedAt: created, UpdatedAt: created}
		if s.answered > 0 {
			at := created.Add(s.answered)
			it.Status, it.FirstAnsweredAt = bot.ItemAnswered, &at
		}
		if err := a.DB.InTx(ctx, func(tx bot.Tx) error { return tx.CreateItem(ctx, it) }); err != nil {
			t.Fatal(err)
		}
	}
}

// wantFigures is the digest's text as /liaison stats words the week.
func wantFigures(t *testing.T, a *app.App) string {
	t.Helper()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	r, err := a.Service.Stats(context.Background(), bot.StatsQuery{From: digestFiring.Add(-digestWeek), To: digestFiring}, paris)
	if err != nil {
		t.Fatal(err)
	}
	text := bot.FormatStats(r)
	for _, want := range []string{"• Items in: 3 (+2 vs previous 7 days)", "• Answered: 2, 67%", "Waiting now: 1 unanswered"} {
		if !strings.Contains(text, want) {
			t.Errorf("the week's figures lack %q:\n%s", want, text)
		}
	}
	return text
}

// checkChart checks a chart is the PNG the digest draws.
func checkChart(t *testing.T, data []byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the chart is not a PNG: %v", err)
	}
	if got := img.Bounds().Size(); got != (image.Point{X: chart.Width, Y: chart.Height}) {
		t.Errorf("chart of %v, want %dx%d", got, chart.Width, chart.Height)
	}
}

const digestSlackConfig = `
company: Acme
database: {url: "${DB_URL:-}", sqlite_path: "${DB_PATH:-unused.db}"}
http: {addr: "127.0.0.1:0"}
connections:
  - {name: internal, platform: slack, role: both, bot_token: "${SLACK_BOT_TOKEN}", app_token: "${SLACK_APP_TOKEN}", api_url: "${SLACK_API}"}
sources:
  - {name: help, connection: internal, channels: ["${HELP}"]}
routes:
  - {name: team, default: true, destination: {connection: internal, channel: "${PRODUCT}"}, approval: none}
digests:
  - {name: weekly, schedule: "0 9 * * MON", time_zone: Europe/Paris, destination: {connection: internal, channel: "${LEADS}"}}
`

// TestDigestOnSlack: two replicas on one database reach the firing time
// together: the week's digest is posted once in the leads channel, the
// chart uploaded as a file with the figures as its comment, word for word
// what /liaison stats says of the week. A replica that starts then, after
// a restart, catches up on the firing and posts nothing more.
func TestDigestOnSlack(t *testing.T) {
	for _, engine := range storagetest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			sf, err := slackfake.New(slackfake.Options{
				TeamID: "T0ACME", TeamName: "Acme", TeamDomain: "acme",
				Users: []slackfake.User{{ID: bob, Name: "bob", RealName: "Bob Stone"}},
				Channels: []slackfake.Channel{
					{ID: productCh, Name: "product", Members: []string{"U0BOT", bob}},
					{ID: slackHelpCh, Name: "help", Members: []string{"U0BOT", bob}},
					{ID: leadsCh, Name: "leads", Members: []string{"U0BOT", bob}},
				},
				PingInterval: time.Second,
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(sf.Close)
			env := map[string]string{
				"SLACK_BOT_TOKEN": sf.BotToken(), "SLACK_APP_TOKEN": sf.AppToken(), "SLACK_API": sf.URL(),
				"HELP": slackHelpCh, "PRODUCT": productCh, "LEADS": leadsCh,
			}
			if dsn := storagetest.DSN(t, engine); engine == "postgres" {
				env["DB_URL"] = dsn
			} else {
				env["DB_PATH"] = dsn
			}
			cfg, err := cfgpkg.Parse([]byte(digestSlackConfig), func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			clock := &digestClock{at: digestFiring.Add(time.Second)}
			one := openReplica(t, cfg, "replica-1", clock)
			two := openReplica(t, cfg, "replica-2", clock)
			seedWeek(t, one.app, "internal", slackHelpCh)
			want := "*" + slackEscape("📊 Digest weekly · Mon 6 Jan 09:00 – Mon 13 Jan 2025 09:00 (Europe/Paris)") + "*\n" + slackEscape(wantFigures(t, one.app))

			one.run(t)
			two.run(t)
			shares := func() []slackfake.Message {
				var out []slackfake.Message
				for _, m := range sf.Messages(leadsCh) {
					if m.BotID == slackBot {
						out = append(out, m)
					}
				}
				return out
			}
			ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
			defer cancel()
			if err := sf.WaitFor(ctx, func() bool { return len(shares()) > 0 }); err != nil {
				t.Fatalf("waiting for the digest: %v", err)
			}
			// Both replicas looked at the firing: one scheduled it.
			for _, r := range []*replica{one, two} {
				r.log.waitLog("digest period")
			}
			runs, err := one.app.Service.DigestRuns(context.Background(), "weekly", 10)
			if err != nil || len(runs) != 1 || !runs[0].PeriodEnd.Equal(digestFiring) || !runs[0].PeriodStart.Equal(digestFiring.Add(-digestWeek)) {
				t.Fatalf("digest runs = %+v, %v; want the week, once", runs, err)
			}

			// A restart at the firing time.
			one.stop()
			three := openReplica(t, cfg, "replica-3", clock)
			three.run(t)
			three.log.waitLog("digest period already scheduled")

			msgs := shares()
			if len(msgs) != 1 {
				t.Fatalf("%d digests in the leads channel, want 1", len(msgs))
			}
			m := msgs[0]
			if m.Text != want {
				t.Errorf("digest text:\n%s\nwant:\n%s", m.Text, want)
			}
			if p := slackfake.Pings(m); len(p) != 0 {
				t.Errorf("the digest pings %v", p)
			}
			ups := sf.Uploads()
			if len(ups) != 1 || len(m.Files) != 1 || m.Files[0].ID != ups[0].FileID || ups[0].Filename != "liaison-weekly-2025-01-13.png" || !ups[0].Complete {
				t.Fatalf("uploads %+v, files %+v; want the chart, once", ups, m.Files)
			}
			if !strings.Contains(ups[0].AltText, "3 items in, 2 answered") {
				t.Errorf("the chart's alt text = %q", ups[0].AltText)
			}
			checkChart(t, ups[0].Data)
		})
	}
}

// slackEscape is the escaping of text in mrkdwn.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

const digestDiscordConfig = `
company: Acme
database: {url: "${DB_URL:-}", sqlite_path: "${DB_PATH:-unused.db}"}
http: {addr: "127.0.0.1:0"}
connections:
  - {name: team, platform: discord, role: both, token: "${TOKEN}", guild_id: "${GUILD}", api_url: "${API}"}
sources:
  - {name: general, connection: team, channels: ["${GENERAL}"]}
routes:
  - {name: team, default: true, destination: {connection: team, channel: "${FEEDBACK}"}, approval: none}
digests:
  - {name: weekly, schedule: "0 9 * * MON", time_zone: Europe/Paris, destination: {connection: team, channel: "${LEADS}"}}
`

// TestDigestOnDiscord: Liaison starts at the firing time and posts the
// week's digest in the leads channel: an embed with the figures, word for
// word what /liaison stats says, showing the chart attached to it.
func TestDigestOnDiscord(t *testing.T) {
	for _, engine := range storagetest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			df := discordfake.MustNew(t, discordfake.Options{
				BotToken: teamToken, BotUserID: teamBot,
				Guilds: []discordfake.Guild{{
					ID: teamGuild, Name: "Acme",
					Channels: []discordfake.Channel{
						{ID: teamGeneral, Name: "general", Type: discordfake.ChannelText},
						{ID: teamFeedback, Name: "feedback", Type: discordfake.ChannelText},
						{ID: teamLeads, Name: "leads", Type: discordfake.ChannelText},
					},
				}},
			})
			env := map[string]string{"TOKEN": teamToken, "GUILD": teamGuild, "API": df.URL(),
				"GENERAL": teamGeneral, "FEEDBACK": teamFeedback, "LEADS": teamLeads}
			if dsn := storagetest.DSN(t, engine); engine == "postgres" {
				env["DB_URL"] = dsn
			} else {
				env["DB_PATH"] = dsn
			}
			cfg, err := cfgpkg.Parse([]byte(digestDiscordConfig), func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			clock := &digestClock{at: digestFiring.Add(time.Second)}
			r := openReplica(t, cfg, "replica-1", clock)
			seedWeek(t, r.app, "team", teamGeneral)
			figures := wantFigures(t, r.app)
			r.run(t)

			var digest discordfake.Message
			ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
			defer cancel()
			if err := df.WaitFor(ctx, func() bool {
				for _, m := range df.Messages(teamLeads) {
					if m.Author.ID == teamBot {
						digest = m
						return true
					}
				}
				return false
			}); err != nil {
				t.Fatalf("waiting for the digest: %v", err)
			}
			r.log.waitLog("digest period scheduled")
			if len(digest.Embeds) != 1 {
				t.Fatalf("embeds = %+v", digest.Embeds)
			}
			e := digest.Embeds[0]
			if e.Title != "📊 Digest weekly · Mon 6 Jan 09:00 – Mon 13 Jan 2025 09:00 (Europe/Paris)" || e.Description != figures {
				t.Errorf("digest %q:\n%s\nwant the week's figures:\n%s", e.Title, e.Description, figures)
			}
			if len(digest.Attachments) != 1 || digest.Attachments[0].Filename != "liaison-weekly-2025-01-13.png" || e.Image == nil || e.Image.URL != digest.Attachments[0].URL {
				t.Fatalf("attachments %+v, image %+v; want the chart, shown", digest.Attachments, e.Image)
			}
			data, ok := df.AttachmentData(digest.Attachments[0].URL)
			if !ok {
				t.Fatal("the chart's bytes were not uploaded")
			}
			checkChart(t, data)
			if p := df.Pings(digest); len(p) != 0 {
				t.Errorf("the digest pings %v", p)
			}
			// Nothing more comes.
			r.stop()
			n := 0
			for _, m := range df.Messages(teamLeads) {
				if m.Author.ID == teamBot {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d digests, want 1", n)
			}
		})
	}
}
