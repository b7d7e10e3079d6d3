package discord

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	dg "github.com/bwmarrin/discordgo"

	"github.com/liaison-bot/liaison/config"
	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
	"github.com/liaison-bot/liaison/internal/doctor"
)

// The doctor's guild, on a fake Discord.
const (
	docGuild   = "4100000000000000001"
	docGeneral = "4100000000000000010" // watched text channel
	docHelp    = "4100000000000000011" // watched forum
	docCards   = "4100000000000000012" // where cards go
	docThread  = "4100000000000000013" // a thread of #general, watched
	docStaff   = "4100000000000000020" // a role
	docMember  = "4100000000000000101"
	docBot     = "4100000000000000900"
	docToken   = "doctor-bot-token"
	docMissing = "4100000000000000099" // no such channel
)

func doctorGuild() discordfake.Guild {
	return discordfake.Guild{
		ID: docGuild, Name: "Acme Community",
		Channels: []discordfake.Channel{
			{ID: docGeneral, Name: "general", Type: discordfake.ChannelText},
			{ID: docHelp, Name: "help", Type: discordfake.ChannelForum},
			{ID: docCards, Name: "community-feedback", Type: discordfake.ChannelText},
			{ID: docThread, Name: "a question", Type: discordfake.ChannelPublicThread, ParentID: docGeneral, OwnerID: docMember},
		},
		Roles:   []discordfake.Role{{ID: docStaff, Name: "Staff"}},
		Members: []discordfake.Member{{User: discordfake.User{ID: docMember, Username: "maria"}}},
	}
}

var docNeed = doctor.Channels{Watched: []string{docGeneral, docHelp, docThread}, Cards: []string{docCards}, Digests: []string{docCards}}

// doctorFake starts a fake Discord with the doctor's guild and returns it
// with the connection of the config that points at it.
func doctorFake(t *testing.T, opts discordfake.Options) (*discordfake.Fake, config.Connection) {
	t.Helper()
	opts.BotToken, opts.BotUserID = docToken, docBot
	opts.Guilds = []discordfake.Guild{doctorGuild()}
	f := discordfake.MustNew(t, opts)
	conn := config.Connection{
		Name: "community", Platform: config.Discord, Role: config.RolePublic,
		Token: config.Secret(docToken), GuildID: docGuild, ApplicationID: f.ApplicationID(), APIURL: f.URL(),
	}
	return f, conn
}

// session is a discordgo session on the fake, for what the test does as
// the bot.
func session(t *testing.T, f *discordfake.Fake) *dg.Session {
	t.Helper()
	s, err := dg.New(f.BotToken())
	if err != nil {
		t.Fatal(err)
	}
	f.Configure(s)
	s.ShouldRetryOnRateLimit = false
	return s
}

// register registers cmds in the guild, as `liaison run` does.
func register(t *testing.T, f *discordfake.Fake, cmds []*dg.ApplicationCommand) {
	t.Helper()
	if _, err := session(t, f).ApplicationCommandBulkOverwrite(f.ApplicationID(), docGuild, cmds); err != nil {
		t.Fatal(err)
	}
}

// runDoctor runs the doctor and returns its checks by name, failing the test
// on a name seen twice or a failed check without a remedy.
func runDoctor(t *testing.T, conn config.Connection, need doctor.Channels) ([]doctor.Check, map[string]doctor.Check) {
	t.Helper()
	checks := Doctor(context.Background(), conn, need)
	byName := map[string]doctor.Check{}
	for _, c := range checks {
		if _, dup := byName[c.Name]; dup {
			t.Errorf("two checks named %q", c.Name)
		}
		if c.Conn != conn.Name {
			t.Errorf("check %q of connection %q, want %q", c.Name, c.Conn, conn.Name)
		}
		if !c.OK && c.Remedy == "" {
			t.Errorf("check %q failed without a remedy: %s", c.Name, c.Detail)
		}
		byName[c.Name] = c
	}
	return checks, byName
}

// want asserts a check's outcome and that its detail (and, failed, its
// remedy) say what a user must read.
func want(t *testing.T, checks map[string]doctor.Check, name string, ok bool, detail, remedy string) {
	t.Helper()
	c, found := checks[name]
	switch {
	case !found:
		t.Errorf("no check %q", name)
	case c.OK != ok:
		t.Errorf("check %q: OK = %v, want %v (%s)", name, c.OK, ok, c.Detail)
	case !strings.Contains(c.Detail, detail):
		t.Errorf("check %q: detail %q does not say %q", name, c.Detail, detail)
	case !strings.Contains(c.Remedy, remedy):
		t.Errorf("check %q: remedy %q does not say %q", name, c.Remedy, remedy)
	}
}

const (
	noWebhooks = "missing Manage Webhooks: replies go out with a signature line instead of the person's name"
	grant      = "Edit Channel → Permissions"
)

func TestDoctorAllPass(t *testing.T) {
	f, conn := doctorFake(t, discordfake.Options{})
	register(t, f, commands())
	checks, byName := runDoctor(t, conn, docNeed)
	var names []string
	for _, c := range checks {
		names = append(names, c.Name)
	}
	wantNames := []string{"token", "message content intent", "application_id", "guild",
		"channel " + docGeneral, "channel " + docHelp, "channel " + docThread, "channel " + docCards, "commands"}
	if strings.Join(names, "|") != strings.Join(wantNames, "|") {
		t.Fatalf("checks = %q\nwant %q", names, wantNames)
	}
	var out bytes.Buffer
	if !doctor.Print(&out, checks) {
		t.Fatalf("not every check passed:\n%s", out.String())
	}
	want(t, byName, "token", true, "valid: bot Liaison ("+docBot+")", "")
	want(t, byName, "guild", true, "Acme Community", "")
	want(t, byName, "channel "+docGeneral, true, "#general (watched): View Channel, Read Message History, Manage Webhooks", "")
	want(t, byName, "channel "+docCards, true, "#community-feedback (cards, digest): View Channel, Send Messages, Embed Links, Attach Files", "")
	want(t, byName, "commands", true, "/liaison", "")
	// The doctor only reads.
	for _, c := range f.Calls() {
		if c.Method != http.MethodGet && !strings.HasSuffix(c.Path, "/guilds/"+docGuild+"/commands") {
			t.Errorf("the doctor called %s %s", c.Method, c.Path)
		}
	}
}

func TestDoctorTokenInvalid(t *testing.T) {
	_, conn := doctorFake(t, discordfake.Options{})
	conn.Token = "not-the-token"
	checks, byName := runDoctor(t, conn, docNeed)
	want(t, byName, "token", false, "token invalid", "Developer Portal → your application → Bot")
	if len(checks) != 1 {
		t.Errorf("%d checks after an invalid token, want the token's alone: %+v", len(checks), checks)
	}
	for _, c := range checks {
		if strings.Contains(c.Detail+c.Remedy, "not-the-token") {
			t.Errorf("check %q shows the token", c.Name)
		}
	}
}

func TestDoctorIntentDisabled(t *testing.T) {
	f, conn := doctorFake(t, discordfake.Options{UnapprovedIntents: discordfake.IntentMessageContent})
	register(t, f, commands())
	_, byName := runDoctor(t, conn, docNeed)
	want(t, byName, "message content intent", false, "disabled", "Bot → Privileged Gateway Intents")
	want(t, byName, "commands", true, "", "")
}

// TestDoctorMissingByRole: the bot's own role lacks Manage Webhooks, and
// @everyone (a new guild's defaults) has none: every watched channel says
// so, card channels need none. A second role of the bot gives it back.
func TestDoctorMissingByRole(t *testing.T) {
	f, conn := doctorFake(t, discordfake.Options{})
	register(t, f, commands())
	role := f.BotRoleID(docGuild)
	if err := f.SetRolePermissions(docGuild, role, discordfake.DefaultBotRolePermissions&^discordfake.PermManageWebhooks); err != nil {
		t.Fatal(err)
	}
	_, byName := runDoctor(t, conn, docNeed)
	for _, ch := range []string{docGeneral, docHelp, docThread} {
		want(t, byName, "channel "+ch, false, noWebhooks, grant)
	}
	want(t, byName, "channel "+docCards, true, "", "")
	// The fake refuses what the doctor says is missing.
	var re *dg.RESTError
	if _, err := session(t, f).WebhookCreate(docGeneral, webhookName, ""); !errors.As(err, &re) || re.Message == nil || re.Message.Code != codeMissingPermissions {
		t.Fatalf("creating a webhook without Manage Webhooks: %v", err)
	}

	if err := f.SetRolePermissions(docGuild, docStaff, discordfake.PermManageWebhooks); err != nil {
		t.Fatal(err)
	}
	if err := f.SetMemberRoles(docGuild, docBot, []string{role, docStaff}); err != nil {
		t.Fatal(err)
	}
	_, byName = runDoctor(t, conn, docNeed)
	want(t, byName, "channel "+docGeneral, true, "Manage Webhooks", "")
}

// TestDoctorMissingByOverwrite: a channel's overwrites, in Discord's order:
// a role's deny, a role's allow that beats an @everyone deny, the bot's own
// deny last.
func TestDoctorMissingByOverwrite(t *testing.T) {
	f, conn := doctorFake(t, discordfake.Options{})
	register(t, f, commands())
	role := f.BotRoleID(docGuild)
	for _, ow := range []discordfake.Overwrite{
		{ID: role, Type: discordfake.OverwriteRole, Deny: discordfake.PermAttachFiles, Allow: discordfake.PermCreatePublicThreads | discordfake.PermSendMessagesInThread},
		{ID: docGuild, Type: discordfake.OverwriteRole, Deny: discordfake.PermCreatePublicThreads},
		{ID: docBot, Type: discordfake.OverwriteMember, Deny: discordfake.PermSendMessagesInThread},
	} {
		if err := f.SetOverwrite(docCards, ow); err != nil {
			t.Fatal(err)
		}
	}
	_, byName := runDoctor(t, conn, docNeed)
	want(t, byName, "channel "+docCards, false, "missing Attach Files: digests are refused (their chart is a file); missing Send Messages in Threads: notes, draft cards and notices cannot be posted in a card's thread", grant)
	if d := byName["channel "+docCards].Detail; strings.Contains(d, "Create Public Threads") {
		t.Errorf("the role's allow beats the @everyone deny, yet: %s", d)
	}
	want(t, byName, "channel "+docGeneral, true, "", "")
	// Attach Files is a digest's need only: cards alone do without it.
	_, byName = runDoctor(t, conn, doctor.Channels{Cards: []string{docCards}})
	if d := byName["channel "+docCards].Detail; strings.Contains(d, "Attach Files") {
		t.Errorf("a card channel without a digest is asked for Attach Files: %s", d)
	}
	// The fake refuses what the doctor says is missing, and allows the rest.
	s := session(t, f)
	if _, err := s.ChannelMessageSend(docCards, "a card"); err != nil {
		t.Fatalf("Send Messages is left: %v", err)
	}
	var re *dg.RESTError
	_, err := s.ChannelFileSend(docCards, "chart.png", strings.NewReader("\x89PNG"))
	if !errors.As(err, &re) || re.Message == nil || re.Message.Code != codeMissingPermissions {
		t.Fatalf("a file without Attach Files: %v", err)
	}
	if got := f.BotPermissionsIn(docCards); got&discordfake.PermAttachFiles != 0 || got&discordfake.PermCreatePublicThreads == 0 {
		t.Errorf("the fake computes %#x", got)
	}
}

// TestDoctorInvisible: a channel hidden from @everyone is hidden from the
// bot too, and its threads with it; a channel that does not exist fails as
// well.
func TestDoctorInvisible(t *testing.T) {
	f, conn := doctorFake(t, discordfake.Options{})
	register(t, f, commands())
	if err := f.SetOverwrite(docGeneral, discordfake.Overwrite{ID: docGuild, Type: discordfake.OverwriteRole, Deny: discordfake.PermViewChannel}); err != nil {
		t.Fatal(err)
	}
	need := docNeed
	need.Cards = append([]string{docMissing}, need.Cards...)
	_, byName := runDoctor(t, conn, need)
	want(t, byName, "channel "+docGeneral, false, "missing View Channel: the bot does not see the channel", grant)
	want(t, byName, "channel "+docThread, false, "not visible to the bot", grant)
	want(t, byName, "channel "+docMissing, false, "does not exist", "Copy Channel ID")
	want(t, byName, "channel "+docHelp, true, "", "")
	if d := byName["channel "+docGeneral].Detail; strings.Contains(d, "Manage Webhooks") {
		t.Errorf("a channel the bot cannot see lists more than View Channel: %s", d)
	}
	var re *dg.RESTError
	if _, err := session(t, f).Channel(docGeneral); !errors.As(err, &re) || re.Message == nil || re.Message.Code != codeMissingAccess {
		t.Fatalf("reading a hidden channel: %v", err)
	}

	// A role overwrite that lets the bot's role in shows it again.
	if err := f.SetOverwrite(docGeneral, discordfake.Overwrite{ID: f.BotRoleID(docGuild), Type: discordfake.OverwriteRole, Allow: discordfake.PermViewChannel}); err != nil {
		t.Fatal(err)
	}
	_, byName = runDoctor(t, conn, docNeed)
	want(t, byName, "channel "+docGeneral, true, "", "")
	want(t, byName, "channel "+docThread, true, "", "")
}

// TestDoctorThreadTakesParent: a thread has no overwrites; its parent's
// decide.
func TestDoctorThreadTakesParent(t *testing.T) {
	f, conn := doctorFake(t, discordfake.Options{})
	register(t, f, commands())
	f.SetBotPermissions(docThread, discordfake.PermAll&^discordfake.PermReadMessageHistory)
	_, byName := runDoctor(t, conn, doctor.Channels{Watched: []string{docThread}})
	want(t, byName, "channel "+docThread, false, "missing Read Message History", grant)
}

func TestDoctorCommandsMissing(t *testing.T) {
	f, conn := doctorFake(t, discordfake.Options{})
	_, byName := runDoctor(t, conn, docNeed)
	want(t, byName, "commands", false, "not registered in the guild: /liaison", "liaison run")
	want(t, byName, "commands", false, "", ScopeApplicationsCommands)

	all := commands()
	register(t, f, all[:1])
	_, byName = runDoctor(t, conn, docNeed)
	if len(all) > 1 {
		want(t, byName, "commands", false, commandLabel(all[1]), "liaison run")
		if d := byName["commands"].Detail; strings.Contains(d, "/liaison") {
			t.Errorf("/liaison is registered, yet: %s", d)
		}
	} else {
		want(t, byName, "commands", true, "/liaison", "")
	}
}

func TestDoctorNotInGuild(t *testing.T) {
	_, conn := doctorFake(t, discordfake.Options{})
	conn.GuildID = "4199999999999999999"
	checks, byName := runDoctor(t, conn, docNeed)
	want(t, byName, "guild", false, "the bot is not in guild 4199999999999999999", "liaison discord-invite --connection community")
	for _, c := range checks {
		if strings.HasPrefix(c.Name, "channel ") || c.Name == "commands" {
			t.Errorf("check %q after the guild failed", c.Name)
		}
	}
}

func TestDoctorApplicationID(t *testing.T) {
	f, conn := doctorFake(t, discordfake.Options{})
	register(t, f, commands())
	conn.ApplicationID = "4100000000000000999"
	_, byName := runDoctor(t, conn, docNeed)
	want(t, byName, "application_id", false, "the token belongs to application "+f.ApplicationID(), "General Information")
	conn.ApplicationID = ""
	_, byName = runDoctor(t, conn, docNeed)
	want(t, byName, "application_id", true, "not set", "")
	want(t, byName, "commands", true, "", "")
}

// TestChannelPermissions: Discord's documented algorithm, case by case.
func TestChannelPermissions(t *testing.T) {
	const (
		guild    = "1"
		owner    = "10"
		me       = "11"
		roleA    = "20"
		roleB    = "21"
		roleC    = "22" // not mine
		view     = PermViewChannel
		send     = PermSendMessages
		hooks    = PermManageWebhooks
		history  = PermReadMessageHistory
		everyone = view | send
	)
	roles := []*dg.Role{
		{ID: guild, Permissions: everyone},
		{ID: roleA, Permissions: history},
		{ID: roleB, Permissions: 0},
		{ID: roleC, Permissions: PermAdministrator},
	}
	role := func(id string, allow, deny int64) *dg.PermissionOverwrite {
		return &dg.PermissionOverwrite{ID: id, Type: dg.PermissionOverwriteTypeRole, Allow: allow, Deny: deny}
	}
	member := func(id string, allow, deny int64) *dg.PermissionOverwrite {
		return &dg.PermissionOverwrite{ID: id, Type: dg.PermissionOverwriteTypeMember, Allow: allow, Deny: deny}
	}
	for _, c := range []struct {
		name       string
		user       string
		roles      []string
		guildRoles []*dg.Role
		overwrites []*dg.PermissionOverwrite
		want       int64
	}{
		{"Everyone", me, nil, roles, nil, everyone},
		{"RolesAdd", me, []string{roleA, roleB}, roles, nil, everyone | history},
		{"OtherRolesDoNot", me, []string{roleA}, roles, []*dg.PermissionOverwrite{role(roleC, hooks, 0)}, everyone | history},
		{"Owner", owner, nil, roles, []*dg.PermissionOverwrite{role(guild, 0, view), member(owner, 0, view)}, allPermissions},
		{"AdministratorBypassesOverwrites", me, []string{roleC}, roles, []*dg.PermissionOverwrite{role(guild, 0, view), member(me, 0, view)}, allPermissions},
		{"EveryoneDeny", me, []string{roleA}, roles, []*dg.PermissionOverwrite{role(guild, 0, view)}, send | history},
		{"EveryoneAllow", me, nil, roles, []*dg.PermissionOverwrite{role(guild, hooks, 0)}, everyone | hooks},
		{"RoleAllowBeatsEveryoneDeny", me, []string{roleB}, roles, []*dg.PermissionOverwrite{role(guild, 0, view), role(roleB, view, 0)}, everyone},
		// Role overwrites are combined before they apply: an allow of one
		// role wins over a deny of another.
		{"RoleAllowBeatsRoleDeny", me, []string{roleA, roleB}, roles, []*dg.PermissionOverwrite{role(roleA, 0, send), role(roleB, send, 0)}, everyone | history},
		{"RoleDeny", me, []string{roleA}, roles, []*dg.PermissionOverwrite{role(roleA, 0, history)}, everyone},
		{"MemberLast", me, []string{roleA}, roles, []*dg.PermissionOverwrite{member(me, 0, send), role(roleA, send|hooks, 0)}, view | history | hooks},
		{"MemberAllow", me, nil, roles, []*dg.PermissionOverwrite{role(guild, 0, view), member(me, view, 0)}, everyone},
		{"OtherMember", me, nil, roles, []*dg.PermissionOverwrite{member(owner, hooks, view)}, everyone},
		// An overwrite typed as a member for a role ID, or the reverse,
		// is not that role's or member's.
		{"TypeMatters", me, []string{roleA}, roles, []*dg.PermissionOverwrite{member(roleA, hooks, 0), role(me, 0, view)}, everyone | history},
		{"NoEveryoneRole", me, []string{roleA}, roles[1:], nil, history},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := &dg.Guild{ID: guild, OwnerID: owner, Roles: c.guildRoles}
			m := &dg.Member{User: &dg.User{ID: c.user}, Roles: c.roles}
			if got := channelPermissions(g, m, c.overwrites); got != c.want {
				t.Errorf("permissions = %#x, want %#x", got, c.want)
			}
		})
	}
}
