package demo

import (
	_ "embed"
	"time"

	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
)

// demoConfig is the demo's Liaison config; ids below must match it.
//
//go:embed demo.yaml
var demoConfig []byte

// The public Discord server, "Acme Community".
const (
	discordConn     = "community"
	guildID         = "1200000000000000001"
	helpChannel     = "1200000000000000010" // text channel, route "support"
	forumChannel    = "1200000000000000011" // forum, route "product-feedback"
	miaID           = "1200000000000000101"
	discordBotID    = "1200000000000000900"
	discordBotToken = "demo-discord-bot-token"
)

// The internal Slack workspace, "Acme HQ".
const (
	slackConn      = "acme-hq"
	productChannel = "C0PRODUCT"
	supportChannel = "C0SUPPORT"
	aliceID        = "U0ALICE"
	bobID          = "U0BOB"
	carolID        = "U0CAROL"
	danaID         = "U0DANA" // answers in the history
	managersGroup  = "S0MANAGERS"
	slackBotUser   = "U0LIAISON"
)

// Person is someone the visitor can act as.
type Person struct {
	ID       string `json:"id"`
	Handle   string `json:"handle"`
	Name     string `json:"name"`
	Platform string `json:"platform"` // "discord" (the public side) or "slack" (the team)
	Role     string `json:"role"`     // what they are, in a few words
	Can      string `json:"can"`      // what they can do on the page
	Avatar   string `json:"avatar"`   // a path on the demo server
}

// people are the demo's cast, in the order the page offers them.
var people = []Person{
	{ID: miaID, Handle: "mia", Name: "Mia", Platform: "discord", Role: "community member",
		Can: "Post in #help, open a post in the feedback forum, reply, edit, delete.", Avatar: "/avatars/mia.svg"},
	{ID: aliceID, Handle: "alice", Name: "Alice Martin", Platform: "slack", Role: "volunteer, Product Manager",
		Can: "Claim a card, Reply publicly (or type !reply … in its thread), Withdraw her draft. Her drafts need approval.", Avatar: "/avatars/alice.svg"},
	{ID: bobID, Handle: "bob", Name: "Bob Stone", Platform: "slack", Role: "manager, approves",
		Can: "Approve, Edit & approve, Reject with a reason; /liaison promote @alice.", Avatar: "/avatars/bob.svg"},
	{ID: carolID, Handle: "carol", Name: "Carol King", Platform: "slack", Role: "support engineer, no approval rights",
		Can: "Try to approve and see the polite refusal; drafting asks her for a public profile first.", Avatar: "/avatars/carol.svg"},
}

func person(id string) (Person, bool) {
	for _, p := range people {
		if p.ID == id {
			return p, true
		}
	}
	return Person{}, false
}

// avatarColors tints the generated avatars, by handle.
var avatarColors = map[string]string{
	"mia": "#e67e22", "alice": "#8e44ad", "bob": "#2c7be5", "carol": "#16a085", "liaison": "#4a154b",
	"dana": "#c0392b", "noah": "#27ae60", "priya": "#d35400", "sam": "#7f8c8d",
}

func slackOptions() slackfake.Options {
	staff := []string{slackBotUser, aliceID, bobID, carolID, danaID}
	return slackfake.Options{
		TeamID: "T0ACMEHQ", TeamName: "Acme HQ", TeamDomain: "acme-hq",
		BotUserID: slackBotUser, BotID: "B0LIAISON", BotName: "liaison",
		Users: []slackfake.User{
			{ID: aliceID, Name: "alice", RealName: "Alice Martin", DisplayName: "Alice", Title: "Product Manager"},
			{ID: bobID, Name: "bob", RealName: "Bob Stone", DisplayName: "Bob", Title: "Head of Product"},
			{ID: carolID, Name: "carol", RealName: "Carol King", DisplayName: "Carol", Title: "Support Engineer"},
			{ID: danaID, Name: "dana", RealName: "Dana Lee", DisplayName: "Dana", Title: "Support Engineer"},
		},
		Channels: []slackfake.Channel{
			{ID: productChannel, Name: "product-feedback", Members: staff},
			{ID: supportChannel, Name: "support", Members: staff},
		},
		UserGroups:     []slackfake.UserGroup{{ID: managersGroup, Handle: "managers", Name: "Managers", Users: []string{bobID}}},
		RatePerChannel: -1, // the demo is one person clicking: no rate limit to wait out
	}
}

func discordOptions() discordfake.Options {
	return discordfake.Options{
		BotToken: discordBotToken, BotUserID: discordBotID, BotUsername: "Liaison",
		Guilds: []discordfake.Guild{{
			ID: guildID, Name: "Acme Community",
			Channels: []discordfake.Channel{
				{ID: helpChannel, Name: "help", Type: discordfake.ChannelText, Topic: "Ask anything about Acme"},
				{ID: forumChannel, Name: "feedback", Type: discordfake.ChannelForum, Topic: "Ideas and feedback for the Acme team"},
			},
			Members: []discordfake.Member{
				{User: discordfake.User{ID: miaID, Username: "mia", GlobalName: "Mia"}, JoinedAt: time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC)},
				// They ask the history's other questions.
				{User: discordfake.User{ID: noahID, Username: "noah", GlobalName: "Noah"}, JoinedAt: time.Date(2025, 5, 2, 8, 0, 0, 0, time.UTC)},
				{User: discordfake.User{ID: priyaID, Username: "priya", GlobalName: "Priya"}, JoinedAt: time.Date(2025, 7, 21, 16, 0, 0, 0, time.UTC)},
				{User: discordfake.User{ID: samID, Username: "sam", GlobalName: "Sam"}, JoinedAt: time.Date(2025, 9, 9, 12, 0, 0, 0, time.UTC)},
			},
		}},
	}
}

// slackUsers and discordUsers name the ids mentions carry.
var slackUsers = map[string]string{aliceID: "Alice Martin", bobID: "Bob Stone", carolID: "Carol King", danaID: "Dana Lee", slackBotUser: "liaison"}
var slackGroups = map[string]string{managersGroup: "managers"}
var slackChannels = map[string]string{productChannel: "product-feedback", supportChannel: "support"}
var discordUsers = map[string]string{miaID: "Mia", noahID: "Noah", priyaID: "Priya", samID: "Sam", discordBotID: "Liaison"}
var discordChannels = map[string]string{helpChannel: "help", forumChannel: "feedback"}
