package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
	"github.com/liaison-bot/liaison/storage/storagetest"
)

// A burst: many new public messages and follow-ups to them at once, while
// the team's channel takes few posts a second. Liaison must show every item
// once and every follow-up once, in its item's thread and in the order it
// was posted, merging follow-ups that wait rather than meeting the limit.
//
// The team's channel has the platform's real limit, which Liaison paces
// itself by; a run takes about the limit's time for the posts it cannot
// avoid (a card per item, a merged note per item). LIAISON_BURST_ITEMS sets
// the number of items (default 6, a run of seconds; 30 takes a minute on
// Slack).

const burstFollowUps = 3 // per item

// burstItems is the number of new messages in the burst.
func burstItems(t *testing.T) int {
	t.Helper()
	s := os.Getenv("LIAISON_BURST_ITEMS")
	if s == "" {
		return 6
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 999 {
		t.Fatalf("LIAISON_BURST_ITEMS=%q: want a number of items from 1 to 999", s)
	}
	return n
}

// settleLimit bounds the wait for a burst of items: twice the time of a card
// and a note per item at a post a second, and half a minute to start.
func settleLimit(items int) time.Duration { return time.Duration(4*items+30) * time.Second }

// burstConfig watches the public Discord's text channel and shows its items
// to a Slack team.
const burstConfig = `
company: Acme
database: {url: "${DB_URL:-}", sqlite_path: "${DB_PATH:-unused.db}"}
http: {addr: "127.0.0.1:0"}
connections:
  - {name: community, platform: discord, role: public, token: "${DISCORD_TOKEN}", guild_id: "${GUILD}", api_url: "${DISCORD_API}"}
  - {name: internal, platform: slack, role: internal, bot_token: "${SLACK_BOT_TOKEN}", app_token: "${SLACK_APP_TOKEN}", api_url: "${SLACK_API}"}
sources:
  - {name: "community #general", connection: community, channels: ["${GENERAL}"]}
routes:
  - {name: product, default: true, destination: {connection: internal, channel: "${PRODUCT}"}, approval: required, approvers: ["${BOB}"]}
`

// burstDiscordConfig shows the same items to a Discord team.
const burstDiscordConfig = `
company: Acme
database: {url: "${DB_URL:-}", sqlite_path: "${DB_PATH:-unused.db}"}
http: {addr: "127.0.0.1:0"}
connections:
  - {name: community, platform: discord, role: public, token: "${DISCORD_TOKEN}", guild_id: "${GUILD}", api_url: "${DISCORD_API}"}
  - {name: discord-team, platform: discord, role: internal, token: "${STAFF_TOKEN}", guild_id: "${STAFF_GUILD}", api_url: "${STAFF_API}"}
sources:
  - {name: "community #general", connection: community, channels: ["${GENERAL}"]}
routes:
  - {name: team, default: true, destination: {connection: discord-team, channel: "${TEAM}"}, approval: required, approvers: ["${ROLE}"]}
`

// burstItem is a new public message and the follow-ups posted to it, in
// the order they were posted.
type burstItem struct {
	marker    string // Q0001x
	root      string // its Discord message ID
	followUps []string
}

var burstMarker = regexp.MustCompile(`[QF]\d{4}x`)

// teamView is what the team sees after a burst, by marker.
type teamView struct {
	cards   map[string]int      // item marker → cards showing the item
	threads map[string][]string // item marker → texts of Liaison's posts in its card's thread, oldest first
	strays  []string            // follow-ups shown outside any card's thread
}

func newTeamView() teamView {
	return teamView{cards: map[string]int{}, threads: map[string][]string{}}
}

// card records a card showing text and returns the item it shows, "" if
// none.
func (v *teamView) card(text string) string {
	item := ""
	for _, mk := range burstMarker.FindAllString(text, -1) {
		switch mk[0] {
		case 'Q':
			v.cards[mk]++
			item = mk
		case 'F':
			v.strays = append(v.strays, mk+" as a card or outside a thread")
		}
	}
	return item
}

// slackView reads the Slack team's channel.
func slackView(f *slackfake.Fake, channel string) teamView {
	v := newTeamView()
	cardOf := map[string]string{} // card ts → item marker
	msgs := f.Messages(channel)
	for _, m := range msgs {
		if m.BotID == slackBot && !m.Deleted && (m.ThreadTS == "" || m.ThreadTS == m.TS) {
			if item := v.card(m.Text); item != "" {
				cardOf[m.TS] = item
			}
		}
	}
	for _, m := range msgs {
		if m.BotID != slackBot || m.Deleted || m.ThreadTS == "" || m.ThreadTS == m.TS {
			continue
		}
		if item, ok := cardOf[m.ThreadTS]; ok {
			v.threads[item] = append(v.threads[item], m.Text)
		} else if mks := burstMarker.FindAllString(m.Text, -1); len(mks) > 0 {
			v.strays = append(v.strays, fmt.Sprintf("%v in the thread of a message that is no card", mks))
		}
	}
	return v
}

// discordView reads the Discord team's channel: cards are the bot's
// messages with an embed, and each card's thread has the card's ID.
func discordView(f *discordfake.Fake, channel string) teamView {
	v := newTeamView()
	for _, m := range f.Messages(channel) {
		if m.Author.ID != staffBot || m.Deleted {
			continue
		}
		text := m.Content
		for _, e := range m.Embeds {
			text += "\n" + e.Description
		}
		item := v.card(text)
		if item == "" || len(m.Embeds) == 0 {
			continue
		}
		for _, n := range f.Messages(m.ID) {
			if n.Author.ID == staffBot && !n.Deleted && n.ID != m.ID {
				v.threads[item] = append(v.threads[item], n.Content)
			}
		}
	}
	return v
}

// shown reports whether every item has a card and every follow-up shows
// somewhere.
func (v teamView) shown(items []*burstItem) bool {
	for _, it := range items {
		if v.cards[it.marker] == 0 {
			return false
		}
		all := strings.Join(v.threads[it.marker], "\n")
		for _, f := range it.followUps {
			if !strings.Contains(all, f) {
				return false
			}
		}
	}
	return true
}

// check fails the test unless every item has exactly one card and every
// follow-up shows exactly once, in its item's thread, in the order posted,
// and follow-ups that waited were merged: fewer thread posts than
// follow-ups.
func (v teamView) check(t *testing.T, items []*burstItem) {
	t.Helper()
	total := map[string]int{}
	posts, followUps := 0, 0
	for _, texts := range v.threads {
		for _, text := range texts {
			mks := burstMarker.FindAllString(text, -1)
			for _, mk := range mks {
				total[mk]++
			}
			if len(mks) > 0 {
				posts++
			}
		}
	}
	for _, it := range items {
		if n := v.cards[it.marker]; n != 1 {
			t.Errorf("item %s: %d cards, want 1", it.marker, n)
		}
		all := strings.Join(v.threads[it.marker], "\n")
		last := -1
		for _, f := range it.followUps {
			followUps++
			switch n := strings.Count(all, f); {
			case n != 1:
				t.Errorf("follow-up %s of %s: shown %d times in its card's thread, want once", f, it.marker, n)
			case total[f] != 1:
				t.Errorf("follow-up %s of %s: shown %d times in card threads, want once, in its own", f, it.marker, total[f])
			default:
				at := strings.Index(all, f)
				if at < last {
					t.Errorf("follow-up %s of %s: shown before the one posted ahead of it:\n%s", f, it.marker, all)
				}
				last = at
			}
		}
	}
	for _, s := range v.strays {
		t.Errorf("stray: %s", s)
	}
	if posts >= followUps {
		t.Errorf("%d thread posts for %d follow-ups: follow-ups waiting behind the limit were not merged", posts, followUps)
	}
	t.Logf("%d follow-ups shown in %d thread posts", followUps, posts)
}

// postBurst posts n new messages to the public channel at once, then
// follow-ups to them, replies as a member makes them, round robin.
func postBurst(t *testing.T, pub *discordfake.Fake, n, followUps int) []*burstItem {
	t.Helper()
	items := make([]*burstItem, n)
	for i := range items {
		it := &burstItem{marker: fmt.Sprintf("Q%04dx", i+1)}
		m, err := pub.Post(maria, general, "Is the export broken for everyone? "+it.marker)
		if err != nil {
			t.Fatal(err)
		}
		it.root, items[i] = m.ID, it
	}
	mark := 0
	for range followUps {
		for _, it := range items {
			mark++
			f := fmt.Sprintf("F%04dx", mark)
			if _, err := pub.Reply(sam, general, it.root, "Same here, any news? "+f); err != nil {
				t.Fatal(err)
			}
			it.followUps = append(it.followUps, f)
		}
	}
	return items
}

// publicFake is the public Discord of the burst: a watched text channel
// and two members.
func publicFake(t *testing.T) *discordfake.Fake {
	return discordfake.MustNew(t, discordfake.Options{
		BotToken: pubToken, BotUserID: pubBot,
		Guilds: []discordfake.Guild{{
			ID: guild, Name: "Acme Community",
			Channels: []discordfake.Channel{{ID: general, Name: "general", Type: discordfake.ChannelText}},
			Members: []discordfake.Member{
				{User: discordfake.User{ID: maria, Username: "maria", GlobalName: "Maria"}},
				{User: discordfake.User{ID: sam, Username: "sam", GlobalName: "Sam"}},
			},
		}},
	})
}

// nothingPublic fails the test if Liaison posted on the public side.
func nothingPublic(t *testing.T, pub *discordfake.Fake) {
	t.Helper()
	for _, m := range pub.Messages(general) {
		if m.Author.ID != maria && m.Author.ID != sam {
			t.Errorf("posted in public by %s (webhook %q): %q", m.Author.ID, m.WebhookID, m.Content)
		}
	}
	if th := pub.Threads(general); len(th) > 0 {
		t.Errorf("%d threads started in public", len(th))
	}
}

// settle waits until the team sees every item and follow-up and Liaison's
// outbox has no job left to run, and returns how long that took.
func settle(t *testing.T, f fake, start time.Time, limit time.Duration, env map[string]string, engine string, shown func() bool) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	if err := f.WaitFor(ctx, shown); err != nil {
		t.Fatalf("not every item and follow-up shown within %v", limit)
	}
	for {
		states := outboxStates(t, engine, env)
		if states["pending"]+states["running"] == 0 {
			return time.Since(start)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the outbox did not settle within %v: %v", limit, states)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// outboxStates counts the jobs of Liaison's outbox by state, read from the
// database runLiaison gave it.
func outboxStates(t *testing.T, engine string, env map[string]string) map[string]int {
	t.Helper()
	driver, dsn := "sqlite", env["DB_PATH"]+"?_pragma=busy_timeout(10000)"
	if engine == "postgres" {
		driver, dsn = "postgres", env["DB_URL"]
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT state, COUNT(*) FROM outbox GROUP BY state`)
	if err != nil {
		t.Fatalf("read the outbox: %v", err)
	}
	defer rows.Close()
	states := map[string]int{}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			t.Fatal(err)
		}
		states[state] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return states
}

// checkOutbox fails the test if a job is left pending, running or dead.
func checkOutbox(t *testing.T, engine string, env map[string]string) {
	t.Helper()
	states := outboxStates(t, engine, env)
	if n := states["pending"] + states["running"] + states["dead"]; n > 0 {
		t.Errorf("outbox: %v, want every job done", states)
	}
}

// TestBurstNothingLostNothingTwice: new public messages and three follow-ups
// to each, posted at once, reach a Slack channel that takes Slack's one post
// a second (burst 3): every item has one card, every follow-up shows once in
// its card's thread in the order posted, follow-ups that waited share
// posts, Liaison meets the limit on under 1% of its posts, and posts nothing
// in public.
func TestBurstNothingLostNothingTwice(t *testing.T) {
	n := burstItems(t)
	for _, engine := range storagetest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			pub := publicFake(t)
			sf, err := slackfake.New(slackfake.Options{
				TeamID: "T0ACME", TeamName: "Acme", TeamDomain: "acme",
				Users:        []slackfake.User{{ID: bob, Name: "bob", RealName: "Bob Stone"}},
				Channels:     []slackfake.Channel{{ID: productCh, Name: "product", Members: []string{"U0BOT", bob}}},
				PingInterval: time.Second,
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(sf.Close)
			env := map[string]string{
				"DISCORD_TOKEN": pubToken, "GUILD": guild, "DISCORD_API": pub.URL(), "GENERAL": general,
				"SLACK_BOT_TOKEN": sf.BotToken(), "SLACK_APP_TOKEN": sf.AppToken(), "SLACK_API": sf.URL(),
				"PRODUCT": productCh, "BOB": bob,
			}
			runLiaison(t, engine, burstConfig, env)
			w := &world{t: t, ctx: t.Context(), discord: pub, slack: sf}
			w.wait(pub, "the Discord gateway", func() bool { return pub.Gateway().Connected })
			w.wait(sf, "the Slack socket", func() bool { return sf.Connections() == 1 })

			start := time.Now()
			items := postBurst(t, pub, n, burstFollowUps)
			took := settle(t, sf, start, settleLimit(n), env, engine, func() bool { return slackView(sf, productCh).shown(items) })

			slackView(sf, productCh).check(t, items)
			var (
				posts, limited int
				first          time.Time
				timeline       []string // when each post came, from the first, and how it was answered
			)
			for _, c := range sf.Calls() {
				if c.Method == "chat.postMessage" {
					if posts == 0 {
						first = c.At
					}
					posts++
					timeline = append(timeline, fmt.Sprintf("+%.3fs %d", c.At.Sub(first).Seconds(), c.Status))
					if c.Status == 429 {
						limited++
					}
				}
			}
			if limited*100 >= posts {
				t.Errorf("%d of %d chat.postMessage calls answered 429, want under 1%%: %s", limited, posts, strings.Join(timeline, ", "))
			}
			nothingPublic(t, pub)
			checkOutbox(t, engine, env)
			t.Logf("settled in %v: %d chat.postMessage calls, %d answered 429; %d Slack calls answered 429 in all",
				took.Round(time.Millisecond), posts, limited, sf.RateLimited())
		})
	}
}

// TestBurstToDiscordTeam: the same burst shown to a Discord team whose
// channel takes Discord's 5 messages per 5 seconds: the cards beyond the
// first five wait, and so do their follow-ups, which then share posts.
func TestBurstToDiscordTeam(t *testing.T) {
	items := burstItems(t)
	pub := publicFake(t)
	staff := discordfake.MustNew(t, discordfake.Options{
		BotToken: staffToken, BotUserID: staffBot,
		Guilds: []discordfake.Guild{{
			ID: staffGuild, Name: "Acme Staff",
			Channels: []discordfake.Channel{{ID: teamCh, Name: "community", Type: discordfake.ChannelText}},
			Roles:    []discordfake.Role{{ID: approveRole, Name: "Approvers"}},
			Members:  []discordfake.Member{{User: discordfake.User{ID: nick, Username: "nick", GlobalName: "Nick"}}},
		}},
	})
	env := map[string]string{
		"DISCORD_TOKEN": pubToken, "GUILD": guild, "DISCORD_API": pub.URL(), "GENERAL": general,
		"STAFF_TOKEN": staffToken, "STAFF_GUILD": staffGuild, "STAFF_API": staff.URL(), "TEAM": teamCh, "ROLE": approveRole,
	}
	runLiaison(t, "sqlite", burstDiscordConfig, env)
	w := &world{t: t, ctx: t.Context(), discord: pub}
	w.wait(pub, "the public gateway", func() bool { return pub.Gateway().Connected })
	w.wait(staff, "the staff gateway", func() bool { return staff.Gateway().Connected })

	start := time.Now()
	burst := postBurst(t, pub, items, burstFollowUps)
	took := settle(t, staff, start, settleLimit(items), env, "sqlite", func() bool { return discordView(staff, teamCh).shown(burst) })

	discordView(staff, teamCh).check(t, burst)
	var (
		posts, limited         int
		lastCard, lastInThread time.Duration // since the burst, when the last card and the last thread post came
	)
	for _, c := range staff.Calls() {
		if c.Method == "POST" && strings.HasSuffix(c.Route, "/messages") {
			posts++
			if c.Status == 429 {
				limited++
			}
			if strings.Contains(c.Path, "/channels/"+teamCh+"/") {
				lastCard = c.At.Sub(start)
			} else {
				lastInThread = c.At.Sub(start)
			}
		}
	}
	if limited*100 >= posts {
		t.Errorf("%d of %d message posts answered 429, want under 1%%", limited, posts)
	}
	if n := staff.InvalidRequests(); n*100 >= len(staff.Calls()) {
		t.Errorf("%d of %d requests count toward Discord's invalid-request block", n, len(staff.Calls()))
	}
	nothingPublic(t, pub)
	checkOutbox(t, "sqlite", env)
	t.Logf("settled in %v: %d message posts, %d answered 429, the last card at +%v, the last thread post at +%v; %d requests in all, %d answered 429",
		took.Round(time.Millisecond), posts, limited, lastCard.Round(time.Millisecond), lastInThread.Round(time.Millisecond), len(staff.Calls()), staff.RateLimited())
}
