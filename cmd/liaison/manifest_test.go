package main

import (
	"context"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// regenerateManifest is the command that writes slack-app-manifest.yaml,
// from the repository's root.
const regenerateManifest = "go run ./cmd/liaison slack-manifest --config liaison.example.yaml --connection internal-slack > slack-app-manifest.yaml"

// TestSlackManifestFile: the manifest in the repository, which the README
// tells people to paste, is what `liaison slack-manifest` prints for the
// example config's internal Slack connection. It needs no token: the app
// is created from it before any exists.
func TestSlackManifestFile(t *testing.T) {
	code, out, errOut := cli(t, context.Background(), nil, "slack-manifest", "--config", "../../liaison.example.yaml", "--connection", "internal-slack")
	if code != exitOK {
		t.Fatalf("slack-manifest exited %d: %s", code, errOut)
	}
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(out), &doc); err != nil || doc["display_information"] == nil {
		t.Fatalf("the output is not a YAML manifest (%v):\n%s", err, out)
	}
	if file := mustRead(t, "../../slack-app-manifest.yaml"); file != out {
		t.Fatalf("slack-app-manifest.yaml is not what `liaison slack-manifest` prints; regenerate it from the repository's root with\n\n  %s\n", regenerateManifest)
	}
}

func TestSlackManifestCommand(t *testing.T) {
	ctx := context.Background()
	for _, sub := range []string{"slack-manifest", "doctor"} {
		if code, out, _ := cli(t, ctx, nil, sub, "--help"); code != exitOK || !strings.Contains(out, "Usage:") || !strings.Contains(out, "--connection") {
			t.Fatalf("%s --help: %d %q", sub, code, out)
		}
	}
	example := []string{"slack-manifest", "--config", "../../liaison.example.yaml"}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"ErrWhichConnection", nil, "2 Slack connections (community-slack, internal-slack): name one with --connection"},
		{"ErrNoSuchConnection", []string{"--connection", "nope"}, `no connection named "nope" (Slack connections: community-slack, internal-slack)`},
		{"ErrDiscordConnection", []string{"--connection", "community-discord"}, `no Slack connection named "community-discord"`},
		{"ErrBaseURLInSocketMode", []string{"--connection", "internal-slack", "--base-url", "https://liaison.example.com"}, "uses Socket Mode"},
		{"ErrArgument", []string{"internal-slack"}, `unknown command "internal-slack"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := cli(t, ctx, exampleEnv, append(example, tc.args...)...)
			if code != exitUsage || !strings.Contains(errOut, tc.want) || out != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 2 and %q", code, out, errOut, tc.want)
			}
		})
	}

	// One Slack connection, in HTTP mode: --connection may be left out,
	// --base-url may not.
	p := writeFile(t, `
company: Acme
connections:
  - {name: community, platform: slack, role: both, mode: http, bot_token: xoxb-1, signing_secret: shh}
sources:
  - {name: help, connection: community, channels: [C0HELP]}
routes:
  - {name: all, default: true, destination: {connection: community, channel: C0SUPPORT}, approvers: [U0ALICE]}
`)
	code, out, errOut := cli(t, ctx, nil, "slack-manifest", "--config", p)
	if code != exitUsage || !strings.Contains(errOut, "--base-url https://") || out != "" {
		t.Fatalf("HTTP mode without --base-url: exit %d, %q, %q", code, out, errOut)
	}
	code, out, errOut = cli(t, ctx, nil, "slack-manifest", "--config", p, "--base-url", "https://liaison.example.com")
	if code != exitOK {
		t.Fatalf("HTTP mode: exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"request_url: https://liaison.example.com/slack/community/events\n",
		"request_url: https://liaison.example.com/slack/community/interactivity\n",
		"url: https://liaison.example.com/slack/community/commands\n",
		"socket_mode_enabled: false\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("HTTP-mode manifest lacks %q:\n%s", want, out)
		}
	}
}
