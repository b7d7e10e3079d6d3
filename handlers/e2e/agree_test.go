package e2e

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
)

// The staff side on Discord, beside the Slack workspace of start.
const (
	general     = "2100000000000000010" // watched text channel, routed to the Discord team
	staffGuild  = "3100000000000000001"
	teamCh      = "3100000000000000010" // where the Discord team's cards go
	approveRole = "3100000000000000020"
	nick        = "3100000000000000103" // a staff member there
	staffBot    = "3100000000000000900"
	staffToken  = "internal-bot-token"
)

// agreeConfig routes the forum to a Slack team and the text channel to a
// Discord team: one Liaison, the same item states, shown on both.
const agreeConfig = `
company: Acme
database: {url: "${DB_URL:-}", sqlite_path: "${DB_PATH:-unused.db}"}
http: {addr: "127.0.0.1:0"}
connections:
  - {name: community, platform: discord, role: public, token: "${DISCORD_TOKEN}", guild_id: "${GUILD}", api_url: "${DISCORD_API}"}
  - {name: slack-team, platform: slack, role: internal, bot_token: "${SLACK_BOT_TOKEN}", app_token: "${SLACK_APP_TOKEN}", api_url: "${SLACK_API}"}
  - {name: discord-team, platform: discord, role: internal, token: "${STAFF_TOKEN}", guild_id: "${STAFF_GUILD}", api_url: "${STAFF_API}"}
sources:
  - {name: forum, connection: community, channels: ["${HELP}"]}
  - {name: chat, connection: community, channels: ["${GENERAL}"]}
routes:
  - {name: on-slack, sources: [forum], destination: {connection: slack-team, channel: "${PRODUCT}"}, approval: required, approvers: ["${BOB}"]}
  - {name: on-discord, sources: [chat], destination: {connection: discord-team, channel: "${TEAM}"}, approval: required, approvers: ["${ROLE}"]}
`

// action is a button as a person sees it: what it does and its label.
type action struct{ id, label string }

// TestPlatformsAgree: the same item, in the same state, offers the same
// actions with the same labels, shows the same facts, opens the same form
// with the same limits and refuses the same input in the same words on
// Slack and on Discord. (They used to differ: 3,000 characters for a reply
// on Slack and 1,800 on Discord, a tag check on one side only, draft labels
// written twice.)
func TestPlatformsAgree(t *testing.T) {
	pub := discordfake.MustNew(t, discordfake.Options{
		BotToken: pubToken, BotUserID: pubBot,
		Guilds: []discordfake.Guild{{
			ID: guild, Name: "Acme Community",
			Channels: []discordfake.Channel{
				{ID: general, Name: "general", Type: discordfake.ChannelText},
				{ID: help, Name: "help", Type: discordfake.ChannelForum},
			},
			Members: []discordfake.Member{{User: discordfake.User{ID: maria, Username: "maria", GlobalName: "Maria"}}},
		}},
	})
	staff := discordfake.MustNew(t, discordfake.Options{
		BotToken: staffToken, BotUserID: staffBot,
		Guilds: []discordfake.Guild{{
			ID: staffGuild, Name: "Acme Staff",
			Channels: []discordfake.Channel{{ID: teamCh, Name: "community", Type: discordfake.ChannelText}},
			Roles:    []discordfake.Role{{ID: approveRole, Name: "Approvers"}},
			Members:  []discordfake.Member{{User: discordfake.User{ID: nick, Username: "nick", GlobalName: "Nick"}}},
		}},
	})
	sf, err := slackfake.New(slackfake.Options{
		TeamID: "T0ACME", TeamName: "Acme", TeamDomain: "acme",
		Users:        []slackfake.User{{ID: alice, Name: "alice", RealName: "Alice Martin"}, {ID: bob, Name: "bob", RealName: "Bob Stone"}},
		Channels:     []slackfake.Channel{{ID: productCh, Name: "product", Members: []string{"U0BOT", alice, bob}}},
		PingInterval: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sf.Close)
	runLiaison(t, "sqlite", agreeConfig, map[string]string{
		"DISCORD_TOKEN": pubToken, "GUILD": guild, "DISCORD_API": pub.URL(), "HELP": help, "GENERAL": general,
		"SLACK_BOT_TOKEN": sf.BotToken(), "SLACK_APP_TOKEN": sf.AppToken(), "SLACK_API": sf.URL(), "PRODUCT": productCh, "BOB": bob,
		"STAFF_TOKEN": staffToken, "STAFF_GUILD": staffGuild, "STAFF_API": staff.URL(), "TEAM": teamCh, "ROLE": approveRole,
	})
	w := &world{t: t, ctx: t.Context(), discord: pub, slack: sf}
	w.wait(staff, "/liaison on the Discord team", func() bool { return len(staff.Commands(staffGuild)) == 1+len(bot.Menus()) })
	w.wait(sf, "the Slack socket", func() bool { return sf.Connections() == 1 })
	w.wait(pub, "the public gateway", func() bool { return pub.Gateway().Connected })

	// One question for each team.
	if _, _, err := pub.OpenForumPost(maria, help, "Export?", "How do I export my data?"); err != nil {
		t.Fatal(err)
	}
	if _, err := pub.Post(maria, general, "Any plans for dark mode?"); err != nil {
		t.Fatal(err)
	}
	onSlack := w.slackCard()
	onDiscord := w.staffMessage(staff, teamCh, "the Discord card", func(m discordfake.Message) bool { return len(m.Components) > 0 })
	want := []action{{"reply", "Reply publicly"}, {"claim", "Claim"}, {"tag", "Tag"}, {"ignore", "Ignore"}}
	agree(t, "a new item's actions", slackActions(onSlack), discordActions(onDiscord), want)
	agree(t, "a new item's facts", slackFacts(onSlack), discordFacts(onDiscord), []string{"Status: 🆕 New", "Route: "})

	// The reply form: the same fields, labels and limits.
	discordItem := discordTarget(t, onDiscord, "reply")
	if err := sf.Click(alice, productCh, onSlack.TS, "liaison_reply"); err != nil {
		t.Fatal(err)
	}
	var view slackfake.View
	w.wait(sf, "the Slack reply form", func() bool {
		vs := sf.Views(alice)
		if len(vs) == 1 {
			view = vs[0]
		}
		return len(vs) == 1
	})
	modal := discordModal(t, w, staff, nick, onDiscord.ID, fmt.Sprintf("liaison:reply:%s", discordItem))
	agree(t, "the reply form", slackFields(t, view), modal, []string{"text: Your public reply, required, at most 1800"})
	if err := sf.CloseView(alice, view.ID); err != nil {
		t.Fatal(err)
	}

	// A tag list of commas only: refused, in the same words.
	if err := sf.Click(alice, productCh, onSlack.TS, "liaison_tag"); err != nil {
		t.Fatal(err)
	}
	w.wait(sf, "the Slack tag form", func() bool {
		vs := sf.Views(alice)
		if len(vs) == 1 && vs[0].CallbackID == "liaison_tag" {
			view = vs[0]
			return true
		}
		return false
	})
	if err := sf.SubmitView(alice, view.ID, map[string]map[string]string{"tags": {"value": " , ,"}}); err != nil {
		t.Fatal(err)
	}
	var slackRefusal string
	w.wait(sf, "the Slack form's error", func() bool {
		vs := sf.Views(alice)
		if len(vs) == 1 {
			slackRefusal = vs[0].Errors["tags"]
		}
		return slackRefusal != ""
	})
	tagForm := fmt.Sprintf("liaison:tag:%s", discordItem)
	agree(t, "the tag form", slackFields(t, view), discordModal(t, w, staff, nick, onDiscord.ID, tagForm), []string{"tags: Tags, required, at most 200"})
	id, err := staff.SubmitModal(nick, teamCh, tagForm, map[string]string{"tags": " , ,"})
	if err != nil {
		t.Fatal(err)
	}
	discordRefusal := ephemeralAnswer(t, w, staff, id)
	agree(t, "the refusal of an empty tag list", []string{slackRefusal}, []string{discordRefusal}, []string{"Please give at least one tag."})
	if err := sf.CloseView(alice, view.ID); err != nil {
		t.Fatal(err)
	}

	// Claimed, both offer Unclaim instead of Claim, and say who claimed it.
	if err := sf.Click(alice, productCh, onSlack.TS, "liaison_claim"); err != nil {
		t.Fatal(err)
	}
	if _, err := staff.Click(nick, teamCh, onDiscord.ID, "liaison:claim:"+discordItem); err != nil {
		t.Fatal(err)
	}
	w.wait(sf, "the claimed Slack card", func() bool {
		onSlack, _ = sf.Message(productCh, onSlack.TS)
		return slices.Contains(slackActions(onSlack), action{"unclaim", "Unclaim"})
	})
	w.wait(staff, "the claimed Discord card", func() bool {
		onDiscord, _ = staff.MessageByID(onDiscord.ID)
		return slices.Contains(discordActions(onDiscord), action{"unclaim", "Unclaim"})
	})
	want = []action{{"reply", "Reply publicly"}, {"unclaim", "Unclaim"}, {"tag", "Tag"}, {"ignore", "Ignore"}}
	agree(t, "a claimed item's actions", slackActions(onSlack), discordActions(onDiscord), want)
	agree(t, "a claimed item's status", slackFacts(onSlack)[:1], discordFacts(onDiscord)[:1], []string{"Status: 🙋 Claimed"})
}

// agree fails unless both platforms show want.
func agree[T comparable](t *testing.T, what string, slack, discord, want []T) {
	t.Helper()
	if !slices.Equal(slack, want) || !slices.Equal(discord, want) {
		t.Errorf("%s:\n  Slack   %v\n  Discord %v\n  want    %v", what, slack, discord, want)
	}
}

// slackActions reads a Slack card's buttons.
func slackActions(m slackfake.Message) []action {
	var out []action
	for _, b := range blocksOf(m) {
		for _, el := range b.Elements {
			if el.Type == "button" {
				out = append(out, action{strings.TrimPrefix(el.ActionID, "liaison_"), el.Text.Text})
			}
		}
	}
	return out
}

// discordActions reads a Discord card's buttons, leaving out link buttons.
func discordActions(m discordfake.Message) []action {
	var out []action
	for _, row := range m.Components {
		for _, c := range row.Components {
			if parts := strings.Split(c.CustomID, ":"); c.Type == 2 && len(parts) == 3 {
				out = append(out, action{parts[1], c.Label})
			}
		}
	}
	return out
}

// slackFacts reads the side-by-side facts of a Slack card as "Label: value",
// the route's value left out (routes differ by design).
func slackFacts(m slackfake.Message) []string {
	var out []string
	for _, b := range blocksOf(m) {
		for _, f := range b.Fields {
			label, value, _ := strings.Cut(f.Text, "\n")
			out = append(out, fact(strings.Trim(label, "*"), value))
		}
	}
	return out
}

func discordFacts(m discordfake.Message) []string {
	var out []string
	if len(m.Embeds) > 0 {
		for _, f := range m.Embeds[0].Fields {
			if f.Inline { // as Slack shows side by side
				out = append(out, fact(f.Name, f.Value))
			}
		}
	}
	return out
}

func fact(label, value string) string {
	if label == "Route" {
		value = ""
	}
	return label + ": " + value
}

type kitBlock struct {
	Type     string `json:"type"`
	BlockID  string `json:"block_id"`
	Optional bool   `json:"optional"`
	Label    struct {
		Text string `json:"text"`
	} `json:"label"`
	Element struct {
		MaxLength int `json:"max_length"`
	} `json:"element"`
	Fields []struct {
		Text string `json:"text"`
	} `json:"fields"`
	Elements []struct {
		Type     string `json:"type"`
		ActionID string `json:"action_id"`
		Value    string `json:"value"`
		Text     struct {
			Text string `json:"text"`
		} `json:"text"`
	} `json:"elements"`
}

func blocksOf(m slackfake.Message) []kitBlock {
	var bs []kitBlock
	_ = json.Unmarshal(m.Blocks, &bs)
	return bs
}

// discordTarget is the item a Discord card's button acts on.
func discordTarget(t *testing.T, m discordfake.Message, action string) string {
	t.Helper()
	for _, row := range m.Components {
		for _, c := range row.Components {
			if parts := strings.Split(c.CustomID, ":"); len(parts) == 3 && parts[1] == action {
				return parts[2]
			}
		}
	}
	t.Fatalf("no %s button on the Discord card", action)
	return ""
}

// slackFields reads a Slack modal's inputs as "id: label, required, at most n".
func slackFields(t *testing.T, v slackfake.View) []string {
	t.Helper()
	var view struct {
		Blocks []kitBlock `json:"blocks"`
	}
	if err := json.Unmarshal(v.JSON, &view); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, b := range view.Blocks {
		if b.Type == "input" {
			out = append(out, field(b.BlockID, b.Label.Text, !b.Optional, b.Element.MaxLength))
		}
	}
	return out
}

func field(id, label string, required bool, max int) string {
	req := "optional"
	if required {
		req = "required"
	}
	return fmt.Sprintf("%s: %s, %s, at most %d", id, label, req, max)
}

// discordModal clicks a button on Discord and reads the modal it opens the
// same way as slackFields.
func discordModal(t *testing.T, w *world, f *discordfake.Fake, user, messageID, customID string) []string {
	t.Helper()
	id, err := f.Click(user, teamCh, messageID, customID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	w.wait(f, "the Discord form", func() bool {
		rs := f.InteractionResponses(id)
		if len(rs) == 0 || rs[0].Type != 9 {
			return false
		}
		for _, row := range rs[0].Components {
			for _, c := range row.Components {
				max := 0
				if c.MaxLength != nil {
					max = *c.MaxLength
				}
				out = append(out, field(c.CustomID, c.Label, c.Required != nil && *c.Required, max))
			}
		}
		return true
	})
	return out
}

// ephemeralAnswer waits for the private answer to a Discord interaction.
func ephemeralAnswer(t *testing.T, w *world, f *discordfake.Fake, interactionID string) string {
	t.Helper()
	var text string
	w.wait(f, "the Discord answer", func() bool {
		for _, m := range f.InteractionMessages(interactionID) {
			if m.Flags&discordfake.FlagLoading == 0 && m.Content != "" {
				text = m.Content
				return true
			}
		}
		return false
	})
	return text
}
