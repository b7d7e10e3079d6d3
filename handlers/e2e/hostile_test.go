package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
)

// hostileConfig watches a public Slack workspace and shows its items to a
// team on Discord, which renders markdown masked links in embeds and in
// webhook posts and so turns a disguise typed on Slack into a live one.
const hostileConfig = `
company: Acme
database: {url: "${DB_URL:-}", sqlite_path: "${DB_PATH:-unused.db}"}
http: {addr: "127.0.0.1:0"}
connections:
  - {name: community, platform: slack, role: public, bot_token: "${SLACK_BOT_TOKEN}", app_token: "${SLACK_APP_TOKEN}", api_url: "${SLACK_API}"}
  - {name: discord-team, platform: discord, role: internal, token: "${STAFF_TOKEN}", guild_id: "${STAFF_GUILD}", api_url: "${STAFF_API}"}
sources:
  - {name: "community #help", connection: community, channels: ["${HELP}"]}
routes:
  - {name: team, default: true, destination: {connection: discord-team, channel: "${TEAM}"}, approval: required, approvers: ["${ROLE}"]}
profiles:
  - {name: Nick Stone, title: Engineer, consented_at: 2026-01-05T09:00:00Z, identities: [{connection: discord-team, user_id: "${NICK}"}]}
`

// bidiControls are Unicode's explicit bidirectional formatting characters.
const bidiControls = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"

// TestSlackDisguiseNotLiveOnDiscord: a Slack member's masked link, in
// Slack's syntax or in markdown, and a bidi override reach the Discord
// team's card and thread as plain text that shows where each link goes; a
// Discord staff member's masked link reaches the public Slack thread the
// same way.
func TestSlackDisguiseNotLiveOnDiscord(t *testing.T) {
	const (
		helpCh = "C0HELP"
		member = "U0MEMBER"
		mona   = "3100000000000000104" // holds the approver role
	)
	staff := discordfake.MustNew(t, discordfake.Options{
		BotToken: staffToken, BotUserID: staffBot,
		Guilds: []discordfake.Guild{{
			ID: staffGuild, Name: "Acme Staff",
			Channels: []discordfake.Channel{{ID: teamCh, Name: "community", Type: discordfake.ChannelText}},
			Roles:    []discordfake.Role{{ID: approveRole, Name: "Approvers"}},
			Members: []discordfake.Member{
				{User: discordfake.User{ID: nick, Username: "nick", GlobalName: "Nick"}},
				{User: discordfake.User{ID: mona, Username: "mona", GlobalName: "Mona"}, Roles: []string{approveRole}},
			},
		}},
	})
	pub, err := slackfake.New(slackfake.Options{
		TeamID: "T0COMMUNITY", TeamName: "Acme Community", TeamDomain: "acme-community",
		Users:        []slackfake.User{{ID: member, Name: "mia", RealName: "Mia Lopez", DisplayName: "Mia"}},
		Channels:     []slackfake.Channel{{ID: helpCh, Name: "help", Members: []string{"U0BOT", member}}},
		PingInterval: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pub.Close)
	runLiaison(t, "sqlite", hostileConfig, map[string]string{
		"SLACK_BOT_TOKEN": pub.BotToken(), "SLACK_APP_TOKEN": pub.AppToken(), "SLACK_API": pub.URL(), "HELP": helpCh,
		"STAFF_TOKEN": staffToken, "STAFF_GUILD": staffGuild, "STAFF_API": staff.URL(), "TEAM": teamCh, "ROLE": approveRole, "NICK": nick,
	})
	w := &world{t: t, ctx: t.Context(), slack: pub}
	w.wait(pub, "the Slack socket", func() bool { return pub.Connections() == 1 })
	w.wait(staff, "the staff gateway", func() bool { return staff.Gateway().Connected })

	// Slack sends the URLs a member types wrapped in <…>.
	root, err := pub.Post(member, helpCh, "Is <https://evil.example/login|https://acme.com/login> yours? "+
		"Or [https://acme.com](<https://evil.example/>)? safe text \u202egnp.exe")
	if err != nil {
		t.Fatal(err)
	}
	card := w.staffMessage(staff, teamCh, "the Discord card", func(m discordfake.Message) bool { return len(m.Embeds) > 0 })
	expectPlain(t, "the card", card.Embeds[0].Description,
		"Is https://acme.com/login (https://evil.example/login) yours? Or https://acme.com (https://evil.example/)? safe text gnp.exe")

	// A follow-up lands in the card's thread, which the item then knows.
	if _, err := pub.Reply(member, helpCh, root, "Also [here](<https://evil.example/2>) \u2067and\u2069 there"); err != nil {
		t.Fatal(err)
	}
	note := w.staffMessage(staff, card.ID, "the follow-up note", func(m discordfake.Message) bool { return strings.Contains(m.Content, "Also") })
	expectPlain(t, "the note", note.Content, "Also here (https://evil.example/2) and there")

	// Nick drafts with a masked link of his own; Mona approves.
	if _, err := staff.PostInThread(nick, card.ID, "!reply Reset at [https://acme.com/reset](https://evil.example/reset) \u202etxt.exe"); err != nil {
		t.Fatal(err)
	}
	draft := w.staffMessage(staff, card.ID, "the draft card", func(m discordfake.Message) bool {
		return len(m.Embeds) > 0 && strings.HasPrefix(m.Embeds[0].Title, "Draft #")
	})
	expectPlain(t, "the draft preview", draft.Embeds[0].Description, "Reset at https://acme.com/reset (https://evil.example/reset) txt.exe")
	if _, err := staff.Click(mona, card.ID, draft.ID, "liaison:approve:"+discordTarget(t, draft, "approve")); err != nil {
		t.Fatal(err)
	}
	var reply slackfake.Message
	w.wait(pub, "the public reply", func() bool {
		for _, m := range pub.Thread(helpCh, root) {
			if m.BotID != "" && m.TS != root {
				reply = m
				return true
			}
		}
		return false
	})
	if s := slackfake.Shown(reply); !strings.Contains(s, "Reset at https://acme.com/reset (https://evil.example/reset) txt.exe") ||
		strings.Contains(s, "](") || strings.ContainsAny(s, bidiControls) {
		t.Errorf("the public reply shows %q, want the link written out and no bidi control", s)
	}
}

// expectPlain fails unless s shows want and has no masked link Discord
// would render and no bidi control.
func expectPlain(t *testing.T, what, s, want string) {
	t.Helper()
	if !strings.Contains(s, want) {
		t.Errorf("%s does not show %q:\n%q", what, want, s)
	}
	if strings.Contains(s, "](") || strings.ContainsAny(s, bidiControls) {
		t.Errorf("%s carries a masked link or a bidi control:\n%q", what, s)
	}
}
