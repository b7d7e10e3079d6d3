package discord

import (
	"errors"
	"math/bits"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/liaison-bot/liaison/config"
)

// TestPermissionBits: each constant is Discord's documented bit, written
// here as the literal of the "Bitwise Permission Flags" table of
// https://discord.com/developers/docs/topics/permissions.
func TestPermissionBits(t *testing.T) {
	for _, c := range []struct {
		name string
		got  int64
		want int64
	}{
		{"ADMINISTRATOR", PermAdministrator, 0x0000000000000008},
		{"VIEW_CHANNEL", PermViewChannel, 0x0000000000000400},
		{"SEND_MESSAGES", PermSendMessages, 0x0000000000000800},
		{"EMBED_LINKS", PermEmbedLinks, 0x0000000000004000},
		{"ATTACH_FILES", PermAttachFiles, 0x0000000000008000},
		{"READ_MESSAGE_HISTORY", PermReadMessageHistory, 0x0000000000010000},
		{"MANAGE_WEBHOOKS", PermManageWebhooks, 0x0000000020000000},
		{"CREATE_PUBLIC_THREADS", PermCreatePublicThreads, 0x0000000800000000},
		{"SEND_MESSAGES_IN_THREADS", PermSendMessagesInThreads, 0x0000004000000000},
	} {
		if c.got != c.want {
			t.Errorf("%s = %#x, want %#x", c.name, c.got, c.want)
		}
	}
}

// setBits lists the bit positions of a permission integer.
func setBits(p int64) []int {
	var out []int
	for u := uint64(p); u != 0; u &= u - 1 {
		out = append(out, bits.TrailingZeros64(u))
	}
	return out
}

// TestPermissionSets: what each kind of channel needs, bit by bit, and that
// every bit asked has a name for the doctor.
func TestPermissionSets(t *testing.T) {
	for _, c := range []struct {
		name string
		set  int64
		want []int
	}{
		// View Channel, Read Message History, Manage Webhooks.
		{"watched", WatchedPermissions, []int{10, 16, 29}},
		// View Channel, Send Messages, Embed Links, Read Message History,
		// Create Public Threads, Send Messages in Threads.
		{"cards", CardPermissions, []int{10, 11, 14, 16, 35, 38}},
		// View Channel, Send Messages, Embed Links, Attach Files, Read
		// Message History.
		{"digest", DigestPermissions, []int{10, 11, 14, 15, 16}},
		{"invite", InvitePermissions, []int{10, 11, 14, 15, 16, 29, 35, 38}},
	} {
		if got := setBits(c.set); !slices.Equal(got, c.want) {
			t.Errorf("%s permissions = bits %v, want %v", c.name, got, c.want)
		}
		if got := len(permissionNames(c.set)); got != len(c.want) {
			t.Errorf("%s: %d of %d bits have a name", c.name, got, len(c.want))
		}
	}
}

func TestInviteURL(t *testing.T) {
	t.Run("Guild", func(t *testing.T) {
		got := InviteURL("1098765432109870001", "1098765432109876543")
		want := "https://discord.com/oauth2/authorize?client_id=1098765432109870001&scope=bot+applications.commands&permissions=309774633984&guild_id=1098765432109876543&disable_guild_select=true"
		if got != want {
			t.Fatalf("URL =\n %s\nwant\n %s", got, want)
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		if q.Get("client_id") != "1098765432109870001" || q.Get("guild_id") != "1098765432109876543" || q.Get("disable_guild_select") != "true" {
			t.Errorf("query = %v", q)
		}
		if scopes := strings.Fields(q.Get("scope")); !slices.Equal(scopes, []string{"bot", "applications.commands"}) {
			t.Errorf("scopes = %q", scopes)
		}
		p, err := strconv.ParseInt(q.Get("permissions"), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		// The integer decodes to exactly: View Channel (10), Send Messages
		// (11), Embed Links (14), Attach Files (15), Read Message History
		// (16), Manage Webhooks (29), Create Public Threads (35), Send
		// Messages in Threads (38). No Administrator (3).
		if got := setBits(p); !slices.Equal(got, []int{10, 11, 14, 15, 16, 29, 35, 38}) {
			t.Errorf("permissions %d = bits %v", p, got)
		}
	})
	t.Run("NoGuild", func(t *testing.T) {
		got := InviteURL("1098765432109870001", "")
		if strings.Contains(got, "guild_id") || strings.Contains(got, "disable_guild_select") {
			t.Errorf("URL without a guild = %s", got)
		}
	})
}

func TestInvite(t *testing.T) {
	conn := config.Connection{Name: "community", Platform: config.Discord, GuildID: "1098765432109876543", ApplicationID: "1098765432109870001"}
	t.Run("OK", func(t *testing.T) {
		got, err := Invite(conn)
		if err != nil || got != InviteURL(conn.ApplicationID, conn.GuildID) {
			t.Fatalf("Invite = %q, %v", got, err)
		}
	})
	t.Run("ErrNoApplicationID", func(t *testing.T) {
		c := conn
		c.ApplicationID = ""
		got, err := Invite(c)
		if !errors.Is(err, ErrNoApplicationID) || got != "" {
			t.Fatalf("Invite = %q, %v; want ErrNoApplicationID", got, err)
		}
		for _, want := range []string{"community", "Developer Portal", "General Information", "Application ID"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		}
	})
	t.Run("ErrNotDiscord", func(t *testing.T) {
		c := conn
		c.Platform = config.Slack
		if _, err := Invite(c); err == nil {
			t.Fatal("a Slack connection got a Discord invite")
		}
	})
}
