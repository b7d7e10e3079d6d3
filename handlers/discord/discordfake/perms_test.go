package discordfake_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
)

// botPermissionsShown computes the bot's permissions in a channel from
// what the fake shows, with discordgo's own permission maths.
func botPermissionsShown(t *testing.T, s *discordgo.Session, f *discordfake.Fake, channelID string) int64 {
	t.Helper()
	st := discordgo.NewState()
	s.State = st
	p, err := s.UserChannelPermissions(f.Bot().ID, channelID)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPermissionsShown: roles with their permissions, the bot's managed
// role and member roles, channels' overwrites: what the fake enforces is
// what a client computes from what it shows.
func TestPermissionsShown(t *testing.T) {
	f := discordfake.MustNew(t, discordfake.Options{})
	s := restSession(t, f)
	botRole := f.BotRoleID(guildID)

	roles, err := s.GuildRoles(guildID)
	if err != nil {
		t.Fatal(err)
	}
	perms := map[string]int64{}
	for _, r := range roles {
		perms[r.ID] = r.Permissions
	}
	if perms[guildID] != discordfake.DefaultEveryonePermissions || perms[botRole] != discordfake.DefaultBotRolePermissions || perms[modRole] != 0 {
		t.Fatalf("role permissions = %v", perms)
	}
	m, err := s.GuildMember(guildID, f.Bot().ID)
	if err != nil || !slices.Equal(m.Roles, []string{botRole}) {
		t.Fatalf("the bot's member = %+v, %v", m, err)
	}

	// The bot's role loses Manage Webhooks; a channel's @everyone
	// overwrite hides #help, another role's overwrite does not count.
	if err := f.SetRolePermissions(guildID, botRole, discordfake.DefaultBotRolePermissions&^discordfake.PermManageWebhooks); err != nil {
		t.Fatal(err)
	}
	for _, ow := range []discordfake.Overwrite{
		{ID: guildID, Type: discordfake.OverwriteRole, Deny: discordfake.PermViewChannel},
		{ID: modRole, Type: discordfake.OverwriteRole, Allow: discordfake.PermViewChannel},
	} {
		if err := f.SetOverwrite(help, ow); err != nil {
			t.Fatal(err)
		}
	}
	ch, err := s.Channel(general)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.PermissionOverwrites) != 0 {
		t.Errorf("#general overwrites = %+v", ch.PermissionOverwrites)
	}
	if got, want := botPermissionsShown(t, s, f, general), f.BotPermissionsIn(general); got != want || got&discordfake.PermManageWebhooks != 0 {
		t.Errorf("#general: shown %#x, enforced %#x", got, want)
	}
	var re *discordgo.RESTError
	if _, err := s.WebhookCreate(general, "Liaison", ""); !errors.As(err, &re) || re.Message.Code != 50013 {
		t.Errorf("webhook without Manage Webhooks: %v", err)
	}
	if _, err := s.Channel(help); !errors.As(err, &re) || re.Message.Code != 50001 {
		t.Errorf("hidden channel: %v", err)
	}
	if p := f.BotPermissionsIn(help); p&discordfake.PermViewChannel != 0 {
		t.Errorf("#help: %#x", p)
	}

	// Given the moderators' role, the bot sees #help again.
	if err := f.SetMemberRoles(guildID, f.Bot().ID, []string{botRole, modRole}); err != nil {
		t.Fatal(err)
	}
	ch, err = s.Channel(help)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.PermissionOverwrites) != 2 || ch.PermissionOverwrites[0].ID != guildID || ch.PermissionOverwrites[0].Deny != discordfake.PermViewChannel {
		t.Errorf("#help overwrites = %+v", ch.PermissionOverwrites)
	}
	if got, want := botPermissionsShown(t, s, f, help), f.BotPermissionsIn(help); got != want || got&discordfake.PermViewChannel == 0 {
		t.Errorf("#help: shown %#x, enforced %#x", got, want)
	}
}

// TestSetBotPermissions: a member overwrite for the bot, shown as such; on
// a thread, its parent's.
func TestSetBotPermissions(t *testing.T) {
	f := discordfake.MustNew(t, discordfake.Options{})
	s := restSession(t, f)
	root, err := f.Post(alice, general, "hello")
	if err != nil {
		t.Fatal(err)
	}
	th, err := f.StartThread(alice, general, root.ID, "a thread")
	if err != nil {
		t.Fatal(err)
	}
	want := discordfake.PermViewChannel | discordfake.PermSendMessages
	f.SetBotPermissions(th.ID, want)
	ch, err := s.Channel(general)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.PermissionOverwrites) != 1 {
		t.Fatalf("overwrites = %+v", ch.PermissionOverwrites)
	}
	ow := ch.PermissionOverwrites[0]
	if ow.ID != f.Bot().ID || ow.Type != discordgo.PermissionOverwriteTypeMember || ow.Allow != want || ow.Deny&want != 0 {
		t.Errorf("overwrite = %+v", ow)
	}
	for _, id := range []string{general, th.ID} {
		if got := f.BotPermissionsIn(id); got != want {
			t.Errorf("%s: %#x, want %#x", id, got, want)
		}
	}
	if got := botPermissionsShown(t, s, f, general); got != want {
		t.Errorf("shown %#x, want %#x", got, want)
	}
	th2, _ := f.Channel(th.ID)
	if len(th2.Overwrites) != 0 {
		t.Errorf("a thread holds overwrites: %+v", th2.Overwrites)
	}
}

// TestOwnerAndAdministrator: both outweigh every overwrite.
func TestOwnerAndAdministrator(t *testing.T) {
	g := discordfake.DefaultGuild()
	g.Roles = append(g.Roles, discordfake.Role{ID: "1100000000000000021", Name: "Admins", Permissions: discordfake.PermAdministrator})
	g.Channels[0].Overwrites = []discordfake.Overwrite{{ID: g.ID, Type: discordfake.OverwriteRole, Deny: discordfake.PermAll}}
	f := discordfake.MustNew(t, discordfake.Options{Guilds: []discordfake.Guild{g}})
	if p := f.BotPermissionsIn(general); p != 0 {
		t.Fatalf("denied everything, the bot has %#x", p)
	}
	if err := f.SetMemberRoles(guildID, f.Bot().ID, []string{f.BotRoleID(guildID), "1100000000000000021"}); err != nil {
		t.Fatal(err)
	}
	if p := f.BotPermissionsIn(general); p != discordfake.PermAll {
		t.Fatalf("an administrator has %#x", p)
	}

	g = discordfake.DefaultGuild()
	g.OwnerID = "1100000000000000900" // the bot's default ID
	g.Channels[0].Overwrites = []discordfake.Overwrite{{ID: "1100000000000000900", Type: discordfake.OverwriteMember, Deny: discordfake.PermAll}}
	f = discordfake.MustNew(t, discordfake.Options{Guilds: []discordfake.Guild{g}})
	if p := f.BotPermissionsIn(general); p != discordfake.PermAll {
		t.Fatalf("the owner has %#x", p)
	}
}

// TestBadPermissions: what Discord would not hold is refused.
func TestBadPermissions(t *testing.T) {
	bad := func(name string, opts discordfake.Options, want string) {
		t.Helper()
		_, err := discordfake.New(opts)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: New = %v, want an error saying %q", name, err, want)
		}
	}
	g := discordfake.DefaultGuild()
	g.Channels = append(g.Channels, discordfake.Channel{ID: "1100000000000000012", Name: "t", Type: discordfake.ChannelPublicThread, ParentID: general,
		Overwrites: []discordfake.Overwrite{{ID: g.ID, Type: discordfake.OverwriteRole}}})
	bad("ThreadOverwrites", discordfake.Options{Guilds: []discordfake.Guild{g}}, "threads have no overwrites")
	g = discordfake.DefaultGuild()
	g.Channels[0].Overwrites = []discordfake.Overwrite{{ID: "1100000000000000029", Type: discordfake.OverwriteRole}}
	bad("UnknownRole", discordfake.Options{Guilds: []discordfake.Guild{g}}, "unknown role")
	g.Channels[0].Overwrites = []discordfake.Overwrite{{ID: alice, Type: 2}}
	bad("UnknownType", discordfake.Options{Guilds: []discordfake.Guild{g}}, "type 2")
	bad("UnknownChannel", discordfake.Options{BotPermissions: map[string]int64{"1100000000000000099": 0}}, "not a guild channel")

	f := discordfake.MustNew(t, discordfake.Options{})
	if err := f.SetOverwrite(help, discordfake.Overwrite{ID: "1100000000000000029", Type: discordfake.OverwriteRole}); err == nil {
		t.Error("SetOverwrite took an unknown role")
	}
	if err := f.SetMemberRoles(guildID, alice, []string{guildID}); err == nil {
		t.Error("SetMemberRoles gave @everyone")
	}
	if err := f.SetRolePermissions(guildID, "1100000000000000029", 0); err == nil {
		t.Error("SetRolePermissions changed an unknown role")
	}
	if p := f.BotPermissionsIn(help); p != discordfake.DefaultBotRolePermissions|discordfake.DefaultEveryonePermissions {
		t.Errorf("refused changes changed the bot's permissions: %#x", p)
	}
}

// TestCurrentApplication: GET /applications/@me, with the Message Content
// intent's flag when the developer portal enables it.
func TestCurrentApplication(t *testing.T) {
	const messageContentLimited = 1 << 19
	for _, c := range []struct {
		name       string
		unapproved int64
		want       bool
	}{
		{"Enabled", 0, true},
		{"Disabled", discordfake.IntentMessageContent, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := discordfake.MustNew(t, discordfake.Options{UnapprovedIntents: c.unapproved})
			status, _, body := rawCall(t, f, "GET", "/applications/@me", f.BotToken(), "")
			var app discordgo.Application
			if status != http.StatusOK || json.Unmarshal(body, &app) != nil {
				t.Fatalf("GET /applications/@me = %d %s", status, body)
			}
			if app.ID != f.ApplicationID() || (app.Flags&messageContentLimited != 0) != c.want {
				t.Errorf("application = %+v", app)
			}
			if status, _, _ := rawCall(t, f, "GET", "/applications/@me", "Bot wrong", ""); status != http.StatusUnauthorized {
				t.Errorf("wrong token: %d", status)
			}
		})
	}
}
