package discord

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/liaison-bot/liaison/config"
)

// The permissions Liaison's bot needs, each with Discord's documented bit
// (https://discord.com/developers/docs/topics/permissions, "Bitwise
// Permission Flags") and the adapter's calls that need it. Nothing else is
// asked: no Administrator, no Manage Messages, no Manage Threads (the bot
// renames and archives only the card threads it started, which their
// creator may do: "Editing & Deleting Threads" in
// https://discord.com/developers/docs/topics/threads).
const (
	// PermViewChannel: message events of a watched channel reach the
	// gateway only where the bot sees it; GET /channels/{id}; listing
	// messages (catch-up, Find) needs it too.
	PermViewChannel int64 = 1 << 10
	// PermSendMessages: POST /channels/{id}/messages in a card channel:
	// cards, digests, notes of an item without a thread.
	PermSendMessages int64 = 1 << 11
	// PermEmbedLinks: cards, draft cards and digests are embeds.
	PermEmbedLinks int64 = 1 << 14
	// PermAttachFiles: a digest's chart is an uploaded file.
	PermAttachFiles int64 = 1 << 15
	// PermReadMessageHistory: catching up (GET /channels/{id}/messages,
	// public archived threads), Find after a lost call, reading a
	// published reply's author before correcting it; without it Discord
	// lists no message.
	PermReadMessageHistory int64 = 1 << 16
	// PermManageWebhooks: listing and creating the channel webhook through
	// which replies are posted under the staff member's name and avatar.
	PermManageWebhooks int64 = 1 << 29
	// PermCreatePublicThreads: starting each card's discussion thread
	// (POST /channels/{id}/messages/{id}/threads).
	PermCreatePublicThreads int64 = 1 << 35
	// PermSendMessagesInThreads: notes, draft cards and notices in a card's
	// thread (Send Messages does not apply in threads).
	PermSendMessagesInThreads int64 = 1 << 38

	// PermAdministrator is never asked; the doctor honours it, as Discord
	// does, when an admin gives it.
	PermAdministrator int64 = 1 << 3
)

// What the bot needs in a watched (public) channel, in a card (internal)
// channel and in a digest's channel: the doctor checks each channel of the
// config against the sets of its uses, and the invite asks for them all.
const (
	WatchedPermissions = PermViewChannel | PermReadMessageHistory | PermManageWebhooks
	CardPermissions    = PermViewChannel | PermSendMessages | PermEmbedLinks |
		PermReadMessageHistory | PermCreatePublicThreads | PermSendMessagesInThreads
	// DigestPermissions: a digest's post, with its chart as a file.
	DigestPermissions = PermViewChannel | PermSendMessages | PermEmbedLinks | PermAttachFiles | PermReadMessageHistory
	InvitePermissions = WatchedPermissions | CardPermissions | DigestPermissions
)

// The OAuth2 scopes of the invite
// (https://discord.com/developers/docs/topics/oauth2#shared-resources-oauth2-scopes):
// the bot user, and the application commands (/liaison and the menus) it
// registers in the guild.
const (
	ScopeBot                  = "bot"
	ScopeApplicationsCommands = "applications.commands"
)

// permission names a permission bit as Discord's client shows it, and says
// what goes wrong without it.
type permission struct {
	bit     int64
	name    string
	without string
}

// permissions are Liaison's, in the order the doctor lists them.
var permissions = []permission{
	{PermViewChannel, "View Channel", "the bot does not see the channel: nothing is relayed from it or posted in it"},
	{PermSendMessages, "Send Messages", "cards and digests cannot be posted"},
	{PermEmbedLinks, "Embed Links", "cards, draft cards and digests are refused (they are embeds)"},
	{PermAttachFiles, "Attach Files", "digests are refused (their chart is a file)"},
	{PermReadMessageHistory, "Read Message History", "messages said while Liaison was away are not caught up, and an interrupted post cannot be checked before it is retried"},
	{PermManageWebhooks, "Manage Webhooks", "replies go out with a signature line instead of the person's name"},
	{PermCreatePublicThreads, "Create Public Threads", "cards get no discussion thread"},
	{PermSendMessagesInThreads, "Send Messages in Threads", "notes, draft cards and notices cannot be posted in a card's thread"},
}

// permissionNames lists the names of the bits of set, in Liaison's order.
func permissionNames(set int64) []string {
	var out []string
	for _, p := range permissions {
		if set&p.bit != 0 {
			out = append(out, p.name)
		}
	}
	return out
}

// InviteURL is the OAuth2 URL that adds application appID's bot to a guild
// with Liaison's scopes and permissions; with a guild, that guild is
// picked and cannot be changed
// (https://discord.com/developers/docs/topics/oauth2#bot-authorization-flow).
func InviteURL(appID, guildID string) string {
	var b strings.Builder
	b.WriteString("https://discord.com/oauth2/authorize?client_id=")
	b.WriteString(url.QueryEscape(appID))
	b.WriteString("&scope=" + ScopeBot + "+" + ScopeApplicationsCommands)
	b.WriteString("&permissions=" + strconv.FormatInt(InvitePermissions, 10))
	if guildID != "" {
		b.WriteString("&guild_id=" + url.QueryEscape(guildID) + "&disable_guild_select=true")
	}
	return b.String()
}

// ErrNoApplicationID says where to find what the invite needs.
var ErrNoApplicationID = errors.New("no application_id: copy it from the Discord Developer Portal → your application → General Information → Application ID")

// Invite is the invite URL of a Discord connection of the config.
func Invite(conn config.Connection) (string, error) {
	if conn.Platform != config.Discord {
		return "", fmt.Errorf("connection %s is not a Discord connection", conn.Name)
	}
	if conn.ApplicationID == "" {
		return "", fmt.Errorf("connection %s: %w", conn.Name, ErrNoApplicationID)
	}
	return InviteURL(conn.ApplicationID, conn.GuildID), nil
}
