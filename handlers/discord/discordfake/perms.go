package discordfake

import (
	"fmt"
	"net/http"
	"slices"
)

// Permissions as Discord holds them: guild roles with a permission bitset (the @everyone role
// has the guild's ID), the roles of each member, and each channel's permission overwrites;
// threads take their parent's. The bot's permissions in a channel, which the REST routes
// enforce, are computed from exactly what GET /guilds/{id}, /guilds/{id}/roles,
// /guilds/{id}/members/{user} and /channels/{id} show, by the algorithm of
// https://discord.com/developers/docs/topics/permissions ("Permission Overwrites"), so that a
// client that does the same maths finds what the fake enforces.

// Permission bits the permission maths and the setters use, besides those in types.go.
const (
	PermAdministrator int64 = 1 << 3

	// DefaultEveryonePermissions are the @everyone role's in a new guild, as Discord's
	// client creates it (no Manage Webhooks, no Manage Threads).
	DefaultEveryonePermissions int64 = 1071698660929
	// DefaultBotRolePermissions are the bot's managed role's unless a test changes them:
	// every permission but Administrator, which would make overwrites moot.
	DefaultBotRolePermissions = PermAll &^ PermAdministrator
)

// OverwriteType says whom an overwrite is for.
type OverwriteType int

// Overwrite types (https://discord.com/developers/docs/resources/channel#overwrite-object).
const (
	OverwriteRole   OverwriteType = 0
	OverwriteMember OverwriteType = 1
)

// Overwrite is a channel's permission overwrite for a role (the guild's ID for @everyone) or a
// member.
type Overwrite struct {
	ID    string
	Type  OverwriteType
	Allow int64
	Deny  int64
}

// checkOverwrites refuses overwrites Discord would not hold: on a thread, of an unknown type,
// for a role the guild lacks, or two for one ID.
func checkOverwrites(g *guildState, c Channel) error {
	if len(c.Overwrites) > 0 && c.Type.IsThread() {
		return fmt.Errorf("discordfake: thread %s: threads have no overwrites of their own (they take their parent's)", c.ID)
	}
	seen := map[string]bool{}
	for _, ow := range c.Overwrites {
		switch {
		case ow.Type != OverwriteRole && ow.Type != OverwriteMember:
			return fmt.Errorf("discordfake: channel %s: overwrite %s has type %d (want 0 role or 1 member)", c.ID, ow.ID, ow.Type)
		case ow.Type == OverwriteRole && !g.hasRole(ow.ID):
			return fmt.Errorf("discordfake: channel %s: overwrite for unknown role %s", c.ID, ow.ID)
		case ow.Type == OverwriteMember && !isSnowflake(ow.ID):
			return fmt.Errorf("discordfake: channel %s: overwrite for member %q: not a snowflake", c.ID, ow.ID)
		case seen[ow.ID]:
			return fmt.Errorf("discordfake: channel %s: two overwrites for %s", c.ID, ow.ID)
		}
		seen[ow.ID] = true
	}
	return nil
}

// permissions computes what userID may do in channel c, by Discord's documented algorithm:
// the guild's owner may do anything; otherwise the @everyone role's permissions and those of
// the member's roles, everything with Administrator; then the channel's @everyone
// overwrite, the member's roles' overwrites (denies, then allows, combined), and the member's
// own overwrite last. A thread takes its parent's overwrites. Callers hold f.mu.
func (f *Fake) permissions(userID string, c *channelState) int64 {
	if c.Type == ChannelDM {
		return PermAll
	}
	g := f.guilds[c.GuildID]
	if g == nil {
		return 0
	}
	if c.Type.IsThread() {
		if p := f.channels[c.ParentID]; p != nil {
			c = p
		}
	}
	if userID == g.ownerID {
		return PermAll
	}
	m := g.members[userID]
	if m == nil {
		return 0
	}
	var p int64
	if r := g.role(g.id); r != nil {
		p = r.Permissions
	}
	for _, id := range m.Roles {
		if r := g.role(id); r != nil {
			p |= r.Permissions
		}
	}
	if p&PermAdministrator != 0 {
		return PermAll
	}
	for _, ow := range c.Overwrites {
		if ow.Type == OverwriteRole && ow.ID == g.id {
			p = p&^ow.Deny | ow.Allow
		}
	}
	var allow, deny int64
	for _, ow := range c.Overwrites {
		if ow.Type == OverwriteRole && ow.ID != g.id && slices.Contains(m.Roles, ow.ID) {
			allow |= ow.Allow
			deny |= ow.Deny
		}
	}
	p = p&^deny | allow
	for _, ow := range c.Overwrites {
		if ow.Type == OverwriteMember && ow.ID == userID {
			p = p&^ow.Deny | ow.Allow
		}
	}
	return p
}

// botPerms is the bot's permission bitset in a channel. Callers hold f.mu.
func (f *Fake) botPerms(channelID string) int64 {
	c := f.channels[channelID]
	if c == nil {
		return 0
	}
	return f.permissions(f.bot.ID, c)
}

// BotPermissionsIn is the bot's permission bitset in a channel (a thread: its parent's), as
// the fake computes and enforces it.
func (f *Fake) BotPermissionsIn(channelID string) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.botPerms(channelID)
}

// SetBotPermissions makes the bot's permissions in a channel exactly perms (but
// Administrator) with a member overwrite for the bot that allows perms and denies the rest.
// Threads have no overwrites: for a thread it is set on the thread's parent, whose threads
// all take it. It panics on a channel the fake does not know. Roles that make the bot an
// administrator, or the bot owning the guild, outweigh any overwrite, as on Discord.
func (f *Fake) SetBotPermissions(channelID string, perms int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.setBotPermissionsLocked(channelID, perms); err != nil {
		panic(err)
	}
	f.notifyLocked()
}

func (f *Fake) setBotPermissionsLocked(channelID string, perms int64) error {
	c := f.channels[channelID]
	if c == nil || c.Type == ChannelDM {
		return fmt.Errorf("discordfake: SetBotPermissions: %s is not a guild channel of the fake", channelID)
	}
	if c.Type.IsThread() {
		c = f.channels[c.ParentID]
	}
	channelBits := PermAll &^ PermAdministrator
	f.putOverwrite(c, Overwrite{ID: f.bot.ID, Type: OverwriteMember, Allow: perms & channelBits, Deny: channelBits &^ perms})
	return nil
}

// putOverwrite adds ow to c's overwrites, replacing the one for the same ID. The slice is
// replaced, never changed in place: copies handed out stay as they were. Callers hold f.mu.
func (f *Fake) putOverwrite(c *channelState, ow Overwrite) {
	out := make([]Overwrite, 0, len(c.Overwrites)+1)
	for _, o := range c.Overwrites {
		if o.ID != ow.ID {
			out = append(out, o)
		}
	}
	c.Overwrites = append(out, ow)
}

// SetOverwrite adds a permission overwrite to a guild channel, or replaces the one for the
// same role or member. Threads take their parent's and have none of their own.
func (f *Fake) SetOverwrite(channelID string, ow Overwrite) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.channels[channelID]
	if c == nil || c.Type == ChannelDM {
		return fmt.Errorf("discordfake: SetOverwrite: %s is not a guild channel of the fake", channelID)
	}
	try := c.Channel
	try.Overwrites = []Overwrite{ow}
	if err := checkOverwrites(f.guilds[c.GuildID], try); err != nil {
		return err
	}
	f.putOverwrite(c, ow)
	f.notifyLocked()
	return nil
}

// SetRolePermissions changes a role's permission bitset; the @everyone role's ID is the
// guild's, the bot's own role is BotRoleID.
func (f *Fake) SetRolePermissions(guildID, roleID string, perms int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.guilds[guildID]
	if g == nil {
		return fmt.Errorf("discordfake: SetRolePermissions: unknown guild %s", guildID)
	}
	r := g.role(roleID)
	if r == nil {
		return fmt.Errorf("discordfake: SetRolePermissions: guild %s has no role %s", guildID, roleID)
	}
	r.Permissions = perms
	f.notifyLocked()
	return nil
}

// SetMemberRoles replaces a member's roles (the @everyone role is implicit). For the bot,
// leaving out BotRoleID takes away what its own role gives.
func (f *Fake) SetMemberRoles(guildID, userID string, roles []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.guilds[guildID]
	if g == nil {
		return fmt.Errorf("discordfake: SetMemberRoles: unknown guild %s", guildID)
	}
	m := g.members[userID]
	if m == nil {
		return fmt.Errorf("discordfake: SetMemberRoles: %s is not a member of guild %s", userID, guildID)
	}
	for _, r := range roles {
		if r == g.id || !g.hasRole(r) {
			return fmt.Errorf("discordfake: SetMemberRoles: guild %s has no role %s to give", guildID, r)
		}
	}
	m.Roles = slices.Clone(roles)
	f.notifyLocked()
	return nil
}

// BotRoleID is the bot's managed role in a guild: the role Discord makes when a bot is invited
// with permissions. "" for a guild the fake does not hold.
func (f *Fake) BotRoleID(guildID string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if g := f.guilds[guildID]; g != nil {
		return g.botRole
	}
	return ""
}

// wireOverwrites builds a channel's permission_overwrites
// (https://discord.com/developers/docs/resources/channel#overwrite-object).
func wireOverwrites(ows []Overwrite) []any {
	out := make([]any, 0, len(ows))
	for _, ow := range ows {
		out = append(out, obj{"id": ow.ID, "type": int(ow.Type), "allow": permString(ow.Allow), "deny": permString(ow.Deny)})
	}
	return out
}

// getCurrentApplication is GET /applications/@me
// (https://discord.com/developers/docs/resources/application#get-current-application): the
// application object of the bot's app, whose flags say which privileged intents the
// developer portal enables (see appFlags).
func (f *Fake) getCurrentApplication(*request) (int, any, *apiError) {
	bot := wireUser(f.bot)
	return http.StatusOK, obj{
		"id":                                f.appID,
		"name":                              f.bot.Username,
		"icon":                              nil,
		"description":                       "",
		"bot_public":                        true,
		"bot_require_code_grant":            false,
		"bot":                               bot,
		"verify_key":                        "1e0a356058d627ca38a5c8c9648818061d49e49bd9da9e3ab17d98ad4d6b0000",
		"team":                              nil,
		"flags":                             f.appFlags(),
		"approximate_guild_count":           len(f.guildOrder),
		"redirect_uris":                     []string{},
		"interactions_endpoint_url":         nil,
		"role_connections_verification_url": nil,
		"event_webhooks_url":                nil,
		"event_webhooks_status":             1,
		"integration_types_config": obj{
			"0": obj{"oauth2_install_params": obj{"scopes": []string{"applications.commands", "bot"}, "permissions": permString(DefaultBotRolePermissions)}},
		},
	}, nil
}
