package discord

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	dg "github.com/bwmarrin/discordgo"

	"github.com/liaison-bot/liaison/config"
	"github.com/liaison-bot/liaison/internal/doctor"
	"github.com/liaison-bot/liaison/internal/redact"
)

// Application flags that say the Message Content intent is enabled
// (https://discord.com/developers/docs/resources/application#application-object-application-flags):
// the first for apps in 100 guilds or more (verified), the second for the
// others, toggled on the Bot page.
const (
	appFlagMessageContent        = 1 << 18
	appFlagMessageContentLimited = 1 << 19
)

// allPermissions stands for every permission: the guild owner's, or an
// administrator's.
const allPermissions int64 = 1<<53 - 1

// Doctor checks one Discord connection of the config with its token: see
// `liaison doctor`. It only reads what Discord shows the bot: who the token
// is, the application's flags, the guild's roles and the bot's, the
// channels' overwrites, the registered commands.
func Doctor(ctx context.Context, conn config.Connection, need doctor.Channels) []doctor.Check {
	d := &checkup{conn: conn, token: botToken(conn.Token.Reveal())}
	s, err := restSession(d.token, conn.APIURL, nil)
	if err != nil {
		d.fail("token", "cannot build a Discord client: "+d.describe(err), "check the connection's token and api_url")
		return d.checks
	}
	d.s = s
	d.run(ctx, need)
	return d.checks
}

// checkup is one run of the doctor on one connection.
type checkup struct {
	conn   config.Connection
	token  string
	s      *dg.Session
	checks []doctor.Check
}

func (d *checkup) pass(name, detail string) {
	d.checks = append(d.checks, doctor.Check{Conn: d.conn.Name, Name: name, OK: true, Detail: detail})
}

func (d *checkup) fail(name, detail, remedy string) {
	d.checks = append(d.checks, doctor.Check{Conn: d.conn.Name, Name: name, Detail: detail, Remedy: remedy})
}

// describe says what went wrong in a call, without the token.
func (d *checkup) describe(err error) string {
	var re *dg.RESTError
	if errors.As(err, &re) && re.Response != nil {
		if re.Message != nil && re.Message.Message != "" {
			return fmt.Sprintf("Discord answered %d: %s (code %d)", re.Response.StatusCode, re.Message.Message, re.Message.Code)
		}
		return fmt.Sprintf("Discord answered %s", re.Response.Status)
	}
	var rl *dg.RateLimitError
	if errors.As(err, &rl) && rl.RateLimit != nil && rl.TooManyRequests != nil {
		return fmt.Sprintf("rate limited by Discord for %s", rl.RetryAfter)
	}
	return redact.Error(hideTokens(err), d.token).Error()
}

// invite is the remedy that adds the bot to its guild, or adds it again
// with what is missing.
func (d *checkup) invite() string {
	return "invite the bot with the URL `liaison discord-invite --connection " + d.conn.Name + "` prints"
}

func (d *checkup) run(ctx context.Context, need doctor.Channels) {
	opt := dg.WithContext(ctx)
	me, err := d.s.User("@me", opt)
	if err != nil {
		if status, _ := restError(err); status == http.StatusUnauthorized {
			d.fail("token", "token invalid: Discord refuses it (401)",
				"reset it in the Developer Portal → your application → Bot → Reset Token, and put the new token in the connection's token")
		} else {
			d.fail("token", "cannot check the token: "+d.describe(err), "check that Discord (or api_url) is reachable from here, then run liaison doctor again")
		}
		return // nothing else can be checked without the bot
	}
	d.pass("token", fmt.Sprintf("valid: bot %s (%s)", me.Username, me.ID))

	appID := d.application(ctx, me.ID)
	g, member := d.guild(ctx, me.ID)
	if g == nil {
		return
	}
	d.channels(ctx, g, member, need)
	d.commands(ctx, appID)
}

// application checks the Message Content intent and the configured
// application_id, and returns the application's ID.
func (d *checkup) application(ctx context.Context, botID string) string {
	ep := dg.EndpointApplication("@me")
	body, err := d.s.RequestWithBucketID("GET", ep, nil, ep, dg.WithContext(ctx))
	var app dg.Application
	if err == nil {
		err = json.Unmarshal(body, &app)
	}
	if err != nil {
		d.fail("message content intent", "cannot read the application: "+d.describe(err), "run liaison doctor again; if it persists, check the intent by hand in the Developer Portal → Bot")
		return cmp.Or(d.conn.ApplicationID, botID)
	}
	if app.Flags&(appFlagMessageContent|appFlagMessageContentLimited) != 0 {
		d.pass("message content intent", "enabled")
	} else {
		d.fail("message content intent", "disabled: Discord refuses the gateway to a bot that asks for it (close code 4014), and Liaison asks: it needs the messages' text",
			"enable Message Content Intent in the Developer Portal → your application → Bot → Privileged Gateway Intents")
	}
	switch {
	case d.conn.ApplicationID == "":
		d.pass("application_id", fmt.Sprintf("not set; the token's application is %s (liaison discord-invite needs it)", app.ID))
	case d.conn.ApplicationID != app.ID:
		d.fail("application_id", fmt.Sprintf("%s, but the token belongs to application %s", d.conn.ApplicationID, app.ID),
			"set application_id to the Application ID of General Information in the Developer Portal, for the application whose bot token the connection has")
	default:
		d.pass("application_id", app.ID+", the token's application")
	}
	return app.ID
}

// guild checks that the bot is a member of the configured guild and
// returns the guild (with its roles) and the bot's member; nil when it is
// not there.
func (d *checkup) guild(ctx context.Context, botID string) (*dg.Guild, *dg.Member) {
	opt := dg.WithContext(ctx)
	id := d.conn.GuildID
	g, err := d.s.Guild(id, opt)
	var m *dg.Member
	if err == nil {
		m, err = d.s.GuildMember(id, botID, opt)
	}
	if err != nil {
		status, _ := restError(err)
		if status == http.StatusForbidden || status == http.StatusNotFound {
			d.fail("guild", fmt.Sprintf("the bot is not in guild %s (%s)", id, d.describe(err)), d.invite())
		} else {
			d.fail("guild", fmt.Sprintf("cannot read guild %s: %s", id, d.describe(err)), "run liaison doctor again")
		}
		return nil, nil
	}
	if m.User == nil {
		m.User = &dg.User{ID: botID}
	}
	d.pass("guild", fmt.Sprintf("the bot is in %s (%s)", g.Name, g.ID))
	return g, m
}

// usePermissions is what the bot needs in a channel for each use.
var usePermissions = map[doctor.Use]int64{
	doctor.UseWatched: WatchedPermissions,
	doctor.UseCards:   CardPermissions,
	doctor.UseDigest:  DigestPermissions,
}

// need is the union of what ch's uses need.
func need(ch doctor.Channel) int64 {
	var n int64
	for _, u := range ch.Uses {
		n |= usePermissions[u]
	}
	return n
}

// channels checks, for each channel of the config, that it exists in the
// guild and that the bot has there each permission its uses need,
// computed from the guild's roles, the bot's roles and the channel's
// overwrites (a thread's parent's for a thread).
func (d *checkup) channels(ctx context.Context, g *dg.Guild, m *dg.Member, channels doctor.Channels) {
	list := channels.Each()
	if len(list) == 0 {
		return
	}
	opt := dg.WithContext(ctx)
	all, err := d.s.GuildChannels(g.ID, opt)
	if err != nil {
		for _, c := range list {
			d.fail("channel "+c.ID, "cannot list the guild's channels: "+d.describe(err), "run liaison doctor again")
		}
		return
	}
	byID := map[string]*dg.Channel{}
	for _, c := range all {
		byID[c.ID] = c
	}
	// lookup finds a channel the listing left out: a thread, or a channel
	// the bot cannot see.
	lookup := func(id string) (*dg.Channel, error) {
		if c := byID[id]; c != nil {
			return c, nil
		}
		c, err := d.s.Channel(id, opt)
		if err == nil {
			byID[id] = c
		}
		return c, err
	}
	for _, want := range list {
		name := "channel " + want.ID
		uses, wanted := want.Label(), need(want)
		c, err := lookup(want.ID)
		if err != nil {
			switch status, code := restError(err); {
			case code == codeUnknownChannel || status == http.StatusNotFound:
				d.fail(name, fmt.Sprintf("(%s): does not exist", uses), "check the channel id in the config: in Discord, with Developer Mode on, right-click the channel → Copy Channel ID")
			case code == codeMissingAccess || status == http.StatusForbidden:
				d.fail(name, fmt.Sprintf("(%s): not visible to the bot: missing View Channel: %s", uses, without(PermViewChannel)), d.grant())
			default:
				d.fail(name, fmt.Sprintf("(%s): cannot be read: %s", uses, d.describe(err)), "run liaison doctor again")
			}
			continue
		}
		label := fmt.Sprintf("#%s (%s)", c.Name, uses)
		if c.GuildID != "" && c.GuildID != g.ID {
			d.fail(name, fmt.Sprintf("%s is in guild %s, not in the connection's guild %s", label, c.GuildID, g.ID), "use a channel of guild_id, or a connection for the other guild")
			continue
		}
		overwrites := c.PermissionOverwrites
		if c.IsThread() {
			parent, err := lookup(c.ParentID)
			if err != nil {
				d.fail(name, fmt.Sprintf("%s: cannot read its parent channel %s: %s", label, c.ParentID, d.describe(err)), d.grant())
				continue
			}
			overwrites = parent.PermissionOverwrites
		}
		have := channelPermissions(g, m, overwrites)
		missing := wanted &^ have
		if have&PermViewChannel == 0 {
			missing = PermViewChannel // nothing else counts where the bot sees nothing
		}
		if missing == 0 {
			d.pass(name, label+": "+strings.Join(permissionNames(wanted), ", "))
			continue
		}
		var why []string
		for _, p := range permissions {
			if missing&p.bit != 0 {
				why = append(why, "missing "+p.name+": "+p.without)
			}
		}
		d.fail(name, label+": "+strings.Join(why, "; "), d.grant())
	}
}

// grant is the remedy for permissions missing in a channel.
func (d *checkup) grant() string {
	return "allow them for the bot's role in the channel (Edit Channel → Permissions), or give them to the bot's role in Server Settings → Roles (a channel overwrite that denies them still wins)"
}

// without says what goes wrong without a permission.
func without(bit int64) string {
	for _, p := range permissions {
		if p.bit == bit {
			return p.without
		}
	}
	return ""
}

// channelPermissions computes a member's permissions in a channel by
// Discord's documented algorithm
// (https://discord.com/developers/docs/topics/permissions, "Permission
// Overwrites"): the guild's owner has every permission; otherwise the
// @everyone role's (its ID is the guild's) and the member's roles', every
// permission with Administrator; then the channel's @everyone overwrite,
// the member's roles' overwrites (their denies, then their allows,
// combined), and the member's own overwrite last.
func channelPermissions(g *dg.Guild, m *dg.Member, overwrites []*dg.PermissionOverwrite) int64 {
	var userID string
	if m.User != nil {
		userID = m.User.ID
	}
	if userID != "" && userID == g.OwnerID {
		return allPermissions
	}
	var p int64
	for _, r := range g.Roles {
		if r.ID == g.ID || slices.Contains(m.Roles, r.ID) {
			p |= r.Permissions
		}
	}
	if p&PermAdministrator != 0 {
		return allPermissions
	}
	for _, ow := range overwrites {
		if ow.Type == dg.PermissionOverwriteTypeRole && ow.ID == g.ID {
			p = p&^ow.Deny | ow.Allow
		}
	}
	var allow, deny int64
	for _, ow := range overwrites {
		if ow.Type == dg.PermissionOverwriteTypeRole && ow.ID != g.ID && slices.Contains(m.Roles, ow.ID) {
			allow |= ow.Allow
			deny |= ow.Deny
		}
	}
	p = p&^deny | allow
	for _, ow := range overwrites {
		if ow.Type == dg.PermissionOverwriteTypeMember && ow.ID == userID {
			p = p&^ow.Deny | ow.Allow
		}
	}
	return p
}

// commands checks that every application command Liaison registers is
// registered in the guild, matched by type and name.
func (d *checkup) commands(ctx context.Context, appID string) {
	const name = "commands"
	const remedy = "start `liaison run` once: it registers them in the guild; if it fails with Missing Access, the bot was invited without the " + ScopeApplicationsCommands + " scope: "
	got, err := d.s.ApplicationCommands(appID, d.conn.GuildID, dg.WithContext(ctx))
	if err != nil {
		d.fail(name, "cannot list the guild's commands: "+d.describe(err), remedy+d.invite())
		return
	}
	var have, missing []string
	for _, want := range commands() {
		label := commandLabel(want)
		if slices.ContainsFunc(got, func(c *dg.ApplicationCommand) bool { return c.Type == want.Type && c.Name == want.Name }) {
			have = append(have, label)
		} else {
			missing = append(missing, label)
		}
	}
	if len(missing) > 0 {
		d.fail(name, "not registered in the guild: "+strings.Join(missing, ", "), remedy+d.invite())
		return
	}
	d.pass(name, "registered: "+strings.Join(have, ", "))
}

// commandLabel names a command as a member meets it.
func commandLabel(c *dg.ApplicationCommand) string {
	switch c.Type {
	case dg.MessageApplicationCommand:
		return c.Name + " (message menu)"
	case dg.UserApplicationCommand:
		return c.Name + " (user menu)"
	}
	return "/" + c.Name
}
