package bench

import (
	"fmt"
	"strings"
	"time"

	"github.com/liaison-bot/liaison/config"
	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
)

// The bench's world: a public Discord guild whose watched text channels
// are each routed to a channel of an internal Slack workspace.
const (
	guildID      = "4200000000000000001"
	discordBotID = "4200000000000000900"
	discordToken = "bench-community-discord-token"
	slackBotID   = "B0BOT" // the Slack fake's default bot id
	approverID   = "U0BOB"
	members      = 20 // community members who post
)

func discordChannel(i int) string { return fmt.Sprintf("42000000000000001%02d", i) }
func slackChannel(i int) string   { return fmt.Sprintf("C0BENCH%02d", i) }
func memberID(i int) string       { return fmt.Sprintf("42000000000000002%02d", i) }

// slackPostLimit is Slack's chat.postMessage limit per channel.
func slackPostLimit() slackLimit {
	return slackLimit{perSecond: slackPostsPerSecond}
}

// Platform limits, set on the fakes explicitly: Slack's chat.postMessage
// tier (about one post per second per channel, short bursts allowed) and
// Discord's message creation (5 per 5 s per channel) and global limit
// (50 requests per second per bot).
const (
	slackPostsPerSecond = 1
	slackPostBurst      = 3

	discordMessageRoute = "POST /channels/{channel.id}/messages"
	discordChannelN     = 5
	discordChannelPer   = 5 * time.Second
	discordGlobalN      = 50
	discordGlobalPer    = time.Second
)

// world is one pair of fakes and the proxies in front of their APIs.
type world struct {
	channels int
	discord  *discordfake.Fake
	slack    *slackfake.Fake
	dproxy   *delayProxy
	sproxy   *delayProxy
}

// newWorld starts the fakes of channels watched channels, with the
// platforms' limits on or off, and their APIs behind latency.
func newWorld(channels int, limits bool, latency time.Duration) (w *world, err error) {
	w = &world{channels: channels}
	defer func() {
		if err != nil {
			w.Close()
		}
	}()
	guild := discordfake.Guild{ID: guildID, Name: "Acme Community"}
	for i := range channels {
		guild.Channels = append(guild.Channels, discordfake.Channel{ID: discordChannel(i), Name: fmt.Sprintf("help-%02d", i), Type: discordfake.ChannelText})
	}
	for i := range members {
		guild.Members = append(guild.Members, discordfake.Member{User: discordfake.User{
			ID: memberID(i), Username: fmt.Sprintf("member%02d", i), GlobalName: fmt.Sprintf("Member %02d", i),
		}})
	}
	dopts := discordfake.Options{BotToken: discordToken, BotUserID: discordBotID, Guilds: []discordfake.Guild{guild}}
	if !limits {
		dopts.DefaultRouteLimit, dopts.DefaultRoutePer = 1<<30, time.Second
	}
	if w.discord, err = discordfake.New(dopts); err != nil {
		return w, err
	}
	if limits {
		w.discord.SetRouteLimit(discordMessageRoute, discordChannelN, discordChannelPer)
		w.discord.SetGlobalLimit(discordGlobalN, discordGlobalPer)
	} else {
		w.discord.SetRouteLimit(discordMessageRoute, -1, 0)
		w.discord.SetGlobalLimit(0, 0)
	}

	sopts := slackfake.Options{
		TeamID: "T0ACME", TeamName: "Acme", TeamDomain: "acme",
		Users: []slackfake.User{
			{ID: "U0ALICE", Name: "alice", RealName: "Alice Martin"},
			{ID: approverID, Name: "bob", RealName: "Bob Stone"},
		},
		RatePerChannel: slackPostsPerSecond, Burst: slackPostBurst,
	}
	// The other methods are limited per workspace by their tier, as
	// Slack documents them.
	sopts.MethodRates = slackfake.DefaultMethodRates()
	if !limits {
		sopts.RatePerChannel = -1
		for m := range sopts.MethodRates {
			sopts.MethodRates[m] = slackfake.MethodRate{PerMinute: -1}
		}
	}
	for i := range channels {
		sopts.Channels = append(sopts.Channels, slackfake.Channel{
			ID: slackChannel(i), Name: fmt.Sprintf("team-%02d", i), Members: []string{"U0BOT", "U0ALICE", approverID},
		})
	}
	if w.slack, err = slackfake.New(sopts); err != nil {
		return w, err
	}
	for i := range channels {
		if limits {
			w.slack.SetRate(slackChannel(i), slackPostsPerSecond, slackPostBurst)
		} else {
			w.slack.SetRate(slackChannel(i), -1, 0)
		}
	}
	if w.dproxy, err = newDelayProxy(w.discord.URL(), latency); err != nil {
		return w, err
	}
	if w.sproxy, err = newDelayProxy(w.slack.URL(), latency); err != nil {
		return w, err
	}
	return w, nil
}

// Close stops the proxies and the fakes.
func (w *world) Close() {
	for _, p := range []*delayProxy{w.dproxy, w.sproxy} {
		if p != nil {
			p.Close()
		}
	}
	if w.discord != nil {
		w.discord.Close()
	}
	if w.slack != nil {
		w.slack.Close()
	}
}

// config is the bot's config for this world: each watched Discord
// channel is a source routed to its own Slack channel. sqlitePath is
// ignored when DATABASE_URL points the bot at Postgres.
func (w *world) config(sqlitePath string) ([]byte, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "company: Acme\n")
	fmt.Fprintf(&b, "database: {sqlite_path: %q}\n", sqlitePath)
	fmt.Fprintf(&b, "connections:\n")
	fmt.Fprintf(&b, "  - {name: community, platform: discord, role: public, token: %q, guild_id: %q, api_url: %q}\n",
		discordToken, guildID, w.dproxy.URL())
	fmt.Fprintf(&b, "  - {name: internal, platform: slack, role: internal, bot_token: %q, app_token: %q, api_url: %q}\n",
		w.slack.BotToken(), w.slack.AppToken(), w.sproxy.URL())
	fmt.Fprintf(&b, "sources:\n")
	for i := range w.channels {
		fmt.Fprintf(&b, "  - {name: help-%02d, connection: community, channels: [%q]}\n", i, discordChannel(i))
	}
	fmt.Fprintf(&b, "routes:\n")
	for i := range w.channels {
		fmt.Fprintf(&b, "  - {name: team-%02d, sources: [help-%02d], destination: {connection: internal, channel: %q}, approval: required, approvers: [%q]}\n",
			i, i, slackChannel(i), approverID)
	}
	fmt.Fprintf(&b, "profiles:\n")
	fmt.Fprintf(&b, "  - {name: Bob Stone, title: Head of Support, consented_at: 2026-01-05T09:00:00Z, identities: [{connection: internal, user_id: %q}]}\n", approverID)
	data := []byte(b.String())
	if _, err := config.Parse(data, func(string) string { return "" }); err != nil {
		return nil, fmt.Errorf("the bench's config is invalid: %w", err)
	}
	return data, nil
}
