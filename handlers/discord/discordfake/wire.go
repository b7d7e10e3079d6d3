package discordfake

// The JSON shapes Discord sends, built from the examples in Discord's documentation; see
// testdata/SOURCES.md for which example each function follows.

import (
	"crypto/sha1"
	"encoding/hex"
	"strconv"
	"time"
)

type obj = map[string]any

// timestamp formats a time as Discord does: 2017-07-11T17:27:07.299000+00:00.
func timestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000+00:00")
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func permString(p int64) string { return strconv.FormatInt(p, 10) }

// avatarHash stands in for the hash Discord stores for an avatar_url override.
func avatarHash(url string) string {
	sum := sha1.Sum([]byte(url))
	return hex.EncodeToString(sum[:16])
}

func wireUser(u User) obj {
	o := obj{
		"id":                     u.ID,
		"username":               u.Username,
		"discriminator":          "0",
		"global_name":            nullable(u.GlobalName),
		"avatar":                 nullable(u.Avatar),
		"public_flags":           0,
		"flags":                  0,
		"banner":                 nil,
		"accent_color":           nil,
		"avatar_decoration_data": nil,
	}
	if u.Bot {
		o["bot"] = true
	}
	return o
}

// wireAuthor is the author of a message: a user, or the pseudo-user of a webhook post.
func wireAuthor(m *message) obj {
	if m.WebhookID != "" && m.Author.ID == m.WebhookID {
		return obj{
			"id":            m.Author.ID,
			"username":      m.Author.Username,
			"avatar":        nullable(m.Author.Avatar),
			"discriminator": "0000",
			"global_name":   nil,
			"public_flags":  0,
			"flags":         0,
			"bot":           true,
		}
	}
	return wireUser(m.Author)
}

func wireMember(m *Member, withUser bool) obj {
	roles := m.Roles
	if roles == nil {
		roles = []string{}
	}
	o := obj{
		"nick":                         nullable(m.Nick),
		"avatar":                       nil,
		"banner":                       nil,
		"roles":                        roles,
		"joined_at":                    timestamp(m.JoinedAt),
		"premium_since":                nil,
		"deaf":                         false,
		"mute":                         false,
		"flags":                        0,
		"pending":                      false,
		"communication_disabled_until": nil,
	}
	if withUser {
		o["user"] = wireUser(m.User)
	}
	return o
}

func wireRole(r Role, position int) obj {
	return obj{
		"id":            r.ID,
		"name":          r.Name,
		"color":         0,
		"hoist":         false,
		"icon":          nil,
		"unicode_emoji": nil,
		"position":      position,
		"permissions":   permString(r.Permissions),
		"managed":       r.Managed,
		"mentionable":   r.Mentionable,
		"flags":         0,
	}
}

// wireChannel builds a channel object. Callers hold f.mu.
func (f *Fake) wireChannel(c *channelState) obj {
	if c.Type == ChannelDM {
		var recipients []obj
		if u := f.users[c.recipient]; u != nil {
			recipients = append(recipients, wireUser(*u))
		}
		return obj{
			"id":              c.ID,
			"type":            int(c.Type),
			"last_message_id": nullable(c.lastMessageID),
			"flags":           0,
			"recipients":      recipients,
		}
	}
	o := obj{
		"id":                    c.ID,
		"type":                  int(c.Type),
		"guild_id":              c.GuildID,
		"name":                  c.Name,
		"parent_id":             nullable(c.ParentID),
		"last_message_id":       nullable(c.lastMessageID),
		"rate_limit_per_user":   0,
		"flags":                 0,
		"nsfw":                  false,
		"permission_overwrites": wireOverwrites(c.Overwrites),
		"position":              f.channelPosition(c),
	}
	switch {
	case c.Type.IsThread():
		delete(o, "permission_overwrites")
		delete(o, "position")
		o["owner_id"] = c.OwnerID
		o["message_count"] = c.messageCount
		o["total_message_sent"] = c.totalSent
		o["member_count"] = 1
		archivedAt := c.createdAt
		if !c.archivedAt.IsZero() {
			archivedAt = c.archivedAt
		}
		meta := obj{
			"archived":              c.archived,
			"auto_archive_duration": c.autoArchive,
			"archive_timestamp":     timestamp(archivedAt),
			"locked":                false,
			"create_timestamp":      timestamp(c.createdAt),
		}
		if c.Type == ChannelPrivateThread {
			meta["invitable"] = true
		}
		o["thread_metadata"] = meta
		if p := f.channels[c.ParentID]; p != nil && p.Type == ChannelForum {
			o["applied_tags"] = []string{}
		}
	case c.Type == ChannelForum:
		o["topic"] = nullable(c.Topic)
		o["available_tags"] = []any{}
		o["default_reaction_emoji"] = nil
		o["default_sort_order"] = nil
		o["default_forum_layout"] = 0
		o["default_thread_rate_limit_per_user"] = 0
		o["template"] = ""
	case c.Type == ChannelCategory:
		delete(o, "last_message_id")
		delete(o, "rate_limit_per_user")
	default:
		o["topic"] = nullable(c.Topic)
	}
	return o
}

func (f *Fake) channelPosition(c *channelState) int {
	g := f.guilds[c.GuildID]
	if g == nil {
		return 0
	}
	n := 0
	for _, id := range g.channelOrder {
		if id == c.ID {
			return n
		}
		if cc := f.channels[id]; cc != nil && !cc.Type.IsThread() {
			n++
		}
	}
	return n
}

// wireGuild builds a guild object; withState adds the GUILD_CREATE fields. Callers hold f.mu.
func (f *Fake) wireGuild(g *guildState, withState bool, allMembers bool) obj {
	roles := make([]obj, 0, len(g.roles))
	for i, r := range g.roles {
		roles = append(roles, wireRole(r, i))
	}
	o := obj{
		"id":                            g.id,
		"name":                          g.name,
		"icon":                          nil,
		"description":                   nil,
		"splash":                        nil,
		"discovery_splash":              nil,
		"banner":                        nil,
		"owner_id":                      g.ownerID,
		"afk_channel_id":                nil,
		"afk_timeout":                   300,
		"widget_enabled":                false,
		"verification_level":            0,
		"default_message_notifications": 0,
		"explicit_content_filter":       0,
		"roles":                         roles,
		"emojis":                        []any{},
		"stickers":                      []any{},
		"features":                      []string{},
		"mfa_level":                     0,
		"application_id":                nil,
		"system_channel_id":             nil,
		"system_channel_flags":          0,
		"rules_channel_id":              nil,
		"vanity_url_code":               nil,
		"premium_tier":                  0,
		"premium_subscription_count":    0,
		"preferred_locale":              "en-US",
		"public_updates_channel_id":     nil,
		"nsfw_level":                    0,
		"premium_progress_bar_enabled":  false,
		"max_members":                   500000,
		"max_video_channel_users":       25,
	}
	if !withState {
		return o
	}
	var channels, threads, members []obj
	for _, id := range g.channelOrder {
		c := f.channels[id]
		if c == nil {
			continue
		}
		w := f.wireChannel(c)
		delete(w, "guild_id") // GUILD_CREATE omits it; clients fill it in
		if c.Type.IsThread() {
			threads = append(threads, w)
		} else {
			channels = append(channels, w)
		}
	}
	for _, id := range g.memberOrder {
		if allMembers || id == f.bot.ID {
			members = append(members, wireMember(g.members[id], true))
		}
	}
	o["joined_at"] = timestamp(g.joinedAt)
	o["large"] = false
	o["unavailable"] = false
	o["lazy"] = true
	o["member_count"] = len(g.memberOrder)
	o["voice_states"] = []any{}
	o["members"] = members
	o["channels"] = orEmpty(channels)
	o["threads"] = orEmpty(threads)
	o["presences"] = []any{}
	o["stage_instances"] = []any{}
	o["guild_scheduled_events"] = []any{}
	o["soundboard_sounds"] = []any{}
	return o
}

func orEmpty(s []obj) []obj {
	if s == nil {
		return []obj{}
	}
	return s
}

// wireOpts says for whom a message object is built.
type wireOpts struct {
	gateway bool // a dispatch: adds guild_id and the author's partial member
	blank   bool // the reader lacks MESSAGE_CONTENT: apply blankFor
	nested  bool // a referenced_message: no further nesting
}

// contentVisible reports whether a reader without MESSAGE_CONTENT still sees the message's
// content: the app's own messages, DMs and messages that mention the bot. Callers hold f.mu.
func (f *Fake) contentVisible(m *message) bool {
	if m.GuildID == "" || f.appOwned(m) {
		return true
	}
	for _, id := range m.Mentions {
		if id == f.bot.ID {
			return true
		}
	}
	return false
}

// wireMessage builds a message object. Callers hold f.mu.
func (f *Fake) wireMessage(m *message, wo wireOpts) obj {
	mentions := make([]obj, 0, len(m.Mentions))
	for _, id := range m.Mentions {
		if u := f.users[id]; u != nil {
			mentions = append(mentions, wireUser(*u))
		}
	}
	mentionRoles := m.MentionRoles
	if mentionRoles == nil {
		mentionRoles = []string{}
	}
	o := obj{
		"id":               m.ID,
		"type":             m.Type,
		"content":          m.Content,
		"channel_id":       m.ChannelID,
		"author":           wireAuthor(m),
		"attachments":      orEmptyT(m.Attachments),
		"embeds":           orEmptyT(m.Embeds),
		"mentions":         mentions,
		"mention_roles":    mentionRoles,
		"pinned":           false,
		"mention_everyone": m.MentionEveryone,
		"tts":              false,
		"timestamp":        timestamp(m.Timestamp),
		"edited_timestamp": nil,
		"flags":            m.Flags,
		"components":       orEmptyT(m.Components),
	}
	if m.Edited {
		o["edited_timestamp"] = timestamp(m.EditedAt)
	}
	if m.Nonce != "" && !wo.nested {
		o["nonce"] = m.Nonce
	}
	if m.WebhookID != "" {
		o["webhook_id"] = m.WebhookID
	}
	if m.ApplicationID != "" {
		o["application_id"] = m.ApplicationID
	}
	if c := f.channels[m.ChannelID]; c != nil && c.Type.IsThread() {
		o["position"] = m.position
	}
	if ref := m.MessageReference; ref != nil {
		r := obj{"type": 0, "message_id": ref.MessageID, "channel_id": ref.ChannelID}
		if ref.GuildID != "" {
			r["guild_id"] = ref.GuildID
		}
		o["message_reference"] = r
		if !wo.nested {
			if rm := f.messages[ref.MessageID]; rm != nil && !rm.Deleted {
				o["referenced_message"] = f.wireMessage(rm, wireOpts{blank: wo.blank, nested: true})
			} else {
				o["referenced_message"] = nil
			}
		}
	}
	if m.ThreadID != "" && !wo.nested {
		if t := f.channels[m.ThreadID]; t != nil {
			o["thread"] = f.wireChannel(t)
		}
	}
	if in := m.interaction; in != nil {
		u := f.users[in.userID]
		meta := obj{
			"id":                             in.id,
			"type":                           in.typ,
			"authorizing_integration_owners": f.integrationOwners(in),
		}
		if u != nil {
			meta["user"] = wireUser(*u)
		}
		if in.messageID != "" {
			meta["interacted_message_id"] = in.messageID
		}
		if in.originalID != "" && in.originalID != m.ID {
			meta["original_response_message_id"] = in.originalID
		}
		o["interaction_metadata"] = meta
		if in.typ == 2 && u != nil {
			o["interaction"] = obj{"id": in.id, "type": in.typ, "name": in.commandName, "user": wireUser(*u)}
		}
	}
	if wo.gateway && m.GuildID != "" {
		o["guild_id"] = m.GuildID
		if m.WebhookID == "" {
			if mem := f.member(m.GuildID, m.Author.ID); mem != nil {
				o["member"] = wireMember(mem, false)
			}
		}
	}
	if wo.blank && !f.contentVisible(m) {
		o["content"] = ""
		o["embeds"] = []any{}
		o["attachments"] = []any{}
		o["components"] = []any{}
	}
	return o
}

func orEmptyT[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (f *Fake) integrationOwners(in *interaction) obj {
	if in.guildID != "" {
		return obj{"0": in.guildID}
	}
	return obj{"1": in.userID}
}

// wireInteraction builds an interaction object around data. Callers hold f.mu.
func (f *Fake) wireInteraction(in *interaction, data obj) obj {
	o := obj{
		"id":                             in.id,
		"application_id":                 f.appID,
		"type":                           in.typ,
		"data":                           data,
		"channel_id":                     in.channelID,
		"token":                          in.token,
		"version":                        1,
		"locale":                         "en-US",
		"entitlements":                   []any{},
		"entitlement_sku_ids":            []any{},
		"app_permissions":                permString(f.botPerms(in.channelID)),
		"attachment_size_limit":          10485760,
		"authorizing_integration_owners": f.integrationOwners(in),
	}
	if c := f.channels[in.channelID]; c != nil {
		ch := f.wireChannel(c)
		ch["permissions"] = permString(PermAll)
		o["channel"] = ch
	}
	if in.guildID != "" {
		o["guild_id"] = in.guildID
		o["guild"] = obj{"id": in.guildID, "locale": "en-US", "features": []string{}}
		o["guild_locale"] = "en-US"
		o["context"] = 0
		if mem := f.member(in.guildID, in.userID); mem != nil {
			w := wireMember(mem, true)
			w["permissions"] = permString(PermAll)
			o["member"] = w
		}
	} else {
		o["context"] = 1
		if u := f.users[in.userID]; u != nil {
			o["user"] = wireUser(*u)
		}
	}
	if in.messageID != "" {
		if m := f.messages[in.messageID]; m != nil {
			o["message"] = f.wireMessage(m, wireOpts{})
		}
	}
	return o
}

// wireWebhook builds a webhook object; withToken adds the token (creator's view).
func (f *Fake) wireWebhook(w *Webhook, withUser bool) obj {
	o := obj{
		"id":             w.ID,
		"type":           1,
		"guild_id":       w.GuildID,
		"channel_id":     w.ChannelID,
		"name":           w.Name,
		"avatar":         nullable(w.Avatar),
		"token":          w.Token,
		"application_id": nullable(w.ApplicationID),
	}
	if withUser {
		if u := f.users[w.CreatedBy]; u != nil {
			o["user"] = wireUser(*u)
		}
	}
	return o
}
