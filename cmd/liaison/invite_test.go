package main

import (
	"context"
	"strings"
	"testing"
)

// twoGuilds is a config with two Discord connections, the second without
// its application_id.
const twoGuilds = `
company: Acme
database: {sqlite_path: unused.db}
connections:
  - {name: community, platform: discord, role: public, token: "${PUB_TOKEN}", guild_id: "2100000000000000001", application_id: "2100000000000000900"}
  - {name: staff, platform: discord, role: internal, token: "${STAFF_TOKEN}", guild_id: "3100000000000000001"}
sources:
  - {name: help, connection: community, channels: ["2100000000000000010"]}
routes:
  - {name: all, default: true, destination: {connection: staff, channel: "3100000000000000010"}, approvers: ["3100000000000000101"]}
`

var twoGuildsEnv = map[string]string{"PUB_TOKEN": "pub-secret-token", "STAFF_TOKEN": "staff-secret-token"}

func TestDiscordInvite(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		code, out, errOut := cli(t, ctx, exampleEnv, "discord-invite", "--config", "../../liaison.example.yaml")
		// The example's one Discord connection: its application, its guild
		// picked, and the permissions integer of View Channel, Send
		// Messages, Embed Links, Attach Files, Read Message History, Manage
		// Webhooks, Create Public Threads and Send Messages in Threads.
		want := "https://discord.com/oauth2/authorize?client_id=1098765432109870001&scope=bot+applications.commands&permissions=309774633984&guild_id=1098765432109876543&disable_guild_select=true\n"
		if code != exitOK || out != want {
			t.Fatalf("exit %d, stdout %q, stderr %q; want %q", code, out, errOut, want)
		}
		for _, secret := range exampleEnv {
			if strings.Contains(out+errOut, secret) {
				t.Fatal("the output shows a secret")
			}
		}
	})
	t.Run("NoTokenYet", func(t *testing.T) {
		// The invite is made before the bot runs: the tokens need not be set.
		code, out, errOut := cli(t, ctx, nil, "discord-invite", "--config", "../../liaison.example.yaml")
		if code != exitOK || !strings.HasPrefix(out, "https://discord.com/oauth2/authorize?client_id=1098765432109870001&") {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	})
	t.Run("PickedByName", func(t *testing.T) {
		code, out, errOut := cli(t, ctx, twoGuildsEnv, "discord-invite", "--config", writeFile(t, twoGuilds), "--connection", "community")
		if code != exitOK || !strings.HasPrefix(out, "https://discord.com/oauth2/authorize?client_id=2100000000000000900&") || strings.Count(out, "\n") != 1 {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	})
	t.Run("ErrNoApplicationID", func(t *testing.T) {
		code, out, errOut := cli(t, ctx, twoGuildsEnv, "discord-invite", "--config", writeFile(t, twoGuilds))
		if code != exitUsage {
			t.Fatalf("exit %d, want %d; stdout %q, stderr %q", code, exitUsage, out, errOut)
		}
		// The connection that has one still gets its URL, named.
		if !strings.HasPrefix(out, "community: https://discord.com/oauth2/authorize?client_id=2100000000000000900&") || strings.Contains(out, "staff") {
			t.Errorf("stdout %q", out)
		}
		for _, want := range []string{"connections[1].application_id", "staff", "General Information → Application ID"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("stderr %q does not say %q", errOut, want)
			}
		}
		if strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("stderr is more than one line: %q", errOut)
		}
	})
	t.Run("ErrUnknownConnection", func(t *testing.T) {
		code, out, errOut := cli(t, ctx, exampleEnv, "discord-invite", "--config", "../../liaison.example.yaml", "--connection", "internal-slack")
		if code != exitUsage || out != "" || !strings.Contains(errOut, `"internal-slack": no Discord connection has that name (the config's: community-discord)`) {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	})
	t.Run("ErrBadConfig", func(t *testing.T) {
		bad := strings.Replace(twoGuilds, "platform: discord", "platform: discrod", 1)
		code, out, errOut := cli(t, ctx, twoGuildsEnv, "discord-invite", "--config", writeFile(t, bad))
		if code != exitUsage || out != "" || !strings.Contains(errOut, "platform") {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	})
}
